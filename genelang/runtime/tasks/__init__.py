"""Tasks by name. A task loads its data (raising DataError with where it looked
when data is missing) and says what network head it needs."""
from __future__ import annotations

from genelang.suggest import with_hint

from typing import Callable

_TASKS: dict[str, Callable] = {}
_KINDS: dict[str, str] = {}
KINDS = ("image", "sequence")   # what conv genomes train on; what rnn genomes train on


def register_task(name: str, kind: str):
    if kind not in KINDS:
        raise ValueError(f"task kind must be one of {KINDS}")

    def deco(fn):
        _TASKS[name], _KINDS[name] = fn, kind
        return fn
    return deco


def task_names(kind: str | None = None) -> list[str]:
    _load_builtin()
    return sorted(n for n in _TASKS if kind is None or _KINDS[n] == kind)


def get_task(name: str) -> Callable:
    from genelang.errors import DataError
    _load_builtin()
    if name not in _TASKS:
        raise DataError.at("task", f"unknown task {name!r}", "task=",
                           hint=with_hint(name, _TASKS, f"tasks: {', '.join(sorted(_TASKS))}"))
    return _TASKS[name]


def _load_builtin() -> None:
    from genelang.runtime.tasks import images, text, timeseries  # noqa: F401
