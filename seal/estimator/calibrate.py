"""Calibration to a team's own fleet: ``seal calibrate user:NAME`` and ``seal estimate --deployment user:NAME``.

The correction is a small, documented model of what SEAL misses on one deployment. For a measured request (or
measurement window) ``r`` served under engine x GPU group ``g``::

    log(measured_r / SEAL_r) = a + u_g + b . z_r + e_r

- ``a``: the deployment's own factor (``exp(a)``: measured / SEAL on its typical request);
- ``u_g``: the engine x GPU group's offset, shrunk toward 0 like a ridge with :data:`GROUP_SHRINK_ROWS`
  (a group of ``n`` rows keeps about ``n / (n + GROUP_SHRINK_ROWS)`` of its own mean deviation);
- ``b``: slopes on the standardised log features :data:`FEATURES` (batch size, prompt and output length, model
  size), ridge-penalised (:data:`SLOPE_ALPHA`) and used only when a cross-validation inside the training rows says
  they help (``slopes="auto"``): a team whose meter disagrees with SEAL by a constant gets a constant;
- one such model per phase where prefill and decode are measured apart, else one for the request applied to both.

Features are clipped to the training range at prediction (no extrapolation of the slopes). The 80 % interval is
the 10th-90th percentile of **cross-validated** residuals (K-fold by measurement group: a CodeCarbon window or a
benchmark configuration is never split between training and test), widened by :data:`UNSEEN_GROUP_WIDENING`
for an engine x GPU group the deployment never measured (warning ``calibration-outside-coverage``).
Rows apportioned from CodeCarbon windows are fitted on window totals (the measured quantity), never on the
apportioned shares.
"""
from __future__ import annotations

import functools
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seal.errors import SealError

FEATURES = ("log_batch", "log_input", "log_output", "log_params")
GROUP_SHRINK_ROWS = 10.0     # rows; pseudo-count that pulls an engine x GPU group's offset toward the deployment's
SLOPE_ALPHA = 4.0            # ridge penalty of the standardised slopes (in rows)
K_FOLDS = 5
SEED = 20261202
COVERAGE = 0.8
MIN_ROWS = 5                 # observations (requests or windows) needed to calibrate at all
MIN_PHASE_ROWS = 10          # rows with prefill and decode measured apart to fit the phases apart
UNSEEN_GROUP_WIDENING = 1.5  # the interval of a group the deployment never measured: x this (assumption)
HUBER_K = 1.345              # Huber's constant (in robust standard deviations of the log residuals)
HUBER_ITERATIONS = 6         # re-weighted least-squares passes
OUTSIDE_MARGIN_LOG = 0.1     # a feature this far (in log, ~10 %) beyond the measured range is outside coverage
PLAUSIBLE_RATIO = 100.0      # measured / SEAL beyond x100 or below /100 is a unit mistake, not a fleet (import)
SLOPE_GAIN = 0.02            # slopes kept only if they lower the inner cross-validated error by 2 % or more
BEFORE = "before (SEAL as shipped)"
AFTER = "after calibration (cross-validated)"
PAYLOAD_FORMAT = "seal-calibration"
PAYLOAD_VERSION = 1


def features(frame: pd.DataFrame) -> np.ndarray:
    """:data:`FEATURES` of SEAL's estimated rows (``batch_size``, ``input_tokens``, ``output_tokens``,
    ``params_b``): natural logs."""
    def col(name: str, floor: float) -> np.ndarray:
        return np.maximum(pd.to_numeric(frame[name], errors="coerce").fillna(floor).to_numpy(dtype=float), floor)

    return np.column_stack([np.log(col("batch_size", 1.0)), np.log1p(col("input_tokens", 0.0)),
                            np.log1p(col("output_tokens", 0.0)), np.log(col("params_b", 0.01))])


def group_keys(frame: pd.DataFrame) -> np.ndarray:
    """``engine|GPU`` per row (the resolved engine and canonical GPU of SEAL's estimate), ``|latency`` added where
    the request gave a latency (SEAL then estimates from power x time: another error to correct)."""
    gpu = frame["gpu_model"] if "gpu_model" in frame else frame["gpu"]
    keys = frame["engine"].astype(str) + "|" + gpu.astype(str)
    if "latency_s" in frame:
        latency = pd.to_numeric(frame["latency_s"], errors="coerce")
        keys = keys.where(~(latency > 0), keys + "|latency")
    return keys.to_numpy(dtype=object)


SLOPE_CHOICE_ROWS = 20_000   # observations the slope choice is made on (a fixed random subset beyond)
PARITY_POINTS = 5_000        # measurements kept for the parity plot (a fixed random subset beyond)


