"""DARTS-format genotypes → genelang text.

Reads `Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])`
(DARTS, PC-DARTS and their successors) and the recurrent
`Genotype(recurrent=[...], concat=...)`, safely (no eval), and writes the same
network as a genome:

- conv: DARTS intermediate node k (k ≥ 2) sums two op(input) pairs; it becomes
  `adf n{k}` (`r{k}` for the reduction cell). Input 0 is `h2`, input 1 is `h1`,
  input j ≥ 2 is node j. Each cell is a nested `cat` over its concat list. A
  genotype DARTS's search could find (4 nodes, two different inputs each, all
  concatenated) is a genome of the `darts` space (compiler/darts_space.py),
  the text a darts search writes; any other is a `conv` genome.
- rnn: DARTS's recurrent cell. Node 0 is the highway over x and h[t-1]
  (`blend(tanh(W[x,h]), h, σ(W'[x,h]))`); node i is
  `blend(act(W s), s, σ(W' s))` of its predecessor s; the output is the mean of
  the concat nodes. (genelang's linear layers have biases; DARTS's do not.)
"""
from __future__ import annotations

import ast

from genelang.compiler.darts_space import DARTS, NODES
from genelang.compiler.opsets import CONV, DARTS_OPS
from genelang.errors import GenelangError

RNN_ACTS = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "identity": "identity"}
WHERE = "<genotype>"


def _error(msg: str, hint: str = "") -> GenelangError:
    return GenelangError.at("import", msg, WHERE, hint=hint)


def _value(node: ast.AST):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        return list(range(*[ast.literal_eval(a) for a in node.args]))
    return ast.literal_eval(node)


def parse_genotype(text: str) -> dict:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise _error(f"not a Genotype(...) expression: {err.msg}") from None
    if not (isinstance(tree, ast.Call) and getattr(tree.func, "id", getattr(tree.func, "attr", "")) == "Genotype"):
        raise _error("expected Genotype(...)", "e.g. Genotype(normal=[('sep_conv_3x3', 0), ...], ...)")
    try:
        fields = {kw.arg: _value(kw.value) for kw in tree.keywords}
    except (ValueError, TypeError, SyntaxError):
        raise _error("Genotype fields must be literal lists (or range(...))") from None
    return fields


def _pairs(fields: dict, key: str) -> list[tuple[str, int]]:
    pairs = fields.get(key)
    if not isinstance(pairs, (list, tuple)) or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], int)
            for p in pairs):
        raise _error(f"{key}: expected a list of (op, input) pairs")
    return [tuple(p) for p in pairs]


def _nest(fn: str, items: list[str]) -> str:
    out = items[0]
    for x in items[1:]:
        out = f"{fn}({out}, {x})"
    return out


def conv_genome(fields: dict, name: str) -> str:
    lines = []
    for cell, key, prefix in (("normal", "normal", "n"), ("reduction", "reduce", "r")):
        pairs = _pairs(fields, key)
        if len(pairs) % 2:
            raise _error(f"{key}: an odd number of pairs; each node sums two")
        def ref(j: int, k: int) -> str:
            if j == 0:
                return "h2"
            if j == 1:
                return "h1"
            if 2 <= j < k:
                return f"{prefix}{j}"
            raise _error(f"{key}: node {k} reads input {j}, which is not defined before it")
        for i in range(0, len(pairs), 2):
            k = i // 2 + 2
            terms = []
            for op, j in pairs[i:i + 2]:
                if op not in DARTS_OPS:
                    raise _error(f"{key}: unknown DARTS operation {op!r}", f"known: {', '.join(DARTS_OPS)}")
                terms.append(f"{op}({ref(j, k)})")
            lines.append(f"adf {prefix}{k} = add({terms[0]}, {terms[1]})")
        concat = fields.get(f"{key}_concat", list(range(2, len(pairs) // 2 + 2)))
        for j in concat:
            if not 2 <= j < len(pairs) // 2 + 2:
                raise _error(f"{key}_concat: no node {j}")
        lines.append(f"cell {cell} = {_nest('cat', [f'{prefix}{j}' for j in concat])}")
    # ADFs first, in order; cells last
    adfs = [ln for ln in lines if ln.startswith("adf")]
    cells = [ln for ln in lines if ln.startswith("cell")]
    return _genome(name, DARTS if _in_darts_space(fields) else CONV, adfs + cells)


def _in_darts_space(fields: dict) -> bool:
    """Whether DARTS's search could have found the genotype (the darts space):
    four nodes per cell, each reading two different inputs, all four concatenated.
    Others (NASNet's five nodes, a node reading one input twice) are conv genomes."""
    for key in ("normal", "reduce"):
        pairs = _pairs(fields, key)
        concat = list(fields.get(f"{key}_concat", range(2, len(pairs) // 2 + 2)))
        if len(pairs) != 2 * len(NODES) or concat != list(NODES):
            return False
        if any(pairs[i][1] == pairs[i + 1][1] for i in range(0, len(pairs), 2)):
            return False
    return True


def rnn_genome(fields: dict, name: str) -> str:
    pairs = _pairs(fields, "recurrent")
    lines = ["adf s0 = blend(tanh(cat_linear(x, h[t-1])), h[t-1], sigmoid(cat_linear(x, h[t-1])))"]
    for i, (act, pred) in enumerate(pairs, start=1):
        if act not in RNN_ACTS:
            raise _error(f"recurrent: unknown activation {act!r}", f"known: {', '.join(RNN_ACTS)}")
        if not 0 <= pred < i:
            raise _error(f"recurrent: node {i} reads node {pred}, which is not defined before it")
        s = f"s{pred}"
        lines.append(f"adf s{i} = blend({RNN_ACTS[act]}(linear({s})), {s}, sigmoid(linear({s})))")
    concat = list(fields.get("concat", range(1, len(pairs) + 1)))
    for j in concat:
        if not 0 <= j <= len(pairs):
            raise _error(f"concat: no node {j}")
    lines.append(f"state h = {_nest('mean', [f's{j}' for j in concat])}")
    return _genome(name, "rnn", lines)


def _genome(name: str, space: str, lines: list[str]) -> str:
    body = "".join(f"    {ln}\n" for ln in lines)
    return f"genome {name} on {space} {{\n{body}}}\n"


def import_darts(text: str, name: str = "imported") -> str:
    """DARTS genotype text → formatted, checked `.gene` text (Karva form)."""
    from genelang.compiler.check import load_text
    from genelang.compiler.printer import format_file
    fields = parse_genotype(text)
    if "recurrent" in fields:
        gene_text = rnn_genome(fields, name)
    elif "normal" in fields and "reduce" in fields:
        gene_text = conv_genome(fields, name)
    else:
        raise _error("a Genotype needs normal= and reduce= (conv) or recurrent= (rnn)")
    header = f"# Imported from a DARTS genotype with `genelang import darts`:\n# {' '.join(text.split())}\n"
    return format_file(load_text(header + gene_text, f"<import {name}>"), "karva")
