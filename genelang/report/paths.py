"""Which file of a run directory a request may read: a relative path that
stays inside the directory, nothing else (no `..`, no absolute path, no
symbolic link leading out)."""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import unquote


def inside(run_dir: Path, requested: str) -> Path | None:
    """The file `requested` (a URL path, percent-encoded) names inside
    `run_dir`, or None when it is refused or is no file."""
    text = unquote(requested)
    if not text or "\\" in text or "\x00" in text:
        return None
    rel = PurePosixPath(text)
    if rel.is_absolute() or ".." in rel.parts:
        return None
    root = run_dir.resolve()
    path = (root / rel).resolve()      # follows links: where the file really is
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
