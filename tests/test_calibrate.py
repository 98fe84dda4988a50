"""Calibration to a team's own fleet: import measured runs, calibrate, estimate with the deployment, validate.

The fleet is synthetic with a known ground truth: SEAL's own physics with another serving efficiency and power
curve (``_truth_model``), times log-normal meter noise of a known spread. Calibration must recover it to within
that noise, cross-validated.
"""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import seal
from seal.cli import main
from seal.data.measured import (coverage, import_measurements, remove_source, source_name, user_runs,
                                user_sources)
from seal.errors import SealError
from seal.estimator.calibrate import (DeploymentCalibration, apply_calibration, calibrate, load_calibrations,
                                      validate_source)

NOISE_SD = 0.10                                     # log-sd of the synthetic meter noise
NOISE_MEDIAN_APE = float(np.exp(NOISE_SD * 0.6745) - 1)   # median |noise - 1| of that noise, ~6.98 %
MODELS = {"fleet-llama-8b": 8.0, "fleet-qwen-32b": 32.0, "fleet-llama-70b": 70.0}


@pytest.fixture()
def store(tmp_path, monkeypatch) -> Path:
    """An offline store (``seal data init``) that estimates read too (``SEAL_DB``)."""
    from seal.data.pull import init

    db = tmp_path / "seal.duckdb"
    init(db)
    monkeypatch.setenv("SEAL_DB", str(db))
    return db


def _truth_model():
    """The shipped model with another efficiency and power curve: the fleet's 'real' physics."""
    from seal.estimator.artifact import shared_model

    m = copy.deepcopy(shared_model(None))
    p = m.params_.to_dict()
    p.update(vllm_compute_eff=p["vllm_compute_eff"] * 0.6, vllm_memory_eff=p["vllm_memory_eff"] * 0.75,
             power_idle=p["power_idle"] * 1.6, power_memory=p["power_memory"] * 0.7)
    m.params_ = type(m.params_)(**p)
    return m


def _fleet(n: int = 300, seed: int = 1, phases: bool = False) -> pd.DataFrame:
    """Synthetic measured requests of a fleet: truth x log-normal noise (sd NOISE_SD)."""
    from seal.estimator import estimate_energy
    from seal.logs.normalize import prepare_requests

    rng = np.random.default_rng(seed)
    models = rng.choice(list(MODELS), n)
    req = pd.DataFrame({
        "model": models, "params_b": [MODELS[m] for m in models],
        "gpu": rng.choice(["H100", "A100-SXM4-80GB"], n), "engine": "vllm",
        "batch_size": rng.choice([1, 4, 16, 32, 64, 128], n).astype(float),
        "input_tokens": rng.integers(20, 4000, n), "output_tokens": rng.integers(10, 1500, n)})
    truth = estimate_energy(prepare_requests(req), model=_truth_model())
    if phases:
        req["measured_prefill_energy_j"] = truth["prefill_energy_j"].to_numpy() * np.exp(rng.normal(0, NOISE_SD, n))
        req["measured_decode_energy_j"] = truth["decode_energy_j"].to_numpy() * np.exp(rng.normal(0, NOISE_SD, n))
    else:
        req["measured_gpu_energy_j"] = truth["gpu_energy_j"].to_numpy() * np.exp(rng.normal(0, NOISE_SD, n))
    return req


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- import
def test_import_stores_resolved_rows_apart_from_public_runs(store, tmp_path):
    report = import_measurements(_write(_fleet(60), tmp_path / "fleet.csv"), "my-fleet", db_path=store)
    assert (report.source, report.kind, report.rows, report.skipped) == ("user:my-fleet", "table", 60, {})
    runs = user_runs(store, ["user:my-fleet"])
    assert len(runs) == 60 and set(runs["source"]) == {"user:my-fleet"}
    assert set(runs["gpu"]) == {"H100-SXM", "A100-SXM4-80GB"}          # canonical names, as estimates use
    assert runs["request_energy_j"].gt(0).all() and runs["file_line"].tolist() == list(range(2, 62))
    assert set(runs["params_source"]) == {"user"}
    from seal.data.store import read_table

    assert not read_table("benchmark_runs", store)["source"].astype(str).str.startswith("user:").any()
    files = user_sources(store)
    assert files[["source", "file", "rows", "kind"]].values.tolist() == [["user:my-fleet", "fleet.csv", 60, "table"]]
    cov = coverage(runs)
    assert cov["rows"].sum() == 60 and set(cov["gpu"]) == {"H100-SXM", "A100-SXM4-80GB"}


