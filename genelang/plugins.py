"""User plugins: modules named in a spec's `plugins` list (or passed to
`load_plugins`) are imported before the spec is validated and in every worker,
so the estimators, strategies, ops, tasks and spaces they register are known
everywhere a search runs."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from genelang.errors import Diagnostic, Location, SpecError


def load_plugins(modules: list[str] | tuple[str, ...], source: str = "<spec>",
                 base: Path | None = None) -> None:
    """Import each module by dotted name. `base` (the spec's folder) is put on
    the import path, so a plugin file beside the spec is found."""
    if base is not None and str(base) not in sys.path:
        sys.path.append(str(base))
    diags = []
    for i, name in enumerate(modules):
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception as err:   # any failure inside a user's module is that module's
            diags.append(Diagnostic("spec", f"plugins[{i}]: cannot import {name!r} "
                                    f"({type(err).__name__}: {err})", Location(source)))
    if diags:
        raise SpecError(diags)
