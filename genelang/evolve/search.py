"""The search loop: propose, evaluate (each phenotype once), store, merge —
one generation at a time, resumable from the last complete generation.

Determinism: generation g draws from `Random(f"{seed}:{g}")` and a candidate's
training seed derives from the run seed and its phenotype, so the same spec
and seed give the same genomes in the same order, however the run was
interrupted, and whichever worker evaluated what.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Protocol

import yaml

from genelang.compiler.dag import phenotype_hash
from genelang.compiler.printer import format_genome
from genelang.errors import SpecError
from genelang.evolve.backends import make_backend
from genelang.evolve.runlock import RunLock
from genelang.evolve.spec import Spec
from genelang.evolve.store import Store
from genelang.evolve.strategies import Member, best_first, make_strategy
from genelang.evolve.template import Template
from genelang.evolve.weights import WeightBanks


class Progress(Protocol):
    def start(self, total_generations: int, first: int) -> None: ...
    def generation(self, g: int, n_new: int) -> None: ...
    def evaluated(self, result: dict, cached: bool) -> None: ...
    def generation_done(self, g: int, best: float | None) -> None: ...


class _Silent:
    def start(self, *a): pass
    def generation(self, *a): pass
    def evaluated(self, *a): pass
    def generation_done(self, *a): pass


@dataclass
class SearchResult:
    run_dir: Path
    population: list[Member]
    best_genome: str
    best_fitness: float | None
    evaluations: int
    failures: int
    generations: int
    outputs: dict[str, Path] = field(default_factory=dict)


def candidate_seed(run_seed: int, phenotype: str) -> int:
    return int(hashlib.sha256(f"{run_seed}:{phenotype}".encode()).hexdigest()[:8], 16)


def objectives(spec: Spec, result: dict) -> tuple[float, ...]:
    ok = result.get("status") == "ok" and result.get("fitness") is not None
    params = (result.get("metrics") or {}).get("params")
    vec = []
    for o in spec.fitness.objectives:
        if not ok:
            vec.append(-math.inf)
        elif o == "fitness":
            vec.append(float(result["fitness"]))
        else:
            vec.append(-float(params) if o == "-params" else float(params))
    return tuple(vec)


class Search:
    def __init__(self, spec: Spec, run_dir: Path, progress: Progress | None = None,
                 evaluate: Callable | None = None):
        self.spec, self.run_dir = spec, run_dir
        self.lock = RunLock(run_dir)
        try:
            self.progress = progress or _Silent()
            self.template = Template.from_spec(spec.space, name=spec.run.name.replace("-", "_"))
            self.strategy = make_strategy(spec, self.template)
            self.store = Store(run_dir / "results.sqlite")
            self._check_same_run()
            self.cache = self.store.cached()
            self.backend = make_backend(spec) if evaluate is None else _Injected(evaluate)
        except BaseException:
            self.lock.release()
            raise
        self.n_eval = len(self.store.evaluations())
        self.n_fail = sum(1 for r in self.cache.values() if r["status"] != "ok")
        self.weights = WeightBanks(run_dir / "weights")

    def _check_same_run(self) -> None:
        """A run directory belongs to one search: rerunning the same spec resumes it;
        a different spec must not mix its results in."""
        current = yaml.safe_dump(self.spec.model_dump(), sort_keys=True)
        stored = self.store.get_meta("spec")
        if stored is None:
            self.store.set_meta("spec", current)
        elif stored != current:
            raise SpecError.at("spec", f"run directory {self.run_dir} holds a different search",
                               str(self.run_dir / "spec.yaml"),
                               hint="set run.out (or run.name) to a new directory, or restore the spec")
        (self.run_dir / "spec.yaml").write_text(current)

    def text(self, m: Member) -> str:
        return format_genome(self.template.genome(m.lists()))

    def evaluate(self, members: list[Member], generation: int) -> list[Member]:
        """Objectives for every member; each phenotype is evaluated once, ever."""
        genomes = [self.template.genome(m.lists()) for m in members]
        phen = [phenotype_hash(g) for g in genomes]
        texts = [format_genome(g) for g in genomes]
        todo = [i for i, p in enumerate(phen) if p not in self.cache]
        todo = [i for k, i in enumerate(todo) if phen[i] not in {phen[j] for j in todo[:k]}]
        for i in range(len(members)):
            if i not in todo:
                self.progress.evaluated(self.cache.get(phen[i], {}), True)

        def store(k: int, result: dict) -> None:
            i = todo[k]
            self.cache[phen[i]] = dict(result, objectives=list(objectives(self.spec, result)))
            self.store.add_evaluation(generation, i, phen[i], texts[i], result,
                                      list(objectives(self.spec, result)))
            self.n_eval += 1
            self.n_fail += result.get("status") != "ok"
            self.progress.evaluated(result, False)

        jobs = [(texts[i], candidate_seed(self.spec.run.seed, phen[i])) for i in todo]
        if self.spec.fitness.inherit_weights:
            self.backend.spec = dict(self.backend.spec, _inherit=self.weights.context(generation))
        if jobs:
            self.backend.map(jobs, store)
        if self.spec.fitness.inherit_weights:
            self.weights.update(generation, phen)
        return [replace(m, objectives=tuple(self.cache[p]["objectives"])) for m, p in zip(members, phen)]

    def _restore(self, generation: int) -> list[Member]:
        members = []
        for text, ph, age in self.store.population(generation):
            from genelang.compiler import load_text
            genome = load_text(text, "<stored population>").genomes[0]
            m = Member.of(self.template.symbols(genome), age)
            members.append(replace(m, objectives=tuple(self.cache[ph]["objectives"])))
        return members

    def run(self) -> SearchResult:
        s = self.spec.strategy
        last = self.store.last_generation()
        first = 0 if last is None else last + 1
        self.progress.start(s.generations, first)
        try:
            if last is None:
                self.progress.generation(0, s.population)
                pop = self.evaluate(self.strategy.initial(random.Random(f"{self.spec.run.seed}:0")), 0)
                self._save(0, pop)
                first = 1
            else:
                pop = self._restore(last)
            for g in range(first, s.generations):
                rng = random.Random(f"{self.spec.run.seed}:{g}")
                children = self.strategy.propose(pop, rng)
                self.progress.generation(g, len(children))
                children = self.evaluate(children, g)
                pop = self.strategy.merge(pop, children, rng)
                self._save(g, pop)
            from genelang.evolve.outputs import write_outputs
            outputs = write_outputs(self)
        finally:
            self.backend.close()
            self.store.close()     # the last connection: SQLite folds its WAL back in
            self.lock.release()
        best = best_first(pop)[0]
        fit = self.cache[phenotype_hash(self.template.genome(best.lists()))].get("fitness")
        return SearchResult(self.run_dir, pop, self.text(best), fit, self.n_eval, self.n_fail,
                            s.generations, outputs)

    def _save(self, g: int, pop: list[Member]) -> None:
        rows = []
        for m in pop:
            genome = self.template.genome(m.lists())
            rows.append((format_genome(genome), phenotype_hash(genome), m.age))
        self.store.save_population(g, rows)
        best = best_first(pop)[0].objectives
        self.progress.generation_done(g, best[0] if best and math.isfinite(best[0]) else None)


class _Injected:
    """A fitness function given in Python (tests, notebooks), run in this process."""

    def __init__(self, fn: Callable):
        self.fn, self.spec = fn, {}

    def map(self, jobs, on_result):
        out = []
        for k, (text, seed) in enumerate(jobs):
            try:
                r = self.fn(text, seed)
            except Exception as err:
                r = {"status": "failed", "fitness": None, "reason": f"{type(err).__name__}: {err}"}
            r.setdefault("status", "ok")
            on_result(k, r)
            out.append(r)
        return out

    def close(self):
        pass


def run_search(spec: Spec, *, base_dir: Path | None = None, progress: Progress | None = None,
               evaluate: Callable | None = None) -> SearchResult:
    """Run (or resume) the search a spec describes. Returns the final population
    and the best genome; everything is also in the run directory."""
    run_dir = spec.run_dir(base_dir)
    return Search(spec, run_dir, progress, evaluate).run()