def _codes(groups: np.ndarray, names: list[str]) -> np.ndarray:
    """Index of each row's group in ``names`` (-1: a group not in ``names``), once per distinct group."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(groups, dtype=object), dtype=object))
    where = {g: i for i, g in enumerate(names)}
    lookup = np.array([where.get(g, -1) for g in uniques] + [-1], dtype=np.int64)
    return lookup[np.where(codes >= 0, codes, len(uniques))]


class DeploymentCalibration:
    """``fit(X, log_ratio, groups)`` / ``predict_log(X, groups)``: the correction of one phase (see module).

    Args:
        slopes: ``"auto"`` (keep the slopes only where an inner cross-validation says they help), ``True`` or
            ``False``.
        group_shrink_rows, slope_alpha: the two penalties (rows).

    Fitted: ``intercept_``, ``group_offsets_`` ({group: offset}), ``slopes_`` (per standardised feature; zeros
    when not used), ``feature_mean_`` / ``feature_sd_`` / ``feature_low_`` / ``feature_high_``, ``n_``.
    """

    def __init__(self, slopes: bool | str = "auto", group_shrink_rows: float = GROUP_SHRINK_ROWS,
                 slope_alpha: float = SLOPE_ALPHA):
        self.slopes = slopes
        self.group_shrink_rows = group_shrink_rows
        self.slope_alpha = slope_alpha

    def _design(self, X: np.ndarray, groups: np.ndarray, names: list[str]) -> np.ndarray:
        z = (np.clip(X, self.feature_low_, self.feature_high_) - self.feature_mean_) / self.feature_sd_
        codes = _codes(groups, names)
        onehot = np.zeros((len(X), len(names)))
        known = codes >= 0
        onehot[np.flatnonzero(known), codes[known]] = 1.0
        return np.column_stack([np.ones(len(X)), onehot, z])

    def _solve(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray, use_slopes: bool) -> None:
        names = sorted(set(groups))
        self.feature_mean_ = X.mean(axis=0)
        sd = X.std(axis=0)
        self.feature_sd_ = np.where(sd > 1e-9, sd, 1.0)
        self.feature_low_, self.feature_high_ = X.min(axis=0), X.max(axis=0)
        A = self._design(X, groups, names)
        pen = np.diag(np.concatenate([[0.0], np.full(len(names), self.group_shrink_rows),
                                      np.full(X.shape[1], self.slope_alpha if use_slopes else 1e12)]))
        w = np.ones(len(y))
        for _ in range(HUBER_ITERATIONS):    # Huber weights: a few readings in the wrong unit do not move the fit
            beta = np.linalg.solve(A.T @ (A * w[:, None]) + pen, A.T @ (w * y))
            r = y - A @ beta
            scale = max(1.4826 * float(np.median(np.abs(r - np.median(r)))), 1e-3)
            w = np.minimum(1.0, HUBER_K * scale / np.maximum(np.abs(r), 1e-12))
        self.intercept_ = float(beta[0])
        self.group_offsets_ = {g: float(b) for g, b in zip(names, beta[1:1 + len(names)])}
        self.slopes_ = beta[1 + len(names):] if use_slopes else np.zeros(X.shape[1])
        self.uses_slopes_ = bool(use_slopes)

    def fit(self, X: np.ndarray, log_ratio: np.ndarray, groups: np.ndarray,
            folds: np.ndarray | None = None) -> "DeploymentCalibration":
        X, y, groups = np.asarray(X, dtype=float), np.asarray(log_ratio, dtype=float), np.asarray(groups, dtype=object)
        use = self.slopes
        if use == "auto":
            use = False
            if len(y) >= 4 * len(FEATURES) and folds is not None and len(set(folds)) >= 3:
                # the choice on at most SLOPE_CHOICE_ROWS observations (a fixed random subset): enough to see
                # whether slopes help, and fast for a million measured requests
                pick = np.arange(len(y)) if len(y) <= SLOPE_CHOICE_ROWS else \
                    np.sort(np.random.default_rng(SEED).choice(len(y), SLOPE_CHOICE_ROWS, replace=False))
                Xs, ys, gs, fs = X[pick], y[pick], groups[pick], np.asarray(folds)[pick]
                err = {}
                for s in (False, True):
                    res = np.empty(len(ys))
                    for f in set(fs):
                        test = fs == f
                        m = DeploymentCalibration(s, self.group_shrink_rows, self.slope_alpha)
                        m._solve(Xs[~test], ys[~test], gs[~test], s)
                        res[test] = ys[test] - m.predict_log(Xs[test], gs[test])
                    err[s] = float(np.median(np.abs(res)))
                use = err[True] < err[False] * (1 - SLOPE_GAIN)
        self._solve(X, y, groups, bool(use))
        self.n_ = int(len(y))
        return self

    def predict_log(self, X: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """log(measured / SEAL) predicted per row (an unseen group gets the deployment's own offset only)."""
        X = np.asarray(X, dtype=float)
        z = (np.clip(X, self.feature_low_, self.feature_high_) - self.feature_mean_) / self.feature_sd_
        names = list(self.group_offsets_)
        codes = _codes(groups, names)
        offsets = np.append(np.array([self.group_offsets_[g] for g in names], dtype=float), 0.0)[codes]
        return self.intercept_ + offsets + z @ np.asarray(self.slopes_, dtype=float)

    def outside(self, X: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Rows of an unseen group, or with a feature (batch size, prompt or output length, model size) outside the
        measured range by more than 5 % of it or :data:`OUTSIDE_MARGIN_LOG`."""
        X = np.asarray(X, dtype=float)
        margin = np.maximum(0.05 * (self.feature_high_ - self.feature_low_), OUTSIDE_MARGIN_LOG)
        off = (X < self.feature_low_ - margin) | (X > self.feature_high_ + margin)
        return (_codes(groups, list(self.group_offsets_)) < 0) | off.any(axis=1)

    def own_log_factor(self, groups: np.ndarray) -> np.ndarray:
        """log factor without the slopes: the deployment's, plus the group's offset where it was measured."""
        names = list(self.group_offsets_)
        offsets = np.append(np.array([self.group_offsets_[g] for g in names], dtype=float), 0.0)
        return self.intercept_ + offsets[_codes(groups, names)]

    def to_dict(self) -> dict:
        return {"intercept": self.intercept_, "group_offsets": self.group_offsets_,
                "slopes": [float(v) for v in self.slopes_], "uses_slopes": self.uses_slopes_,
                "feature_mean": self.feature_mean_.tolist(), "feature_sd": self.feature_sd_.tolist(),
                "feature_low": self.feature_low_.tolist(), "feature_high": self.feature_high_.tolist(),
                "n": self.n_, "group_shrink_rows": self.group_shrink_rows, "slope_alpha": self.slope_alpha}

    @classmethod
    def from_dict(cls, d: dict) -> "DeploymentCalibration":
        m = cls(bool(d["uses_slopes"]), d["group_shrink_rows"], d["slope_alpha"])
        m.intercept_ = float(d["intercept"])
        m.group_offsets_ = {str(k): float(v) for k, v in d["group_offsets"].items()}
        m.slopes_ = np.asarray(d["slopes"], dtype=float)
        m.uses_slopes_ = bool(d["uses_slopes"])
        for k in ("feature_mean", "feature_sd", "feature_low", "feature_high"):
            setattr(m, k + "_", np.asarray(d[k], dtype=float))
        m.n_ = int(d["n"])
        return m


# ---------------------------------------------------------------- measured rows -> observations
def model_fingerprint(model: Any) -> str:
    """A short digest of a fitted energy model's learned state: a calibration belongs to the model it corrected."""
    import hashlib

    text = json.dumps(model.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def seal_estimates(runs: pd.DataFrame, model: Any = None, db_path=None) -> pd.DataFrame:
    """SEAL's estimate of each imported row, from what the file gave (a size only where the team gave it)."""
    from seal.estimator import estimate_energy
    from seal.logs.normalize import prepare_requests

    model_given = runs["model"].astype(object).where(runs["model"].notna(), runs["model_id"]) \
        if "model" in runs else runs["model_id"]
    user_size = runs["params_source"].astype(str).eq("user").to_numpy() if "params_source" in runs else \
        np.zeros(len(runs), dtype=bool)
    requests = pd.DataFrame({
        "model": model_given.astype(object).to_numpy(),
        "params_b": np.where(user_size, runs["params_b"].astype(float), np.nan),
        "active_params_b": np.where(user_size, runs["active_params_b"].astype(float), np.nan),
        "precision": runs["precision"].astype(object).to_numpy(), "gpu": runs["gpu"].astype(object).to_numpy(),
        "gpus": runs["gpu_count"].astype(float).to_numpy(), "engine": runs["engine"].astype(object).to_numpy(),
        "batch_size": runs["batch_size"].astype(float).to_numpy(),
        "input_tokens": runs["input_tokens"].astype(float).to_numpy(),
        "output_tokens": runs["output_tokens"].astype(float).to_numpy(),
        "latency_s": runs["latency_s"].astype(float).to_numpy() if "latency_s" in runs else np.nan,
        "ttft_s": runs["ttft_s"].astype(float).to_numpy() if "ttft_s" in runs else np.nan,
    })
    return estimate_energy(prepare_requests(requests), model=model, db_path=db_path).reset_index(drop=True)


def observations(runs: pd.DataFrame, est: pd.DataFrame) -> dict[str, Any]:
    """What the correction is fitted on: one observation per request, or per window for apportioned rows.

    Returns a dict of arrays per observation: ``X`` (features), ``groups``, ``folds_key`` (measurement group),
    ``measured`` / ``seal`` per target (``request``, ``prefill``, ``decode``; NaN where not measured) and
    ``row_obs`` (the observation of each row)."""
    runs = runs.reset_index(drop=True)
    basis = runs["measured_basis"].astype(str).to_numpy() if "measured_basis" in runs else np.full(len(runs), "")
    mgroup = runs["measure_group"].astype(object).where(runs["measure_group"].notna(), None).to_numpy() \
        if "measure_group" in runs else np.full(len(runs), None, dtype=object)
    windowed = (basis == "window-apportioned") & pd.notna(mgroup)
    key = np.where(windowed, ("w:" + pd.Series(mgroup).astype(str)).to_numpy(),
                   ("r:" + pd.Series(np.arange(len(runs))).astype(str)).to_numpy())
    obs_codes, obs_names = pd.factorize(pd.Series(key, dtype=object))
    n_obs = len(obs_names)
    seal_rq = est["gpu_energy_j"].to_numpy(dtype=float)
    meas_rq = runs["request_energy_j"].astype(float).to_numpy()

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(obs_codes, weights=np.nan_to_num(values), minlength=n_obs) + \
            np.where(np.bincount(obs_codes, weights=np.isnan(values).astype(float), minlength=n_obs) > 0, np.nan, 0.0)

    X_rows = features(est)
    w = seal_rq / np.maximum(np.bincount(obs_codes, weights=seal_rq, minlength=n_obs)[obs_codes], 1e-30)
    X = np.column_stack([np.bincount(obs_codes, weights=X_rows[:, j] * w, minlength=n_obs)
                         for j in range(X_rows.shape[1])])
    groups_rows = group_keys(est)
    first = pd.Series(np.arange(len(runs))).groupby(obs_codes).first().to_numpy()
    fold_key = np.where(pd.notna(mgroup), ("g:" + pd.Series(mgroup).astype(str)).to_numpy(), key)
    out = {"X": X, "groups": groups_rows[first], "folds_key": fold_key[first], "row_obs": obs_codes,
           "measured": {"request": total(meas_rq)}, "seal": {"request": total(seal_rq)}}
    pf = runs["prefill_energy_j"].astype(float).to_numpy()
    dc = runs["decode_energy_j"].astype(float).to_numpy()
    for phase, values in (("prefill", pf), ("decode", dc)):
        out["measured"][phase] = np.where(windowed[first], np.nan, values[first])
        out["seal"][phase] = est[f"{phase}_energy_j"].to_numpy(dtype=float)[first]
    return out


def _folds(keys: np.ndarray, k: int = K_FOLDS, seed: int = SEED) -> np.ndarray:
    """Fold of each observation: measurement groups assigned to ``k`` folds at random (fixed seed)."""
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(uniques))
    return (perm % max(1, min(k, len(uniques))))[codes]


def _targets(obs: dict) -> list[str]:
    both = np.isfinite(obs["measured"]["prefill"]) & np.isfinite(obs["measured"]["decode"])
    return ["prefill", "decode"] if both.sum() >= MIN_PHASE_ROWS else ["request"]


def _log_ratio(obs: dict, target: str) -> tuple[np.ndarray, np.ndarray]:
    meas, seal = obs["measured"][target], obs["seal"][target]
    ok = np.isfinite(meas) & np.isfinite(seal) & (meas > 0) & (seal > 0)
    return np.where(ok, np.log(np.where(ok, meas, 1.0) / np.where(ok, seal, 1.0)), np.nan), ok


def cross_validated(obs: dict, slopes: bool | str = "auto") -> dict[str, np.ndarray]:
    """Out-of-fold calibrated log(measured / calibrated) per observation and target (``request`` always; the
    phases when fitted apart): each fold's observations corrected by a calibration fitted without them."""
    folds = _folds(obs["folds_key"])
    phases = _targets(obs)
    out: dict[str, np.ndarray] = {}
    pred_log = {}
    for target in phases:
        y, ok = _log_ratio(obs, target)
        pred = np.full(len(y), np.nan)
        for f in np.unique(folds):
            test = folds == f
            train = ~test & ok
            if train.sum() < 2:
                continue
            m = DeploymentCalibration(slopes).fit(obs["X"][train], y[train], obs["groups"][train], folds[train])
            pred[test] = m.predict_log(obs["X"][test], obs["groups"][test])
        pred_log[target] = pred
        out[target] = y - pred
    if phases != ["request"]:   # the request from the corrected phases
        cal = sum(obs["seal"][p] * np.exp(pred_log[p]) for p in phases)
        y, ok = _log_ratio(obs, "request")
        out["request"] = np.where(ok, np.log(obs["measured"]["request"] / cal), np.nan)
    return out


def _metrics(log_residual: np.ndarray, inside: np.ndarray | None = None) -> dict[str, float]:
    r = log_residual[np.isfinite(log_residual)]
    if not len(r):
        return {"n": 0, "median_ape": np.nan, "mape": np.nan, "bias": np.nan, "coverage_80": np.nan}
    ape = np.abs(np.exp(-r) - 1)             # |estimate / measured - 1|
    out = {"n": int(len(r)), "median_ape": float(np.median(ape)), "mape": float(np.mean(ape)),
           "bias": float(np.median(np.exp(-r)) - 1)}
    out["coverage_80"] = float(np.mean(inside[np.isfinite(log_residual)])) if inside is not None else np.nan
    return out


def _quantiles(r: np.ndarray) -> list[float]:
    """The 80 % interval of log residuals, conformal: the ceil((n + 1) 0.9)-th smallest and largest, so it holds
    for a new measurement at small n too; beyond the sample (n < 9) 1.5 x its most extreme residual."""
    r = np.sort(r[np.isfinite(r)])
    n = len(r)
    if n < 2:
        return [-0.5, 0.5]
    a = (1 - COVERAGE) / 2
    k = int(np.ceil((n + 1) * (1 - a)))                      # 1-based rank of the upper bound
    hi = r[k - 1] if k <= n else 1.5 * max(float(r[-1]), 0.0) + 1e-3
    lo = r[n - k] if k <= n else 1.5 * min(float(r[0]), 0.0) - 1e-3
    return [float(min(lo, 0.0)), float(max(hi, 0.0))]


def _server_agreement(runs: pd.DataFrame, est: pd.DataFrame, obs: dict, cv_log_factor: np.ndarray) -> list[dict]:
    """Where the team measured whole-server energy: SEAL's server energy (GPU + host CPU / RAM share, the
    carbon stage's ``host_energy_j``) against it, before and after the GPU part's cross-validated calibration.
    Idle time between requests is in a meter's reading and not in a request's estimate: the bias shows it."""
    if "server_energy_j" not in runs:
        return []
    server = runs["server_energy_j"].astype(float).to_numpy()
    if np.isfinite(server).sum() < MIN_ROWS:
        return []
    from seal.carbon import add_carbon

    host = add_carbon(est)["host_energy_j"].to_numpy(dtype=float)
    n = len(obs["groups"])
    codes = obs["row_obs"]
    meas = np.bincount(codes, weights=np.nan_to_num(server), minlength=n)
    known = np.bincount(codes, weights=np.isfinite(server).astype(float), minlength=n) == np.bincount(codes, minlength=n)
    host_o = np.bincount(codes, weights=host, minlength=n)
    gpu_o = obs["seal"]["request"]
    covers = ", ".join(sorted(set(runs["server_energy_covers"].dropna().astype(str)))) or "not stated"
    out = []
    for stage, gpu in ((BEFORE, gpu_o), (AFTER, gpu_o * np.exp(cv_log_factor))):
        r = np.where(known & (meas > 0), np.log(np.where(meas > 0, meas, 1.0) / (gpu + host_o)), np.nan)
        out.append({"stage": stage, "target": f"server ({covers})", **_metrics(r)})
    return out


# ---------------------------------------------------------------- fit, store, apply
def _clean(records: list[dict]) -> list[dict]:
    """JSON-safe records (NaN -> None)."""
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in a.items()} for a in records]


