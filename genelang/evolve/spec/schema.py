"""The search spec (YAML), validated with pydantic. Every error names its spec
path and, when the spec came from a file, its line and column, e.g.
`spec.yaml:31:15: strategy.operators.mutation: must be between 0 and 1`.

The `task` and `model` sections are the runtime's `TaskConfig` and
`ModelConfig` (`Spec.configs()` converts, with the
runtime's defaults), so a search, `train`, `compile` and `compare` build the
same network from the same spec."""
from __future__ import annotations

from dataclasses import fields as dc_fields
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from genelang.runtime.config import ModelConfig, TaskConfig
from genelang.runtime.latency.config import LatencyConfig

_M, _T = ModelConfig(), TaskConfig()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunSpec(_Strict):
    name: str = "search"
    seed: int = 0
    out: str | None = None          # run directory; default runs/<name>


class TaskSpec(_Strict):
    name: str = _T.name
    root: str | None = None
    subset: int | None = Field(None, ge=1)
    val: float | int = _T.val                # fraction in (0, 1) or a count >= 1
    batch_size: int = Field(_T.batch_size, ge=1)
    vectors: str | None = None               # text tasks: word vectors file
    dataset: str | None = None               # time-series tasks: bundled set or series name
    augment: bool | None = None              # image tasks: pad-crop + flip (default: the task's)
    cutout: int = Field(_T.cutout, ge=0)
    skip_bad_images: bool = _T.skip_bad_images   # image-folder: unreadable files left out and counted

    @field_validator("val")
    @classmethod
    def _val(cls, v):
        if isinstance(v, float) and not 0 < v < 1:
            raise ValueError("a validation fraction must be between 0 and 1 (exclusive); "
                             "give a whole number for a count of samples")
        if isinstance(v, int) and v < 1:
            raise ValueError("a validation count must be at least 1")
        return v


class SpaceSpec(_Strict):
    space: str = "conv"
    adf_functions: list[str] | None = None     # default: every function of the space for ADFs
    main_functions: list[str] | None = None
    adfs: int = Field(4, ge=1, le=50)
    adf_head: int = Field(2, ge=1, le=20)
    main_head: int = Field(3, ge=1, le=20)
    states: list[str] = ["h"]                  # rnn only
    separate_pools: bool = False               # conv: NASGEP's separate ADF pools for the two cells


class ModelSpec(_Strict):
    skeleton: str = _M.skeleton
    C: int = Field(_M.C, ge=2)
    N: int = Field(_M.N, ge=1)
    layers: int = Field(_M.layers, ge=3)
    hidden: int = Field(_M.hidden, ge=1)     # rnn genomes: state width; transformer genomes: model width
    heads: int = Field(_M.heads, ge=1)       # transformer genomes: attention heads
    ffn: int = Field(_M.ffn, ge=1)           # transformer genomes: feed-forward width
    rnn_layers: int = Field(_M.rnn_layers, ge=1)   # sequence genomes: layers (blocks) stacked
    dropout: float = Field(_M.dropout, ge=0, lt=1)   # sequence genomes (the rnn supernet: locked, per sequence)
    freeze_embeddings: bool = _M.freeze_embeddings   # text tasks: keep pre-trained word vectors fixed


class Operators(_Strict):
    """Ferreira's rates (REFERENCES.md): mutation per symbol, the rest per individual."""
    mutation: float = Field(0.044, ge=0, le=1)
    inversion: float = Field(0.1, ge=0, le=1)
    is_transposition: float = Field(0.1, ge=0, le=1)
    ris_transposition: float = Field(0.1, ge=0, le=1)
    gene_transposition: float = Field(0.1, ge=0, le=1)
    one_point: float = Field(0.3, ge=0, le=1)
    two_point: float = Field(0.3, ge=0, le=1)
    gene_recombination: float = Field(0.1, ge=0, le=1)


class StrategySpec(_Strict):
    name: str = "gep"                           # a registered strategy (evolve/strategies/base.py)
    population: int = Field(8, ge=2)
    generations: int = Field(5, ge=1)
    selection: str = "tournament"               # tournament | roulette
    tournament: int = Field(3, ge=1)
    elitism: int = Field(1, ge=0)
    max_age: int | None = Field(None, ge=1)     # NASGEP: remove individuals older than this
    sample_size: int = Field(3, ge=1)           # regularized evolution
    operators: Operators = Operators()
    options: dict = {}                          # a plugin strategy's own settings