def test_the_same_file_twice_is_refused_a_new_one_adds_and_replace_replaces(store, tmp_path):
    a = _write(_fleet(20, seed=1), tmp_path / "a.csv")
    b = _write(_fleet(30, seed=2), tmp_path / "b.csv")
    import_measurements(a, "f", db_path=store)
    with pytest.raises(SealError, match=r"already imported as user:f; use --replace"):
        import_measurements(a, "f", db_path=store)
    import_measurements(b, "f", db_path=store)
    assert len(user_runs(store, ["f"])) == 50
    import_measurements(b, "f", db_path=store, replace=True)
    assert len(user_runs(store, ["f"])) == 30


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns=["measured_gpu_energy_j"]), r"fleet\.csv lacks the column\(s\) measured_gpu_energy_j"),
    (lambda f: f.drop(columns=["gpu"]), r"lacks the column\(s\) gpu;"),
    (lambda f: f.assign(measured_gpu_energy_j=[-1.0] + [5.0] * (len(f) - 1)),
     r"fleet\.csv, line 2: measured_gpu_energy_j must be positive"),
    (lambda f: f.assign(gpu=["H100"] * 3 + ["Z9000"] + ["H100"] * (len(f) - 4)),
     r"line 5: Unknown GPU 'Z9000'"),
    (lambda f: f.assign(input_tokens=["x"] + list(f["input_tokens"][1:])), r"line 2: input_tokens is not a finite number"),
    (lambda f: f.assign(output_tokens=[-3] + list(f["output_tokens"][1:])), r"line 2: output_tokens is negative"),
    (lambda f: f.drop(columns=["params_b"]).assign(model="no-such-model-anywhere"),
     r"line 2: unknown model 'no-such-model-anywhere'"),
])
def test_a_bad_file_or_row_is_one_sentence(store, tmp_path, change, message):
    path = _write(change(_fleet(10)), tmp_path / "fleet.csv")
    with pytest.raises(SealError, match=message) as err:
        import_measurements(path, "f", db_path=store)
    assert "\n" not in str(err.value)
    assert not len(user_runs(store))                  # nothing stored from a refused file


def test_skip_bad_counts_the_skipped_rows_by_reason(store, tmp_path):
    f = _fleet(10)
    f.loc[0, "measured_gpu_energy_j"] = -1.0
    f.loc[1, "measured_gpu_energy_j"] = -2.0
    f.loc[2, "gpu"] = "Z9000"
    report = import_measurements(_write(f, tmp_path / "fleet.csv"), "f", db_path=store, skip_bad=True)
    assert report.rows == 7
    assert sum(report.skipped.values()) == 3
    assert report.skipped["measured_gpu_energy_j must be positive"] == 2
    assert [n for r, n in report.skipped.items() if r.startswith("Unknown GPU 'Z9000'")] == [1]
    assert "Skipped 3 rows" in str(report)
    assert len(user_runs(store, ["f"])) == 7


def test_source_names_are_checked():
    assert source_name("my-fleet") == source_name("user:my-fleet") == "user:my-fleet"
    for bad in ("", "a b", "../x", "x" * 65):
        with pytest.raises(SealError, match="not a usable source name"):
            source_name(bad)


def test_pull_and_init_keep_the_imported_rows_and_calibrations(store, tmp_path):
    from seal.data.pull import init

    import_measurements(_write(_fleet(40), tmp_path / "fleet.csv"), "keep", db_path=store)
    calibrate("user:keep", db_path=store)
    init(store)                                        # a rebuild of the store from its sources
    assert len(user_runs(store, ["keep"])) == 40
    assert "user:keep" in load_calibrations(store)


def test_remove_drops_rows_files_and_calibration(store, tmp_path):
    import_measurements(_write(_fleet(40), tmp_path / "fleet.csv"), "gone", db_path=store)
    calibrate("user:gone", db_path=store)
    assert remove_source("user:gone", db_path=store) == 40
    assert not len(user_runs(store)) and not len(user_sources(store)) and not load_calibrations(store)
    with pytest.raises(SealError, match="No imported measurements named user:gone; imported: none"):
        remove_source("gone", db_path=store)


def test_an_mlenergy_benchmark_result_imports_one_row_per_configuration(store, tmp_path):
    result = {  # the ML.ENERGY-benchmark v3 result layout, made-up numbers
        "model_id": "fleet/Model-8B", "task": "lm-arena-chat", "total_params_billions": 8.0,
        "activated_params_billions": 8.0, "weight_precision": "bfloat16", "architecture": "Dense Transformer",
        "configurations": [
            {"gpu_model": "H100", "num_gpus": 1, "avg_batch_size": b, "avg_output_len": 600.0,
             "energy_per_request_joules": e, "avg_power_watts": 500.0, "output_throughput_tokens_per_sec": 900.0,
             "max_num_seqs": int(b), "parallelization": {"tensor_parallel": 1}}
            for b, e in ((8.0, 300.0), (32.0, 150.0), (128.0, 90.0))]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result))
    report = import_measurements(path, "bench", db_path=store)
    assert (report.kind, report.rows) == ("mlenergy", 3)
    runs = user_runs(store, ["bench"])
    assert runs["request_energy_j"].tolist() == [300.0, 150.0, 90.0]
    assert runs["batch_size"].tolist() == [8.0, 32.0, 128.0]
    assert set(runs["measured_basis"]) == {"benchmark-mean"} and runs["power_w"].eq(500.0).all()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"configurations": [{"gpu_model": "H100"}]}))
    with pytest.raises(SealError, match=r"bad\.json lacks the field\(s\) model_id"):
        import_measurements(bad, "bench2", db_path=store)


