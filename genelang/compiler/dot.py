"""Graphviz DOT of each main program's DAG: inputs, operations, shared ADF
nodes (one box each, however often used) and the output."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from genelang.compiler import karva
from genelang.compiler.ast import Genome
from genelang.compiler.dag import main_graph
from genelang.errors import GenelangError


def _q(s: str) -> str:
    return '"' + s.replace('"', r'\"') + '"'


def to_dot(genome: Genome) -> str:
    lines = [f"digraph {_q(genome.name)} {{", "  rankdir=BT;", "  node [fontname=Helvetica];"]
    for k, gene in enumerate(genome.mains):
        graph = main_graph(genome, gene.name)
        trees = dict(graph.adfs)
        p = f"c{k}"
        lines.append(f"  subgraph cluster_{k} {{ label={_q(f'{gene.kind} {gene.name}')};")
        counter = [0]

        def node_id(node: karva.Node, where: str) -> str:
            sym = node.symbol
            if sym in trees:
                return f"{p}_adf_{sym}"
            if not node.children:
                return f"{p}_in_{sym.replace('[', '_').replace(']', '').replace('-', 'm')}"
            counter[0] += 1
            return f"{p}_{where}_{counter[0]}"

        declared: set[str] = set()

        def walk(node: karva.Node, where: str) -> str:
            nid = node_id(node, where)
            if nid in declared:
                return nid
            declared.add(nid)
            if node.symbol in trees:
                lines.append(f"    {nid} [label={_q(node.symbol)}, shape=box, style=filled, fillcolor=lightblue];")
                lines.append(f"    {walk(trees[node.symbol], node.symbol)} -> {nid};")
            elif not node.children:
                lines.append(f"    {nid} [label={_q(node.symbol)}, shape=ellipse, style=filled, fillcolor=lightgrey];")
            else:
                lines.append(f"    {nid} [label={_q(node.symbol)}, shape=box];")
                for c in node.children:
                    lines.append(f"    {walk(c, where)} -> {nid};")
            return nid

        root = walk(graph.root, gene.name)
        lines.append(f"    {p}_out [label=\"output\", shape=doublecircle];")
        lines.append(f"    {root} -> {p}_out;")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_text: str, out: Path) -> None:
    """SVG or PNG through Graphviz's `dot`, by the output's suffix."""
    exe = shutil.which("dot")
    if exe is None:
        raise GenelangError.at("graphviz", "Graphviz's `dot` is not installed", str(out),
                               hint="apt-get install graphviz, or write .dot and render elsewhere")
    fmt = out.suffix.lstrip(".")
    proc = subprocess.run([exe, f"-T{fmt}", "-o", str(out)], input=dot_text, text=True,
                          capture_output=True)
    if proc.returncode != 0:
        raise GenelangError.at("graphviz", f"dot failed: {proc.stderr.strip()[:300]}", str(out))
