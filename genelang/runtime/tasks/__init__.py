"""Tasks by name. A task loads its data (raising DataError with where it looked
when data is missing) and says what network head it needs."""
from __future__ import annotations

from typing import Callable

_TASKS: dict[str, Callable] = {}


def register_task(name: str):
    def deco(fn):
        _TASKS[name] = fn
        return fn
    return deco


def task_names() -> list[str]:
    _load_builtin()
    return sorted(_TASKS)


def get_task(name: str) -> Callable:
    from genelang.errors import DataError
    _load_builtin()
    if name not in _TASKS:
        import difflib
        close = difflib.get_close_matches(name, list(_TASKS), n=1)
        raise DataError.at("task", f"unknown task {name!r}", "--task",
                           hint=(f"did you mean {close[0]!r}? " if close else "") +
                           f"tasks: {', '.join(sorted(_TASKS))}")
    return _TASKS[name]


def _load_builtin() -> None:
    from genelang.runtime.tasks import images, text, timeseries  # noqa: F401
