"""``estimate_energy``: per-request prefill and decode GPU energy (J) with an 80 % interval, vectorised.

Steps, one small function each: resolve the model's size (catalogue, or the user's ``params_b``), resolve the
GPU, fill the documented default serving set-up, pick the GPU count, run the fitted physics model
(:mod:`seal.estimator.model`), attach the interval calibrated on held-out residuals, blend with a measured
latency when one is given, and label the basis, sources and warnings.
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seal.errors import SealError
from seal.frames import add_codes, blank, labels_column, object_column, with_columns
from seal.frames import numeric_column as _num

from seal.estimator import defaults as D
from seal.estimator.defaults import (DEFAULT_BATCH_SIZE, DEFAULT_ENGINE, DEFAULT_ENGINE_BATCH1, DEFAULT_GPU,
                                     DEFAULT_INTERVALS, DEFAULT_PRECISION, DEFAULT_PRECISION_NO_BF16, INTERVAL_Z,
                                     LATENCY_LOG_SD_DEFAULT_BATCH, MIN_GPU_ROWS)

ADDED_COLUMNS = ("gpu_model", "engine", "params_low_b", "params_high_b", "prefill_energy_low_j", "prefill_energy_high_j",
                 "decode_energy_low_j", "decode_energy_high_j")


def _map_unique(s: pd.Series, func, missing=None) -> np.ndarray:
    """Apply ``func`` to each distinct value of ``s`` once (``missing`` for NaN/None); object array per row."""
    codes, uniques = pd.factorize(pd.Series(s), use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    for i, u in enumerate(uniques):
        values[i] = func(u)
    values[-1] = missing
    return values[codes]


def catalogue_sizes(models: pd.Series, db_path=None) -> tuple[pd.DataFrame, np.ndarray]:
    """Catalogue rows for ``models`` (:func:`seal.data.catalogue.resolve_models`), completed from the published
    architecture table where the catalogue has no size (or only one read from the name), and for MoE rows
    without an active count; plus the mask of names that are still unknown (no size anywhere)."""
    from seal.data.catalogue import NAME_CATALOGUE_SOURCE, resolve_models
    from seal.estimator.shapes import architecture_sizes

    cat = resolve_models(models, db_path=db_path)
    bad = ~cat["found"].to_numpy() | cat["params_b"].isna().to_numpy()
    # a name resolved to a Hugging Face id (runtime tag, provider id) is looked up in the shape table by that id
    keys = models.astype(object).where(cat["model_key"].isna().to_numpy() | bad, cat["model_key"].to_numpy())
    # a size read from the name only, or no size at all: the published shape table's exact size where it has one
    weak = bad | cat["catalogue_source"].eq(NAME_CATALOGUE_SOURCE).to_numpy(dtype=bool, na_value=False)
    if weak.any():
        arch = architecture_sizes(keys[weak])
        has = arch["params_b"].notna().to_numpy()
        if has.any():
            cat = cat.copy()
            rows = np.flatnonzero(weak)[has]
            for col in ("params_b", "params_low_b", "params_high_b"):
                cat.iloc[rows, cat.columns.get_loc(col)] = arch["params_b"].to_numpy()[has]
            for col in ("active_params_b", "active_params_low_b", "active_params_high_b"):
                cat.iloc[rows, cat.columns.get_loc(col)] = arch["active_params_b"].to_numpy()[has]
            cat.iloc[rows, cat.columns.get_loc("found")] = True
            cat.iloc[rows, cat.columns.get_loc("catalogue_source")] = "model_architectures"
            cat.iloc[rows, cat.columns.get_loc("open_weights")] = True
            bad = ~cat["found"].to_numpy(dtype=bool) | cat["params_b"].isna().to_numpy()
    # an MoE whose catalogue entry has no active count (Open LLM Leaderboard rows): the published table's
    # active share, not "all parameters active"
    no_active = cat["active_params_b"].isna().to_numpy() & ~bad
    if no_active.any():
        arch = architecture_sizes(keys[no_active])
        share = (arch["active_params_b"] / arch["params_b"]).to_numpy()
        has = np.isfinite(share) & (share < 1.0)
        if has.any():
            cat = cat.copy()
            rows = np.flatnonzero(no_active)[has]
            for col, total in (("active_params_b", "params_b"), ("active_params_low_b", "params_low_b"),
                               ("active_params_high_b", "params_high_b")):
                base = cat[total].fillna(cat["params_b"]).to_numpy(dtype=float)[rows]
                cat.iloc[rows, cat.columns.get_loc(col)] = base * share[has]
    return cat, bad


def unknown_models(frame: pd.DataFrame, db_path=None, *, model: str | None = None,
                   params_b: float | None = None) -> np.ndarray:
    """Rows whose model no catalogue or table knows and that give no ``params_b`` (``model`` / ``params_b``:
    the defaults that fill blank cells). A log's reader sets these apart, so one unknown model never stops a file.
    Decided once per distinct name and catalogue version (every batch of a log repeats the same few names)."""
    n = len(frame)
    if params_b is not None or "model" not in frame and model is None:
        return np.zeros(n, dtype=bool)
    from seal.data.catalogue import catalogue_version

    models = object_column(frame, "model")
    codes, uniques = pd.factorize(models.astype(object), use_na_sentinel=True)
    names = [str(u).strip() for u in uniques]
    fill = (model or "").strip()
    names = [nm or fill for nm in names] + [fill]                 # last: missing cells, filled by the default
    distinct = tuple(sorted(set(names)))                          # a cache key every batch of the log shares
    verdict = dict(zip(distinct, _unknown_names(catalogue_version(db_path), distinct, db_path)))
    unknown = np.array([verdict[nm] for nm in names], dtype=bool)
    return unknown[np.where(codes >= 0, codes, len(names) - 1)] & np.isnan(_num(frame, "params_b"))


@functools.lru_cache(maxsize=256)
def _unknown_names(version: tuple, names: tuple[str, ...], db_path=None) -> np.ndarray:
    """Per name (blank: not unknown, a missing model is a bad row of its own): no size anywhere."""
    out = np.zeros(len(names), dtype=bool)
    todo = [i for i, nm in enumerate(names) if nm]
    if todo:
        out[todo] = catalogue_sizes(pd.Series([names[i] for i in todo], dtype=object), db_path)[1]
    out.setflags(write=False)
    return out


# Each size column read off the catalogue: the first non-missing of these catalogue columns.
_CATALOGUE_SIZE_FILLS = {
    "params_b": ("params_b",), "params_low_b": ("params_low_b", "params_b"),
    "params_high_b": ("params_high_b", "params_b"), "active_params_b": ("active_params_b", "params_b"),
    "active_params_low_b": ("active_params_low_b", "active_params_b", "params_low_b", "params_b"),
    "active_params_high_b": ("active_params_high_b", "active_params_b", "params_high_b", "params_b"),
}


def _first_of(cat: pd.DataFrame, cols: tuple[str, ...]) -> np.ndarray:
    """Per catalogue row, the first non-missing value of ``cols`` (NaN where all are missing)."""
    values = cat[cols[0]]
    for col in cols[1:]:
        values = values.fillna(cat[col])
    return values.to_numpy()


def _user_sizes(user_p: np.ndarray, user_a: np.ndarray, models: pd.Series) -> dict[str, np.ndarray]:
    """The columns of :func:`resolve_sizes` from the user's ``params_b`` / ``active_params_b`` alone (NaN, None or
    blank where the catalogue has to fill them), in the frame's column order."""
    n = len(user_p)
    return {
        "params_b": user_p.copy(), "active_params_b": user_a.copy(),
        "params_low_b": user_p.copy(), "params_high_b": user_p.copy(),
        "active_params_low_b": user_a.copy(), "active_params_high_b": user_a.copy(),
        "catalogue_tps": np.full(n, np.nan), "catalogue_ttft_s": np.full(n, np.nan),
        "size_from_name": np.zeros(n, dtype=bool), "size_unpublished": np.zeros(n, dtype=bool),
        # how each name was resolved (seal.data.catalogue.RESOLUTION_COLUMNS); a row giving params_b is sized by it
        "model_resolved": np.full(n, None, dtype=object),
        "resolution": np.where(np.isnan(user_p), "missing", "params_b").astype(object),
        "name_precision": np.full(n, None, dtype=object), "resolution_warnings": np.full(n, "", dtype=object),
        "shape_key": models.to_numpy(dtype=object, copy=True),
    }


