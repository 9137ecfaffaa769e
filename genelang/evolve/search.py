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
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Protocol

from genelang.compiler.dag import phenotype_hash
from genelang.compiler.printer import format_genome
from genelang.evolve.run import best as best_of
from genelang.evolve.execution.backends import Backend, InProcessExecutor, make_backend, worker_threads
from genelang.evolve.driver import new_phenotypes, run_generations
from genelang.evolve.estimators import get_estimator
from genelang.evolve.execution.evaluation import EvalContext, EvalRequest, EvalResult, RunState, WeightBankRef
from genelang.evolve.run.identity import check_same_search
from genelang.evolve.run.runlock import RunLock
from genelang.evolve.spec.schema import Spec
from genelang.evolve.run.store import Store
from genelang.evolve.run.throughput import META_KEY as THROUGHPUT, Throughput, median_gflop_s
from genelang.evolve.strategies import Member, SamplesPaths, make_strategy
from genelang.compiler.template import Template
from genelang.evolve.execution.weights import WeightBanks
from genelang.evolve.strategies.self_search import SearchesItself, SelfSearchRun


class Progress(Protocol):
    def start(self, total_generations: int, first: int) -> None: ...
    def generation(self, g: int, n_new: int) -> None: ...
    def evaluated(self, result: EvalResult | None, cached: bool) -> None: ...
    def generation_done(self, g: int, best: float | None) -> None: ...
    # optional: `supernet_step(step, total, loss)` while a one-shot search trains its supernet,
    # `retraining(done, total)` before each of `fitness.retrain_top`'s trainings


class _Silent:
    def start(self, *a): pass
    def generation(self, *a): pass
    def evaluated(self, *a): pass
    def generation_done(self, *a): pass


@dataclass
class SearchResult:
    run_dir: Path
    population: list[Member]
    best_genome: str | None          # the fittest successful evaluation of the run (evolve/run/best.py)
    best_fitness: float | None
    evaluations: int
    failures: int
    generations: int
    reused_failures: int = 0         # stored failures this run took as they were (see retry_failed)
    outputs: dict[str, Path] = field(default_factory=dict)
    retrained: list = field(default_factory=list)   # fitness.retrain_top: evolve/retrain_top.Retrained
    throughput: Throughput | None = None           # candidates per hour, GFLOP/s (evolve/run/throughput.py)
    generations_before: int = 0      # complete generations the run directory held when this session began


def candidate_seed(run_seed: int, phenotype: str) -> int:
    return int(hashlib.sha256(f"{run_seed}:{phenotype}".encode()).hexdigest()[:8], 16)


def objectives(spec: Spec, result: EvalResult) -> tuple[float, ...]:
    """The vector a strategy ranks by: fitness, and each named cost (`-params`
    minimises parameters, `macs` maximises multiply-adds); −inf where unknown."""
    vec = []
    for o in spec.fitness.objectives:
        value = result.fitness if o == "fitness" else result.metrics.get(o.lstrip("-"))
        if not result.ok or value is None:
            vec.append(-math.inf)
        else:
            vec.append(-float(value) if o.startswith("-") else float(value))
    return tuple(vec)


def _injected(fn: Callable) -> Callable[[EvalRequest], EvalResult]:
    def run(request: EvalRequest) -> EvalResult:
        try:
            return EvalResult.coerce(fn(request.genome, request.seed))
        except Exception as err:   # the user's function failing is that candidate's failure
            return EvalResult.failed(f"{type(err).__name__}: {err}")
    return run


