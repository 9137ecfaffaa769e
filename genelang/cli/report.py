"""`genelang serve RUN_DIR` (the live run page) and `genelang report RUN_DIR
-o report.html` (the same page as one static file)."""
from __future__ import annotations

from pathlib import Path

import click

from genelang.cli.group import cli
from genelang.cli._common import ensure_writable, err, handle_errors, out


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0: any free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default keeps the page to this machine.")
def serve(run_dir: Path, port: int, host: str) -> None:
    """Serve a search's run page, live while it runs: progress, fitness per
    generation, the Pareto front, every evaluation, the best cell, failures.
    It reads the results database read-only and never locks the search."""
    import ipaddress

    from genelang.report import serve_run
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:          # a host name: say nothing we cannot know
        local = host == "localhost"
    if not local:
        err.print(f"[yellow]note[/yellow]: listening on {host}: other machines that reach it see the run's "
                  "genomes and files")
    with handle_errors():
        serve_run(run_dir, host, port,
                  on_ready=lambda url: out.print(f"serving the run page of {run_dir} at {url} (Ctrl-C stops)"))


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--out", "out_file", default="report.html", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The HTML file to write.")
def report(run_dir: Path, out_file: Path) -> None:
    """Write a search's run page as one self-contained HTML file, to share."""
    from genelang.report import write_report
    with handle_errors():
        ensure_writable(out_file, "--out", is_dir=False)
        path = write_report(run_dir, out_file)
    out.print(f"wrote {path}")
