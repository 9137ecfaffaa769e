"""Operation registry: name → arity, space, roles, builder, cost model.

Spaces and their operations are data. The language (parser, checker, printer)
needs only names and arities, so builders are attached lazily: a space names
the module that registers its PyTorch builders, imported on first use. A user
adds an operation with `register_op` — no parser or compiler edits.
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:
    from genelang.compiler.template import Slot

ADF, MAIN = "adf", "main"
# ModelConfig's skeleton when none is given: the conv space's first; a space
# that does not build it takes its own default instead (`Space.resolve_skeleton`)
DEFAULT_SKELETON = "nasgep"


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    space: str
    roles: frozenset[str] = frozenset({ADF})
    builder: Callable[..., Any] | None = None
    cost: Callable[..., Any] | None = None   # (shape info) -> (params, macs); see compiler
    doc: str = ""


Report = Callable[..., None]   # report(code, message, pos, hint="") files one diagnostic


class AdfPools(ABC):
    """Separate ADF pools (NASGEP's n*/r* ADFs): each main gene reads only the
    ADFs of its own pool."""

    @abstractmethod
    def names(self, adfs: int) -> list[str]:
        """The names of `adfs` ADFs, split into the pools."""

    @abstractmethod
    def pool(self, kind: str, name: str) -> str:
        """The pool of a gene (an ADF or a main gene) by its kind and name."""


@dataclass
class Space:
    """A search space: its operations, the terminals its genes read, the checks
    beyond the generic ones and how its genomes become networks.

    The base class is a complete space for the simple case: ADFs read the
    `inputs` and earlier ADFs, main genes read the inputs and every ADF. A
    space with other rules subclasses it and overrides the hooks below; the
    checker, the evolution template and the builders call only these, so a
    new space is one `register_space` call, never an `if space == ...`.
    """

    name: str
    main_kind: str                          # the kind of main gene: "cell" (conv), "state" (rnn)
    required_mains: tuple[str, ...] = ()    # main genes every genome has (conv: normal, reduction)
    allowed_mains: re.Pattern | None = None  # None: any identifier
    builders_module: str | None = None      # registers the ops' PyTorch builders, imported on first use
    inputs: tuple[str, ...] = ()            # what a genome reads from outside (conv: h1, h2; rnn: x)
    # "module:function" building a genome's network, imported on first use so the
    # language never imports torch: fn(genome, model, num_classes, input_shape) -> nn.Module
    network: str | None = None
    # "module:function" pricing genomes without building them (None: count a built
    # network): fn(task, model, max_operands) -> a table whose cost(genome) has
    # .params and .macs; `max_operands`: the most terminals a gene of the search
    # reads (its longest tail), which bounds how many operands a function joins
    cost_model: str | None = None
    # "module:function" building the space's weight-sharing supernet (one-shot search):
    # fn(template, model, *, num_classes, input_shape, share) -> nn.Module with
    # `.shape` (runtime.supernet.SearchShape) and `.path(genome)` -> the genome's network
    supernet: str | None = None
    # "module:function" making the space's relaxation for differentiable search (a
    # fixed-layout space: one architecture weight per position and choice;
    # genelang/differentiable/relaxation.py): fn() -> Relaxation
    relaxation: str | None = None
    # "module:function" making the space's latency model (runtime.latency.entries.LatencyModel):
    # fn(space name, model, num_classes, input_shape); None: each network measured end to end
    latency_model: str | None = None
    modality: str = "image"                 # what its networks read: "image" (N,C,H,W) or "sequence"
    # "module:function" building a sequence space's layers for a sequence model:
    # fn(genome, *, input_size, hidden, layers, bidirectional, causal, model) -> nn.ModuleList
    # of layers [B, T, F] -> [B, T, H], each with `out_size` (`tie_output` False on the list:
    # a language model keeps its output matrix apart from the embeddings)
    sequence_layers: str | None = None
    skeletons: tuple[str, ...] = ()         # the layouts its network builder knows; the first is its default
    input_layout: tuple[str, ...] = ()      # names of the input's dimensions after the batch
    example_input: tuple[int, ...] = ()     # a default input shape (no batch dimension)
    pools: "AdfPools | None" = None          # separate ADF pools per main gene (a spec's separate_pools)
    aliases: tuple[str, ...] = ()           # other tools' names for it, for "did you mean"
    ops: dict[str, Op] = field(default_factory=dict)
    doc: str = ""
    # derived from `ops`; cleared whenever an op is registered (checking is a hot path)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    def max_arity(self, role: str) -> int:
        key = ("max_arity", role)
        if key not in self._derived:
            self._derived[key] = max((op.arity for op in self.ops.values() if role in op.roles),
                                     default=1)
        return self._derived[key]

    def functions(self, role: str) -> list[str]:
        key = ("functions", role)
        if key not in self._derived:
            self._derived[key] = sorted(n for n, op in self.ops.items()
                                        if role in op.roles and op.arity > 0)
        return list(self._derived[key])

    # -- hooks a space with its own rules overrides -------------------------------

    def terminals(self, genome, gene) -> list[str]:
        """The terminals `gene` may read, in a stable order (evolution draws from these)."""
        adfs = [g.name for g in genome.genes if g.kind == "adf"]
        if gene.kind == "adf":
            return [*self.inputs, *(adfs[:adfs.index(gene.name)] if gene.name in adfs else adfs)]
        return [*self.inputs, *adfs]

    def main_genes(self, states: Sequence[str] = ()) -> list[tuple[str, str]]:
        """(kind, name) of the main genes of a new genome: the required ones, else
        one per name in `states` (a search spec's list)."""
        return [(self.main_kind, n) for n in (self.required_mains or states)]

    def explain(self, genome, gene, symbol: str) -> tuple[str, str, str] | None:
        """(code, message, hint) for a symbol the gene may not read, when the space
        knows better than "unknown symbol"; None to let the checker say it."""
        return None

    def computation(self, genome) -> str:
        """A text two genomes share when they build the same network (up to
        weights): what deduplicating samplers compare. Default: the phenotype
        (`dag.canonical`); a space that knows more equivalences overrides it."""
        from genelang.compiler.dag import canonical
        return canonical(genome)

    def role_hint(self, gene) -> str:
        """The hint for an operation used in a gene whose role does not allow it."""
        role = ADF if gene.kind == "adf" else MAIN
        return f"{gene.kind} genes use: {', '.join(self.functions(role))}"

    def check_extra(self, genome, report: Report, clean: bool) -> None:
        """Rules of the space beyond symbols and roles. `clean`: every gene of the
        genome decodes and no problem has been found in it so far."""

    def search_layout(self) -> tuple["Slot", ...] | None:
        """A fixed-structure space's genes (`compiler.template.Slot.fixed`), with the
        symbols each position may hold (a search varies only positions of several
        symbols); None: genes are free head|tail Karva strings over the space's
        functions and terminals."""
        return None

    # -- after compilation: what the runtime asks of a space ---------------------

    def resolve_skeleton(self, requested: str | None) -> str | None:
        """The skeleton a model asking for `requested` builds on: a name of
        `skeletons`; the space's own first one when none is asked for or the
        request is the library-wide default (`ModelConfig.skeleton`) that this
        space does not build; any request for a space without skeletons (None)."""
        if not self.skeletons:
            return None
        if requested in self.skeletons:
            return requested
        if requested is None or requested == DEFAULT_SKELETON:
            return self.skeletons[0]
        raise LookupError(f"the {self.name} space builds on skeletons {', '.join(self.skeletons)}, "
                          f"not {requested!r}")

    HOOKS = {"network": "network builder", "cost_model": "cost model", "supernet": "supernet",
             "relaxation": "relaxation", "sequence_layers": "sequence layers", "latency_model": "latency model"}

    def builder(self, hook: str) -> Callable[..., Any]:
        """The function a hook field names ("module:function"), imported now
        (`HOOKS`); LookupError when the space names none."""
        return self._imported(getattr(self, hook), self.HOOKS[hook])

    def _imported(self, target: str | None, what: str) -> Callable[..., Any]:
        if not target:
            raise LookupError(f"the {self.name} space names no {what}")
        module, _, fn = target.partition(":")
        return getattr(importlib.import_module(module), fn)


_SPACES: dict[str, Space] = {}
_loaded: set[str] = set()


def register_space(space: Space) -> Space:
    """Add a space (or replace the one of that name). Its ops may come with it
    in `space.ops` or be added with `register_op` afterwards."""
    _SPACES[space.name] = space
    _loaded.discard(space.name)
    return space


def unregister_space(name: str) -> None:
    """Remove a space (a plugin's or a test's); unknown names are ignored."""
    _SPACES.pop(name, None)
    _loaded.discard(name)


def spaces() -> dict[str, Space]:
    return dict(_SPACES)


def space_aliases() -> dict[str, str]:
    """alias -> space name, for suggestions."""
    return {a.lower(): sp.name for sp in _SPACES.values() for a in sp.aliases}


def get_space(name: str) -> Space:
    return _SPACES[name]


def register_op(op: Op, *, replace_existing: bool = False) -> Op:
    """Add an operation to its space. Names are unique within a space."""
    space = _SPACES[op.space]
    if op.name in space.ops and not replace_existing:
        raise ValueError(f"operation {op.name!r} already registered in space {op.space!r}")
    space.ops[op.name] = op
    space._derived.clear()
    return op


def unregister_op(space: str, name: str) -> None:
    """Remove an operation (a plugin's, a test's); the space's derived tables follow."""
    sp = _SPACES[space]
    sp.ops.pop(name, None)
    sp._derived.clear()


def set_builder(space: str, name: str, builder: Callable, cost: Callable | None = None) -> None:
    """Attach the PyTorch builder (and optionally a cost model) of a registered op."""
    ops = _SPACES[space].ops
    ops[name] = replace(ops[name], builder=builder, cost=cost or ops[name].cost)


def get_op(space: str, name: str) -> Op:
    """The op with its builder loaded (imports the space's builder module once)."""
    sp = _SPACES[space]
    op = sp.ops[name]
    if op.builder is None and sp.builders_module and space not in _loaded:
        _loaded.add(space)
        importlib.import_module(sp.builders_module)
        op = sp.ops[name]
    return op


class _Arities(dict):
    def __missing__(self, _symbol: str) -> int:
        return 0   # anything that is not an operation is a terminal


def arity_fn(space: str) -> Callable[[str], int]:
    """Arity of a symbol in a space: ops by registry, everything else a terminal.
    A dict lookup (decoding is a hot path), rebuilt when ops are registered."""
    sp = _SPACES[space]
    if "arity" not in sp._derived:
        sp._derived["arity"] = _Arities({n: op.arity for n, op in sp.ops.items()}).__getitem__
    return sp._derived["arity"]
