"""The learned energy model: physics (:mod:`seal.estimator.physics`) with fitted constants and a small correction.

``EnergyModel(...).fit(runs).predict(frame)`` follows the scikit-learn estimator shape: hyper-parameters in
``__init__``, learned state in trailing-underscore attributes. ``runs`` is the store's ``benchmark_runs``
table; ``frame`` is a *physics frame* (see :func:`physics_frame`): one row per request with total/active
params, bytes per weight, GPU (canonical), GPU count, batch size, input/output tokens.

Fitting: the :class:`~seal.estimator.physics.PhysicsParams` are fitted by non-linear least squares on log
errors of every measured quantity at once — LLM-Perf prefill and decode energy and latency (batch 1), and
ML.ENERGY v2 energy per request (vLLM, batched). Then an optional ridge correction on a few log features is
fitted to what physics leaves on batched-serving rows (log residual of the request).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from seal.estimator import physics
from seal.estimator.physics import PhysicsParams

# ML.ENERGY v2 reports energy per request but not the prompt length. We assume this mean prompt length for
# its rows (ShareGPT chat prompts and code-completion prompts are short; at batch >= 16 prefill is a small
# share of a request's energy, so the result is insensitive to this choice: see the README methodology).
MLENERGY_INPUT_TOKENS = 256.0
# Weight of latency residuals relative to energy residuals in the fit.
LATENCY_WEIGHT = 0.5
# Pull of each fitted constant towards its physical prior (PhysicsParams defaults), per unit of log deviation.
# It keeps constants that a training subset cannot identify (e.g. eager efficiencies without A100 rows) sane.
PRIOR_WEIGHT = 0.5
# Bounds of the fitted constants (physically meaningful ranges).
PARAM_BOUNDS: dict[str, tuple[float, float]] = {
    "eager_compute_eff": (0.02, 1.0), "eager_memory_eff": (0.05, 1.0), "eager_overhead_s": (1e-6, 5e-3),
    "served_compute_eff": (0.02, 1.0), "served_memory_eff": (0.05, 1.0), "served_overhead_s": (1e-7, 5e-3),
    "eager_step_s": (1e-5, 0.1), "served_step_s": (1e-5, 0.1), "served_seq_s": (1e-7, 1e-3),
    "moe_eager_slowdown": (1.0, 30.0),
    **{f"{q}_overhead_x": (0.2, 30.0) for q in physics.QUANT_SCHEMES},
    **{f"{q}_{ph}_dequant_flop": (0.1, 1e5) for q in physics.QUANT_SCHEMES for ph in ("prefill", "decode")},
    "power_base": (0.05, 1.0), "power_compute": (0.0, 1.5), "power_memory": (0.0, 1.5),
}
CORRECTION_FEATURES = ("log_params", "log_active_share", "log_batch", "log_tokens", "log_gpus")
# Quantization method (benchmark_runs.quantization) + weight bits -> the physics' kernel scheme.
RUN_SCHEME = {("bnb", 8.0): "bnb8", ("bnb", 4.0): "bnb4", ("gptq", 4.0): "gptq", ("awq", 4.0): "gptq",
              ("torchao", 4.0): "torchao", ("torchao", 8.0): "torchao"}


def physics_frame(frame: pd.DataFrame, gpus_table: pd.DataFrame) -> pd.DataFrame:
    """The numeric inputs of the physics model, one row per request (index kept).

    ``frame`` columns: ``params_b``, ``active_params_b``, ``bytes_per_param``, ``compute_dtype`` (optional:
    ``bfloat16`` on a GPU without BF16 runs at FP32 speed), ``quant_scheme`` (see
    :data:`seal.estimator.physics.QUANT_SCHEMES`; empty for none),
    ``gpu`` (canonical), ``gpus``, ``batch_size``, ``input_tokens``, ``output_tokens``, ``eager`` (bool:
    an eager framework rather than a serving engine; default ``batch_size <= 1``).
    """
    facts = gpus_table.set_index("gpu")
    g_codes, g_uniques = pd.factorize(frame["gpu"], use_na_sentinel=True)
    out = pd.DataFrame(index=frame.index)
    out["n_tot"] = frame["params_b"].astype(float).to_numpy()
    out["n_act"] = frame["active_params_b"].astype(float).fillna(frame["params_b"].astype(float)).to_numpy()
    out["bpp"] = frame["bytes_per_param"].astype(float).to_numpy()
    scheme = frame["quant_scheme"] if "quant_scheme" in frame else pd.Series("", index=frame.index)
    out["scheme"] = pd.Series(scheme.to_numpy(dtype=object), index=frame.index).fillna("").to_numpy(dtype=object)
    out["quantized"] = (out["scheme"] != "").to_numpy()
    out["gpus"] = frame["gpus"].astype(float).to_numpy()
    out["batch"] = np.maximum(frame["batch_size"].astype(float).to_numpy(), 1.0)
    out["t_in"] = np.maximum(frame["input_tokens"].astype(float).to_numpy(), 0.0)
    out["t_out"] = np.maximum(frame["output_tokens"].astype(float).to_numpy(), 0.0)
    eager = frame["eager"] if "eager" in frame else (out["batch"] <= 1.0)
    out["eager"] = pd.Series(eager, index=frame.index).fillna(False).astype(bool).to_numpy()
    for col, src in (("peak_tflops", "bf16_dense_tflops"), ("fp32_tflops", "fp32_tflops"), ("bandwidth_gb_s", "memory_bandwidth_gb_s"), ("tdp_w", "tdp_w")):
        values = np.append(facts[src].reindex(pd.Index(g_uniques, dtype=object)).astype(float).to_numpy(), np.nan)
        out[col] = values[g_codes]
    # bfloat16 compute on a GPU without BF16 tensor cores (T4, V100) runs at FP32 (non-tensor) speed
    bf16_ok = facts["bf16_supported"].astype("string").str.lower().eq("true") if "bf16_supported" in facts \
        else pd.Series(True, index=facts.index)
    ok = np.append(bf16_ok.reindex(pd.Index(g_uniques, dtype=object)).fillna(True).astype(bool).to_numpy(), True)[g_codes]
    dtype = frame["compute_dtype"] if "compute_dtype" in frame else pd.Series("", index=frame.index)
    codes, uniques = pd.factorize(dtype, use_na_sentinel=True)
    is_bf16 = np.append(np.array([str(u).lower() in ("bfloat16", "bf16") for u in uniques], dtype=bool), False)[codes]
    emulated = is_bf16 & ~ok
    out["peak_tflops"] = np.where(emulated, out["fp32_tflops"], out["peak_tflops"])
    return out


def _col(pf, name: str) -> np.ndarray | None:
    """Column ``name`` of a physics frame: a DataFrame or a dict of equal-length arrays (the estimator's)."""
    values = pf[name]
    return values if values is None or isinstance(values, np.ndarray) else values.to_numpy()


def simulate(pf: pd.DataFrame | dict, params: PhysicsParams) -> dict[str, np.ndarray]:
    """Physics prediction for a physics frame: per-request energies (J), GPU time (GPU-s), step times (s)."""
    c = {k: _col(pf, k) for k in pf.keys()}
    times = physics.phase_times(c["n_tot"], c["n_act"], c["bpp"], c["gpus"], c["batch"], c["t_in"], c["t_out"],
                                c["peak_tflops"], c["fp32_tflops"], c["bandwidth_gb_s"], c["eager"], params,
                                scheme=c["scheme"])
    energy = physics.request_energy_j(times, c["gpus"], c["batch"], c["t_out"], c["tdp_w"], params)
    return {**times, **energy}


def correction_features(pf: pd.DataFrame | dict) -> np.ndarray:
    """Features of the ridge correction (:data:`CORRECTION_FEATURES`)."""
    n_tot = np.maximum(_col(pf, "n_tot"), 1e-3)
    return np.column_stack([
        np.log(n_tot),
        np.log(np.clip(_col(pf, "n_act") / n_tot, 1e-3, 1.0)),
        np.log(_col(pf, "batch")),
        np.log1p(_col(pf, "t_in") + _col(pf, "t_out")),
        np.log(np.maximum(_col(pf, "gpus"), 1.0)),
    ])


def runs_physics_frame(runs: pd.DataFrame, gpus_table: pd.DataFrame,
                       mlenergy_input_tokens: float = MLENERGY_INPUT_TOKENS) -> pd.DataFrame:
    """Turn ``benchmark_runs`` rows into the columns :func:`physics_frame` expects (training side)."""
    bits = runs["weight_bits"].astype(float)
    prec = runs["precision"].astype("string").str.lower()
    bpp_prec = physics.bytes_per_param(prec.fillna("float16").to_numpy())
    bpp = np.where(bits.notna(), bits / 8.0, bpp_prec)
    quant = runs.get("quantization", pd.Series("none", index=runs.index)).astype("string").fillna("none").str.lower()
    scheme = [RUN_SCHEME.get((q, float(b)), "") if b == b else "" for q, b in zip(quant, bits)]
    backend = runs.get("backend", pd.Series("", index=runs.index)).astype("string").fillna("").str.lower()
    t_in = runs["input_tokens"].astype(float).fillna(mlenergy_input_tokens)
    frame = pd.DataFrame({
        "params_b": runs["params_b"].astype(float), "active_params_b": runs["active_params_b"].astype(float),
        "bytes_per_param": bpp, "quant_scheme": scheme,
        "gpu": runs["gpu"], "gpus": runs["gpu_count"].astype(float).fillna(1.0),
        "batch_size": runs["batch_size"].astype(float).fillna(1.0), "input_tokens": t_in,
        "output_tokens": runs["output_tokens"].astype(float), "compute_dtype": prec.fillna("").to_numpy(dtype=object),
        "eager": ~backend.isin(["vllm", "tgi", "sglang", "trt-llm"]).to_numpy(),
    }, index=runs.index)
    return physics_frame(frame, gpus_table)


def usable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Training rows: GPU runs with known params and GPU, positive energy, text-only tasks."""
    r = runs
    ok = r["gpu"].notna() & (r["params_b"].astype(float) > 0) & r["output_tokens"].notna()
    if "device" in r:
        ok &= r["device"].astype("string").fillna("cuda").str.lower().eq("cuda")
    if "task" in r:
        ok &= ~r["task"].astype("string").fillna("").str.startswith("mllm")
    e_pf, e_dc, e_rq = (r[c].astype(float) for c in ("prefill_energy_j", "decode_energy_j", "request_energy_j"))
    ok &= ((e_pf > 0) & (e_dc > 0)) | (e_pf.isna() & (e_rq > 0))
    return r[ok.fillna(False)]


class EnergyModel:
    """Physics-based per-request GPU energy model with fitted constants and an optional learned correction.

    Args:
        correction: ``"none"`` (physics with fitted constants only) or ``"ridge"`` (plus, for batched serving
            rows, a ridge regression of the request's log residual on :data:`CORRECTION_FEATURES`).
        ridge_alpha: L2 penalty of the correction.
        mlenergy_input_tokens: assumed mean prompt length of ML.ENERGY v2 rows (tokens).
    """

    def __init__(self, correction: str = "none", ridge_alpha: float = 3.0,
                 mlenergy_input_tokens: float = MLENERGY_INPUT_TOKENS):
        self.correction = correction
        self.ridge_alpha = ridge_alpha
        self.mlenergy_input_tokens = mlenergy_input_tokens

    # ------------------------------------------------------------ fit
    def fit(self, runs: pd.DataFrame, gpus_table: pd.DataFrame | None = None,
            physics_params: PhysicsParams | None = None) -> "EnergyModel":
        """Fit on ``benchmark_runs`` rows. ``physics_params``: reuse constants already fitted on the same rows
        (only the correction is fitted then; used by cross-validation to share one physics fit)."""
        from scipy.optimize import least_squares

        from seal.data.gpus import load_gpus

        gpus_table = load_gpus() if gpus_table is None else gpus_table
        runs = usable_runs(runs)
        pf = runs_physics_frame(runs, gpus_table, self.mlenergy_input_tokens)
        targets = {k: runs[k].astype(float).to_numpy() for k in
                   ("prefill_energy_j", "decode_energy_j", "request_energy_j", "prefill_latency_s",
                    "decode_latency_s", "tpot_s")}
        split = ~np.isnan(targets["prefill_energy_j"])
        names = physics.PARAM_NAMES
        lo = np.log([PARAM_BOUNDS[n][0] if PARAM_BOUNDS[n][0] > 0 else 1e-6 for n in names])
        hi = np.log([PARAM_BOUNDS[n][1] for n in names])
        x0 = np.clip(np.log([max(v, 1e-6) for v in PhysicsParams().to_dict().values()]), lo + 1e-9, hi - 1e-9)
        t_out = pf["t_out"].to_numpy()

        def residuals(x: np.ndarray) -> np.ndarray:
            p = PhysicsParams(**dict(zip(names, np.exp(x))))
            s = simulate(pf, p)
            res = []
            e_pf, e_dc = s["prefill_energy_j"], s["decode_energy_j"]
            res.append(np.log(e_pf[split] / targets["prefill_energy_j"][split]))
            res.append(np.log(e_dc[split] / targets["decode_energy_j"][split]))
            res.append(np.log((e_pf + e_dc)[~split] / targets["request_energy_j"][~split]))
            # batch-1 latencies only: in continuous batching the time per output token includes stalls for
            # other requests' prefills, so it is not a decode step time.
            lat = [("prefill_latency_s", s["prefill_s"]), ("decode_latency_s", s["decode_step_s"] * t_out)]
            for key, pred in lat:
                m = np.isfinite(targets[key]) & (targets[key] > 0) & split
                res.append(LATENCY_WEIGHT * np.log(pred[m] / targets[key][m]))
            res.append(PRIOR_WEIGHT * (x - x0))
            return np.concatenate(res)

        if physics_params is None:
            sol = least_squares(residuals, x0, bounds=(lo, hi), method="trf", x_scale=1.0, max_nfev=400)
            self.params_ = PhysicsParams(**dict(zip(names, np.exp(sol.x))))
        else:
            self.params_ = physics_params
        self.n_train_ = int(len(runs))
        self.train_max_params_b_ = float(runs["params_b"].astype(float).max())
        self.train_gpus_ = sorted(runs["gpu"].astype(str).unique())
        self.train_sources_ = sorted(runs["source"].astype(str).unique())
        self.gpu_sources_ = {g: sorted(runs.loc[runs["gpu"] == g, "source"].astype(str).unique()) for g in self.train_gpus_}
        eager_rows = pf["eager"].to_numpy()
        self.gpu_rows_ = {g: {"eager": int(((runs["gpu"] == g).to_numpy() & eager_rows).sum()),
                              "served": int(((runs["gpu"] == g).to_numpy() & ~eager_rows).sum())}
                          for g in self.train_gpus_}
        self.coef_ = {"served": [0.0] * (len(CORRECTION_FEATURES) + 1)}
        self.feature_range_ = {"low": [0.0] * len(CORRECTION_FEATURES), "high": [0.0] * len(CORRECTION_FEATURES)}
        served = ~pf["eager"].to_numpy()
        if self.correction == "ridge" and (served & ~split).sum() >= 10:
            # Served (batched) rows only: a ridge regression of log(measured / physics) of the whole request on a
            # few log features, with features clipped to the training range at prediction (no linear
            # extrapolation). Eager batch-1 rows stay pure physics (the correction did not transfer there).
            s = simulate(pf, self.params_)
            X = correction_features(pf)
            m = served & ~split
            r_rq = np.log(targets["request_energy_j"][m] / (s["prefill_energy_j"] + s["decode_energy_j"])[m])
            self.coef_["served"] = _ridge(X[m], r_rq, self.ridge_alpha)
            self.feature_range_ = {"low": X[m].min(axis=0).tolist(), "high": X[m].max(axis=0).tolist()}
        return self

    # ------------------------------------------------------------ predict
    def correction_factor(self, pf: pd.DataFrame | dict) -> np.ndarray:
        """Multiplicative correction of both phases' energy per row (1 for eager rows or no correction)."""
        if self.correction != "ridge":
            return np.ones(len(_col(pf, "n_tot")))
        X = np.clip(correction_features(pf), self.feature_range_["low"], self.feature_range_["high"])
        coef = np.asarray(self.coef_["served"])
        # the linear term column by column, not ``X @ coef``: a matrix product starts BLAS worker threads that
        # spin after each call, and on 2 cores that spinning took ~20 % of the CPU of scoring a log (perf)
        linear = np.full(len(X), coef[0])
        for j in range(X.shape[1]):
            linear += X[:, j] * coef[j + 1]
        return np.where(_col(pf, "eager"), 1.0, np.exp(np.clip(linear, -1.0, 1.0)))

    def predict_physics(self, pf: pd.DataFrame | dict) -> dict[str, np.ndarray]:
        """Per-request prediction for a physics frame (see :func:`physics_frame`; or a dict of its columns as
        arrays, ``scheme`` None when no weight is quantized), correction applied."""
        s = simulate(pf, self.params_)
        k = self.correction_factor(pf)
        for phase in ("prefill", "decode"):
            s[f"{phase}_energy_j"] = s[f"{phase}_energy_j"] * k
            s[f"{phase}_power_w"] = s[f"{phase}_power_w"] * k  # the correction is read as a power correction
        return s

    def predict(self, frame: pd.DataFrame, gpus_table: pd.DataFrame | None = None) -> pd.DataFrame:
        """Prefill, decode and request GPU energy (J) for each row of a physics-input frame (or runs frame)."""
        from seal.data.gpus import load_gpus

        gpus_table = load_gpus() if gpus_table is None else gpus_table
        pf = frame if "n_tot" in frame else (
            runs_physics_frame(frame, gpus_table, self.mlenergy_input_tokens) if "gpu_count" in frame
            else physics_frame(frame, gpus_table))
        s = self.predict_physics(pf)
        return pd.DataFrame({"prefill_energy_j": s["prefill_energy_j"], "decode_energy_j": s["decode_energy_j"],
                             "request_energy_j": s["prefill_energy_j"] + s["decode_energy_j"]}, index=pf.index)

    # ------------------------------------------------------------ (de)serialise
    def to_dict(self) -> dict:
        return {"correction": self.correction, "ridge_alpha": self.ridge_alpha,
                "mlenergy_input_tokens": self.mlenergy_input_tokens, "params": self.params_.to_dict(),
                "coef": {k: [float(v) for v in c] for k, c in self.coef_.items()},
                "feature_range": self.feature_range_,
                "correction_features": list(CORRECTION_FEATURES),
                "n_train": self.n_train_, "train_max_params_b": self.train_max_params_b_,
                "train_gpus": self.train_gpus_, "train_sources": self.train_sources_, "gpu_sources": self.gpu_sources_,
                "gpu_rows": self.gpu_rows_}

    @classmethod
    def from_dict(cls, d: dict) -> "EnergyModel":
        m = cls(correction=d["correction"], ridge_alpha=d["ridge_alpha"], mlenergy_input_tokens=d["mlenergy_input_tokens"])
        m.params_ = PhysicsParams(**d["params"])
        m.coef_ = {k: list(v) for k, v in d["coef"].items()}
        m.feature_range_ = d["feature_range"]
        m.n_train_ = d["n_train"]
        m.train_max_params_b_ = d["train_max_params_b"]
        m.train_gpus_ = list(d["train_gpus"])
        m.train_sources_ = list(d["train_sources"])
        m.gpu_sources_ = {k: list(v) for k, v in d["gpu_sources"].items()}
        m.gpu_rows_ = {k: dict(v) for k, v in d.get("gpu_rows", {}).items()}
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
