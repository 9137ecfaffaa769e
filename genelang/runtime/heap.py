"""Keep freed memory in the process instead of giving it back to the kernel.

With glibc's default settings a large freed block goes back to the kernel
(`munmap`, or a trimmed heap top) and comes back as fresh pages, each a page
fault the kernel zeroes; how often depends on the process's allocation history
(glibc moves its mmap threshold as chunks are freed), not on the work. Measured
on the project's 2-core x86 CPU (bench/RESULTS.md, 2026-12-06): a small
candidate's training step took about 15,000 faults, 25–30 % of its CPU time;
a proxyless network at batch 64 spent about half its forward pass in faults
early in a process and none later, so a latency table timed early
over-predicted networks timed late by 2.3×.

Training and latency timing reuse the same sizes again and again, so keeping
freed blocks (no `mmap` for large chunks, no trimming) costs only a peak-sized
heap, which such a process holds anyway. The setting lasts for the rest of the
process.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4   # glibc's mallopt parameters (malloc.h)


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Switch glibc's malloc to keep freed memory (once per process); False where
    the C library has no `mallopt` (not glibc) or refuses the settings."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError, TypeError):
        return False   # not glibc: its allocator's own behaviour is what runs
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1   # 1 is success


def heap_state() -> str:
    """What a latency table's device key records: 'steady' where freed memory is kept."""
    return "steady" if keep_freed_memory() else "default"
