"""Smoke test of ``python -m seal.bench`` at tiny sizes, and of its measuring parts (no timing asserts)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from seal import bench

REPO = Path(__file__).resolve().parents[1]


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
    touch = "b = bytearray({} * 2**20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(0.1)"
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
        [sys.executable, "-m", "seal.bench", "--sizes", "300", "--ecologits-requests", "200", "--no-app",
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
