"""``EnergyModel.fit`` / ``predict`` on synthetic benchmark runs with a known physics (offline, no store).

The runs are ``benchmark_runs``-shaped rows (LLM-Perf-like batch-1 phase rows on ``transformers``, ML.ENERGY
v3-like request rows on ``vllm``) whose measured energies, times and power are what the physics predicts with
known constants (:func:`_truth`): a fit must find those constants back and predict held-out rows.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from seal.estimator.model import EnergyModel
from seal.estimator.physics import PhysicsParams

MODELS = {"meta-llama/Llama-3.1-8B-Instruct": 8.0, "Qwen/Qwen2.5-14B-Instruct": 14.8,
          "Qwen/Qwen2.5-32B-Instruct": 32.8}
TRUE_MEMORY_EFF = 0.6   # vLLM's achieved share of memory bandwidth in the synthetic truth (prior: 0.7)


def _truth(memory_eff: float = TRUE_MEMORY_EFF) -> EnergyModel:
    """A model with known constants, unfitted otherwise (physics only)."""
    p = PhysicsParams().to_dict()
    p.update(vllm_compute_eff=0.4, vllm_memory_eff=memory_eff, transformers_memory_eff=0.45, power_idle=0.25)
    m = EnergyModel()
    m.params_ = PhysicsParams(**p)
    return m


def _runs(n: int = 80, seed: int = 0, memory_eff: float = TRUE_MEMORY_EFF, served: str = "vllm") -> pd.DataFrame:
    """Synthetic ``benchmark_runs``: the first half batch-1 phase rows (transformers), the rest batched requests
    on ``served``, measured exactly as :func:`_truth` predicts them."""
    rng = np.random.default_rng(seed)
    names = rng.choice(list(MODELS), n)
    eager = np.arange(n) < n // 2
    runs = pd.DataFrame({
        "source": np.where(eager, "llm-perf", "mlenergy-v3"), "model_id": names,
        "params_b": [MODELS[m] for m in names], "active_params_b": np.nan, "params_source": "catalogue",
        "engine": np.where(eager, "transformers", served), "gpu": rng.choice(["H100-SXM", "A100-SXM4-80GB"], n),
        "gpu_count": rng.choice([1.0, 2.0], n), "batch_size": np.where(eager, 1.0, rng.choice([8.0, 32.0, 128.0], n)),
        "input_tokens": rng.integers(100, 2000, n).astype(float),
        "output_tokens": rng.integers(50, 500, n).astype(float),
        "weight_bits": 16.0, "precision": "bfloat16", "quantization": "none", "task": "chat", "device": "cuda",
    })
    p = _truth(memory_eff).predict(runs)
    runs["prefill_energy_j"] = np.where(eager, p["prefill_energy_j"], np.nan)
    runs["decode_energy_j"] = np.where(eager, p["decode_energy_j"], np.nan)
    runs["request_energy_j"] = p["request_energy_j"]
    runs["prefill_latency_s"] = np.where(eager, p["prefill_s"], np.nan)
    runs["decode_latency_s"] = np.where(eager, p["decode_s"], np.nan)
    runs["throughput_tok_s"] = np.where(eager, np.nan, runs["gpu_count"] * runs["output_tokens"] / p["gpu_time_s"])
    runs["power_w"] = np.where(eager, np.nan, p["power_w"] * runs["gpu_count"])
    return runs


def _log_error(pred: pd.Series, measured: pd.Series) -> np.ndarray:
    ok = measured.notna()
    return np.abs(np.log(pred[ok].to_numpy() / measured[ok].to_numpy()))


@pytest.fixture(scope="module")
def fitted() -> EnergyModel:
    return EnergyModel().fit(_runs())


def test_fit_recovers_the_physics_it_was_generated_from(fitted):
    held_out = _runs(40, seed=9)
    pred = fitted.predict(held_out)
    for col in ("request_energy_j", "prefill_energy_j", "decode_energy_j"):
        err = _log_error(pred[col], held_out[col])
        assert np.median(err) < 0.05 and err.max() < 0.1, col
    assert _log_error(pred["power_w"], held_out["power_w"] / held_out["gpu_count"]).max() < 0.1
    # the well-measured constant moves from its prior (0.7) to the truth
    assert fitted.params_.vllm_memory_eff == pytest.approx(TRUE_MEMORY_EFF, rel=0.1)


def test_predict_output_contract(fitted):
    runs = _runs(10, seed=3)
    pred = fitted.predict(runs)
    assert list(pred.columns) == ["prefill_energy_j", "decode_energy_j", "request_energy_j", "gpu_time_s",
                                  "power_w", "prefill_s", "decode_s"]
    assert pred.index.equals(runs.index)
    np.testing.assert_allclose(pred["request_energy_j"], pred["prefill_energy_j"] + pred["decode_energy_j"])
    np.testing.assert_allclose(pred["power_w"], pred["request_energy_j"] / pred["gpu_time_s"])


def test_benchmark_rows_and_request_rows_predict_alike(fitted):
    runs = _runs(6, seed=4)
    requests = pd.DataFrame({
        "model": runs["model_id"], "params_b": runs["params_b"], "active_params_b": runs["params_b"],
        "bytes_per_param": 2.0, "compute": "bf16", "quant_scheme": "", "engine": runs["engine"], "gpu": runs["gpu"],
        "gpus": runs["gpu_count"], "batch_size": runs["batch_size"], "input_tokens": runs["input_tokens"],
        "output_tokens": runs["output_tokens"]}, index=runs.index)
    pd.testing.assert_frame_equal(fitted.predict(runs), fitted.predict(requests))


@pytest.mark.parametrize("correction", ["none", "ridge"])
def test_serialised_model_predicts_identically(correction):
    model = EnergyModel(correction=correction).fit(_runs(60, seed=1, served="vllm-2024"))
    restored = EnergyModel.from_dict(json.loads(json.dumps(model.to_dict())))   # the artifact is JSON
    runs = _runs(20, seed=7, served="vllm-2024")
    pd.testing.assert_frame_equal(restored.predict(runs), model.predict(runs), check_exact=True)
    assert restored.to_dict() == model.to_dict()


def test_fit_does_not_mutate_its_input():
    runs = _runs(40, seed=2)
    before = runs.copy(deep=True)
    EnergyModel(correction="ridge").fit(runs)
    pd.testing.assert_frame_equal(runs, before)


def test_predict_before_fit_raises():
    with pytest.raises(AttributeError, match="params_"):
        EnergyModel().predict(_runs(4))


def test_hyperparameters_survive_fit():
    model = EnergyModel(correction="ridge", ridge_alpha=7.0, v2_input_tokens=123.0)
    assert model.fit(_runs(40)) is model   # fit returns the estimator (scikit-learn style)
    assert (model.correction, model.ridge_alpha, model.v2_input_tokens) == ("ridge", 7.0, 123.0)


def test_no_state_shared_between_models(fitted):
    runs = _runs(20, seed=5)
    before = fitted.predict(runs)
    other = EnergyModel().fit(_runs(80, seed=0, memory_eff=0.3))
    pd.testing.assert_frame_equal(fitted.predict(runs), before)   # fitting another model changed nothing here
    assert other.params_.vllm_memory_eff == pytest.approx(0.3, rel=0.1)
    served = runs["engine"] == "vllm"
    assert (other.predict(runs)["decode_s"][served] > before["decode_s"][served]).all()   # half the bandwidth


def test_unusable_rows_are_left_out(fitted):
    runs = _runs()
    bad = runs.iloc[:4].copy()
    bad["device"] = ["cpu", "cuda", "cuda", "cuda"]
    bad["task"] = ["chat", "mllm-vqa", "chat", "chat"]
    bad["engine"] = ["transformers", "transformers", "onnx", "transformers"]
    bad.iloc[3, bad.columns.get_loc("prefill_energy_j")] = 0.0
    model = EnergyModel().fit(pd.concat([runs, bad], ignore_index=True))
    assert model.n_train_ == fitted.n_train_ == len(runs)
    assert model.params_ == fitted.params_


def test_training_summary(fitted):
    runs = _runs()
    assert fitted.train_gpus_ == ["A100-SXM4-80GB", "H100-SXM"]
    assert fitted.train_sources_ == ["llm-perf", "mlenergy-v3"]
    assert fitted.train_max_params_b_ == pytest.approx(32.8)
    for gpu in fitted.train_gpus_:
        on_gpu = runs[runs["gpu"] == gpu]
        assert fitted.gpu_rows_[gpu] == {"transformers": int((on_gpu["engine"] == "transformers").sum()),
                                         "vllm-2024": 0, "vllm": int((on_gpu["engine"] == "vllm").sum())}
        assert fitted.gpu_sources_[gpu] == sorted(on_gpu["source"].unique())


def _skewed(runs: pd.DataFrame) -> pd.DataFrame:
    """Batched rows measured x (batch / 32)^0.15: a trend the physics does not have."""
    runs = runs.copy()
    served = runs["engine"] != "transformers"
    runs.loc[served, "request_energy_j"] *= (runs.loc[served, "batch_size"] / 32.0) ** 0.15
    return runs


def test_ridge_correction_learns_what_physics_leaves():
    train, test = _skewed(_runs(120, seed=0)), _skewed(_runs(60, seed=5))
    base = EnergyModel().fit(train)
    ridge = EnergyModel(correction="ridge").fit(train, physics_params=base.params_)
    assert ridge.params_ is base.params_ and list(ridge.coef_) == ["vllm"]   # no vllm-2024 rows: no correction
    served = test["engine"] == "vllm"
    err = {name: np.median(_log_error(m.predict(test)["request_energy_j"][served], test["request_energy_j"][served]))
           for name, m in (("physics", base), ("ridge", ridge))}
    assert err["ridge"] < err["physics"] / 2
    # eager rows are never corrected
    eager = ~served
    pd.testing.assert_frame_equal(ridge.predict(test)[eager], base.predict(test)[eager])


def test_ridge_needs_ten_rows_per_engine():
    runs = _runs(40, seed=6)
    few = runs.index[runs["engine"] == "vllm"][9:]   # 9 vllm rows left
    model = EnergyModel(correction="ridge").fit(runs.drop(few))
    assert model.coef_ == {} and model.feature_range_ == {}