def _agreement(obs: dict, est: pd.DataFrame, oof: dict[str, np.ndarray], folds: np.ndarray,
               targets: list[str]) -> list[dict]:
    """Before (SEAL as shipped, its own interval) and after (cross-validated calibration) per target; the
    after-coverage is cross-conformal: each fold's residuals against the interval of the other folds'."""
    y_before, _ = _log_ratio(obs, "request")
    n = len(y_before)
    lo = np.bincount(obs["row_obs"], weights=est["gpu_energy_low_j"].to_numpy(float), minlength=n)
    hi = np.bincount(obs["row_obs"], weights=est["gpu_energy_high_j"].to_numpy(float), minlength=n)
    meas = obs["measured"]["request"]
    inside_after = np.zeros(n, dtype=bool)
    for f in np.unique(folds):
        f_lo, f_hi = _quantiles(oof["request"][folds != f])
        inside_after[folds == f] = (oof["request"][folds == f] >= f_lo) & (oof["request"][folds == f] <= f_hi)
    out = [{"stage": BEFORE, "target": "request", **_metrics(y_before, (meas >= lo) & (meas <= hi))},
           {"stage": AFTER, "target": "request", **_metrics(oof["request"], inside_after)}]
    for t in targets:
        if t != "request":
            out.append({"stage": BEFORE, "target": t, **_metrics(_log_ratio(obs, t)[0])})
            out.append({"stage": AFTER, "target": t, **_metrics(oof[t])})
    return out


