"""The run page in a real browser: headless Chromium (Debian's `chromium`,
installed by `make data`) renders the page of a finished run and of a
running one; the test reads the rendered DOM back and checks its numbers
against the database, and saves a screenshot."""
import sqlite3
import time

import pytest

from genelang.evolve.execution.evaluation import EvalResult
from genelang.evolve.run.runlock import RunLock
from genelang.evolve.run.store import Store
from genelang.report import write_report
from tests.run_page_helpers import Dom, chromium, dump_dom, finished_run, screenshot, serving

pytestmark = pytest.mark.skipif(chromium() is None, reason="needs Chromium (apt-get install chromium; make data)")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _check_against_database(dom: Dom, run_dir) -> list[tuple]:
    db = sqlite3.connect(run_dir / "results.sqlite")
    rows = list(db.execute("SELECT id, status, fitness, seconds, metrics FROM evaluations ORDER BY id"))
    count = lambda s: sum(r[1] == s for r in rows)
    assert _number(dom.text["n-evaluations"]) == len(rows)
    for status in ("ok", "failed", "infeasible"):
        assert _number(dom.text[f"n-{status}"]) == count(status), status
    assert sorted(dom.rows) == [r[0] for r in rows]
    for rid, status, fitness, seconds, _ in rows:
        cells = dom.rows[rid]
        assert cells["status"]["text"] == status
        assert (float(cells["fitness"]["value"]) if cells["fitness"]["value"] else None) == fitness
        assert float(cells["seconds"]["value"]) == pytest.approx(seconds) if seconds is not None else True
    ok = [r for r in rows if r[1] == "ok"]
    if ok:
        assert float(dom.attrs["best-fitness"]["data-value"]) == max(r[2] for r in ok)
        assert {int(p["data-id"]) for p in dom.points} <= {r[0] for r in ok}
    return rows


def test_the_page_of_a_finished_run_shows_the_databases_numbers(tmp_path):
    run_dir = finished_run(tmp_path)
    page = write_report(run_dir, tmp_path / "report.html")
    html = dump_dom(page.as_uri())
    dom = Dom(html)
    rows = _check_against_database(dom, run_dir)
    assert dom.text["state"] == "not running"
    assert dom.text["generations-done"] == "3" and dom.text["generations-total"] == " / 3"
    assert "RuntimeError: boom </script><b>not markup</b>" in dom.text["failures"]   # text, never markup
    assert "<svg" in html.split('id="cell"')[1][:400]             # the best cell, drawn
    assert any("front" in p.get("class", "") for p in dom.points)
    assert len(rows) and dom.text["picked"].startswith("genome ")
    shot = screenshot(page.as_uri(), tmp_path / "finished.png")
    assert shot.stat().st_size > 10_000


def test_the_live_page_of_a_running_search_shows_the_databases_numbers(tmp_path):
    """A search in progress: its lock held, evaluations still arriving."""
    run_dir = tmp_path / "running"
    lock = RunLock(run_dir)
    try:
        with Store(run_dir / "results.sqlite") as store:
            store.set_meta("spec", "run: {name: running}\nstrategy: {name: gep, generations: 5}\n")
            for i in range(12):
                result = (EvalResult("ok", 0.5 + i / 100, metrics={"params": 1000 + 10 * i}, seconds=0.5)
                          if i % 4 else EvalResult.failed("worker died: killed", seconds=0.1))
                store.add_evaluation(i // 6, i % 6, f"p{i}", f"genome g{i} on conv {{\n}}\n", result, [0.5 + i / 100])
                time.sleep(0.01)
            store.save_population(0, [("genome g1 on conv {\n}\n", "p1", 0)])
            with serving(run_dir) as url:
                dom = Dom(dump_dom(url))
                _check_against_database(dom, run_dir)
                screenshot(url, tmp_path / "running.png")
    finally:
        lock.release()
    assert dom.text["state"].startswith("running (pid ")
    assert dom.text["generations-done"] == "1" and dom.text["generations-total"] == " / 5"
    assert "worker died: killed" in dom.text["failures"]


def test_clicking_a_point_shows_its_genome_and_clicking_a_header_sorts(tmp_path):
    """The page's own handlers, driven by click events a script appended to the report dispatches."""
    run_dir = finished_run(tmp_path)
    page = write_report(run_dir, tmp_path / "report.html")
    clicks = ("<script>const c = document.querySelector('circle.pt:not(.front)');"
              "document.body.dataset.clicked = c.dataset.id;"
              "c.dispatchEvent(new MouseEvent('click', {bubbles: true}));"
              "document.querySelector('th[data-key=fitness]').dispatchEvent(new MouseEvent('click', {bubbles: true}));"
              "</script></body>")
    clicked = tmp_path / "clicked.html"
    clicked.write_text(page.read_text().replace("</body>", clicks))
    html = dump_dom(clicked.as_uri())
    dom = Dom(html)
    picked = int(html.split('data-clicked="')[1].split('"')[0])
    db = sqlite3.connect(run_dir / "results.sqlite")
    genome, fitness = db.execute("SELECT genome, fitness FROM evaluations WHERE id = ?", (picked,)).fetchone()
    assert dom.text["picked"] == genome and f"#{picked}," in dom.text["picked-title"]
    shown = [float(c["fitness"]["value"]) for c in dom.rows.values() if c["fitness"]["value"]]
    assert shown == sorted(shown, reverse=True)          # fittest first after one click on "fitness"
    assert list(dom.rows)[: len(shown)] == [r for (r,) in db.execute(
        "SELECT id FROM evaluations WHERE fitness IS NOT NULL ORDER BY fitness DESC, id")]


def test_the_live_page_follows_a_search_that_is_writing(tmp_path, monkeypatch):
    """Evaluations arrive only once the page is loaded (with one): its polls
    (only the rows it lacks, merged) bring the count and the table along."""
    import threading

    from genelang.report import server
    from tests.run_page_helpers import _chromium
    run_dir = tmp_path / "writing"
    with Store(run_dir / "results.sqlite") as store:
        store.add_evaluation(0, 0, "p0", "genome g0", EvalResult("ok", 0.1), [0.1])
    loaded, render = threading.Event(), server.render_page

    def render_then_start_writing(*args, **kwargs):
        page = render(*args, **kwargs)
        loaded.set()
        return page

    monkeypatch.setattr(server, "render_page", render_then_start_writing)

    def write():
        loaded.wait(30)
        with Store(run_dir / "results.sqlite") as store:
            for i in range(1, 40):
                store.add_evaluation(i // 10, i % 10, f"p{i}", f"genome g{i}", EvalResult("ok", i / 100), [i / 100])
                time.sleep(0.02)

    with serving(run_dir) as url:
        writer = threading.Thread(target=write)
        writer.start()
        # the page's clock runs on virtual time: its two-second polls come quickly
        done = _chromium(url, "--dump-dom", "--virtual-time-budget=20000")
        writer.join()
    dom = Dom(done.stdout)
    shown = int(dom.text["n-evaluations"])
    assert 1 < shown <= 40 and sorted(dom.rows) == list(range(1, shown + 1))
