"""The run page's data, its static report, its server (what it refuses to
serve) and its CLI. The browser's view of it: test_run_page_browser.py."""
import http.client
import json
import math
import os
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import genelang
from genelang.cli import cli
from genelang.evolve.execution.evaluation import EvalResult
from genelang.evolve.run.store import Store
from genelang.report import cell, run_page_data, write_report
from genelang.runtime.supernet_curve import log_step, read_curve
from tests.run_page_helpers import finished_run, serving


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("runs"))


def _db(run_dir: Path) -> list[tuple]:
    return list(sqlite3.connect(run_dir / "results.sqlite").execute(
        "SELECT id, generation, status, fitness, reason FROM evaluations ORDER BY id"))


def test_the_data_is_the_databases(run_dir):
    page = run_page_data(str(run_dir))
    rows = _db(run_dir)
    assert [(r.id, r.generation, r.status, r.fitness, r.reason) for r in page.evaluations] == rows
    p = page.progress
    assert (p.evaluations, p.ok, p.failed, p.infeasible) == (
        len(rows), *(sum(r[2] == s for r in rows) for s in ("ok", "failed", "infeasible")))
    assert p.failed and p.infeasible and p.running_pid is None and p.generations_done == p.generations == 3
    run = genelang.load_run(run_dir)
    assert page.best == run.best.id and page.pareto == [e.id for e in run.pareto]
    ok = [r for r in rows if r[2] == "ok"]
    assert page.generations[-1].best_so_far == max(r[3] for r in ok)
    assert sum(g.evaluations for g in page.generations) == len(rows)
    assert {f.reason for f in page.failures} == {"RuntimeError: boom </script><b>not markup</b>",
                                                 "9999 parameters > max_params 5000"}
    assert page.best_cell.evaluation == page.best and "digraph" in page.best_cell.dot
    assert "best.gene" in page.files and "pareto/000.gene" in page.files
    assert not any(f.startswith("results.sqlite") or f.startswith(".") for f in page.files)
    data = json.loads(page.to_json())     # strict JSON: a failure's -inf objectives are null
    assert all(v is None or math.isfinite(v) for e in data["evaluations"] for v in e["objectives"] or [])


def test_reading_leaves_the_run_directory_as_it_was(run_dir):
    before = sorted(os.listdir(run_dir))
    run_page_data(run_dir)
    assert sorted(os.listdir(run_dir)) == before      # no -wal / -shm left behind by the reader


def test_the_static_report_is_one_self_contained_file(run_dir, tmp_path):
    out = write_report(run_dir, tmp_path / "r" / "report.html")
    html = out.read_text()
    # nothing fetched from elsewhere (the SVG namespace URIs are names, not requests)
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|@import|url\(|fetch\(\"http", html)
    assert 'data-mode="static"' in html
    # a reason holding "</script>" stays inside the JSON
    assert html.count("</script>") == 2 and "boom \\u003c/script>" in html
    assert not list((tmp_path / "r").glob(".*tmp*"))


def test_without_graphviz_the_cell_is_its_dot_text(run_dir, monkeypatch):
    monkeypatch.setattr(cell.shutil, "which", lambda name: None)
    cell._svg.cache_clear()
    try:
        drawing = run_page_data(run_dir).best_cell
    finally:
        cell._svg.cache_clear()
    assert drawing.svg is None and "not installed" in drawing.note and drawing.dot.startswith("digraph")


def test_the_supernet_curve_log_survives_a_torn_line_and_a_resume(tmp_path):
    for step, loss in ((1, 2.5), (2, 2.25), (3, 2.0)):
        log_step(tmp_path, step, loss)
    log_step(tmp_path, 3, 1.9)                          # resumed from the checkpoint at step 2
    with open(tmp_path / "curve.csv", "a") as f:
        f.write("4,1.")                                 # killed mid-line
    assert [(p.step, p.loss) for p in read_curve(tmp_path)] == [(1, 2.5), (2, 2.25), (3, 1.9)]


def _get(url: str, raw_path: str) -> tuple[int, bytes]:
    """A request with the path exactly as given (a client library would normalise `..`)."""
    host, port = url.split("//")[1].strip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("GET", raw_path, skip_host=False, skip_accept_encoding=True)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def test_the_server_serves_the_run_and_nothing_outside_it(run_dir):
    secret = run_dir.parent / "secret.txt"
    secret.write_text("SECRET")
    link = run_dir / "leak.txt"
    link.symlink_to(secret)
    try:
        with serving(run_dir) as url:
            assert url.startswith("http://127.0.0.1:")
            status, body = _get(url, "/")
            assert status == 200 and b'data-mode="live"' in body
            status, body = _get(url, "/api/run.json")
            assert status == 200 and json.loads(body)["progress"]["evaluations"] == len(_db(run_dir))
            rows = _db(run_dir)
            status, body = _get(url, f"/api/run.json?after={rows[-4][0]}")     # what a polling page lacks
            newer = json.loads(body)
            assert newer["after"] == rows[-4][0] and [e["id"] for e in newer["evaluations"]] == [r[0] for r in rows[-3:]]
            assert newer["progress"]["evaluations"] == len(rows)
            status, body = _get(url, "/files/best.gene")
            assert status == 200 and body == (run_dir / "best.gene").read_bytes()
            for path in ("/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/pareto/../../secret.txt",
                         f"/files/{secret}", f"/files/%2F{str(secret).lstrip('/')}", "/files//etc/passwd",
                         "/../secret.txt", "/files/leak.txt", "/files/..%5Csecret.txt", "/files/pareto"):
                status, body = _get(url, path)
                assert status == 404 and b"SECRET" not in body and b"root:" not in body, path
    finally:
        link.unlink()


def test_a_search_writing_200_evaluations_while_the_page_polls_stores_all_200(tmp_path):
    """The page reads through its own read-only connections: the writer is never
    refused ("database is locked") and loses nothing."""
    import urllib.request
    run_dir = tmp_path / "live"
    with Store(run_dir / "results.sqlite") as store:
        store.add_evaluation(0, 0, "p0", "genome text 0", EvalResult("ok", 0.0), [0.0])
    errors, seen = [], []

    def write():     # as a search does: one connection, a commit per evaluation
        try:
            with Store(run_dir / "results.sqlite") as store:
                for i in range(1, 200):
                    store.add_evaluation(i // 20, i % 20, f"p{i}", f"genome text {i}", EvalResult("ok", i / 200),
                                         [i / 200])
                    time.sleep(0.01)   # about two seconds of writing: several polls meet it
        except Exception as err:   # noqa: BLE001 - the test reports it
            errors.append(err)

    with serving(run_dir) as url:
        writer = threading.Thread(target=write)
        writer.start()
        while writer.is_alive():
            with urllib.request.urlopen(url + "api/run.json", timeout=10) as r:
                seen.append(json.loads(r.read())["progress"]["evaluations"])
        writer.join()
        with urllib.request.urlopen(url + "api/run.json", timeout=10) as r:
            final = json.loads(r.read())["progress"]["evaluations"]
    assert not errors
    assert sqlite3.connect(run_dir / "results.sqlite").execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] == 200
    assert final == 200 and len(seen) >= 3 and seen == sorted(seen) and seen[0] < 200


