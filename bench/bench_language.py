"""Parse + check + print of a NASGEP-sized genome, per genome.

NASGEP's chromosome: a normal and a reduction cell (head 4, tail 5) over ADFs
(head 1, tail 2); we use 10 ADFs of head 3 (three times NASGEP's) to be generous. The reference in the
same run is Python's own `ast.parse` + `ast.unparse` of an expression of the
same size, so the ratio says how close to a bare hand-written parser we are.

Run: .venv/bin/python bench/bench_language.py
"""
from __future__ import annotations

import ast
import platform
import statistics
import time

from genelang.compiler import check_file, format_file, parse_text

GENOME = """genome nasgep on conv {
""" + "".join(
    f"    adf a{i} = add sep3x3 dw5x5 | h1 h2 {'a' + str(i - 1) if i > 1 else 'h1'} h2\n"
    for i in range(1, 11)) + """    cell normal    = cat add cat add | a10 a9 a8 a7 a6
    cell reduction = add cat add a3 | a5 a4 a1 a2 a3
}
"""
PY_EXPR = "cat(" + ", ".join(f"add(sep3x3(h1), dw5x5(a{i}))" for i in range(12)) + ")"


def median_us(fn, n=2000, repeat=5) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(runs)


def genelang_once():
    gf = parse_text(GENOME, "bench.gene")
    assert not check_file(gf)
    format_file(gf)


def python_once():
    ast.unparse(ast.parse(PY_EXPR))


def main() -> None:
    from genelang.compiler import parser
    slow = parser._make_parser(fast=False)
    fast, parser._PARSER = parser._PARSER, slow
    pure = median_us(genelang_once)
    parser._PARSER = fast
    ours = median_us(genelang_once)
    print(f"genelang with pure-Python lark:  {pure:8.1f} µs / genome")
    ref = median_us(python_once)
    print(f"machine: {platform.machine()} {platform.python_version()}")
    print(f"genelang parse+check+print: {ours:8.1f} µs / genome (goal < 1000 µs)")
    print(f"python ast parse+unparse:   {ref:8.1f} µs / expression of similar size")
    print(f"ratio genelang / python-ast: {ours / ref:.2f}")


if __name__ == "__main__":
    main()