# ---------------------------------------------------------------- calibration recovers the fleet
def test_calibration_recovers_a_synthetic_fleet_to_within_its_noise(store, tmp_path):
    import_measurements(_write(_fleet(300), tmp_path / "fleet.csv"), "synth", db_path=store)
    payload = calibrate("user:synth", db_path=store)
    before, after = payload["agreement"][0], payload["agreement"][1]
    assert before["stage"].startswith("before") and after["stage"].startswith("after calibration")
    assert before["median_ape"] > 0.25                          # SEAL as shipped is far off this fleet
    assert after["median_ape"] <= 1.25 * NOISE_MEDIAN_APE       # cross-validated: back to the meter's noise
    assert abs(after["bias"]) < 0.03
    assert 0.7 <= after["coverage_80"] <= 0.9
    lo, hi = payload["intervals"]["request"]
    assert -3 * NOISE_SD < lo < 0 < hi < 3 * NOISE_SD            # the interval is the noise's, not SEAL's
    # and on a fresh sample of the same fleet never seen by the calibration
    fresh = _fleet(200, seed=99)
    est = seal.estimate(fresh.drop(columns=["measured_gpu_energy_j"]), deployment="user:synth")
    ape = np.abs(est["gpu_energy_j"] / fresh["measured_gpu_energy_j"] - 1)
    assert np.median(ape) <= 1.25 * NOISE_MEDIAN_APE
    inside = (fresh["measured_gpu_energy_j"] >= est["gpu_energy_low_j"]) & \
        (fresh["measured_gpu_energy_j"] <= est["gpu_energy_high_j"])
    assert 0.7 <= inside.mean() <= 0.95


def test_phases_measured_apart_are_calibrated_apart(store, tmp_path):
    import_measurements(_write(_fleet(200, phases=True), tmp_path / "fleet.csv"), "ph", db_path=store)
    payload = calibrate("user:ph", db_path=store)
    assert payload["targets"] == ["prefill", "decode"]
    stages = {(a["stage"][:5], a["target"]): a["median_ape"] for a in payload["agreement"]}
    assert stages[("after", "decode")] < stages[("befor", "decode")]
    assert stages[("after", "prefill")] <= 1.3 * NOISE_MEDIAN_APE


def test_a_constant_meter_offset_gets_a_constant_correction():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 4))
    y = np.log(1.8) + rng.normal(0, 0.05, 200)
    groups = np.array(["vllm|H100-SXM"] * 200, dtype=object)
    m = DeploymentCalibration().fit(X, y, groups, folds=np.arange(200) % 5)
    assert not m.uses_slopes_
    assert np.exp(m.predict_log(X[:3], groups[:3])) == pytest.approx([1.8] * 3, rel=0.02)
    # a group never measured gets the deployment's own factor only, and is flagged
    assert m.outside(X[:1], np.array(["vllm|B200"], dtype=object)).tolist() == [True]
    back = DeploymentCalibration.from_dict(json.loads(json.dumps(m.to_dict())))
    assert back.predict_log(X[:5], groups[:5]) == pytest.approx(m.predict_log(X[:5], groups[:5]))


def test_group_offsets_shrink_toward_the_deployment_factor():
    X = np.zeros((22, 4))
    groups = np.array(["a"] * 20 + ["b"] * 2, dtype=object)
    y = np.where(groups == "a", 0.0, 1.0)
    m = DeploymentCalibration(slopes=False, group_shrink_rows=10.0).fit(X, y, groups)
    own_b = m.intercept_ + m.group_offsets_["b"]
    assert 0.0 < own_b < 0.5               # two rows of group b do not get their whole deviation (1.0)


# ---------------------------------------------------------------- estimates with the deployment
def test_estimates_apply_the_deployment_by_option_or_column(store, tmp_path):
    import_measurements(_write(_fleet(150), tmp_path / "fleet.csv"), "dep", db_path=store)
    calibrate("user:dep", db_path=store)
    req = pd.DataFrame({"model": ["fleet-llama-8b"] * 2, "params_b": [8.0, 8.0], "gpu": ["H100", "H100"],
                        "batch_size": [32.0, 32.0], "input_tokens": [500, 500], "output_tokens": [300, 300]})
    plain = seal.estimate(req)
    by_option = seal.estimate(req, deployment="user:dep")
    by_column = seal.estimate(req.assign(deployment=["user:dep", None]))
    f = by_option["calibration_factor"].to_numpy()
    assert np.all(f > 1.2)                                             # the fleet draws more than SEAL says
    assert by_option["gpu_energy_j"].to_numpy() == pytest.approx(plain["gpu_energy_j"].to_numpy() * f)
    assert by_option["prefill_energy_j"].add(by_option["decode_energy_j"]).to_numpy() == \
        pytest.approx(by_option["gpu_energy_j"].to_numpy())
    assert by_column["gpu_energy_j"].iloc[0] == pytest.approx(by_option["gpu_energy_j"].iloc[0])
    assert by_column["gpu_energy_j"].iloc[1] == pytest.approx(plain["gpu_energy_j"].iloc[1])
    assert "calibrated-deployment" in by_option["warnings"].iloc[0]
    assert "calibrated-deployment" not in by_column["warnings"].iloc[1]
    assert by_option["sources"].iloc[0].endswith("user:dep")
    assert (by_option["total_g_co2e"] > plain["total_g_co2e"]).all()     # CO2e follows the calibrated energy
    # a GPU the fleet never measured: the overall factor, flagged, and a wider interval
    other = seal.estimate(req.assign(gpu="L4"), deployment="user:dep")
    assert "calibration-outside-coverage" in other["warnings"].iloc[0]
    width = lambda r: (r["gpu_energy_high_j"] / r["gpu_energy_low_j"]).iloc[0]  # noqa: E731
    assert width(other) > width(by_option)
    with pytest.raises(SealError, match=r"No calibration for the deployment 'user:nope'; calibrated deployments: user:dep"):
        seal.estimate(req, deployment="user:nope")


