"""The typed boundary between a search space and differentiable search: a
space's *relaxation*. A space whose genomes all share one layout (NB201's six
edges, a chain of blocks, DARTS's cell) is relaxed by putting one
architecture weight on every (position, choice) and a mixed operation at every
position. The relaxation says

- `positions`: the free positions and the choices each allows (α's shape);
- `groups`: positions whose outputs are summed into one node (PC-DARTS's edge
  normalisation weighs the members of a group against each other);
- `network(method, C, N, ...)`: the mixed network, `forward(x, sample)`;
- `genome(indices)`: the discrete genome of one choice per position (so
  `derive(arch)`, the argmax, and the k most probable genomes come for free);
- `ranked(arch, k)`: the k choices the search ends in (default: the most
  probable; DARTS's cell space: its top-2 incoming edges per node);
- `costs(...)`: per-(position, choice) parameters and multiply-adds of the
  derived network, so a hardware loss can take their expectation under α;
- `latency_entries(...)` (optional): per-(position, choice) names of latency
  table entries (runtime/latency), for an expected latency;
- `bind(model)` (optional): the relaxation for the spec's model, where the
  derived genome's network depends on it (a chain space's skeleton and width).

A space plugs in through its `relaxation` hook (`Space.relaxation`,
"module:factory"); the search loop, the methods and the strategies never
name a space."""
from __future__ import annotations

import heapq
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from genelang.compiler.ast import Genome
from genelang.compiler.registry import spaces
from genelang.differentiable.architecture import Architecture
from genelang.runtime.cost_table import Cost


@dataclass(frozen=True)
class Position:
    name: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class CostGrid:
    """The derived network's cost as a sum: `base` (what every genome's network
    has) plus, for each position, the cost of the choice it holds."""
    base: Cost
    choices: tuple[tuple[Cost, ...], ...]       # [position][choice]

    def of(self, indices: Sequence[int]) -> Cost:
        total = self.base
        for row, i in zip(self.choices, indices):
            total += row[i]
        return total

    def prices(self, cost: str) -> PriceGrid:
        """One of the costs (`params`, `macs`) as a grid of numbers (integers still)."""
        return PriceGrid(getattr(self.base, cost), tuple(tuple(getattr(c, cost) for c in row) for row in self.choices))


@dataclass(frozen=True)
class PriceGrid:
    """One price (parameters, multiply-adds, milliseconds) as a sum over the
    positions: `base` plus, per position, its choice's price."""
    base: float
    choices: tuple[tuple[float, ...], ...]      # [position][choice]

    def of(self, indices: Sequence[int]) -> float:
        return self.base + sum(row[i] for row, i in zip(self.choices, indices))

    def expected(self, probs: Sequence[torch.Tensor]) -> torch.Tensor:
        """The price in expectation under independent categoricals `probs` (differentiable)."""
        total = torch.tensor(float(self.base), device=probs[0].device)
        for p, row in zip(probs, self.choices):
            total = total + (p * torch.tensor(row, device=p.device, dtype=p.dtype)).sum()
        return total


@dataclass(frozen=True)
class EntryGrid:
    """A derived network's latency as table entries: `base` (stem, head: in every
    network) and, per position and choice, the entry its choice adds."""
    base: tuple[str, ...]
    choices: tuple[tuple[str, ...], ...]        # [position][choice]

    def names(self) -> list[str]:
        return [*self.base, *(n for row in self.choices for n in row)]

    def prices(self, ms: dict[str, float]) -> PriceGrid:
        return PriceGrid(sum(ms[n] for n in self.base), tuple(tuple(ms[n] for n in row) for row in self.choices))


@dataclass
class ArchSample:
    """What one forward pass of a mixed network reads from the architecture:
    per position, a weight per choice (soft, or straight-through one-hot), the
    one choice to run (GDAS; None: run them all) and a scale for the position's
    output (PC-DARTS's edge normalisation; None: 1)."""
    weights: list[torch.Tensor]
    chosen: list[int | None]
    scales: list[torch.Tensor | None]


class RelaxedNetwork(nn.Module, ABC):
    @abstractmethod
    def forward(self, x: torch.Tensor, sample: ArchSample) -> torch.Tensor: ...


