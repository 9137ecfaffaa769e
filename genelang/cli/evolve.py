"""`genelang evolve` and `genelang spec init|check`."""
from __future__ import annotations

import dataclasses
import json
import time
from functools import partial
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
    TimeRemainingColumn

from genelang.atomic import atomic_write
from genelang.cli.group import cli
from genelang.cli._common import ensure_writable, err, handle_errors, out, sigterm_as_interrupt


class _RichProgress:
    def __init__(self, console_progress: Progress, population: int):
        self.p = console_progress
        self.population = population
        self.failures = 0
        self.best: float | None = None
        # the preflight (data, one candidate) comes before the search's first word: minutes, on a large task
        self.prep = self.p.add_task("preparing", total=None, info="preflight: loading data, one candidate")

    def start(self, total: int, first: int) -> None:
        self.p.remove_task(self.prep)
        self.gen = self.p.add_task("generations", total=total, completed=first, info="")
        self.ev = self.p.add_task("evaluations", total=None, info="")

    def generation(self, g: int, n: int) -> None:
        self.p.reset(self.ev, total=n, description=f"generation {g}", info="")

    def evaluated(self, result, cached: bool) -> None:
        self.failures += (not cached) and result.status == "failed"
        self.p.advance(self.ev)
        self.p.update(self.ev, info=f"failures {self.failures}")

    def generation_done(self, g: int, best: float | None) -> None:
        self.best = best if best is not None else self.best
        self.p.update(self.gen, completed=g + 1,
                      info=f"best {self.best:.4g}" if self.best is not None else "")

    def supernet_step(self, step: int, total: int, loss: float) -> None:
        if not hasattr(self, "sn"):
            self.sn = self.p.add_task("supernet", total=total, completed=step - 1, info="")
        self.p.update(self.sn, completed=step, info=f"loss {loss:.3f}")

    def retraining(self, done: int, total: int) -> None:
        if not hasattr(self, "re"):
            self.re = self.p.add_task("retraining top", total=total, info="")
        self.p.update(self.re, completed=done,
                      info=f"training candidate {done + 1} of {total} from scratch" if done < total else "")


class _JsonProgress:
    def _emit(self, **kw):
        print(json.dumps(kw), flush=True)

    def start(self, total, first):
        self._emit(event="start", generations=total, first=first)

    def generation(self, g, n):
        self._emit(event="generation", generation=g, candidates=n)

    def evaluated(self, result, cached):
        if not cached:
            self._emit(event="evaluation", status=result.status, fitness=result.fitness,
                       reason=result.reason, seconds=result.seconds)

    def generation_done(self, g, best):
        self._emit(event="generation_done", generation=g, best=best)

    def supernet_step(self, step, total, loss):
        if step % 50 == 0 or step == total:
            self._emit(event="supernet", step=step, steps=total, loss=loss)

    def retraining(self, done, total):
        self._emit(event="retraining", done=done, total=total)


@cli.command()
@click.argument("spec_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--resume/--fresh", default=True, show_default=True,
              help="Continue the run in the spec's run directory (default), or refuse to touch one that exists.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Run directory (overrides run.out).")
@click.option("--quiet", is_flag=True, help="No progress display; print only the summary.")
@click.option("--json", "as_json", is_flag=True, help="Progress and summary as JSON lines.")
@click.option("--retry-failed", is_flag=True,
              help="Evaluate again the candidates whose stored evaluation failed (after fixing their cause, "
                   "e.g. the data); the search replays from generation 0, reusing every success.")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="Torch threads per worker (default: the cores shared among the workers).")
