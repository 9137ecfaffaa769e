"""The search spec (YAML), validated with pydantic. Every error names its spec
path, e.g. `strategy.operators.mutation: must be between 0 and 1`."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from genelang.errors import Diagnostic, Location, SpecError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunSpec(_Strict):
    name: str = "search"
    seed: int = 0
    out: str | None = None          # run directory; default runs/<name>


class TaskSpec(_Strict):
    name: str = "fashion-mnist"
    root: str | None = None
    subset: int | None = Field(None, ge=1)
    val: float | int = 0.1
    batch_size: int = Field(64, ge=1)
    vectors: str | None = None               # text tasks: word vectors file
    dataset: str | None = None               # time-series tasks: bundled set or series name
    augment: bool | None = None              # image tasks: pad-crop + flip (default: the task's)
    cutout: int = Field(0, ge=0)


class SpaceSpec(_Strict):
    space: Literal["conv", "rnn"] = "conv"
    adf_functions: list[str] | None = None     # default: every function of the space for ADFs
    main_functions: list[str] | None = None
    adfs: int = Field(4, ge=1, le=50)
    adf_head: int = Field(2, ge=1, le=20)
    main_head: int = Field(3, ge=1, le=20)
    states: list[str] = ["h"]                  # rnn only
    separate_pools: bool = False               # conv: NASGEP's separate ADF pools for the two cells


class ModelSpec(_Strict):
    skeleton: Literal["nasgep", "darts"] = "nasgep"
    C: int = Field(8, ge=2)
    N: int = Field(1, ge=1)
    layers: int = Field(8, ge=3)
    hidden: int = Field(64, ge=1)            # rnn genomes: state width
    freeze_embeddings: bool = True           # text tasks: keep pre-trained word vectors fixed


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
    name: Literal["gep", "random", "regularized-evolution"] = "gep"
    population: int = Field(8, ge=2)
    generations: int = Field(5, ge=1)
    selection: Literal["tournament", "roulette"] = "tournament"
    tournament: int = Field(3, ge=1)
    elitism: int = Field(1, ge=0)
    max_age: int | None = Field(None, ge=1)     # NASGEP: remove individuals older than this
    sample_size: int = Field(3, ge=1)           # regularized evolution
    operators: Operators = Operators()

    @model_validator(mode="after")
    def _sizes(self):
        if self.elitism >= self.population:
            raise ValueError("elitism must be smaller than population")
        return self


class FitnessSpec(_Strict):
    estimator: Literal["train", "random-weights", "naswot", "synflow", "params"] = "train"
    epochs: int = Field(1, ge=1)
    threshold: float | None = None       # NASGEP: one more epoch while val_acc is above this
    max_epochs: int | None = Field(None, ge=1)
    lr: float = Field(0.05, gt=0)
    scales: list[float] = [0.5, 1.0, 2.0, 3.0]   # random-weights: Uniform(-v, v)
    objectives: list[str] = ["fitness"]   # add "-params" or "-macs" for a Pareto search
    max_params: int | None = Field(None, ge=1)
    timeout: float | None = Field(None, gt=0)     # seconds per candidate
    inherit_weights: bool = False        # NASGEP: start blocks from the fittest trained copies

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, v):
        allowed = {"fitness", "-params", "params"}
        bad = [o for o in v if o not in allowed]
        if bad:
            raise ValueError(f"unknown objective(s) {bad}; choose from {sorted(allowed)}")
        if not v:
            raise ValueError("at least one objective")
        return v


class ExecutionSpec(_Strict):
    backend: Literal["local", "ray"] = "local"
    workers: int = Field(0, ge=0)    # 0: evaluate in this process
    address: str | None = None       # ray cluster address; None starts a local instance


class Spec(_Strict):
    run: RunSpec = RunSpec()
    task: TaskSpec = TaskSpec()
    space: SpaceSpec = SpaceSpec()
    model: ModelSpec = ModelSpec()
    strategy: StrategySpec = StrategySpec()
    fitness: FitnessSpec = FitnessSpec()
    execution: ExecutionSpec = ExecutionSpec()

    def run_dir(self, base: Path | None = None) -> Path:
        out = Path(self.run.out) if self.run.out else Path("runs") / self.run.name
        return out if out.is_absolute() or base is None else base / out


def _space_errors(spec: Spec, path: str) -> list[Diagnostic]:
    from genelang.compiler.registry import ADF, MAIN, get_space
    space = get_space(spec.space.space)
    diags = []
    for key, role in (("adf_functions", ADF), ("main_functions", MAIN)):
        names = getattr(spec.space, key)
        if names is None:
            continue
        allowed = set(space.functions(role))
        for i, n in enumerate(names):
            if n not in allowed:
                diags.append(Diagnostic("spec", f"space.{key}[{i}]: {n!r} is not a {role} function "
                                        f"of the {space.name} space", Location(path),
                                        f"choose from: {', '.join(sorted(allowed))}"))
        if not names:
            diags.append(Diagnostic("spec", f"space.{key}: must not be empty", Location(path)))
    from genelang.runtime.tasks import task_names
    images, sequences = task_names("image"), task_names("sequence")
    if spec.task.name not in images + sequences:
        diags.append(Diagnostic("spec", f"task.name: unknown task {spec.task.name!r}", Location(path),
                                f"tasks: {', '.join(images + sequences)}"))
    elif spec.space.space == "conv" and spec.task.name not in images:
        diags.append(Diagnostic("spec", f"task.name: {spec.task.name!r} is not an image task "
                                "(the conv space trains image networks)", Location(path)))
    elif spec.space.space == "rnn" and spec.task.name not in sequences:
        diags.append(Diagnostic("spec", f"task.name: {spec.task.name!r} is not a sequence task "
                                "(the rnn space trains sequence models)", Location(path)))
    return diags


def _fitness_errors(spec: Spec, path: str) -> list[Diagnostic]:
    if spec.fitness.inherit_weights and (spec.fitness.estimator != "train" or spec.space.space != "conv"):
        return [Diagnostic("spec", "fitness.inherit_weights: needs estimator 'train' and the conv space",
                           Location(path), "weights are inherited between trained conv cells only")]
    return []


def _bounds_message(loc) -> str | None:
    """'must be between 0 and 1' from the field's own bounds."""
    model, info = Spec, None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        model = info.annotation
    lo = next((getattr(m, "ge", None) for m in info.metadata if getattr(m, "ge", None) is not None), None)
    hi = next((getattr(m, "le", None) for m in info.metadata if getattr(m, "le", None) is not None), None)
    gt = next((getattr(m, "gt", None) for m in info.metadata if getattr(m, "gt", None) is not None), None)
    if lo is not None and hi is not None:
        return f"must be between {lo} and {hi}"
    if lo is not None:
        return f"must be at least {lo}"
    if gt is not None:
        return f"must be greater than {gt}"
    return f"must be at most {hi}" if hi is not None else None


