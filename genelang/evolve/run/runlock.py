"""One search per run directory at a time. Two processes appending to the same
results database would evaluate the same generation twice and interleave
populations; the second one is refused with the first one's pid instead.
The lock is an advisory `flock`, so it goes away with its process, even a
killed one, and never needs cleaning up."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from genelang.errors import SpecError


class RunLock:
    def __init__(self, run_dir: Path):
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / ".lock"
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            pid = self.file.read().strip() or "?"
            self.file.close()
            raise SpecError.at("spec", f"another search is running in {run_dir} (pid {pid})", str(run_dir),
                               hint="wait for it, stop it, or set run.out to another directory") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()

    def release(self) -> None:
        if not self.file.closed:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()


def holder(run_dir: Path) -> int | None:
    """The pid of the search running in `run_dir`, or None."""
    path = run_dir / ".lock"
    if not path.exists():
        return None
    with open(path) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = f.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(f, fcntl.LOCK_UN)
    return None
