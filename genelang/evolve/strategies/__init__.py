"""Search strategies: how a generation is proposed and merged (`base`: the
interface, the registry, GEP, random search, regularized evolution), and the
built-ins of their own modules — predictor-guided GEP (`predictor`,
`surrogate`), the ENAS-style controller (`controller`, `policy`) — with the
selection schemes they share (`selection`)."""
from genelang.evolve.strategies.base import (GEP, Member, RandomSearch, RegularizedEvolution, SamplesPaths,
                                             Strategy, best_first, make_strategy, register_strategy, strategies,
                                             strategy_checks, strategy_options)

__all__ = ["GEP", "Member", "RandomSearch", "RegularizedEvolution", "SamplesPaths", "Strategy", "best_first",
           "make_strategy", "register_strategy", "strategies", "strategy_checks", "strategy_options"]
