"""The model catalogue, usable offline: EcoLogits' ``models.json`` (read from the installed ``ecologits``
package, open and closed models) plus Open LLM Leaderboard models and scores when the store has them.

- :func:`ecologits_models`: the EcoLogits catalogue as a frame (one row per model; aliases listed).
- :func:`build_models_table`: that catalogue merged with Open LLM Leaderboard rows (the store's ``models``).
- :func:`resolve_models`: vectorised name -> catalogue row. Passes, first hit wins: exact (case-insensitive,
  with or without a ``provider/`` or Hugging Face org prefix, aliases); normalised (no org, no ``meta-`` prefix,
  ``_``/space as ``-``); normalised without a ``-instruct``/``-chat``/``-hf`` suffix; last, the size written in
  the name (``8B``, ``8x7b``, ``30B-A3B``) with a ±10 % range, ``catalogue_source`` ``name``. Names with no
  match and no size get ``found`` False. Between the two, the spellings of :mod:`seal.data.aliases`: its alias
  table (runtime tags such as Ollama's ``llama3.2:1b``, siblings of retired closed models, provider ids), then
  provider / router / Bedrock / Vertex ids and dated snapshots rewritten (:func:`seal.data.aliases.rewrites`).
  Each row says how it was resolved (``resolution``, ``model_resolved``), the weight format its name states
  (``name_precision``) and warning codes (``resolution_warnings``, :data:`seal.data.aliases.WARNING_TEXT`).
- :func:`list_models`: the catalogue for a model picker.

Parameter counts are in billions. EcoLogits gives a number, a ``{min, max}`` range (closed models whose size is
not published: an EcoLogits *estimate*), or ``{total, active}`` for mixtures of experts (``active`` may itself be
a range). A point value is the range's midpoint, as in EcoLogits' ``RangeValue.mean``.
"""
from __future__ import annotations

import functools
import importlib.metadata
import importlib.resources
import json
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from seal.data import aliases as _aliases
from seal.data.names import params_from_name

ECOLOGITS_MODELS_RESOURCE = "data/models.json"
HF_PROVIDER = "huggingface_hub"
OLL_PARAMS_ROUNDING_B = 0.5  # billions: the Open LLM Leaderboard rounds #Params (B) to whole billions
# A size read from a model id ("8B" for 8.03 B, "70B" for 70.6 B) is rounded by its authors: the range given to it
# is this fraction either side (relative), so the estimate's interval says the size is approximate.
NAME_SIZE_TOLERANCE = 0.10
NAME_CATALOGUE_SOURCE = "name"  # catalogue_source of a size parsed from the model id
# Variant suffixes that do not change the size (instruction/chat tunes, HF-format weights, a release version
# "-v0.1"); dropped only in the last matching pass, so exact and normalised names win.
VARIANT_SUFFIX = re.compile(r"(?:-instruct|-chat|-hf|-v\d+(?:\.\d+)*)$")

RESOLVED_COLUMNS = ("model_key", "provider", "params_b", "active_params_b", "params_low_b", "params_high_b",
                    "active_params_low_b", "active_params_high_b", "is_moe", "open_weights", "tps", "ttft_s",
                    "quality_score", "catalogue_source", "found")
# what each name was resolved to and how (see resolve_models)
RESOLUTION_COLUMNS = ("model_resolved", "resolution", "name_precision", "resolution_warnings")
ALIAS_CATALOGUE_SOURCE = "model_aliases"   # catalogue_source of a size from seal/data/facts/model_aliases.csv
MODEL_MAP_SOURCE = "model-map"             # catalogue_source of a size given in the user's model map

