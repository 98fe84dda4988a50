"""Smoke test of ``python bench/run.py`` (``make bench``) at tiny sizes, and of its measuring parts (no timing asserts)."""
from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from _paths import REPO


def _load_bench():
    """The bench harness (bench/run.py, outside the installed package) as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("seal_bench_run", REPO / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def test_synthetic_requests_parquet_and_jsonl(tmp_path):
    from ecologits.model_repository import models

    paths = bench.write_synthetic(500, tmp_path)
    table = pq.read_table(paths["parquet"])
    assert table.num_rows == 500
    assert set(table.column_names) == {"request_id", "model", "gpu", "region", "input_tokens", "output_tokens"}
    frame = table.to_pandas()
    assert frame["request_id"].is_unique
    assert (frame["input_tokens"] >= 1).all() and (frame["output_tokens"] >= 1).all()
    catalogue = {m.name for m in models.list_models()}
    assert set(frame["model"]) <= catalogue and frame["model"].nunique() > 1
    lines = paths["jsonl"].read_text().splitlines()
    assert len(lines) == 500 and json.loads(lines[0])["request_id"] == frame["request_id"].iloc[0]
    # a second call reuses the files (same seed, same rows)
    again = bench.write_synthetic(500, tmp_path)
    assert pq.read_table(again["parquet"]).equals(table)


def test_child_peak_rss_and_wall_are_measured():
    # the child touches its pages, then keeps rewriting them (work, not a sleep) so the parent's 5 ms polls see it alive
    touch = ("b = bytearray({} * 2**20); n = len(b[::4096])\n"
             "for i in range(60): b[::4096] = bytes([i % 256]) * n")
    res = bench.run_child([sys.executable, "-c", touch.format(150)])
    assert res["returncode"] == 0
    assert res["peak_rss_mib"] >= 150
    assert res["wall_s"] > 0 and res["cpu_s"] > 0
    # a small child of a big parent: its own peak, not the parent's memory at the fork (ru_maxrss would say >= 400)
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = bench.run_child([sys.executable, "-c", touch.format(20)])
    del ballast
    assert 20 <= small["peak_rss_mib"] < 200
    failed = bench.run_child([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert failed["returncode"] == 3


def test_targets_pass_and_fail():
    rows = [
        bench.Row("CLI parquet → parquet", rows=1_000_000, wall_s=2.5, rate_per_s=400_000, peak_rss_mib=500),
        bench.Row("CLI jsonl → parquet", rows=10_000_000, wall_s=60, rate_per_s=166_000, peak_rss_mib=2000),
    ]
    eco = bench.Row("EcoLogits", rows=10_000, wall_s=2.0, rate_per_s=5_000)
    extra = bench.apply_targets(rows, eco)
    assert rows[0].result == "PASS" and rows[1].result == "FAIL"
    assert extra[0].result == "FAIL" and extra[0].extra["ratio"] == pytest.approx(80)
    table = bench.format_table(bench.machine_info(), rows + extra)
    assert table.count("\n| ") == 1 + len(rows) + len(extra)  # header + one line per row
    assert "cores" in table and "UTC" in table


def test_speed_up_uses_the_largest_parquet_run_and_also_reports_one_million_with_start_up():
    rows = [
        bench.Row("CLI parquet → parquet", rows=1_000_000, wall_s=2.0, rate_per_s=500_000, peak_rss_mib=500),
        bench.Row("CLI parquet → parquet", rows=10_000_000, wall_s=10.0, rate_per_s=1_000_000, peak_rss_mib=700),
    ]
    extra = bench.apply_targets(rows, bench.Row("EcoLogits", rows=10_000, wall_s=1.25, rate_per_s=8_000))
    by_name = {r.measurement: r for r in extra}
    headline = by_name["Speed-up: CLI parquet 10,000,000 rows (end to end) ÷ EcoLogits"]
    assert headline.result == "PASS" and headline.extra["ratio"] == pytest.approx(125)
    one_m = by_name["Speed-up: CLI parquet 1,000,000 rows (start-up included) ÷ EcoLogits"]
    assert one_m.extra["ratio"] == pytest.approx(62.5) and one_m.result == ""


@pytest.mark.slow
def test_app_health_on_a_tiny_app(tmp_path):
    app = tmp_path / "app.py"
    app.write_text("import streamlit as st\nst.title('hello')\n")
    row = bench.bench_app_health(app)
    assert row.result != "ERROR", row.note
    assert row.wall_s > 0
    rendered = bench.bench_app_render(app)
    assert rendered.result != "ERROR", rendered.note
    browser = bench.bench_app_browser(app)  # skipped (not failed) without chromium / playwright
    assert browser.result != "ERROR", browser.note
    assert browser.wall_s is not None or browser.note.startswith("skipped")


@pytest.mark.slow
def test_bench_script_tiny(tmp_path):
    out_dir = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--sizes", "300", "--ecologits-requests", "200", "--no-app",
         "--data-dir", str(tmp_path / "data"), "--out-dir", str(out_dir), "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("CLI parquet → parquet", "CLI jsonl → parquet", "EcoLogits", "seal.estimate in-process",
                 "Speed-up", "pasted prompts, first call", "pasted prompts, next call"):
        assert name in proc.stdout, name
    assert "ERROR" not in proc.stdout
    written = list(out_dir.glob("bench-*.md"))
    assert len(written) == 1 and written[0].read_text().strip() == proc.stdout.strip()
    data = json.loads(next(out_dir.glob("bench-*.json")).read_text())
    cli = [r for r in data["rows"] if r["measurement"].startswith("CLI")]
    assert len(cli) == 2 and all(r["rows"] == 300 and r["rate_per_s"] > 0 for r in cli)


# ---------------------------------------------------------------- app memory and load rows (issue 12)
def test_upload_log_is_a_csv_log_of_about_the_asked_size(tmp_path):
    from seal.logs.read import read_requests

    path, rows = bench.write_upload_log(0.5, tmp_path)
    assert 0.4 * 2**20 < path.stat().st_size < 0.6 * 2**20
    frame, report = read_requests(path)
    assert len(frame) == rows and report.source_format
    assert frame["timestamp"].notna().all() and frame["app"].nunique() > 1 and frame["user"].nunique() > 1
    assert bench.write_upload_log(0.5, tmp_path) == (path, rows)                 # reused
    other, _ = bench.write_upload_log(0.5, tmp_path, variant=1)
    assert other != path and other.read_bytes() != path.read_bytes()            # a different file per variant


def test_app_memory_rows_pass_fail_and_error():
    ok = bench.upload_rows(205, 2_000_000, 12.0, baseline=300, peak=300 + 1_000, idle=300 + 100)
    assert [r.result for r in ok] == ["PASS", "PASS"] and ok[0].rate_per_s == pytest.approx(2_000_000 / 12)
    high = bench.upload_rows(205, 2_000_000, 12.0, baseline=300, peak=300 + 1.6 * 1024, idle=300 + 301)
    assert [r.result for r in high] == ["FAIL", "FAIL"]
    broken = bench.upload_rows(205, 2_000_000, None, 300, 400, 300, problems=["the page shows no requests"])
    assert [r.result for r in broken] == ["ERROR", "ERROR"] and "no requests" in broken[0].note
    sessions = [{"seconds": s, "problems": []} for s in (8.0, 9.0, 10.0, 11.0, 30.0)]
    row = bench.concurrent_upload_row(22, sessions, 5 * 580_000, baseline=300, peak=2_000)
    assert row.result == "PASS" and row.wall_s == 10.0 and "max 30.0 s" in row.note
    assert bench.concurrent_upload_row(22, sessions, 1, 300, 3.1 * 1024).result == "FAIL"
    estimates = [{"seconds": 3.0 + i, "problems": []} for i in range(10)]
    uploads = [{"seconds": 7.0, "problems": []}, {"seconds": None, "problems": ["TimeoutError: no answer"]}]
    rows = bench.load_rows(estimates, uploads, 22, 20, wall=9.0, baseline=300, peak=1_400)
    assert [r.measurement.rsplit("→ ", 1)[1] for r in rows] == ["server peak RSS", "Estimate click, per session",
                                                                 "Logs upload, per session"]
    assert rows[1].wall_s == 7.5 and rows[1].rows == 20 and "max 12.0 s" in rows[1].note
    assert rows[2].result == "ERROR" and rows[0].result == "ERROR"               # a failed session is visible
    table = bench.format_table(bench.machine_info(), ok + [row] + rows)
    assert table.count("\n| ") == 1 + 2 + 1 + 3


def test_rss_watch_sees_a_child_grow_and_resets():
    code = ("import sys, time; sys.stdin.readline(); b = bytearray(120 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
            "del b; sys.stdin.readline()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, text=True)
    watch = bench.RssWatch(proc.pid)
    try:
        watch.reset()
        before = watch.now()
        proc.stdin.write("\n")
        proc.stdin.flush()
        import time

        deadline = time.time() + 30
        while watch.peak() < before + 100 and time.time() < deadline:
            try:                                # wait on the child (it exits only when told): no bare sleep
                proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
        assert watch.peak() >= before + 100                                     # the 120 MiB it touched
        watch.reset()
        assert watch.peak() < before + 100 or watch.now() >= before + 100        # reset to what it holds now
    finally:
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait(timeout=30)
        watch.close()


_PROTOCOL_APP = """
import streamlit as st
f = st.file_uploader("Upload logs")
if f is not None:
    st.metric("Requests", len(f.getvalue()))
