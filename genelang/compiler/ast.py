"""The typed AST of a `.gene` file: plain, immutable data.

Genes always hold their Karva symbols (head and tail), whatever form they were
written in; `form` only remembers how to print them back. Comments and blank
lines are part of the tree so that printing formatted input reproduces it.
Locations never take part in equality: a genome is its text, not its position.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

GeneKind = Literal["adf", "cell", "state"]
Form = Literal["karva", "tree"]


class Pos(NamedTuple):   # a tuple: made once per symbol, so cheap to build
    line: int
    col: int
    end_col: int


@dataclass(frozen=True)
class Gene:
    kind: GeneKind
    name: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    form: Form = "karva"
    comment: str | None = None          # trailing '# ...' on the gene's line
    leading: tuple[str, ...] = ()       # comment lines just above the gene
    blank_before: bool = False
    pos: Pos | None = field(default=None, compare=False)            # of the name
    symbol_pos: tuple[Pos | None, ...] | None = field(default=None, compare=False)

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.head + self.tail

    def is_written(self, i: int) -> bool:
        """Whether symbol `i` stands in the text (not a nested call's tail padding,
        not a gene a program made)."""
        return bool(self.symbol_pos) and i < len(self.symbol_pos) and self.symbol_pos[i] is not None

    def pos_of(self, i: int) -> Pos | None:
        """Where symbol `i` was written; else the gene's name."""
        return self.symbol_pos[i] if self.is_written(i) else self.pos

    def with_symbols(self, head: tuple[str, ...], tail: tuple[str, ...]) -> "Gene":
        """A copy with new symbols; positions are dropped since they no longer apply."""
        return replace(self, head=tuple(head), tail=tuple(tail), pos=None, symbol_pos=None)


@dataclass(frozen=True)
class Genome:
    name: str
    space: str
    genes: tuple[Gene, ...]
    leading: tuple[str, ...] = ()
    closing: tuple[str, ...] = ()       # comment lines before the closing brace
    comment: str | None = None          # trailing comment on the 'genome' line
    end_comment: str | None = None      # trailing comment on the closing brace's line
    pos: Pos | None = field(default=None, compare=False)

    def gene(self, name: str, kind: GeneKind | None = None) -> Gene:
        for g in self.genes:
            if g.name == name and (kind is None or g.kind == kind):
                return g
        raise KeyError(name)

    @property
    def adfs(self) -> tuple[Gene, ...]:
        return tuple(g for g in self.genes if g.kind == "adf")

    @property
    def mains(self) -> tuple[Gene, ...]:
        """Main programs: the cells of a conv genome or the states of an rnn genome."""
        return tuple(g for g in self.genes if g.kind != "adf")

    def replace_genes(self, genes) -> "Genome":
        return replace(self, genes=tuple(genes), pos=None)


@dataclass(frozen=True)
class GeneFile:
    genomes: tuple[Genome, ...]
    trailing: tuple[str, ...] = ()      # comment lines after the last genome
    path: str = field(default="<string>", compare=False)
    source: str = field(default="", compare=False, repr=False)
    # diagnostics found while parsing that the checker reports with its own
    problems: tuple = field(default=(), compare=False, repr=False)

    def genome(self, name: str | None = None) -> Genome:
        """The named genome, or the only one when no name is given."""
        from genelang.errors import GenelangError

        if name is None:
            if len(self.genomes) == 1:
                return self.genomes[0]
            names = ", ".join(g.name for g in self.genomes)
            raise GenelangError.at(
                "genome", f"{len(self.genomes)} genomes in file; name the one to use",
                self.path, hint=f"genomes: {names}")
        for g in self.genomes:
            if g.name == name:
                return g
        names = ", ".join(g.name for g in self.genomes)
        raise GenelangError.at("genome", f"no genome named {name!r}", self.path,
                               hint=f"genomes: {names}")
