"""``seal train``: fit the energy model on the store's benchmark runs and write the versioned artifact.

Deterministic: the same store gives the same artifact except ``trained_at``. The interval table comes from
held-out residuals per engine: leave-one-family-out (``interpolation``: a model family the data never saw, the
usual case; random K-fold where a source has too few families), leave-one-GPU-out (``transferred-gpu``) and train
<= 111 B / test above (``extrapolated-size``; phases without rows above 111 B use the <= 30 B split).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from seal.estimator.artifact import ARTIFACT_FORMAT, ARTIFACT_VERSION, DEFAULT_ARTIFACT, write_artifact

INTERVAL_SPLITS = {"interpolation": ("leave-one-family-out", "random-5fold"), "transferred-gpu": ("leave-one-gpu-out",),
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


TRANSFER_MIN_WIDENING = 1.5


def interval_table(runs: pd.DataFrame, family: str = "physics") -> dict[str, dict[str, dict[str, list[float]]]]:
    """80 % interval quantiles of log(measured / predicted) per engine (transformers / vllm-2024 / vllm: the
    rows of LLM-Perf / ML.ENERGY v2 / v3), situation and phase, from held-out residuals of that engine's rows."""
    from seal.estimator.defaults import DEFAULT_INTERVALS, ENGINE_SOURCES, MIN_GPU_ROWS
    from seal.estimator.validate import held_out_predictions, interval_quantiles

    oof_cache: dict[str, pd.DataFrame] = {}
    fit_cache: dict = {}
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    for regime, source in ENGINE_SOURCES.items():
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
                        # and groups of a handful of rows (a few quantized runs of a GPU are no transfer test)
                        mine &= ~oof["group"].isin(sizes[sizes < MIN_GPU_ROWS].index)
                    r = oof.loc[mine, f"log_residual_{phase}"].to_numpy() if len(oof) else np.array([])
                    r = r[np.isfinite(r)]
                    if np.isfinite(r).sum() >= 10:
                        table[situation][phase] = interval_quantiles(r)
                        break
                else:  # no rows of this kind: the request interval of the situation, else the documented fallback
                    table[situation][phase] = table[situation].get("request") or list(DEFAULT_INTERVALS[situation][phase])
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
    s = model.predict_physics(model.runs_frame(runs, load_gpus()))
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


def with_user_runs(runs: pd.DataFrame, db_path: Path, sources: list[str], weight: float = 1.0) -> pd.DataFrame:
    """The public runs plus the imported rows of ``sources`` (``user:NAME``), each imported row counted ``weight``
    times (a whole number >= 1: the same as weighting its terms of the robust least-squares fit). Rows shared out
    of a CodeCarbon window enter as one mean request per window (the window total is what was measured)."""
    from seal.data.ingest import conform
    from seal.data.measured import user_runs
    from seal.data.schema import BENCHMARK_RUNS
    from seal.errors import SealError
    from seal.estimator.model import usable_runs

    if not np.isfinite(weight) or weight < 1 or weight != round(weight):
        raise SealError(f"--user-weight must be a whole number >= 1 (got {weight:g}): each imported row then counts "
                        "that many times against one public row.")
    mine = user_runs(db_path, sources)
    windowed = mine["measured_basis"].astype(str).eq("window-apportioned") & mine["measure_group"].notna()
    if windowed.any():
        means = {c: "mean" for c in ("batch_size", "input_tokens", "output_tokens", "request_energy_j")}
        per_window = mine[windowed].groupby(["source", "measure_group"], sort=True).agg(
            {**{c: "first" for c in mine.columns if c not in means and c not in ("source", "measure_group")}, **means})
        mine = pd.concat([mine[~windowed], per_window.reset_index()], ignore_index=True)
    mine = usable_runs(conform(mine, BENCHMARK_RUNS)[list(BENCHMARK_RUNS)])
    if not len(mine):
        raise SealError(f"{', '.join(sources)} hold no row the energy model can fit on.")
    return pd.concat([runs, *([mine] * int(weight))], ignore_index=True)


def default_user_artifact(sources: list[str]) -> Path:
    """Where ``seal train --with`` writes by default: ``energy_model+NAME.json`` in the data folder (never over
    the shipped artifact)."""
    from seal.data.store import data_home

    names = "+".join(s.split(":", 1)[-1] for s in sources)
    return data_home() / f"energy_model+{names}.json"


def train(db_path: str | Path, out_path: str | Path | None = None, family: str | None = None,
          with_sources: list[str] | None = None, user_weight: float = 1.0) -> Path:
    """Fit on ``db_path``'s ``benchmark_runs`` and write the artifact (default the shipped one). Returns its path.

    ``family`` None: the serialisable family with the lowest mean held-out error on the extrapolation splits
    (:func:`seal.estimator.validate.choose_family`), from the validation the artifact also stores.
    ``with_sources``: also fit on these imported sources (``user:NAME``, :mod:`seal.data.measured`), each row
    weighted ``user_weight``; the artifact then goes to :func:`default_user_artifact` unless ``out_path`` is
    given, and its provenance names the sources, files and rows used."""
    from seal.data.measured import source_name, user_sources
    from seal.errors import SealError
    from seal.estimator.validate import choose_family, family_model, load_runs, validate

    db_path = Path(db_path)
    if not db_path.is_file():
        raise SealError(f"No store at {db_path}; run `seal data pull` first.")
    runs = load_runs(db_path)
    if len(runs) < 20:
        raise SealError(f"The store {db_path} has only {len(runs)} usable benchmark runs; run `seal data pull`.")
    user_used: list[dict] = []
    fit_runs = runs
    if with_sources:
        with_sources = [source_name(s) for s in with_sources]
        fit_runs = with_user_runs(runs, db_path, with_sources, user_weight)
        runs = with_user_runs(runs, db_path, with_sources, 1)  # validated once each: copies would leak across folds
        files = user_sources(db_path)
        files = files[files["source"].isin(with_sources)]
        user_used = [{"source": str(r.source), "file": str(r.file), "sha256": str(r.sha256), "rows": int(r.rows),
                      "kind": str(r.kind), "weight": float(user_weight)} for r in files.itertuples()]
        out_path = out_path or default_user_artifact(with_sources)
    table = validate(db_path, runs=runs, sensitivity=False)
    family = family or choose_family(table)
    model = family_model(family).fit(fit_runs)
    payload = {
        "format": ARTIFACT_FORMAT, "version": ARTIFACT_VERSION, "family": family,
        "model": model.to_dict(), "intervals": interval_table(runs, family),
        "latency_log_sd": latency_log_sd(runs, model),
        "provenance": {**_provenance(db_path, runs), "user_sources": user_used},
        "validation": _validation_rows(table),
        "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    return write_artifact(payload, out_path or DEFAULT_ARTIFACT)
