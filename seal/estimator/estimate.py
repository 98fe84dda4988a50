"""``estimate_energy``: per-request prefill and decode GPU energy (J) with an 80 % interval, vectorised.

Steps, one small function each: resolve the model's size (catalogue, or the user's ``params_b``), resolve the
GPU, fill the documented default serving set-up, pick the GPU count, run the fitted physics model
(:mod:`seal.estimator.model`), attach the interval calibrated on held-out residuals, blend with a measured
latency when one is given, and label the basis, sources and warnings.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd

from seal.errors import SealError

# ---------------------------------------------------------------- documented default serving set-up
DEFAULT_GPU = "H100-SXM"       # the most common inference GPU of 2024-25 cloud fleets (as EcoLogits' 80 GB GPU)
DEFAULT_BATCH_SIZE = 64        # requests served concurrently (EcoLogits' BATCH_SIZE)
DEFAULT_PRECISION = "bfloat16" # weights as served (EcoLogits: 16-bit)
DEFAULT_PRECISION_NO_BF16 = "float16"  # on GPUs without BF16 tensor cores (T4, V100)
# Compute dtype of quantized weights (activations): bfloat16, float16 where the GPU lacks BF16.
QUANT_COMPUTE_DTYPE = "bfloat16"
INTERVAL_Z = 1.2816            # z of the 10th/90th percentile (80 % interval)
# Spread (log-sd) of a latency-based estimate: the power draw is modelled (the artifact calibrates this on
# batch-1 rows with measured latencies, ``latency_log_sd``); with an assumed batch the GPU-time share is a guess.
LATENCY_LOG_SD_KNOWN_BATCH = 0.25   # assumption when the artifact has no calibrated value (shipped: 0.22)
LATENCY_LOG_SD_DEFAULT_BATCH = 0.8   # assumption: the GPU-time share is a guess when the batch is not given
# Fallback interval (log of measured/predicted, 10th and 90th percentile) when a model has no calibrated table:
# an assumption, deliberately wider than the shipped artifact's calibrated tables (which always take precedence).
DEFAULT_INTERVALS: dict[str, dict[str, list[float]]] = {
    "interpolation": {"prefill": [-0.5, 0.5], "decode": [-0.4, 0.4], "request": [-0.4, 0.4]},
    "transferred-gpu": {"prefill": [-0.8, 0.8], "decode": [-0.7, 0.7], "request": [-0.7, 0.7]},
    "extrapolated-size": {"prefill": [-0.7, 0.7], "decode": [-0.6, 0.6], "request": [-0.6, 0.6]},
}
REGIME_SOURCES = {True: "llm-perf", False: "mlenergy-v2"}  # eager batch-1 profiles vs batched serving
# A GPU counts as measured for a request when the training data hold at least this many rows of it in the
# request's regime (batch 1 / batched); otherwise the estimate is transferred through the datasheet specs.
MIN_GPU_ROWS = 20

ADDED_COLUMNS = ("gpu_model", "params_low_b", "params_high_b", "prefill_energy_low_j", "prefill_energy_high_j",
                 "decode_energy_low_j", "decode_energy_high_j")


def _map_unique(s: pd.Series, func, missing=None) -> np.ndarray:
    """Apply ``func`` to each distinct value of ``s`` once (``missing`` for NaN/None); object array per row."""
    codes, uniques = pd.factorize(pd.Series(s), use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    for i, u in enumerate(uniques):
        values[i] = func(u)
    values[-1] = missing
    return values[codes]


def _blank(s: pd.Series) -> np.ndarray:
    return _map_unique(s, lambda u: str(u).strip() == "", missing=True).astype(bool)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").astype(float).to_numpy()


def resolve_sizes(frame: pd.DataFrame, db_path=None) -> pd.DataFrame:
    """Total/active params (B) and their range per row: user's ``params_b`` / ``active_params_b`` override
    the catalogue. Raises SealError naming models that are unknown and have no size."""
    n = len(frame)
    user_p, user_a = _num(frame, "params_b"), _num(frame, "active_params_b")
    models = frame["model"] if "model" in frame else pd.Series([None] * n, index=frame.index, dtype=object)
    need = np.isnan(user_p) & ~_blank(models)
    cat = None
    if need.any():
        from seal.data.catalogue import NAME_CATALOGUE_SOURCE, resolve_models

        cat = resolve_models(models[need], db_path=db_path)
    p, a = user_p.copy(), user_a.copy()
    lo, hi = user_p.copy(), user_p.copy()
    alo, ahi = user_a.copy(), user_a.copy()
    tps, ttft = np.full(n, np.nan), np.full(n, np.nan)
    from_name, unpublished = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    if cat is not None:
        idx = np.flatnonzero(need)
        bad = ~cat["found"].to_numpy() | cat["params_b"].isna().to_numpy()
        if bad.any():
            names = pd.unique(models[need][bad].astype(str))[:5]
            raise SealError(
                f"Unknown model {', '.join(map(repr, names))} and no params_b given; use a model from the "
                "catalogue (the app's model picker, seal.data.catalogue.list_models) or give its size with params_b (billions).")
        p[idx] = cat["params_b"].to_numpy()
        lo[idx] = cat["params_low_b"].fillna(cat["params_b"]).to_numpy()
        hi[idx] = cat["params_high_b"].fillna(cat["params_b"]).to_numpy()
        cat_a = cat["active_params_b"].fillna(cat["params_b"]).to_numpy()
        a[idx] = np.where(np.isnan(user_a[idx]), cat_a, user_a[idx])
        alo[idx] = np.where(np.isnan(user_a[idx]), cat["active_params_low_b"].fillna(cat["active_params_b"]).fillna(cat["params_low_b"]).fillna(cat["params_b"]).to_numpy(), user_a[idx])
        ahi[idx] = np.where(np.isnan(user_a[idx]), cat["active_params_high_b"].fillna(cat["active_params_b"]).fillna(cat["params_high_b"]).fillna(cat["params_b"]).to_numpy(), user_a[idx])
        tps[idx], ttft[idx] = cat["tps"].to_numpy(), cat["ttft_s"].to_numpy()
        # where the catalogue's range comes from: a size read from the name, or a closed model's unpublished size
        from_name[idx] = cat["catalogue_source"].eq(NAME_CATALOGUE_SOURCE).to_numpy(dtype=bool, na_value=False)
        unpublished[idx] = cat["open_weights"].eq(False).to_numpy(dtype=bool, na_value=False)
    missing = np.isnan(p)
    if missing.any():
        raise SealError("A request has neither a known model nor params_b; give a model name or its size in billions.")
    if (p <= 0).any() or (~np.isnan(a) & (a <= 0)).any():
        raise SealError("params_b and active_params_b must be positive numbers of billions of parameters.")
    a = np.where(np.isnan(a), p, np.minimum(a, p))
    alo = np.where(np.isnan(alo), lo, alo)
    ahi = np.where(np.isnan(ahi), hi, ahi)
    # a user-given active size without total keeps the catalogue ratio; active is capped by total
    alo, ahi = np.minimum(alo, lo), np.minimum(ahi, hi)
    return pd.DataFrame({"params_b": p, "active_params_b": a, "params_low_b": lo, "params_high_b": hi,
                         "active_params_low_b": alo, "active_params_high_b": ahi,
                         "catalogue_tps": tps, "catalogue_ttft_s": ttft,
                         "size_from_name": from_name & np.isnan(user_p),
                         "size_unpublished": unpublished & np.isnan(user_p)}, index=frame.index)


def serving_setup(frame: pd.DataFrame, sizes: pd.DataFrame, gpus_table: pd.DataFrame) -> pd.DataFrame:
    """GPU (canonical), batch size, precision, bytes per weight, the GPU's memory and the user's GPU count
    (``user_gpus``, NaN where not given), with defaults flagged. The GPU count itself depends on the request's
    context (KV cache): see :func:`gpu_counts`."""
    from seal.data.gpus import resolve_gpu
    from seal.estimator import physics

    n = len(frame)
    facts = gpus_table.set_index("gpu")
    gpu_in = frame["gpu"] if "gpu" in frame else pd.Series([None] * n, index=frame.index, dtype=object)
    gpu_default = _blank(gpu_in)
    gpu = resolve_gpu(gpu_in.astype(object).where(~gpu_default, None)).to_numpy(dtype=object, copy=True)
    gpu[gpu_default] = DEFAULT_GPU
    batch = _num(frame, "batch_size")
    batch_default = np.isnan(batch)
    batch = np.where(batch_default, DEFAULT_BATCH_SIZE, batch)
    if (batch < 1).any():
        raise SealError("batch_size must be at least 1 (requests served concurrently).")
    prec_in = frame["precision"] if "precision" in frame else pd.Series([None] * n, index=frame.index, dtype=object)
    prec_default = _blank(prec_in)
    prec = pd.Series(_map_unique(prec_in, lambda u: str(u).strip().lower() or DEFAULT_PRECISION,
                                 missing=DEFAULT_PRECISION), index=frame.index, dtype=object)
    # GPUs without BF16 (T4, V100) serve float16 by default
    no_bf16 = _map_unique(pd.Series(gpu), lambda u: str(facts.loc[u].get("bf16_supported", True)).lower() == "false",
                          missing=False).astype(bool)
    prec = prec.where(~(prec_default & no_bf16), DEFAULT_PRECISION_NO_BF16)
    bpp = _map_unique(prec, lambda u: physics.PRECISION_BYTES.get(u, np.nan)).astype(float)
    if np.isnan(bpp).any():
        bad = pd.unique(prec[np.isnan(bpp)].astype(str))[:5]
        raise SealError(f"Unknown precision {', '.join(map(repr, bad))}; accepted: {', '.join(physics.PRECISION_BYTES)}.")
    scheme = _map_unique(prec, lambda u: physics.PRECISION_SCHEME.get(u, ""))
    memory = _map_unique(pd.Series(gpu), lambda u: float(facts.loc[u, "memory_gb"])).astype(float)
    gpus = _num(frame, "gpus")
    if (~np.isnan(gpus) & (gpus < 1)).any():
        raise SealError("gpus must be a whole number of at least 1.")
    obj = lambda a: pd.Series(a, index=frame.index, dtype=object)  # noqa: E731  (keep object: no str conversion)
    compute = np.where(pd.Series(prec).isin(["float32", "fp32", "bfloat16", "bf16", "float16", "fp16", "half"]).to_numpy(),
                       prec.to_numpy(dtype=object), np.where(no_bf16, DEFAULT_PRECISION_NO_BF16, QUANT_COMPUTE_DTYPE))
    return pd.DataFrame({"gpu_model": obj(gpu), "batch_size": batch, "precision": obj(prec.to_numpy(dtype=object)),
                         "compute_dtype": obj(compute),
                         "bytes_per_param": bpp, "quant_scheme": obj(scheme), "memory_gb": memory,
                         "user_gpus": gpus, "default_setup": gpu_default | batch_default}, index=frame.index)


def kv_bytes_per_token(params_b: np.ndarray, active_params_b: np.ndarray) -> np.ndarray:
    """KV-cache bytes per token of context of a model (see :func:`seal.estimator.physics.kv_cache_gb`)."""
    from seal.estimator import physics

    layers = physics.n_layers(params_b)
    return physics.kv_bytes_per_token(layers, physics.d_model(active_params_b, layers))


def gpu_counts(user_gpus: np.ndarray, params_high_b: np.ndarray, bytes_per_param: np.ndarray,
               memory_gb: np.ndarray, kv_bytes_per_token_b: np.ndarray, batch: np.ndarray,
               context_tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GPUs per request: the user's count, else the fewest that hold the weights of the largest size in the
    model's range plus the batch's KV cache at this request's context (power of two). Also returns where the
    user's count is below that need (the weights and cache cannot fit: warning ``gpus-below-memory``)."""
    from seal.estimator import physics

    kv_gb = batch * np.maximum(context_tokens, 0.0) * kv_bytes_per_token_b / 1e9  # = physics.kv_cache_gb
    need = physics.gpu_required_count(params_high_b, bytes_per_param, memory_gb, kv_gb)
    given = ~np.isnan(user_gpus)
    return np.where(given, user_gpus, need), given & (user_gpus * memory_gb < params_high_b * bytes_per_param)


