"""Reading and validating a spec: every problem at once, each with its spec
path, its YAML line and column, and a did-you-mean for misspelt keys and names."""
from __future__ import annotations

from genelang.suggest import choices_hint

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from genelang.errors import Diagnostic, Location, SpecError
from genelang.evolve.spec.schema import SECTIONS, Spec
from genelang.plugins import load_plugins


def read_spec(path: Path) -> Spec:
    try:
        text = path.read_text()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        raise SpecError(Diagnostic("io", f"cannot read spec ({err.__class__.__name__})", Location(str(path)))) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        lines = text.splitlines()
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        raise SpecError(Diagnostic("yaml", f"invalid YAML: {getattr(err, 'problem', err)}",
                                   Location(str(path), line, col, col + 1, src))) from None
    if data is None:   # empty, or comments only: it would start a default search nobody described
        raise SpecError(Diagnostic("spec", "the spec is empty", Location(str(path)),
                                   "`genelang spec init` writes a commented starter spec"))
    return validate(data, str(path), text, base=path.parent)


def validate(data, path: str = "<spec>", text: str | None = None, base: Path | None = None) -> Spec:
    where = _Locator(path, text)
    if not isinstance(data, dict):
        raise SpecError(where.diag((), "a spec is a mapping of sections (run, task, space, ...)"))
    plugins = data.get("plugins") or []
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise SpecError(where.diag(("plugins",), "plugins: a list of module names"))
    load_plugins(plugins, path, base)
    diags, sections = [], {}
    defaulted: set[str] = set()    # spec paths whose invalid value the default stands in for
    for key in data:
        if key not in SECTIONS and key != "plugins":
            diags.append(where.diag((key,), f"{key}: unknown section", _did_you_mean(key, list(SECTIONS) + ["plugins"])))
    for name, model in SECTIONS.items():
        try:
            sections[name] = model.model_validate(data.get(name) or {})
        except ValidationError as err:
            diags += [_pydantic_diag(where, model, name, e) for e in err.errors()]
            # the rest of the section still gets its cross-field checks (all problems at once)
            bad = {e["loc"][0] for e in err.errors() if e["loc"]}
            raw = data.get(name) if isinstance(data.get(name), dict) else {}
            defaulted |= {f"{name}.{k}" for k in bad} if isinstance(data.get(name), dict) else {name}
            try:
                sections[name] = model.model_validate({k: v for k, v in raw.items() if k not in bad})
            except ValidationError:
                pass
    if len(sections) == len(SECTIONS):
        # every rule runs, also beside type errors (all problems in one round),
        # except those that would judge a default standing in for a bad value
        spec = Spec(plugins=plugins, **sections)
        from genelang.evolve.spec.rules import semantic_errors
        diags += [where.diag(_path(p), f"{p}: {msg}", hint) for p, msg, hint in semantic_errors(spec)
                  if not _reads_defaulted(p, msg, defaulted)]
        if not diags:
            return spec
    else:   # the sections that did validate still get their cross-field checks
        from genelang.evolve.spec.rules import section_errors
        for p, msg, hint in section_errors(sections):
            diags.append(where.diag(_path(p), f"{p}: {msg}", hint))
    raise SpecError(diags)


def _reads_defaulted(path: str, message: str, defaulted: set[str]) -> bool:
    """Whether a rule's problem is about a value that was invalid (and replaced by
    its default for the other rules): at its path, or naming it in its message."""
    return any(path == d or path.startswith((d + ".", d + "[")) or d in message for d in defaulted)


def _pydantic_diag(where: "_Locator", model: type[BaseModel], section: str, e: dict) -> Diagnostic:
    loc = (section, *e["loc"])
    dotted = _dotted(loc)
    msg, hint = e["msg"].replace("Value error, ", ""), ""
    if e["type"] == "extra_forbidden":
        msg = "unknown key"
        hint = _did_you_mean(str(loc[-1]), _fields_at(model, e["loc"][:-1]))
    elif e["type"] in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        msg = _bounds_message(model, e["loc"]) or msg
    return where.diag(loc, f"{dotted}: {msg}", hint, at_key=e["type"] == "extra_forbidden")


def _dotted(loc: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _path(dotted: str) -> tuple:
    """'space.adf_functions[1]' -> ('space', 'adf_functions', 1)"""
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", dotted))


def _fields_at(model, loc) -> list[str]:
    for part in loc:
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return []
        model = info.annotation
    return list(getattr(model, "model_fields", {}))


_did_you_mean = choices_hint


def _bounds_message(model, loc) -> str | None:
    """'must be between 0 and 1' from the field's own bounds."""
    info = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        model = info.annotation
    bound = {k: next((getattr(m, k) for m in info.metadata if getattr(m, k, None) is not None), None)
             for k in ("ge", "le", "gt")}
    if bound["ge"] is not None and bound["le"] is not None:
        return f"must be between {bound['ge']} and {bound['le']}"
    if bound["ge"] is not None:
        return f"must be at least {bound['ge']}"
    if bound["gt"] is not None:
        return f"must be greater than {bound['gt']}"
    return f"must be at most {bound['le']}" if bound["le"] is not None else None


class _Locator:
    """Line and column of a spec path in the YAML text it came from."""

    def __init__(self, path: str, text: str | None):
        self.path, self.lines, self.marks, self.keys = path, (text or "").splitlines(), {}, {}
        if text:
            try:
                self._walk(yaml.compose(text), ())
            except yaml.YAMLError:
                pass

    def _walk(self, node, loc: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*loc, k.value)
                self.marks[key] = (v if isinstance(v, yaml.ScalarNode) else k).start_mark
                self.keys[key] = k.start_mark
                self._walk(v, key)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self.marks[(*loc, i)] = v.start_mark
                self._walk(v, (*loc, i))

    def diag(self, loc: tuple, message: str, hint: str = "", at_key: bool = False) -> Diagnostic:
        loc = tuple(int(p) if isinstance(p, str) and p.isdigit() else p for p in loc)
        while loc and loc not in self.marks:
            loc = loc[:-1]   # a missing key: point at its section
        mark = (self.keys if at_key and loc in self.keys else self.marks).get(loc)
        if mark is None:
            return Diagnostic("spec", message, Location(self.path), hint)
        line, col = mark.line + 1, mark.column + 1
        src = self.lines[line - 1] if line <= len(self.lines) else ""
        return Diagnostic("spec", message, Location(self.path, line, col, col + 1, src), hint)
