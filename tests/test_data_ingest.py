"""Parsers of the public sources (pure functions), checked against counts taken independently with ``csv``/``json``."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seal.data import ingest
from seal.data.names import model_family, params_from_name
from seal.data.schema import BENCHMARK_RUNS
from seal.errors import DataSourceError


def _csv_rows(path: Path) -> list[dict]:
    csv.field_size_limit(1 << 30)
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _ok_rows(rows: list[dict]) -> list[dict]:
    """Successful LLM-Perf rows: no traceback, prefill and decode energy present."""
    return [r for r in rows if not r.get("report.traceback") and r.get("report.prefill.energy.gpu")
            and r.get("report.decode.energy.gpu")]


@pytest.fixture(scope="module")
def perf_files(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "llm-perf-leaderboard").glob("perf-df-*.csv"))
    assert len(files) == 7
    return files


def test_llm_perf_rows_and_units_match_the_files(perf_files):
    for path in perf_files:
        ok = _ok_rows(_csv_rows(path))
        runs = ingest.read_llm_perf(path, path.name, "v")
        assert len(runs) == len(ok), path.name
        assert list(runs.columns)[: len(BENCHMARK_RUNS)] == list(BENCHMARK_RUNS)
        first = ok[0]
        device = first["config.backend.device"]
        key = "gpu" if device == "cuda" else "cpu"
        assert runs["prefill_energy_j"].iloc[0] == pytest.approx(float(first[f"report.prefill.energy.{key}"]) * 3.6e6)
        assert runs["decode_energy_j"].iloc[0] == pytest.approx(float(first[f"report.decode.energy.{key}"]) * 3.6e6)
        assert runs["request_energy_j"].iloc[0] == pytest.approx(
            runs["prefill_energy_j"].iloc[0] + runs["decode_energy_j"].iloc[0])
        assert (runs["input_tokens"] == 256).all() and (runs["output_tokens"] == 63).all()
        assert (runs["host_energy_measured"] == False).all()  # noqa: E712 - CodeCarbon estimates
        if device == "cpu":
            assert (runs["device"] == "cpu").all() and runs["gpu"].isna().all()
        else:
            assert runs["gpu"].notna().all() and (runs["gpu_count"] == 1).all()


def test_llm_perf_accepts_the_full_upstream_layout(perf_files, tmp_path):
    path = perf_files[-1]
    frame = pd.read_csv(path)
    extra = pd.DataFrame({"report.prefill.latency.values": "[0.1, 0.2, 0.3]",
                          "report.decode.latency.values": "[1.0, 1.1]"}, index=frame.index)
    frame = pd.concat([frame, extra], axis=1)
    full = tmp_path / path.name
    frame.to_csv(full, index=False)
    a = ingest.read_llm_perf(path, path.name)
    b = ingest.read_llm_perf(full.read_bytes(), path.name)
    pd.testing.assert_frame_equal(a, b)


def test_llm_perf_quantization_and_gpu_names(perf_files):
    by_name = {p.name: p for p in perf_files}
    bnb = ingest.read_llm_perf(by_name["perf-df-pytorch-cuda-bnb-1xA100.csv"], "bnb")
    assert set(bnb["quantization"]) == {"bnb"} and set(bnb["weight_bits"]) == {4.0, 8.0}
    t4 = ingest.read_llm_perf(by_name["perf-df-pytorch-cuda-torchao-1xT4.csv"], "t4")
    assert set(t4["gpu_raw"]) == {"Tesla T4"} and set(t4["weight_bits"]) == {4.0}
    try:
        from seal.data.gpus import resolve_gpu
    except ImportError:
        return
    assert set(t4["gpu"]) == {resolve_gpu("Tesla T4")}


def test_llm_perf_bad_files_raise_one_sentence(perf_files, tmp_path):
    raw = perf_files[0].read_bytes()
    with pytest.raises(DataSourceError, match=r"file x\.csv is truncated"):
        ingest.read_llm_perf(raw[: len(raw) // 2], "x.csv")
    frame = pd.read_csv(io.BytesIO(raw)).drop(columns=["report.decode.energy.gpu"])
    with pytest.raises(DataSourceError, match=r"lacks the column\(s\) report\.decode\.energy\.gpu"):
        ingest.read_llm_perf(frame.to_csv(index=False).encode(), "x.csv")
    with pytest.raises(DataSourceError, match="empty"):
        ingest.read_llm_perf(b"", "x.csv")


def test_mlenergy_runs_match_the_json_files(shared_data):
    root = shared_data / "mlenergy-v2" / "raw"
    files = {str(p.relative_to(root)): p for p in sorted(root.rglob("bs*.json"))}
    runs = ingest.read_mlenergy_runs(files, "c3af7f3")
    assert len(runs) == len(files) == 356
    rel, path = next(iter(files.items()))
    rec = json.loads(path.read_text())
    row = runs.iloc[0]
    assert row["request_energy_j"] == pytest.approx(rec["Energy/req (J)"])
    assert row["output_tokens"] == pytest.approx(rec["Avg Output Tokens"])
    assert row["batch_size"] == pytest.approx(rec["Avg BS (reqs)"])
    assert row["gpu_count"] == rec["TP"] * rec["PP"]
    assert np.isnan(row["input_tokens"]) and np.isnan(row["prefill_energy_j"])
    assert set(runs["task"]) == {"chat", "code", "mllm-chat"}
    assert runs["gpu"].notna().all()


def test_mlenergy_bad_json(tmp_path):
    with pytest.raises(DataSourceError, match="truncated or corrupt JSON"):
        ingest.read_mlenergy_run(b'{"Model": "a", "GP', "llm_text_generation/chat/X/a/b/bs1+tp1+pp1.json")
    with pytest.raises(DataSourceError, match=r"lacks the field\(s\) Energy/req \(J\)"):
        ingest.read_mlenergy_run(json.dumps({"Model": "a", "GPU": "H100", "TP": 1, "Avg Output Tokens": 3,
                                             "Avg BS (reqs)": 1}).encode(), "f.json")


def test_open_llm_leaderboard(shared_data):
    path = shared_data / "llm-perf-leaderboard" / "open-llm-leaderboard-llm-df.csv"
    rows = _csv_rows(path)
    table = ingest.read_open_llm_leaderboard(path)
    assert len(table) == len({r["fullname"] for r in rows})
    mixtral = table.set_index("model_id").loc["mistralai/Mixtral-8x7B-Instruct-v0.1"]
    assert bool(mixtral["is_moe"]) and mixtral["params_b"] == 46
    llama = table.set_index("model_id").loc["meta-llama/Meta-Llama-3.1-8B-Instruct"]
    assert not bool(llama["is_moe"]) and llama["quality_score"] > 0


def test_names():
    ids = pd.Series(["EleutherAI/pythia-1.4b", "facebook/opt-125m", "mistralai/Mixtral-8x7B-v0.1",
                     "Qwen/Qwen1.5-MoE-A2.7B", "stabilityai/stablelm-2-1_6b", "openai-community/gpt2",
                     "Qwen/Qwen2-57B-A14B"])
    p = params_from_name(ids)
    assert p["params_b"].tolist()[:3] == [1.4, 0.125, 56.0]
    assert p["active_params_b"].iloc[2] == 14.0 and p["is_moe"].iloc[2]
    assert np.isnan(p["params_b"].iloc[3]) and p["active_params_b"].iloc[3] == 2.7 and p["is_moe"].iloc[3]
    assert p["params_b"].iloc[4] == 1.6 and np.isnan(p["params_b"].iloc[5])
    assert p["params_b"].iloc[6] == 57 and p["active_params_b"].iloc[6] == 14
    assert model_family(ids).tolist() == ["pythia", "opt", "mixtral", "qwen2-moe", "stablelm", "gpt2", "qwen2-moe"]


def test_fill_params_order():
    runs = pd.DataFrame({"model_id": ["a/known-7b", "a/nosize", "a/onlymem", "a/none"],
                         "weight_bits": [16.0, 16.0, 4.0, 16.0],
                         "weights_memory_mb": [np.nan, np.nan, 500.0, np.nan]})
    oll = pd.DataFrame({"model_id": ["a/nosize"], "params_b": [3.0], "is_moe": [False]})
    out = ingest.fill_params(runs, None, oll, {"a/none": 2.0})
    assert out["params_b"].tolist() == [7.0, 3.0, 1.0, 2.0]
    assert out["params_source"].tolist() == ["name", "open-llm-leaderboard", "memory", "mlenergy-models"]
    assert (out["active_params_b"] == out["params_b"]).all()