class Relaxation(ABC):
    space: str
    positions: tuple[Position, ...]
    groups: tuple[tuple[int, ...], ...]
    parameter_free: frozenset[str]      # choices without weights (what a collapsed cell is made of)
    skip: frozenset[str]                # identity choices
    # why the positions' ops cannot run on a 1/k channel sample (PC-DARTS); "": they can
    partial_channels_refused: str = ""
    has_latency_entries: bool = False   # `latency_entries` names table entries (else latency is end to end)

    def bind(self, model) -> "Relaxation":
        """This relaxation for the spec's `ModelConfig`; a space whose derived
        network does not depend on it returns itself."""
        return self

    def latency_entries(self, *, num_classes: int, input_shape: tuple[int, ...]) -> EntryGrid:
        """Per-(position, choice) latency table entries of the network a derived genome builds."""
        raise LookupError(f"the {self.space} space's latency is timed end to end, not per position and choice")

    @abstractmethod
    def network(self, method, *, C: int, N: int, num_classes: int, in_channels: int) -> RelaxedNetwork:
        """The mixed network (`method` decides how each position mixes its choices)."""

    @abstractmethod
    def genome(self, indices: Sequence[int], name: str = "derived") -> Genome:
        """The genome holding choice `indices[p]` at position p."""

    @abstractmethod
    def costs(self, *, num_classes: int, input_shape: tuple[int, ...]) -> CostGrid:
        """Per-(position, choice) costs of the network a derived genome builds."""

    def ranked(self, arch: Architecture, k: int) -> list[list[int]]:
        """The k discrete choices (an index per position) a search ends in, best
        first: by default the most probable under softmax(α), the argmax first.
        A space with its own derivation rule (DARTS's top-2 edges) overrides it."""
        return most_probable([p.tolist() for p in arch.probs()], k)

    def argmax(self, alphas: Sequence[torch.Tensor]) -> list[int]:
        return [int(torch.argmax(a)) for a in alphas]

    def derive(self, arch: Architecture, name: str = "derived") -> Genome:
        """The genome the search ends in (`ranked`'s first)."""
        return self.genome(self.ranked(arch, 1)[0], name)

    def shares(self, indices: Sequence[int]) -> dict[str, float]:
        """Collapse, measured on a derived cell: the share of its positions holding
        a skip connection, and a parameter-free choice."""
        picked = [self.positions[p].choices[i] for p, i in enumerate(indices)]
        n = max(1, len(picked))
        return {"skip_share": sum(c in self.skip for c in picked) / n,
                "param_free_share": sum(c in self.parameter_free for c in picked) / n}


def most_probable(probs: Sequence[Sequence[float]], k: int) -> list[list[int]]:
    """The k most probable index vectors under independent categoricals, most
    probable first (best-first over per-position ranks: each vector's
    successors lower one position's rank by one, so none is skipped)."""
    order = [sorted(range(len(p)), key=lambda i: -p[i]) for p in probs]
    logp = [[math.log(max(p[i], 1e-300)) for i in o] for p, o in zip(probs, order)]
    start = (0,) * len(order)
    heap, seen, out = [(-sum(lp[0] for lp in logp), start)], {start}, []
    while heap and len(out) < k:
        neg, ranks = heapq.heappop(heap)
        out.append([order[p][r] for p, r in enumerate(ranks)])
        for p, r in enumerate(ranks):
            if r + 1 < len(order[p]):
                nxt = ranks[:p] + (r + 1,) + ranks[p + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (neg - logp[p][r + 1] + logp[p][r], nxt))
    return out


def relaxed_spaces() -> list[str]:
    """The spaces with a relaxation (`Space.relaxation`)."""
    return sorted(n for n, sp in spaces().items() if sp.relaxation)


def get_relaxation(space: str, model=None) -> Relaxation:
    """The space's relaxation, as its `relaxation` hook makes it, bound to
    `model` (a `ModelConfig`; None: the space's defaults)."""
    sp = spaces().get(space)
    if sp is None or not sp.relaxation:
        raise LookupError(f"the {space} space has no relaxation; spaces with one: {', '.join(relaxed_spaces())}")
    made = sp.builder("relaxation")()
    return made if model is None else made.bind(model)