def _tokens(counts: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(counts), 0.0, np.maximum(counts, 0.0))  # negative / missing counts -> 0 tokens


def _situation_bounds(model, phase: str, transferred: np.ndarray, extrapolated: np.ndarray,
                      eager: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row (log low, log high) residual quantiles of the row's regime: interpolation, widened for transfer /
    extrapolation (quadrature sum of the extra width when both apply)."""
    tables = getattr(model, "intervals_", None) or {"eager": DEFAULT_INTERVALS, "served": DEFAULT_INTERVALS}
    if "interpolation" in tables:  # one table for both regimes
        tables = {"eager": tables, "served": tables}
    lo_rows, hi_rows = np.zeros(len(eager)), np.zeros(len(eager))
    for regime, mask in (("eager", eager), ("served", ~eager)):
        table = tables[regime]
        base_lo, base_hi = table["interpolation"][phase]
        t_lo, t_hi = table.get("transferred-gpu", DEFAULT_INTERVALS["transferred-gpu"])[phase]
        x_lo, x_hi = table.get("extrapolated-size", DEFAULT_INTERVALS["extrapolated-size"])[phase]
        extra_lo = np.sqrt(np.where(transferred, max(base_lo - t_lo, 0.0) ** 2, 0.0)
                           + np.where(extrapolated, max(base_lo - x_lo, 0.0) ** 2, 0.0))
        extra_hi = np.sqrt(np.where(transferred, max(t_hi - base_hi, 0.0) ** 2, 0.0)
                           + np.where(extrapolated, max(x_hi - base_hi, 0.0) ** 2, 0.0))
        lo_rows = np.where(mask, base_lo - extra_lo, lo_rows)
        hi_rows = np.where(mask, base_hi + extra_hi, hi_rows)
    return lo_rows, hi_rows


def _add_codes(existing: pd.Series, masks: dict[str, np.ndarray]) -> pd.Series:
    """Append coded warnings (``;``-joined, no duplicates, order kept) per row, vectorised: rows are keyed by
    (existing text, bitmask of new codes) and each distinct key is joined once (a ``str`` column on
    ``existing.index``)."""
    from seal.errors import join_codes
    from seal.logs.normalize import labels_column

    codes = list(masks)
    bits = np.zeros(len(existing), dtype=np.int64)
    for i, code in enumerate(codes):
        bits |= np.asarray(masks[code], dtype=bool).astype(np.int64) << i
    ex_codes, ex_uniques = pd.factorize(existing, use_na_sentinel=True)
    ex_texts = [*map(str, ex_uniques), ""]  # last: missing warnings
    ex_codes = np.where(ex_codes < 0, len(ex_uniques), ex_codes)
    key = ex_codes.astype(np.int64) * (1 << len(codes)) + bits
    kcodes, kuniques = pd.factorize(key)
    joined = np.empty(len(kuniques), dtype=object)
    for j, k in enumerate(kuniques):
        ex, b = divmod(int(k), 1 << len(codes))
        joined[j] = join_codes(ex_texts[ex], *[c for i, c in enumerate(codes) if b >> i & 1])
    return labels_column(joined, kcodes, existing.index)


# Columns that, with the token counts, make up a request: all but the tokens (and latency) define its configuration.
CONFIG_COLUMNS = ("model", "params_b", "active_params_b", "gpu", "precision", "batch_size", "gpus")


def configurations(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """(row -> configuration code, one row per distinct configuration): the :data:`CONFIG_COLUMNS` present in
    ``frame``, missing values equal, configurations in order of first appearance (so errors name the same
    values first)."""
    cols = [c for c in CONFIG_COLUMNS if c in frame]
    key = np.zeros(len(frame), dtype=np.int64)
    n_keys = 1                                   # key < n_keys
    for col in cols:
        codes, uniques = pd.factorize(frame[col], use_na_sentinel=True)
        if n_keys * (len(uniques) + 1) >= 2 ** 62:  # about to overflow: re-factorize, so key < len(frame)
            key, first_seen = pd.factorize(key)
            n_keys = len(first_seen)
        key = key * (len(uniques) + 1) + (codes + 1)
        n_keys *= len(uniques) + 1
    # one hash pass at the end (not one per column: ~10 ms per 131 k-row batch); codes in order of first appearance
    key, _ = pd.factorize(key)
    n_configs = int(key.max()) + 1 if len(key) else 0
    first = np.full(n_configs, len(key), dtype=np.int64)
    np.minimum.at(first, key, np.arange(len(key)))
    configs = frame.iloc[first][cols].reset_index(drop=True) if cols else pd.DataFrame(index=range(n_configs))
    return key.astype(np.intp), configs


def request_physics_frame(per_config: dict[str, np.ndarray | None], cfg: np.ndarray, gpus: np.ndarray,
                          t_in: np.ndarray, t_out: np.ndarray) -> dict[str, np.ndarray]:
    """The physics frame of requests (:func:`seal.estimator.model.physics_frame`) as a dict of arrays, from the
    configurations' one (a dict of arrays; ``scheme`` None when no weight is quantized): config columns broadcast
    with ``cfg``, per-request GPU count and token counts (>= 0)."""
    columns = {col: None if values is None else values[cfg] for col, values in per_config.items()}
    columns.update(gpus=np.asarray(gpus, dtype=float), t_in=t_in, t_out=t_out)
    return columns


def _with_rows(mid: dict[str, np.ndarray], run, end: str, rows: np.ndarray) -> dict:
    """``mid`` with the requests where ``rows`` is true re-run at the ``end`` of the size range (the rest are
    identical to ``mid``)."""
    if not rows.any():
        return mid
    idx = np.flatnonzero(rows)
    sub = run(end, idx)
    out = {}
    for key in ("prefill_energy_j", "decode_energy_j"):
        values = mid[key].copy()
        values[idx] = sub[key]
        out[key] = values
    return out


def _per_gpu_regime(gpu: np.ndarray, eager: np.ndarray, func) -> np.ndarray:
    """``func(gpu, eager)`` per configuration, evaluated once per distinct (GPU, regime) pair (object array)."""
    codes, uniques = pd.factorize(pd.Series(gpu, dtype=object), use_na_sentinel=False)
    key, pairs = pd.factorize(codes.astype(np.int64) * 2 + eager.astype(np.int64))
    values = np.empty(len(pairs), dtype=object)
    for j, k in enumerate(pairs):
        values[j] = func(uniques[int(k) // 2], bool(int(k) % 2))
    return values[key]


def _sources(gpu: str, eager: bool, latency_driven: bool, gpu_sources: dict) -> str:
    """``sources`` label: the benchmark of the request's regime and those holding its GPU, plus ``latency``."""
    names = sorted({REGIME_SOURCES[bool(eager)], *gpu_sources.get(str(gpu), [])})
    return ";".join(names + (["latency"] if latency_driven else []))


# Size columns of each end of a model's size range (total, active).
SIZE_ENDS = {"mid": ("params_b", "active_params_b"), "low": ("params_low_b", "active_params_low_b"),
             "high": ("params_high_b", "active_params_high_b")}
PLAN_CACHE_SIZE = 64   # plans kept per model: one per distinct set of configurations in a batch
_PLAN_LOCK = threading.Lock()


def config_plan(configs: pd.DataFrame, model: Any, db_path=None) -> dict[str, Any]:
    """Everything about the distinct configurations (:func:`configurations`) that does not depend on the
    requests' token counts: sizes and their range, serving set-up, the physics frame at each end of the size
    range, regime, transfer/extrapolation flags, interval bounds, basis and sources labels. Arrays are per
    configuration and read-only to the caller.

    Every batch of a streamed log repeats the same few configurations, so plans are memoised on ``model`` (see
    :func:`_plan_key`); an error (unknown model, GPU or precision) is raised every time, never cached.
    """
    key = _plan_key(configs, model, db_path)
    cache = getattr(model, "__dict__", {}).get("_plan_cache") if key is not None else None
    if cache is not None and key in cache:
        return cache[key][1]
    plan = _build_plan(configs, model, db_path)
    if key is not None and hasattr(model, "__dict__"):
        with _PLAN_LOCK:   # app sessions share the default model across threads
            cache = model.__dict__.setdefault("_plan_cache", {})
            if len(cache) >= PLAN_CACHE_SIZE:
                cache.pop(next(iter(cache)))
            cache[key] = (_fitted_state(model), plan)   # keeps the fitted objects alive: their ids stay unique
    return plan


def _fitted_state(model: Any) -> tuple:
    """The fitted attributes a plan depends on: which GPUs were measured, the largest training size, the
    interval tables and the sources (a refit or a new artifact replaces these objects; the physics constants and
    the correction are applied per request, outside the plan)."""
    return tuple(getattr(model, name, None) for name in
                 ("gpu_rows_", "train_gpus_", "train_max_params_b_", "intervals_", "gpu_sources_"))


def _plan_key(configs: pd.DataFrame, model: Any, db_path) -> tuple | None:
    """Memo key of a plan: the configurations' values, the model's fitted objects (by identity) and the
    catalogue's version (store path and mtime); None when the configurations cannot be hashed."""
    from seal.data.catalogue import catalogue_version

    try:
        values = tuple(tuple(None if pd.isna(v) else v for v in configs[col].tolist()) for col in configs.columns)
        key = (tuple(configs.columns), values, tuple(map(id, _fitted_state(model))), catalogue_version(db_path))
        hash(key)
    except TypeError:
        return None
    return key


def _build_plan(configs: pd.DataFrame, model: Any, db_path=None) -> dict[str, Any]:
    """The plan of :func:`config_plan`, computed."""
    from seal.data.gpus import load_gpus
    from seal.estimator.model import physics_frame

    gpus_table = load_gpus()
    sizes = resolve_sizes(configs, db_path=db_path)
    setup = serving_setup(configs, sizes, gpus_table)
    size = {col: sizes[col].to_numpy() for col in ("params_b", "active_params_b", "params_low_b", "params_high_b",
                                                    "active_params_low_b", "active_params_high_b")}
    batch = setup["batch_size"].to_numpy()
    eager = batch <= 1.0
    # the physics frame of the configurations (GPU count and tokens are set per request)
    per_config = physics_frame(pd.DataFrame({
        "params_b": sizes["params_b"], "active_params_b": sizes["active_params_b"],
        "bytes_per_param": setup["bytes_per_param"], "quant_scheme": setup["quant_scheme"],
        "compute_dtype": setup["compute_dtype"], "gpu": setup["gpu_model"], "gpus": 1.0,
        "batch_size": setup["batch_size"], "input_tokens": 0.0, "output_tokens": 0.0, "eager": eager},
        index=configs.index), gpus_table)
    base = {col: per_config[col].to_numpy() for col in per_config.columns
            if col not in ("scheme", "gpus", "t_in", "t_out")}
    # no quantized weights: no per-request scheme strings (physics.quant_costs reads None as "none quantized")
    base["scheme"] = per_config["scheme"].to_numpy() if per_config["quantized"].any() else None
    physics_at = {end: {**base, "n_tot": size[p], "n_act": size[a]} for end, (p, a) in SIZE_ENDS.items()}

    gpu_rows = getattr(model, "gpu_rows_", None) or {g: {"eager": MIN_GPU_ROWS, "served": MIN_GPU_ROWS}
                                                     for g in getattr(model, "train_gpus_", [])}
    gpu_model = setup["gpu_model"].to_numpy(dtype=object)
    transferred = _per_gpu_regime(
        gpu_model, eager, lambda g, e: gpu_rows.get(g, {}).get("eager" if e else "served", 0) < MIN_GPU_ROWS
    ).astype(bool)
    extrapolated = size["params_high_b"] > getattr(model, "train_max_params_b_", np.inf)
    log_bounds = {phase: _situation_bounds(model, phase, transferred, extrapolated, eager)
                  for phase in ("prefill", "decode", "request")}
    basis = np.where(transferred, "transferred-gpu",
                     np.where(extrapolated, "extrapolated-size", "regression")).astype(object)
    gpu_sources = getattr(model, "gpu_sources_", {})
    sources = [_per_gpu_regime(gpu_model, eager, lambda g, e, lat=lat: _sources(g, e, lat, gpu_sources))
               for lat in (False, True)]

    def differs(end: str) -> np.ndarray:
        p, a = SIZE_ENDS[end]
        return (size[p] != size["params_b"]) | (size[a] != size["active_params_b"])

    return {
        "size": size, "batch": batch, "eager": eager,
        "user_gpus": setup["user_gpus"].to_numpy(), "bytes_per_param": setup["bytes_per_param"].to_numpy(),
        "memory_gb": setup["memory_gb"].to_numpy(),
        "kv_per_token": kv_bytes_per_token(size["params_high_b"], size["active_params_high_b"]),
        "default_setup": setup["default_setup"].to_numpy(dtype=bool),
        "gpu_model": gpu_model, "precision": setup["precision"].to_numpy(dtype=object),
        "physics": physics_at,
        "ranged": (size["params_low_b"] != size["params_high_b"])
                  | (size["active_params_low_b"] != size["active_params_high_b"]),
        "differs_low": differs("low"), "differs_high": differs("high"),
        "size_unpublished": sizes["size_unpublished"].to_numpy(dtype=bool),
        "size_from_name": sizes["size_from_name"].to_numpy(dtype=bool),
        "transferred": transferred, "extrapolated": extrapolated,
        "log_bounds": log_bounds,
        "exp_bounds": {phase: tuple(np.exp(q) for q in qs) for phase, qs in log_bounds.items()},
        "basis_labels": np.concatenate([basis, basis + "+latency", np.array(["latency"], dtype=object)]),
        "sources_labels": np.concatenate(sources),
    }


def estimate_energy(frame: pd.DataFrame, model: Any = None, db_path=None) -> pd.DataFrame:
    """Add per-request GPU energy (J) with its 80 % interval to a prepared request frame.

    Args:
        frame: the frame from :func:`seal.logs.normalize.prepare_requests` (columns of
            :data:`seal.columns.INPUT_COLUMNS`; token counts filled; model/gpu/... may be missing).
        model: a fitted :class:`seal.estimator.model.EnergyModel` (with ``intervals_``), or an artifact path;
            default the shipped artifact ``data/artifacts/energy_model.json``.
        db_path: store for the model catalogue (default: the store if present, else EcoLogits' catalogue).

    Returns:
        A new frame: every input column plus :data:`seal.columns.ENERGY_COLUMNS`, the resolved ``gpu_model``,
        ``gpus``, ``batch_size``, ``precision``, ``params_b``, ``active_params_b``, ``params_low_b``,
        ``params_high_b`` and the per-phase intervals ``prefill_energy_low_j`` ... ``decode_energy_high_j``.

    Raises:
        SealError: an unknown model without a size, an unknown GPU or precision, impossible counts.
    """
    from seal.estimator.artifact import shared_model
    from seal.logs.normalize import labels_column, with_columns

    if model is None or isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        model = shared_model(model)
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    if len(out) == 0:
        for col in ("prefill_energy_j", "decode_energy_j", "gpu_energy_j", "gpu_energy_low_j", "gpu_energy_high_j",
                    "gpu_time_s", *ADDED_COLUMNS):
            out[col] = pd.Series(dtype=float)
        for col in ("estimate_basis", "sources", "warnings"):
            out[col] = pd.Series(dtype=object)
        return out
    # Everything but the token counts (and latency) is a property of the request's configuration: resolve
    # sizes, serving set-up and flags once per distinct configuration (the plan), then broadcast with `cfg`.
    cfg, configs = configurations(out)
    plan = config_plan(configs, model, db_path)
    size = plan["size"]
    counts_in, counts_out = _num(out, "input_tokens"), _num(out, "output_tokens")
    t_in, t_out = _tokens(counts_in), _tokens(counts_out)
    context = np.nan_to_num(counts_in) + np.nan_to_num(counts_out)
    batch_cfg, eager_cfg = plan["batch"], plan["eager"]
    gpus, too_few_gpus = gpu_counts(plan["user_gpus"][cfg], size["params_high_b"][cfg],
                                    plan["bytes_per_param"][cfg], plan["memory_gb"][cfg],
                                    plan["kv_per_token"][cfg], batch_cfg[cfg], context)

    def run(end: str, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Physics + correction for the requests ``rows`` (all when None) at the ``end`` of the size range."""
        take = cfg if rows is None else cfg[rows]
        pick = (lambda a: a) if rows is None else (lambda a: a[rows])  # noqa: E731
        return model.predict_physics(request_physics_frame(plan["physics"][end], take, pick(gpus), pick(t_in),
                                                           pick(t_out)))

    mid = run("mid")
    ranged_cfg = plan["ranged"]
    ranged = ranged_cfg[cfg]
    low = _with_rows(mid, run, "low", plan["differs_low"][cfg])
    high = _with_rows(mid, run, "high", plan["differs_high"][cfg])

    gpu_cfg = plan["gpu_model"]
    transferred_cfg, extrapolated_cfg = plan["transferred"], plan["extrapolated"]
    transferred, extrapolated = transferred_cfg[cfg], extrapolated_cfg[cfg]

    res: dict[str, np.ndarray] = {}
    bounds = {phase: tuple(q[cfg] for q in plan["exp_bounds"][phase]) for phase in ("prefill", "decode", "request")}
    for phase in ("prefill", "decode"):
        exp_lo, exp_hi = bounds[phase]
        e = mid[f"{phase}_energy_j"]
        res[f"{phase}_energy_j"] = e
        res[f"{phase}_energy_low_j"] = np.minimum(low[f"{phase}_energy_j"], e) * exp_lo
        res[f"{phase}_energy_high_j"] = np.maximum(high[f"{phase}_energy_j"], e) * exp_hi
    total = res["prefill_energy_j"] + res["decode_energy_j"]
    total_low = (np.minimum(low["prefill_energy_j"] + low["decode_energy_j"], total)) * bounds["request"][0]
    total_high = (np.maximum(high["prefill_energy_j"] + high["decode_energy_j"], total)) * bounds["request"][1]
    gpu_time = mid["prefill_gpu_time_s"] + mid["decode_gpu_time_s"]

    # ------------------------------------------------ latency path: energy ~= power x share of GPU time
    latency = _num(out, "latency_s")
    ttft = _num(out, "ttft_s")
    has_lat = np.isfinite(latency) & (latency > 0)
    # estimate_basis as codes into the plan's basis labels (per configuration, "+latency" variants, "latency"):
    # built as a text column once at the end (see labels_column) instead of per-row string concatenation
    n_cfg = len(configs)
    basis_labels = plan["basis_labels"]
    basis_code = cfg
    latency_driven = np.zeros(len(out), dtype=bool)
    if has_lat.any():
        gpus_n, batch = gpus, batch_cfg[cfg]
        r_lo, r_hi = (q[cfg] for q in plan["log_bounds"]["request"])
        has_ttft = np.isfinite(ttft) & (ttft >= 0) & (ttft <= latency)
        pred_pf_t = np.maximum(mid["prefill_gpu_time_s"], 1e-12)
        pred_dc_t = np.maximum(mid["decode_gpu_time_s"], 1e-12)
        share_pf = np.where(has_ttft, ttft / np.where(has_lat, latency, 1.0), pred_pf_t / (pred_pf_t + pred_dc_t))
        lat_time = gpus_n * np.where(has_lat, latency, 0.0) / batch
        e_lat_pf = mid["prefill_power_w"] * lat_time * share_pf
        e_lat_dc = mid["decode_power_w"] * lat_time * (1.0 - share_pf)
        e_lat = e_lat_pf + e_lat_dc
        sd_size = np.maximum((r_hi - r_lo) / (2 * INTERVAL_Z), 1e-3)
        sd_known = float(getattr(model, "latency_log_sd_", LATENCY_LOG_SD_KNOWN_BATCH))
        sd_lat = np.where(plan["default_setup"][cfg], LATENCY_LOG_SD_DEFAULT_BATCH, sd_known)
        w_lat = np.where(has_lat, 1.0 / sd_lat ** 2, 0.0)
        w_size = 1.0 / sd_size ** 2
        frac = w_lat / (w_lat + w_size)
        blended = np.exp((1 - frac) * np.log(np.maximum(total, 1e-12)) + frac * np.log(np.maximum(e_lat, 1e-12)))
        scale_pf = np.where(has_lat, blended / np.maximum(total, 1e-12), 1.0)
        # keep the latency's prefill/decode split where it drove the result
        pf_new = np.where(frac > 0.5, blended * e_lat_pf / np.maximum(e_lat, 1e-12), res["prefill_energy_j"] * scale_pf)
        dc_new = blended - pf_new
        sd_blend = 1.0 / np.sqrt(w_lat + w_size)
        for phase, new in (("prefill", pf_new), ("decode", dc_new)):
            old = res[f"{phase}_energy_j"]
            ratio = np.where(has_lat, new / np.maximum(old, 1e-12), 1.0)
            res[f"{phase}_energy_j"] = np.where(has_lat, new, old)
            res[f"{phase}_energy_low_j"] = np.where(has_lat, np.minimum(res[f"{phase}_energy_low_j"] * ratio, new * np.exp(-INTERVAL_Z * sd_blend)), res[f"{phase}_energy_low_j"])
            res[f"{phase}_energy_high_j"] = np.where(has_lat, np.maximum(res[f"{phase}_energy_high_j"] * ratio, new * np.exp(INTERVAL_Z * sd_blend)), res[f"{phase}_energy_high_j"])
        total_new = res["prefill_energy_j"] + res["decode_energy_j"]
        narrow_lo = total_new * np.exp(-INTERVAL_Z * sd_blend)
        narrow_hi = total_new * np.exp(INTERVAL_Z * sd_blend)
        # the size range of a closed model still bounds the blended result
        range_lo = total_low / np.maximum(total, 1e-12) * total_new
        range_hi = total_high / np.maximum(total, 1e-12) * total_new
        total_low = np.where(has_lat, np.minimum(narrow_lo, np.where(ranged, range_lo, narrow_lo)), total_low)
        total_high = np.where(has_lat, np.maximum(narrow_hi, np.where(ranged, range_hi, narrow_hi)), total_high)
        total = np.where(has_lat, total_new, total)
        gpu_time = np.where(has_lat, lat_time, gpu_time)
        latency_driven = has_lat & (frac > 0.5)
        basis_code = np.where(latency_driven, 2 * n_cfg, cfg + n_cfg * has_lat)

    # ------------------------------------------------ sources and warnings
    sources_labels, sources_code = plan["sources_labels"], cfg + n_cfg * latency_driven

    existing = out["warnings"] if "warnings" in out else pd.Series([""] * len(out), index=out.index)
    warnings = _add_codes(existing, {
        "default-serving-setup": plan["default_setup"][cfg],
        # a range alone is not an unpublished size: leaderboard rounding (±0.5 B) and name sizes (±10 %) have one too
        "model-arch-not-released": (ranged_cfg & plan["size_unpublished"])[cfg],
        "params-from-name": plan["size_from_name"][cfg],
        "transferred-gpu": transferred,
        "extrapolated-size": extrapolated,
        "latency-driven": latency_driven,
        "gpus-below-memory": too_few_gpus,
    })

    columns = {col: size[col][cfg] for col in ("params_b", "active_params_b", "params_low_b", "params_high_b")}
    columns.update({
        "gpu_model": labels_column(gpu_cfg, cfg, out.index),
        "gpus": gpus.astype(np.int64),
        "batch_size": batch_cfg[cfg],
        "precision": labels_column(plan["precision"], cfg, out.index),
    })
    columns.update({col: res[col] for col in ("prefill_energy_j", "prefill_energy_low_j", "prefill_energy_high_j",
                                              "decode_energy_j", "decode_energy_low_j", "decode_energy_high_j")})
    columns.update({
        "gpu_energy_j": total,
        "gpu_energy_low_j": np.minimum(total_low, total),
        "gpu_energy_high_j": np.maximum(total_high, total),
        "gpu_time_s": gpu_time,
        "estimate_basis": labels_column(basis_labels, basis_code, out.index),
        "sources": labels_column(sources_labels, sources_code, out.index),
        "warnings": warnings,
    })
    return with_columns(out, columns)
