"""The physics of one request, function by function: units, monotonicity, limits and vectorised inputs.

Physics frames are built by :func:`seal.estimator.model.physics_frame` from request-like rows (the GPU facts of
the shipped table), with the default :class:`PhysicsParams` (the fit's priors): these tests pin how the physics
behaves, not the fitted values.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seal.data.gpus import load_gpus
from seal.estimator import defaults as D
from seal.estimator import physics as P
from seal.estimator import shapes as S
from seal.estimator.model import per_row, physics_frame

PARAMS = P.PhysicsParams()
BASE = {"params_b": 8.0, "active_params_b": np.nan, "bytes_per_param": 2.0, "compute": "bf16", "quant_scheme": "",
        "engine": "vllm", "gpu": "H100-SXM", "gpus": 1.0, "batch_size": 1.0, "input_tokens": 512.0,
        "output_tokens": 128.0}


def frame(n: int = 1, **kw) -> dict:
    """A physics frame of ``n`` rows: BASE with ``kw`` (scalars or one value per row)."""
    rows = pd.DataFrame({k: kw.get(k, v) for k, v in BASE.items()}, index=range(n))
    return physics_frame(rows, load_gpus())


def run(pf: dict, params: P.PhysicsParams = PARAMS) -> dict[str, np.ndarray]:
    """Step times and per-request energies of a physics frame."""
    times = P.phase_times(pf, params)
    return {**times, **P.request_energy_j(times, pf, params)}


def one(params: P.PhysicsParams = PARAMS, **kw) -> dict[str, float]:
    """:func:`run` of a single request, as floats."""
    return {k: float(v[0]) for k, v in run(frame(**kw), params).items()}


# ---------------------------------------------------------------- units
def test_energy_is_power_times_gpu_time():
    pf = frame(3, gpus=[1.0, 2.0, 4.0], batch_size=[1.0, 8.0, 64.0], params_b=70.0)
    r = run(pf)
    for phase in ("prefill", "decode"):
        np.testing.assert_allclose(r[f"{phase}_energy_j"], r[f"{phase}_power_w"] * r[f"{phase}_gpu_time_s"])
    # a request is charged 1/b of every step it took part in, on every GPU of the server
    share = pf["gpus"] / pf["batch"]
    np.testing.assert_allclose(r["prefill_gpu_time_s"], share * r["prefill_s"])
    np.testing.assert_allclose(r["decode_gpu_time_s"], share * r["decode_step_s"] * pf["t_out"])


def test_prefill_compute_is_linear_in_prompt_tokens_and_attention_adds_more():
    no_attention = P.PhysicsParams(attention_x=0.0)
    compute_s = [(lambda r: r["prefill_compute_share"] * r["prefill_s"])(one(no_attention, input_tokens=t))
                 for t in (1000.0, 2000.0)]
    assert compute_s[1] == pytest.approx(2.0 * compute_s[0], rel=1e-9)
    # causal attention grows with the square of the prompt: more than double
    with_attention = [(lambda r: r["prefill_compute_share"] * r["prefill_s"])(one(input_tokens=t))
                      for t in (1000.0, 2000.0)]
    assert with_attention[1] > 2.0 * with_attention[0]


def test_busy_shares_are_fractions_of_the_step():
    r = run(frame(4, batch_size=[1.0, 4.0, 64.0, 256.0], input_tokens=[10.0, 500.0, 4000.0, 32000.0]))
    for phase in ("prefill", "decode"):
        c, m = r[f"{phase}_compute_share"], r[f"{phase}_memory_share"]
        assert ((c >= 0) & (m >= 0)).all()
        assert (np.hypot(c, m) < 1.0).all()   # fixed overheads take the rest of the step


def test_power_is_within_tdp_bounds():
    r = run(frame(3, gpu=["H100-SXM", "A100-SXM4-80GB", "L4"], batch_size=[1.0, 32.0, 8.0]))
    tdp = load_gpus().set_index("gpu").loc[["H100-SXM", "A100-SXM4-80GB", "L4"], "tdp_w"].to_numpy(dtype=float)
    for phase in ("prefill", "decode"):
        assert (r[f"{phase}_power_w"] >= P.POWER_FLOOR_TDP_SHARE * tdp).all() and (r[f"{phase}_power_w"] <= tdp).all()


# ---------------------------------------------------------------- monotonicity
def test_more_tokens_cost_more():
    base = one()
    assert one(input_tokens=4096.0)["prefill_energy_j"] > base["prefill_energy_j"]
    longer = one(output_tokens=256.0)
    assert longer["decode_energy_j"] > base["decode_energy_j"]
    # twice the tokens at a longer mean context: at least twice the decode GPU time
    assert longer["decode_gpu_time_s"] >= 2.0 * base["decode_gpu_time_s"]


def test_more_params_cost_more():
    e = [one(params_b=p, gpus=4.0) for p in (1.0, 8.0, 70.0)]
    for phase in ("prefill_energy_j", "decode_energy_j"):
        assert e[0][phase] < e[1][phase] < e[2][phase]


def test_bigger_batch_costs_more_per_step_and_less_per_request():
    r = run(frame(4, batch_size=[1.0, 4.0, 32.0, 128.0]))
    assert (np.diff(r["prefill_s"]) > 0).all() and (np.diff(r["decode_step_s"]) > 0).all()
    # the weights read each decode step are shared by the batch's requests
    assert (np.diff(r["decode_energy_j"]) < 0).all()
    assert r["decode_energy_j"][2] < r["decode_energy_j"][0] / 3


def test_decode_at_batch_one_is_memory_bound_long_prefill_compute_bound():
    r = one(input_tokens=8000.0)
    assert r["decode_memory_share"] > r["decode_compute_share"]
    assert r["prefill_compute_share"] > r["prefill_memory_share"]


def test_higher_efficiency_is_faster():
    slow, fast = P.PhysicsParams(vllm_memory_eff=0.3), P.PhysicsParams(vllm_memory_eff=0.9)
    assert one(fast)["decode_step_s"] < one(slow)["decode_step_s"]
    slow, fast = P.PhysicsParams(vllm_compute_eff=0.2), P.PhysicsParams(vllm_compute_eff=0.8)
    assert one(fast, input_tokens=8000.0)["prefill_s"] < one(slow, input_tokens=8000.0)["prefill_s"]


def test_link_bandwidth_matters_only_across_gpus():
    def step_s(gpus: float, link: float) -> np.ndarray:
        pf = frame(gpus=gpus, params_b=70.0, batch_size=64.0)
        pf["link_gb_s"] = np.full(1, link)
        t = P.phase_times(pf, PARAMS)
        return np.array([t["prefill_s"][0], t["decode_step_s"][0]])

    np.testing.assert_array_equal(step_s(1.0, 50.0), step_s(1.0, 900.0))
    assert (step_s(4.0, 50.0) > step_s(4.0, 900.0)).all()   # tensor-parallel collectives in both phases


def test_moe_reads_fewer_weights_at_small_batch():
    dense = one(params_b=47.0, batch_size=2.0)
    moe = one(params_b=47.0, active_params_b=13.0, batch_size=2.0)
    assert moe["decode_step_s"] < dense["decode_step_s"]
    assert moe["decode_energy_j"] < dense["decode_energy_j"]


# ---------------------------------------------------------------- limits
def test_no_output_tokens_no_decode_energy():
    r = one(output_tokens=0.0)
    assert r["decode_energy_j"] == 0.0 and r["decode_gpu_time_s"] == 0.0
    assert r["prefill_energy_j"] > 0.0


def test_negative_output_tokens_charge_no_decode():
    pf = frame()
    pf["t_out"] = np.array([-5.0])   # request_energy_j clips the token count at 0
    r = run(pf)
    assert r["decode_energy_j"][0] == 0.0 and r["decode_gpu_time_s"][0] == 0.0


def test_empty_prompt_still_reads_the_weights_once():
    r = one(input_tokens=0.0)
    assert r["prefill_compute_share"] == 0.0   # no matrix products without tokens (and no dequantization)
    assert r["prefill_memory_share"] > 0.0 and r["prefill_energy_j"] > 0.0


def test_nan_row_does_not_poison_its_batch():
    pf = frame(3, input_tokens=[100.0, 200.0, 300.0])
    pf["t_in"] = np.array([100.0, np.nan, 300.0])
    r = run(pf)
    assert np.isnan(r["prefill_energy_j"][1])
    solo = run(frame(input_tokens=300.0))
    assert r["prefill_energy_j"][2] == pytest.approx(solo["prefill_energy_j"][0], rel=1e-12)
    assert np.isfinite(r["decode_energy_j"][[0, 2]]).all()


# ---------------------------------------------------------------- vectorised inputs
def test_rows_are_independent_of_their_batch():
    kw = {"params_b": [1.0, 8.0, 70.0, 47.0], "active_params_b": [np.nan, np.nan, np.nan, 13.0],
          "engine": ["vllm", "transformers", "vllm-2024", "vllm"], "gpus": [1.0, 1.0, 4.0, 2.0],
          "batch_size": [1.0, 1.0, 16.0, 8.0], "quant_scheme": ["", "bnb4", "", ""],
          "input_tokens": [10.0, 500.0, 3000.0, 700.0], "output_tokens": [1.0, 64.0, 300.0, 20.0]}
    together = run(frame(4, **kw))
    for i in range(4):
        alone = run(frame(**{k: v[i] for k, v in kw.items()}))
        for key, values in together.items():
            assert values.shape == (4,)
            assert values[i] == pytest.approx(alone[key][0], rel=1e-12), (i, key)


def test_configuration_rows_gather_like_a_per_row_frame():
    configs = frame(2, params_b=[8.0, 70.0], batch_size=[4.0, 32.0])
    rows = np.array([0, 1, 1, 0, 1])
    requests = {**configs, "rows": rows, "gpus": np.array([1.0, 4.0, 4.0, 2.0, 8.0]),
                "t_in": np.array([10.0, 200.0, 4000.0, 0.0, 50.0]), "t_out": np.array([5.0, 0.0, 100.0, 1.0, 700.0])}
    gathered, flat = run(requests), run(per_row(requests))
    for key in gathered:
        assert gathered[key].shape == (5,)
        np.testing.assert_allclose(gathered[key], flat[key], rtol=1e-12, err_msg=key)


def test_power_fraction_is_the_clipped_curve():
    c, m = np.array([0.0, 0.5, 1.0, 0.0]), np.array([0.0, 0.5, 1.0, 1.0])
    f = P.power_fraction(c, m, 1.0, PARAMS)
    assert f.shape == c.shape
    assert f[0] == pytest.approx(PARAMS.power_idle)
    assert f[1] == pytest.approx(PARAMS.power_idle + 0.5 * (PARAMS.power_compute + PARAMS.power_memory))
    assert f[2] == 1.0   # idle + compute + memory > 1: clipped at TDP
    assert P.power_fraction(np.zeros(1), np.zeros(1), 0.01, PARAMS)[0] == P.POWER_FLOOR_TDP_SHARE
    assert (np.diff(P.power_fraction(np.linspace(0, 1, 5), np.zeros(5), 1.0, PARAMS)) >= 0).all()


def test_generation_scale_per_code():
    params = P.PhysicsParams(power_scale_ampere=0.8, power_scale_hopper=1.2, power_scale_other=0.9)
    ampere, hopper = P.GENERATIONS.index("ampere"), P.GENERATIONS.index("hopper")
    assert P.generation_scale(np.array([hopper, hopper]), params) == 1.2   # one generation: a scalar
    np.testing.assert_array_equal(P.generation_scale(np.array([ampere, -1, hopper]), params), [0.8, 0.9, 1.2])


def test_gpu_required_count():
    mem = np.array([80.0, 80.0, 80.0, 24.0])
    count = P.gpu_required_count(np.array([8.0, 70.0, 405.0, 8.0]), np.full(4, 2.0), mem)
    assert count.shape == (4,)
    assert count[0] == 1 and count[1] >= 2 and count[2] > count[1]
    assert set(np.log2(count)) <= set(range(8))   # powers of two
    need = 70.0 * 2.0 * D.WEIGHT_HEADROOM / (80.0 * D.GPU_MEMORY_USABLE)
    assert P.gpu_required_count(np.array([70.0]), np.array([2.0]), np.array([80.0]), power_of_two=False)[0] == \
        np.ceil(need)
    # a KV cache that no longer fits adds GPUs
    assert P.gpu_required_count(np.array([8.0]), np.array([2.0]), np.array([80.0]), kv_cache_gb=100.0)[0] > 1


def test_weights_read_by_a_step():
    shape = S.lookup_shapes(None, np.array([8.0, 47.0]), np.array([8.0, 13.0]))
    dense_all = shape.dense_params_b + shape.expert_params_b
    few = P.weights_read_b(shape, np.array([1.0, 1.0]))
    many = P.weights_read_b(shape, np.array([4096.0, 4096.0]))
    assert few[0] == pytest.approx(dense_all[0]) and many[0] == pytest.approx(dense_all[0])
    # one token reads the dense part and its experts; a big step touches (nearly) every expert
    assert few[1] == pytest.approx(shape.dense_params_b[1] + shape.expert_params_b[1] * shape.route_share[1])
    assert few[1] < many[1] <= dense_all[1] and many[1] == pytest.approx(dense_all[1], rel=1e-6)
    assert P.weights_read_b(shape, np.array([0.0, 0.0]))[1] == few[1]   # an empty step counts as one token


def test_quant_costs_only_for_eager_quantized_rows():
    assert P.quant_costs(None, np.ones(3, dtype=bool), PARAMS) == (1.0, 0.0, 0.0)
    params = P.PhysicsParams(bnb4_overhead_x=2.5, bnb4_decode_dequant_flop=40.0)
    oh, flop_pf, flop_dc = P.quant_costs(np.array(["bnb4", "", "bnb4"], dtype=object),
                                         np.array([True, True, False]), params)
    np.testing.assert_array_equal(oh, [2.5, 1.0, 1.0])
    np.testing.assert_array_equal(flop_dc, [40.0, 0.0, 0.0])
    assert flop_pf[0] == params.bnb4_prefill_dequant_flop and flop_pf[2] == 0.0


def test_engine_codes_and_engine_arrays():
    codes = P.engine_codes(["vllm", "transformers", "tgi", None])
    np.testing.assert_array_equal(codes, [D.ENGINES.index("vllm"), D.ENGINES.index("transformers"), -1, -1])
    params = P.PhysicsParams(vllm_step_s=0.002, transformers_step_s=0.004)
    assert params.engine_array("step_s", codes[:1]) == 0.002   # one engine: a scalar
    np.testing.assert_array_equal(params.engine_array("step_s", codes[:2]), [0.002, 0.004])
    assert list(params.to_dict()) == list(P.PARAM_NAMES)
    assert P.PhysicsParams(**params.to_dict()) == params
