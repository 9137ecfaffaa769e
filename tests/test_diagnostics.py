"""Golden tests: each file in tests/golden/ shows one kind of error; the
rendered diagnostics must match the .expected file beside it exactly.
Regenerate after an intended change with GENELANG_UPDATE_GOLDEN=1."""
import os
from pathlib import Path

import pytest

from genelang.compiler import check_file, parse_file
from genelang.errors import GenelangError

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*.gene"))


def render(path: Path) -> str:
    rel = path.relative_to(GOLDEN.parent.parent)
    try:
        diags = check_file(parse_file(rel))
    except GenelangError as e:
        diags = e.diagnostics
    return "\n".join(d.render() for d in diags) + "\n"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path, monkeypatch):
    monkeypatch.chdir(GOLDEN.parent.parent)
    got = render(path)
    expected = path.with_suffix(".expected")
    if os.environ.get("GENELANG_UPDATE_GOLDEN"):
        expected.write_text(got)
    assert got.strip(), f"{path.name} must produce at least one error"
    assert got == expected.read_text()


def test_every_error_kind_has_a_golden_case(monkeypatch):
    monkeypatch.chdir(GOLDEN.parent.parent)
    codes = set()
    for path in CASES:
        codes |= {line.split("error[")[1].split("]")[0]
                  for line in render(path).splitlines() if "error[" in line}
    assert codes >= {"syntax", "unknown", "arity", "tail", "tail-length", "order", "cycle",
                     "space", "role", "input", "missing", "kind", "duplicate", "reduce"}
