"""The real pull against a loopback mirror: row counts per source, mirrors, atomic replace, bad downloads, CLI,
concurrent readers. Counts are taken from ../shared/data with ``csv``/``json``, not with SEAL's parsers."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from _http import QuietHandler, serve, serve_dir

from seal.data import store
from seal.data.download import fetch_source
from seal.data.pull import init, pull
from seal.data.sources import SOURCES
from seal.errors import DataSourceError


# ------------------------------------------------------------------ independent counts
def _count_llm_perf(shared: Path) -> int:
    csv.field_size_limit(1 << 30)
    n = 0
    for path in (shared / "llm-perf-leaderboard").glob("perf-df-*.csv"):
        with open(path, newline="", encoding="utf-8") as fh:
            n += sum(1 for r in csv.DictReader(fh) if not r.get("report.traceback")
                     and r.get("report.prefill.energy.gpu") and r.get("report.decode.energy.gpu"))
    return n


def _count_mlenergy(shared: Path) -> int:
    return len(list((shared / "mlenergy-v2" / "raw").rglob("bs*+tp*+pp*.json")))


def _count_mlenergy_v3(shared: Path) -> int:
    """Configurations in the v3 model files, counted with the json module alone."""
    return sum(len(json.loads(p.read_text(encoding="utf-8"))["configurations"])
               for p in (shared / "mlenergy-v3" / "public" / "data" / "models").glob("*.json"))


def _count_open_llm(shared: Path) -> int:
    with open(shared / "llm-perf-leaderboard" / "open-llm-leaderboard-llm-df.csv", newline="", encoding="utf-8") as fh:
        return len({r["fullname"] for r in csv.DictReader(fh)})


def _runs_by_source(db: Path) -> dict[str, int]:
    con = store.connect(db)
    try:
        return dict(con.execute("SELECT source, count(*) FROM benchmark_runs GROUP BY source").fetchall())
    finally:
        con.close()


# ------------------------------------------------------------------ servers
def _mirror_copy(shared: Path, dest: Path, *parts: str) -> Path:
    """A mirror holding only some folders of ../shared/data (for breaking one file)."""
    for part in parts:
        shutil.copytree(shared / part, dest / part)
    return dest


# ------------------------------------------------------------------ the real pull
def test_pulled_store_row_counts_match_the_files(pulled_store, shared_data):
    counts = _runs_by_source(pulled_store)
    assert counts["llm-perf"] == _count_llm_perf(shared_data) == 623
    assert counts["mlenergy-v2"] == _count_mlenergy(shared_data) == 356
    assert counts["mlenergy-v3"] == _count_mlenergy_v3(shared_data) == 364
    status = store.status(pulled_store).set_index("source")
    assert status.loc["mlenergy-v3", "rows"] == counts["mlenergy-v3"]
    assert status.loc["llm-perf", "rows"] == counts["llm-perf"]
    assert status.loc["mlenergy-v2", "rows"] == counts["mlenergy-v2"]
    assert status.loc["open-llm-leaderboard", "rows"] == _count_open_llm(shared_data)
    oll = store.read_table("open_llm_leaderboard", pulled_store)
    assert len(oll) == _count_open_llm(shared_data)
    for name in ("benchmark_runs", "models", "gpus", "grid_zones", "ingest_log"):
        assert len(store.read_table(name, pulled_store)) > 0, name
    log = store.read_table("ingest_log", pulled_store)
    assert log["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    runs = store.read_table("benchmark_runs", pulled_store)
    gpu_runs = runs[runs["device"] == "cuda"]
    assert gpu_runs["gpu"].notna().all() and gpu_runs["params_b"].notna().all()
    assert runs["model_family"].notna().all() and runs["params_source"].notna().mean() > 0.95


def test_directory_mirror_matches_url_mirror(pulled_store, shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("SEAL_DATA_MIRROR", str(shared_data))  # the env var is the default mirror
    db = pull(db_path=tmp_path / "dir.duckdb", cache_dir=tmp_path / "cache", progress=False)
    assert _runs_by_source(db) == _runs_by_source(pulled_store)
    assert not (tmp_path / "cache").exists()  # a directory mirror is read in place


def test_cache_is_reused(mirror_url, tmp_path):
    source = SOURCES["open-llm-leaderboard"]
    first = fetch_source(source, mirror_url, tmp_path, progress=False)
    second = fetch_source(source, mirror_url, tmp_path, progress=False)  # conditional GET -> 304
    assert not first[0].from_cache and second[0].from_cache
    assert first[0].sha256 == second[0].sha256
    pinned = SOURCES["mlenergy-v2"]
    files = pinned.files[:3]
    fetch_source(pinned, mirror_url, tmp_path, progress=False, files=files)
    again = fetch_source(pinned, mirror_url, tmp_path, progress=False, files=files)
    assert all(f.from_cache for f in again)  # sha256 matches the pinned hash: no request at all


def test_partial_pull_keeps_other_sources(pulled_store, shared_data, tmp_path):
    db = tmp_path / "s.duckdb"
    shutil.copy(pulled_store, db)
    pull(db_path=db, mirror=str(shared_data), sources=["mlenergy-v2"], progress=False)
    assert _runs_by_source(db) == _runs_by_source(pulled_store)
    assert len(store.read_table("open_llm_leaderboard", db)) == len(store.read_table("open_llm_leaderboard",
                                                                                          pulled_store))


def test_init_is_offline_and_keeps_downloaded_tables(pulled_store, tmp_path):
    fresh = init(tmp_path / "fresh.duckdb")
    assert {"models", "grid_zones", "gpus", "ingest_log"} <= store.table_names(fresh)
    assert len(store.read_table("benchmark_runs", fresh)) == 0
    status = store.status(fresh).set_index("source")
    assert "seal data pull --source llm-perf" in status.loc["llm-perf", "pulled_at"]
    copy = tmp_path / "copy.duckdb"
    shutil.copy(pulled_store, copy)
    init(copy)
    assert _runs_by_source(copy) == _runs_by_source(pulled_store)


# ------------------------------------------------------------------ failures: one sentence, old store intact
def _assert_old_store_intact(db: Path, before: dict[str, int]) -> None:
    assert _runs_by_source(db) == before
    assert not [p for p in db.parent.iterdir() if ".tmp-" in p.name]


@pytest.fixture()
def old_store(pulled_store, tmp_path) -> tuple[Path, dict[str, int]]:
    db = tmp_path / "old.duckdb"
    shutil.copy(pulled_store, db)
    return db, _runs_by_source(db)


def test_http_404_names_source_and_file(old_store, shared_data, tmp_path):
    db, before = old_store
    mirror = _mirror_copy(shared_data, tmp_path / "m", "llm-perf-leaderboard")
    (mirror / "llm-perf-leaderboard" / "perf-df-pytorch-cuda-gptq-1xA100.csv").unlink()
    with serve_dir(mirror) as url, pytest.raises(DataSourceError) as err:
        pull(db_path=db, mirror=url, cache_dir=tmp_path / "c", sources=["llm-perf"], progress=False)
    msg = str(err.value)
    assert msg.startswith("Source llm-perf: file llm-perf-leaderboard/perf-df-pytorch-cuda-gptq-1xA100.csv")
    assert "HTTP 404" in msg and msg.count(". ") == 0
    _assert_old_store_intact(db, before)
    with pytest.raises(DataSourceError, match=r"Source llm-perf: file .*gptq-1xA100\.csv from .* is missing"):
        pull(db_path=db, mirror=str(mirror), sources=["llm-perf"], progress=False)
    _assert_old_store_intact(db, before)


def test_http_500_is_retried_then_named(old_store, tmp_path):
    db, before = old_store
    calls = []

    class Broken(QuietHandler):
        def do_GET(self):
            calls.append(self.path)
            self.send_error(500, "Internal Server Error")

    with serve(Broken) as url, pytest.raises(DataSourceError, match=r"HTTP 500 .*after 3 attempts"):
        pull(db_path=db, mirror=url, cache_dir=tmp_path / "c", sources=["open-llm-leaderboard"], progress=False,
             retries=2, backoff_s=0.01)
    assert len(calls) == 3
    _assert_old_store_intact(db, before)


def test_timeout(old_store, tmp_path):
    db, before = old_store

    hang = threading.Event()

    class Slow(QuietHandler):
        def do_GET(self):
            hang.wait(1.5)              # longer than the pull's timeout; released when the test ends
            self.send_error(404)

    try:
        with serve(Slow) as url, pytest.raises(DataSourceError,
                                               match=r"open-llm-leaderboard-llm-df\.csv .*timed out"):
            pull(db_path=db, mirror=url, cache_dir=tmp_path / "c", sources=["open-llm-leaderboard"],
                 progress=False, timeout=0.3, retries=0)
    finally:
        hang.set()
    _assert_old_store_intact(db, before)


def test_truncated_csv(old_store, shared_data, tmp_path):
    db, before = old_store
    mirror = _mirror_copy(shared_data, tmp_path / "m", "llm-perf-leaderboard")
    target = mirror / "llm-perf-leaderboard" / "open-llm-leaderboard-llm-df.csv"
    raw = target.read_bytes()
    target.chmod(0o644)
    target.write_bytes(raw[: len(raw) * 2 // 3])
    with serve_dir(mirror) as url, pytest.raises(DataSourceError, match=r"Source open-llm-leaderboard: .* truncated"):
        pull(db_path=db, mirror=url, cache_dir=tmp_path / "c", sources=["open-llm-leaderboard"], progress=False)
    _assert_old_store_intact(db, before)


def test_connection_cut_mid_file(old_store, tmp_path):
    db, before = old_store

    class Cut(QuietHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"fullname,#Params (B)\n")  # then the connection closes early

    with serve(Cut) as url, pytest.raises(DataSourceError, match="is truncated"):
        pull(db_path=db, mirror=url, cache_dir=tmp_path / "c", sources=["open-llm-leaderboard"], progress=False,
             retries=0)
    _assert_old_store_intact(db, before)


def test_corrupt_pinned_json_and_missing_column(old_store, shared_data, tmp_path):
    db, before = old_store
    mirror = _mirror_copy(shared_data, tmp_path / "m", "mlenergy-v2")
    victim = sorted((mirror / "mlenergy-v2" / "raw").rglob("bs*.json"))[5]
    victim.chmod(0o644)
    victim.write_text(victim.read_text()[:40])
    with pytest.raises(DataSourceError, match=r"Source mlenergy-v2: file .*bs.*\.json .*truncated or corrupt"):
        pull(db_path=db, mirror=str(mirror), sources=["mlenergy-v2"], progress=False)
    _assert_old_store_intact(db, before)

    m2 = _mirror_copy(shared_data, tmp_path / "m2", "llm-perf-leaderboard")
    target = m2 / "llm-perf-leaderboard" / "perf-df-pytorch-cuda-torchao-1xT4.csv"
    target.chmod(0o644)
    pd.read_csv(target).drop(columns=["report.prefill.energy.gpu"]).to_csv(target, index=False)
    with pytest.raises(DataSourceError, match=r"torchao-1xT4\.csv lacks the column\(s\) report\.prefill\.energy\.gpu"):
        pull(db_path=db, mirror=str(m2), sources=["llm-perf"], progress=False)
    _assert_old_store_intact(db, before)


# ------------------------------------------------------------------ CLI
def test_cli_status_and_error(pulled_store, tmp_path, capsys):
    from seal.cli import main

    assert main(["--db", str(pulled_store), "data", "status"]) == 0
    out = capsys.readouterr().out
    for name in ("llm-perf", "mlenergy-v2", "mlenergy-v3", "open-llm-leaderboard", "ecologits"):
        assert name in out
    assert "623" in out and "356" in out and "364" in out
    code = main(["--db", str(tmp_path / "x.duckdb"), "data", "pull", "--quiet", "--source", "llm-perf",
                 "--mirror", str(tmp_path / "no-such-mirror")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("seal: error: The mirror ") and "no-such-mirror" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "x.duckdb").exists()
    assert main(["--db", str(tmp_path / "x.duckdb"), "data", "pull", "--source", "nope"]) == 2


# ------------------------------------------------------------------ readers
def test_concurrent_readers(pulled_store, tmp_path):
    db = tmp_path / "r.duckdb"
    shutil.copy(pulled_store, db)
    held = store.connect(db)  # a long-lived read-only connection does not block anyone
    try:
        def read(i: int) -> int:
            if i % 2:
                con = store.connect(db)
                try:
                    return con.execute("SELECT count(*) FROM benchmark_runs").fetchone()[0]
                finally:
                    con.close()
            return len(store.read_table("benchmark_runs", db))

        with ThreadPoolExecutor(8) as pool:
            counts = set(pool.map(read, range(32)))
        code = ("import sys; from seal.data import store; "
                "print(len(store.read_table('benchmark_runs', sys.argv[1])))")
        procs = [subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outs = {int(p.communicate(timeout=120)[0]) for p in procs}
        assert all(p.returncode == 0 for p in procs)
        assert counts == outs == {1343}
        # a rebuild while a reader holds the old file: os.replace swaps it, the old connection still reads the
        # old store, and new readers in the same process see the new one at once
        store.write_store(db, {"benchmark_runs": pd.DataFrame({"source": ["x"]})})
        assert held.execute("SELECT count(*) FROM benchmark_runs").fetchone()[0] == 1343
        assert len(store.read_table("benchmark_runs", db)) == 1
        con = store.connect(db)
        try:
            assert con.execute("SELECT count(*) FROM benchmark_runs").fetchone()[0] == 1
        finally:
            con.close()
    finally:
        held.close()


def test_read_table_cache_follows_the_file(pulled_store, tmp_path):
    db = tmp_path / "c.duckdb"
    store.write_store(db, {"t": pd.DataFrame({"a": [1, 2]})})
    assert len(store.read_table("t", db)) == 2
    first = db.stat().st_mtime_ns
    store.write_store(db, {"t": pd.DataFrame({"a": [1, 2, 3]})})
    os.utime(db, ns=(first + 10_000_000, first + 10_000_000))   # a coarse clock could give both writes one mtime
    assert len(store.read_table("t", db)) == 3
    from seal.errors import SealError

    with pytest.raises(SealError, match="no table 'nope'"):
        store.read_table("nope", db)
    with pytest.raises(SealError, match="No store at"):
        store.read_table("t", tmp_path / "none.duckdb")
    # a crash half-way through writing the new store leaves the old one in place and no temp file behind
    with pytest.raises(Exception):
        store.write_store(db, {"t": pd.DataFrame({"a": [9]}), "broken": "not a frame"})
    assert store.read_table("t", db)["a"].tolist() == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.duckdb"]
    assert os.path.exists(db)


# ------------------------------------------------------------------ ML.ENERGY v3
def test_mlenergy_v3_manifest_lists_exactly_the_files_present(shared_data):
    """The committed manifest names exactly the files of the shared copy, with their sha256."""
    import hashlib

    from seal.data.sources import SOURCES

    root = shared_data / "mlenergy-v3" / "public" / "data"
    on_disk = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in root.rglob("*.json")}
    files = SOURCES["mlenergy-v3"].files
    listed = {f.mirror_path.removeprefix("mlenergy-v3/public/data/"): f.sha256 for f in files}
    assert listed == on_disk
    assert all(f.url.startswith("https://raw.githubusercontent.com/ml-energy/leaderboard/"
                                "0cd52dab897c5d91a45f4d413038f3b8b4251b0f/public/data/") for f in files)


def test_mlenergy_v3_rows_keep_every_field(pulled_store, shared_data):
    """Each configuration's measured fields reach the store unchanged (checked against the JSON itself)."""
    runs = store.read_table("benchmark_runs", pulled_store)
    v3 = runs[runs["source"] == "mlenergy-v3"]
    path = shared_data / "mlenergy-v3" / "public" / "data" / "models" / "Qwen__Qwen3-235B-A22B-Instruct-2507-FP8__lm-arena-chat.json"
    rec = json.loads(path.read_text(encoding="utf-8"))
    mine = v3[v3["source_file"].str.endswith(path.name)].sort_values(["gpu", "gpu_count", "max_batch_size"])
    assert len(mine) == len(rec["configurations"])
    want = sorted(rec["configurations"], key=lambda c: (("B200", "H100-SXM").index(
        {"B200": "B200", "H100": "H100-SXM"}[c["gpu_model"]]), c["num_gpus"], c["max_num_seqs"]))
    for (_, row), c in zip(mine.iterrows(), want):
        assert row["request_energy_j"] == pytest.approx(c["energy_per_request_joules"])
        assert row["energy_per_token_j"] == pytest.approx(c["energy_per_token_joules"])
        assert row["power_w"] == pytest.approx(c["avg_power_watts"])
        assert row["throughput_tok_s"] == pytest.approx(c["output_throughput_tokens_per_sec"])
        assert row["batch_size"] == pytest.approx(c["avg_batch_size"])
        assert row["max_batch_size"] == c["max_num_seqs"]
        assert row["itl_p99_s"] == pytest.approx(c["p99_itl_ms"] / 1000)
        assert row["expert_parallel"] == c["parallelization"]["expert_parallel"]
        assert row["tensor_parallel"] == c["parallelization"]["tensor_parallel"]
    assert set(mine["precision"]) == {"fp8"} and set(mine["weight_bits"]) == {8.0}
    assert set(mine["engine"]) == {"vllm"} and set(mine["architecture"]) == {"MoE"}
    assert (mine["params_b"] == 235.0).all() and (mine["active_params_b"] == 22.0).all()
    assert v3["input_tokens"].isna().all()   # prompt lengths are not published
    engines = dict(runs.groupby("source")["engine"].agg(lambda e: ",".join(sorted(set(e.dropna())))))
    assert engines["mlenergy-v2"] == "vllm-2024" and "transformers" in engines["llm-perf"]


def test_mlenergy_v3_corrupt_file_leaves_the_store(shared_data, tmp_path):
    mirror = _mirror_copy(shared_data, tmp_path / "m", "mlenergy-v3")
    victim = sorted((mirror / "mlenergy-v3" / "public" / "data" / "models").glob("*.json"))[3]
    victim.write_bytes(victim.read_bytes()[:500])
    db = tmp_path / "s.duckdb"
    with pytest.raises(DataSourceError, match=r"Source mlenergy-v3: file .*\.json .*truncated or corrupt"):
        pull(db_path=db, mirror=str(mirror), sources=["mlenergy-v3"], progress=False)
    assert not db.exists()
