"""The run page: a search watched and read in the browser.

    data = genelang.run_page_data("runs/quick")      # a RunPage (report/model.py); .to_json()
    genelang.write_report("runs/quick", "report.html")  # static, self-contained
    genelang.serve_run("runs/quick", port=8765)       # live, on 127.0.0.1

One module per idea: `data` reads the run (read-only), `model` is what it
reads into, `cell` draws the best cell, `page` makes the HTML from the
assets in `static/`, `server` serves it live, `paths` decides which files a
request may read, `write` writes the static report."""
from genelang.report.data import run_page_data
from genelang.report.model import RunPage
from genelang.report.server import make_server, serve_run
from genelang.report.write import write_report

__all__ = ["RunPage", "make_server", "run_page_data", "serve_run", "write_report"]