class FitnessSpec(_Strict):
    estimator: str = "train"             # a registered estimator (evolve/estimators)
    epochs: int = Field(1, ge=1)
    threshold: float | None = None       # NASGEP: one more epoch while val_acc is above this
    max_epochs: int | None = Field(None, ge=1)
    lr: float = Field(0.05, gt=0)
    scales: list[float] = [0.5, 1.0, 2.0, 3.0]   # random-weights: Uniform(-v, v)
    objectives: list[str] = ["fitness"]   # add "-params" or "-macs" for a Pareto search
    max_params: int | None = Field(None, ge=1)
    max_macs: int | None = Field(None, ge=1)      # multiply-adds per image (spaces with a cost table)
    max_latency_ms: float | None = Field(None, gt=0)   # predicted from the latency table (`latency`)
    latency: LatencyConfig = LatencyConfig()      # where `-latency` and `max_latency_ms` are measured
    timeout: float | None = Field(None, gt=0)     # seconds per candidate
    inherit_weights: bool = False        # NASGEP: start blocks from the fittest trained copies
    precision: str | None = None         # 32 | bf16-mixed | 16-mixed (None: the runtime's default for the device)
    retrain_top: int | None = Field(None, ge=1)   # after the search: retrain the top K with `train`
    options: dict = {}                   # a plugin estimator's own settings

    @field_validator("precision", mode="before")
    @classmethod
    def _precision(cls, v):
        from genelang.runtime.devices import PRECISIONS
        v = str(v) if isinstance(v, int) and not isinstance(v, bool) else v   # YAML reads 32 as a number
        if v is not None and v not in PRECISIONS:
            raise ValueError(f"one of {', '.join(PRECISIONS)}")
        return v

    @field_validator("scales")
    @classmethod
    def _scales(cls, v):
        if not v or any(not s > 0 for s in v):
            raise ValueError("scales must be a non-empty list of numbers greater than 0")
        return v


class SupernetSpec(_Strict):
    """One-shot search (`fitness.estimator: supernet`, docs/supernet.md)."""
    sampling: str = "uniform"                   # uniform | strict-fair | distinct (one draw per computation; small spaces)
    share: Literal["position", "gene", "cell"] = "position"   # an op's block per Karva position, per gene or per cell
    steps: int = Field(2000, ge=1)              # optimizer steps (a strict-fair step trains a group of paths)
    lr: float = Field(0.05, gt=0)
    batch_size: int | None = Field(None, ge=1)  # default: task.batch_size
    checkpoint_every: int = Field(100, ge=1)
    bn_batches: int = Field(4, ge=0)            # BN recalibration batches per candidate (0: keep the trained statistics)
    val_samples: int = Field(1000, ge=1)        # the validation images (lm: text windows) a candidate is scored on
    # ENAS's alternation: after each generation, this many more steps on paths the strategy
    # samples (strategy: controller) or, for other strategies, on the spec's sampling
    steps_per_generation: int = Field(0, ge=0)


class ExecutionSpec(_Strict):
    backend: str = "local"           # local | ray
    workers: int = Field(0, ge=0)    # 0: evaluate in this process (with GPUs: len(devices) x per_device)
    address: str | None = None       # ray cluster address; None starts a local instance
    threads: int | None = Field(None, ge=1)   # torch threads per worker (default: the cores / workers)
    devices: str | list[int] = "cpu"          # cpu | auto (every GPU, else the CPU) | GPU indices [0, 1]
    per_device: int | None = Field(None, ge=1)   # candidates sharing one GPU (default: evolve/execution/placement.py)

    @field_validator("devices", mode="before")
    @classmethod
    def _devices(cls, v):
        if isinstance(v, int) and not isinstance(v, bool):
            v = [v]
        if isinstance(v, str) and v not in ("cpu", "auto") or isinstance(v, list) and (
                not v or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in v)):
            raise ValueError("cpu, auto, or a list of GPU indices such as [0, 1]")
        return v


class Spec(_Strict):
    plugins: list[str] = []          # modules imported first: they register estimators, strategies, ops
    run: RunSpec = RunSpec()
    task: TaskSpec = TaskSpec()
    space: SpaceSpec = SpaceSpec()
    model: ModelSpec = ModelSpec()
    strategy: StrategySpec = StrategySpec()
    fitness: FitnessSpec = FitnessSpec()
    supernet: SupernetSpec = SupernetSpec()
    execution: ExecutionSpec = ExecutionSpec()

    def run_dir(self, base: Path | None = None) -> Path:
        out = Path(self.run.out) if self.run.out else Path("runs") / self.run.name
        return out if out.is_absolute() or base is None else base / out

    def configs(self) -> tuple[TaskConfig, ModelConfig]:
        """The runtime's configs for this spec's task and model sections: what every
        candidate of the search is trained and built with."""
        return (_dataclass_from(TaskConfig, self.task.model_dump()),
                _dataclass_from(ModelConfig, self.model.model_dump()))


SECTIONS = {name: info.annotation for name, info in Spec.model_fields.items() if name != "plugins"}


def _dataclass_from(cls, values: dict):
    names = {f.name for f in dc_fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


def parse_spec(data: dict, path: str = "<spec>", text: str | None = None) -> Spec:
    from genelang.evolve.spec.check import validate
    return validate(data, path, text)


def load_spec(path: str | Path) -> Spec:
    from genelang.evolve.spec.check import read_spec
    return read_spec(Path(path))
