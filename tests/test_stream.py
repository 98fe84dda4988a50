"""Streaming a log through the estimate and writing csv / json / jsonl / parquet incrementally; the CLI on files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import seal.api
from seal.cli import main
from seal.errors import SealError
from seal.stream import estimate_file, output_format, write_frame

LOGS = Path(__file__).parent / "data" / "logs"
J_PER_KWH = 3.6e6


def _fake_estimate(calls: list):
    """A stand-in for seal.api.estimate with known energies: 1 J per input token, 10 J per output token."""
    from seal.api import REQUEST_DEFAULT_KEYS
    from seal.logs.normalize import prepare_requests

    def estimate(requests, **defaults):
        calls.append((len(requests), dict(defaults)))
        frame = prepare_requests(requests, **{k: v for k, v in defaults.items() if k in REQUEST_DEFAULT_KEYS})
        frame["gpu_energy_j"] = frame["input_tokens"] * 1.0 + frame["output_tokens"] * 10.0
        frame["facility_energy_j"] = frame["gpu_energy_j"] * 2.0
        frame["total_g_co2e"] = frame["facility_energy_j"] / J_PER_KWH * 100.0   # 100 g/kWh
        return frame

    return estimate


@pytest.fixture
def fake(monkeypatch):
    calls: list = []
    monkeypatch.setattr(seal.api, "estimate", _fake_estimate(calls))
    return calls


def _table(tmp_path, n=2500, name="req.parquet"):
    df = pd.DataFrame({"request_id": np.arange(n).astype(str), "model": "llama-3.1-8b",
                       "input_tokens": (np.arange(n) % 700) + 1, "output_tokens": (np.arange(n) % 90) + 1})
    path = tmp_path / name
    if name.endswith(".parquet"):
        df.to_parquet(path)
    else:
        df.to_json(path, orient="records", lines=True)
    return df, path


@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl", "parquet"])
def test_estimate_file_writes_every_row_in_batches(fake, tmp_path, suffix):
    df, path = _table(tmp_path)
    out = tmp_path / f"scored.{suffix}"
    summary = estimate_file(path, out=out, defaults={"gpu": "A100", "region": "FR"}, progress=False, batch_rows=1000)
    assert [c[0] for c in fake] == [1000, 1000, 500]                 # three batches, bounded memory
    assert fake[0][1] == {"gpu": "A100", "region": "FR"}
    if suffix == "csv":
        got = pd.read_csv(out)
    elif suffix == "json":
        got = pd.DataFrame(json.loads(out.read_text()))
    elif suffix == "jsonl":
        got = pd.read_json(out, lines=True)
    else:
        got = pd.read_parquet(out)
    assert len(got) == len(df)
    assert got["row"].tolist() == list(range(1, len(df) + 1))           # source row numbers kept
    assert got["input_tokens"].sum() == df["input_tokens"].sum()
    assert (got["gpu"] == "A100").all()
    energy = (df["input_tokens"] + 10 * df["output_tokens"]).sum() * 2.0
    assert f"{energy / J_PER_KWH:.4g} kWh facility energy" in summary
    assert f"{energy / J_PER_KWH * 100 / 1000:.4g} kg CO2e" in summary
    assert summary.startswith("2,500 requests scored") and "0 rows skipped" in summary


def test_parquet_schema_stable_when_first_batch_has_nulls(fake, tmp_path):
    lines = [{"model": "gpt-4o", "input_tokens": 5, "output_tokens": 1}] * 3 + \
            [{"model": "gpt-4o", "input_tokens": 5, "output_tokens": 1, "user_id": "u9", "latency_ms": 1200}]
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    out = tmp_path / "o.parquet"
    estimate_file(path, out=out, progress=False, batch_rows=2)
    got = pd.read_parquet(out)
    assert got["user"].tolist()[-1] == "u9" and got["latency_s"].tolist()[-1] == pytest.approx(1.2)


def test_skip_bad_counts_and_reports(fake, tmp_path):
    good = json.dumps({"model": "gpt-4o", "input_tokens": 10, "output_tokens": 2})
    rows = [good, good[:20], json.dumps({"input_tokens": 3, "output_tokens": 1}), good,
            json.dumps({"model": "gpt-4o", "input_tokens": -4, "output_tokens": 1})]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(SealError, match=r"line 2 is not valid JSON"):
        estimate_file(path, out=tmp_path / "o.csv", progress=False)
    summary = estimate_file(path, out=tmp_path / "o.csv", progress=False, skip_bad=True)
    assert summary.startswith("2 requests scored")
    assert "3 bad rows skipped (e.g. line 2: is not valid JSON" in summary
    assert pd.read_csv(tmp_path / "o.csv")["line"].tolist() == [1, 4]
    # with a default model the model-less row is fine
    summary = estimate_file(path, out=tmp_path / "o.csv", progress=False, skip_bad=True, defaults={"model": "gpt-4o"})
    assert summary.startswith("3 requests scored") and "2 bad rows skipped" in summary


def test_missing_model_without_skip_names_the_line(fake, tmp_path):
    path = tmp_path / "nomodel.csv"
    path.write_text("model,input_tokens,output_tokens\nm,1,1\n,2,2\n")
    with pytest.raises(SealError, match=r"nomodel.csv: line 3: no model"):
        estimate_file(path, out=tmp_path / "o.csv", progress=False)


def test_output_format_rules(tmp_path):
    assert output_format(None, None) == "json"
    assert output_format("a.parquet", None) == "parquet"
    assert output_format("a.jsonl", "json") == "jsonl"
    assert output_format("a.txt", "csv") == "csv"
    with pytest.raises(SealError, match="Cannot tell the output format"):
        output_format("a.txt", None)


def test_write_frame_stdout_json(capsys):
    write_frame(pd.DataFrame({"prompt": ["hi"], "gpu_energy_j": [1.5],
                              "timestamp": [pd.Timestamp("2025-01-01T00:00:00Z")]}), fmt="json")
    data = json.loads(capsys.readouterr().out)
    assert data == [{"prompt": "hi", "gpu_energy_j": 1.5, "timestamp": "2025-01-01T00:00:00.000Z"}]


# ------------------------------------------------------------------ CLI
def test_cli_estimate_file_every_format(fake, tmp_path, capsys):
    for log in sorted(LOGS.iterdir()):
        out = tmp_path / f"{log.stem}.csv"
        code = main(["estimate", "--file", str(log), "--out", str(out), "--quiet", "--model", "mistral-large-latest",
                     "--params-b", "70"])     # a size for every row: the fixtures name models no catalogue has
        assert code == 0, (log.name, capsys.readouterr().err)
        assert len(pd.read_csv(out)) >= 1
        assert "requests scored" in capsys.readouterr().err


def test_cli_exit_codes_on_unreadable_files(fake, tmp_path, capsys):
    assert main(["estimate", "--file", str(tmp_path / "missing.jsonl"), "--quiet"]) == 2
    assert "No such file" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["estimate", "--file", str(empty), "--quiet"]) == 2
    assert "is empty" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"model": "gpt-4o", "input_tokens": 1, "output_tokens": 1}\n{"model": "m\xff"}\n')
    assert main(["estimate", "--file", str(bad), "--out", str(tmp_path / "o.csv"), "--quiet"]) == 2
    assert "line 2 is not valid UTF-8" in capsys.readouterr().err
    assert main(["estimate", "--file", str(bad), "--out", str(tmp_path / "o.csv"), "--quiet", "--skip-bad"]) == 0
    assert "1 bad rows skipped" in capsys.readouterr().err


def test_real_pipeline_end_to_end(tmp_path):
    """The real estimator and carbon stage on a small log (needs the shipped energy-model artifact)."""
    from seal.estimator import estimate_energy  # noqa: F401  (fails loudly if the stage is missing)

    from seal.estimator.artifact import DEFAULT_ARTIFACT

    assert DEFAULT_ARTIFACT.is_file()   # shipped as package data
    out = tmp_path / "scored.parquet"
    summary = estimate_file(LOGS / "openai_batch_output.jsonl", out=out, progress=False,
                            defaults={"gpu": "A100", "region": "FR"})
    got = pd.read_parquet(out)
    assert len(got) == 3 and (got["gpu_energy_j"] > 0).all() and (got["total_g_co2e"] > 0).all()
    assert got["input_tokens"].sum() == 24 + 31 + 18 and got["line"].tolist() == [1, 2, 3]
    kwh = (got["facility_energy_j"].sum() if "facility_energy_j" in got else got["gpu_energy_j"].sum()) / J_PER_KWH
    assert summary.startswith("3 requests scored") and f"{kwh:.4g} kWh" in summary


def test_failed_run_leaves_no_partial_output_and_keeps_the_old_file(tmp_path):
    """The real pipeline stops on an unknown GPU in the second row: no half-written output appears, and a
    previous output file at the same path is left untouched."""
    log = tmp_path / "requests.csv"
    log.write_text("model,gpu,input_tokens,output_tokens\n"
                   "meta-llama/Meta-Llama-3.1-8B-Instruct,H100,100,20\n"
                   "meta-llama/Meta-Llama-3.1-8B-Instruct,acme-tpu-9,100,20\n", encoding="utf-8")
    out = tmp_path / "scored.csv"
    out.write_text("previous results\n", encoding="utf-8")
    with pytest.raises(SealError, match="acme-tpu-9"):
        estimate_file(log, out=out, progress=False)
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.csv", "scored.csv"]