def _parity(obs: dict, oof: dict[str, np.ndarray]) -> tuple[pd.DataFrame, list[dict]]:
    """Measured vs SEAL vs calibrated (cross-validated) per measurement (a fixed random subset of
    :data:`PARITY_POINTS` for the plot), and the agreement per engine x GPU group on all of them."""
    y_before, _ = _log_ratio(obs, "request")
    cal_oof = obs["seal"]["request"] * np.exp(y_before - oof["request"])
    parity = pd.DataFrame({"measured_j": obs["measured"]["request"], "seal_j": obs["seal"]["request"],
                           "calibrated_cv_j": cal_oof, "group": obs["groups"]})
    by_group = [{"group": str(group), "stage": stage, "target": "request", **_metrics(r[idx])}
                for group, idx in parity.groupby("group", sort=True).indices.items()
                for stage, r in ((BEFORE, y_before), (AFTER, oof["request"]))]
    if len(parity) > PARITY_POINTS:
        parity = parity.iloc[np.sort(np.random.default_rng(SEED).choice(len(parity), PARITY_POINTS, replace=False))]
    return parity, by_group


def fit_calibration(runs: pd.DataFrame, source: str, model: Any = None, db_path=None) -> dict:
    """The calibration payload of ``source``'s rows: the fitted correction per target, its interval from
    cross-validated residuals, and the agreement before / after (cross-validated, never in-sample)."""
    from seal.estimator.artifact import shared_model

    mine = runs[runs["source"] == source].reset_index(drop=True)
    if model is None or isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        model = shared_model(model)
    est = seal_estimates(mine, model, db_path)
    obs = observations(mine, est)
    if len(obs["groups"]) < MIN_ROWS:
        raise SealError(f"{source} has {len(obs['groups'])} usable measurement(s); calibration needs at least "
                        f"{MIN_ROWS} (requests, or windows for CodeCarbon imports). Import more with "
                        "`seal data import`.")
    folds, targets = _folds(obs["folds_key"]), _targets(obs)
    fitted = {}
    for target in targets:
        y, ok = _log_ratio(obs, target)
        fitted[target] = DeploymentCalibration().fit(obs["X"][ok], y[ok], obs["groups"][ok], folds[ok])
    oof = cross_validated(obs)
    agreement = _agreement(obs, est, oof, folds, targets)
    agreement += _server_agreement(mine, est, obs, _log_ratio(obs, "request")[0] - oof["request"])
    parity, by_group = _parity(obs, oof)
    windowed = (mine["measured_basis"] == "window-apportioned").any() if "measured_basis" in mine else False
    return {
        "format": PAYLOAD_FORMAT, "version": PAYLOAD_VERSION, "deployment": source,
        "targets": targets, "corrections": {t: m.to_dict() for t, m in fitted.items()},
        "factor": {t: float(np.exp(m.intercept_)) for t, m in fitted.items()},
        "intervals": {t: _quantiles(oof[t]) for t in ("request", *targets) if t in oof},
        "unseen_group_widening": UNSEEN_GROUP_WIDENING,
        "groups": {str(k): int(v) for k, v in pd.Series(obs["groups"]).value_counts().sort_index().items()},
        "observations": int(len(obs["groups"])), "rows": int(len(mine)),
        "interval_basis": "window totals" if windowed else "requests",
        "agreement": _clean(agreement), "agreement_by_group": _clean(by_group),
        "parity": parity.astype(object).where(parity.notna(), None).to_dict("list"),
        "files": sorted(set(mine["source_file"].astype(str))),
        "energy_model": {"fingerprint": model_fingerprint(model), "trained_at": getattr(model, "trained_at_", None),
                         "sources": list(getattr(model, "train_sources_", []))},
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def calibrate(source: str, db_path=None, model: Any = None) -> dict:
    """Fit ``source``'s calibration on its imported rows and store it (replacing an earlier one)."""
    from seal.data.measured import source_name, user_runs, user_table
    from seal.data.schema import USER_TABLES
    from seal.data.store import default_db_path, replace_tables, write_lock

    db = Path(db_path) if db_path is not None else default_db_path()
    source = source_name(source)
    runs = user_runs(db, [source])
    payload = fit_calibration(runs, source, model=model, db_path=db)
    files = _files_of(db, source)
    payload["imported_files"] = [list(f) for f in files]      # what it was fitted on: stale when these change
    row = pd.DataFrame([{"deployment": source, "payload": json.dumps(payload),
                         "created_at": datetime.now(timezone.utc)}])
    with write_lock(db):
        if _files_of(db, source) != files:
            raise SealError(f"{source} changed while it was being calibrated; run `seal calibrate {source}` again.")
        cal = user_table("calibrations", db)
        keep = cal[cal["deployment"] != source] if len(cal) else cal
        replace_tables(db, {"calibrations": pd.concat([f for f in (keep, row) if len(f)], ignore_index=True)},
                       USER_TABLES)
    return payload


def _files_of(db: Path, source: str) -> list[tuple[str, str]]:
    """The imported files of ``source`` (sha256, import time): what a calibration was fitted on."""
    from seal.data.measured import user_sources

    files = user_sources(db)
    files = files[files["source"] == source] if len(files) else files
    return sorted(zip(files["sha256"].astype(str), files["imported_at"].astype(str)))


def load_calibrations(db_path=None) -> dict[str, dict]:
    """Stored calibrations by deployment (empty without a store or calibrations); parsed once per version of
    the store file (a log's batches all read the same)."""
    from seal.data.store import default_db_path

    db = Path(db_path) if db_path is not None else default_db_path()
    try:
        st = db.stat()
    except OSError:
        return {}
    return _calibrations(str(db.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _calibrations(path: str, mtime_ns: int, size: int) -> dict[str, dict]:
    from seal.data.store import read_table, table_names

    if "calibrations" not in table_names(path):
        return {}
    cal = read_table("calibrations", path)
    return {str(d): json.loads(p) for d, p in zip(cal["deployment"], cal["payload"])}


ENERGY_FIELDS = ("prefill_energy_j", "prefill_energy_low_j", "prefill_energy_high_j", "decode_energy_j",
                 "decode_energy_low_j", "decode_energy_high_j", "gpu_energy_j", "gpu_energy_low_j", "gpu_energy_high_j")


def _deployments(frame: pd.DataFrame, deployment: str | None, cals: dict) -> pd.Series | None:
    """Each row's deployment (its ``deployment`` cell, else the ``deployment`` argument); None when no row has one.

    A cell naming a calibrated deployment (``user:NAME`` or ``NAME``) or written ``user:...`` is SEAL's; any other
    text (a gateway's own deployment names: ``prod-eu``) is not a SEAL deployment and is left alone."""
    if not deployment and ("deployment" not in frame or frame["deployment"].isna().all()):
        return None                              # the usual case, decided without looking at every cell
    if "deployment" in frame:
        dep = frame["deployment"].astype(object).where(frame["deployment"].notna(), None)
        codes, uniques = pd.factorize(dep, use_na_sentinel=True)
        ours = np.array([_ours(str(u), cals) for u in uniques] + [False], dtype=bool)
        dep = dep.where(ours[np.where(codes >= 0, codes, len(uniques))], None)
        if deployment:
            dep = dep.where(dep.notna() & (dep.astype(str).str.strip() != ""), deployment)
    elif deployment:
        dep = pd.Series(deployment, index=frame.index, dtype=object)
    else:
        return None
    has = dep.notna() & (dep.astype(str).str.strip() != "")
    return dep.where(has, None) if has.any() else None


def _ours(name: str, cals: dict) -> bool:
    """Whether a ``deployment`` cell names one of SEAL's deployments (see :func:`_deployments`)."""
    from seal.data.measured import USER_PREFIX, source_name

    text = name.strip()
    if text.startswith(USER_PREFIX):
        return True
    try:
        return source_name(text) in cals
    except SealError:
        return False


def corrected_energies(payload: dict, rows: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The energies of SEAL's estimated ``rows`` (J) under one calibration, with their 80 % interval, and the
    rows outside its coverage.

    Inside coverage: SEAL x the fitted correction, the interval of the calibration's cross-validated errors. Outside
    (an engine x GPU it never measured, a batch size / length / model size beyond the measured range): the
    deployment's own factor (its group's where measured; no slopes), and an interval at least as wide as SEAL's
    own and as 1.5 x the calibration's. A calibration fitted on window totals (CodeCarbon) has seen no single
    request: a request's interval combines the window interval with SEAL's own per-request spread (in quadrature).
    """
    X, groups = features(rows), group_keys(rows)
    factors, outside = {}, np.zeros(len(rows), dtype=bool)
    models = {t: DeploymentCalibration.from_dict(payload["corrections"][t]) for t in payload["targets"]}
    for m in models.values():
        outside |= m.outside(X, groups)
    for target, m in models.items():
        factors[target] = np.exp(np.where(outside, m.own_log_factor(groups), m.predict_log(X, groups)))
    widen = float(payload.get("unseen_group_widening", UNSEEN_GROUP_WIDENING))
    windows = payload.get("interval_basis") == "window totals"

    def bounds(q: list[float], seal_lo: np.ndarray, seal_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.full(len(rows), min(q[0], 0.0)), np.full(len(rows), max(q[1], 0.0))
        if windows:
            lo, hi = -np.hypot(lo, seal_lo), np.hypot(hi, seal_hi)
        lo = np.where(outside, np.minimum(widen * lo, -seal_lo), lo)
        hi = np.where(outside, np.maximum(widen * hi, seal_hi), hi)
        return np.exp(lo), np.exp(hi)

    def seal_spread(col: str) -> tuple[np.ndarray, np.ndarray]:
        mid = np.maximum(rows[f"{col}_j"].to_numpy(dtype=float), 1e-30)
        return (np.log(mid / np.maximum(rows[f"{col}_low_j"].to_numpy(dtype=float), 1e-30)),
                np.log(np.maximum(rows[f"{col}_high_j"].to_numpy(dtype=float), 1e-30) / mid))

    request_q = payload["intervals"]["request"]
    out: dict[str, np.ndarray] = {}
    for phase in ("prefill", "decode"):
        e = rows[f"{phase}_energy_j"].to_numpy(dtype=float) * factors.get(phase, factors.get("request"))
        lo, hi = bounds(payload["intervals"].get(phase, request_q), *seal_spread(f"{phase}_energy"))
        out.update({f"{phase}_energy_j": e, f"{phase}_energy_low_j": e * lo, f"{phase}_energy_high_j": e * hi})
    total = out["prefill_energy_j"] + out["decode_energy_j"]
    lo, hi = bounds(request_q, *seal_spread("gpu_energy"))
    out.update({"gpu_energy_j": total, "gpu_energy_low_j": total * lo, "gpu_energy_high_j": total * hi})
    return out, outside


def _check_model(payload: dict, model: Any, name: str) -> None:
    """A calibration corrects the energy model it was fitted against; applied over another it would correct twice
    or wrongly (a refit, a new shipped artifact)."""
    if model is None:
        from seal.estimator.artifact import shared_model

        model = shared_model(None)
    fitted = (payload.get("energy_model") or {}).get("fingerprint")
    if fitted != model_fingerprint(model):
        when = (payload.get("energy_model") or {}).get("trained_at") or "an earlier energy model"
        raise SealError(f"The calibration of {name} was fitted on another energy model ({when}) than this estimate "
                        f"uses; run `seal calibrate {name}` again (with --energy-model PATH to calibrate a refit "
                        "model).")


def apply_calibration(frame: pd.DataFrame, deployment: str | None = None, db_path=None,
                      model: Any = None) -> pd.DataFrame:
    """Correct the estimator's energies of the rows of a calibrated deployment (``deployment`` column, else the
    ``deployment`` argument): energies x the correction, the 80 % interval from the calibration's
    cross-validated residuals (widened outside its coverage), ``calibration_factor`` (1 where none; always
    added, so a log's batches share one schema) and the warnings ``calibrated-deployment`` /
    ``calibration-outside-coverage``.

    ``model``: the energy model the frame was estimated with (default the shipped artifact); it must be the one
    the calibration was fitted against.

    Raises:
        SealError: a deployment with no stored calibration (names the calibrated ones), or calibrated against
            another energy model.
    """
    from seal.data.measured import source_name
    from seal.frames import add_codes, object_column, with_columns

    cals = load_calibrations(db_path)
    dep = _deployments(frame, deployment, cals)
    if dep is None:      # the estimator's calibration_factor (1) stays: a log's batches share one schema
        return frame if "calibration_factor" in frame else with_columns(frame, {"calibration_factor": np.ones(len(frame))})
    columns = {c: frame[c].to_numpy(dtype=float, copy=True) for c in ENERGY_FIELDS}
    calibrated, outside = dep.notna().to_numpy(), np.zeros(len(frame), dtype=bool)
    # the column as given (a gateway's own names stay), the canonical user:NAME where a calibration applies
    canon = frame["deployment"].to_numpy(dtype=object, copy=True) if "deployment" in frame else \
        np.full(len(frame), None, dtype=object)
    for name in pd.unique(dep.dropna().astype(str)):
        try:
            key = source_name(name)
        except SealError:
            key = name
        if key not in cals:
            have = ", ".join(sorted(cals)) or "none yet (run `seal calibrate user:NAME` after `seal data import`)"
            raise SealError(f"No calibration for the deployment {name!r}; calibrated deployments: {have}.")
        _check_model(cals[key], model, key)
        rows = (dep.astype(str) == name).to_numpy() & calibrated
        canon[rows] = key
        energies, out_rows = corrected_energies(cals[key], frame[rows])
        for c, values in energies.items():
            columns[c][rows] = values
        outside[np.flatnonzero(rows)[out_rows]] = True
    factor = columns["gpu_energy_j"] / np.maximum(frame["gpu_energy_j"].to_numpy(dtype=float), 1e-30)
    out = with_columns(frame, {**columns, "deployment": canon, "calibration_factor": np.where(calibrated, factor, 1.0)})
    existing = object_column(out, "warnings", "")
    out["warnings"] = add_codes(existing, {"calibrated-deployment": calibrated, "calibration-outside-coverage": outside})
    if "sources" in out:
        src = out["sources"].astype(object).to_numpy(copy=True)
        src[calibrated] = [f"{s};{d}" if isinstance(s, str) and s else str(d)
                           for s, d in zip(src[calibrated], canon[calibrated])]
        out["sources"] = src
    return out


def calibration_state(payload: dict, db_path=None, model: Any = None) -> str:
    """``current``; ``stale`` (files of the source were imported, replaced or removed since it was fitted: run
    ``seal calibrate`` again); ``other-model`` (fitted on another energy model than ``model``, default the shipped
    one: it cannot be applied)."""
    from seal.data.store import default_db_path

    if model is None:
        from seal.estimator.artifact import shared_model

        model = shared_model(None)
    if (payload.get("energy_model") or {}).get("fingerprint") != model_fingerprint(model):
        return "other-model"
    db = Path(db_path) if db_path is not None else default_db_path()
    files = [list(f) for f in _files_of(db, str(payload.get("deployment")))]
    return "current" if files == payload.get("imported_files", files) else "stale"


def check_deployment(name: str, db_path=None) -> str:
    """``name`` when the store holds its calibration; else one sentence naming the calibrated deployments."""
    cals = load_calibrations(db_path)
    if name not in cals:
        have = ", ".join(sorted(cals)) or "none yet"
        raise SealError(f"No calibration for the deployment {name!r}; calibrated deployments: {have} "
                        f"(import measurements with `seal data import FILE --name NAME`, then `seal calibrate "
                        f"user:NAME`).")
    return name


AGREEMENT_COLUMNS = ["source", "stage", "target", "n", "median_ape", "mape", "bias", "coverage_80"]


def agreement_table(payload: dict) -> pd.DataFrame:
    """The calibration's before / after agreement as a table (fractions; :data:`AGREEMENT_COLUMNS`)."""
    rows = [{"source": payload["deployment"], **a} for a in payload["agreement"]]
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def percent_table(table: pd.DataFrame) -> pd.DataFrame:
    """An agreement table with its fractions written as percentages (for printing)."""
    return table.assign(**{c: table[c].map(lambda v: "" if pd.isna(v) else f"{100 * v:.1f} %")
                           for c in ("median_ape", "mape", "bias", "coverage_80") if c in table})


def format_agreement(payload: dict) -> str:
    """What ``seal calibrate`` prints: the correction in words and the agreement table."""
    f = payload["factor"]
    parts = ", ".join(f"{t} x{v:.3g}" for t, v in f.items())
    lo, hi = payload["intervals"]["request"]
    groups = ", ".join(f"{g.replace('|', ' on ')} ({n})" for g, n in payload["groups"].items())
    shown = percent_table(agreement_table(payload))
    slopes = any(payload["corrections"][t]["uses_slopes"] for t in payload["targets"])
    return "\n".join([
        f"Calibrated {payload['deployment']} on {payload['observations']:,} measurement(s) "
        f"({payload['rows']:,} rows; groups: {groups}).",
        f"Correction: SEAL {parts} on a typical request of the deployment"
        f"{', varying with batch size, lengths and model size' if slopes else ''}; 80 % interval "
        f"x{np.exp(lo):.2f}-x{np.exp(hi):.2f} of the calibrated value (from cross-validated errors, "
        f"{payload['interval_basis']}).",
        "Agreement with your measurements (after: cross-validated, each measurement predicted by a calibration "
        "fitted without it):",
        shown.to_string(index=False),
    ])


def validate_source(source: str, db_path=None, model: Any = None) -> pd.DataFrame:
    """``seal validate --source user:NAME``: SEAL's error on the source's rows before and after calibration
    (cross-validated), per target, and per engine x GPU group for the request."""
    from seal.data.measured import source_name, user_runs

    source = source_name(source)
    runs = user_runs(db_path, [source])
    payload = fit_calibration(runs, source, model=model, db_path=db_path)
    table = agreement_table(payload)
    rows = [{"source": f"{source} [{a['group'].replace('|', ' on ')}]", **{k: v for k, v in a.items() if k != "group"}}
            for a in payload["agreement_by_group"]]
    return pd.concat([table, pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)], ignore_index=True)


def parity_frame(payload: dict) -> pd.DataFrame:
    """Measured vs SEAL (before) and vs the cross-validated calibration (after), one row per measurement."""
    return pd.DataFrame(payload["parity"])
