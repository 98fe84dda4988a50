"""Validation of the energy model on held-out benchmark runs: ``seal validate``.

Splits (each row is predicted by a model fitted without it):
- ``random-5fold``: random K-fold (interpolation);
- ``leave-one-family-out``: every model family with >= 10 rows held out in turn (all sources at once);
- ``leave-one-gpu-out``: every GPU held out in turn (H100 <-> B200 for current vLLM);
- ``size>30B`` / ``size>111B``: train on models <= X B, test above (extrapolation in size).

Targets: ``prefill`` and ``decode`` (LLM-Perf rows, batch 1), ``request`` (every row), and — fitted apart where a
source measures them — ``power`` (mean W per GPU) and ``time`` (the request's GPU-seconds; batch-1 wall time).
Every split is reported overall and per source (``split [source]``); leave-one-GPU-out also per held-out GPU.
Metrics: MAPE, median APE, bias (median of predicted / measured - 1) and the coverage of the 80 % interval,
calibrated *cross-conformally* per source: a held-out group's interval comes from the held-out residuals of the
*other* groups of the same split and source, so coverage is itself out of sample.

Reference rows: the SEAL paper's published figures (arXiv 2603.02949) and EcoLogits' GPU-energy formula
(``ecologits.impacts.llm``; fitted by its authors on ML.ENERGY data) evaluated on the same rows, with the ratio
of its median error to SEAL's. ML.ENERGY v3's prompt lengths are assumed: :func:`prompt_length_sensitivity`
refits with them halved and doubled.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from seal.estimator import defaults as D
from seal.units import J_PER_WH

FAMILIES = ("physics", "physics+ridge", "physics+gbm")
SHIPPED_CANDIDATES = ("physics", "physics+ridge")   # JSON-serialisable families
K_FOLDS = 5
SEED = 20260302
SIZE_SPLITS_B = (30.0, 111.0)
MIN_FAMILY_ROWS = 10
MAX_FAMILY_FOLDS = 12
COVERAGE = 0.8
TARGETS = ("prefill", "decode", "request", "power", "time")
PAPER_ROWS = (  # SEAL paper, arXiv 2603.02949 (published figures, not recomputed here)
    {"split": "paper: interpolation", "target": "decode", "mape": 0.07},
    {"split": "paper: interpolation", "target": "prefill", "mape": 0.05},
    {"split": "paper: size>111B", "target": "request", "mape": 0.25, "note": "25-32 % above 111 B"},
)
COLUMNS = ["family", "split", "source", "target", "n", "mape", "median_ape", "bias", "coverage_80", "note"]


def load_runs(db_path: str | Path) -> pd.DataFrame:
    """``benchmark_runs`` usable for training, in a deterministic order."""
    from seal.data.store import connect, table_names
    from seal.errors import SealError
    from seal.estimator.model import usable_runs

    if "benchmark_runs" not in table_names(db_path):
        raise SealError(f"The store at {db_path} has no benchmark runs; run `seal data pull` first.")
    con = connect(db_path)   # read-only attach: a store replaced by a pull is seen at once
    try:
        runs = con.sql("SELECT * FROM benchmark_runs").df()
    finally:
        con.close()
    runs = usable_runs(runs)
    keys = [c for c in ("source", "model_id", "gpu", "precision", "quantization", "attn_implementation",
                        "gpu_count", "batch_size", "task", "output_tokens", "request_energy_j") if c in runs]
    return runs.sort_values(keys, kind="mergesort").reset_index(drop=True)


def family_model(family: str, **kwargs):
    """An unfitted model of a family name (``physics``, ``physics+ridge``, ``physics+gbm``)."""
    from seal.estimator.model import EnergyModel

    if family == "physics+gbm":
        return GbmCorrected(**kwargs)
    return EnergyModel(correction="ridge" if family == "physics+ridge" else "none", **kwargs)


def _fit_family(family: str, train: pd.DataFrame, cache: dict | None = None, key=None, **kwargs):
    """Fit a family on ``train``; the physics constants are fitted once per ``key`` and shared by families."""
    if cache is None or key is None:
        return family_model(family, **kwargs).fit(train)
    if key not in cache:
        cache[key] = family_model("physics", **kwargs).fit(train)
    base = cache[key]
    if family == "physics":
        return base
    if family == "physics+gbm":
        return GbmCorrected(**kwargs).fit(train, base=base)
    return family_model(family, **kwargs).fit(train, physics_params=base.params_)


class GbmCorrected:
    """Physics with fitted constants plus a gradient-boosting correction of the log residual (validation only)."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def fit(self, runs: pd.DataFrame, base=None) -> "GbmCorrected":
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        from seal.data.gpus import load_gpus
        from seal.estimator.model import EnergyModel

        self.base_ = base if base is not None else EnergyModel(**self.kwargs).fit(runs)
        X = self._features(self.base_.runs_frame(runs, load_gpus()))
        base = self.base_.predict(runs)
        self.gbm_ = {}
        for phase, col in (("prefill", "prefill_energy_j"), ("decode", "decode_energy_j")):
            meas = runs[col].astype(float).to_numpy()
            pred = base[col].to_numpy()
            if phase == "decode":  # requests without split: attribute the residual to decode
                meas = np.where(np.isnan(meas), runs["request_energy_j"].astype(float).to_numpy(), meas)
                pred = np.where(np.isnan(runs[col].astype(float).to_numpy()), base["request_energy_j"].to_numpy(), pred)
            ok = np.isfinite(meas) & (meas > 0)
            with threadpool_limits(1):  # tiny data: threads only contend on a shared machine
                self.gbm_[phase] = HistGradientBoostingRegressor(max_iter=150, learning_rate=0.05, max_depth=3,
                                                                 random_state=0).fit(X[ok], np.log(meas[ok] / pred[ok]))
        return self

    @staticmethod
    def _features(pf: dict) -> np.ndarray:
        return np.column_stack([np.log(pf["n_tot"]), np.log(pf["n_act"]), np.log(pf["batch"]), pf["bpp"],
                                np.log(pf["gpus"]), np.log(pf["peak_tflops"]), np.log(pf["bandwidth_gb_s"]),
                                np.log(pf["tdp_w"]), pf["engine"].astype(float)])

    def predict(self, runs: pd.DataFrame) -> pd.DataFrame:
        from threadpoolctl import threadpool_limits

        from seal.data.gpus import load_gpus

        base = self.base_.predict(runs)
        X = self._features(self.base_.runs_frame(runs, load_gpus()))
        with threadpool_limits(1):
            kp = np.exp(self.gbm_["prefill"].predict(X))
            kd = np.exp(self.gbm_["decode"].predict(X))
        out = base.copy()
        out["prefill_energy_j"] = base["prefill_energy_j"] * kp
        out["decode_energy_j"] = base["decode_energy_j"] * kd
        out["request_energy_j"] = out["prefill_energy_j"] + out["decode_energy_j"]
        out["power_w"] = out["request_energy_j"] / out["gpu_time_s"]   # the correction read as power
        return out