def _fill_from_catalogue(sizes: dict[str, np.ndarray], idx: np.ndarray, cat: pd.DataFrame,
                         user_a: np.ndarray) -> None:
    """Write the catalogue rows ``cat`` into ``sizes`` at rows ``idx`` (in place); a user-given active size stays."""
    from seal.data.catalogue import NAME_CATALOGUE_SOURCE

    no_user_a = np.isnan(user_a[idx])
    for col, fills in _CATALOGUE_SIZE_FILLS.items():
        values = _first_of(cat, fills)
        sizes[col][idx] = np.where(no_user_a, values, user_a[idx]) if col.startswith("active_") else values
    sizes["catalogue_tps"][idx], sizes["catalogue_ttft_s"][idx] = cat["tps"].to_numpy(), cat["ttft_s"].to_numpy()
    # where the catalogue's range comes from: a size read from the name, or a closed model's unpublished size
    sizes["size_from_name"][idx] = cat["catalogue_source"].eq(NAME_CATALOGUE_SOURCE).to_numpy(dtype=bool,
                                                                                              na_value=False)
    sizes["size_unpublished"][idx] = cat["open_weights"].eq(False).to_numpy(dtype=bool, na_value=False)
    for col in ("model_resolved", "resolution", "name_precision"):
        sizes[col][idx] = cat[col].to_numpy(dtype=object)
    sizes["resolution_warnings"][idx] = cat["resolution_warnings"].fillna("").to_numpy(dtype=object)
    # the catalogue's id (a runtime tag's or a provider id's Hugging Face model) finds the published shape
    key = sizes["shape_key"]
    key[idx] = np.where(cat["found"].to_numpy(dtype=bool) & cat["model_key"].notna().to_numpy(),
                        cat["model_key"].to_numpy(dtype=object), key[idx])


def _complete_sizes(sizes: dict[str, np.ndarray], user_p: np.ndarray) -> None:
    """Check the sizes (SealError: none, or not positive) and complete them in place: active sizes default to the
    total and are capped by it; the catalogue's size flags hold only where the user gave no ``params_b``."""
    p, a = sizes["params_b"], sizes["active_params_b"]
    lo, hi, alo, ahi = (sizes[c] for c in ("params_low_b", "params_high_b", "active_params_low_b",
                                           "active_params_high_b"))
    if np.isnan(p).any():
        raise SealError("A request has neither a known model nor params_b; give a model name or its size in billions.")
    if (p <= 0).any() or (~np.isnan(a) & (a <= 0)).any():
        raise SealError("params_b and active_params_b must be positive numbers of billions of parameters.")
    sizes["active_params_b"] = np.where(np.isnan(a), p, np.minimum(a, p))
    # a user-given active size without total keeps the catalogue ratio; active is capped by total
    sizes["active_params_low_b"] = np.minimum(np.where(np.isnan(alo), lo, alo), lo)
    sizes["active_params_high_b"] = np.minimum(np.where(np.isnan(ahi), hi, ahi), hi)
    for flag in ("size_from_name", "size_unpublished"):
        sizes[flag] = sizes[flag] & np.isnan(user_p)


def resolve_sizes(frame: pd.DataFrame, db_path=None) -> pd.DataFrame:
    """Total/active params (B) and their range per row: user's ``params_b`` / ``active_params_b`` override
    the catalogue. Raises SealError naming models that are unknown and have no size."""
    user_p, user_a = _num(frame, "params_b"), _num(frame, "active_params_b")
    models = object_column(frame, "model")
    sizes = _user_sizes(user_p, user_a, models)
    need = np.isnan(user_p) & ~blank(models)
    if need.any():
        cat, bad = catalogue_sizes(models[need], db_path)
        if bad.any():
            names = pd.unique(models[need][bad].astype(str))[:5]
            raise SealError(
                f"Unknown model {', '.join(map(repr, names))} and no params_b given; use a model from the "
                "catalogue (the app's model picker, seal.data.catalogue.list_models) or give its size with params_b (billions).")
        _fill_from_catalogue(sizes, np.flatnonzero(need), cat, user_a)
    _complete_sizes(sizes, user_p)
    return pd.DataFrame(sizes, index=frame.index)


