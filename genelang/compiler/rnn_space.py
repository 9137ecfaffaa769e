"""The rnn space's own rules: a state reads `x`, every state's previous value
`S[t-1]` and the new value `S[t]` of other states, so the states of one step
are computed in an order where each follows the states it reads; a cycle of
new-value reads has no such order and is an error."""
from __future__ import annotations

import re

from genelang.compiler import karva
from genelang.compiler.ast import Gene, Genome
from genelang.compiler.registry import Report, Space, arity_fn

RNN_STATE = re.compile(r"^(?P<state>[A-Za-z_][A-Za-z0-9_]*)\[t(?P<prev>-1)?\]$")


def new_value_reads(genome: Genome) -> dict[str, set[str]]:
    """For each state, the other states whose new value it reads, directly or
    through ADFs. Raises karva.IncompleteORF for a gene that does not decode."""
    arity = arity_fn(genome.space)
    states = {g.name for g in genome.mains}
    via_adf: dict[str, set[str]] = {}

    def reads(gene: Gene) -> set[str]:
        found: set[str] = set()
        for node in karva.decode(gene.symbols, arity).walk():
            m = RNN_STATE.match(node.symbol)
            if m and not m["prev"] and m["state"] in states:
                found.add(m["state"])
            found |= via_adf.get(node.symbol, set())
        return found

    for adf in genome.adfs:   # an ADF reads only ADFs above it
        via_adf[adf.name] = reads(adf)
    return {g.name: reads(g) - {g.name} for g in genome.mains}


def state_order(genome: Genome) -> list[str]:
    """States in an order where each comes after the states whose new value it
    reads (the checker guarantees there is one)."""
    deps = new_value_reads(genome)
    order: list[str] = []
    while len(order) < len(deps):
        order.append(next(s for s in deps if s not in order and deps[s] <= set(order)))
    return order


def find_cycle(deps: dict[str, set[str]]) -> list[str] | None:
    """A cycle of reads `[a, b, ..., a]`, or None."""
    color: dict[str, int] = {}

    def visit(s: str, path: list[str]) -> list[str] | None:
        color[s] = 1
        for d in sorted(deps.get(s, ())):
            if color.get(d) == 1:
                path = path + [s, d]
                return path[path.index(d):]
            if d not in color:
                found = visit(d, path + [s])
                if found:
                    return found
        color[s] = 2
        return None

    for s in deps:
        if s not in color:
            cycle = visit(s, [])
            if cycle:
                return cycle
    return None


class RnnSpace(Space):
    def terminals(self, genome: Genome, gene: Gene) -> list[str]:
        states = [g.name for g in genome.mains]
        adfs = [g.name for g in genome.adfs]
        base = [*self.inputs, *(f"{s}[t-1]" for s in states)]
        if gene.kind == "adf":
            return base + (adfs[:adfs.index(gene.name)] if gene.name in adfs else adfs)
        return base + [f"{s}[t]" for s in states if s != gene.name] + adfs

    def explain(self, genome: Genome, gene: Gene, symbol: str):
        m = RNN_STATE.match(symbol)
        if not m:
            return None
        states = [g.name for g in genome.mains]
        if m["state"] not in states:
            return ("unknown", f"unknown state {m['state']!r} in {symbol!r}",
                    f"states: {', '.join(states) or 'none'}")
        if m["prev"]:
            return None
        if gene.kind == "adf":
            return ("order", f"ADF {gene.name!r} reads the new value {symbol!r}",
                    f"ADFs read x and previous states; use {m['state']}[t-1]")
        return ("cycle", f"state {gene.name!r} reads its own new value {symbol!r}",
                f"use {symbol[:-1]}-1] for the previous value")

    def check_extra(self, genome: Genome, report: Report, clean: bool) -> None:
        try:
            cycle = find_cycle(new_value_reads(genome))
        except karva.IncompleteORF:
            return   # reported per gene
        if cycle:
            loop = " → ".join(f"{s}[t]" for s in cycle)
            report("cycle", f"states depend on each other's new values: {loop}",
                   genome.gene(cycle[0]).pos, "break the cycle with a previous value S[t-1]")
