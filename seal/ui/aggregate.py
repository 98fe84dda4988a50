"""Sums and groupings of result frames for display (no estimation happens here).

The inputs are frames returned by :func:`seal.estimate`; these helpers only add up its columns. Interval
bounds are summed as they are (``total_low_g_co2e`` of a group = sum of the rows' lows), which treats the
rows' errors as fully correlated — the conservative choice, since one model's bias applies to every request.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from seal.frames import numeric_series

SUM_COLUMNS: tuple[str, ...] = (
    "input_tokens", "output_tokens", "prefill_energy_j", "decode_energy_j", "gpu_energy_j",
    "gpu_energy_low_j", "gpu_energy_high_j", "host_energy_j", "idle_energy_j", "it_energy_j",
    "facility_energy_j", "operational_g_co2e", "embodied_g_co2e", "total_g_co2e", "total_low_g_co2e",
    "total_high_g_co2e", "water_ml", "water_low_ml", "water_high_ml", "facility_energy_low_j",
    "facility_energy_high_j", "adpe_kg_sbeq", "adpe_low_kg_sbeq", "adpe_high_kg_sbeq", "adpe_usage_kg_sbeq", "adpe_embodied_kg_sbeq",
    "primary_energy_mj", "primary_energy_low_mj", "primary_energy_high_mj", "primary_energy_usage_mj",
    "primary_energy_embodied_mj",
)


def totals(frame: pd.DataFrame) -> dict[str, float]:
    """Sum of every additive result column, plus ``requests`` (row count)."""
    out: dict[str, float] = {"requests": float(len(frame))}
    for col in SUM_COLUMNS:
        if col in frame:
            out[col] = float(numeric_series(frame, col).sum(min_count=1))
    return out


def mean_per_request(frame: pd.DataFrame, columns: tuple[str, ...] = (
        "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "facility_energy_j", "water_ml")) -> dict[str, float]:
    """Mean of each column over the rows (one average request), for the scale-up view."""
    return {c: float(numeric_series(frame, c).mean()) for c in columns if c in frame}


def grouped(frame: pd.DataFrame, by: str, top: int | None = None) -> pd.DataFrame:
    """Per value of ``by``: requests and the sums of the additive columns, heaviest CO2e first.

    With ``top``, groups beyond the ``top`` heaviest are folded into one "other" row.
    """
    cols = [c for c in SUM_COLUMNS if c in frame]
    data = frame[cols].apply(pd.to_numeric, errors="coerce")
    key = frame[by].astype("string").fillna("(none)")
    out = data.groupby(key, sort=False).sum(min_count=1)
    out.insert(0, "requests", key.value_counts(sort=False).reindex(out.index).to_numpy())
    out = out.sort_values("total_g_co2e", ascending=False) if "total_g_co2e" in out else out
    if top is not None and len(out) > top:
        rest = out.iloc[top:].sum(numeric_only=True, min_count=1).to_frame("(other)").T
        out = pd.concat([out.iloc[:top], rest])
    out.index.name = by
    return out.reset_index()


def over_time(frame: pd.DataFrame, freq: str = "h", column: str = "timestamp") -> pd.DataFrame:
    """Sums per time bucket (``freq``: "h" hourly, "D" daily) of rows with a timestamp, in UTC."""
    if column not in frame:
        return pd.DataFrame(columns=[column, "requests", *SUM_COLUMNS])
    ts = pd.to_datetime(frame[column], errors="coerce", utc=True)
    keep = ts.notna()
    cols = [c for c in SUM_COLUMNS if c in frame]
    data = frame.loc[keep, cols].apply(pd.to_numeric, errors="coerce")
    bucket = ts[keep].dt.floor(freq)
    out = data.groupby(bucket).sum(min_count=1)
    out.insert(0, "requests", bucket.value_counts().reindex(out.index).to_numpy())
    out.index.name = column
    return out.reset_index()


def phase_split(frame: pd.DataFrame) -> pd.DataFrame:
    """Per row, CO2e split into prefill / decode (operational, shared by GPU energy) and embodied, in g.

    Operational CO2e covers the whole server and facility; it is allocated to the two phases in
    proportion to their GPU energy, which is how the layers scale in :mod:`seal.carbon`.
    """
    prefill = numeric_series(frame, "prefill_energy_j").fillna(0.0)
    decode = numeric_series(frame, "decode_energy_j").fillna(0.0)
    gpu = (prefill + decode).replace(0.0, np.nan)
    operational = numeric_series(frame, "operational_g_co2e").fillna(0.0)
    share = (prefill / gpu).fillna(0.5)
    return pd.DataFrame({
        "prefill_g_co2e": operational * share,
        "decode_g_co2e": operational * (1.0 - share),
        "embodied_g_co2e": numeric_series(frame, "embodied_g_co2e").fillna(0.0),
    }, index=frame.index)


def heaviest(frame: pd.DataFrame, n: int = 20, by: str = "total_g_co2e") -> pd.DataFrame:
    """The ``n`` rows with the largest ``by``, keeping their original index (for drill-down)."""
    if by not in frame or frame.empty:
        return frame.head(0)
    return frame.loc[numeric_series(frame, by).nlargest(n).index]


def split_prompts(text: str, mode: str = "line") -> list[str]:
    """Prompts from a text area: one per non-empty line (``mode="line"``), or blocks separated by a
    blank line (``mode="block"``). Surrounding whitespace is stripped; empty prompts are dropped."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if mode == "block":
        parts: list[str] = []
        current: list[str] = []
        for line in text.split("\n"):
            if line.strip():
                current.append(line)
            elif current:
                parts.append("\n".join(current))
                current = []
        if current:
            parts.append("\n".join(current))
        return [p.strip() for p in parts if p.strip()]
    return [line.strip() for line in text.split("\n") if line.strip()]


