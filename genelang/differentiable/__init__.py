"""Differentiable architecture search (DARTS, GDAS, PC-DARTS) over any space
with a fixed layout, through the space's relaxation (`relaxation.py`).

    relaxation = get_relaxation("nb201")
    searched = RelaxedSearch(relaxation, Softmax(), Schedule(epochs=50), data, "runs/x/differentiable").run()
    searched.genomes[0]      # the argmax cell, a genome like any other

The strategies `darts`, `gdas` and `pc-darts` (evolve/strategies/differentiable.py) run
it from a spec; docs/differentiable.md describes both."""
from genelang.differentiable.architecture import Architecture
from genelang.differentiable.loop import BilevelData, RelaxedSearch, Schedule, Searched
from genelang.differentiable.methods import METHODS, HardGumbel, Method, PartialChannels, Softmax
from genelang.differentiable.relaxation import (ArchSample, CostGrid, Position, Relaxation, get_relaxation,
                                                most_probable, relaxed_spaces)

__all__ = ["ArchSample", "Architecture", "BilevelData", "CostGrid", "HardGumbel", "METHODS", "Method",
           "PartialChannels", "Position", "Relaxation", "RelaxedSearch", "Schedule", "Searched", "Softmax",
           "get_relaxation", "most_probable", "relaxed_spaces"]
