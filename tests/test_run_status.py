"""Watching a run: `genelang status` reads a live run without disturbing it,
and a second search on the same run directory is refused while one runs."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml
from click.testing import CliRunner

from genelang.cli import cli
from genelang.errors import SpecError
from genelang.evolve.run.runlock import holder
from genelang.evolve.search import run_search
from genelang.evolve.spec.schema import load_spec, parse_spec
from tests.evolve_helpers import fake_fitness
from tests.test_evolve_search import KILLER, ROOT, spec_dict


def _wait_for(db_path, n, deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        if db_path.exists():
            try:
                if sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] >= n:
                    return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    raise AssertionError("the search did not start")


def test_status_of_a_running_search_and_the_run_lock(tmp_path):
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(spec_dict(tmp_path, "live", generations=50)))
    script = tmp_path / "run.py"
    script.write_text(KILLER.format(root=str(ROOT)))
    proc = subprocess.Popen([sys.executable, str(script), str(path), "0.1"])
    run_dir = tmp_path / "live"
    try:
        _wait_for(run_dir / "results.sqlite", 3)
        assert holder(run_dir) == proc.pid
        with pytest.raises(SpecError, match=f"another search is running .*pid {proc.pid}"):
            run_search(load_spec(path), evaluate=fake_fitness)
        res = CliRunner().invoke(cli, ["evolve", str(path), "--quiet"])
        assert res.exit_code == 2 and "another search is running" in res.output
        res = CliRunner().invoke(cli, ["status", str(run_dir), "--json"])
        assert res.exit_code == 0, res.output
        st = json.loads(res.output)
        assert st["running_pid"] == proc.pid and st["generations"] == 50 and st["evaluations"] >= 3
        assert st["ok"] == st["evaluations"] and st["best"]["fitness"] == max(r["fitness"] for r in st["top"])
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert holder(run_dir) is None        # a killed search leaves no stale lock
    res = CliRunner().invoke(cli, ["status", str(run_dir)])
    assert res.exit_code == 0 and "not running" in res.output and "best so far" in res.output


def test_status_lists_failures_and_the_best_genome(tmp_path):
    def sometimes_fails(text, seed):
        r = fake_fitness(text, seed)
        if r["fitness"] < 0.3:
            raise RuntimeError("out of memory")
        return r

    result = run_search(parse_spec(spec_dict(tmp_path, "f")), evaluate=sometimes_fails)
    db = sqlite3.connect(result.run_dir / "results.sqlite")
    failed = db.execute("SELECT COUNT(*) FROM evaluations WHERE status = 'failed'").fetchone()[0]
    db.close()
    assert failed > 0
    res = CliRunner().invoke(cli, ["status", str(result.run_dir), "--json", "--top", "3"])
    st = json.loads(res.output)
    assert st["failed"] == failed and st["failure_reasons"] == [["RuntimeError: out of memory", failed]]
    assert len(st["top"]) == 3 and [r["fitness"] for r in st["top"]] == sorted(
        (r["fitness"] for r in st["top"]), reverse=True)
    assert st["generations_done"] == 4 and st["running_pid"] is None
    res = CliRunner().invoke(cli, ["status", str(result.run_dir), "--genome"])
    assert res.exit_code == 0 and st["best"]["genome"].strip().splitlines()[-1].strip() in res.output
    res = CliRunner().invoke(cli, ["status", str(result.run_dir), "--watch", "0.1"])
    assert res.exit_code == 0 and "generations complete 4/4" in res.output   # a finished run: no waiting
    assert sorted(p.name for p in result.run_dir.glob("results.sqlite*")) == ["results.sqlite"]
    res = CliRunner().invoke(cli, ["status", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "not a run directory" in res.output


POOL = """
import sys
sys.path.insert(0, {root!r})
from genelang.evolve.execution.backends import Backend, PoolExecutor
from genelang.evolve.execution.evaluation import EvalRequest
from tests.evolve_helpers import report_pid_then_sleep
if __name__ == "__main__":   # spawned workers import this file
    pool = Backend(PoolExecutor(2), report_pid_then_sleep)
    pool.map([EvalRequest(sys.argv[1], s) for s in (0, 0, 60, 60)], lambda i, r: None)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is gone for our purpose
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_killing_a_search_takes_its_pool_workers_with_it(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "pool.py"
    script.write_text(POOL.format(root=str(ROOT)))
    proc = subprocess.Popen([sys.executable, str(script), str(pids)])
    end = time.time() + 60
    while len(list(pids.iterdir())) < 2 and time.time() < end:
        time.sleep(0.05)
    workers = [int(p.name) for p in pids.iterdir()]
    assert len(workers) == 2 and all(_alive(w) for w in workers)
    proc.kill()
    proc.wait()
    end = time.time() + 10
    while any(_alive(w) for w in workers) and time.time() < end:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
