"""Keep freed memory in the process instead of giving it back to the OS.

glibc's malloc serves blocks above a threshold (128 KiB, raised dynamically
up to the largest block freed) with fresh mmap'd pages and trims free memory
at the top of the heap: every training step then allocates its activations
(1–6 MB each for a small candidate at batch 64) on pages the kernel must
fault in again — about 15,000 page faults and 25–30 % of a step's CPU time on
the project machine (bench/RESULTS.md, 2026-12-06). A training process reuses
the same sizes step after step, so keeping freed blocks costs nothing but a
peak-sized heap, which the process holds during training anyway.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # glibc's mallopt parameters (malloc.h)
_KEEP = 1 << 30            # bytes: blocks below are served from the heap, free memory below is kept
_SMALL_KEEP = 32 << 20     # the largest mmap threshold glibc documents for 64-bit, when _KEEP is refused

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Switch glibc's malloc to keep freed memory (once per process); False
    where the C library has no `mallopt` (not glibc) or refuses the settings."""
    global _done
    if _done is None:
        _done = _mallopt()
    return _done


def _mallopt() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):   # musl and other C libraries without it
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    mmap_ok = mallopt(M_MMAP_THRESHOLD, _KEEP) == 1 or mallopt(M_MMAP_THRESHOLD, _SMALL_KEEP) == 1
    return mmap_ok and mallopt(M_TRIM_THRESHOLD, _KEEP) == 1
