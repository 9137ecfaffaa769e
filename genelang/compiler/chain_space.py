"""Chain-structured spaces (ProxylessNAS, FBNet, SPOS): a network is a fixed
macro skeleton — stem, stages of layers, head — and a genome chooses one block
per layer. The language side only: layouts, checks, search slots; the blocks
are built by `genelang.runtime.chain`.

A genome has one gene per stage. Its head holds the stage's layers' blocks
in Karva order — the root (position 0) is the stage's *last* layer, so a
gene reads as function composition, outermost first — and its tail is what
the stage reads: the input `x` for the first stage, the previous stage after:

    genome m on proxyless {
        cell s1 = skip skip mb3e3 mb5e3 | x      # x → mb5e3 → mb3e3 → skip → skip
        cell s2 = mb5e3 mb5e3 mb3e3 mb7e3 | s1   # s1 → mb7e3 → mb3e3 → mb5e3 → mb5e3
        ...
    }

`show` and `dot` draw exactly this tree (the data flow runs right to left).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from genelang.compiler.ast import Gene, Genome
from genelang.compiler.registry import MAIN, Op, Report, Space, register_op, register_space
from genelang.compiler.template import Slot

INPUT = "x"


@dataclass(frozen=True)
class Stage:
    name: str        # its gene's name
    width: int       # output channels at width multiplier 1
    layers: int
    stride: int      # its first layer's stride at ImageNet size


@dataclass(frozen=True)
class Layer:
    stage: int
    index: int       # within the stage
    c_in: int
    c_out: int
    stride: int      # at ImageNet size; a skeleton may drop it (`Skeleton.unstrided`)

    @property
    def keeps_shape(self) -> bool:
        return self.c_in == self.c_out and self.stride == 1


@dataclass(frozen=True)
class Skeleton:
    """A macro skeleton preset: the input size it is made for, the stem's stride
    and the stages whose stride-2 layer keeps the resolution at that size (the
    layer counts and widths are the space's; `ModelConfig.C / 16` scales widths)."""
    name: str
    resolution: int
    stem_stride: int
    unstrided: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChainLayout:
    stem: int                        # channels the first stage reads
    stages: tuple[Stage, ...]
    head: int                        # the 1×1 conv before pooling (its width)
    skeletons: tuple[Skeleton, ...]

    def layers(self) -> list[Layer]:
        out, c = [], self.stem
        for s, st in enumerate(self.stages):
            for i in range(st.layers):
                out.append(Layer(s, i, c, st.width, st.stride if i == 0 else 1))
                c = st.width
        return out

    def stage_layers(self, stage: int) -> list[Layer]:
        return [ly for ly in self.layers() if ly.stage == stage]

    def skeleton(self, name: str) -> Skeleton:
        return next(s for s in self.skeletons if s.name == name)


def small_skeletons(first_strided: tuple[str, ...]) -> tuple[Skeleton, ...]:
    """ImageNet size, and the presets scaled for 32×32 (three reductions: 32 → 4)
    and 28×28 inputs (two: 28 → 7), keeping the stem at full resolution."""
    return (Skeleton("cifar", 32, 1, first_strided[:1]), Skeleton("mnist", 28, 1, first_strided[:2]),
            Skeleton("imagenet", 224, 2))


@dataclass
class ChainSpace(Space):
    """A chain of stages; each layer chooses one of `blocks`, or `skip` where the
    layer keeps its shape (no skip in a space whose `skip` is None)."""
    layout: ChainLayout | None = None
    blocks: dict[str, str] = field(default_factory=dict)   # symbol -> what it is
    skip: str | None = None

    def choices(self, layer: Layer) -> tuple[str, ...]:
        return tuple(self.blocks) + ((self.skip,) if self.skip and layer.keeps_shape else ())

    def reads(self, stage: str) -> str:
        """What a stage's gene reads: the input, or the stage before it."""
        names = [s.name for s in self.layout.stages]
        i = names.index(stage) if stage in names else 0
        return INPUT if i == 0 else names[i - 1]

    def terminals(self, genome, gene) -> list[str]:
        return [self.reads(gene.name)]

    def explain(self, genome, gene, symbol):
        if symbol in self.blocks or symbol == self.skip or symbol in [s.name for s in self.layout.stages]:
            want = self.reads(gene.name)
            return ("chain", f"stage {gene.name} reads {want}, not {symbol}",
                    f"end the gene with '| {want}' (each stage reads the one before it)")
        return None

    def check_extra(self, genome, report: Report, clean: bool) -> None:
        if not clean:
            return
        for s, stage in enumerate(self.layout.stages):
            gene = next((g for g in genome.genes if g.name == stage.name), None)
            if gene is None:
                continue   # the generic checker reports a missing required gene
            layers = self.layout.stage_layers(s)
            if len(gene.head) != len(layers):
                report("chain", f"stage {stage.name} has {len(gene.head)} layers; the {self.name} space has "
                       f"{len(layers)}", gene.pos,
                       f"write {len(layers)} blocks (skip where a layer is not wanted)" if self.skip
                       else f"write {len(layers)} blocks")
                continue
            for pos, sym in enumerate(gene.head):
                layer = layers[len(layers) - 1 - pos]
                if sym not in self.choices(layer):
                    report("chain", _why_not(self, stage, layer, sym), gene.pos_of(pos),
                           f"choose one of {', '.join(self.choices(layer))}")

    def search_layout(self) -> tuple[Slot, ...]:
        slots = []
        for s, stage in enumerate(self.layout.stages):
            layers = self.layout.stage_layers(s)
            domains = tuple(self.choices(ly) for ly in reversed(layers))
            slots.append(Slot.fixed(self.main_kind, stage.name, len(layers), domains + ((self.reads(stage.name),),)))
        return tuple(slots)


def _why_not(space: ChainSpace, stage: Stage, layer: Layer, sym: str) -> str:
    where = f"layer {layer.index + 1} of stage {stage.name}"
    if sym == space.skip:
        change = (f"changes the width {layer.c_in} → {layer.c_out}" if layer.c_in != layer.c_out
                  else f"has stride {layer.stride}")
        return f"{where} {change} and cannot be skipped"
    return f"{sym!r} is not a block of {where}"


def layer_blocks(genome) -> list[str]:
    """Every layer's block, input first (each gene's head read from its end)."""
    return [sym for gene in genome.genes for sym in reversed(gene.head)]


def chain_genome(space: ChainSpace, blocks, name: str = "chain") -> Genome:
    """The genome holding `blocks` (one per layer, input first): `layer_blocks`'s inverse."""
    blocks, genes, start = list(blocks), [], 0
    for s, stage in enumerate(space.layout.stages):
        n = len(space.layout.stage_layers(s))
        genes.append(Gene(space.main_kind, stage.name, tuple(reversed(blocks[start:start + n])),
                          (space.reads(stage.name),)))
        start += n
    if start != len(blocks):
        raise ValueError(f"a {space.name} genome has {start} layers; got {len(blocks)} blocks")
    return Genome(name, space.name, tuple(genes))


def register_chain(name: str, layout: ChainLayout, blocks: dict[str, str], skip: str | None, doc: str,
                   aliases: tuple[str, ...] = ()) -> ChainSpace:
    names = tuple(s.name for s in layout.stages)
    runtime = "genelang.runtime.chain"
    space = register_space(ChainSpace(
        name, main_kind="cell", required_mains=names, allowed_mains=re.compile("^(" + "|".join(names) + ")$"),
        inputs=(INPUT,), network=f"{runtime}.network:network", cost_model=f"{runtime}.costs:cost_model",
        supernet=f"{runtime}.supernet:supernet", latency_model=f"{runtime}.latency:latency_model",
        # one relaxation class for every chain space, made per name (differentiable/chain.py)
        relaxation=f"genelang.differentiable.chain:{name}", skeletons=tuple(s.name for s in layout.skeletons),
        input_layout=("C", "H", "W"), example_input=(3, 32, 32), aliases=aliases, doc=doc,
        layout=layout, blocks=dict(blocks), skip=skip))
    for sym, what in blocks.items():
        register_op(Op(sym, 1, name, frozenset({MAIN}), doc=what))
    if skip:
        register_op(Op(skip, 1, name, frozenset({MAIN}), doc="identity (where the layer keeps its shape)"))
    return space


def _stages(*rows: tuple[int, int, int]) -> tuple[Stage, ...]:
    return tuple(Stage(f"s{i + 1}", w, n, s) for i, (w, n, s) in enumerate(rows))


def _strided(stages: tuple[Stage, ...]) -> tuple[str, ...]:
    return tuple(s.name for s in stages if s.stride == 2)


# ProxylessNAS (Cai et al. 2019), the stage widths of its released mobile model
# (mit-han-lab/proxylessnas proxyless_mobile): stem conv 32 + a fixed MBConv e1
# k3 to 16, then 21 searched layers, a 1×1 conv to 1280
_PROXYLESS = _stages((32, 4, 2), (40, 4, 2), (80, 4, 2), (96, 4, 1), (192, 4, 2), (320, 1, 1))
# FBNet (Wu et al. 2019, table 1): stem 16, 22 searched layers, 1×1 conv to 1984
_FBNET = _stages((16, 1, 1), (24, 4, 2), (32, 4, 2), (64, 4, 2), (112, 4, 1), (184, 4, 2), (352, 1, 1))
# SPOS (Guo et al. 2020): ShuffleNetV2 stages of 4, 4, 8, 4 layers, 1×1 conv to 1024
_SPOS = _stages((64, 4, 2), (160, 4, 2), (320, 8, 2), (640, 4, 2))

PROXYLESS = register_chain(
    "proxyless", ChainLayout(16, _PROXYLESS, 1280, small_skeletons(_strided(_PROXYLESS))),
    {f"mb{k}e{e}": f"MBConv: 1×1 expand ×{e}, {k}×{k} depthwise, 1×1 project" for k in (3, 5, 7) for e in (3, 6)},
    "skip", "ProxylessNAS: MBConv kernel 3/5/7 × expansion 3/6 or skip, per layer", ("proxylessnas",))
FBNET = register_chain(
    "fbnet", ChainLayout(16, _FBNET, 1984, small_skeletons(_strided(_FBNET))),
    {**{f"k{k}e{e}": f"inverted residual: 1×1 ×{e}, {k}×{k} depthwise, 1×1" for k in (3, 5) for e in (1, 3, 6)},
     **{f"k{k}e1g2": f"inverted residual, 1×1 convs in 2 groups + channel shuffle, {k}×{k} depthwise"
        for k in (3, 5)}},
    "skip", "FBNet: nine blocks per layer (k3/k5, expansion 1/3/6, group 2, skip)", ("fbnet-space",))
SPOS = register_chain(
    "spos", ChainLayout(16, _SPOS, 1024, small_skeletons(_strided(_SPOS))),
    {**{f"shuffle{k}": f"ShuffleNetV2 unit, {k}×{k} depthwise (channel split, shuffle)" for k in (3, 5, 7)},
     "xception": "ShuffleNetV2 Xception unit: three 3×3 depthwise + 1×1 (channel split, shuffle)"},
    None, "SPOS: ShuffleNetV2 blocks k3/k5/k7 and Xception per layer", ("single-path-one-shot", "shufflenas"))
