"""Which spec keys make a search what it is. A run directory belongs to one
search: rerunning it with the same search resumes it; changing what only
extends or runs it (generations, workers, timeout, backend, threads) resumes
too; changing anything else (space, task, model, strategy, estimator, seed)
is refused with the keys that differ."""
from __future__ import annotations

from pathlib import Path

import yaml

from genelang.atomic import atomic_write
from genelang.errors import SpecError

# keys whose change extends or re-hosts a search without changing what it finds
RUN_ONLY = ("strategy.generations", "execution", "fitness.timeout", "run.out", "fitness.retrain_top",
            "supernet.checkpoint_every")


def _flat(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def _run_only(key: str) -> bool:
    return any(key == r or key.startswith(r + ".") for r in RUN_ONLY)


def differing_keys(stored: dict, current: dict, defaults: dict | None = None) -> list[str]:
    """Keys whose values differ, but for run-only keys and for keys a stored spec
    lacks (written before genelang had them) that hold their default now."""
    a, b, d = _flat(stored), _flat(current), _flat(defaults or {})
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and not _run_only(k)
                  and not (k not in a and k in d and b.get(k) == d[k]))


def _schedule_change(stored: dict, spec) -> list[str]:
    """With ENAS's alternation the generations set the supernet's learning-rate
    schedule (evolve/estimators/oneshot.py), so they are part of the search."""
    if spec.fitness.estimator != "supernet" or not spec.supernet.steps_per_generation:
        return []
    before = stored.get("strategy", {}).get("generations")
    return [] if before in (None, spec.strategy.generations) else ["strategy.generations"]


def check_same_search(store, spec, run_dir: Path) -> None:
    current = spec.model_dump()
    text = store.get_meta("spec")
    if text is not None:
        stored = yaml.safe_load(text) or {}
        diff = differing_keys(stored, current, type(spec)().model_dump()) + _schedule_change(stored, spec)
        if diff:
            raise SpecError.at("spec", f"run directory {run_dir} holds a different search: "
                               f"{', '.join(diff)} differ", str(run_dir / "spec.yaml"),
                               hint="set run.out (or run.name) to a new directory, or restore those keys; "
                                    f"{', '.join(k for k in RUN_ONLY if k not in diff)} may change and "
                                    "the search resumes")
    dumped = yaml.safe_dump(current, sort_keys=True)
    store.set_meta("spec", dumped)
    atomic_write(run_dir / "spec.yaml", dumped)
