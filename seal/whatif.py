"""What-if: the same requests under other serving set-ups, the sensitivity of the total to each assumption,
and greener alternatives with their model quality.

Every function re-runs :func:`seal.estimate` on a changed copy of the requests; nothing here estimates
energy or carbon itself. A scenario is a dict with any of :data:`SCENARIO_KEYS`; empty values keep the
requests' own column (or the pipeline's default).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from seal.errors import SealError

# Columns a scenario may set on every request, and the carbon-stage options it may set.
COLUMN_KEYS: tuple[str, ...] = ("model", "gpu", "gpus", "engine", "batch_size", "region", "precision")
OPTION_KEYS: tuple[str, ...] = ("pue",)
SCENARIO_KEYS: tuple[str, ...] = COLUMN_KEYS + OPTION_KEYS
# Changing any of these makes a logged latency meaningless (it was measured on the old set-up).
SERVING_KEYS: tuple[str, ...] = ("model", "gpu", "gpus", "engine", "batch_size", "precision")
TOKEN_COLUMNS: tuple[str, ...] = ("input_tokens", "output_tokens", "token_source")

# Default sensitivity ranges: assumption -> (label, scenario change) for the low and the high setting.
# The settings are plausible alternatives a deployment might have, not bounds.
DEFAULT_VARIATIONS: dict[str, tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "Region (grid)": (("Sweden", {"region": "SWE"}), ("India", {"region": "IND"})),
    "PUE": (("1.1", {"pue": 1.1}), ("1.6", {"pue": 1.6})),
    # batch 1 on the same serving engine (an eager framework at batch 1 is the "Serving engine" row's change)
    "Batch size": (("256", {"batch_size": 256}), ("1", {"batch_size": 1, "engine": "vllm"})),
    "Serving engine": (("vLLM (2025-26)", {"engine": "vllm"}), ("vLLM 2024", {"engine": "vllm-2024"})),
    "GPU": (("H100-SXM", {"gpu": "H100-SXM"}), ("A10G", {"gpu": "A10G"})),
    "Precision": (("float16", {"precision": "float16"}), ("float32", {"precision": "float32"})),
    "Output tokens": (("× 0.5", {"output_tokens_factor": 0.5}), ("× 2", {"output_tokens_factor": 2.0})),
}


def _clean(scenario: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in scenario.items():
        if v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and np.isnan(v)):
            continue
        out[k] = v
    return out


def apply_scenario(requests: pd.DataFrame, scenario: dict[str, Any]) -> pd.DataFrame:
    """A copy of ``requests`` with the scenario's columns set on every row.

    When the serving set-up changes, measured ``latency_s`` / ``ttft_s`` are dropped (they belong to the old
    set-up); when the model changes, ``params_b`` / ``active_params_b`` are dropped unless the scenario sets
    them. ``output_tokens_factor`` scales ``output_tokens``.
    """
    s = _clean(scenario)
    unknown = set(s) - set(SCENARIO_KEYS) - {"params_b", "active_params_b", "output_tokens_factor", "name"}
    if unknown:
        raise SealError(f"Unknown scenario setting(s) {sorted(unknown)}; accepted: {list(SCENARIO_KEYS)}.")
    frame = requests.copy()
    if any(k in s for k in SERVING_KEYS):
        frame = frame.drop(columns=[c for c in ("latency_s", "ttft_s") if c in frame])
    if "model" in s:
        frame = frame.drop(columns=[c for c in ("params_b", "active_params_b") if c in frame and c not in s])
    for key in (*COLUMN_KEYS, "params_b", "active_params_b"):
        if key in s:
            frame[key] = s[key]
    if "output_tokens_factor" in s:
        if "output_tokens" not in frame:
            raise SealError("Scaling output tokens needs an output_tokens column (give expected output tokens).")
        frame["output_tokens"] = np.maximum(1, np.round(pd.to_numeric(frame["output_tokens"]) * float(s["output_tokens_factor"])))
    return frame


def count_tokens_once(requests: pd.DataFrame, **defaults: Any) -> pd.DataFrame:
    """Token counts filled in once (through the pipeline's own preparation) so scenarios do not re-count.

    Only the token columns are kept from the preparation; every other column stays as given.
    """
    if "input_tokens" in requests and pd.to_numeric(requests["input_tokens"], errors="coerce").notna().all():
        return requests
    from seal.api import REQUEST_DEFAULT_KEYS
    from seal.logs.normalize import prepare_requests

    prepared = prepare_requests(requests, **{k: v for k, v in defaults.items()
                                             if v is not None and k in REQUEST_DEFAULT_KEYS})
    out = requests.copy()
    for col in TOKEN_COLUMNS:
        if col in prepared:
            out[col] = prepared[col].to_numpy()
    return out


def run_scenario(requests: pd.DataFrame, scenario: dict[str, Any], **defaults: Any) -> pd.DataFrame:
    """Result rows of :func:`seal.estimate` for ``requests`` under ``scenario`` (``defaults`` fill the rest)."""
    from seal.api import estimate

    s = _clean(scenario)
    options = {k: s[k] for k in OPTION_KEYS if k in s}
    frame = apply_scenario(requests, s)
    return estimate(frame, **{**{k: v for k, v in defaults.items() if v is not None}, **options})


def summarize(result: pd.DataFrame) -> dict[str, float]:
    """Totals of one scenario's result rows (interval bounds summed: errors treated as fully correlated)."""
    out = {"requests": float(len(result))}
    for col in ("gpu_energy_j", "facility_energy_j", "facility_energy_low_j", "facility_energy_high_j",
                "operational_g_co2e", "embodied_g_co2e", "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e",
                "water_ml", "adpe_kg_sbeq", "adpe_low_kg_sbeq", "adpe_high_kg_sbeq", "primary_energy_mj",
                "primary_energy_low_mj", "primary_energy_high_mj"):
        if col in result:
            out[col] = float(pd.to_numeric(result[col], errors="coerce").sum(min_count=1))
    return out


def compare(requests: pd.DataFrame, scenarios: Sequence[dict[str, Any]], names: Sequence[str] | None = None,
            **defaults: Any) -> pd.DataFrame:
    """Totals per scenario, side by side, with deltas against the first scenario.

    Returns one row per scenario: ``scenario``, its settings, ``requests``, ``gpu_energy_j``,
    ``facility_energy_j``, ``total_g_co2e``, ``total_low_g_co2e``, ``total_high_g_co2e``, ``water_ml``, ADPe
    (``adpe_kg_sbeq``) and primary energy (``primary_energy_mj``) with their bounds, ``delta_g_co2e`` and ``delta_fraction`` (relative to the first scenario).
    """
    if not 1 <= len(scenarios) <= 5:
        raise SealError(f"Compare one to five scenarios (got {len(scenarios)}).")
    names = list(names) if names is not None else [f"Scenario {i + 1}" for i in range(len(scenarios))]
    rows = []
    prepared = count_tokens_once(requests, **{**defaults, **_clean(scenarios[0])})
    for name, scenario in zip(names, scenarios):
        result = run_scenario(prepared, scenario, **defaults)
        rows.append({"scenario": name, **{k: scenario.get(k) for k in SCENARIO_KEYS}, **summarize(result)})
    table = pd.DataFrame(rows)
    base = table["total_g_co2e"].iloc[0]
    table["delta_g_co2e"] = table["total_g_co2e"] - base
    table["delta_fraction"] = table["delta_g_co2e"] / base if base else np.nan
    return table


def sensitivity(requests: pd.DataFrame, base: dict[str, Any], variations: dict | None = None,
                **defaults: Any) -> tuple[pd.DataFrame, float, list[str]]:
    """How much each assumption moves the total: the base scenario re-run with each setting changed alone.

    Returns ``(table, base_total_g_co2e, skipped)``: one row per assumption with ``parameter``,
    ``low_label``, ``high_label``, ``low_total_g_co2e``, ``high_total_g_co2e``, ``swing_g_co2e`` (sorted,
    largest first); ``skipped`` names variations the pipeline refused (with its reason).
    """
    variations = DEFAULT_VARIATIONS if variations is None else variations
    prepared = count_tokens_once(requests, **{**defaults, **_clean(base)})
    base_total = summarize(run_scenario(prepared, base, **defaults))["total_g_co2e"]
    rows, skipped = [], []
    for parameter, ((low_label, low_change), (high_label, high_change)) in variations.items():
        try:
            low = summarize(run_scenario(prepared, {**base, **low_change}, **defaults))["total_g_co2e"]
            high = summarize(run_scenario(prepared, {**base, **high_change}, **defaults))["total_g_co2e"]
        except SealError as exc:
            skipped.append(f"{parameter}: {exc}")
            continue
        rows.append({"parameter": parameter, "low_label": low_label, "high_label": high_label,
                     "low_total_g_co2e": low, "high_total_g_co2e": high, "swing_g_co2e": abs(high - low)})
    table = pd.DataFrame(rows, columns=["parameter", "low_label", "high_label", "low_total_g_co2e",
                                        "high_total_g_co2e", "swing_g_co2e"])
    return table.sort_values("swing_g_co2e", ascending=False, ignore_index=True), base_total, skipped


def pareto_front(points: pd.DataFrame, cost: str = "total_g_co2e", benefit: str = "quality") -> pd.Series:
    """True for points no other point beats on both lower ``cost`` and higher ``benefit``."""
    p = points[[cost, benefit]].apply(pd.to_numeric, errors="coerce")
    order = p.sort_values([cost, benefit], ascending=[True, False]).index
    best = -np.inf
    front = pd.Series(False, index=points.index)
    for idx in order:  # one pass over a handful of configurations, not a hot path
        b = p.at[idx, benefit]
        if np.isfinite(b) and b > best:
            front[idx] = True
            best = b
    return front


def greener_alternatives(requests: pd.DataFrame, base: dict[str, Any], quality: pd.Series,
                         models: Sequence[str] = (), gpus: Sequence[str] = (), regions: Sequence[str] = (),
                         **defaults: Any) -> tuple[pd.DataFrame, list[str]]:
    """Configurations that change the model, the GPU or the region of ``base`` one at a time (and the
    base itself), with their totals, CO2e saved and model quality; Pareto-optimal ones flagged.

    ``quality`` maps model name -> quality score (Open LLM Leaderboard average, %). Returns
    ``(table sorted by total, skipped)``.
    """
    prepared = count_tokens_once(requests, **{**defaults, **_clean(base)})
    configs: list[tuple[str, str, dict[str, Any]]] = [("base", "base", dict(base))]
    configs += [("model", str(m), {**base, "model": m}) for m in models if m != base.get("model")]
    configs += [("gpu", str(g), {**base, "gpu": g}) for g in gpus if g != base.get("gpu")]
    configs += [("region", str(r), {**base, "region": r}) for r in regions if r != base.get("region")]
    rows, skipped = [], []
    for change, label, scenario in configs:
        try:
            totals = summarize(run_scenario(prepared, scenario, **defaults))
        except SealError as exc:
            skipped.append(f"{label}: {exc}")
            continue
        rows.append({"change": change, "label": label if change != "base" else "base (your set-up)",
                     **{k: scenario.get(k) for k in SCENARIO_KEYS}, **totals})
    table = pd.DataFrame(rows)
    if table.empty:
        return table, skipped
    base_total = table.loc[table["change"] == "base", "total_g_co2e"]
    base_total = float(base_total.iloc[0]) if len(base_total) else np.nan
    table["saved_g_co2e"] = base_total - table["total_g_co2e"]
    table["saved_fraction"] = table["saved_g_co2e"] / base_total if base_total else np.nan
    q = pd.Series(quality, dtype=float)
    table["quality"] = table["model"].map(q).astype(float)
    table["pareto"] = pareto_front(table)
    return table.sort_values("total_g_co2e", ignore_index=True), skipped