class Search:
    def __init__(self, spec: Spec, run_dir: Path, progress: Progress | None = None,
                 evaluate: Callable | None = None, retry_failed: bool = False):
        self.spec, self.run_dir = spec, run_dir
        self.lock = RunLock(run_dir)
        try:
            self.progress = progress or _Silent()
            self.template = Template.from_spec(spec.space, name=spec.run.name.replace("-", "_"))
            self.strategy = make_strategy(spec, self.template)
            self.store = Store(run_dir / "results.sqlite")
            check_same_search(self.store, spec, run_dir)
            stored = self.store.latest(retry_failed=retry_failed)
            self.cache = {ph: (e.result(), tuple(e.objectives or ())) for ph, e in stored.items()}
            self.row_of = {ph: e.id for ph, e in stored.items()}     # the evaluation each cache entry is
            self.touched: set[str] = set()                           # phenotypes this run's generations hold
            self.reused_failures = sum(1 for r, _ in self.cache.values() if r.status == "failed")
            self.injected = evaluate is not None
            self.backend: Backend = (make_backend(spec) if evaluate is None
                                     else Backend(InProcessExecutor(), _injected(evaluate)))
        except BaseException:
            self.lock.release()
            raise
        self.context = EvalContext(threads=worker_threads(spec))
        counts = self.store.counts()
        self.n_eval, self.n_fail = sum(counts.values()), counts.get("failed", 0)
        # throughput over every session of the run: this session's clock starts now
        self.throughput = self._before = Throughput.loads(self.store.get_meta(THROUGHPUT))
        self._started, self._evaluated = time.monotonic(), 0
        self._speeds = [r.metrics["gflop_s"] for r, _ in self.cache.values() if r.ok and r.metrics.get("gflop_s")]
        self.retry = retry_failed and self.n_fail > 0
        # retrying: each phenotype's stored failures, retired once it is evaluated again
        self.failed_before: dict[str, list[int]] = {}
        if self.retry:
            for e in self.store.evaluations():
                if e.status == "failed":
                    self.failed_before.setdefault(e.phenotype, []).append(e.id)
        self.weights = WeightBanks(run_dir / "weights")

    def evaluate(self, members: list[Member], generation: int) -> list[Member]:
        """Objectives for every member; each phenotype is evaluated once, ever."""
        self.progress.generation(generation, len(members))
        phen, todo = new_phenotypes(self.template, members, self.cache)
        self.touched.update(phen)
        texts = {i: format_genome(self.template.genome(members[i].lists())) for i in todo}
        for i in range(len(members)):
            if i not in todo:
                self.progress.evaluated(self.cache[phen[i]][0] if phen[i] in self.cache else None, True)

        def store(k: int, result: EvalResult) -> None:
            i = todo[k]
            objs = objectives(self.spec, result)
            self.cache[phen[i]] = (result, objs)
            self.row_of[phen[i]] = self.store.add_evaluation(generation, i, phen[i], texts[i], result, list(objs))
            if self.retry:    # the failure it replaces is no longer the search's, even if this run is killed
                self.store.retire(self.failed_before.get(phen[i], ()))
            if result.ok and result.metrics.get("gflop_s"):
                self._speeds.append(result.metrics["gflop_s"])
            self._evaluated += 1
            self.n_eval += 1
            self.n_fail += result.status == "failed"
            self.progress.evaluated(result, False)

        context = self.context
        if self.spec.fitness.inherit_weights:
            context = replace(context, inherit=WeightBankRef(**self.weights.context(generation)))
        requests = [EvalRequest(texts[i], candidate_seed(self.spec.run.seed, phen[i]), self.spec, context)
                    for i in todo]
        if requests:
            self.backend.map(requests, store)
        if self.spec.fitness.inherit_weights:
            self.weights.update(generation, phen)
        done = [replace(m, objectives=self.cache[p][1]) for m, p in zip(members, phen)]
        self.strategy.observe(done)
        return done

    def _history(self, last: int) -> list[Member]:
        return stored_history(self.store, self.template, last)

    def _restore(self, generation: int) -> list[Member]:
        # a resumed run holds every stored phenotype in its cache (a retry replays from 0)
        return [_member(self.template, text, age, self.cache[ph][1])
                for text, ph, age in self.store.population(generation)]

    def run(self) -> SearchResult:
        s = self.spec.strategy
        # retrying failures replays the search from generation 0: the retried
        # candidates change what the later generations breed from
        last = None if self.retry else self.store.last_generation()
        first = 0 if last is None else last + 1
        retrained = []
        # a strategy that searches itself ends in genomes: they are generation 0, and the last
        own = isinstance(self.strategy, SearchesItself)
        generations = 1 if own else s.generations
        try:
            self.progress.start(generations, first)
            pop = None
            if last is not None:
                self.strategy.observe(self._history(last))
                pop = self._restore(last)
            initial = None
            if own:
                initial = lambda: self.strategy.search(SelfSearchRun(self.spec, self.template, self.run_dir,  # noqa: E731
                                                                     self.progress))
            pop = run_generations(self.strategy, self.spec.run.seed, self.evaluate, population=pop, first=first,
                                  stop=lambda g: g >= generations, before=self._prepare, after=self._save,
                                  initial=initial)
            if self.retry:
                self._retire_unreached()
            from genelang.evolve.run.outputs import write_outputs
            rows = self.store.evaluations()
            if self.spec.fitness.retrain_top and not self.injected:
                from genelang.evolve.run.retrain_top import retrain_top
                retrained = retrain_top(self.run_dir, self.spec, rows, self.store,
                                        getattr(self.progress, "retraining", None))
            outputs = write_outputs(self.run_dir, self.spec, rows)
            top = best_of.best(rows)
        finally:
            self.backend.close()
            self.store.close()     # the last connection: SQLite folds its WAL back in
            self.lock.release()
        return SearchResult(self.run_dir, pop, top.genome if top else None, top.fitness if top else None,
                            self.n_eval, self.n_fail, generations, self.reused_failures, outputs, retrained,
                            self.throughput, first)

    def _retire_unreached(self) -> None:
        """After a replay, the search is what the replay held: evaluations of
        phenotypes it never reached belong to the discarded lineage, and leave
        its best, Pareto set, counts and status."""
        keep = {self.row_of[p] for p in self.touched}
        self.store.retire(e.id for e in self.store.evaluations() if e.id not in keep)
        counts = self.store.counts()
        self.n_eval, self.n_fail = sum(counts.values()), counts.get("failed", 0)

    def _prepare(self, generation: int) -> None:
        """The estimator's step before a generation (e.g. train the supernet the
        candidates share up to where this generation needs it)."""
        prepare = get_estimator(self.spec.fitness.estimator).prepare
        if prepare is not None and not self.injected:
            sampler = self.strategy if isinstance(self.strategy, SamplesPaths) else None
            state = RunState(self.spec, self.run_dir, self.context, sampler)
            self.context = prepare(state, self.progress, generation)

    def _save(self, g: int, pop: list[Member]) -> None:
        rows = []
        for m in pop:
            genome = self.template.genome(m.lists())
            rows.append((format_genome(genome), phenotype_hash(genome), m.age))
        self.store.save_population(g, rows)
        self.throughput = self._before.plus(self._evaluated, time.monotonic() - self._started,
                                            median_gflop_s(self._speeds))
        self.store.set_meta(THROUGHPUT, self.throughput.dumps())
        fits = [r.fitness for r, _ in self.cache.values() if r.ok]
        self.progress.generation_done(g, max(fits) if fits else None)


