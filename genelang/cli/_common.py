"""Shared CLI plumbing: rich consoles and turning user errors into exit code 2."""
from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from rich.console import Console

from genelang.errors import Diagnostic, GenelangError, relocate_argument

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_USER = 2


def skeleton_option(fn):
    """`--skeleton`: the network layout, one of the genome's space's own
    (checked against the space when the network is built: a located error)."""
    import click

    from genelang.compiler.registry import DEFAULT_SKELETON, spaces
    own = "; ".join(f"{n}: {', '.join(sp.skeletons)}" for n, sp in sorted(spaces().items()) if sp.skeletons)
    return click.option("--skeleton", default=DEFAULT_SKELETON, show_default=True, metavar="NAME",
                        help=f"Network layout, from the genome's space ({own}); a space that does not build "
                             "the default takes its own.")(fn)


def print_diagnostics(diags: list[Diagnostic], as_json: bool = False) -> None:
    if as_json:
        print(json.dumps({"ok": False, "errors": [d.to_dict() for d in diags]}, indent=2))
        return
    for d in diags:
        loc = d.location
        err.print(f"[bold]{_esc(str(loc))}[/bold]: [red bold]error[/red bold]"
                  f"[dim]\\[{d.code}][/dim]: {_esc(d.message)}")
        caret = loc.caret()
        if caret:
            src, marks = caret.split("\n")
            err.print("    " + src, markup=False)
            err.print("    " + marks, style="red bold", markup=False)
        if d.hint:
            err.print(f"    [cyan]hint[/cyan]: {_esc(d.hint)}")


def ensure_writable(path: Path, flag: str, *, is_dir: bool = True) -> None:
    """Check, before any work, that `path` (a directory; else the directory of
    the file `path`) can be made and written to: an output that cannot be is a
    located error now, not a traceback after minutes of work. The check leaves
    nothing behind (no directory is made before the command's input is
    understood); the writers make their directories themselves."""
    from genelang.errors import GenelangError
    folder = Path(path) if is_dir else Path(path).parent
    made = [d for d in (folder, *folder.parents) if not d.exists()]
    probe = folder / f".genelang-write-test-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise GenelangError.at("output", f"cannot write {path}: {e.strerror or e}", flag,
                               hint="choose a directory you can write to") from None
    finally:
        for d in made:            # deepest first
            with contextlib.suppress(OSError):
                d.rmdir()


def as_flag(d: Diagnostic, flags: dict[str, str] | None = None) -> Diagnostic:
    """Library errors locate a bad argument as `name=`; on the command line it is
    `--name`, or the option `flags` names for it."""
    return relocate_argument(d, lambda a: (flags or {}).get(a) or "--" + a.replace("_", "-"))


def _esc(text: str) -> str:
    from rich.markup import escape
    return escape(text)


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM (a scheduler's or `kill`'s stop) handled as Ctrl-C is: the work
    stops cleanly, keeps what is finished and can be resumed, where the default
    action would kill the process mid-write."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt
    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


@contextlib.contextmanager
def handle_errors(as_json: bool = False):
    """Print user errors without a traceback and exit 2; let internal bugs raise."""
    try:
        yield
    except GenelangError as e:
        print_diagnostics([as_flag(d) for d in e.diagnostics], as_json)
        sys.exit(EXIT_USER)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
