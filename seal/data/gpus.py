"""The GPU facts table (``seal/data/facts/gpus.csv``) and GPU-name resolution.

Every row is written from the vendor's datasheet (``source`` column). Units live in the column names:
``memory_gb``, ``memory_bandwidth_gb_s``, ``bf16_dense_tflops`` (dense tensor throughput; FP16 for GPUs without
BF16), ``tdp_w``, ``embodied_kg_co2e`` (empty where no figure is published).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from seal.data import facts

from seal.errors import SealError

GPUS_CSV = facts.path("gpus.csv")

NUMERIC_COLUMNS = ("memory_gb", "memory_bandwidth_gb_s", "interconnect_gb_s", "bf16_dense_tflops", "fp32_tflops", "fp8_dense_tflops",
                   "fp4_dense_tflops", "tdp_w", "release_year",
                   "embodied_kg_co2e")


@functools.lru_cache(maxsize=4)
def _load(path: str) -> pd.DataFrame:
    frame = pd.read_csv(path)
    for col in NUMERIC_COLUMNS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def load_gpus(path: str | Path | None = None) -> pd.DataFrame:
    """The GPU facts table, one row per canonical GPU (cached; a copy is returned)."""
    return _load(str(path or GPUS_CSV)).copy()


def _key(name: str) -> str:
    """Normalise a GPU name for matching: lower case, no brackets/quotes, single spaces, '_' -> '-'."""
    name = re.sub(r"[\[\]'\"]", "", str(name)).strip().lower().replace("_", "-")
    return re.sub(r"\s+", " ", name)


@functools.lru_cache(maxsize=4)
def _alias_map(path: str) -> dict[str, str]:
    table = _load(path)
    mapping: dict[str, str] = {}
    for gpu, aliases in zip(table["gpu"], table["aliases"].fillna("")):
        for alias in [gpu, *str(aliases).split("|")]:
            if alias.strip():
                mapping[_key(alias)] = gpu
                # "NVIDIA X" and "X" are the same GPU
                if _key(alias).startswith("nvidia "):
                    mapping.setdefault(_key(alias)[len("nvidia "):], gpu)
    return mapping


def accepted_gpu_names(path: str | Path | None = None) -> list[str]:
    """Canonical GPU names (each also accepts the aliases listed in ``seal/data/facts/gpus.csv``)."""
    return list(_load(str(path or GPUS_CSV))["gpu"])


def resolve_gpu(names: pd.Series | str, path: str | Path | None = None) -> pd.Series | str:
    """Resolve GPU names or aliases (case-insensitive) to canonical names of ``seal/data/facts/gpus.csv``.

    A string returns a string; a Series returns a Series (same index) where missing values stay missing.

    Raises:
        SealError: an unknown GPU, naming it and listing the accepted names.
    """
    mapping = _alias_map(str(path or GPUS_CSV))
    scalar = isinstance(names, str)
    series = pd.Series([names]) if scalar else pd.Series(names)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    resolved = np.empty(len(uniques) + 1, dtype=object)
    resolved[-1] = np.nan
    for i, raw in enumerate(uniques):
        raw = str(raw)
        key = _key(raw)
        if not key:
            resolved[i] = np.nan
            continue
        gpu = mapping.get(key) or mapping.get(key.removeprefix("nvidia "))
        if gpu is None:
            raise SealError(
                f"Unknown GPU {raw!r}; accepted: {', '.join(accepted_gpu_names(path))} (or an alias listed in seal/data/facts/gpus.csv)."
            )
        resolved[i] = gpu
    out = pd.Series(resolved[codes], index=series.index, dtype=object)
    if scalar:
        return out.iloc[0]
    return out
