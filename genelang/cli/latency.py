"""`genelang latency SPEC`: build or extend the spec's latency table."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from genelang.cli.group import cli
from genelang.cli._common import handle_errors, out


@cli.command()
@click.argument("spec_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--table", type=click.Path(dir_okay=False), help="The table file (overrides fitness.latency.table).")
@click.option("--device", help="cpu, cuda or cuda:N (overrides fitness.latency.device).")
@click.option("--threads", type=click.IntRange(1), help="CPU threads (overrides fitness.latency.threads).")
@click.option("--batch", type=click.IntRange(1), help="Batch size (overrides fitness.latency.batch).")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def latency(spec_file: Path, table: str | None, device: str | None, threads: int | None, batch: int | None,
            as_json: bool) -> None:
    """Measure the latency table a spec's search reads (`-latency`,
    `fitness.max_latency_ms`): each (layer position, block, input shape) of a
    chain space, its stem and head, timed inside whole networks on this device,
    the median of `fitness.latency.repeats` after warm-up. Entries already in the
    table for this device, torch version, threads and batch are reused; a table
    of another device or thread count is kept apart and never read. Spaces
    without per-layer entries are timed end to end, per candidate, during the search.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from genelang.evolve.spec.schema import load_spec
    from genelang.runtime.latency.build import build_table

    with handle_errors(as_json):
        spec = load_spec(spec_file)
        update = {k: v for k, v in (("table", table), ("device", device), ("threads", threads), ("batch", batch))
                  if v is not None}
        cfg = type(spec.fitness.latency).model_validate({**spec.fitness.latency.model_dump(), **update})
        task, model = spec.configs()
        if as_json:
            report = build_table(cfg, spec.space.space, task, model)
        else:
            cols = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
            with Progress(*cols, console=out) as bar:
                job = bar.add_task(f"timing {spec.space.space} entries", total=None)
                report = build_table(cfg, spec.space.space, task, model,
                                     progress=lambda done, total: bar.update(job, completed=done, total=total))
    if as_json:
        print(json.dumps(dataclasses.asdict(report)))
        return
    out.print(f"{report.path}: {report.key}", markup=False)
    if report.end_to_end:
        out.print(f"the {spec.space.space} space is timed end to end: each candidate once, during the search")
    else:
        out.print(f"{report.entries} entries: {report.measured} measured now, {report.reused} reused")
    for k in report.other_keys:
        out.print(f"  also in the file (not read here): {k}", markup=False)
