"""Runs to show on the run page, a server for them, and a headless Chromium
that renders a page and reads its DOM back."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path

from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import parse_spec
from tests.evolve_helpers import fake_fitness
from tests.test_evolve_search import spec_dict


def mixed_fitness(text: str, seed: int) -> dict:
    """fake_fitness, with some failures and some infeasible candidates, for a page with all three."""
    if seed % 5 == 0:
        return {"status": "failed", "reason": "RuntimeError: boom </script><b>not markup</b>\nsecond line"}
    if seed % 7 == 0:
        return {"status": "infeasible", "reason": "9999 parameters > max_params 5000", "metrics": {"params": 9999}}
    return fake_fitness(text, seed)


def finished_run(tmp_path: Path, name: str = "page", generations: int = 3) -> Path:
    d = spec_dict(tmp_path, name, generations=generations)
    d["fitness"] = {"estimator": "params", "objectives": ["fitness", "-params"]}
    return run_search(parse_spec(d), evaluate=mixed_fitness).run_dir


@contextlib.contextmanager
def serving(run_dir: Path):
    """The live run page of `run_dir` on a free port of 127.0.0.1; yields its URL."""
    from genelang.report import make_server
    server = make_server(run_dir, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()


def chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def _chromium(url: str, *args: str) -> subprocess.CompletedProcess:
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--hide-scrollbars", "--window-size=1280,1800", "--virtual-time-budget=4000", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def dump_dom(url: str) -> str:
    """The DOM after the page's scripts ran, as HTML."""
    done = _chromium(url, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(url: str, path: Path) -> Path:
    done = _chromium(url, f"--screenshot={path}")
    assert done.returncode == 0 and path.exists(), done.stderr[-2000:]
    return path


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Dom(HTMLParser):
    """What a test reads back from a rendered page: the text of each element
    with an id, the evaluation table's cells by row, the chart points."""

    def __init__(self, html: str):
        super().__init__()
        self.text: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str]] = {}
        self.rows: dict[int, dict[str, dict]] = {}     # evaluation id -> column -> {"text", "value"}
        self.points: list[dict[str, str]] = []         # the Pareto chart's circles
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of the open elements
        self._row: int | None = None
        self._col: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "circle" and "data-id" in a:
            self.points.append(a)
        if tag in VOID:
            return
        self._open.append((tag, a.get("id")))
        if a.get("id"):
            self.attrs[a["id"]], self.text[a["id"]] = a, ""
        if tag == "tr" and a.get("data-id"):
            self._row = int(a["data-id"])
            self.rows[self._row] = {}
        elif tag == "td" and self._row is not None:
            self._col = next((c[2:] for c in a.get("class", "").split() if c.startswith("c-")), None)
            if self._col:
                self.rows[self._row][self._col] = {"text": "", "value": a.get("data-value")}

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass
        if tag == "tr":
            self._row = None
        elif tag == "td":
            self._col = None

    def handle_data(self, data):
        for _, i in self._open:
            if i:
                self.text[i] += data
        if self._row is not None and self._col:
            self.rows[self._row][self._col]["text"] += data
