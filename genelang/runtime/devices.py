"""Where training runs: device settings (`cpu`, `auto`, GPU indices), the
device strings torch uses ("cpu", "cuda:N"), Lightning's accelerator and
devices for one of them, and the training precision.

A device setting is what a user writes (a spec's `execution.devices`,
`--devices`); `resolve_devices` turns it into device strings after checking
the GPUs are there, so a missing GPU is an error before any work starts."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

from genelang.errors import GenelangError
from genelang.runtime.config import DEFAULT_PRECISION

Setting = str | Sequence[int]          # "cpu" | "auto" | [0, 1, ...]
PRECISIONS = ("32", "bf16-mixed", "16-mixed")
_LIGHTNING_PRECISION = {"32": "32-true", "bf16-mixed": "bf16-mixed", "16-mixed": "16-mixed"}


def visible_gpus() -> int:
    """CUDA devices this process can see (0 without CUDA). It does not create a
    CUDA context, so forked or spawned workers can still choose their GPU."""
    import torch
    return torch.cuda.device_count()


def parse_devices(text: str) -> Setting:
    """The command line's form: `cpu`, `auto`, `0` or `0,1`."""
    text = text.strip()
    if text in ("cpu", "auto"):
        return text
    parts = [p.strip() for p in text.split(",")]
    if not parts or not all(p.isdigit() for p in parts):
        raise GenelangError.at("option", f"devices {text!r}: cpu, auto, or GPU indices such as 0 or 0,1",
                               "devices=")
    return [int(p) for p in parts]


def missing_gpus(setting: Setting, count: int | None = None) -> list[tuple[int, int]]:
    """(position, index) of each GPU index in `setting` this machine lacks."""
    if isinstance(setting, str):
        return []
    count = visible_gpus() if count is None else count
    return [(k, i) for k, i in enumerate(setting) if i >= count]


def resolve_devices(setting: Setting, count: int | None = None) -> list[str]:
    """Device strings for a setting: `cpu` -> ["cpu"]; `auto` -> every visible
    GPU, else ["cpu"]; [i, ...] -> ["cuda:i", ...] (an index this machine lacks
    is an error located at `devices=`)."""
    count = visible_gpus() if count is None else count
    if setting == "cpu":
        return ["cpu"]
    if setting == "auto":
        return [f"cuda:{i}" for i in range(count)] or ["cpu"]
    if isinstance(setting, str):
        raise GenelangError.at("option", f"devices {setting!r}: cpu, auto, or a list of GPU indices", "devices=")
    missing = missing_gpus(setting, count)
    if missing:
        raise GenelangError.at("option", no_gpu_message(missing[0][1], count), "devices=",
                               hint="devices auto uses every GPU there is, cpu the CPU")
    return [f"cuda:{i}" for i in setting]


def no_gpu_message(index: int, count: int) -> str:
    return f"GPU {index} is not on this machine ({count} GPU{'s' if count != 1 else ''} visible)"


def is_gpu(device: str) -> bool:
    return device.startswith("cuda")


def lightning_devices(device: str) -> tuple[str, int | list[int]]:
    """Lightning's (accelerator, devices) for a device string: "cpu" -> ("cpu", 1),
    "cuda" -> ("gpu", 1), "cuda:1" -> ("gpu", [1])."""
    if device == "cpu":
        return "cpu", 1
    kind, _, index = device.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise GenelangError.at("option", f"device {device!r}: 'cpu', 'cuda' or 'cuda:N'", "device=")
    return "gpu", [int(index)] if index else 1


def _resolved(precision: str | None, device: str) -> tuple[str, str]:
    """(device kind, precision): None becomes the runtime's default for the kind."""
    kind = "gpu" if is_gpu(device) else "cpu"
    return kind, DEFAULT_PRECISION[kind] if precision is None else str(precision)


def lightning_precision(precision: str | None, device: str) -> str:
    """Lightning's precision for ours (`32`, `bf16-mixed`, `16-mixed`; None: the
    runtime's default for the device). fp16 autocast exists on GPUs only, and
    Lightning would quietly train in bf16 instead, so it is refused here."""
    kind, precision = _resolved(precision, device)
    if precision not in PRECISIONS:
        raise GenelangError.at("option", f"precision {precision!r}: one of {', '.join(PRECISIONS)}", "precision=")
    if precision == "16-mixed" and kind == "cpu":
        raise GenelangError.at("option", "precision 16-mixed needs a GPU (fp16 autocast does not run on the CPU)",
                               "precision=", hint="use bf16-mixed on the CPU")
    return _LIGHTNING_PRECISION[precision]


def autocast(precision: str | None, device: str):
    """Mixed precision outside Lightning (inference: scoring supernet paths):
    autocast to bf16 or fp16 for `bf16-mixed` / `16-mixed`, nothing for `32`
    (None: the runtime's default for the device)."""
    import contextlib

    import torch
    kind, precision = _resolved(precision, device)
    dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision)
    return contextlib.nullcontext() if dtype is None else torch.autocast("cuda" if kind == "gpu" else "cpu", dtype)


def free_gpu_memory() -> None:
    """Collect unreachable objects (a failed training's tensors sit in reference
    cycles: Lightning's trainer, the module, the optimizer) and hand the CUDA
    caching allocator's free blocks back, without initialising CUDA here."""
    import gc

    import torch
    gc.collect()
    if torch.cuda.is_initialized():
        torch.cuda.empty_cache()


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """torch's intra-op threads set to `n` for the block (None or 0: unchanged).
    Work in the search's own process (the supernet's training) must keep to the
    spec's threads like its workers: OpenMP threads beyond the cores left to
    them spin against the other processes and can run tens of times slower."""
    import torch
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