MODELS: dict[str, str] = {  # the store's ``models`` table (column -> DuckDB type)
    "model_key": "VARCHAR",            # openai/gpt-4o, meta-llama/Meta-Llama-3.1-8B (HF id for open models)
    "provider": "VARCHAR",             # EcoLogits provider (huggingface_hub, openai ...)
    "name": "VARCHAR",                 # name as the provider writes it
    "aliases": "VARCHAR",              # other accepted names, ';'-joined
    "architecture": "VARCHAR",         # dense | moe (EcoLogits) or the HF class (Open LLM Leaderboard)
    "params_b": "DOUBLE",
    "active_params_b": "DOUBLE",
    "params_low_b": "DOUBLE",
    "params_high_b": "DOUBLE",
    "active_params_low_b": "DOUBLE",
    "active_params_high_b": "DOUBLE",
    "is_moe": "BOOLEAN",
    "open_weights": "BOOLEAN",
    "params_estimated": "BOOLEAN",     # True: size not published, EcoLogits estimate (model-arch-not-released)
    "tps": "DOUBLE",                   # deployment output tokens per second (EcoLogits)
    "ttft_s": "DOUBLE",                # deployment time to first token, s (EcoLogits)
    "quality_score": "DOUBLE",         # Open LLM Leaderboard v2 average (0-100), NULL if unknown
    "ifeval": "DOUBLE", "bbh": "DOUBLE", "math_lvl5": "DOUBLE", "gpqa": "DOUBLE", "musr": "DOUBLE",
    "mmlu_pro": "DOUBLE",
    "hub_license": "VARCHAR",
    "warnings": "VARCHAR",             # EcoLogits warning codes, ';'-joined
    "sources": "VARCHAR",              # where the numbers come from, ' '-joined URLs
    "catalogue_source": "VARCHAR",     # ecologits | open-llm-leaderboard | ecologits+open-llm-leaderboard
}


# ------------------------------------------------------------------ EcoLogits
@functools.lru_cache(maxsize=1)
def ecologits_version() -> str:
    """Version of the installed EcoLogits package, whose model catalogue and electricity mixes SEAL reads
    (``not installed`` without it: ``seal data init`` reports that)."""
    try:
        return importlib.metadata.version("ecologits")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def ecologits_models_bytes() -> bytes:
    """The installed EcoLogits package's ``models.json`` (never a copy in this repository)."""
    return importlib.resources.files("ecologits").joinpath(ECOLOGITS_MODELS_RESOURCE).read_bytes()


def _range(value) -> tuple[float, float]:
    """EcoLogits parameter value (number or {min, max}) -> (low, high) in billions."""
    if value is None:
        return (np.nan, np.nan)
    if isinstance(value, dict):
        return (float(value["min"]), float(value["max"]))
    return (float(value), float(value))


def _model_row(rec: dict) -> dict:
    arch = rec.get("architecture") or {}
    params = arch.get("parameters")
    if isinstance(params, dict) and "total" in params:
        low, high = _range(params["total"])
        act_low, act_high = _range(params.get("active", params["total"]))
    else:
        low, high = _range(params)
        act_low, act_high = low, high
    warnings = list(rec.get("warnings") or [])
    dep = rec.get("deployment") or {}
    provider, name = rec["provider"], rec["name"]
    return {
        "model_key": name if provider == HF_PROVIDER else f"{provider}/{name}",
        "provider": provider, "name": name, "aliases": "",
        "architecture": arch.get("type"),
        "params_b": (low + high) / 2, "active_params_b": (act_low + act_high) / 2,
        "params_low_b": low, "params_high_b": high, "active_params_low_b": act_low, "active_params_high_b": act_high,
        "is_moe": arch.get("type") == "moe",
        "open_weights": "model-arch-not-released" not in warnings,
        "params_estimated": "model-arch-not-released" in warnings,
        "tps": dep.get("tps"), "ttft_s": dep.get("ttft"),
        "warnings": ";".join(warnings), "sources": " ".join(rec.get("sources") or []),
        "catalogue_source": "ecologits",
    }