def evolve(spec_file: Path, resume: bool, out_dir: Path | None, quiet: bool, as_json: bool,
           retry_failed: bool, threads: int | None) -> None:
    """Run a search described by a YAML spec; rerun to resume after a kill.

    Every evaluation is stored in RUN_DIR/results.sqlite as soon as it
    finishes; rerunning the same spec continues from the last complete
    generation without evaluating anything twice. Outputs: best.gene,
    pareto/*.gene, history.csv, fitness.png, pareto.png, spec.yaml. The best
    is the successful candidate of highest fitness; other objectives form the
    Pareto set beside it. Exits 1 if no candidate succeeded.
    """
    from genelang.errors import SpecError
    from genelang.evolve.search import run_search
    from genelang.evolve.spec.schema import load_spec

    t0 = time.time()
    with handle_errors(as_json), sigterm_as_interrupt():
        spec = load_spec(spec_file)
        if out_dir is not None:
            spec = spec.model_copy(update={"run": spec.run.model_copy(update={"out": str(out_dir)})})
        if threads is not None:
            spec = spec.model_copy(update={"execution": spec.execution.model_copy(update={"threads": threads})})
        run_dir = spec.run_dir()
        ensure_writable(run_dir, "--out" if out_dir is not None else "run.out")
        if not resume and (run_dir / "results.sqlite").exists():
            raise SpecError.at("spec", f"{run_dir} already holds a run", str(run_dir),
                               hint="drop --fresh to resume it, or choose another run.out")
        run = partial(run_search, spec, retry_failed=retry_failed)
        if as_json:
            result = run(progress=_JsonProgress())
        elif quiet:
            result = run()
        else:
            out.print(f"run directory: {run_dir}  (rerun to resume; watch from elsewhere with "
                      f"`genelang status {run_dir} --watch`)", markup=False)
            _evidence_note(spec)
            cols = [TextColumn("{task.description:>14}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}")]
            with Progress(*cols, console=out, transient=False) as p:
                result = run(progress=_RichProgress(p, spec.strategy.population))
    summary = {"run_dir": str(result.run_dir), "best_fitness": result.best_fitness,
               "best_genome": result.best_genome, "evaluations": result.evaluations,
               "failures": result.failures, "reused_failures": result.reused_failures,
               "generations_before": result.generations_before,
               "seconds": round(time.time() - t0, 1),
               "outputs": {k: str(v) for k, v in result.outputs.items()},
               "retrained": [dataclasses.asdict(r) for r in result.retrained],
               "candidates_per_hour": result.throughput and result.throughput.per_hour,
               "gflop_s": result.throughput and result.throughput.gflop_s}
    if as_json:
        print(json.dumps({"event": "done", **summary}))
    else:
        out.print(f"[bold]best fitness[/bold] {result.best_fitness}  "
                  f"({result.evaluations} evaluations, {result.failures} failed) in {summary['seconds']} s")
        out.print(f"run directory: {result.run_dir}")
        _note_nothing_searched(result, spec.strategy.generations)
        if result.throughput is not None:
            out.print(result.throughput.line())
        for r in result.retrained:
            out.print(f"evaluation {r.id}: fitness {r.fitness:.4g}, retrained from scratch {r.retrained_fitness}")
        if "best_retrained" in result.outputs:
            out.print(f"best once retrained: {result.outputs['best_retrained']}")
        if result.reused_failures and not retry_failed:
            out.print(f"[yellow]note[/yellow]: {result.reused_failures} stored failure(s) were taken as they were; "
                      "if their cause is gone, rerun with --retry-failed", markup=True)
        if not quiet and result.best_genome:
            out.print(result.best_genome, markup=False)
    if result.best_fitness is None:
        err.print("[red]error[/red]: no candidate succeeded; see the failure reasons with "
                  f"`genelang status {result.run_dir}`")
        raise SystemExit(1)


def _note_nothing_searched(result, generations: int) -> None:
    """A rerun of a run that already holds its generations (or more: a run is
    never cut back) evaluates nothing; the summary above is the stored run's."""
    held = result.generations_before
    if held < generations:
        return
    more = (f", more than strategy.generations ({generations}); a search is never shortened: for a "
            f"{generations}-generation search set run.out to a new directory" if held > generations else "")
    out.print(f"[yellow]note[/yellow]: nothing was searched: the run directory already holds {held} complete "
              f"generation(s){more}. The summary is the stored run's.")


@cli.group()
def spec() -> None:
    """Write or validate search specs."""


STARTER = Path(__file__).resolve().parents[1] / "evolve" / "spec" / "starter.yaml"


@spec.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="spec.yaml")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def spec_init(path: Path, force: bool) -> None:
    """Write a commented starter spec."""
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite")
    atomic_write(path, STARTER.read_text())
    out.print(f"wrote {path}; check it with `genelang spec check {path}`")


@spec.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def spec_check(path: Path) -> None:
    """Validate a spec: every error with its spec path; exit 2 if invalid."""
    from genelang.evolve.spec.schema import load_spec
    with handle_errors():
        s = load_spec(path)
    from genelang.evolve.estimators import get_estimator
    on = f" on {s.task.name}" if get_estimator(s.fitness.estimator).builds_model else ""
    from genelang.evolve.strategies.self_search import SearchesItself
    from genelang.evolve.strategies import strategies
    what = (f"{s.strategy.name}, a search that ends in genomes"
            if issubclass(strategies()[s.strategy.name], SearchesItself) else
            f"{s.strategy.name} search of {s.strategy.generations} generation(s) × {s.strategy.population}")
    out.print(f"[green]ok[/green]: {what}, estimator {s.fitness.estimator}{on}, run directory {s.run_dir()}")
    _evidence_note(s)


def _evidence_note(s) -> None:
    from genelang.evolve.estimators.evidence import below_params
    known = below_params(s.space.space, s.fitness.estimator)
    if known is not None:
        out.print(f"[yellow]note[/yellow]: {known.note()}", markup=True)


