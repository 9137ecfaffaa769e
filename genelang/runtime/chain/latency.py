"""A chain space's latency model: one table entry per (layer position, block,
input shape), plus the stem and the head (1×1 conv, pooling, classifier).
Entries are timed inside whole networks: a candidate's own, or networks
chosen to cover the entries asked for."""
from __future__ import annotations

import random
from dataclasses import dataclass

from genelang.compiler.chain_space import layer_blocks
from genelang.runtime.chain.family import family
from genelang.runtime.chain.network import ChainNet, assemble, make_classifier, make_head, make_layer, make_stem
from genelang.runtime.chain.plan import LayerPlan, Plan, plan_of
from genelang.runtime.latency.entries import Context


def _shape(*dims: int) -> str:
    return "x".join(map(str, dims))


@dataclass(frozen=True)
class ChainLatency:
    plan: Plan
    num_classes: int

    @property
    def _prefix(self) -> str:
        p = self.plan
        return f"{p.space}|{p.skeleton}|w{p.mult:g}"

    def stem(self) -> str:
        return f"{self._prefix}|stem|{_shape(self.plan.in_channels, *self.plan.input_hw)}"

    def head(self) -> str:
        return f"{self._prefix}|head|{self.num_classes}|{_shape(self.plan.head_in, *self.plan.final_hw)}"

    def layer(self, ly: LayerPlan, symbol: str) -> str:
        return f"{self._prefix}|{ly.position}|{symbol}|{_shape(ly.c_in, *ly.hw)}"

    def entries(self, genome) -> list[str]:
        return [self.stem(), *(self.layer(ly, s) for ly, s in zip(self.plan.layers, layer_blocks(genome))),
                self.head()]

    def parts(self, genome) -> dict[str, list[str]]:
        """stem, stages.0, stages.1, ..., head: `ChainNet`'s children, as the summary names them."""
        stages = list(dict.fromkeys(ly.stage for ly in self.plan.layers))
        out: dict[str, list[str]] = {"stem": [self.stem()]}
        for ly, s in zip(self.plan.layers, layer_blocks(genome)):
            out.setdefault(f"stages.{stages.index(ly.stage)}", []).append(self.layer(ly, s))
        out["head"] = [self.head()]
        return out

    def all_entries(self) -> list[str]:
        return [self.stem(), *(self.layer(ly, s) for ly in self.plan.layers for s in ly.choices), self.head()]

    def contexts(self, names: set[str], genome=None, rounds: int = 3) -> list[Context]:
        """The genome's own network; or `rounds` sets of networks, each covering
        every entry asked for, with the blocks drawn in another (seeded) order so
        that an entry is timed beside different neighbours each round."""
        if genome is not None:
            return [self._context(layer_blocks(genome))]
        out, rng = [], random.Random(0)
        for _ in range(rounds):
            left, first = set(names) & set(self.all_entries()), len(out)
            order = [rng.sample(ly.choices, len(ly.choices)) for ly in self.plan.layers]
            while left or len(out) == first:
                # each layer takes a block still wanted, else any: few networks cover every entry
                blocks = [next((s for s in o if self.layer(ly, s) in left), o[0]) for ly, o in zip(self.plan.layers,
                                                                                                   order)]
                out.append(self._context(blocks))
                left -= set(out[-1].parts.values())
        return out

    def _context(self, blocks: list[str]) -> Context:
        p, fam = self.plan, family(self.plan.space)
        layers = [make_layer(fam, ly, s) for ly, s in zip(p.layers, blocks)]
        net: ChainNet = assemble(p, layers, make_stem(fam, p), make_head(fam, p), make_classifier(fam, p,
                                                                                                 self.num_classes))
        parts = {net.stem: self.stem(), net.head: self.head()}
        parts.update({m: self.layer(ly, s) for m, ly, s in zip(layers, p.layers, blocks)})
        return Context(net, (p.in_channels, *p.input_hw), parts)


def latency_model(space: str, model, num_classes: int, input_shape: tuple[int, ...]) -> ChainLatency:
    return ChainLatency(plan_of(space, model, input_shape), num_classes)
