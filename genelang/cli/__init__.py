"""The `genelang` command line: thin click commands over library functions.

Each area keeps its commands in its own module, added to the group of
`group.py`; this one imports them all and is the one place user errors
become messages and exit code 2.
"""
from __future__ import annotations

import sys

from genelang.cli._common import handle_errors
from genelang.cli.group import cli

# Each module adds its commands to `cli`; the heavy imports (torch, lightning)
# happen inside the commands, so `genelang check` starts fast.
from genelang.cli import compile, evolve, lang, latency, report, study, train  # noqa: F401

__all__ = ["cli", "main"]


def main() -> None:
    with handle_errors():
        cli.main(prog_name="genelang", standalone_mode=True)
    sys.exit(0)