def test_apply_calibration_leaves_rows_without_a_deployment_alone(store):
    frame = seal.estimate(pd.DataFrame({"params_b": [8.0], "gpu": ["H100"], "input_tokens": [10],
                                        "output_tokens": [10]}))
    out = apply_calibration(frame)
    assert out["calibration_factor"].tolist() == [1.0]
    assert out.drop(columns=["calibration_factor"]).equals(frame.drop(columns=["calibration_factor"]))
    assert "calibrated-deployment" not in out["warnings"].iloc[0]


# ---------------------------------------------------------------- the three commands
def test_three_commands_import_calibrate_estimate(store, tmp_path, capsys):
    path = _write(_fleet(120), tmp_path / "fleet.csv")
    assert main(["--db", str(store), "data", "import", str(path), "--name", "cli-fleet"]) == 0
    out = capsys.readouterr().out
    assert "Imported 120 measured rows from fleet.csv as user:cli-fleet" in out
    assert main(["--db", str(store), "calibrate", "user:cli-fleet"]) == 0
    out = capsys.readouterr().out
    assert "Calibrated user:cli-fleet on 120 measurement(s)" in out and "after calibration (cross-validated)" in out
    result = tmp_path / "out.csv"
    assert main(["--db", str(store), "estimate", "Summarise this paragraph for me.", "--params-b", "8",
                 "--gpu", "H100", "--batch-size", "32", "--output-tokens", "200", "--deployment", "user:cli-fleet",
                 "--out", str(result)]) == 0
    row = pd.read_csv(result).iloc[0]
    assert row["deployment"] == "user:cli-fleet" and row["calibration_factor"] > 1.2
    assert main(["--db", str(store), "data", "status"]) == 0
    assert "user:cli-fleet" in capsys.readouterr().out
    assert main(["--db", str(store), "estimate", "x", "--params-b", "8", "--deployment", "user:other"]) == 2
    assert "No calibration for the deployment 'user:other'" in capsys.readouterr().err