text = st.text_area("Prompts")
if st.button("Estimate"):
    st.metric("CO2e", len(text.splitlines()))
"""


@pytest.mark.slow
def test_app_session_speaks_streamlits_protocol(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(_PROTOCOL_APP)
    data = tmp_path / "log.csv"
    data.write_bytes(b"x" * 123_456)
    with bench.AppServer(app) as server:
        session = server.session()
        try:
            assert session.run() and session.session_id
            elements = session.upload(data)
            assert bench.page_metrics(elements)["Requests"] == "123456" and not bench.page_problems(elements)
            elements = session.estimate(["one", "two", "three"])
            assert bench.page_metrics(elements)["CO2e"] == "3"
        finally:
            session.close()
        assert server.rss.now() > 0 and server.rss.peak() > 0


@pytest.mark.slow
def test_app_memory_rows_on_the_real_app_at_tiny_sizes(tmp_path):
    rows = bench.run_app_memory(REPO / "app.py", tmp_path, upload_mb=0.5, concurrent_uploads=2,
                                concurrent_upload_mb=0.2, load_sessions=2, load_uploads=1, load_upload_mb=0.2)
    names = [r.measurement for r in rows]
    assert len(rows) == 6, names
    for part in ("log uploaded (Logs page) → server peak RSS", "log uploaded (Logs page) → server RSS after the "
                 "session ended", "2 concurrent", "App load: 2 sessions estimating + 1 uploading"):
        assert any(part in n for n in names), part
    assert all(r.result != "ERROR" for r in rows), [(r.measurement, r.note) for r in rows]
    assert all(r.peak_rss_mib for r in rows if "RSS" in r.measurement)