def energy_per_token(runs: pd.DataFrame) -> pd.DataFrame:
    """Benchmark runs with ``energy_per_output_token_j``: decode energy per output token where the source
    splits prefill and decode (LLM-Perf), else the whole request's energy per output token (ML.ENERGY), and
    ``energy_per_token_basis`` saying which."""
    out = runs.copy()
    decode = numeric_series(out, "decode_energy_j")
    request = numeric_series(out, "request_energy_j")
    tokens = numeric_series(out, "output_tokens").where(lambda t: t > 0)
    out["energy_per_output_token_j"] = (decode.where(decode.notna(), request) / tokens).astype(float)
    out["energy_per_token_basis"] = pd.Series(
        np.where(decode.notna(), "decode only", np.where(request.notna(), "whole request", "")), index=out.index)
    return out


COVERAGE_TARGET = 0.80             # the interval is an 80 % interval
# why a split's coverage can fall below the target, by split name (prefix)
SPLIT_REASONS: tuple[tuple[str, str], ...] = (
    ("random", "measurements like those it was fitted on"),
    ("leave-one-family-out", "a model family it has never seen"),
    ("leave-one-gpu-out", "a GPU it has never seen"),
    ("size>", "models larger than any it was fitted on"),
)


def coverage_shortfalls(table: pd.DataFrame, family: str | None,
                        target: float = COVERAGE_TARGET) -> pd.DataFrame:
    """The validation rows (all sources, the shipped ``family``; no per-GPU or sensitivity rows) whose 80 %
    interval holds fewer than ``target`` of the held-out runs: ``split``, ``target``, ``coverage_80``, ``reason``
    (what the split asks of the model), lowest coverage first."""
    need = {"split", "target", "coverage_80"}
    if not need <= set(table.columns):
        return pd.DataFrame(columns=["split", "target", "coverage_80", "reason"])
    t = table
    if "source" in t:
        t = t[t["source"].isin(["all"])]
    if family and "family" in t:
        t = t[t["family"] == family]
    split = t["split"].astype(str)
    t = t[~split.str.contains("[", regex=False) & ~split.str.contains("(", regex=False) & ~split.str.startswith("paper")]
    cov = pd.to_numeric(t["coverage_80"], errors="coerce")
    t = t[cov < target].assign(coverage_80=cov[cov < target])
    reason = t["split"].astype(str).map(lambda s: next((r for p, r in SPLIT_REASONS if s.startswith(p)),
                                                       "on held-out runs"))
    return t.assign(reason=reason)[["split", "target", "coverage_80", "reason"]].sort_values("coverage_80")


def coverage_note(shortfalls: pd.DataFrame, target: float = COVERAGE_TARGET) -> str:
    """One paragraph explaining the splits below the coverage target (empty when there are none)."""
    if shortfalls.empty:
        return ""
    items = "; ".join(f"{r.split} {r.target}: {100 * r.coverage_80:.0f} %" for r in shortfalls.head(6).itertuples())
    more = f" and {len(shortfalls) - 6} more" if len(shortfalls) > 6 else ""
    random = shortfalls["split"].astype(str).str.startswith("random")
    reasons = list(dict.fromkeys(shortfalls.loc[~random, "reason"]))
    text = f"Below the {100 * target:.0f} % target: {items}{more}."
    if reasons:
        text += (f" The interval comes from the model's errors on runs like those it was fitted on; it is too narrow "
                 f"when the model predicts {', or '.join(reasons)}, where the errors are larger. For such an "
                 "estimate (an unusual GPU, a new model family, a very large model), read the interval as the least "
                 "uncertainty there is, not the most.")
    if random.any():
        text += (" Even on random folds some targets fall short: the measurements spread more than the residuals "
                 "the interval was calibrated on (targets: " + ", ".join(dict.fromkeys(shortfalls.loc[random, "target"]
                                                                                     .astype(str))) + ").")
    return text