def split_groups(runs: pd.DataFrame, split: str) -> pd.Series:
    """Held-out group label per row (NaN: always in training) for a split name."""
    if split == "random-5fold":
        rng = np.random.default_rng(SEED)
        return pd.Series(rng.permutation(len(runs)) % K_FOLDS, index=runs.index).astype(str)
    if split == "leave-one-family-out":
        fam = runs["model_family"].astype("string").fillna("other")
        counts = fam.value_counts()
        keep = list(counts[counts >= MIN_FAMILY_ROWS].index[:MAX_FAMILY_FOLDS])
        return fam.where(fam.isin(keep)).astype(object)
    if split == "leave-one-gpu-out":
        return runs["gpu"].astype(object)
    if split.startswith("size>"):
        x = float(split[len("size>"):-1])
        above = (runs["params_b"].astype(float) > x).to_numpy()
        return pd.Series(np.where(above, "above", None), index=runs.index, dtype=object)
    raise ValueError(split)


SPLITS = ("random-5fold", "leave-one-family-out", "leave-one-gpu-out", *(f"size>{x:g}B" for x in SIZE_SPLITS_B))


def measured_targets(runs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Measured value per target: energies (J), power (W per GPU), time (GPU-seconds per request; batch-1 rows:
    prefill + decode wall time x GPUs)."""
    from seal.estimator.model import measured_power_w, measured_time_s, run_gpus

    t = measured_time_s(runs)
    gpus = run_gpus(runs)
    batch1 = (t["prefill_latency_s"] + t["decode_latency_s"]) * gpus
    return {
        **{k: runs[f"{k}_energy_j"].astype(float).to_numpy() for k in ("prefill", "decode", "request")},
        "power": measured_power_w(runs),
        "time": np.where(np.isfinite(t["request_gpu_time_s"]), t["request_gpu_time_s"], batch1),
    }


def held_out_predictions(runs: pd.DataFrame, family: str, split: str, cache: dict | None = None,
                         **kwargs) -> pd.DataFrame:
    """Out-of-group predictions for every row of the split's held-out groups (columns: group, source, gpu,
    model, measured and predicted value and log residual per target)."""
    groups = split_groups(runs, split)
    meas = measured_targets(runs)
    parts = []
    for g in sorted(pd.unique(groups.dropna()), key=str):
        test = groups.eq(g).to_numpy()
        if test.all() or not test.any():
            continue
        model = _fit_family(family, runs[~test], cache, (split, str(g)), **kwargs)
        pred = model.predict(runs[test])
        predicted = {**{t: pred[f"{t}_energy_j"].to_numpy() for t in ("prefill", "decode", "request")},
                     "power": pred["power_w"].to_numpy(), "time": pred["gpu_time_s"].to_numpy()}
        parts.append(pd.DataFrame({
            "group": str(g), "source": runs.loc[test, "source"].to_numpy(), "gpu": runs.loc[test, "gpu"].to_numpy(),
            "model_id": runs.loc[test, "model_id"].to_numpy(), "params_b": runs.loc[test, "params_b"].to_numpy(),
            "batch_size": runs.loc[test, "batch_size"].to_numpy(),
            **{f"measured_{t}": meas[t][test] for t in TARGETS},
            **{f"predicted_{t}": predicted[t] for t in TARGETS},
        }, index=runs.index[test]))
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts)
    for t in TARGETS:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"log_residual_{t}"] = np.log(out[f"measured_{t}"] / out[f"predicted_{t}"])
    return out


def interval_quantiles(log_residuals: np.ndarray, coverage: float = COVERAGE) -> list[float]:
    """(low, high) quantiles of log(measured / predicted) covering ``coverage`` of the residuals
    (split-conformal finite-sample correction)."""
    r = np.sort(log_residuals[np.isfinite(log_residuals)])
    if len(r) == 0:
        return [float("nan"), float("nan")]
    n = len(r)
    a = (1 - coverage) / 2
    lo_q = max(np.floor(a * (n + 1)) / n, 0.0)
    hi_q = min(np.ceil((1 - a) * (n + 1)) / n, 1.0)
    return [float(np.quantile(r, lo_q)), float(np.quantile(r, hi_q))]


def _metrics(meas: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    ok = np.isfinite(meas) & np.isfinite(pred) & (meas > 0)
    ape = np.abs(pred[ok] / meas[ok] - 1)
    return {"n": int(ok.sum()), "mape": float(ape.mean()) if ok.any() else np.nan,
            "median_ape": float(np.median(ape)) if ok.any() else np.nan,
            "bias": float(np.median(pred[ok] / meas[ok] - 1)) if ok.any() else np.nan}


def _coverage(oof: pd.DataFrame, target: str) -> float:
    """Cross-conformal coverage within each source: each group's interval from the other groups' residuals of
    the same source (the shipped intervals are per engine, i.e. per source)."""
    col = f"log_residual_{target}"
    hits, total = 0, 0
    for _, part in oof.groupby("source", sort=True):
        groups = part["group"].to_numpy()
        r = part[col].to_numpy()
        for g in pd.unique(groups):
            mine = (groups == g) & np.isfinite(r)
            other = (groups != g) & np.isfinite(r)
            if not mine.any():
                continue
            if other.sum() < 10:  # one held-out group of this source: split its own rows (split conformal)
                idx = np.flatnonzero(mine)
                calib, test = idx[::2], idx[1::2]
                if len(calib) < 5:
                    continue
                lo, hi = interval_quantiles(r[calib])
                hits += int(((r[test] >= lo) & (r[test] <= hi)).sum())
                total += len(test)
                continue
            lo, hi = interval_quantiles(r[other])
            hits += int(((r[mine] >= lo) & (r[mine] <= hi)).sum())
            total += int(mine.sum())
    return hits / total if total else np.nan


def ecologits_request_energy_j(runs: pd.DataFrame) -> np.ndarray:
    """EcoLogits' GPU energy per request (J) for benchmark rows: GPU count from its memory rule, then
    ``count x output_tokens x (alpha e^(beta B) N_active + gamma)`` Wh/token (``ecologits.impacts.llm``)."""
    from ecologits.impacts import llm as eco

    n_act = runs["active_params_b"].astype(float).fillna(runs["params_b"].astype(float)).to_numpy()
    n_tot = runs["params_b"].astype(float).to_numpy()
    bits = runs["weight_bits"].astype(float).fillna(eco.MODEL_QUANTIZATION_BITS).to_numpy()
    mem = 1.2 * n_tot * bits / 8
    count = np.ceil(mem / eco.GPU_MEMORY)
    count = 2 ** np.ceil(np.log2(np.maximum(count, 1)))
    b = runs["batch_size"].astype(float).fillna(1).to_numpy()
    wh_per_token = eco.GPU_ENERGY_ALPHA * np.exp(eco.GPU_ENERGY_BETA * b) * n_act + eco.GPU_ENERGY_GAMMA
    return count * runs["output_tokens"].astype(float).to_numpy() * wh_per_token * J_PER_WH


def _rows_for(oof: pd.DataFrame, family: str, split: str, source: str, note: str = "",
              coverage: bool = True) -> list[dict]:
    rows = []
    for target in TARGETS:
        m = _metrics(oof[f"measured_{target}"].to_numpy(), oof[f"predicted_{target}"].to_numpy())
        if m["n"] == 0:
            continue
        rows.append({"family": family, "split": split, "source": source, "target": target, **m,
                     "coverage_80": _coverage(oof, target) if coverage else np.nan, "note": note})
    return rows


def validate(db_path: str | Path, families: tuple[str, ...] = FAMILIES, splits: tuple[str, ...] = SPLITS,
             runs: pd.DataFrame | None = None, sensitivity: bool = True) -> pd.DataFrame:
    """The validation table: one row per (family, split, source, target) plus reference rows.

    Columns: family, split, source (``all`` or one source), target, n, mape, median_ape, bias, coverage_80, note.
    """
    runs = load_runs(db_path) if runs is None else runs
    rows: list[dict] = []
    cache: dict = {}
    eco = ecologits_request_energy_j(runs)
    for split in splits:
        test_rows = None
        for family in families:
            oof = held_out_predictions(runs, family, split, cache)
            if oof.empty:
                continue
            test_rows = oof.index
            rows += _rows_for(oof, family, split, "all")
            for src, part in oof.groupby("source", sort=True):
                rows += _rows_for(part, family, split, str(src))
            if split == "leave-one-gpu-out":  # per held-out GPU and source: transfer differs a lot between GPUs
                for (g, src), part in oof.groupby(["group", "source"], sort=True):
                    rows += _rows_for(part, family, f"{split}[{g}]", str(src), "per held-out GPU", coverage=False)
        if test_rows is not None:
            src = runs.loc[test_rows, "source"].astype(str).to_numpy()
            meas = runs.loc[test_rows, "request_energy_j"].astype(float).to_numpy()
            pred = eco[runs.index.get_indexer(test_rows)]
            for label, mask in (("all", np.ones(len(src), dtype=bool)), *((s, src == s) for s in sorted(set(src)))):
                m = _metrics(meas[mask], pred[mask])
                if m["n"]:
                    rows.append({"family": "ecologits", "split": split, "source": label, "target": "request", **m,
                                 "coverage_80": np.nan,
                                 "note": "EcoLogits formula, not refitted (fitted on ML.ENERGY data)"})
    if sensitivity:
        rows += prompt_length_sensitivity(runs)
    for ref in PAPER_ROWS:
        rows.append({"family": "seal-paper", "split": ref["split"], "source": "paper", "target": ref["target"],
                     "n": np.nan, "mape": ref["mape"], "median_ape": np.nan, "bias": np.nan, "coverage_80": np.nan,
                     "note": ref.get("note", "published figure, arXiv 2603.02949")})
    return pd.DataFrame(rows, columns=COLUMNS)


def prompt_length_sensitivity(runs: pd.DataFrame, factors: tuple[float, ...] = (0.5, 2.0),
                              family: str = "physics", splits: tuple[str, ...] = ("random-5fold",
                                                                                 "leave-one-family-out")) -> list[dict]:
    """Refit with ML.ENERGY v3's assumed prompt lengths (defaults.TASK_INPUT_TOKENS) scaled by each factor:
    the held-out request error on v3 rows per split (rows labelled ``v3 prompt xF``)."""
    rows = []
    tasks = runs["task"].astype(str).to_numpy() if "task" in runs else np.array([""] * len(runs))
    # one task's assumption at a time (random split), measured on that task's rows
    for task, assumed in D.TASK_INPUT_TOKENS.items():
        for f in (1.0, *factors):
            tokens = {**D.TASK_INPUT_TOKENS, task: assumed * f}
            oof = held_out_predictions(runs, family, "random-5fold", None, task_input_tokens=tokens)
            part = oof[(oof["source"] == "mlenergy-v3") & (tasks[runs.index.get_indexer(oof.index)] == task)]
            if len(part):
                m = _metrics(part["measured_request"].to_numpy(), part["predicted_request"].to_numpy())
                rows.append({"family": family, "split": f"random-5fold (v3 {task} prompt x{f:g})",
                             "source": "mlenergy-v3", "target": "request", **m, "coverage_80": np.nan,
                             "note": f"sensitivity: {task} prompts {assumed * f:g} tokens, other tasks as assumed"})
    for f in factors:
        tokens = {k: v * f for k, v in D.TASK_INPUT_TOKENS.items()}
        for split in splits:
            oof = held_out_predictions(runs, family, split, None, task_input_tokens=tokens)
            part = oof[oof["source"] == "mlenergy-v3"] if len(oof) else oof
            if len(part):
                m = _metrics(part["measured_request"].to_numpy(), part["predicted_request"].to_numpy())
                rows.append({"family": family, "split": f"{split} (v3 prompt x{f:g})", "source": "mlenergy-v3",
                             "target": "request", **m, "coverage_80": np.nan,
                             "note": "sensitivity: assumed prompt lengths " + ", ".join(
                                 f"{k} {v:g}" for k, v in tokens.items())})
    return rows


def choose_family(table: pd.DataFrame, candidates: tuple[str, ...] = SHIPPED_CANDIDATES) -> str:
    """The family with the lowest mean median APE of the request over the extrapolation splits, every source
    weighing the same (the few current-vLLM rows count as much as the many batch-1 ones)."""
    t = table[table["family"].isin(candidates) & table["split"].isin([s for s in SPLITS if s != "random-5fold"])
              & ~table["source"].isin(["all", "paper"]) & table["target"].eq("request")]
    score = t.groupby("family")["median_ape"].mean()
    return str(score.idxmin()) if len(score) else candidates[0]


def ecologits_ratio(table: pd.DataFrame, family: str) -> pd.DataFrame:
    """EcoLogits' median request error / SEAL's on the same held-out rows, per split and source."""
    seal = table[(table["family"] == family) & (table["target"] == "request")].set_index(["split", "source"])
    eco = table[(table["family"] == "ecologits")].set_index(["split", "source"])
    joined = seal[["median_ape"]].join(eco[["median_ape"]], rsuffix="_ecologits", how="inner")
    joined["ratio"] = joined["median_ape_ecologits"] / joined["median_ape"]
    return joined.reset_index()


def parity_frame(db_path: str | Path, family: str | None = None, split: str = "random-5fold") -> pd.DataFrame:
    """Measured vs predicted energy per held-out row (long format: one row per target) for a parity plot."""
    from seal.estimator.artifact import read_artifact

    if family is None:
        try:
            family = read_artifact()["family"]
        except Exception:  # no artifact: the default family
            family = "physics"
    oof = held_out_predictions(load_runs(db_path), family, split)
    parts = []
    for t in ("prefill", "decode", "request"):
        part = oof[["source", "gpu", "model_id", "params_b", "batch_size"]].copy()
        part["target"] = t
        part["measured_j"] = oof[f"measured_{t}"]
        part["predicted_j"] = oof[f"predicted_{t}"]
        parts.append(part[np.isfinite(part["measured_j"])])
    out = pd.concat(parts, ignore_index=True)
    out["split"] = split
    out["family"] = family
    return out


def format_table(df: pd.DataFrame) -> str:
    """The validation table as aligned text (percentages)."""
    t = df.copy()
    for col in [c for c in ("mape", "median_ape", "bias", "coverage_80") if c in t]:
        t[col] = t[col].map(lambda v: "" if pd.isna(v) else f"{100 * v:.1f}%")
    t["n"] = t["n"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    return t.to_string(index=False)
