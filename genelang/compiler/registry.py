"""Operation registry: name → arity, space, roles, builder, cost model.

Spaces and their operations are data. The language (parser, checker, printer)
needs only names and arities, so builders are attached lazily: a space names
the module that registers its PyTorch builders, imported on first use. A user
adds an operation with `register_op` — no parser or compiler edits.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable

ADF, MAIN = "adf", "main"


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    space: str
    roles: frozenset[str] = frozenset({ADF})
    builder: Callable[..., Any] | None = None
    cost: Callable[..., Any] | None = None   # (shape info) -> (params, macs); see compiler
    doc: str = ""


@dataclass
class Space:
    """A search space: its operations and the terminals its genes may read."""

    name: str
    main_kind: str                          # "cell" (conv) or "state" (rnn)
    required_mains: tuple[str, ...] = ()
    allowed_mains: re.Pattern | None = None  # None: any identifier
    builders_module: str | None = None
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


_SPACES: dict[str, Space] = {}
_loaded: set[str] = set()


def register_space(space: Space) -> Space:
    _SPACES[space.name] = space
    return space


def spaces() -> dict[str, Space]:
    return dict(_SPACES)


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


from genelang.compiler import opsets as _opsets  # noqa: E402,F401  (registers built-ins)
from genelang.compiler import nb201 as _nb201  # noqa: E402,F401  (registers the nb201 space)
