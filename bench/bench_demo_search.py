"""`make demo`'s search (examples/specs/quick.yaml) before and after the CPU
speed work, side by side in one run: candidates per hour, GFLOP/s per worker
and the best fitness, as each search reports them.

"before" is the genelang of `--before` (default: the last commit before the
CPU speed work), extracted with `git archive` and run from there; "after" is
this tree. Each search starts fresh in its own temporary run directory; the
two run one after the other, `--rounds` times alternating, so load from other
processes falls on both alike (say the load when quoting the numbers).

`--threads-study`: this tree only, the same search with two workers of one
thread (quick.yaml's execution) against one worker of two threads.

Run: .venv/bin/python bench/bench_demo_search.py [--rounds 1] [--before REV] [--threads-study]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from bench_candidate_speed import extract   # the tree of a revision, as that bench takes it

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "specs" / "quick.yaml"


def search(tree: Path, run_dir: Path, spec: Path = SPEC) -> dict:
    """The search's summary line (--json), run with `tree`'s genelang."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-m", "genelang", "evolve", str(spec), "--fresh", "--out", str(run_dir),
                          "--json"], capture_output=True, text=True, env=env, cwd=tree)
    if out.returncode != 0:
        raise SystemExit(f"search with {tree} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    done = next(json.loads(x) for x in reversed(out.stdout.splitlines()) if x.startswith('{"event": "done"'))
    return {k: done[k] for k in ("best_fitness", "evaluations", "failures", "seconds", "candidates_per_hour",
                                 "gflop_s")}


def with_execution(tmp: Path, workers: int, threads: int) -> Path:
    """quick.yaml with another execution section, written under `tmp`."""
    spec = yaml.safe_load(SPEC.read_text())
    spec["execution"] = {**spec.get("execution", {}), "workers": workers, "threads": threads}
    path = tmp / f"quick-{workers}x{threads}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def threads_study(tmp: Path, rounds: int) -> None:
    specs = {f"{w} worker(s) x {t} thread(s)": with_execution(tmp, w, t) for w, t in ((2, 1), (1, 2))}
    for r in range(rounds):
        for name, spec in specs.items():
            summary = search(ROOT, tmp / f"run-{spec.stem}-{r}", spec)
            print(json.dumps({"variant": name, "round": r, "load": os.getloadavg()[0], **summary}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", default="b2252f9")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--threads-study", action="store_true")
    args = ap.parse_args()
    if args.threads_study:
        with tempfile.TemporaryDirectory() as tmp:
            threads_study(Path(tmp), args.rounds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": extract(args.before, Path(tmp) / "before"), "after": ROOT}
        for r in range(args.rounds):
            for name, tree in trees.items():
                summary = search(tree, Path(tmp) / f"run-{name}-{r}")
                print(json.dumps({"variant": name, "round": r, "load": os.getloadavg()[0], **summary}), flush=True)


if __name__ == "__main__":
    main()
