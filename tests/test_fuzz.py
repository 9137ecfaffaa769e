"""Garbled input never escapes as anything but a located GenelangError."""
import random
from pathlib import Path

from genelang.compiler import format_file, load_text, parse_text
from genelang.compiler.registry import spaces
from genelang.errors import GenelangError

ROOT = Path(__file__).parents[1]
SOURCES = sorted((ROOT / "examples" / "genotypes").glob("*.gene")) + sorted(
    (ROOT / "tests" / "golden").glob("*.gene"))
SYMBOLS = sorted({n for s in spaces().values() for n in s.ops}) + [
    "h1", "h2", "x", "h[t-1]", "c[t]", "a1", "{", "}", "(", ")", ",", "|", "=", "#", "\n",
    "genome", "on", "adf", "cell", "state", "conv", "rnn", "h[t", "é", "\t", "\x00"]


def byte_edit(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    op = rng.randrange(3)
    ch = rng.choice("{}()|,=#\n x1_[]-tépw")
    if op == 0:
        return text[:i] + ch + text[i:]
    if op == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + ch + text[i + 1:]


def token_edit(text: str, rng: random.Random) -> str:
    toks = text.split(" ")
    i = rng.randrange(len(toks))
    op = rng.randrange(4)
    if op == 0:
        toks[i] = rng.choice(SYMBOLS)
    elif op == 1:
        del toks[i]
    elif op == 2:
        toks.insert(i, rng.choice(SYMBOLS))
    else:
        j = rng.randrange(len(toks))
        toks[i], toks[j] = toks[j], toks[i]
    return " ".join(toks)


def test_thousands_of_garbled_files_fail_cleanly():
    rng = random.Random(1234)
    texts = [p.read_text() for p in SOURCES]
    outcomes = {"ok": 0, "error": 0}
    for _ in range(3000):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 4)):
            text = (byte_edit if rng.random() < 0.5 else token_edit)(text, rng)
        try:
            gf = load_text(text, "fuzz.gene")
        except GenelangError as e:
            outcomes["error"] += 1
            assert e.diagnostics
            for d in e.diagnostics:
                assert d.location.file == "fuzz.gene" and d.location.line >= 1, d.render()
                assert d.render()
        else:
            outcomes["ok"] += 1
            # what checks also prints and re-parses to the same genomes
            assert parse_text(format_file(gf)) == gf
    assert outcomes["error"] > 1000 and outcomes["ok"] > 10, outcomes


def test_unreadable_files_are_user_errors(tmp_path):
    from genelang.compiler import load_file
    bad = tmp_path / "bin.gene"
    bad.write_bytes(b"\xff\xfe\x00genome")
    for path in (bad, tmp_path / "missing.gene", tmp_path):
        try:
            load_file(path)
        except GenelangError as e:
            assert e.diagnostics[0].location.file == str(path)
        else:
            raise AssertionError(f"{path} loaded")