def ecologits_models(raw: bytes | None = None) -> pd.DataFrame:
    """EcoLogits' catalogue, one row per model, in the ``models`` schema (aliases in ``aliases``)."""
    data = json.loads(raw if raw is not None else ecologits_models_bytes())
    rows = [_model_row(m) for m in data.get("models", []) if m.get("type", "model") == "model"]
    frame = pd.DataFrame(rows)
    key = frame["provider"] + "\x00" + frame["name"]
    for alias in data.get("aliases", []):
        hit = key == f"{alias['provider']}\x00{alias['alias']}"
        frame.loc[hit, "aliases"] = frame.loc[hit, "aliases"].map(
            lambda a, n=alias["name"]: f"{a};{n}" if a else n)
    return conform_models(frame)


def conform_models(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for col, sql in MODELS.items():
        values = frame[col] if col in frame.columns else pd.Series(None, index=frame.index, dtype="object")
        if sql == "DOUBLE":
            out[col] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif sql == "BOOLEAN":
            out[col] = values.astype("boolean")
        else:
            out[col] = values.astype("object").where(values.notna(), None)
    return out


# ------------------------------------------------------------------ merged table
def build_models_table(open_llm: pd.DataFrame | None = None) -> pd.DataFrame:
    """EcoLogits' catalogue plus the Open LLM Leaderboard (``seal.data.ingest.read_open_llm_leaderboard``).

    A model in both keeps EcoLogits' sizes and gains the leaderboard scores; a leaderboard-only model gets its
    rounded ``#Params (B)`` as a ±0.5 B range (active = total unless the id says otherwise, e.g. ``A14B``).
    """
    eco = ecologits_models()
    if open_llm is None or not len(open_llm):
        return eco
    oll = open_llm.copy()
    oll["_k"] = oll["model_id"].str.lower()
    oll = oll.drop_duplicates("_k").set_index("_k")
    score_cols = ["quality_score", "ifeval", "bbh", "math_lvl5", "gpqa", "musr", "mmlu_pro", "hub_license"]
    eco_key = eco["model_key"].str.lower()
    both = eco_key.isin(oll.index)
    for col in score_cols:
        eco[col] = eco[col].where(~both, eco_key.map(oll[col]))
    eco.loc[both, "catalogue_source"] = "ecologits+open-llm-leaderboard"

    only = oll[~oll.index.isin(set(eco_key))].reset_index(drop=True)
    named = params_from_name(only["model_id"])
    total = only["params_b"].astype("float64")
    moe = only["is_moe"].astype(bool)
    active = named["active_params_b"].where(moe & named["active_params_b"].notna() & (named["active_params_b"] < total))
    active = active.where(active.notna(), total.where(~moe))
    low, high = (total - OLL_PARAMS_ROUNDING_B).clip(lower=0), total + OLL_PARAMS_ROUNDING_B
    extra = pd.DataFrame({
        "model_key": only["model_id"], "provider": HF_PROVIDER, "name": only["model_id"], "aliases": "",
        "architecture": only["architecture"],
        "params_b": total, "active_params_b": active, "params_low_b": low, "params_high_b": high,
        "active_params_low_b": active.where(moe, low), "active_params_high_b": active.where(moe, high),
        "is_moe": moe, "open_weights": True, "params_estimated": False,
        "sources": "https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard",
        "warnings": "", "catalogue_source": "open-llm-leaderboard",
        **{c: only[c] for c in score_cols},
    })
    return conform_models(pd.concat([eco, extra], ignore_index=True))


# ------------------------------------------------------------------ resolving names
def catalogue_version(db_path: str | Path | None) -> tuple:
    """Cache key of the catalogue: the store's path and mtime, or the EcoLogits package alone."""
    from seal.data import store

    path = Path(db_path) if db_path is not None else store.default_db_path()
    try:
        return (str(path.resolve()), path.stat().st_mtime_ns)
    except OSError:
        return ("ecologits", ecologits_version())


def normalised_name(name: str, drop_variant: bool = False) -> str:
    """Loose matching key of a model name: lower case, no ``org/`` or ``provider/`` prefix, no ``meta-`` prefix,
    ``_`` and spaces as ``-``; with ``drop_variant`` also no trailing :data:`VARIANT_SUFFIX` (repeatedly)
    (``meta-llama/Llama-3.1-8B-Instruct`` and ``Meta-Llama-3.1-8B-Instruct`` -> ``llama-3.1-8b-instruct``;
    dropping variants: ``llama-3.1-8b``)."""
    key = str(name).strip().lower().rsplit("/", 1)[-1].replace("_", "-").replace(" ", "-")
    key = key.removeprefix("meta-")
    while drop_variant:
        shorter = VARIANT_SUFFIX.sub("", key)
        if shorter == key or not shorter:
            break
        key = shorter
    return key


class _Index(NamedTuple):
    """Name -> catalogue row position, one dict per matching pass."""
    exact: dict[str, int]
    normalised: dict[str, int]
    variant: dict[str, int]


def _build_index(table: pd.DataFrame) -> _Index:
    index: dict[str, int] = {}

    def add(name: str, pos: int) -> None:
        index.setdefault(name.strip().lower(), pos)

    # first pass: exact keys, names and aliases; second pass: bare HF names (never override the first pass)
    for pos, (key, provider, name, aliases) in enumerate(
            zip(table["model_key"], table["provider"], table["name"], table["aliases"].fillna(""))):
        add(key, pos)
        add(f"{provider}/{name}", pos)
        add(name, pos)
        for alias in filter(None, str(aliases).split(";")):
            add(alias, pos)
            add(f"{provider}/{alias}", pos)
    for pos, name in enumerate(table["name"]):
        if "/" in name:
            add(name.rsplit("/", 1)[-1], pos)
    # loose passes: table order decides ties (EcoLogits rows come before Open LLM Leaderboard rows)
    normalised: dict[str, int] = {}
    variant: dict[str, int] = {}
    for pos, (name, aliases) in enumerate(zip(table["name"], table["aliases"].fillna(""))):
        for n in (name, *filter(None, str(aliases).split(";"))):
            normalised.setdefault(normalised_name(n), pos)
            variant.setdefault(normalised_name(n, drop_variant=True), pos)
    return _Index(index, normalised, variant)


@functools.lru_cache(maxsize=8)
def _catalogue_cached(key: tuple) -> tuple[pd.DataFrame, _Index]:
    table = None
    if key[0] != "ecologits":
        from seal.data import store

        try:
            table = store.read_table("models", key[0])
        except Exception:  # no models table, or an unreadable store: offline catalogue still works
            table = None
    if table is None or not len(table):
        table = ecologits_models()
    table = table.reset_index(drop=True)
    return table, _build_index(table)


def _table(db_path: str | Path | None) -> tuple[pd.DataFrame, _Index]:
    return _catalogue_cached(catalogue_version(db_path))


def _lookup_exact(name: str, index: dict[str, int]) -> int:
    key = name.strip().lower()
    if key in index:
        return index[key]
    parts = key.split("/")
    for i in range(1, len(parts)):  # drop a provider / org prefix ("azure/gpt-4o", "hf/org/model")
        sub = "/".join(parts[i:])
        if sub in index:
            return index[sub]
    return -1


def _lookup(name: str, index: _Index, loose: bool = True) -> int:
    """Catalogue row position of ``name`` (-1 if none): exact pass, then (``loose``) the normalised passes."""
    return _lookup_pass(name, index, loose)[0]


def _lookup_pass(name: str, index: _Index, loose: bool = True) -> tuple[int, str]:
    """(catalogue row position, pass that found it: exact | normalised | variant); (-1, "") if none."""
    pos = _lookup_exact(name, index.exact)
    if pos >= 0 or not loose:
        return pos, "exact" if pos >= 0 else ""
    pos = index.normalised.get(normalised_name(name), -1)
    if pos >= 0:
        return pos, "normalised"
    pos = index.variant.get(normalised_name(name, drop_variant=True), -1)
    return pos, "variant" if pos >= 0 else ""


def resolve_models(names: pd.Series, db_path: str | Path | None = None, loose: bool = True,
                   model_map: dict | None = None) -> pd.DataFrame:
    """Catalogue rows for model names (same index as ``names``); unknown or missing names get ``found`` False.

    Columns: :data:`RESOLVED_COLUMNS` plus :data:`RESOLUTION_COLUMNS`: ``model_resolved`` (what the name was
    resolved to, for display: the catalogue ``model_key``, ``meta-llama/Llama-3.2-3B-Instruct (ollama
    llama3.2:3b)``, or the name itself when sized from it; None when unknown), ``resolution`` (one of
    :data:`seal.data.aliases.RESOLUTIONS`), ``name_precision`` (the PRECISIONS key the name states, GGUF
    ``q4_k_m``, ``fp8``, ``awq`` ...; else None) and ``resolution_warnings`` (';'-joined codes of
    :data:`seal.data.aliases.WARNING_TEXT`, '' when none).

    Passes, first hit wins: ``model_map`` (the user's ``{log_name: catalogue_name}`` or ``{log_name: {model,
    params_b, active_params_b, precision}}``, :func:`seal.data.aliases.read_model_map`); exact; then with
    ``loose`` (default): normalised (:func:`normalised_name`), without a variant suffix, the alias table
    (siblings, provider ids, runtime tags), the rewritten spellings of :func:`seal.data.aliases.rewrites`
    (catalogue and alias table again), and last the size written in the name (``catalogue_source`` ``name``,
    range ±:data:`NAME_SIZE_TOLERANCE`). Only the distinct names are looked up, then mapped back, so a
    million-row frame costs one pass.
    """
    names = pd.Series(names)
    map_key = _aliases.model_map_key(model_map)
    codes, uniques = pd.factorize(names.astype("object"), use_na_sentinel=True)
    # one small frame per distinct name, cached: every batch of a streamed log repeats the same few names (in
    # another order: sorted for the key), and building it costs the same whatever the batch's size (``make bench``)
    order = sorted(range(len(uniques)), key=lambda i: str(uniques[i]))
    if len(order):
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
    small = _resolved_uniques_cached(catalogue_version(db_path), tuple(uniques[i] for i in order), loose, map_key)
    return _take_resolved(small, codes, len(uniques), names.index)


@functools.lru_cache(maxsize=64)
def _resolved_uniques_cached(key: tuple, uniques: tuple, loose: bool, map_key: tuple = ()) -> pd.DataFrame:
    """:func:`_resolve_uniques` of the catalogue ``key`` (see :func:`catalogue_version`) and a model map (its
    :func:`seal.data.aliases.model_map_key`); never modified."""
    table, index = _catalogue_cached(key)
    return _resolve_uniques(np.array(uniques, dtype=object), table, index, loose=loose,
                            mapping=_aliases.model_map_from_key(map_key))


def resolve_ecologits(names: pd.Series, loose: bool = False) -> pd.DataFrame:
    """:func:`resolve_models` against the installed EcoLogits catalogue only (no store). Exact matching by
    default: the data pull labels benchmark runs with it, and a size read from an id is labelled there apart."""
    table, index = _catalogue_cached(("ecologits", ecologits_version()))
    return _resolve(pd.Series(names), table, index, loose=loose)


_FLOAT_COLUMNS = ("params_b", "active_params_b", "params_low_b", "params_high_b", "active_params_low_b",
                  "active_params_high_b", "tps", "ttft_s", "quality_score")


def sizes_from_names(names: pd.Series, tolerance: float = NAME_SIZE_TOLERANCE) -> pd.DataFrame:
    """Resolved-catalogue rows (:data:`RESOLVED_COLUMNS`) for the sizes written in model ids
    (:func:`seal.data.names.params_from_name`), each with a range of ±``tolerance`` (relative); ``found`` is
    False where the id names no total size."""
    named = params_from_name(pd.Series(names, dtype=object))
    total = named["params_b"].to_numpy(dtype=float)
    active = named["active_params_b"].to_numpy(dtype=float)
    active = np.where(np.isnan(active), total, np.minimum(active, total))
    found = ~np.isnan(total)
    out = pd.DataFrame({
        "model_key": pd.Series(names, dtype=object).to_numpy(), "provider": None,
        "params_b": total, "active_params_b": active,
        "params_low_b": total * (1 - tolerance), "params_high_b": total * (1 + tolerance),
        "active_params_low_b": active * (1 - tolerance), "active_params_high_b": active * (1 + tolerance),
        "is_moe": named["is_moe"].to_numpy(dtype=bool) | (active < total), "open_weights": pd.NA,
        "tps": np.nan, "ttft_s": np.nan, "quality_score": np.nan,
        "catalogue_source": NAME_CATALOGUE_SOURCE, "found": found,
    }, index=named.index)
    return out[list(RESOLVED_COLUMNS)]


def _resolve(names: pd.Series, table: pd.DataFrame, index: _Index, loose: bool = True) -> pd.DataFrame:
    codes, uniques = pd.factorize(names.astype("object"), use_na_sentinel=True)
    return _take_resolved(_resolve_uniques(uniques, table, index, loose), codes, len(uniques), names.index)


def _take_resolved(small: pd.DataFrame, codes: np.ndarray, n_uniques: int, index: pd.Index) -> pd.DataFrame:
    """Rows of ``small`` (one per distinct name, then an all-missing row) for each name's code (-1: missing)."""
    out = small.iloc[np.where(codes >= 0, codes, n_uniques)]
    out.index = index
    return out


class _Hit(NamedTuple):
    """How one distinct name resolved: a catalogue row (``pos``) and/or sizes to set (``sizes``)."""
    pos: int = -1
    sizes: dict | None = None          # column -> value set over the catalogue row (or alone)
    resolution: str = "unknown"
    label: str | None = None           # model_resolved (None: the row's model_key)
    precision: str | None = None
    warnings: tuple[str, ...] = ()
    size_names: tuple[str, ...] = ()   # for the name-size pass: spellings to read a size from, in order


def _point_sizes(total: float, active: float | None, **extra) -> dict:
    """Columns of a published (or user-given) size: a point, no range."""
    active = total if active is None else min(active, total)
    return {"params_b": total, "active_params_b": active, "params_low_b": total, "params_high_b": total,
            "active_params_low_b": active, "active_params_high_b": active, "is_moe": bool(active < total),
            "found": True, **extra}


def _alias_hit(row: _aliases.AliasRow, table: pd.DataFrame, index: _Index, precision: str | None,
               runtime: _aliases.RuntimeHit | None = None) -> _Hit | None:
    """The hit of an alias-table row: its target's catalogue row, or the row's own published size."""
    if row.params_b is None:
        pos = _lookup_exact(row.target, index.exact)
        if pos < 0:
            return None
        target, sizes = str(table["model_key"].iat[pos]), None
    else:
        pos, target = -1, row.target
        sizes = _point_sizes(row.params_b, row.active_params_b, model_key=row.target, provider=HF_PROVIDER,
                             open_weights=True, tps=np.nan, ttft_s=np.nan, quality_score=np.nan,
                             catalogue_source=ALIAS_CATALOGUE_SOURCE)
    if runtime is not None:
        default = runtime.default
        return _Hit(pos, sizes, "runtime-default-tag" if default else "runtime-tag",
                    f"{target} ({row.runtime} {row.name}:{row.tag})", runtime.precision or precision,
                    ("model-default-tag-size", "model-alias") if default else ("model-alias",))
    if row.kind == "sibling":
        return _Hit(pos, sizes, "sibling", f"{target} (sibling of {row.name})", precision,
                    ("model-sibling-estimate", "model-alias"))
    return _Hit(pos, sizes, "provider-id", target, precision, ("model-alias",))


def _resolve_one(name: str, table: pd.DataFrame, index: _Index, loose: bool, mapping: dict) -> _Hit:
    key = name.strip()
    if not key:
        return _Hit(resolution="missing")
    precision = _aliases.name_precision(key)
    if mapping and key.lower() in mapping:
        return _map_hit(key, mapping[key.lower()], table, index, precision)
    pos, how = _lookup_pass(key, index, loose)
    if pos >= 0:
        return _Hit(pos, None, how, None, precision, ("model-alias",) if how == "variant" else ())
    if not loose:
        return _Hit(precision=precision)
    aidx = _aliases.alias_index()
    runtime = _aliases.runtime_lookup(key, aidx)
    # a lower-case bare name is a runtime's tag first (Ollama's deepseek-r1 is the 8 B distill; the provider id
    # DeepSeek-R1 is the 671 B model): runtime tags before the alias table's provider ids
    tag_first = "/" not in key and key == key.lower()
    for step in ("runtime", "alias") if tag_first else ("alias", "runtime"):
        if step == "alias":
            row = _aliases.name_lookup(key, aidx)
            if row is not None and (hit := _alias_hit(row, table, index, precision)) is not None:
                return hit
        elif runtime is not None and runtime.row is not None:
            hit = _alias_hit(runtime.row, table, index, precision, runtime)
            if hit is not None:
                return hit
    spellings = _aliases.rewrites(key)
    for spelling in spellings:
        pos, how = _lookup_pass(spelling, index, loose=True)
        if pos >= 0:
            return _Hit(pos, None, "provider-id", None, precision, ("model-alias",))
        row = _aliases.name_lookup(spelling, aidx)
        if row is not None and (hit := _alias_hit(row, table, index, precision)) is not None:
            return hit
    return _Hit(precision=precision, size_names=(key, *spellings[-1:]))


def _map_hit(key: str, entry: dict, table: pd.DataFrame, index: _Index, precision: str | None) -> _Hit:
    """The user's model map entry of ``key``: its target resolved (without the map), sizes it gives set."""
    from seal.errors import SealError

    target = None
    if entry["model"]:
        target = _resolve_one(entry["model"], table, index, True, {})
        if target.pos < 0 and target.sizes is None:
            named = sizes_from_names(pd.Series([entry["model"]], dtype=object)).iloc[0] if target.size_names else None
            if named is not None and bool(named["found"]):
                target = target._replace(sizes={c: named[c] for c in RESOLVED_COLUMNS}, resolution="name-size",
                                         label=str(entry["model"]))
            elif entry["params_b"] is None:
                raise SealError(f"The model map sends {key!r} to {entry['model']!r}, which is neither in the catalogue "
                                "nor sized by its name; give a catalogue model name or params_b (billions).")
    params, active = entry["params_b"], entry["active_params_b"]
    sizes = dict(target.sizes) if target is not None and target.sizes else {}
    if params is not None or active is not None:
        t_total, t_active = np.nan, np.nan   # the target's own sizes (catalogue row, or the sizes it sets)
        if target is not None:
            row = {c: table[c].iat[target.pos] for c in ("params_b", "active_params_b")} if target.pos >= 0 else {}
            row.update({c: sizes[c] for c in ("params_b", "active_params_b") if c in sizes})
            t_total, t_active = float(row.get("params_b", np.nan)), float(row.get("active_params_b", np.nan))
        if params is None:   # only the active count given: keep the target's total
            params = t_total if np.isfinite(t_total) else active
        elif active is None and np.isfinite(t_total) and np.isfinite(t_active) and t_total > 0:
            active = params * min(t_active / t_total, 1.0)   # keep the target's active share
        sizes.update(_point_sizes(params, active, catalogue_source=MODEL_MAP_SOURCE))
        if target is None:
            sizes.update(model_key=key, provider=None, open_weights=pd.NA, tps=np.nan, ttft_s=np.nan,
                         quality_score=np.nan)
    if target is None:
        return _Hit(-1, sizes, "model-map", f"{key} (model map)", entry["precision"] or precision)
    warnings = tuple(w for w in target.warnings if w != "model-alias")
    return _Hit(target.pos, sizes or None, "model-map", target.label, entry["precision"] or target.precision or precision,
                warnings)


def _resolve_uniques(uniques, table: pd.DataFrame, index: _Index, loose: bool = True,
                     mapping: dict | None = None) -> pd.DataFrame:
    """Resolved-catalogue rows of the distinct ``uniques`` names, plus a last all-missing row."""
    hits = [_resolve_one(str(u), table, index, loose, mapping or {}) for u in uniques]
    pos_unique = np.array([h.pos for h in hits], dtype=np.int64)
    # one small frame per distinct name (+ a last all-missing row), then a single positional take
    cols = [c for c in RESOLVED_COLUMNS if c != "found"]
    small = table[cols].iloc[np.clip(pos_unique, 0, None)].reset_index(drop=True) if len(table) else \
        pd.DataFrame(columns=cols, index=range(len(uniques)))
    small = pd.concat([small, pd.DataFrame({c: [None] for c in cols})], ignore_index=True)
    small_found = np.append(pos_unique >= 0, False)
    miss = ~small_found
    for col in cols:
        if col in _FLOAT_COLUMNS:
            small[col] = pd.to_numeric(small[col], errors="coerce").astype("float64").mask(miss)
        elif col in ("is_moe", "open_weights"):
            small[col] = small[col].astype("boolean").mask(miss)
        else:
            small[col] = small[col].astype("object").mask(miss, None)
    small["found"] = small_found
    for i, hit in enumerate(hits):
        for col, value in (hit.sizes or {}).items():
            small.at[i, col] = value
    if loose:
        todo = [i for i, h in enumerate(hits) if h.size_names]
        small = _fill_sizes_from_names(small, [hits[i].size_names[0] for i in todo], todo)
        retry = [i for i in todo if not small.at[i, "found"] and len(hits[i].size_names) > 1]
        small = _fill_sizes_from_names(small, [hits[i].size_names[1] for i in retry], retry)
        for i in todo:
            if small.at[i, "found"]:
                small.at[i, "model_key"] = hits[i].size_names[0]
                hits[i] = hits[i]._replace(resolution="name-size", label=hits[i].size_names[0])
    found = small["found"].to_numpy(dtype=bool)
    keys = small["model_key"].to_numpy(dtype=object)
    new = {  # object columns: None stays None (pandas would infer a string dtype with NaN)
        "model_resolved": [(h.label or keys[i]) if found[i] else None for i, h in enumerate(hits)] + [None],
        "resolution": [h.resolution for h in hits] + ["missing"],
        "name_precision": [h.precision for h in hits] + [None],
        "resolution_warnings": [";".join(h.warnings) if found[i] else "" for i, h in enumerate(hits)] + [""],
    }
    for col, values in new.items():
        small[col] = pd.Series(values, index=small.index, dtype=object)
    return small


@functools.lru_cache(maxsize=256)
def _sizes_from_names_cached(names: tuple[str, ...]) -> pd.DataFrame:
    """:func:`sizes_from_names` of the same unknown names, parsed once per process (batches of a log repeat
    them). The cached frame is never modified."""
    return sizes_from_names(pd.Series(names, dtype=object))


def _fill_sizes_from_names(small: pd.DataFrame, names: list[str], rows: list[int]) -> pd.DataFrame:
    """Rows ``rows`` of ``small`` (one per distinct name, plus a last all-missing row), not found in the catalogue,
    get the size written in ``names`` (one per row), where there is one."""
    if not rows:
        return small
    named = _sizes_from_names_cached(tuple(names)).set_axis(rows)
    named = named[named["found"]]
    if not len(named):
        return small
    small = small.copy()
    for col in RESOLVED_COLUMNS:
        small.loc[named.index, col] = named[col].to_numpy()
    return small


def list_models(db_path: str | Path | None = None) -> pd.DataFrame:
    """Every model of the catalogue (EcoLogits, plus Open LLM Leaderboard models when pulled), for a picker:
    closed and EcoLogits models first, then by provider and name."""
    table = _table(db_path)[0].copy()
    order = table["catalogue_source"].eq("open-llm-leaderboard")
    return (table.assign(_o=order).sort_values(["_o", "provider", "name"], kind="stable")
                 .drop(columns="_o").reset_index(drop=True))
