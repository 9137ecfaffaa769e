"""`genelang serve RUN_DIR`: the live run page over the standard library's
HTTP server. Three routes, all read-only:

    /               the page (it polls the next one every two seconds)
    /api/run.json   `run_page_data(RUN_DIR)` as JSON, read afresh each time
                    (`?after=ID`: only the evaluations the page does not hold yet)
    /files/PATH     a file of the run directory (best.gene, history.csv, …)

Bound to 127.0.0.1 unless told otherwise: the page shows genomes and paths
of the machine, so exposing it is the user's explicit choice (`--host`)."""
from __future__ import annotations

import mimetypes
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from genelang.errors import GenelangError, SpecError
from genelang.report.data import run_page_data
from genelang.report.page import render_page
from genelang.report.paths import inside

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765


class RunPageServer(ThreadingHTTPServer):
    daemon_threads = True      # a browser's open connection must not keep the command from exiting

    def __init__(self, run_dir: Path, address: tuple[str, int]):
        self.run_dir = run_dir
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class _Handler(BaseHTTPRequestHandler):
    server: RunPageServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        route = url.path
        try:
            if route in ("/", "/index.html"):
                self._send(render_page(run_page_data(self.server.run_dir), live=True).encode(), "text/html")
            elif route == "/api/run.json":
                after = parse_qs(url.query).get("after", [""])[0]
                data = run_page_data(self.server.run_dir, after=int(after) if after.isdigit() else None)
                self._send(data.to_json().encode(), "application/json")
            elif route.startswith("/files/") and (path := inside(self.server.run_dir, route[len("/files/"):])):
                kind = mimetypes.guess_type(path.name)[0] or "text/plain"
                self._send(path.read_bytes(), kind)
            else:
                self.send_error(HTTPStatus.NOT_FOUND, "not a page of this run")
        except GenelangError as err:     # the run directory went away, or its database cannot be read now
            self.send_error(HTTPStatus.SERVICE_UNAVAILABLE, err.diagnostics[0].message)

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"{kind}; charset=utf-8" if kind.startswith(("text/", "application/json"))
                         else kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:   # noqa: A002 - the base class's name
        pass    # a request every two seconds per open page: not worth a terminal line each


def make_server(run_dir: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> RunPageServer:
    """A server of `run_dir`'s page, bound but not yet serving (`serve_forever`);
    port 0 takes a free one (`.url` says which). Refused, located, when the
    directory is no run or the address cannot be bound."""
    run_dir = Path(run_dir)
    run_page_data(run_dir)      # not a run directory: say so now, not on the first request
    try:
        return RunPageServer(run_dir, (host, port))
    except OSError as err:
        raise SpecError.at("option", f"cannot serve on {host}:{port}: {err.strerror or err}", "--port",
                           hint="choose another --port (0: any free one) or --host") from None


def serve_run(run_dir: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
              on_ready=None) -> None:
    """Serve the live run page until interrupted; `on_ready(url)` once it listens."""
    server = make_server(run_dir, host, port)
    if on_ready is not None:
        on_ready(server.url)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
