"""The learned energy model: physics (:mod:`seal.estimator.physics`) with fitted constants and a small correction.

``EnergyModel(...).fit(runs).predict(frame)`` follows the scikit-learn estimator shape: hyper-parameters in
``__init__``, learned state in trailing-underscore attributes (saved by :meth:`EnergyModel.to_dict`).
``runs`` is the store's ``benchmark_runs`` table; ``frame`` is a request-like frame (see :func:`physics_frame`).

Fitting: the :class:`~seal.estimator.physics.PhysicsParams` are fitted by bounded non-linear least squares on
log errors of **energy and time** of every measured row at once — LLM-Perf prefill / decode energy and latency
(``transformers``), ML.ENERGY v2 energy per request and GPU-seconds per request from its throughput
(``vllm-2024``), ML.ENERGY v3 energy per request, GPU-seconds per request and mean power (``vllm``). Energy is
power x time, so power is fitted as the part of the energy that time does not explain, on measured watts. Then
an optional ridge correction per batched engine on a few log features of what physics leaves.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from seal.estimator import defaults as D
from seal.estimator import physics
from seal.estimator import shapes as S
from seal.estimator.physics import PhysicsParams

# Bounds of the fitted constants (physically meaningful ranges).
_ENGINE_BOUNDS = {"compute_eff": (0.02, 1.0), "memory_eff": (0.05, 1.0), "link_eff": (0.05, 1.0),
                  "layer_s": (1e-7, 5e-3), "step_s": (1e-5, 0.1), "seq_s": (1e-8, 1e-3), "comm_s": (1e-7, 5e-3),
                  "moe_x": (0.3, 30.0)}
PARAM_BOUNDS: dict[str, tuple[float, float]] = {
    **{f"{p}_{k}": b for p in physics.ENGINE_PREFIX.values() for k, b in _ENGINE_BOUNDS.items()},
    **{f"{q}_overhead_x": (0.2, 30.0) for q in physics.QUANT_SCHEMES},
    **{f"{q}_{ph}_dequant_flop": (0.1, 1e5) for q in physics.QUANT_SCHEMES for ph in ("prefill", "decode")},
    "low_precision_x": (1.0, 2.0), "moe_spread": (1e-3, 2.0), "attention_x": (0.5, 10.0),
    "power_idle": (0.02, 0.8), "power_compute": (1e-3, 1.5), "power_memory": (1e-3, 1.5),
    **{f"power_scale_{g}": (0.5, 2.0) for g in (*physics.GENERATIONS, "other")},
}
CORRECTION_FEATURES = ("log_params", "log_active_share", "log_batch", "log_tokens", "log_gpus")
SERVED_ENGINES = ("vllm-2024", "vllm")
# Quantization method (benchmark_runs.quantization) + weight bits -> the physics' kernel scheme.
RUN_SCHEME = {("bnb", 8.0): "bnb8", ("bnb", 4.0): "bnb4", ("gptq", 4.0): "gptq", ("awq", 4.0): "gptq",
              ("torchao", 4.0): "torchao", ("torchao", 8.0): "torchao"}
# Where a compute format has no tensor cores of its own on a GPU (or the engine is eager), it runs at this one.
_FALLBACK_COMPUTE = {"fp8": "bf16", "int8": "bf16", "fp4": "bf16"}
_PEAK_COLUMN = {"fp32": "fp32_tflops", "bf16": "bf16_dense_tflops", "fp16": "bf16_dense_tflops",
                "fp8": "fp8_dense_tflops", "int8": "fp8_dense_tflops", "fp4": "fp4_dense_tflops"}


def _per_gpu(facts: pd.DataFrame, column: str, g_uniques, g_codes) -> np.ndarray:
    if column not in facts:
        return np.full(len(g_codes), np.nan)
    values = np.append(facts[column].reindex(pd.Index(g_uniques, dtype=object)).to_numpy(), np.nan)
    return values[g_codes]


def peak_tflops(compute: np.ndarray, engine: np.ndarray, facts: pd.DataFrame, gpu: pd.Series) -> np.ndarray:
    """Peak dense tensor TFLOPS per row for the weights' compute format on the row's GPU: FP8 / FP4 / INT8 at
    their own rate where the GPU has such tensor cores and the engine is a serving engine (eager frameworks
    dequantize to 16 bits), BF16 on GPUs without BF16 tensor cores (T4, V100) at the FP32 rate."""
    g_codes, g_uniques = pd.factorize(pd.Series(gpu, dtype=object), use_na_sentinel=True)
    compute = np.asarray(compute, dtype=object)
    eager = np.asarray(engine) == 0
    cols = {c: _per_gpu(facts, c, g_uniques, g_codes).astype(float) for c in set(_PEAK_COLUMN.values())}
    flags = facts["bf16_supported"].astype(str).str.lower().ne("false") if "bf16_supported" in facts else None
    bf16_ok = np.ones(len(g_codes), dtype=bool) if flags is None else \
        np.append(flags.reindex(pd.Index(g_uniques, dtype=object)).fillna(True).to_numpy(dtype=bool), True)[g_codes]
    out = cols["bf16_dense_tflops"].copy()
    out = np.where(compute == "fp32", cols["fp32_tflops"], out)
    for fmt in ("fp8", "int8", "fp4"):
        own = cols[_PEAK_COLUMN[fmt]]
        use = (compute == fmt) & ~eager & np.isfinite(own) & (own > 0)
        out = np.where(use, own, out)
    out = np.where((compute == "bf16") & ~bf16_ok, cols["fp32_tflops"], out)
    return out


def low_precision_rows(compute: np.ndarray, engine: np.ndarray, facts: pd.DataFrame, gpu: pd.Series) -> np.ndarray:
    """Rows whose matrix products run in FP8 / INT8 / FP4 tensor cores (see :func:`peak_tflops`)."""
    g_codes, g_uniques = pd.factorize(pd.Series(gpu, dtype=object), use_na_sentinel=True)
    compute = np.asarray(compute, dtype=object)
    out = np.zeros(len(compute), dtype=bool)
    for fmt in ("fp8", "int8", "fp4"):
        own = _per_gpu(facts, _PEAK_COLUMN[fmt], g_uniques, g_codes).astype(float)
        out |= (compute == fmt) & (np.asarray(engine) != 0) & np.isfinite(own) & (own > 0)
    return out


def physics_frame(frame: pd.DataFrame, gpus_table: pd.DataFrame, shapes: S.Shapes | None = None) -> dict:
    """The numeric inputs of the physics, one entry per row (a dict of arrays; see :mod:`physics`).

    ``frame`` columns: ``params_b``, ``active_params_b``, ``bytes_per_param``, ``compute`` (the weights' compute
    format: fp32 | bf16 | fp16 | fp8 | int8 | fp4), ``quant_scheme`` (eager kernel family; empty for none),
    ``engine`` (a name of :data:`seal.estimator.defaults.ENGINES`), ``gpu`` (canonical), ``gpus``,
    ``batch_size``, ``input_tokens``, ``output_tokens``, and ``model`` for the shape (unless ``shapes`` given).
    """
    facts = gpus_table.set_index("gpu")
    g_codes, g_uniques = pd.factorize(frame["gpu"], use_na_sentinel=True)
    n_tot = frame["params_b"].astype(float).to_numpy()
    n_act = frame["active_params_b"].astype(float).fillna(frame["params_b"].astype(float)).to_numpy()
    engine = physics.engine_codes(frame["engine"].to_numpy(dtype=object))
    scheme = frame["quant_scheme"] if "quant_scheme" in frame else pd.Series("", index=frame.index)
    scheme = pd.Series(scheme.to_numpy(dtype=object), index=frame.index).fillna("").to_numpy(dtype=object)
    gen_names = _per_gpu(facts, "architecture", g_uniques, g_codes)
    gen_lookup = {g: i for i, g in enumerate(physics.GENERATIONS)}
    if shapes is None:
        models = frame["model"] if "model" in frame else None
        shapes = S.lookup_shapes(models, n_tot, n_act)
    return {
        "n_tot": n_tot, "n_act": n_act, "bpp": frame["bytes_per_param"].astype(float).to_numpy(),
        "gpus": frame["gpus"].astype(float).to_numpy(),
        "batch": np.maximum(frame["batch_size"].astype(float).to_numpy(), 1.0),
        "t_in": np.maximum(frame["input_tokens"].astype(float).to_numpy(), 0.0),
        "t_out": np.maximum(frame["output_tokens"].astype(float).to_numpy(), 0.0),
        "peak_tflops": peak_tflops(frame["compute"].to_numpy(dtype=object), engine, facts, frame["gpu"]),
        "low_precision": low_precision_rows(frame["compute"].to_numpy(dtype=object), engine, facts, frame["gpu"]),
        "bandwidth_gb_s": _per_gpu(facts, "memory_bandwidth_gb_s", g_uniques, g_codes).astype(float),
        "link_gb_s": _per_gpu(facts, "interconnect_gb_s", g_uniques, g_codes).astype(float),
        "tdp_w": _per_gpu(facts, "tdp_w", g_uniques, g_codes).astype(float),
        "engine": engine,
        "generation": np.array([gen_lookup.get(str(g), -1) for g in gen_names], dtype=np.int64),
        "scheme": scheme if (scheme != "").any() else None,
        "shape": shapes,
    }


def take_rows(pf: dict, idx: np.ndarray) -> dict:
    """The physics frame of the rows ``idx``."""
    return {k: (None if v is None else v.take(idx) if isinstance(v, S.Shapes) else v[idx]) for k, v in pf.items()}


def simulate(pf: dict, params: PhysicsParams) -> dict[str, np.ndarray]:
    """Physics prediction for a physics frame: per-request energies (J), GPU time (GPU-s), step times (s)."""
    times = physics.phase_times(pf, params)
    return {**times, **physics.request_energy_j(times, pf, params)}


def per_row(pf: dict) -> dict:
    """A physics frame with every configuration-level array gathered to its rows (``pf["rows"]`` removed)."""
    rows = pf.get("rows")
    if rows is None:
        return pf
    out = take_rows({k: v for k, v in pf.items() if k not in ("rows", "gpus", "t_in", "t_out")}, rows)
    out.update(gpus=pf["gpus"], t_in=pf["t_in"], t_out=pf["t_out"])
    return out


def correction_features(pf: dict) -> np.ndarray:
    """Features of the ridge correction (:data:`CORRECTION_FEATURES`)."""
    pf = per_row(pf)
    n_tot = np.maximum(pf["n_tot"], 1e-3)
    return np.column_stack([
        np.log(n_tot), np.log(np.clip(pf["n_act"] / n_tot, 1e-3, 1.0)), np.log(pf["batch"]),
        np.log1p(pf["t_in"] + pf["t_out"]), np.log(np.maximum(pf["gpus"], 1.0)),
    ])


def run_input_tokens(runs: pd.DataFrame, task_input_tokens: dict[str, float] | None = None,
                     v2_input_tokens: float = D.MLENERGY_V2_INPUT_TOKENS) -> pd.Series:
    """Input tokens per benchmark row: measured where the source states them, else the task's assumption
    (:data:`seal.estimator.defaults.TASK_INPUT_TOKENS`, ML.ENERGY v2's own)."""
    tasks = dict(D.TASK_INPUT_TOKENS if task_input_tokens is None else task_input_tokens)
    assumed = runs["task"].astype("string").map(tasks).astype(float) if "task" in runs else \
        pd.Series(np.nan, index=runs.index)
    return runs["input_tokens"].astype(float).fillna(assumed).fillna(v2_input_tokens)


def runs_physics_frame(runs: pd.DataFrame, gpus_table: pd.DataFrame,
                       task_input_tokens: dict[str, float] | None = None,
                       v2_input_tokens: float = D.MLENERGY_V2_INPUT_TOKENS) -> dict:
    """Turn ``benchmark_runs`` rows into a physics frame (training side)."""
    bits = runs["weight_bits"].astype(float)
    prec = runs["precision"].astype("string").str.lower().fillna("float16")
    quant = runs.get("quantization", pd.Series("none", index=runs.index)).astype("string").fillna("none").str.lower()
    scheme = [RUN_SCHEME.get((q, float(b)), "") if b == b else "" for q, b in zip(quant, bits)]
    compute = np.where(prec.isin(["fp8", "float8"]).to_numpy(), "fp8",
                       np.where(prec.eq("float32").to_numpy(), "fp32",
                                np.where(prec.eq("float16").to_numpy(), "fp16", "bf16")))
    bpp = np.where(bits.notna(), bits / 8.0, 2.0)
    # sizes as the estimator resolves them for a request: the published shape table's exact counts where the
    # run's own come from a source's rounded figure or the name (ML.ENERGY v3 states 30 / 3 B for a 30.5 / 3.3 B model)
    params = runs["params_b"].astype(float).to_numpy().copy()
    active = runs["active_params_b"].astype(float).to_numpy().copy()
    arch = S.architecture_sizes(runs["model_id"].astype(object).reset_index(drop=True))
    trusted = runs["params_source"].astype("string").eq("catalogue").to_numpy(dtype=bool, na_value=False) \
        if "params_source" in runs else np.zeros(len(runs), dtype=bool)
    use = arch["params_b"].notna().to_numpy() & ~trusted
    params[use] = arch["params_b"].to_numpy()[use]
    active[use] = arch["active_params_b"].to_numpy()[use]
    # data-parallel replicas (ML.ENERGY v3 DP > 1): each serves its share of the batch on its share of the GPUs
    dp = runs["data_parallel"].astype(float).fillna(1.0).clip(lower=1.0).to_numpy() if "data_parallel" in runs \
        else np.ones(len(runs))
    engine = runs["engine"].astype("string").fillna("transformers") if "engine" in runs else \
        pd.Series("transformers", index=runs.index)
    frame = pd.DataFrame({
        "model": runs["model_id"].astype(object),
        "params_b": params, "active_params_b": active,
        "bytes_per_param": bpp, "quant_scheme": scheme, "compute": compute, "engine": engine.to_numpy(dtype=object),
        "gpu": runs["gpu"], "gpus": run_gpus(runs) / dp,
        "batch_size": np.maximum(runs["batch_size"].astype(float).fillna(1.0).to_numpy() / dp, 1.0),
        "input_tokens": run_input_tokens(runs, task_input_tokens, v2_input_tokens),
        "output_tokens": runs["output_tokens"].astype(float),
    }, index=runs.index)
    return physics_frame(frame, gpus_table)


def run_gpus(runs: pd.DataFrame) -> np.ndarray:
    """GPUs per benchmark run (``gpu_count``; 1 where the source does not say)."""
    return runs["gpu_count"].astype(float).fillna(1.0).to_numpy()


def measured_time_s(runs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Measured times per row: batch-1 prefill / decode wall time (s) and, for batched rows, the request's
    GPU-seconds ``GPUs x output tokens / output throughput`` (NaN where not measured)."""
    out = {k: runs[k].astype(float).to_numpy() if k in runs else np.full(len(runs), np.nan)
           for k in ("prefill_latency_s", "decode_latency_s")}
    tput = runs["throughput_tok_s"].astype(float).to_numpy() if "throughput_tok_s" in runs else np.nan
    gpus = run_gpus(runs)
    out["request_gpu_time_s"] = gpus * runs["output_tokens"].astype(float).to_numpy() / tput
    return out


def _source_power_w(runs: pd.DataFrame) -> np.ndarray:
    """Mean power per GPU (W) as the source itself measured it (``power_w`` / GPUs; ML.ENERGY v3), NaN elsewhere."""
    if "power_w" not in runs:
        return np.full(len(runs), np.nan)
    return runs["power_w"].astype(float).to_numpy() / run_gpus(runs)


def measured_power_w(runs: pd.DataFrame) -> np.ndarray:
    """Measured mean power per GPU (W): the source's own (ML.ENERGY v3), else energy / time where both are
    measured (LLM-Perf phases summed; ML.ENERGY v2 from throughput); NaN elsewhere."""
    gpus = run_gpus(runs)
    t = measured_time_s(runs)
    e_pf, e_dc, e_rq = (runs[c].astype(float).to_numpy() for c in ("prefill_energy_j", "decode_energy_j",
                                                                    "request_energy_j"))
    phases = (e_pf + e_dc) / ((t["prefill_latency_s"] + t["decode_latency_s"]) * gpus)
    served = e_rq / t["request_gpu_time_s"]
    direct = _source_power_w(runs)
    return np.where(np.isfinite(direct), direct, np.where(np.isfinite(phases), phases, served))


def usable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Training rows: GPU runs with known params, GPU and engine, positive energy, text-only tasks."""
    r = runs
    ok = r["gpu"].notna() & (r["params_b"].astype(float) > 0) & r["output_tokens"].notna()
    if "device" in r:
        ok &= r["device"].astype("string").fillna("cuda").str.lower().eq("cuda")
    if "task" in r:
        ok &= ~r["task"].astype("string").fillna("").str.startswith("mllm")
    if "engine" in r:
        ok &= r["engine"].astype("string").isin(list(D.ENGINES)).fillna(False)
    e_pf, e_dc, e_rq = (r[c].astype(float) for c in ("prefill_energy_j", "decode_energy_j", "request_energy_j"))
    ok &= ((e_pf > 0) & (e_dc > 0)) | (e_pf.isna() & (e_rq > 0))
    return r[ok.fillna(False)]


def _prior(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(start, lower bound, upper bound, prior weight) of each fitted constant, in log space: the start is the
    :class:`PhysicsParams` default, the prior the fit is pulled towards."""
    lo = np.log([PARAM_BOUNDS[n][0] for n in names])
    hi = np.log([PARAM_BOUNDS[n][1] for n in names])
    x0 = np.clip(np.log(list(PhysicsParams().to_dict().values())), lo + 1e-9, hi - 1e-9)
    eager_names = ("transformers_", *(f"{q}_" for q in physics.QUANT_SCHEMES))
    prior_w = np.array([D.GENERATION_PRIOR_WEIGHT if n.startswith("power_scale_") else
                        D.EAGER_PRIOR_WEIGHT if n.startswith(eager_names) else D.PRIOR_WEIGHT for n in names])
    return x0, lo, hi, prior_w


def _fit_targets(runs: pd.DataFrame) -> dict[str, tuple[float, np.ndarray, np.ndarray]]:
    """Per measured quantity (energies J, times s, power W per GPU; keys of :func:`_fit_quantities`): (weight of
    its log residual, rows where it is measured, the measured values there). Phase-split rows (LLM-Perf) give
    phase energies and latencies, the others request energy, GPU-seconds and power."""
    measured = {k: runs[k].astype(float).to_numpy()
                for k in ("prefill_energy_j", "decode_energy_j", "request_energy_j")}
    measured.update(measured_time_s(runs))
    measured["power_w"] = _source_power_w(runs)
    split = ~np.isnan(measured["prefill_energy_j"])
    ok = {k: np.isfinite(v) & (v > 0) for k, v in measured.items()}
    w_e, w_t, w_p = (D.FIT_WEIGHTS[k] for k in ("energy", "time", "power"))
    rows = {"prefill_energy_j": (w_e, split), "decode_energy_j": (w_e, split), "request_energy_j": (w_e, ~split),
            "prefill_latency_s": (w_t, ok["prefill_latency_s"] & split),
            "decode_latency_s": (w_t, ok["decode_latency_s"] & split),
            "request_gpu_time_s": (w_t, ok["request_gpu_time_s"] & ~split), "power_w": (w_p, ok["power_w"] & ~split)}
    return {k: (w, m, measured[k][m]) for k, (w, m) in rows.items()}


def _fit_quantities(s: dict[str, np.ndarray], t_out: np.ndarray) -> dict[str, np.ndarray]:
    """The simulated counterparts of :func:`_fit_targets`: phase and request energy (J), batch-1 phase wall
    times (s), the request's GPU-seconds and mean power per GPU (W)."""
    request = s["prefill_energy_j"] + s["decode_energy_j"]
    gpu_t = s["prefill_gpu_time_s"] + s["decode_gpu_time_s"]
    return {"prefill_energy_j": s["prefill_energy_j"], "decode_energy_j": s["decode_energy_j"],
            "request_energy_j": request, "prefill_latency_s": s["prefill_s"],
            "decode_latency_s": s["decode_step_s"] * t_out, "request_gpu_time_s": gpu_t, "power_w": request / gpu_t}


def _fill_unseen_scales(fitted: dict[str, float], generation: np.ndarray) -> dict[str, float]:
    """``fitted`` with the power scale of every generation without training rows, and ``power_scale_other``, set
    to the geometric mean of the fitted ones (1 if none): not the prior 1, as the fitted curve's other constants
    were learned together with those scales."""
    seen = sorted({int(g) for g in generation if g >= 0})
    scales = [fitted[f"power_scale_{physics.GENERATIONS[g]}"] for g in seen]
    mean = float(np.exp(np.mean(np.log(scales)))) if scales else 1.0
    for i, gen in enumerate(physics.GENERATIONS):
        if i not in seen:
            fitted[f"power_scale_{gen}"] = mean
    fitted["power_scale_other"] = mean
    return fitted


def _fit_physics(pf: dict, runs: pd.DataFrame) -> PhysicsParams:
    """The :class:`PhysicsParams` of the training rows: bounded robust least squares on the weighted log errors of
    every measured energy, time and power (:func:`_fit_targets`), plus a pull of each constant towards its prior."""
    from scipy.optimize import least_squares

    names = physics.PARAM_NAMES
    x0, lo, hi, prior_w = _prior(names)
    targets = _fit_targets(runs)

    def residuals(x: np.ndarray) -> np.ndarray:
        sim = _fit_quantities(simulate(pf, PhysicsParams(**dict(zip(names, np.exp(x))))), pf["t_out"])
        return np.concatenate([*(w * np.log(sim[k][m] / meas) for k, (w, m, meas) in targets.items()),
                               prior_w * (x - x0)])

    sol = least_squares(residuals, x0, bounds=(lo, hi), method="trf", x_scale=1.0, max_nfev=300,
                        loss=D.FIT_LOSS, f_scale=D.FIT_F_SCALE)
    return PhysicsParams(**_fill_unseen_scales(dict(zip(names, np.exp(sol.x))), pf["generation"]))


class EnergyModel:
    """Physics-based per-request GPU energy model with fitted constants and an optional learned correction.

    Args:
        correction: ``"none"`` (physics with fitted constants only) or ``"ridge"`` (plus, for batched engines, a
            ridge regression of the request's log residual on :data:`CORRECTION_FEATURES`, one per engine).
        ridge_alpha: L2 penalty of the correction.
        task_input_tokens: assumed mean prompt length per benchmark task (defaults.TASK_INPUT_TOKENS).
        v2_input_tokens: assumed mean prompt length of ML.ENERGY v2 rows.

    Fitted attributes: ``params_`` (PhysicsParams), ``coef_`` / ``feature_range_`` (correction per engine),
    ``n_train_``, ``train_max_params_b_``, ``train_gpus_``, ``train_sources_``, ``gpu_sources_``, ``gpu_rows_``
    (rows per GPU per engine); set from an artifact: ``intervals_`` (per engine), ``latency_log_sd_``,
    ``provenance_``.
    """

    def __init__(self, correction: str = "none", ridge_alpha: float = 3.0,
                 task_input_tokens: dict[str, float] | None = None,
                 v2_input_tokens: float = D.MLENERGY_V2_INPUT_TOKENS):
        self.correction = correction
        self.ridge_alpha = ridge_alpha
        self.task_input_tokens = dict(D.TASK_INPUT_TOKENS if task_input_tokens is None else task_input_tokens)
        self.v2_input_tokens = v2_input_tokens
        self.intervals_: dict | None = None
        self.latency_log_sd_: float = D.LATENCY_LOG_SD_KNOWN_BATCH
        self.provenance_: dict = {}

    def runs_frame(self, runs: pd.DataFrame, gpus_table: pd.DataFrame) -> dict:
        return runs_physics_frame(runs, gpus_table, self.task_input_tokens, self.v2_input_tokens)

    # ------------------------------------------------------------ fit
    def fit(self, runs: pd.DataFrame, gpus_table: pd.DataFrame | None = None,
            physics_params: PhysicsParams | None = None) -> "EnergyModel":
        """Fit on ``benchmark_runs`` rows. ``physics_params``: reuse constants already fitted on the same rows
        (only the correction is fitted then; used by cross-validation to share one physics fit)."""
        from seal.data.gpus import load_gpus

        gpus_table = load_gpus() if gpus_table is None else gpus_table
        runs = usable_runs(runs)
        pf = self.runs_frame(runs, gpus_table)
        self.params_ = _fit_physics(pf, runs) if physics_params is None else physics_params
        engines = pd.Series(np.asarray(D.ENGINES, dtype=object)[pf["engine"]], index=runs.index)
        self._set_training_summary(runs, engines)
        self._fit_correction(pf, runs, engines)
        return self

    def _set_training_summary(self, runs: pd.DataFrame, engines: pd.Series) -> None:
        """Set what the training rows cover: row count, largest model (B params), GPUs, sources per GPU and rows
        per GPU per engine (``engines``: each row's engine name)."""
        self.n_train_ = int(len(runs))
        self.train_max_params_b_ = float(runs["params_b"].astype(float).max())
        self.train_gpus_ = sorted(runs["gpu"].astype(str).unique())
        self.train_sources_ = sorted(runs["source"].astype(str).unique())
        self.gpu_sources_ = {g: sorted(runs.loc[runs["gpu"] == g, "source"].astype(str).unique())
                             for g in self.train_gpus_}
        self.gpu_rows_ = {g: {eng: int(((runs["gpu"] == g) & (engines == eng)).sum()) for eng in D.ENGINES}
                          for g in self.train_gpus_}

    def _fit_correction(self, pf: dict, runs: pd.DataFrame, engines: pd.Series) -> None:
        """Set ``coef_`` / ``feature_range_``: with ``correction="ridge"``, per batched engine with >= 10 request
        rows, a ridge regression of log(measured / physics) request energy on :data:`CORRECTION_FEATURES` (the
        features clipped to the training range at prediction: no linear extrapolation)."""
        self.coef_ = {}
        self.feature_range_ = {}
        if self.correction != "ridge":
            return
        measured = runs["request_energy_j"].astype(float).to_numpy()
        split = ~np.isnan(runs["prefill_energy_j"].astype(float).to_numpy())
        s = simulate(pf, self.params_)
        X = correction_features(pf)
        for eng in SERVED_ENGINES:
            m = (engines == eng).to_numpy() & ~split
            if m.sum() < 10:
                continue
            r = np.log(measured[m] / (s["prefill_energy_j"] + s["decode_energy_j"])[m])
            self.coef_[eng] = _ridge(X[m], r, self.ridge_alpha)
            self.feature_range_[eng] = {"low": X[m].min(axis=0).tolist(), "high": X[m].max(axis=0).tolist()}

    # ------------------------------------------------------------ predict
    def correction_factor(self, pf: dict) -> np.ndarray:
        """Multiplicative correction of both phases' energy per row (1 for eager rows or no correction)."""
        if self.correction != "ridge" or not self.coef_:
            return np.ones(len(pf["t_in"]))
        k = np.ones(len(pf["t_in"]))
        X = correction_features(pf)
        engine = per_row(pf)["engine"]
        for eng, coef in self.coef_.items():
            m = engine == D.ENGINES.index(eng)
            if not m.any():
                continue
            rng = self.feature_range_[eng]
            Xm = np.clip(X[m], rng["low"], rng["high"])
            # the linear term column by column, not ``Xm @ coef``: a matrix product starts BLAS worker threads
            # that keep spinning after each call
            linear = np.full(len(Xm), coef[0])
            for j in range(Xm.shape[1]):
                linear += Xm[:, j] * coef[j + 1]
            k[m] = np.exp(np.clip(linear, -1.0, 1.0))
        return k

    def predict_physics(self, pf: dict) -> dict[str, np.ndarray]:
        """Per-request prediction for a physics frame, correction applied (read as a power correction)."""
        s = simulate(pf, self.params_)
        k = self.correction_factor(pf)
        for phase in ("prefill", "decode"):
            s[f"{phase}_energy_j"] = s[f"{phase}_energy_j"] * k
            s[f"{phase}_power_w"] = s[f"{phase}_power_w"] * k
        return s

    def predict(self, frame: pd.DataFrame, gpus_table: pd.DataFrame | None = None) -> pd.DataFrame:
        """Prefill, decode and request GPU energy (J), GPU-seconds and mean power per GPU (W) for each row of a
        ``benchmark_runs`` frame (``gpu_count`` present) or of a physics-input frame."""
        from seal.data.gpus import load_gpus

        gpus_table = load_gpus() if gpus_table is None else gpus_table
        pf = self.runs_frame(frame, gpus_table) if "gpu_count" in frame else physics_frame(frame, gpus_table)
        s = self.predict_physics(pf)
        total = s["prefill_energy_j"] + s["decode_energy_j"]
        gpu_t = s["prefill_gpu_time_s"] + s["decode_gpu_time_s"]
        return pd.DataFrame({"prefill_energy_j": s["prefill_energy_j"], "decode_energy_j": s["decode_energy_j"],
                             "request_energy_j": total, "gpu_time_s": gpu_t, "power_w": total / gpu_t,
                             "prefill_s": s["prefill_s"], "decode_s": s["decode_step_s"] * pf["t_out"]},
                            index=frame.index)

    # ------------------------------------------------------------ (de)serialise
    def to_dict(self) -> dict:
        return {"correction": self.correction, "ridge_alpha": self.ridge_alpha,
                "task_input_tokens": self.task_input_tokens, "v2_input_tokens": self.v2_input_tokens,
                "params": self.params_.to_dict(),
                "coef": {k: [float(v) for v in c] for k, c in self.coef_.items()},
                "feature_range": self.feature_range_, "correction_features": list(CORRECTION_FEATURES),
                "n_train": self.n_train_, "train_max_params_b": self.train_max_params_b_,
                "train_gpus": self.train_gpus_, "train_sources": self.train_sources_, "gpu_sources": self.gpu_sources_,
                "gpu_rows": self.gpu_rows_}

    @classmethod
    def from_dict(cls, d: dict) -> "EnergyModel":
        m = cls(correction=d["correction"], ridge_alpha=d["ridge_alpha"], task_input_tokens=d["task_input_tokens"],
                v2_input_tokens=d["v2_input_tokens"])
        m.params_ = PhysicsParams(**d["params"])
        m.coef_ = {k: list(v) for k, v in d["coef"].items()}
        m.feature_range_ = d["feature_range"]
        m.n_train_ = d["n_train"]
        m.train_max_params_b_ = d["train_max_params_b"]
        m.train_gpus_ = list(d["train_gpus"])
        m.train_sources_ = list(d["train_sources"])
        m.gpu_sources_ = {k: list(v) for k, v in d["gpu_sources"].items()}
        m.gpu_rows_ = {k: dict(v) for k, v in d["gpu_rows"].items()}
        return m


def _ridge(X: np.ndarray, y: np.ndarray, alpha: float) -> list[float]:
    """Ridge regression with an unpenalised intercept; returns [intercept, *coefs]."""
    mu, sd = X.mean(axis=0), X.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    Z = (X - mu) / sd
    yc = y - y.mean()
    w = np.linalg.solve(Z.T @ Z + alpha * np.eye(Z.shape[1]), Z.T @ yc)
    coef = w / sd
    intercept = y.mean() - mu @ coef
    return [float(intercept), *map(float, coef)]