def resolve_engine(engine_in: pd.Series, batch: np.ndarray, batch_given: np.ndarray) -> tuple[np.ndarray, ...]:
    """Engine per row (a name of :data:`seal.estimator.defaults.ENGINES`), where it was the default, and where a
    named engine is costed as another (SGLang, TensorRT-LLM, TGI as current vLLM). A row naming none gets
    ``DEFAULT_ENGINE`` (current vLLM), or ``DEFAULT_ENGINE_BATCH1`` (eager transformers) when it gives
    ``batch_size <= 1``."""
    unnamed = blank(engine_in)

    def one(u) -> str:
        key = str(u).strip().lower().replace("_", "-").replace(" ", "-")
        if key in D.ENGINE_ALIASES:
            return D.ENGINE_ALIASES[key]
        if key in D.APPROXIMATED_ENGINES:
            return "~" + D.APPROXIMATED_ENGINES[key]
        raise SealError(f"Unknown engine {str(u)!r}; accepted: {', '.join(D.ENGINES)} "
                        f"(or {', '.join(sorted(D.APPROXIMATED_ENGINES))}, costed as vllm).")

    named = _map_unique(engine_in.where(~pd.Series(unnamed, index=engine_in.index), None), one, missing="")
    approximated = np.array([str(v).startswith("~") for v in named], dtype=bool)
    named = np.array([str(v).lstrip("~") for v in named], dtype=object)
    default = np.where(batch_given & (batch <= 1.0), DEFAULT_ENGINE_BATCH1, DEFAULT_ENGINE)
    engine = np.where(unnamed, default, named).astype(object)
    return engine, unnamed, approximated


def resolve_precision(prec_in: pd.Series) -> np.ndarray:
    """Canonical precision names (:data:`seal.estimator.defaults.PRECISIONS`; aliases accepted, blank stays
    blank). Raises SealError naming an unknown one and listing the accepted."""
    def one(u) -> str:
        key = "-".join(str(u).strip().lower().replace("_", " ").split())
        if not key:
            return ""
        key = D.PRECISION_ALIASES.get(key, D.PRECISION_ALIASES.get(key.replace("-", "_"), key))
        if key not in D.PRECISIONS:
            raise SealError(f"Unknown precision {str(u)!r}; accepted: {', '.join(D.PRECISIONS)} "
                            f"(aliases: {', '.join(D.PRECISION_ALIASES)}).")
        return key

    return _map_unique(prec_in, one, missing="")


