"""``seal train``: fit the energy model on the store's benchmark runs and write the versioned artifact.

Deterministic: the same store gives the same artifact except ``trained_at``. The interval table comes from
held-out residuals: random K-fold (``interpolation``), leave-one-GPU-out (``transferred-gpu``) and train
<= 111 B / test above (``extrapolated-size``; phases without rows above 111 B use the <= 30 B split).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from seal.estimator.artifact import ARTIFACT_FORMAT, ARTIFACT_VERSION, DEFAULT_ARTIFACT, write_artifact

SHIPPED_FAMILY = "physics+ridge"  # chosen on the extrapolation splits among JSON-serialisable families (README)
INTERVAL_SPLITS = {"interpolation": ("random-5fold",), "transferred-gpu": ("leave-one-gpu-out",),
                   "extrapolated-size": ("size>111B", "size>30B")}


def _provenance(db_path: Path, runs: pd.DataFrame) -> dict:
    import duckdb

    import seal

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        log = con.sql("SELECT * FROM ingest_log").df()
    finally:
        con.close()
    used = sorted(runs["source"].astype(str).unique())
    log = log[log["source"].isin(used)]
    # no URL: it names the mirror the store was pulled from (a local path or port), not the data
    cols = [c for c in ("source", "file", "sha256", "rows", "version") if c in log]
    files = log[cols].sort_values(cols[:3]).drop_duplicates().astype(object).where(log[cols].notna(), None).to_dict("records")
    return {
        "sources": used,
        "rows_per_source": {s: int((runs["source"] == s).sum()) for s in used},
        "rows_per_gpu": {g: int((runs["gpu"] == g).sum()) for g in sorted(runs["gpu"].astype(str).unique())},
        "files": [{k: (int(v) if isinstance(v, (np.integer,)) else v) for k, v in f.items()} for f in files],
        "seal_version": getattr(seal, "__version__", "0"),
        "numpy": np.__version__, "pandas": pd.__version__,
    }


REGIME_SOURCE = {"eager": "llm-perf", "served": "mlenergy-v2"}
TRANSFER_MIN_WIDENING = 1.5


def interval_table(runs: pd.DataFrame, family: str = SHIPPED_FAMILY) -> dict[str, dict[str, dict[str, list[float]]]]:
    """80 % interval quantiles of log(measured / predicted) per regime (eager batch-1 / served batched),
    situation and phase, from held-out residuals of that regime's rows."""
    from seal.estimator.validate import held_out_predictions, interval_quantiles

    oof_cache: dict[str, pd.DataFrame] = {}
    fit_cache: dict = {}
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    for regime, source in REGIME_SOURCE.items():
        table: dict[str, dict[str, list[float]]] = {}
        for situation, splits in INTERVAL_SPLITS.items():
            table[situation] = {}
            for phase in ("request", "prefill", "decode"):
                for split in splits:
                    if split not in oof_cache:
                        oof_cache[split] = held_out_predictions(runs, family, split, fit_cache)
                    oof = oof_cache[split]
                    mine = (oof["source"] == source) if len(oof) else pd.Series(dtype=bool)
                    if len(oof) and situation == "transferred-gpu":
                        # drop held-out groups that took away most of this regime's rows: they measure a regime
                        # without data, not a new GPU under a regime learned on others
                        n_regime = int((runs["source"] == source).sum())
                        sizes = oof[mine].groupby("group").size()
                        mine &= ~oof["group"].isin(sizes[sizes > 0.5 * n_regime].index)
                    r = oof.loc[mine, f"log_residual_{phase}"].to_numpy() if len(oof) else np.array([])
                    if np.isfinite(r).sum() >= 10:
                        table[situation][phase] = interval_quantiles(r)
                        break
                else:  # no rows of this kind: the request interval of the situation, else interpolation
                    table[situation][phase] = table[situation].get("request") or \
                        table.get("interpolation", {}).get(phase) or [-0.5, 0.5]
        # a served request splits into phases like the request; transfer / extrapolation are never narrower than
        # TRANSFER_MIN_WIDENING x the interpolation interval (few GPUs / sizes to calibrate them on)
        for situation in ("transferred-gpu", "extrapolated-size"):
            for phase, (lo, hi) in table[situation].items():
                base_lo, base_hi = table["interpolation"][phase]
                table[situation][phase] = [min(lo, TRANSFER_MIN_WIDENING * base_lo),
                                           max(hi, TRANSFER_MIN_WIDENING * base_hi)]
        out[regime] = table
    return out


def latency_log_sd(runs: pd.DataFrame, model) -> float:
    """Spread (sd of log measured / estimated) of the latency path on batch-1 rows with measured latencies:
    energy estimated as the model's power draw x the measured prefill / decode time."""
    from seal.data.gpus import load_gpus
    from seal.estimator.model import runs_physics_frame

    s = model.predict_physics(runs_physics_frame(runs, load_gpus()))
    res = []
    for phase, col in (("prefill", "prefill_latency_s"), ("decode", "decode_latency_s")):
        if col not in runs:
            continue
        t = runs[col].astype(float).to_numpy()
        e = runs[f"{phase}_energy_j"].astype(float).to_numpy()
        ok = np.isfinite(t) & (t > 0) & np.isfinite(e) & (e > 0)
        res.append(np.log(e[ok] / (s[f"{phase}_power_w"][ok] * t[ok])))
    r = np.concatenate(res) if res else np.array([])
    return float(np.std(r)) if len(r) >= 10 else 0.25


def _validation_rows(table: pd.DataFrame) -> dict:
    """The validation table as JSON-safe records (NaN -> null), shipped in the artifact for the Accuracy page."""
    clean = table.astype(object).where(table.notna(), None)
    return {"rows": clean.to_dict("records"), "columns": list(table.columns)}


def train(db_path: str | Path, out_path: str | Path | None = None, family: str = SHIPPED_FAMILY) -> Path:
    """Fit on ``db_path``'s ``benchmark_runs`` and write the artifact (default the shipped one). Returns its path."""
    from seal.errors import SealError
    from seal.estimator.validate import _family_model, load_runs, validate

    db_path = Path(db_path)
    if not db_path.is_file():
        raise SealError(f"No store at {db_path}; run `seal data pull` first.")
    runs = load_runs(db_path)
    if len(runs) < 20:
        raise SealError(f"The store {db_path} has only {len(runs)} usable benchmark runs; run `seal data pull`.")
    model = _family_model(family).fit(runs)
    payload = {
        "format": ARTIFACT_FORMAT, "version": ARTIFACT_VERSION, "family": family,
        "model": model.to_dict(), "intervals": interval_table(runs, family),
        "latency_log_sd": latency_log_sd(runs, model),
        "provenance": _provenance(db_path, runs),
        "validation": _validation_rows(validate(db_path)),
        "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return write_artifact(payload, out_path or DEFAULT_ARTIFACT)
