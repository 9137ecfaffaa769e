"""`genelang report RUN_DIR -o report.html`: the run page as one static file
to share (no server; the data it shows is the run's at the time of writing)."""
from __future__ import annotations

from pathlib import Path

from genelang.atomic import atomic_write
from genelang.errors import GenelangError
from genelang.report.data import run_page_data
from genelang.report.page import render_page


def write_report(run_dir: str | Path, out: str | Path) -> Path:
    """Write the run page of `run_dir` to `out` (atomically); returns the path."""
    html = render_page(run_page_data(run_dir), live=False)
    try:
        return atomic_write(out, html)
    except OSError as err:
        raise GenelangError.at("output", f"cannot write {out}: {err.strerror or err}", "-o") from None