def test_validate_source_reports_before_and_after_per_group(store, tmp_path, capsys):
    import_measurements(_write(_fleet(150), tmp_path / "fleet.csv"), "val", db_path=store)
    table = validate_source("user:val", db_path=store)
    groups = [s for s in table["source"] if "[" in s]
    assert set(groups) == {"user:val [vllm on H100-SXM]", "user:val [vllm on A100-SXM4-80GB]"}
    overall = table[table["source"] == "user:val"].set_index("stage")["median_ape"]
    assert overall["after calibration (cross-validated)"] < overall["before (SEAL as shipped)"] / 2
    assert main(["--db", str(store), "validate", "--source", "user:val", "--out", str(tmp_path / "v.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "v.csv")) == len(table)
    assert main(["--db", str(store), "validate", "--source", "user:absent"]) == 2
    assert "No imported measurements named user:absent" in capsys.readouterr().err


def test_calibration_needs_a_few_measurements(store, tmp_path):
    import_measurements(_write(_fleet(3), tmp_path / "fleet.csv"), "tiny", db_path=store)
    with pytest.raises(SealError, match=r"user:tiny has 3 usable measurement\(s\); calibration needs at least 5"):
        calibrate("user:tiny", db_path=store)


def test_train_with_user_rows_records_them_and_weights_them(pulled_store, tmp_path, monkeypatch):
    from seal.estimator.artifact import load_model
    from seal.estimator.train import train

    db = tmp_path / "seal.duckdb"
    shutil.copy(pulled_store, db)
    monkeypatch.setenv("SEAL_DB", str(db))
    import_measurements(_write(_fleet(80), tmp_path / "fleet.csv"), "own", db_path=db)
    out = train(db, out_path=tmp_path / "model.json", with_sources=["user:own"], user_weight=5.0)
    art = json.loads(Path(out).read_text())
    used = art["provenance"]["user_sources"]
    assert [(u["source"], u["file"], u["rows"], u["weight"]) for u in used] == [("user:own", "fleet.csv", 80, 5.0)]
    assert art["provenance"]["rows_per_source"]["user:own"] == 80
    # the refit moved toward the fleet: its estimates of the fleet's rows are closer than the shipped model's
    fleet = _fleet(80)
    req = fleet.drop(columns=["measured_gpu_energy_j"])
    shipped = seal.estimate(req)["gpu_energy_j"]
    refit = seal.estimate(req, energy_model=load_model(out))["gpu_energy_j"]
    err = lambda e: float(np.median(np.abs(np.log(e / fleet["measured_gpu_energy_j"]))))  # noqa: E731
    assert err(refit) < err(shipped)


# ---------------------------------------------------------------- CodeCarbon windows + a request log
def _codecarbon_fleet(tmp_path: Path, windows: int = 12, per_window: int = 15, seed: int = 5):
    """A request log (timestamps, tokens) and the emissions.csv a CodeCarbon tracker flushed once a minute while
    serving it: running totals of the fleet's true GPU energy (x 5 % meter noise per window) in kWh."""
    from seal.data.codecarbon import CODECARBON_COLUMNS
    from seal.estimator import estimate_energy
    from seal.logs.normalize import prepare_requests

    rng = np.random.default_rng(seed)
    n = windows * per_window
    start = pd.Timestamp("2026-11-30 09:00:00", tz="UTC")
    seconds = np.sort(rng.uniform(0, 60 * windows, n))
    log = pd.DataFrame({
        "timestamp": [(start + pd.Timedelta(seconds=float(s))).isoformat() for s in seconds],
        "model": "fleet-llama-8b", "params_b": 8.0, "batch_size": rng.choice([8, 32, 64], n).astype(float),
        "input_tokens": rng.integers(50, 3000, n), "output_tokens": rng.integers(20, 800, n)})
    truth = estimate_energy(prepare_requests(log.drop(columns="timestamp").assign(gpu="H100")),
                            model=_truth_model())["gpu_energy_j"].to_numpy()
    win = (seconds // 60).astype(int)
    gpu_j = np.bincount(win, weights=truth, minlength=windows) * np.exp(rng.normal(0, 0.05, windows))
    rows = []
    for k in range(windows):
        t = (start + pd.Timedelta(seconds=60 * (k + 1))).tz_convert(None).strftime("%Y-%m-%dT%H:%M:%S")
        gpu_kwh = gpu_j[: k + 1].sum() / 3.6e6
        cpu_kwh, ram_kwh = 0.002 * (k + 1), 0.001 * (k + 1)
        row = {c: "" for c in CODECARBON_COLUMNS}
        row.update(timestamp=t, project_name="serving", run_id="5e0c1d2b-aaaa-4bbb-8ccc-123456789abc",
                   experiment_id="x", duration=60.0 * (k + 1), emissions=0.0, emissions_rate=0.0,
                   cpu_power=120.0, gpu_power=700.0, ram_power=60.0, cpu_energy=cpu_kwh, gpu_energy=gpu_kwh,
                   ram_energy=ram_kwh, energy_consumed=cpu_kwh + gpu_kwh + ram_kwh, water_consumed=0.0,
                   country_name="France", country_iso_code="FRA", codecarbon_version="3.3.2", gpu_count=1,
                   gpu_model="1 x NVIDIA H100 80GB HBM3", tracking_mode="machine", on_cloud="N", pue=1.0, wue=0.0)
        rows.append(row)
    emissions = tmp_path / "emissions.csv"
    pd.DataFrame(rows, columns=list(CODECARBON_COLUMNS)).to_csv(emissions, index=False)
    requests = _write(log, tmp_path / "requests.csv")
    return emissions, requests, gpu_j


def test_a_codecarbon_emissions_csv_is_shared_among_its_requests_and_calibrated_on_windows(store, tmp_path):
    emissions, requests, gpu_j = _codecarbon_fleet(tmp_path)
    report = import_measurements(emissions, "cc", db_path=store, requests=requests)
    assert (report.kind, report.rows) == ("codecarbon", 180)
    assert "tokens" in report.method
    runs = user_runs(store, ["cc"])
    assert set(runs["gpu"]) == {"H100-SXM"}                       # the GPU CodeCarbon saw
    assert set(runs["measured_basis"]) == {"window-apportioned"}
    per_window = runs.groupby("measure_group", sort=False)["request_energy_j"].sum().to_numpy()
    assert np.sort(per_window) == pytest.approx(np.sort(gpu_j), rel=1e-9)   # each window's energy, shared exactly
    # shares follow tokens within a window
    first = runs[runs["measure_group"] == runs["measure_group"].iloc[0]]
    share = first["request_energy_j"] / first["request_energy_j"].sum()
    tokens = first["input_tokens"] + first["output_tokens"]
    assert share.to_numpy() == pytest.approx((tokens / tokens.sum()).to_numpy())
    payload = calibrate("user:cc", db_path=store)
    assert payload["observations"] == 12 and payload["interval_basis"] == "window totals"
    after = payload["agreement"][1]
    assert after["n"] == 12 and after["median_ape"] < 0.12 < payload["agreement"][0]["median_ape"]
    server = [a for a in payload["agreement"] if a["target"].startswith("server")]
    assert [a["target"] for a in server] == ["server (gpu+cpu+ram (CodeCarbon))"] * 2 and server[0]["n"] == 12


def test_codecarbon_needs_its_request_log(store, tmp_path):
    emissions, _, _ = _codecarbon_fleet(tmp_path, windows=3)
    with pytest.raises(SealError, match="needs the request log it measured: give --requests LOG"):
        import_measurements(emissions, "cc", db_path=store)


def test_two_imports_at_once_both_keep_their_rows(store, tmp_path):
    import subprocess
    import sys

    a = _write(_fleet(30, seed=1), tmp_path / "a.csv")
    b = _write(_fleet(40, seed=2), tmp_path / "b.csv")
    cmd = [sys.executable, "-m", "seal.cli", "--db", str(store), "data", "import"]
    procs = [subprocess.Popen([*cmd, str(f), "--name", n], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for f, n in ((a, "one"), (b, "two"))]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    assert len(user_runs(store, ["one"])) == 30 and len(user_runs(store, ["two"])) == 40


def test_what_if_keeps_each_requests_deployment(store, tmp_path):
    from seal.whatif import run_scenario

    import_measurements(_write(_fleet(100), tmp_path / "fleet.csv"), "wi", db_path=store)
    calibrate("user:wi", db_path=store)
    req = pd.DataFrame({"params_b": [8.0] * 4, "gpu": ["H100"] * 4, "batch_size": [32.0] * 4,
                        "input_tokens": [100, 200, 300, 400], "output_tokens": [50, 60, 70, 80],
                        "deployment": ["user:wi", "user:wi", None, None]})
    rows = seal.estimate(req)["gpu_energy_j"].sum()
    result, weights = run_scenario(req, {})
    assert (result["gpu_energy_j"] * weights).sum() == pytest.approx(rows)
    assert rows > seal.estimate(req.drop(columns="deployment"))["gpu_energy_j"].sum() * 1.1


def test_a_store_that_cannot_be_read_is_never_rebuilt_over(store, tmp_path):
    from seal.data.pull import init
    from seal.errors import DataSourceError

    import_measurements(_write(_fleet(20), tmp_path / "fleet.csv"), "precious", db_path=store)
    before = store.read_bytes()
    damaged = bytearray(before)
    damaged[:64] = b"\0" * 64                     # the header of the DuckDB file lost
    store.write_bytes(bytes(damaged))
    with pytest.raises(DataSourceError, match=r"could not be read .*nothing was changed"):
        init(store)
    assert store.read_bytes() == bytes(damaged)   # left as it was, for the team to recover


# ---------------------------------------------------------------- what a demanding reviewer tried
def test_readings_in_the_wrong_unit_are_refused_and_a_few_outliers_do_not_move_the_fit(store, tmp_path):
    f = _fleet(300)
    f.loc[:5, "measured_gpu_energy_j"] /= 3.6e6                    # six readings in kWh
    with pytest.raises(SealError, match=r"line 2: measured_gpu_energy_j is .* x SEAL's estimate .* check its unit"):
        import_measurements(_write(f, tmp_path / "fleet.csv"), "units", db_path=store)
    report = import_measurements(_write(f, tmp_path / "fleet.csv"), "units", db_path=store, skip_bad=True)
    assert report.rows == 294 and sum(report.skipped.values()) == 6
    clean = calibrate("user:units", db_path=store)["factor"]["request"]
    g = _fleet(300)
    g.loc[:5, "measured_gpu_energy_j"] *= 20                       # six plausible-looking but wrong readings
    import_measurements(_write(g, tmp_path / "g.csv"), "outliers", db_path=store)
    payload = calibrate("user:outliers", db_path=store)
    assert payload["factor"]["request"] == pytest.approx(clean, rel=0.05)
    assert payload["agreement"][1]["median_ape"] <= 1.3 * NOISE_MEDIAN_APE


def test_a_calibration_belongs_to_the_energy_model_it_corrected(store, tmp_path):
    import_measurements(_write(_fleet(60), tmp_path / "fleet.csv"), "own", db_path=store)
    calibrate("user:own", db_path=store)
    req = pd.DataFrame({"params_b": [8.0], "gpu": ["H100"], "input_tokens": [300], "output_tokens": [200]})
    assert seal.estimate(req, deployment="user:own")["calibration_factor"].iloc[0] > 1.2
    with pytest.raises(SealError, match=r"fitted on another energy model .* run `seal calibrate user:own` again"):
        seal.estimate(req, deployment="user:own", energy_model=_truth_model())


def test_outside_the_measured_sizes_the_deployment_factor_and_seals_own_width_apply(store, tmp_path):
    import_measurements(_write(_fleet(200), tmp_path / "fleet.csv"), "sized", db_path=store)
    payload = calibrate("user:sized", db_path=store)
    req = pd.DataFrame({"model": ["gpt-4o"], "gpu": ["H100"], "batch_size": [32.0], "input_tokens": [500],
                        "output_tokens": [300]})
    plain = seal.estimate(req)
    cal = seal.estimate(req, deployment="user:sized")
    assert "calibration-outside-coverage" in cal["warnings"].iloc[0]
    m = DeploymentCalibration.from_dict(payload["corrections"]["request"])
    own = float(np.exp(m.own_log_factor(np.array(["vllm|H100-SXM"], dtype=object))[0]))
    assert cal["calibration_factor"].iloc[0] == pytest.approx(own, rel=1e-6)
    width = lambda r: float(r["gpu_energy_high_j"].iloc[0] / r["gpu_energy_low_j"].iloc[0])  # noqa: E731
    assert width(cal) >= width(plain) * 0.999            # the closed model's size range is not thrown away


def test_a_latency_measured_fleet_is_its_own_group(store, tmp_path):
    f = _fleet(40)
    f["latency_s"] = 2.0
    import_measurements(_write(f, tmp_path / "fleet.csv"), "lat", db_path=store)
    payload = calibrate("user:lat", db_path=store)
    assert all(g.endswith("|latency") for g in payload["groups"])
    req = pd.DataFrame({"params_b": [8.0], "gpu": ["H100"], "input_tokens": [300], "output_tokens": [200]})
    assert "calibration-outside-coverage" in seal.estimate(req, deployment="user:lat")["warnings"].iloc[0]


def test_small_samples_get_a_conformal_interval():
    from seal.estimator.calibrate import _quantiles

    r = np.array([-0.1, -0.05, 0.0, 0.02, 0.05, 0.08])           # n = 6: beyond the sample
    lo, hi = _quantiles(r)
    assert lo == pytest.approx(1.5 * -0.1 - 1e-3) and hi == pytest.approx(1.5 * 0.08 + 1e-3)
    big = np.linspace(-1, 1, 99)                                  # n = 99: the 90th of 100 ranks
    assert _quantiles(big) == pytest.approx([big[9], big[89]])


def test_codecarbon_requests_keep_a_per_request_interval(store, tmp_path):
    from seal.estimator import estimate_energy
    from seal.logs.normalize import prepare_requests

    emissions, requests, _ = _codecarbon_fleet(tmp_path, windows=20)
    import_measurements(emissions, "ccw", db_path=store, requests=requests)
    calibrate("user:ccw", db_path=store)
    log = pd.read_csv(requests).drop(columns="timestamp").assign(gpu="H100")
    truth = estimate_energy(prepare_requests(log), model=_truth_model())["gpu_energy_j"].to_numpy()
    cal = seal.estimate(log, deployment="user:ccw")
    inside = (truth >= cal["gpu_energy_low_j"].to_numpy()) & (truth <= cal["gpu_energy_high_j"].to_numpy())
    assert inside.mean() >= 0.7             # a window interval alone covered ~40 % of single requests


def test_codecarbon_errors_name_the_request_logs_line_and_a_gpu_less_tracker(store, tmp_path):
    from seal.data.codecarbon import CODECARBON_COLUMNS

    emissions, requests, _ = _codecarbon_fleet(tmp_path, windows=3)
    log = pd.read_csv(requests)
    log.loc[4, "params_b"] = np.nan
    log.loc[4, "model"] = "no-such-model-anywhere"
    bad_log = _write(log, tmp_path / "bad_log.csv")
    with pytest.raises(SealError, match=r"^bad_log\.csv, line 6: unknown model 'no-such-model-anywhere'"):
        import_measurements(emissions, "cc", db_path=store, requests=bad_log)
    no_gpu = pd.read_csv(emissions).assign(gpu_energy=0.0)
    with pytest.raises(SealError, match=r"CodeCarbon recorded no GPU energy"):
        import_measurements(_write(no_gpu[list(CODECARBON_COLUMNS)], tmp_path / "nogpu.csv"), "cc", db_path=store,
                            requests=requests)
    with pytest.raises(SealError, match=r"--requests is for a CodeCarbon emissions\.csv"):
        import_measurements(_write(_fleet(5), tmp_path / "t.csv"), "t", db_path=store, requests=requests)


def test_request_times_in_another_zone_are_placed_in_their_windows(store, tmp_path):
    emissions, requests, gpu_j = _codecarbon_fleet(tmp_path, windows=6)
    log = pd.read_csv(requests)
    paris = pd.to_datetime(log["timestamp"], utc=True).dt.tz_convert("Europe/Paris").dt.tz_localize(None)
    local = _write(log.assign(timestamp=paris.astype(str)), tmp_path / "local.csv")   # no offset, Paris time
    report = import_measurements(emissions, "tz", db_path=store, requests=local, requests_tz="Europe/Paris")
    assert report.rows == 90 and not report.skipped
    per_window = user_runs(store, ["tz"]).groupby("measure_group")["request_energy_j"].sum()
    assert np.sort(per_window.to_numpy()) == pytest.approx(np.sort(gpu_j))


@pytest.mark.parametrize("text, message", [
    ("model,params_b,gpu,input_tokens,output_tokens,measured_gpu_energy_j,measured_gpu_energy_j\nx,8,H100,1,1,5,6\n",
     r"has the column 'measured_gpu_energy_j' twice"),
    ("model,params_b,gpu,input_tokens,output_tokens,measured_gpu_energy_j\nx,8,H100,1,1,nan\n",
     r"line 2: measured_gpu_energy_j is not a number"),
    ("model,params_b,gpu,input_tokens,output_tokens,measured_gpu_energy_j\nx,8,H100,1,1,5,EXTRA\n",
     r"rows with more fields than its header"),
])
def test_malformed_tables_are_one_sentence(store, tmp_path, text, message):
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(SealError, match=message):
        import_measurements(path, "m", db_path=store)


def test_a_gateways_own_deployment_names_are_left_alone(store, tmp_path):
    import_measurements(_write(_fleet(60), tmp_path / "fleet.csv"), "gw", db_path=store)
    calibrate("user:gw", db_path=store)
    req = pd.DataFrame({"params_b": [8.0] * 3, "gpu": ["H100"] * 3, "input_tokens": [300] * 3,
                        "output_tokens": [200] * 3, "deployment": ["prod-eu", "gw", "user:gw"]})
    out = seal.estimate(req)
    assert out["deployment"].tolist() == ["prod-eu", "user:gw", "user:gw"]
    assert out["calibration_factor"].iloc[0] == 1.0 and (out["calibration_factor"].iloc[1:] > 1.2).all()
    # the option fills the rows that name no SEAL deployment
    assert (seal.estimate(req, deployment="user:gw")["calibration_factor"] > 1.2).all()
    with pytest.raises(SealError, match=r"No calibration for the deployment 'user:other'"):
        seal.estimate(req.assign(deployment="user:other"))


def test_a_calibration_knows_when_it_is_stale(store, tmp_path):
    from seal.estimator.calibrate import calibration_state

    a = _write(_fleet(40, seed=1), tmp_path / "a.csv")
    import_measurements(a, "st", db_path=store)
    payload = calibrate("user:st", db_path=store)
    assert calibration_state(payload, store) == "current"
    import_measurements(_write(_fleet(40, seed=2) .assign(measured_gpu_energy_j=lambda f: f["measured_gpu_energy_j"] * 3),
                               tmp_path / "b.csv"), "st", db_path=store, replace=True)   # same row count
    assert calibration_state(load_calibrations(store)["user:st"], store) == "stale"
    other = dict(payload, energy_model={"fingerprint": "0" * 16})
    assert calibration_state(other, store) == "other-model"


def test_the_html_report_of_a_calibrated_result_names_the_deployment_and_its_factor(store, tmp_path):
    from seal.ui.export import html_report

    import_measurements(_write(_fleet(60), tmp_path / "fleet.csv"), "rep", db_path=store)
    calibrate("user:rep", db_path=store)
    req = pd.DataFrame({"params_b": [8.0, 8.0], "gpu": ["H100", "H100"], "input_tokens": [300, 300],
                        "output_tokens": [200, 200], "deployment": ["user:rep", "prod-eu"]})
    result = seal.estimate(req)
    import html

    page = html.unescape(html_report("Estimate", result=result).decode())
    factor = f"×{result['calibration_factor'].iloc[0]:.3g}"
    assert "Calibrated to your deployment</b> user:rep: SEAL's GPU energy from public benchmarks " + factor in page
    assert "(1 of 2 rows)" in page and "prod-eu:" not in page


def test_a_what_if_comparison_names_the_deployment_it_ran_under(store, tmp_path):
    from seal.whatif import compare

    import_measurements(_write(_fleet(60), tmp_path / "fleet.csv"), "cmp", db_path=store)
    calibrate("user:cmp", db_path=store)
    req = pd.DataFrame({"params_b": [8.0], "gpu": ["H100"], "input_tokens": [300], "output_tokens": [200]})
    table = compare(req, [{}, {"region": "SWE"}], deployment="user:cmp")
    assert table["deployment"].tolist() == ["user:cmp", "user:cmp"]
    assert "deployment" not in compare(req, [{}, {"region": "SWE"}]).columns


def test_seal_data_remove_says_what_it_removed(store, tmp_path, capsys):
    import_measurements(_write(_fleet(20), tmp_path / "fleet.csv"), "rm", db_path=store)
    assert main(["--db", str(store), "data", "remove", "user:rm"]) == 0
    assert capsys.readouterr().out.strip() == "Removed user:rm: 20 rows."
    import_measurements(_write(_fleet(20), tmp_path / "fleet.csv"), "rm", db_path=store)
    calibrate("user:rm", db_path=store)
    assert main(["--db", str(store), "data", "remove", "rm"]) == 0
    assert capsys.readouterr().out.strip() == "Removed user:rm: 20 rows and its calibration."
