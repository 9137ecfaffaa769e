"""The best cell drawn: the compiler's DOT (what `genelang compile --to dot`
writes), rendered to SVG by Graphviz's `dot` where it is installed. Without
it the page shows the DOT text and says why."""
from __future__ import annotations

import functools
import shutil
import subprocess

from genelang.compiler import load_text
from genelang.compiler.dot import to_dot
from genelang.errors import GenelangError
from genelang.evolve.run.store import Evaluation
from genelang.report.model import CellDrawing

NO_DOT = "Graphviz's `dot` is not installed (apt-get install graphviz): the DOT text is shown instead"


def draw_best(best: Evaluation) -> CellDrawing | None:
    try:
        dot = to_dot(load_text(best.genome, f"<evaluation {best.id}>").genomes[0])
    except GenelangError:    # a genome a plugin's space defined, its plugin not loaded here
        return None
    svg, note = _svg(dot)
    return CellDrawing(best.id, dot, svg, note)


@functools.lru_cache(maxsize=32)
def _svg(dot: str) -> tuple[str | None, str | None]:
    """(SVG, None), or (None, why not). Cached: a live page asks again on every poll."""
    exe = shutil.which("dot")
    if exe is None:
        return None, NO_DOT
    try:
        proc = subprocess.run([exe, "-Tsvg"], input=dot, text=True, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"dot failed ({err}): the DOT text is shown instead"
    if proc.returncode != 0:
        return None, f"dot failed ({proc.stderr.strip()[:200]}): the DOT text is shown instead"
    svg = proc.stdout
    # inline in the page: drop the XML prologue and DOCTYPE before <svg
    return svg[svg.find("<svg"):], None
