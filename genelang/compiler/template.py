"""The shape every genome of a search shares: its genes, head/tail lengths and
the symbols each position may hold. Evolution's operators, the samplers of a
supernet and the relaxations of differentiable search all work on plain
symbol lists inside these domains, so what they make is always well-formed.
A fixed-layout space (`Space.search_layout`) gives its slots directly."""
from __future__ import annotations

import random
from dataclasses import dataclass

from genelang.compiler import karva
from genelang.compiler.ast import Gene, Genome
from genelang.compiler.check import check_genome, terminals
from genelang.compiler.registry import ADF, MAIN, get_space

Symbols = list[list[str]]     # one list per gene: head + tail


@dataclass(frozen=True)
class Slot:
    """One gene of every genome of a search: its kind, name, head and tail
    lengths, and per position (head then tail) the symbols it may hold."""
    kind: str
    name: str
    head_len: int
    tail_len: int
    functions: tuple[str, ...]
    terminals: tuple[str, ...]
    domains: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self):
        if not self.domains:   # a free Karva gene: functions or terminals in the head, terminals in the tail
            head = self.functions + self.terminals
            object.__setattr__(self, "domains", (head,) * self.head_len + (self.terminals,) * self.tail_len)

    @classmethod
    def fixed(cls, kind: str, name: str, head_len: int, domains: tuple[tuple[str, ...], ...]) -> "Slot":
        """A gene of a fixed-structure space: positions of one symbol never change."""
        fns = tuple(dict.fromkeys(x for d in domains[:head_len] for x in d))
        terms = tuple(dict.fromkeys(x for d in domains[head_len:] for x in d))
        return cls(kind, name, head_len, len(domains) - head_len, fns, terms, tuple(domains))

    @property
    def head_domain(self) -> tuple[str, ...]:
        return self.functions + self.terminals

    def domain(self, pos: int) -> tuple[str, ...]:
        return self.domains[pos]

    @property
    def free(self) -> list[int]:
        """The positions a search varies (those of more than one symbol)."""
        return [p for p, d in enumerate(self.domains) if len(d) > 1]


@dataclass(frozen=True)
class Template:
    space: str
    slots: tuple[Slot, ...]
    name: str = "candidate"

    @classmethod
    def from_spec(cls, space_spec, name: str = "candidate") -> "Template":
        space = get_space(space_spec.space)
        layout = space.search_layout()
        if layout is not None:
            return cls(space.name, tuple(layout), name)
        adf_fns = tuple(space_spec.adf_functions or space.functions(ADF))
        main_fns = tuple(space_spec.main_functions or space.functions(MAIN))
        pools = space.pools if getattr(space_spec, "separate_pools", False) else None
        if pools:   # NASGEP: each main gene reads its own pool of ADFs
            adf_names = pools.names(space_spec.adfs)
        else:
            adf_names = [f"a{i + 1}" for i in range(space_spec.adfs)]
        mains = space.main_genes(space_spec.states)
        skeleton = Genome(name, space.name, tuple(
            [Gene("adf", n, (), ()) for n in adf_names] + [Gene(k, n, (), ()) for k, n in mains]))
        slots = []
        for gene in skeleton.genes:
            role = ADF if gene.kind == "adf" else MAIN
            fns = adf_fns if role == ADF else main_fns
            h = space_spec.adf_head if role == ADF else space_spec.main_head
            n_max = max((space.ops[f].arity for f in fns), default=1)
            # evolved states read only previous values: no cycles by construction
            terms = tuple(t for t in terminals(skeleton, gene) if not t.endswith("[t]"))
            if pools:
                pool = pools.pool(gene.kind, gene.name)
                terms = tuple(t for t in terms if t in space.inputs or pools.pool("adf", t) == pool)
            slots.append(Slot(gene.kind, gene.name, h, karva.tail_length(h, max(n_max, space.max_arity(role))),
                              fns, terms))
        return cls(space.name, tuple(slots), name)

    def max_operands(self) -> int:
        """The most terminals a gene reads (the longest tail): no function node has more operands."""
        return max(s.tail_len for s in self.slots)

    def genome(self, syms: Symbols, name: str | None = None) -> Genome:
        genes = tuple(Gene(s.kind, s.name, tuple(g[: s.head_len]), tuple(g[s.head_len:]))
                      for s, g in zip(self.slots, syms))
        return Genome(name or self.name, self.space, genes)

    def symbols(self, genome: Genome) -> Symbols:
        return [list(g.head + g.tail) for g in genome.genes]

    def is_valid(self, syms: Symbols) -> bool:
        return not check_genome(self.genome(syms))

    def random_symbols(self, rng: random.Random) -> Symbols:
        out = []
        for s in self.slots:
            out.append([rng.choice(s.domain(i)) for i in range(s.head_len + s.tail_len)])
        return out

    def random(self, rng: random.Random, tries: int = 1000) -> Symbols:
        """A random valid genome (retrying the rare invalid draw, e.g. a reduction
        cell that cannot reduce)."""
        for _ in range(tries):
            syms = self.random_symbols(rng)
            if self.is_valid(syms):
                return syms
        raise RuntimeError("could not draw a valid genome; widen the space (more ADFs or ops)")
