"""The one way genelang writes a file a reader or a crash must never see half
written: into a temporary file beside it, then renamed over it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def atomic_write(path: str | Path, content: str | bytes | Callable[[Path], object]) -> Path:
    """Write `content` (text, bytes, or a function that writes the path it is
    given) to `path` atomically; a failure leaves the old file untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the suffix stays last: some writers (torch.export, ONNX) look at it
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            content(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
