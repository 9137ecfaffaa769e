"""Where and how latency is measured (a spec's `fitness.latency`)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class LatencyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = "latency.json"     # the JSON file of measured entries (made or extended as needed)
    device: str = "cpu"             # cpu | cuda | cuda:N
    threads: int = Field(1, ge=1)   # CPU threads while measuring (a table keeps one count apart from another)
    batch: int = Field(1, ge=1)
    warmup: int = Field(5, ge=0)
    repeats: int = Field(21, ge=1)  # the median of these
    clock: str = "wall"             # wall | cpu (process CPU time per thread: steadier on a shared machine)
    measure_missing: bool = True    # False: a candidate needing an unmeasured entry fails, naming it

    @field_validator("clock")
    @classmethod
    def _clock(cls, v: str) -> str:
        if v not in ("wall", "cpu"):
            raise ValueError("wall or cpu")
        return v

    @field_validator("device")
    @classmethod
    def _device(cls, v: str) -> str:
        if v != "cpu" and not (v == "cuda" or (v.startswith("cuda:") and v[5:].isdigit())):
            raise ValueError("cpu, cuda or cuda:N")
        return v