def _status_view(st):
    from rich.console import Group
    from rich.table import Table

    state = (f"[green]running[/green] (pid {st.running_pid})" if st.running_pid
             else "[dim]not running[/dim]")
    gens = f"{st.generations_done}/{st.generations}" if st.generations else str(st.generations_done)
    lines = [f"[bold]{st.name}[/bold]  {st.run_dir}  {state}",
             f"generations complete {gens}   evaluations {st.evaluations} "
             f"(ok {st.ok}, failed {st.failed}, infeasible {st.infeasible})"]
    if st.seconds_per_evaluation is not None:
        lines.append(f"{st.seconds_per_evaluation:.1f} s per evaluation; last one "
                     f"{st.last_evaluation_ago:.0f} s ago")
    if st.throughput is not None:
        lines.append(st.throughput.line())
    table = Table(title="best so far", title_justify="left")
    for col in ("#", "fitness", "params", "generation", "phenotype"):
        table.add_column(col, justify="right" if col != "phenotype" else "left")
    for i, r in enumerate(st.top):
        table.add_row(str(i + 1), f"{r['fitness']:.4g}", str(r["params"] or ""), str(r["generation"]),
                      r["phenotype"])
    parts = ["\n".join(lines), table]
    if st.failure_reasons:
        fails = Table(title="failures", title_justify="left")
        fails.add_column("count", justify="right")
        fails.add_column("reason")
        for reason, n in st.failure_reasons:
            fails.add_row(str(n), reason)
        parts.append(fails)
    return Group(*parts)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--top", default=5, show_default=True, type=click.IntRange(1), help="How many of the best to list.")
@click.option("--watch", "watch", type=float, default=None, is_flag=False, flag_value=5.0, metavar="SECONDS",
              help="Refresh every SECONDS (default 5) until the search ends or Ctrl-C.")
@click.option("--genome", "show_genome", is_flag=True, help="Print the best genome's text too.")
@click.option("--json", "as_json", is_flag=True, help="The status as one JSON object.")
@click.option("--csv", "as_csv", is_flag=True,
              help="Every evaluation as CSV (id, generation, status, fitness, params, genome text, ...); "
                   "in Python: genelang.load_run(RUN_DIR).")
def status(run_dir: Path, top: int, watch: float | None, show_genome: bool, as_json: bool, as_csv: bool) -> None:
    """Show a search's progress from its run directory, also while it runs.

    Only reads RUN_DIR/results.sqlite, so it is safe beside a running search
    (`--watch` refreshes until the search has finished): generations complete,
    evaluations (ok / failed / infeasible), the best genomes so far, the
    commonest failure reasons, and whether a search process holds the run.
    """
    from genelang.evolve.run.status import run_status

    with handle_errors(as_json):
        if as_csv:
            from genelang.evolve.run.outputs import history_csv
            from genelang.evolve.run.status import open_run
            with open_run(run_dir) as store:
                rows = store.evaluations()
            click.echo(history_csv(rows), nl=False)
            return
        st = _first_status(run_dir, top, watch) if watch else run_status(run_dir, top)
        if st is None:
            return
        if as_json:
            record = dataclasses.asdict(st)
            if st.throughput is not None:
                record["throughput"]["candidates_per_hour"] = st.throughput.per_hour
            print(json.dumps(record))
            return
        if watch:
            from rich.live import Live
            try:
                with Live(_status_view(st), console=out, refresh_per_second=1) as live:
                    while st.running_pid or st.generations_done < (st.generations or 0):
                        time.sleep(watch)
                        st = run_status(run_dir, top)
                        live.update(_status_view(st))
            except KeyboardInterrupt:
                return
        else:
            out.print(_status_view(st))
        if show_genome and st.best:
            out.print(st.best["genome"], markup=False)


NEW_RUN_GRACE = 30.0   # seconds a database that just appeared may take to become readable


def _first_status(run_dir: Path, top: int, every: float):
    """`--watch`'s first status. A search writes its database only after its
    preflight (loading data, building a candidate), which can take minutes:
    watching started meanwhile waits for it, and for its first tables, instead
    of refusing the directory. None when Ctrl-C ended the wait."""
    from genelang.errors import SpecError
    from genelang.evolve.run.status import run_status
    db = run_dir / "results.sqlite"
    if db.exists():
        return run_status(run_dir, top)
    err.print(f"waiting for a search to start writing {db} (Ctrl-C stops)", markup=False)
    appeared = None
    try:
        while True:
            if db.exists():
                try:
                    return run_status(run_dir, top)
                except SpecError:      # created but not yet written: unreadable for a moment
                    appeared = appeared or time.monotonic()
                    if time.monotonic() - appeared > NEW_RUN_GRACE:
                        raise
            time.sleep(every)
    except KeyboardInterrupt:
        return None