def _member(template: Template, text: str, age: int, objs: tuple[float, ...]) -> Member:
    from genelang.compiler import load_text
    genome = load_text(text, "<stored genome>").genomes[0]
    return replace(Member.of(template.symbols(genome), age), objectives=objs)


def stored_history(store: Store, template: Template, last: int | None = None) -> list[Member]:
    """Every stored evaluation of generations up to `last` (None: all), in the order
    `observe` saw them: by generation, then by place in it (not by when a worker finished)."""
    rows = sorted((e for e in store.evaluations() if last is None or e.generation <= last),
                  key=lambda e: (e.generation, e.candidate))
    return [_member(template, e.genome, 0, tuple(e.objectives or ())) for e in rows]


def replayed_strategy(spec: Spec, run_dir: Path):
    """The search's strategy as its stored history left it (a controller: the
    policy it trained), without running anything."""
    template = Template.from_spec(spec.space, name=spec.run.name.replace("-", "_"))
    strategy = make_strategy(spec, template)
    store = Store.open_readonly(run_dir / "results.sqlite")
    try:
        strategy.observe(stored_history(store, template))
    finally:
        store.close()
    return strategy


def run_search(spec: Spec, *, base_dir: Path | None = None, progress: Progress | None = None,
               evaluate: Callable | None = None, retry_failed: bool = False,
               preflight: bool = True) -> SearchResult:
    """Run (or resume) the search a spec describes. Returns the final population
    and the run's best genome; everything is also in the run directory.

    `evaluate(genome_text, seed) -> EvalResult | dict` replaces the spec's
    estimator (notebooks, tests). `retry_failed` evaluates again the candidates
    whose stored evaluation failed. Before a new run writes anything, a
    preflight builds one candidate, loads the task's data and runs one batch:
    a spec that cannot work fails there, with its spec path."""
    run_dir = spec.run_dir(base_dir)
    if preflight and evaluate is None and not (run_dir / "results.sqlite").exists():
        from genelang.evolve.execution.preflight import preflight as check
        check(spec)
    return Search(spec, run_dir, progress, evaluate, retry_failed).run()
