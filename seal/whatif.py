"""What-if: the same requests under other serving set-ups, the sensitivity of the total to each assumption,
and greener alternatives with their model quality.

Nothing here estimates energy or carbon itself: every figure comes from :func:`seal.estimate`, run on
:class:`GroupedRequests` — one representative row per distinct configuration and token-count bucket, with the
number of requests it stands for — and summed with those weights. An estimate depends on a request only through
its configuration (model, GPU, batch, region, ...) and its token counts (and a measured latency where logged), so
a million-row log becomes a few thousand rows to estimate per scenario.

A scenario is a dict with any of :data:`SCENARIO_KEYS`; a key it does not set keeps each request's own value
(an empty scenario is "as entered / as logged").
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from seal.errors import SealError

# Columns a scenario may set on every request, and the carbon-stage options it may set.
COLUMN_KEYS: tuple[str, ...] = ("model", "gpu", "gpus", "engine", "batch_size", "region", "precision")
OPTION_KEYS: tuple[str, ...] = ("pue",)
SCENARIO_KEYS: tuple[str, ...] = COLUMN_KEYS + OPTION_KEYS
# Changing any of these makes a logged latency meaningless (it was measured on the old set-up), and the GPU
# count is chosen again for the new set-up unless the scenario sets one.
SERVING_KEYS: tuple[str, ...] = ("model", "gpu", "gpus", "engine", "batch_size", "precision")
TOKEN_COLUMNS: tuple[str, ...] = ("input_tokens", "output_tokens", "token_source")

# ---- grouped requests
# What an estimate depends on besides token counts and latencies: requests equal on all of these are one group.
CONFIG_COLUMNS: tuple[str, ...] = ("model", "params_b", "active_params_b", "precision", "gpu", "gpus", "engine",
                                   "batch_size", "region", "call_type", "deployment")
# Per-request numbers, bucketed on a log grid; each group keeps their exact sums (so token totals are exact).
COUNT_COLUMNS: tuple[str, ...] = ("input_tokens", "output_tokens")
TIME_COLUMNS: tuple[str, ...] = ("latency_s", "ttft_s")
BUCKET_COLUMNS: tuple[str, ...] = COUNT_COLUMNS + TIME_COLUMNS
# Buckets per decade, finest first; 0 = exact values. A table growing past ``max_groups`` moves one step coarser.
RESOLUTIONS: tuple[int, ...] = (0, 64, 32, 16, 8, 4, 2)
MAX_GROUPS = 12_000                # groups kept before coarsening: bounds the time per scenario (`make bench`)
# Measured with `make bench` (bench/run.py `bench_whatif` reports scenario 1 against row-by-row): on a 200 k-row
# synthetic log of 8 models x 4 GPUs x 9 regions, totals at 4 buckets per decade differ from per-row estimation by
# < 0.5 % (8 per decade: < 0.15 %); tests/test_whatif.py holds the grouped totals to GROUPING_TOLERANCE.
GROUPING_TOLERANCE = 0.01          # fraction: the stated bound on any grouped total's error
MIN_TIME_S = 1e-3                  # s: latencies below are bucketed with it

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
SUMMED_COLUMNS: tuple[str, ...] = (
    "gpu_energy_j", "facility_energy_j", "facility_energy_low_j", "facility_energy_high_j", "operational_g_co2e",
    "embodied_g_co2e", "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "water_ml", "water_low_ml",
    "water_high_ml", "adpe_kg_sbeq",
    "adpe_low_kg_sbeq", "adpe_high_kg_sbeq", "primary_energy_mj", "primary_energy_low_mj", "primary_energy_high_mj")


def _clean(scenario: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in scenario.items():
        if v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and np.isnan(v)):
            continue
        out[k] = v
    return out


def apply_scenario(requests: pd.DataFrame, scenario: dict[str, Any]) -> pd.DataFrame:
    """A copy of ``requests`` with the scenario's columns set on every row (the others keep each row's value).

    When the serving set-up changes, measured ``latency_s`` / ``ttft_s`` are dropped (they belong to the old
    set-up) and ``gpus`` is chosen again unless the scenario sets it; when the model changes, ``params_b`` /
    ``active_params_b`` and ``precision`` (the old model's) are dropped unless the scenario sets them.
    ``output_tokens_factor`` scales ``output_tokens``.
    """
    s = _clean(scenario)
    unknown = set(s) - set(SCENARIO_KEYS) - {"params_b", "active_params_b", "output_tokens_factor", "name"}
    if unknown:
        raise SealError(f"Unknown scenario setting(s) {sorted(unknown)}; accepted: {list(SCENARIO_KEYS)}.")
    frame = requests.copy()
    drop: list[str] = []
    if any(k in s for k in SERVING_KEYS):
        drop += ["latency_s", "ttft_s"] + ([] if "gpus" in s else ["gpus"])
    if "model" in s:
        drop += [c for c in ("params_b", "active_params_b", "precision") if c not in s]
    frame = frame.drop(columns=[c for c in dict.fromkeys(drop) if c in frame])
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


# ---------------------------------------------------------------- grouped requests
def _bucket_ids(values: np.ndarray, column: str, resolution: int) -> np.ndarray:
    """Bucket of each value (float ids; -1 for a missing value): the value itself at ``resolution`` 0, else its
    place on a grid of ``resolution`` buckets per decade (of ``1 + tokens``, or of seconds for a latency)."""
    v = np.asarray(values, dtype=float)
    missing = np.isnan(v)
    if resolution == 0:
        ids = v.copy()
    elif column in TIME_COLUMNS:
        ids = np.floor(np.log10(np.maximum(v, MIN_TIME_S)) * resolution)
    else:
        ids = np.floor(np.log10(1.0 + np.maximum(v, 0.0)) * resolution)
    ids[missing] = -1.0 if resolution == 0 or column not in TIME_COLUMNS else -1e9
    return ids


@dataclass
class GroupedRequests:
    """Requests folded into one row per configuration (:data:`CONFIG_COLUMNS`) and token-count / latency bucket
    (:data:`BUCKET_COLUMNS`), each with ``requests`` (how many it stands for) and the exact sums of its bucketed
    columns (``<column>_sum``). Its size is bounded by ``max_groups`` (plus the distinct configurations), whatever
    the number of requests: past it the buckets get coarser (:data:`RESOLUTIONS`), which is the only source of
    error — each group is estimated at its mean token counts, so token totals stay exact and the totals move by
    the curvature of energy in tokens within a bucket (:data:`GROUPING_TOLERANCE`).

    Build it with :meth:`of` (a frame) or :meth:`add` (one scored or request batch at a time, as
    :class:`seal.summary.LogSummary` does); :meth:`frame` gives the rows to estimate and their weights.
    """

    max_groups: int = MAX_GROUPS
    resolution: int = 0
    table: pd.DataFrame | None = None
    requests: int = 0
    columns: list[str] = field(default_factory=list)     # configuration columns seen in the requests

    @classmethod
    def of(cls, requests: pd.DataFrame, **options: Any) -> "GroupedRequests":
        grouped = cls(**options)
        grouped.add(requests)
        return grouped

    def _keys(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The grouping key of each row of ``frame`` (configuration columns, then bucket ids)."""
        keys = {}
        for col in CONFIG_COLUMNS:
            if col in frame:
                s = frame[col]
                keys[col] = s.astype(object).where(s.notna(), None) if s.dtype == object else s
        for col in BUCKET_COLUMNS:
            if col in frame:
                keys[f"{col}_bucket"] = _bucket_ids(pd.to_numeric(frame[col], errors="coerce").to_numpy(),
                                                    col, self.resolution)
        return pd.DataFrame(keys, index=frame.index)

    def _fold(self, keys: pd.DataFrame, sums: pd.DataFrame) -> pd.DataFrame:
        data = pd.concat([keys, sums], axis=1)
        by = list(keys.columns)
        return data.groupby(by, dropna=False, sort=False, observed=True).sum(min_count=1).reset_index()

    def add(self, batch: pd.DataFrame) -> None:
        """Fold the requests of ``batch`` (request columns; other columns are ignored) into the groups."""
        if not len(batch):
            return
        for col in CONFIG_COLUMNS:
            if col in batch and col not in self.columns:
                self.columns.append(col)
        keys = self._keys(batch)
        sums = pd.DataFrame({"requests": np.ones(len(batch))}, index=batch.index)
        for col in BUCKET_COLUMNS:
            if col in batch:
                sums[f"{col}_sum"] = pd.to_numeric(batch[col], errors="coerce").astype(float).to_numpy()
        new = self._fold(keys, sums)
        self.table = new if self.table is None else self._merge(self.table, new)
        self.requests += len(batch)
        while len(self.table) > self.max_groups and self.resolution != RESOLUTIONS[-1]:
            self.coarsen()

    def _merge(self, a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
        both = pd.concat([a, b], ignore_index=True)
        sums = [c for c in both.columns if c == "requests" or c.endswith("_sum")]
        keys = [c for c in both.columns if c not in sums]
        return self._fold(both[keys], both[sums])

    def coarsen(self) -> None:
        """Move to the next coarser bucket grid, regrouping the groups by their mean values."""
        i = RESOLUTIONS.index(self.resolution)
        self.resolution = RESOLUTIONS[min(i + 1, len(RESOLUTIONS) - 1)]
        if self.table is None:
            return
        means = self._means()
        keys = self._keys(means)
        sums = self.table[[c for c in self.table.columns if c == "requests" or c.endswith("_sum")]]
        self.table = self._fold(keys, sums)

    def _means(self) -> pd.DataFrame:
        t = self.table
        out = pd.DataFrame({c: t[c] for c in self.columns if c in t})
        n = t["requests"].to_numpy(dtype=float)
        for col in BUCKET_COLUMNS:
            if f"{col}_sum" in t:
                out[col] = t[f"{col}_sum"].to_numpy(dtype=float) / n
        return out

    def __len__(self) -> int:
        return 0 if self.table is None else len(self.table)

    def frame(self) -> tuple[pd.DataFrame, np.ndarray]:
        """``(rows, weights)``: one request-like row per group (configuration columns, mean token counts rounded
        to whole tokens, mean latencies) and the number of requests each stands for."""
        if self.table is None:
            return pd.DataFrame(), np.zeros(0)
        rows = self._means()
        for col in CONFIG_COLUMNS:
            if col in rows and rows[col].dtype == object:
                rows[col] = rows[col].where(rows[col].notna(), None)
        for col in COUNT_COLUMNS:
            if col in rows:
                rows[col] = rows[col].round()
        return rows.reset_index(drop=True), self.table["requests"].to_numpy(dtype=float)

    def token_totals(self) -> dict[str, float]:
        """Exact sums of input and output tokens over every request."""
        t = self.table
        return {col: float(t[f"{col}_sum"].sum()) for col in COUNT_COLUMNS
                if t is not None and f"{col}_sum" in t}

    def nbytes(self) -> int:
        return 0 if self.table is None else int(self.table.memory_usage(deep=True, index=True).sum())


def group_requests(requests: pd.DataFrame | GroupedRequests, **defaults: Any) -> GroupedRequests:
    """``requests`` as :class:`GroupedRequests` (token counts filled once first); grouped requests unchanged."""
    if isinstance(requests, GroupedRequests):
        return requests
    return GroupedRequests.of(count_tokens_once(requests, **defaults))


# ---------------------------------------------------------------- scenarios
def run_scenario(requests: pd.DataFrame | GroupedRequests, scenario: dict[str, Any],
                 **defaults: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """``(result rows, weights)``: :func:`seal.estimate` of ``requests`` (grouped: one row per group) under
    ``scenario``, ``defaults`` filling the rest; ``weights`` are the requests each row stands for."""
    from seal.api import estimate

    grouped = group_requests(requests, **{**defaults, **_clean(scenario)})
    rows, weights = grouped.frame()
    s = _clean(scenario)
    options = {k: s[k] for k in OPTION_KEYS if k in s}
    frame = apply_scenario(rows, s)
    return estimate(frame, **{**{k: v for k, v in defaults.items() if v is not None}, **options}), weights


def scenario_settings(choices: dict[str, Any], unset: Sequence[Any] = ()) -> dict[str, Any]:
    """``choices`` (one scenario's form values) as scenario settings: a value in ``unset`` (an "auto" / "keep"
    choice) and a GPU count or PUE of 0 become None; batch size and GPU count whole numbers, PUE a float."""
    out = {k: (None if v is None or v in unset else v) for k, v in choices.items()}
    if "gpus" in out:
        out["gpus"] = int(out["gpus"] or 0) or None
    if "pue" in out:
        out["pue"] = float(out["pue"] or 0.0) or None
    if out.get("batch_size") is not None:
        out["batch_size"] = int(out["batch_size"])
    return out


def scenario_changes(choices: dict[str, Any], keep: Any) -> dict[str, Any]:
    """The settings a later scenario's ``choices`` change: :func:`scenario_settings` without those left as
    ``keep`` (or None)."""
    return {k: v for k, v in scenario_settings(choices, (keep,)).items() if v is not None}


def scenario_variants(first: dict[str, Any], changes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scenario 1 (``first``) and, for each entry of ``changes``, scenario 1 with those settings replaced."""
    return [first] + [{**first, **c} for c in changes]


def summarize(result: pd.DataFrame, weights: np.ndarray | None = None) -> dict[str, float]:
    """Totals of one scenario's result rows, each row counted ``weights`` times (interval bounds summed:
    errors treated as fully correlated)."""
    w = np.ones(len(result)) if weights is None else np.asarray(weights, dtype=float)
    out = {"requests": float(w.sum())}
    for col in SUMMED_COLUMNS:
        if col in result:
            v = pd.to_numeric(result[col], errors="coerce").to_numpy(dtype=float)
            ok = ~np.isnan(v)
            out[col] = float(np.dot(v[ok], w[ok])) if ok.any() else float("nan")
    return out


def _totals(grouped: GroupedRequests, scenario: dict[str, Any], defaults: dict[str, Any]) -> dict[str, float]:
    return summarize(*run_scenario(grouped, scenario, **defaults))


def compare(requests: pd.DataFrame | GroupedRequests, scenarios: Sequence[dict[str, Any]],
            names: Sequence[str] | None = None, **defaults: Any) -> pd.DataFrame:
    """Totals per scenario, side by side, with deltas against the first scenario.

    Each scenario sets what it names on every request and keeps each request's own value for the rest: ``{}``
    is the requests as entered / as logged. Returns one row per scenario: ``scenario``, its settings (None where
    it keeps the requests' own), ``requests``, ``gpu_energy_j``, ``facility_energy_j``, ``total_g_co2e``,
    ``total_low_g_co2e``, ``total_high_g_co2e``, ``water_ml``, ADPe (``adpe_kg_sbeq``) and primary energy
    (``primary_energy_mj``) with their bounds, ``delta_g_co2e`` and ``delta_fraction`` (relative to the first).
    """
    if not 1 <= len(scenarios) <= 5:
        raise SealError(f"Compare one to five scenarios (got {len(scenarios)}).")
    names = list(names) if names is not None else [f"Scenario {i + 1}" for i in range(len(scenarios))]
    grouped = group_requests(requests, **{**defaults, **_clean(scenarios[0])})
    # a calibrated deployment the comparison ran under is named in every row (its figures are corrected)
    calibrated = {"deployment": defaults["deployment"]} if defaults.get("deployment") else {}
    rows = [{"scenario": name, **{k: scenario.get(k) for k in SCENARIO_KEYS}, **calibrated,
             **_totals(grouped, scenario, defaults)} for name, scenario in zip(names, scenarios)]
    table = pd.DataFrame(rows)
    base = table["total_g_co2e"].iloc[0]
    table["delta_g_co2e"] = table["total_g_co2e"] - base
    table["delta_fraction"] = table["delta_g_co2e"] / base if base else np.nan
    return table


def changes(scenarios: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What each scenario changes against the first: ``{setting: value}`` for the settings whose value differs
    (the first scenario's entry is every setting it sets)."""
    first = _clean(scenarios[0]) if scenarios else {}
    out = [first]
    for s in scenarios[1:]:
        c = _clean(s)
        out.append({k: v for k, v in c.items() if first.get(k) != v})
    return out


def sensitivity(requests: pd.DataFrame | GroupedRequests, base: dict[str, Any], variations: dict | None = None,
                **defaults: Any) -> tuple[pd.DataFrame, float, list[str]]:
    """How much each assumption moves the total: the base scenario re-run with each setting changed alone.

    Returns ``(table, base_total_g_co2e, skipped)``: one row per assumption with ``parameter``,
    ``low_label``, ``high_label``, ``low_total_g_co2e``, ``high_total_g_co2e``, ``swing_g_co2e`` (sorted,
    largest first); ``skipped`` names variations the pipeline refused (with its reason).
    """
    variations = DEFAULT_VARIATIONS if variations is None else variations
    grouped = group_requests(requests, **{**defaults, **_clean(base)})
    base_total = _totals(grouped, base, defaults)["total_g_co2e"]
    rows, skipped = [], []
    for parameter, ((low_label, low_change), (high_label, high_change)) in variations.items():
        try:
            low = _totals(grouped, {**base, **low_change}, defaults)["total_g_co2e"]
            high = _totals(grouped, {**base, **high_change}, defaults)["total_g_co2e"]
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


# ---------------------------------------------------------------- greener alternatives
# A model can replace a chat / instruct model only if it does the same job: an instruction- or chat-tuned
# generator. Classifiers and guard models, embedding / reranking models, fill-in-the-middle or code-completion
# models, base (pre-trained only) models and framework-specific re-uploads of the same weights are not candidates.
NOT_SAME_JOB = re.compile(
    r"guard|(?:^|[-_/.])(?:fim|embed\w*|rerank\w*|reward|classifier|pytorch|keras|jax|flax|gguf|onnx|mlx|"
    r"python|coder?|codegemma|codellama|codestral|starcoder\d?|base|vl|vision|audio|math)(?:[-_/.]|$)"
    r"|code-?completion|-hf-pytorch", re.IGNORECASE)
CHAT_MARKER = re.compile(r"instruct|chat|(?:^|[-_/.])it(?:[-_/.]|$)|-sft|-dpo|-rlhf|-orpo", re.IGNORECASE)
# Organisations whose instruct models are the usual replacements; other uploads (merges, fine-tunes) come after.
WELL_KNOWN_ORGS: tuple[str, ...] = ("meta-llama", "qwen", "mistralai", "google", "microsoft", "ibm-granite",
                                    "allenai", "nvidia", "deepseek-ai", "tiiuae", "01-ai", "huggingfacetb",
                                    "coherelabs", "cohereforai", "openai")
SIMILAR_QUALITY_POINTS = 5.0       # Open LLM Leaderboard points below the base model still called "similar"
MAX_ALTERNATIVE_MODELS = 8
# GPUs and regions an alternative may move scenario 1 to (those the catalogue knows).
ALTERNATIVE_GPUS: tuple[str, ...] = ("H100-SXM", "A100-SXM4-80GB", "L4", "H200")
ALTERNATIVE_REGIONS: tuple[str, ...] = ("SWE", "FRA", "aws:eu-north-1", "gcp:europe-north1")


def same_job(model: str) -> bool:
    """Whether ``model`` (a catalogue name) is a chat / instruct generator (see :data:`NOT_SAME_JOB`)."""
    name = str(model)
    return bool(CHAT_MARKER.search(name)) and not NOT_SAME_JOB.search(name)


def alternative_models(catalogue: pd.DataFrame, base_models: Sequence[str], n: int = MAX_ALTERNATIVE_MODELS,
                       weights: Sequence[float] | None = None) -> tuple[list[str], float]:
    """Up to ``n`` models that can do the same job as ``base_models``: chat / instruct (:func:`same_job`), size
    known, quality similar or better (within :data:`SIMILAR_QUALITY_POINTS` of the base) where both qualities are
    known; well-known organisations first, smallest (greenest) first among equals, a spread of sizes.

    ``catalogue`` has ``model``, ``params_b`` and ``quality`` (NaN where unknown); the base quality is the
    request-weighted mean of the base models' known qualities (NaN if none is known). Returns
    ``(models, base_quality)``.
    """
    cat = catalogue.dropna(subset=["params_b"])
    cat = cat[cat["model"].map(same_job) & ~cat["model"].isin(list(base_models))]
    q = catalogue.set_index("model")["quality"] if "quality" in catalogue else pd.Series(dtype=float)
    base_q = pd.to_numeric(q.reindex(list(base_models)), errors="coerce").to_numpy(dtype=float)
    w = np.ones(len(base_q)) if weights is None else np.asarray(weights, dtype=float)
    known = np.isfinite(base_q)
    base_quality = float(np.average(base_q[known], weights=w[known])) if known.any() and w[known].sum() else math.nan
    quality = pd.to_numeric(cat.get("quality", pd.Series(np.nan, index=cat.index)), errors="coerce")
    if np.isfinite(base_quality) and quality.notna().any():
        cat = cat[quality.isna() | (quality >= base_quality - SIMILAR_QUALITY_POINTS)]
        quality = quality[cat.index]
    org = cat["model"].str.split("/").str[0].str.lower()
    known_org = org.isin(WELL_KNOWN_ORGS)
    # rated models first (their quality can be shown), then well-known organisations, then the best rated
    ranked = cat.assign(_rated=quality.notna(), _known=known_org, _q=quality.fillna(-1.0)) \
        .sort_values(["_rated", "_known", "_q"], ascending=[False, False, False])
    pool = ranked.head(max(4 * n, 24)).sort_values("params_b", kind="stable")
    if len(pool) > n:      # a spread of sizes
        pick = np.unique(np.linspace(0, len(pool) - 1, n).round().astype(int))
        pool = pool.iloc[pick]
    return pool["model"].tolist(), base_quality


class Alternatives(NamedTuple):
    """What the greener alternatives try instead of scenario 1's set-up (hashable, so a page can cache on it)."""

    models: tuple[str, ...]                  # same-job models (:func:`alternative_models`)
    gpus: tuple[str, ...]                    # :data:`ALTERNATIVE_GPUS` the catalogue knows
    regions: tuple[str, ...]                 # :data:`ALTERNATIVE_REGIONS` the catalogue knows
    quality: tuple[tuple[str, float], ...]   # (model, quality score) for every rated model


def alternative_candidates(catalogue: pd.DataFrame, gpus: pd.DataFrame, regions: pd.DataFrame,
                           base_models: Sequence[str], weights: Sequence[float] | None = None) -> Alternatives:
    """The models, GPUs and regions to try against ``base_models`` (requests ``weights``), and the quality of
    every rated model; ``catalogue`` has ``model``, ``params_b`` and ``quality``, ``gpus`` a ``gpu`` column and
    ``regions`` a ``region`` column."""
    models, _ = alternative_models(catalogue, base_models, weights=weights)
    quality = tuple((m, float(q)) for m, q in zip(catalogue["model"], catalogue["quality"]) if pd.notna(q))
    known_gpus, known_regions = set(gpus["gpu"]), set(regions["region"])
    return Alternatives(tuple(models), tuple(g for g in ALTERNATIVE_GPUS if g in known_gpus),
                        tuple(r for r in ALTERNATIVE_REGIONS if r in known_regions), quality)


def models_by_weight(requests: pd.DataFrame | GroupedRequests) -> pd.Series:
    """Requests per model (model name -> count), most first; empty without a ``model`` column."""
    if isinstance(requests, GroupedRequests):
        table = requests.table
        if table is None or "model" not in table:
            return pd.Series(dtype=float)
        return table.groupby("model", dropna=True)["requests"].sum().sort_values(ascending=False)
    return requests["model"].astype(str).value_counts() if "model" in requests else pd.Series()


def greener_alternatives(requests: pd.DataFrame | GroupedRequests, base: dict[str, Any], quality: pd.Series,
                         models: Sequence[str] = (), gpus: Sequence[str] = (), regions: Sequence[str] = (),
                         **defaults: Any) -> tuple[pd.DataFrame, list[str]]:
    """Configurations that change the model, the GPU or the region of ``base`` one at a time (and the
    base itself), with their totals, CO2e saved and model quality; Pareto-optimal ones flagged.

    ``quality`` maps model name -> quality score (Open LLM Leaderboard average, %). Returns
    ``(table sorted by total, skipped)``.
    """
    grouped = group_requests(requests, **{**defaults, **_clean(base)})
    configs: list[tuple[str, str, dict[str, Any]]] = [("base", "base", dict(base))]
    configs += [("model", str(m), {**base, "model": m}) for m in models if m != base.get("model")]
    configs += [("gpu", str(g), {**base, "gpu": g}) for g in gpus if g != base.get("gpu")]
    configs += [("region", str(r), {**base, "region": r}) for r in regions if r != base.get("region")]
    rows, skipped = [], []
    for change, label, scenario in configs:
        try:
            totals = _totals(grouped, scenario, defaults)
        except SealError as exc:
            skipped.append(f"{label}: {exc}")
            continue
        rows.append({"change": change, "label": label if change != "base" else "base (scenario 1)",
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


def analyse(requests: pd.DataFrame | GroupedRequests, scenarios: Sequence[dict[str, Any]],
            alternatives: Alternatives, **defaults: Any) -> dict[str, Any]:
    """Comparison, sensitivity and greener alternatives of ``scenarios`` from the requests grouped once.

    Returns ``compare`` (:func:`compare`), ``sensitivity`` and ``base_total`` (:func:`sensitivity` of scenario 1),
    ``alternatives`` (:func:`greener_alternatives` of scenario 1), ``skipped`` (both lists of refused variations),
    ``groups`` (rows estimated per scenario) and ``resolution`` (the grouping's buckets per decade).
    """
    scenarios = [dict(s) for s in scenarios]
    grouped = group_requests(requests, **{**defaults, **scenarios[0]})
    table = compare(grouped, scenarios, **defaults)
    sens, base_total, skipped = sensitivity(grouped, scenarios[0], **defaults)
    models, gpus, regions, quality = alternatives
    alts, alt_skipped = greener_alternatives(
        grouped, scenarios[0], quality=pd.Series(dict(quality), dtype=float), models=list(models),
        gpus=list(gpus), regions=list(regions), **defaults)
    return {"compare": table, "sensitivity": sens, "base_total": base_total, "alternatives": alts,
            "skipped": skipped + alt_skipped, "groups": len(grouped), "resolution": grouped.resolution}