@pytest.mark.parametrize("args,message", [
    (["serve", "{missing}"], "not a run directory"),
    (["report", "{missing}", "-o", "{tmp}/r.html"], "not a run directory"),
    (["serve", "{run}", "--port", "70000"], "70000"),
    (["serve", "{run}", "--port", "-1"], "-1"),
    (["serve", "{run}", "--host", "256.1.1.1", "--port", "0"], "cannot serve on 256.1.1.1"),
    (["report", "{run}", "-o", "/proc/nope/r.html"], "cannot write"),
])
def test_bad_input_is_a_message_and_exit_code_2(run_dir, tmp_path, args, message):
    fill = {"missing": str(tmp_path / "nope"), "tmp": str(tmp_path), "run": str(run_dir)}
    res = CliRunner().invoke(cli, [a.format(**fill) for a in args])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


def test_a_port_in_use_is_a_message_and_exit_code_2(run_dir):
    with serving(run_dir) as url:
        port = url.rsplit(":", 1)[1].strip("/")
        res = CliRunner().invoke(cli, ["serve", str(run_dir), "--port", port])
    assert res.exit_code == 2 and "cannot serve on 127.0.0.1:" in res.output


def test_the_report_command_writes_the_page(run_dir, tmp_path):
    res = CliRunner().invoke(cli, ["report", str(run_dir), "-o", str(tmp_path / "shared.html")])
    assert res.exit_code == 0, res.output
    assert "genelang run page" in (tmp_path / "shared.html").read_text()


def test_a_one_shot_search_shows_its_supernet_training_curve(tmp_path):
    """The step before generation 0 of a one-shot search trains the supernet and logs each step's loss."""
    from types import SimpleNamespace

    from genelang.evolve.estimators import oneshot as one_shot
    from genelang.evolve.execution.evaluation import EvalContext, RunState
    from tests.test_oneshot_search import oneshot
    spec = oneshot(tmp_path, "curve", generations=1)
    run_dir = tmp_path / "curve"
    shown = []
    progress = SimpleNamespace(supernet_step=lambda step, total, loss: shown.append(step))
    one_shot.prepare(RunState(spec, run_dir, EvalContext()), progress, 0)
    with Store(run_dir / "results.sqlite"):
        pass                                       # a run directory, as the search makes it
    curve = run_page_data(run_dir).supernet_curve
    assert [p.step for p in curve] == shown == list(range(1, spec.supernet.steps + 1))
    assert all(math.isfinite(p.loss) and p.loss > 0 for p in curve)
