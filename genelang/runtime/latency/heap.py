"""The C heap held steady while timing. With glibc's default settings a large
tensor's memory goes back to the kernel when freed (`munmap`, or a trimmed heap
top) and comes back as fresh pages, each a page fault the kernel zeroes; how
often that happens depends on the process's allocation history (glibc moves its
mmap threshold as chunks are freed), not on the network. At batch 64 on a 2-core
x86 CPU a proxyless network spent about half its forward pass in those faults
(230,000 per pass, 900–1,000 ms), or none (400 ms) later in the same process:
a table timed early over-predicted networks timed late by 2.3×. Keeping freed
memory in the heap (no `mmap` for large chunks, no trimming) is what a
long-running inference process, or a caching allocator such as jemalloc, gets;
then every entry and every whole network is timed in the same steady state.
The setting lasts for the rest of the process that times (its peak heap is
then kept, not returned)."""
from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Callable

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4   # glibc's mallopt parameters (malloc.h)


@lru_cache(maxsize=1)
def _mallopt() -> Callable[[int, int], int] | None:
    try:
        fn = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return None   # not glibc: its allocator's own behaviour is what gets timed
    fn.argtypes, fn.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return fn


def heap_state() -> str:
    """What the device key records: 'steady' where glibc's mallopt holds the heap, else 'default'."""
    return "steady" if _mallopt() else "default"


@lru_cache(maxsize=1)
def steady_heap() -> None:
    """Hold the heap steady for the rest of the process (once, before the first timing)."""
    mallopt = _mallopt()
    if mallopt and not (mallopt(M_MMAP_MAX, 0) and mallopt(M_TRIM_THRESHOLD, 2**31 - 1)):
        raise RuntimeError("glibc's mallopt refused to hold the heap steady")   # 1 is success
