"""The run page as one self-contained HTML document: the template, its CSS
and JS (genelang/report/static/, inlined: no CDN, nothing fetched but the
live page's own data) and the run's data embedded as JSON."""
from __future__ import annotations

import functools
import re
from importlib import resources

from genelang.report.model import RunPage

_SLOT = re.compile(r"/\*(CSS|JS|MODE|DATA)\*/")


@functools.cache        # read once per process: the live page asks for them on every load
def _asset(name: str) -> str:
    return resources.files("genelang.report").joinpath("static", name).read_text(encoding="utf-8")


def render_page(data: RunPage, *, live: bool) -> str:
    """The page showing `data`; `live`, it also polls `api/run.json` (genelang serve)."""
    # "<" occurs only inside JSON strings; as \u003c no "</script>" or "<!--" in a
    # genome or a reason can end the <script> element early
    payload = data.to_json().replace("<", "\\u003c")
    parts = {"CSS": _asset("page.css"), "JS": _asset("page.js"), "MODE": "live" if live else "static",
             "DATA": payload}
    # one pass, so no inserted text (a genome, a reason) is read as a slot
    return _SLOT.sub(lambda m: parts[m.group(1)], _asset("page.html"))
