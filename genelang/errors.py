"""Errors a user can cause. Each carries a location so the CLI can point at it."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Location:
    """A place in a source file (1-based line and column) or in a spec (a dotted path)."""

    file: str
    line: int = 0
    col: int = 0
    end_col: int = 0
    source_line: str = ""

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.col}"
        return self.file

    def caret(self) -> str:
        """The source line with a caret under the offending span ('' when unknown)."""
        if not self.line or not self.source_line:
            return ""
        width = max(1, (self.end_col or self.col + 1) - self.col)
        return f"{self.source_line}\n{' ' * (self.col - 1)}{'^' * width}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in user input: what, where, and what to do about it."""

    code: str
    message: str
    location: Location
    hint: str = ""

    def render(self) -> str:
        text = f"{self.location}: error[{self.code}]: {self.message}"
        caret = self.location.caret()
        if caret:
            text += "\n" + "\n".join("    " + ln for ln in caret.splitlines())
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def to_dict(self) -> dict:
        loc = self.location
        return {
            "code": self.code, "message": self.message, "hint": self.hint,
            "file": loc.file, "line": loc.line, "col": loc.col,
        }


def relocate_argument(d: "Diagnostic", where) -> "Diagnostic":
    """A diagnostic that library code located at an argument (`name=`) moved to
    where the caller's user wrote it: `where("name")` gives the place (a CLI
    flag, a spec key); other locations stay."""
    f = d.location.file
    if not re.fullmatch(r"[a-z_]+=", f):
        return d
    return replace(d, location=replace(d.location, file=where(f[:-1])))


class GenelangError(Exception):
    """Base of every error caused by user input. Holds one or more diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    @classmethod
    def at(cls, code: str, message: str, file: str, hint: str = "", **loc) -> "GenelangError":
        return cls(Diagnostic(code, message, Location(file, **loc), hint))


class ParseError(GenelangError):
    """The text does not follow the grammar."""


class CheckError(GenelangError):
    """The text parses but does not describe a valid genome."""


class SpecError(GenelangError):
    """A search or task spec is invalid; locations are spec paths."""


class DataError(GenelangError):
    """A dataset is missing or malformed."""
