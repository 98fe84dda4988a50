"""The energy estimator: physics behaviour, defaults, flags, errors (offline, with the shipped artifact)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seal.errors import WARNINGS, SealError
from seal.estimator import estimate_energy
from seal.estimator.physics import gpu_required_count


def one(**kw) -> pd.Series:
    base = {"params_b": 8.0, "gpu": "A100", "batch_size": 1.0, "input_tokens": 256.0, "output_tokens": 64.0}
    base.update(kw)
    return estimate_energy(pd.DataFrame([base])).iloc[0]


def test_output_contract():
    from seal.columns import ENERGY_COLUMNS

    r = estimate_energy(pd.DataFrame([{"params_b": 8.0, "gpu": "A100", "input_tokens": 100, "output_tokens": 50}]))
    for col in (*ENERGY_COLUMNS, "gpu_model", "gpus", "batch_size", "precision", "params_b", "active_params_b",
                "params_low_b", "params_high_b", "prefill_energy_low_j", "decode_energy_high_j"):
        assert col in r, col
    row = r.iloc[0]
    assert row.gpu_energy_j == pytest.approx(row.prefill_energy_j + row.decode_energy_j)
    assert row.gpu_energy_low_j < row.gpu_energy_j < row.gpu_energy_high_j
    assert row.prefill_energy_low_j < row.prefill_energy_j < row.prefill_energy_high_j
    assert row.gpu_time_s > 0 and row.gpu_model == "A100-SXM4-80GB"
    codes = row.warnings.split(";")
    # no batch size, engine or model name given: the defaults used and the shape taken from the size are flagged
    assert {"default-serving-setup", "default-engine", "shape-from-size"} <= set(codes), codes
    for code in codes:
        assert code in WARNINGS


def test_more_tokens_and_params_cost_more():
    a = one()
    assert one(input_tokens=2048).prefill_energy_j > a.prefill_energy_j
    assert one(output_tokens=512).decode_energy_j > a.decode_energy_j
    assert one(params_b=30.0).gpu_energy_j > a.gpu_energy_j
    # 1 B -> 8 B -> 30 B: monotone in size for a fixed GPU count
    e = [one(params_b=p, gpus=4).gpu_energy_j for p in (1.0, 8.0, 30.0)]
    assert e[0] < e[1] < e[2]


def test_batch_shares_weight_reads():
    solo = one(batch_size=1, gpu="H100")
    shared = one(batch_size=32, gpu="H100")
    assert shared.decode_energy_j < solo.decode_energy_j / 3


def test_moe_active_params_for_compute_total_for_memory():
    # few tokens per step read only the experts they pick; at a large batch every expert is read each step
    dense = one(params_b=47.0, batch_size=2, gpu="H100")
    moe = one(params_b=47.0, active_params_b=13.0, batch_size=2, gpu="H100")
    assert moe.gpu_energy_j < 0.8 * dense.gpu_energy_j
    assert moe.gpus == dense.gpus  # weights of every expert must fit
    big_dense = one(params_b=47.0, batch_size=512, gpu="H100", output_tokens=200)
    big_moe = one(params_b=47.0, active_params_b=13.0, batch_size=512, gpu="H100", output_tokens=200)
    assert big_moe.gpu_energy_j < big_dense.gpu_energy_j   # compute-bound: active parameters set the cost


def test_default_gpu_count_and_override():
    assert one(params_b=8.0, gpu="H100").gpus == 1
    assert one(params_b=7.0, gpu="T4", precision="float16").gpus == 1     # 14.7 GB in 15.2 GB usable
    assert one(params_b=70.0, gpu="H100").gpus == 2    # 70 B x 2 B x 1.05 = 147 GB in 76 GB usable each
    # a big batch's KV cache needs room too: 64 x 8k tokens -> more GPUs, rounded to a power of two
    assert one(params_b=70.0, gpu="H100", batch_size=64, input_tokens=7000, output_tokens=1000).gpus == 8
    assert one(params_b=70.0, gpu="H100", gpus=8).gpus == 8
    assert gpu_required_count(np.array([405.0]), np.array([1.0]), np.array([80.0]))[0] == 8


def test_default_serving_setup_is_flagged():
    r = estimate_energy(pd.DataFrame([{"params_b": 8.0, "input_tokens": 10, "output_tokens": 10}])).iloc[0]
    assert "default-serving-setup" in r.warnings
    assert r.gpu_model == "H100-SXM" and r.batch_size == 64 and r.precision == "bfloat16"


def test_transferred_gpu_is_flagged_with_wider_interval():
    known = one(gpu="H100", batch_size=32)
    moved = one(gpu="H200", batch_size=32)
    assert moved.estimate_basis == "transferred-gpu" and "transferred-gpu" in moved.warnings
    assert "transferred-gpu" not in known.warnings
    width = lambda r: r.gpu_energy_high_j / r.gpu_energy_low_j  # noqa: E731
    assert width(moved) > width(known)


def test_extrapolated_size_is_flagged():
    r = one(params_b=1000.0, gpu="H100", batch_size=64)
    assert "extrapolated-size" in r.warnings


def test_closed_model_carries_its_range():
    r = estimate_energy(pd.DataFrame([{"model": "gpt-4o", "input_tokens": 100, "output_tokens": 100}])).iloc[0]
    assert r.params_b > 0 and r.gpu_energy_j > 0
    if r.params_low_b < r.params_high_b:
        assert "model-arch-not-released" in r.warnings


def test_latency_path_drives_and_scales():
    base = one(gpu="A100", batch_size=1)
    assert base.estimate_basis == "regression"
    # a benchmarked GPU: latency and size-based estimates are blended, both named
    blend = one(gpu="A100", batch_size=1, latency_s=10.0)
    assert "latency" in blend.estimate_basis
    assert blend.gpu_time_s == pytest.approx(10.0)  # 1 GPU x 10 s / batch 1
    # a GPU without benchmark rows: the measured latency is the better evidence and drives the result
    fast = one(gpu="L4", batch_size=1, latency_s=1.0)
    slow = one(gpu="L4", batch_size=1, latency_s=10.0)
    assert slow.estimate_basis == "latency" and "latency-driven" in slow.warnings and "latency" in slow.sources
    assert slow.gpu_energy_j > 5 * fast.gpu_energy_j
    assert slow.gpu_energy_low_j < slow.gpu_energy_j < slow.gpu_energy_high_j
    ttft = one(gpu="L4", batch_size=1, latency_s=10.0, ttft_s=5.0)
    assert ttft.prefill_energy_j > slow.prefill_energy_j


def test_unknown_model_without_size_names_it():
    with pytest.raises(SealError, match="no-such-model-xyz"):
        estimate_energy(pd.DataFrame([{"model": "no-such-model-xyz", "input_tokens": 1, "output_tokens": 1}]))


def test_unknown_model_with_size_works():
    r = estimate_energy(pd.DataFrame([{"model": "my-private-model", "params_b": 3.0, "gpu": "L4",
                                       "input_tokens": 10, "output_tokens": 10}])).iloc[0]
    assert r.gpu_energy_j > 0 and r.estimate_basis == "transferred-gpu"


def test_unknown_gpu_and_precision_errors():
    with pytest.raises(SealError, match="RTX 9999"):
        one(gpu="RTX 9999")
    with pytest.raises(SealError, match="int3"):
        one(precision="int3")


def test_negative_and_missing_tokens_give_zero_phase_energy():
    r = estimate_energy(pd.DataFrame({"params_b": [8.0, 8.0], "gpu": ["A100", "A100"], "batch_size": [1, 1],
                                      "input_tokens": [-5, 100], "output_tokens": [10, np.nan]}))
    assert np.isfinite(r["gpu_energy_j"]).all()
    assert r["decode_energy_j"].iloc[1] == 0
    assert r["prefill_energy_j"].iloc[0] < r["prefill_energy_j"].iloc[1]


def test_empty_frame():
    r = estimate_energy(pd.DataFrame({"params_b": pd.Series(dtype=float)}))
    assert len(r) == 0 and "gpu_energy_j" in r


def test_vectorised_many_rows():

    n = 200_000
    f = pd.DataFrame({"params_b": np.linspace(1, 100, n), "gpu": "A100", "batch_size": 8.0,
                      "input_tokens": 500.0, "output_tokens": 200.0})
    r = estimate_energy(f)                       # speed: make bench (no test asserts a duration)
    assert (r["gpu_energy_j"] > 0).all()


def test_shipped_artifact_loads_offline():
    from seal.estimator.artifact import load_model, read_artifact

    payload = read_artifact()
    assert payload["format"] == "seal-energy-model"
    prov = payload["provenance"]
    assert set(prov["sources"]) >= {"llm-perf", "mlenergy-v2"}
    assert all(f.get("sha256") for f in prov["files"])
    model = load_model()
    assert set(prov["sources"]) >= {"llm-perf", "mlenergy-v2", "mlenergy-v3"}
    for regime in ("transformers", "vllm-2024", "vllm"):
        table = model.intervals_[regime]
        assert table["interpolation"]["request"][0] < 0 < table["interpolation"]["request"][1]
        lo, hi = table["transferred-gpu"]["request"]
        assert lo <= table["interpolation"]["request"][0] and hi >= table["interpolation"]["request"][1]
    assert 0.05 < payload["latency_log_sd"] < 1.0


def test_gpu_without_bf16_defaults_to_fp16_and_bf16_costs_more():
    t4 = estimate_energy(pd.DataFrame([{"params_b": 1.0, "gpu": "T4", "batch_size": 1, "input_tokens": 512,
                                        "output_tokens": 16}])).iloc[0]
    assert t4.precision == "float16"
    bf16 = one(params_b=1.0, gpu="T4", input_tokens=512, output_tokens=16, precision="bfloat16")
    assert bf16.prefill_energy_j > t4.prefill_energy_j  # emulated BF16 runs at FP32 speed
    assert "transferred-gpu" in t4.warnings  # fewer than 20 batch-1 rows on T4


def test_precision_bytes_scale_memory_and_gpu_count():
    assert one(params_b=70.0, gpu="H100", precision="int4").gpus == 1
    assert one(params_b=70.0, gpu="H100", precision="fp8").gpus == 1
    fp8 = one(params_b=70.0, gpu="H100", gpus=2, batch_size=64, precision="fp8")
    bf16 = one(params_b=70.0, gpu="H100", gpus=2, batch_size=64, precision="bfloat16")
    assert fp8.decode_energy_j < bf16.decode_energy_j  # half the weight bytes to read per step


def test_size_read_from_the_name_is_flagged_and_widens_the_interval():
    named = estimate_energy(pd.DataFrame([{"model": "acme/my-custom-13b", "gpu": "H100", "batch_size": 8,
                                           "input_tokens": 300, "output_tokens": 200}])).iloc[0]
    given = one(model="acme/my-custom-13b", params_b=13.0, gpu="H100", batch_size=8, input_tokens=300,
                output_tokens=200)
    assert "params-from-name" in WARNINGS
    assert "params-from-name" in named.warnings and "model-arch-not-released" not in named.warnings
    assert "params-from-name" not in given.warnings  # a user-given size is not read from the name
    assert named.params_b == 13.0 and named.gpu_energy_j == pytest.approx(given.gpu_energy_j)
    assert named.gpu_energy_low_j < given.gpu_energy_low_j and named.gpu_energy_high_j > given.gpu_energy_high_j
    moe = estimate_energy(pd.DataFrame([{"model": "acme/Moe-30B-A3B", "input_tokens": 10, "output_tokens": 10}]))
    assert moe.iloc[0].params_b == 30.0 and moe.iloc[0].active_params_b == 3.0
    # a model of the published shape table has its exact size there, not the rounded one of its name
    qwen = estimate_energy(pd.DataFrame([{"model": "Qwen/Qwen3-30B-A3B", "input_tokens": 10, "output_tokens": 10}]))
    assert qwen.iloc[0].params_b == 30.5 and qwen.iloc[0].active_params_b == 3.3
    assert "params-from-name" not in qwen.iloc[0].warnings and "shape-from-size" not in qwen.iloc[0].warnings


def test_unknown_model_without_a_size_in_its_name_names_it():
    with pytest.raises(SealError, match="acme/mystery-model"):
        estimate_energy(pd.DataFrame([{"model": "acme/mystery-model", "input_tokens": 1, "output_tokens": 1}]))
    # a model the catalogue lacks but the published shape table holds has a size
    ds = estimate_energy(pd.DataFrame([{"model": "deepseek-ai/DeepSeek-V3", "input_tokens": 1, "output_tokens": 1}]))
    assert ds.iloc[0].params_b == pytest.approx(671.0) and ds.iloc[0].active_params_b == pytest.approx(37.0)


def test_closed_model_active_range_reaches_the_interval():
    # EcoLogits: gpt-4o total 440 B, active {min 44, max 132}; the point uses the midpoint 88 B
    req = {"input_tokens": 500, "output_tokens": 300}
    closed = estimate_energy(pd.DataFrame([{"model": "gpt-4o", **req}])).iloc[0]
    at = {a: estimate_energy(pd.DataFrame([{"params_b": 440.0, "active_params_b": a, **req}])).iloc[0]
          for a in (44.0, 88.0, 132.0)}
    assert closed.params_b == 440.0 and closed.active_params_b == 88.0
    assert closed.gpu_energy_j == pytest.approx(at[88.0].gpu_energy_j)
    assert at[44.0].gpu_energy_j < at[132.0].gpu_energy_j
    assert closed.gpu_energy_low_j == pytest.approx(min(at[44.0].gpu_energy_low_j, at[88.0].gpu_energy_low_j))
    assert closed.gpu_energy_high_j == pytest.approx(max(at[132.0].gpu_energy_high_j, at[88.0].gpu_energy_high_j))
    assert closed.gpu_energy_low_j < at[88.0].gpu_energy_low_j and closed.gpu_energy_high_j > at[88.0].gpu_energy_high_j
    assert "model-arch-not-released" in closed.warnings


def test_a_batch_scores_each_request_as_if_alone():
    # configurations are resolved once per distinct (model, size, GPU, precision, batch, GPU count) and broadcast:
    # a row's result must not depend on the other rows of its batch
    rng = np.random.default_rng(5)
    n = 24
    frame = pd.DataFrame({
        "model": rng.choice(np.array(["gpt-4o", "acme/custom-13b", "mistralai/Mixtral-8x7B-v0.1", None], dtype=object), n),
        "params_b": np.where(rng.random(n) < 0.3, rng.uniform(1, 80, n), np.nan),
        "gpu": rng.choice(np.array(["H100", "A100", "L4", "T4", None], dtype=object), n),
        "precision": rng.choice(np.array([None, "int4", "fp8", "float16"], dtype=object), n),
        "batch_size": rng.choice([1.0, 8.0, 64.0, np.nan], n),
        "gpus": np.where(rng.random(n) < 0.2, 8.0, np.nan),
        "input_tokens": rng.integers(1, 4000, n).astype(float), "output_tokens": rng.integers(1, 800, n).astype(float),
        "latency_s": np.where(rng.random(n) < 0.3, rng.uniform(0.5, 20, n), np.nan),
    })
    frame.loc[frame["model"].isna() & frame["params_b"].isna(), "params_b"] = 7.0
    together = estimate_energy(frame)
    alone = pd.concat([estimate_energy(frame.iloc[[i]]) for i in range(n)])
    for col in together.columns:
        if pd.api.types.is_float_dtype(together[col]):
            assert np.allclose(together[col], alone[col], rtol=1e-9, equal_nan=True), col
        else:
            assert together[col].astype(str).tolist() == alone[col].astype(str).tolist(), col


def test_configuration_plans_are_memoised_per_model_and_follow_its_fitted_state():
    # every batch of a streamed log repeats its configurations, so the per-configuration work is memoised on the
    # model; replacing a fitted attribute (a refit, other intervals) must never serve a stale plan
    import copy

    from seal.estimator.artifact import load_model

    from seal.estimator import estimate as E

    model = copy.copy(load_model())
    mine = lambda: [k for k in E._PLANS if k[0] == id(model)]  # noqa: E731
    frame = pd.DataFrame({"model": ["gpt-4o", "acme/custom-13b", "gpt-4o"], "gpu": ["H100", "A100", "H100"],
                          "input_tokens": [300.0, 40.0, 2000.0], "output_tokens": [100.0, 10.0, 5.0]})
    first = estimate_energy(frame, model=model)
    assert len(mine()) == 1
    again = estimate_energy(frame.iloc[[1, 0, 2]], model=model).iloc[[1, 0, 2]]   # configurations in other order
    assert len(mine()) == 1   # the configurations' order of appearance is not part of the key
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, estimate_energy(frame, model=model))
    assert len(mine()) == 1

    wider = copy.deepcopy(model.intervals_)
    for table in wider.values():
        table["interpolation"]["request"] = [-2.0, 2.0]
    model.intervals_ = wider
    widened = estimate_energy(frame, model=model)
    assert (widened["gpu_energy_high_j"] > first["gpu_energy_high_j"]).all()
    pd.testing.assert_series_equal(widened["gpu_energy_j"], first["gpu_energy_j"])