def _gpu_names(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Canonical GPU name per row (``DEFAULT_GPU`` where none is given), and where it was the default."""
    from seal.data.gpus import resolve_gpu

    gpu_in = object_column(frame, "gpu")
    gpu_default = blank(gpu_in)
    gpu = resolve_gpu(gpu_in.astype(object).where(~gpu_default, None)).to_numpy(dtype=object, copy=True)
    gpu[gpu_default] = DEFAULT_GPU
    return gpu, gpu_default


def _batch_sizes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Batch size per row (mean concurrent requests; ``DEFAULT_BATCH_SIZE`` where none is given), and where it was
    the default. Raises SealError for one below 1."""
    batch = _num(frame, "batch_size")
    batch_default = np.isnan(batch)
    batch = np.where(batch_default, DEFAULT_BATCH_SIZE, batch)
    if (batch < 1).any() or not np.isfinite(batch).all():
        raise SealError("batch_size must be a number of at least 1 (the mean number of requests served "
                        "concurrently; fractions such as 31.99 are accepted).")
    return batch, batch_default


def _stated_precisions(frame: pd.DataFrame, sizes: pd.DataFrame
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision per row: the one given, else the model's native low-precision format, else the one its name states;
    plus where none applies (the default follows), where the native and where the named format were used."""
    from seal.estimator.shapes import native_precisions

    n = len(frame)
    prec = resolve_precision(object_column(frame, "precision"))
    prec_default = prec == ""
    # no precision given: a model published only in a low-precision format (gpt-oss in MXFP4, DeepSeek-V3 in FP8)
    # is served in it; others in the default 16-bit format
    names = sizes["shape_key"] if "shape_key" in sizes else frame["model"] if "model" in frame else None
    native = native_precisions(names) if names is not None else np.full(n, "", dtype=object)
    use_native = prec_default & np.isin(native, ["fp8", "mxfp4", "nvfp4"])
    prec = np.where(use_native, native, prec).astype(object)
    prec_default = prec_default & ~use_native
    # the weights' format a name or runtime tag states (GGUF Q4_K_M, -fp8, -awq, Ollama's default quantisation);
    # not for a catalogue entry found as written, whose size may already count packed low-bit weights
    stated = sizes["name_precision"].to_numpy(dtype=object) if "name_precision" in sizes else np.full(n, None)
    how = sizes["resolution"].to_numpy(dtype=object) if "resolution" in sizes else np.full(n, "", dtype=object)
    use_named = prec_default & pd.notna(stated) & ~np.isin(how, ["exact", "normalised"])
    prec = np.where(use_named, stated, prec).astype(object)
    return prec, prec_default & ~use_named, use_native, use_named


def _precision_specs(prec: np.ndarray, no_bf16: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the precision's bytes per weight, its compute format and its eager kernel scheme."""
    spec = [D.PRECISIONS[p] for p in prec]
    bpp = np.array([p.bytes_per_weight for p in spec], dtype=float)
    compute = np.array([p.compute for p in spec], dtype=object)
    # weight-only formats compute in the activations' 16-bit format: float16 where the GPU lacks BF16
    compute = np.where((compute == "bf16") & no_bf16 & (prec != "bfloat16"), "fp16", compute)
    scheme = np.array([p.eager_scheme for p in spec], dtype=object)
    return bpp, compute, scheme


def _user_gpu_counts(frame: pd.DataFrame) -> np.ndarray:
    """The user's GPU count per row (NaN where not given). Raises SealError for one that is not a whole number >= 1."""
    gpus = _num(frame, "gpus")
    if (~np.isnan(gpus) & ((gpus < 1) | (gpus != np.round(gpus)))).any():
        raise SealError("gpus must be a whole number of at least 1.")
    return gpus


def serving_setup(frame: pd.DataFrame, sizes: pd.DataFrame, gpus_table: pd.DataFrame) -> pd.DataFrame:
    """GPU (canonical), engine, batch size (mean concurrent requests, a float >= 1), precision, bytes per
    weight, compute format, eager kernel scheme, the GPU's memory and the user's GPU count (``user_gpus``, NaN
    where not given), with defaults flagged. The GPU count itself depends on the request's context (KV cache):
    see :func:`gpu_counts`."""
    facts = gpus_table.set_index("gpu")
    gpu, gpu_default = _gpu_names(frame)
    batch, batch_default = _batch_sizes(frame)
    engine, engine_default, engine_approx = resolve_engine(object_column(frame, "engine"), batch, ~batch_default)
    prec, prec_default, use_native, use_named = _stated_precisions(frame, sizes)
    no_bf16 = _map_unique(pd.Series(gpu), lambda u: str(facts.loc[u].get("bf16_supported", True)).lower() == "false",
                          missing=False).astype(bool)
    prec = np.where(prec_default, np.where(no_bf16, DEFAULT_PRECISION_NO_BF16, DEFAULT_PRECISION), prec).astype(object)
    bpp, compute, scheme = _precision_specs(prec, no_bf16)
    memory = _map_unique(pd.Series(gpu), lambda u: float(facts.loc[u, "memory_gb"])).astype(float)
    gpus = _user_gpu_counts(frame)
    obj = lambda a: pd.Series(a, index=frame.index, dtype=object)  # noqa: E731  (keep object: no str conversion)
    return pd.DataFrame({"gpu_model": obj(gpu), "engine": obj(engine), "batch_size": batch,
                         "precision": obj(prec), "compute": obj(compute),
                         "bytes_per_param": bpp, "quant_scheme": obj(scheme), "memory_gb": memory,
                         "user_gpus": gpus, "default_setup": gpu_default | batch_default,
                         "default_engine": engine_default, "engine_approximated": engine_approx,
                         "native_precision": use_native, "named_precision": use_named},
                        index=frame.index)


def gpu_counts(user_gpus: np.ndarray, params_high_b: np.ndarray, bytes_per_param: np.ndarray,
               memory_gb: np.ndarray, kv_sequence_bytes: np.ndarray, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GPUs per request: the user's count, else the fewest that hold the weights of the largest size in the
    model's range plus the batch's KV cache at this request's context (power of two). Also returns where the
    user's count is below that need (the weights and cache cannot fit: warning ``gpus-below-memory``)."""
    from seal.estimator import physics

    kv_gb = batch * kv_sequence_bytes / 1e9
    need = physics.gpu_required_count(params_high_b, bytes_per_param, memory_gb, kv_gb)
    given = ~np.isnan(user_gpus)
    return np.where(given, user_gpus, need), given & (user_gpus * memory_gb < params_high_b * bytes_per_param)


def kv_sequence_bytes(plan, cfg: np.ndarray, context: np.ndarray) -> np.ndarray:
    """KV-cache bytes of each request's sequence at its context (windowed layers hold at most their window)."""
    context = np.maximum(context, 0.0)
    full = plan.kv_full_bytes[cfg] * context
    if not plan.kv_window_bytes.any():
        return full
    return full + plan.kv_window_bytes[cfg] * np.minimum(context, plan.kv_window_tokens[cfg])


def _tokens(counts: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(counts), 0.0, np.maximum(counts, 0.0))  # negative / missing counts -> 0 tokens


def _situation_bounds(model, phase: str, transferred: np.ndarray, extrapolated: np.ndarray,
                      engine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row (log low, log high) residual quantiles of the row's engine: interpolation, widened for transfer /
    extrapolation (quadrature sum of the extra width when both apply)."""
    tables = model.intervals_ or {e: DEFAULT_INTERVALS for e in D.ENGINES}
    lo_rows, hi_rows = np.zeros(len(engine)), np.zeros(len(engine))
    for code, name in enumerate(D.ENGINES):
        mask = engine == code
        table = tables.get(name, DEFAULT_INTERVALS)
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


# Columns that, with the token counts, make up a request: all but the tokens (and latency) define its configuration.
CONFIG_COLUMNS = ("model", "params_b", "active_params_b", "gpu", "engine", "precision", "batch_size", "gpus")


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
    # one hash pass at the end (a hash pass per column is a large share of a batch's cost; see `make bench`);
    # codes in order of first appearance
    key, _ = pd.factorize(key)
    n_configs = int(key.max()) + 1 if len(key) else 0
    first = np.full(n_configs, len(key), dtype=np.int64)
    np.minimum.at(first, key, np.arange(len(key)))
    configs = frame.iloc[first][cols].reset_index(drop=True) if cols else pd.DataFrame(index=range(n_configs))
    return key.astype(np.intp), configs


def canonical_order(cfg: np.ndarray, configs: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """The configurations sorted by their values (row codes renumbered to match), so that every batch of a log
    holding the same configurations, in whatever order they first appear, meets the same memoised plan."""
    keys = [tuple(repr(None if pd.isna(v) else v) for v in row) for row in configs.itertuples(index=False)]
    order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.intp)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return rank[cfg], configs.iloc[order].reset_index(drop=True)


def request_physics_frame(per_config: dict, cfg: np.ndarray, gpus: np.ndarray,
                          t_in: np.ndarray, t_out: np.ndarray) -> dict:
    """The physics frame of requests (:func:`seal.estimator.model.physics_frame`) from the configurations' one:
    config columns (and shapes) broadcast with ``cfg``, per-request GPU count and token counts (>= 0)."""
    columns = dict(per_config)   # configuration-level arrays, gathered inside the physics (see physics.phase_times)
    columns.update(rows=np.asarray(cfg), gpus=np.asarray(gpus, dtype=float), t_in=t_in, t_out=t_out)
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


def _per_gpu_engine(gpu: np.ndarray, engine: np.ndarray, func) -> np.ndarray:
    """``func(gpu, engine name)`` per configuration, evaluated once per distinct (GPU, engine) pair (object)."""
    codes, uniques = pd.factorize(pd.Series(gpu, dtype=object), use_na_sentinel=False)
    n_eng = len(D.ENGINES)
    key, pairs = pd.factorize(codes.astype(np.int64) * n_eng + engine.astype(np.int64))
    values = np.empty(len(pairs), dtype=object)
    for j, k in enumerate(pairs):
        values[j] = func(uniques[int(k) // n_eng], D.ENGINES[int(k) % n_eng])
    return values[key]


def _sources(gpu: str, engine: str, latency_driven: bool, gpu_sources: dict) -> str:
    """``sources`` label: the benchmark of the request's engine and those holding its GPU, plus ``latency``."""
    names = sorted({D.ENGINE_SOURCES[engine], *gpu_sources.get(str(gpu), [])})
    return ";".join(names + (["latency"] if latency_driven else []))


# Size columns of each end of a model's size range (total, active).
SIZE_ENDS = {"mid": ("params_b", "active_params_b"), "low": ("params_low_b", "active_params_low_b"),
             "high": ("params_high_b", "active_params_high_b")}
PLAN_CACHE_SIZE = 64   # plans kept: one per distinct set of configurations in a batch, per model
_PLAN_LOCK = threading.Lock()
_PLANS: dict[tuple, tuple] = {}   # memo of config_plan: key -> (fitted objects kept alive, plan)


@dataclass(frozen=True)
class ConfigPlan:
    """Everything about the distinct configurations of a batch (:func:`configurations`) that does not depend on
    the requests' token counts; arrays are per configuration and read-only.

    size: total / active params and their range (billions); batch; engine (codes into defaults.ENGINES);
    user_gpus (NaN: not given); bytes_per_param; memory_gb (per GPU); kv_full_bytes / kv_window_bytes /
    kv_window_tokens (KV-cache bytes per token of full-attention / windowed layers, and the window, largest size);
    flags (default_setup, default_engine, engine_approximated, shape_from_size, size_unpublished, size_from_name,
    ranged, differs_low / differs_high, transferred, extrapolated); gpu_model; engine_name; precision;
    physics (size-range end -> physics frame); log_bounds / exp_bounds (phase -> interval quantiles);
    basis_labels / sources_labels (label codes: per configuration, '+latency' variants, 'latency').
    """

    size: dict
    batch: np.ndarray
    engine: np.ndarray
    user_gpus: np.ndarray
    bytes_per_param: np.ndarray
    memory_gb: np.ndarray
    kv_full_bytes: np.ndarray
    kv_window_bytes: np.ndarray
    kv_window_tokens: np.ndarray
    default_setup: np.ndarray
    default_engine: np.ndarray
    engine_approximated: np.ndarray
    native_precision: np.ndarray
    named_precision: np.ndarray
    model_resolved: np.ndarray
    resolution: np.ndarray
    resolution_warnings: np.ndarray
    shape_from_size: np.ndarray
    gpu_model: np.ndarray
    engine_name: np.ndarray
    precision: np.ndarray
    physics: dict
    ranged: np.ndarray
    differs_low: np.ndarray
    differs_high: np.ndarray
    size_unpublished: np.ndarray
    size_from_name: np.ndarray
    transferred: np.ndarray
    extrapolated: np.ndarray
    log_bounds: dict
    exp_bounds: dict
    basis_labels: np.ndarray
    sources_labels: np.ndarray


def config_plan(configs: pd.DataFrame, model: Any, db_path=None) -> ConfigPlan:
    """The :class:`ConfigPlan` of the distinct configurations. Every batch of a streamed log repeats the same few
    configurations, so plans are memoised (module level, keyed by the configurations, the model's fitted
    objects and the catalogue's version); an error (unknown model, GPU, engine or precision) is raised every
    time, never cached."""
    key = _plan_key(configs, model, db_path)
    if key is not None:
        hit = _PLANS.get(key)
        if hit is not None:
            return hit[1]
    plan = _build_plan(configs, model, db_path)
    if key is not None:
        with _PLAN_LOCK:   # app sessions share the default model across threads
            if len(_PLANS) >= PLAN_CACHE_SIZE:
                _PLANS.pop(next(iter(_PLANS)))
            _PLANS[key] = (_fitted_state(model), plan)   # keeps the fitted objects alive: their ids stay unique
    return plan


def _fitted_state(model: Any) -> tuple:
    """The fitted attributes a plan depends on (a refit or a new artifact replaces these objects; the physics
    constants and the correction are applied per request, outside the plan)."""
    return (model.gpu_rows_, model.train_gpus_, model.train_max_params_b_, model.intervals_, model.gpu_sources_)


def _plan_key(configs: pd.DataFrame, model: Any, db_path) -> tuple | None:
    """Memo key of a plan; None when the configurations cannot be hashed."""
    from seal.data.catalogue import catalogue_version

    try:
        values = tuple(tuple(None if pd.isna(v) else v for v in configs[col].tolist()) for col in configs.columns)
        key = (id(model), tuple(configs.columns), values, tuple(map(id, _fitted_state(model))),
               catalogue_version(db_path))
        hash(key)
    except TypeError:
        return None
    return key


def _physics_by_end(configs: pd.DataFrame, sizes: pd.DataFrame, setup: pd.DataFrame, size: dict,
                    gpus_table: pd.DataFrame) -> dict:
    """Size-range end ('mid', 'low', 'high') -> the configurations' physics frame at that end's sizes (one GPU,
    no tokens: the requests' own counts are set per batch, see :func:`request_physics_frame`)."""
    from seal.estimator.model import physics_frame
    from seal.estimator.shapes import lookup_shapes

    models = sizes["shape_key"] if "model" in configs else None
    frame = pd.DataFrame({
        "params_b": sizes["params_b"], "active_params_b": sizes["active_params_b"],
        "bytes_per_param": setup["bytes_per_param"], "quant_scheme": setup["quant_scheme"],
        "compute": setup["compute"], "engine": setup["engine"], "gpu": setup["gpu_model"], "gpus": 1.0,
        "batch_size": setup["batch_size"], "input_tokens": 0.0, "output_tokens": 0.0}, index=configs.index)
    physics_at = {}
    for end, (p, a) in SIZE_ENDS.items():
        shapes = lookup_shapes(models, size[p], size[a])
        physics_at[end] = physics_frame(frame.assign(params_b=size[p], active_params_b=size[a]), gpus_table,
                                        shapes=shapes)
    return physics_at


def _setup_fields(setup: pd.DataFrame, sizes: pd.DataFrame) -> dict[str, np.ndarray]:
    """The :class:`ConfigPlan` fields read straight off the serving set-up and the resolved sizes."""
    fields = {"batch": setup["batch_size"].to_numpy(), "user_gpus": setup["user_gpus"].to_numpy(),
              "bytes_per_param": setup["bytes_per_param"].to_numpy(), "memory_gb": setup["memory_gb"].to_numpy()}
    for field, col in (("gpu_model", "gpu_model"), ("engine_name", "engine"), ("precision", "precision")):
        fields[field] = setup[col].to_numpy(dtype=object)
    for flag in ("default_setup", "default_engine", "engine_approximated", "native_precision", "named_precision"):
        fields[flag] = setup[flag].to_numpy(dtype=bool)
    for col in ("model_resolved", "resolution", "resolution_warnings"):
        fields[col] = sizes[col].to_numpy(dtype=object)
    for flag in ("size_unpublished", "size_from_name"):
        fields[flag] = sizes[flag].to_numpy(dtype=bool)
    return fields


def _range_fields(size: dict) -> dict[str, np.ndarray]:
    """The :class:`ConfigPlan` flags of the size range: a range at all, and a low / high end unlike the mid size."""
    def differs(end: str) -> np.ndarray:
        p, a = SIZE_ENDS[end]
        return (size[p] != size["params_b"]) | (size[a] != size["active_params_b"])

    ranged = ((size["params_low_b"] != size["params_high_b"])
              | (size["active_params_low_b"] != size["active_params_high_b"]))
    return {"ranged": ranged, "differs_low": differs("low"), "differs_high": differs("high")}


def _label_fields(model: Any, gpu_model: np.ndarray, engine: np.ndarray, transferred: np.ndarray,
                  extrapolated: np.ndarray) -> dict:
    """The :class:`ConfigPlan` intervals (phase -> log and exp quantiles per configuration) and label tables
    (``estimate_basis``: per configuration, '+latency' variants, 'latency'; ``sources``: without, with latency)."""
    log_bounds = {phase: _situation_bounds(model, phase, transferred, extrapolated, engine)
                  for phase in ("prefill", "decode", "request")}
    basis = np.where(transferred, "transferred-gpu",
                     np.where(extrapolated, "extrapolated-size", "regression")).astype(object)
    sources = [_per_gpu_engine(gpu_model, engine, lambda g, e, lat=lat: _sources(g, e, lat, model.gpu_sources_))
               for lat in (False, True)]
    return {"log_bounds": log_bounds,
            "exp_bounds": {phase: tuple(np.exp(q) for q in qs) for phase, qs in log_bounds.items()},
            "basis_labels": np.concatenate([basis, basis + "+latency", np.array(["latency"], dtype=object)]),
            "sources_labels": np.concatenate(sources)}


def _build_plan(configs: pd.DataFrame, model: Any, db_path=None) -> ConfigPlan:
    """The plan of :func:`config_plan`, computed."""
    from seal.data.gpus import load_gpus

    gpus_table = load_gpus()
    sizes = resolve_sizes(configs, db_path=db_path)
    setup = serving_setup(configs, sizes, gpus_table)
    size = {col: sizes[col].to_numpy() for col in ("params_b", "active_params_b", "params_low_b", "params_high_b",
                                                    "active_params_low_b", "active_params_high_b")}
    physics_at = _physics_by_end(configs, sizes, setup, size, gpus_table)
    high_shape, engine = physics_at["high"]["shape"], physics_at["mid"]["engine"]
    gpu_model = setup["gpu_model"].to_numpy(dtype=object)
    gpu_rows = model.gpu_rows_
    transferred = _per_gpu_engine(
        gpu_model, engine, lambda g, e: gpu_rows.get(g, {}).get(e, 0) < MIN_GPU_ROWS).astype(bool)
    extrapolated = size["params_high_b"] > model.train_max_params_b_
    return ConfigPlan(
        size=size, engine=engine, physics=physics_at, transferred=transferred, extrapolated=extrapolated,
        kv_full_bytes=D.KV_BYTES * high_shape.kv_width * high_shape.full_layers,
        kv_window_bytes=D.KV_BYTES * high_shape.kv_width * high_shape.window_layers,
        kv_window_tokens=high_shape.window_tokens,
        shape_from_size=~physics_at["mid"]["shape"].published,
        **_setup_fields(setup, sizes), **_range_fields(size),
        **_label_fields(model, gpu_model, engine, transferred, extrapolated))


def latency_energy_j(mid: dict, gpus: np.ndarray, batch: np.ndarray, latency_s: np.ndarray,
                     ttft_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energy of each phase from a measured latency (J) and the request's GPU time (GPU-s): the modelled power of
    each phase x the request's share ``G x latency / B`` of the GPU time, split by ``ttft_s`` where it is given
    (and not longer than the latency), else by the model's own time split."""
    has_lat = np.isfinite(latency_s) & (latency_s > 0)
    has_ttft = np.isfinite(ttft_s) & (ttft_s >= 0) & (ttft_s <= latency_s)
    pf_t = np.maximum(mid["prefill_gpu_time_s"], 1e-12)
    dc_t = np.maximum(mid["decode_gpu_time_s"], 1e-12)
    share_pf = np.where(has_ttft, ttft_s / np.where(has_lat, latency_s, 1.0), pf_t / (pf_t + dc_t))
    lat_time = gpus * np.where(has_lat, latency_s, 0.0) / batch
    return mid["prefill_power_w"] * lat_time * share_pf, mid["decode_power_w"] * lat_time * (1.0 - share_pf), lat_time


def blend_weights(log_low: np.ndarray, log_high: np.ndarray, sd_latency: np.ndarray,
                  has_latency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-variance weight of the latency-based estimate against the size-based one (its spread read off the
    80 % interval ``[log_low, log_high]``), and the log-sd of the blend."""
    sd_size = np.maximum((log_high - log_low) / (2 * INTERVAL_Z), 1e-3)
    w_lat = np.where(has_latency, 1.0 / sd_latency ** 2, 0.0)
    w_size = 1.0 / sd_size ** 2
    return w_lat / (w_lat + w_size), 1.0 / np.sqrt(w_lat + w_size)


def _empty_estimate(out: pd.DataFrame) -> pd.DataFrame:
    """``out`` (no rows) with the estimate's columns added, empty: floats, and objects for the labels."""
    for col in ("prefill_energy_j", "decode_energy_j", "gpu_energy_j", "gpu_energy_low_j", "gpu_energy_high_j",
                "gpu_time_s", "calibration_factor", *ADDED_COLUMNS):
        out[col] = pd.Series(dtype=float)
    for col in ("estimate_basis", "sources", "warnings"):
        out[col] = pd.Series(dtype=object)
    return out


def _batch_plan(out: pd.DataFrame, model: Any, db_path) -> tuple[np.ndarray, ConfigPlan]:
    """(row -> configuration code, the :class:`ConfigPlan` of the batch's configurations in canonical order)."""
    cfg, first_seen = configurations(out)
    cfg, configs = canonical_order(cfg, first_seen)
    try:
        plan = config_plan(configs, model, db_path)
    except SealError:
        _build_plan(first_seen, model, db_path)   # raise naming the input's first bad value, not the sorted first
        raise
    return cfg, plan


def _request_gpus(plan: ConfigPlan, cfg: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gpu_counts` of each request at its context (tokens): GPUs, and where the user's count is too few."""
    return gpu_counts(plan.user_gpus[cfg], plan.size["params_high_b"][cfg], plan.bytes_per_param[cfg],
                      plan.memory_gb[cfg], kv_sequence_bytes(plan, cfg, context), plan.batch[cfg])


def _size_based_estimate(model: Any, plan: ConfigPlan, cfg: np.ndarray, gpus: np.ndarray, t_in: np.ndarray,
                         t_out: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(the physics at the mid size, the estimate's energy columns): per-phase and total energy (J) with their
    intervals (the size range's ends widened by the residual quantiles; the total's not yet clamped to contain
    ``gpu_energy_j``) and ``gpu_time_s``."""
    def run(end: str, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Physics + correction for the requests ``rows`` (all when None) at the ``end`` of the size range."""
        take = cfg if rows is None else cfg[rows]
        pick = (lambda a: a) if rows is None else (lambda a: a[rows])  # noqa: E731
        return model.predict_physics(request_physics_frame(plan.physics[end], take, pick(gpus), pick(t_in),
                                                           pick(t_out)))

    mid = run("mid")
    low = _with_rows(mid, run, "low", plan.differs_low[cfg])
    high = _with_rows(mid, run, "high", plan.differs_high[cfg])
    bounds = {phase: tuple(q[cfg] for q in plan.exp_bounds[phase]) for phase in ("prefill", "decode", "request")}
    est: dict[str, np.ndarray] = {}
    for phase in ("prefill", "decode"):
        exp_lo, exp_hi = bounds[phase]
        e = mid[f"{phase}_energy_j"]
        est[f"{phase}_energy_j"] = e
        est[f"{phase}_energy_low_j"] = np.minimum(low[f"{phase}_energy_j"], e) * exp_lo
        est[f"{phase}_energy_high_j"] = np.maximum(high[f"{phase}_energy_j"], e) * exp_hi
    total = est["prefill_energy_j"] + est["decode_energy_j"]
    est["gpu_energy_j"] = total
    req_lo, req_hi = bounds["request"]
    est["gpu_energy_low_j"] = np.minimum(low["prefill_energy_j"] + low["decode_energy_j"], total) * req_lo
    est["gpu_energy_high_j"] = np.maximum(high["prefill_energy_j"] + high["decode_energy_j"], total) * req_hi
    est["gpu_time_s"] = mid["prefill_gpu_time_s"] + mid["decode_gpu_time_s"]
    return mid, est


def _rescale_phases(est: dict[str, np.ndarray], has_lat: np.ndarray, new_j: dict[str, np.ndarray],
                    sd_blend: np.ndarray) -> None:
    """Set each phase's energy to its blended value ``new_j[phase]`` where a latency is given (in place): its
    interval scaled with it, and at least as wide as the blend's own (``sd_blend``, log-sd)."""
    for phase, new in new_j.items():
        old = est[f"{phase}_energy_j"]
        ratio = np.where(has_lat, new / np.maximum(old, 1e-12), 1.0)
        est[f"{phase}_energy_j"] = np.where(has_lat, new, old)
        lo, hi = est[f"{phase}_energy_low_j"], est[f"{phase}_energy_high_j"]
        narrow_lo, narrow_hi = new * np.exp(-INTERVAL_Z * sd_blend), new * np.exp(INTERVAL_Z * sd_blend)
        est[f"{phase}_energy_low_j"] = np.where(has_lat, np.minimum(lo * ratio, narrow_lo), lo)
        est[f"{phase}_energy_high_j"] = np.where(has_lat, np.maximum(hi * ratio, narrow_hi), hi)


def _rescale_total(est: dict[str, np.ndarray], has_lat: np.ndarray, ranged: np.ndarray, sd_blend: np.ndarray) -> None:
    """Set the total energy to the sum of the blended phases where a latency is given (in place), its interval
    the blend's own (``sd_blend``, log-sd), widened to the scaled size range of a model with one."""
    total, total_low, total_high = est["gpu_energy_j"], est["gpu_energy_low_j"], est["gpu_energy_high_j"]
    total_new = est["prefill_energy_j"] + est["decode_energy_j"]
    narrow_lo = total_new * np.exp(-INTERVAL_Z * sd_blend)
    narrow_hi = total_new * np.exp(INTERVAL_Z * sd_blend)
    # the size range of a closed model still bounds the blended result
    range_lo = total_low / np.maximum(total, 1e-12) * total_new
    range_hi = total_high / np.maximum(total, 1e-12) * total_new
    est["gpu_energy_low_j"] = np.where(has_lat, np.minimum(narrow_lo, np.where(ranged, range_lo, narrow_lo)),
                                       total_low)
    est["gpu_energy_high_j"] = np.where(has_lat, np.maximum(narrow_hi, np.where(ranged, range_hi, narrow_hi)),
                                        total_high)
    est["gpu_energy_j"] = np.where(has_lat, total_new, total)


def _blend_latency(est: dict[str, np.ndarray], mid: dict, model: Any, plan: ConfigPlan, cfg: np.ndarray,
                   gpus: np.ndarray, has_lat: np.ndarray, latency_s: np.ndarray, ttft_s: np.ndarray) -> np.ndarray:
    """Blend the latency-based energy (power x share of GPU time) into ``est`` where a latency is given (in place;
    inverse-variance weights in log space); returns where the latency drove the result (weight > 0.5)."""
    r_lo, r_hi = (q[cfg] for q in plan.log_bounds["request"])
    e_lat_pf, e_lat_dc, lat_time = latency_energy_j(mid, gpus, plan.batch[cfg], latency_s, ttft_s)
    e_lat = e_lat_pf + e_lat_dc
    sd_lat = np.where(plan.default_setup[cfg], LATENCY_LOG_SD_DEFAULT_BATCH, float(model.latency_log_sd_))
    frac, sd_blend = blend_weights(r_lo, r_hi, sd_lat, has_lat)
    total = est["gpu_energy_j"]
    blended = np.exp((1 - frac) * np.log(np.maximum(total, 1e-12)) + frac * np.log(np.maximum(e_lat, 1e-12)))
    scale_pf = np.where(has_lat, blended / np.maximum(total, 1e-12), 1.0)
    # keep the latency's prefill/decode split where it drove the result
    pf_new = np.where(frac > 0.5, blended * e_lat_pf / np.maximum(e_lat, 1e-12), est["prefill_energy_j"] * scale_pf)
    _rescale_phases(est, has_lat, {"prefill": pf_new, "decode": blended - pf_new}, sd_blend)
    _rescale_total(est, has_lat, plan.ranged[cfg], sd_blend)
    est["gpu_time_s"] = np.where(has_lat, lat_time, est["gpu_time_s"])
    return has_lat & (frac > 0.5)


def _warning_codes(out: pd.DataFrame, plan: ConfigPlan, cfg: np.ndarray, latency_driven: np.ndarray,
                   too_few_gpus: np.ndarray) -> pd.Series:
    """The ``warnings`` column: the input's codes, then how names were resolved, then the estimate's own."""
    existing = object_column(out, "warnings", "")
    if any(plan.resolution_warnings):     # how names were resolved: model-alias, model-default-tag-size ...
        from seal.errors import join_codes

        existing = pd.Series([join_codes("" if pd.isna(e) else str(e), w) for e, w in
                              zip(existing.to_numpy(dtype=object), plan.resolution_warnings[cfg])], index=out.index)
    return add_codes(existing, {
        "default-serving-setup": plan.default_setup[cfg],
        # a range alone is not an unpublished size: leaderboard rounding (±0.5 B) and name sizes (±10 %) have one too
        "model-arch-not-released": (plan.ranged & plan.size_unpublished)[cfg],
        "params-from-name": plan.size_from_name[cfg],
        "transferred-gpu": plan.transferred[cfg],
        "extrapolated-size": plan.extrapolated[cfg],
        "latency-driven": latency_driven,
        "gpus-below-memory": too_few_gpus,
        "default-engine": plan.default_engine[cfg],
        "engine-approximated": plan.engine_approximated[cfg],
        "shape-from-size": plan.shape_from_size[cfg],
        "native-precision": plan.native_precision[cfg],
        "precision-from-name": plan.named_precision[cfg],
    })


def _request_columns(out: pd.DataFrame, plan: ConfigPlan, cfg: np.ndarray, gpus: np.ndarray) -> dict:
    """Each request's resolved size and serving set-up, as output columns (labels taken per configuration)."""
    columns = {col: plan.size[col][cfg] for col in ("params_b", "active_params_b", "params_low_b", "params_high_b")}
    columns.update({
        "gpu_model": labels_column(plan.gpu_model, cfg, out.index),
        "gpus": gpus.astype(np.int64),
        "batch_size": plan.batch[cfg],
        "precision": labels_column(plan.precision, cfg, out.index),
        "engine": labels_column(plan.engine_name, cfg, out.index),
        "model_resolved": labels_column(plan.model_resolved, cfg, out.index),
        "resolution": labels_column(plan.resolution, cfg, out.index),
    })
    return columns


def estimate_energy(frame: pd.DataFrame, model: Any = None, db_path=None) -> pd.DataFrame:
    """Add per-request GPU energy (J) with its 80 % interval to a prepared request frame.

    Args:
        frame: the frame from :func:`seal.logs.normalize.prepare_requests` (columns of
            :data:`seal.columns.INPUT_COLUMNS`; token counts filled; model/gpu/... may be missing).
        model: a fitted :class:`seal.estimator.model.EnergyModel` (with ``intervals_``), or an artifact path;
            default the shipped artifact ``seal/estimator/artifacts/energy_model.json``.
        db_path: store for the model catalogue (default: the store if present, else EcoLogits' catalogue).

    Returns:
        A new frame: every input column plus :data:`seal.columns.ENERGY_COLUMNS`, the resolved ``gpu_model``,
        ``gpus``, ``batch_size``, ``precision``, ``params_b``, ``active_params_b``, ``params_low_b``,
        ``params_high_b`` and the per-phase intervals ``prefill_energy_low_j`` ... ``decode_energy_high_j``.

    Raises:
        SealError: an unknown model without a size, an unknown GPU or precision, impossible counts.
    """
    from seal.estimator.artifact import shared_model

    if model is None or isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        model = shared_model(model)
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    if len(out) == 0:
        return _empty_estimate(out)
    # Everything but the token counts (and latency) is a property of the request's configuration: resolve
    # sizes, serving set-up and flags once per distinct configuration (the plan), then broadcast with `cfg`.
    cfg, plan = _batch_plan(out, model, db_path)
    counts_in, counts_out = _num(out, "input_tokens"), _num(out, "output_tokens")
    gpus, too_few_gpus = _request_gpus(plan, cfg, np.nan_to_num(counts_in) + np.nan_to_num(counts_out))
    mid, est = _size_based_estimate(model, plan, cfg, gpus, _tokens(counts_in), _tokens(counts_out))
    latency = _num(out, "latency_s")
    has_lat = np.isfinite(latency) & (latency > 0)
    # estimate_basis and sources as codes into the plan's labels (per configuration, "+latency" variants,
    # "latency"): built as text columns once at the end (see labels_column), not by per-row string concatenation
    n_cfg = len(plan.batch)
    basis_code, latency_driven = cfg, np.zeros(len(out), dtype=bool)
    if has_lat.any():
        latency_driven = _blend_latency(est, mid, model, plan, cfg, gpus, has_lat, latency, _num(out, "ttft_s"))
        basis_code = np.where(latency_driven, 2 * n_cfg, cfg + n_cfg * has_lat)
    est["gpu_energy_low_j"] = np.minimum(est["gpu_energy_low_j"], est["gpu_energy_j"])
    est["gpu_energy_high_j"] = np.maximum(est["gpu_energy_high_j"], est["gpu_energy_j"])
    columns = _request_columns(out, plan, cfg, gpus)
    columns.update(est)
    columns.update({
        "estimate_basis": labels_column(plan.basis_labels, basis_code, out.index),
        "sources": labels_column(plan.sources_labels, cfg + n_cfg * latency_driven, out.index),
        "warnings": _warning_codes(out, plan, cfg, latency_driven, too_few_gpus),
        "calibration_factor": np.ones(len(out)),   # set by seal.estimator.calibrate for a calibrated deployment
    })
    return with_columns(out, columns)
