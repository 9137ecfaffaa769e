"""A user's plugin module, registered from outside the package: an op, an
estimator and a strategy (named in a spec's `plugins`)."""
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from genelang.compiler.registry import ADF, Op, register_op
from genelang.evolve.estimators import register_estimator
from genelang.evolve.strategies import Member, RandomSearch, register_strategy


def _conv3(C: int, stride: int, affine: bool) -> nn.Module:
    return nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 3, stride, 1, bias=False), nn.BatchNorm2d(C, affine=affine))


register_op(Op("plug_conv", 1, "conv", frozenset({ADF}), builder=_conv3, doc="a plugin's conv block"))


@register_estimator("plug-size", spaces={"conv"})
def plug_size(c) -> float:
    """Parameters modulo 97: cheap, deterministic, not monotone in size."""
    c.metrics["plugin"] = 1.0
    return float(c.metrics["params"] % 97)


@register_strategy("plug-random")
class PlugRandom(RandomSearch):
    """Random search under a plugin's name."""


class PlugOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    width: int = Field(3, ge=1)          # children per generation


@register_strategy("plug-options", options=PlugOptions)
class PlugWithOptions(RandomSearch):
    """Random search that proposes `options.width` children a generation."""

    def propose(self, pop, rng):
        return [Member.of(self.t.random(rng)) for _ in range(self.options.width)]