def parse_spec(data: dict, path: str = "<spec>") -> Spec:
    try:
        spec = Spec.model_validate(data)
    except ValidationError as err:
        diags = []
        for e in err.errors():
            where = ".".join(str(p) for p in e["loc"]) or "(top level)"
            msg = e["msg"]
            if e["type"] == "extra_forbidden":
                msg = "unknown key"
            msg = msg.replace("Value error, ", "")
            if e["type"] in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
                msg = _bounds_message(e["loc"]) or msg
            diags.append(Diagnostic("spec", f"{where}: {msg}", Location(path)))
        raise SpecError(diags) from None
    diags = _space_errors(spec, path) + _fitness_errors(spec, path)
    if diags:
        raise SpecError(diags)
    return spec


def load_spec(path: str | Path) -> Spec:
    p = Path(path)
    try:
        text = p.read_text()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        raise SpecError(Diagnostic("io", f"cannot read spec ({err.__class__.__name__})", Location(str(p)))) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        src = text.splitlines()[line - 1] if line and line <= len(text.splitlines()) else ""
        raise SpecError(Diagnostic("yaml", f"invalid YAML: {getattr(err, 'problem', err)}",
                                   Location(str(p), line, col, col + 1, src))) from None
    if not isinstance(data, dict):
        raise SpecError(Diagnostic("spec", "a spec is a mapping of sections (run, task, space, ...)",
                                   Location(str(p))))
    return parse_spec(data, str(p))
