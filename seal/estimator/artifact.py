"""The fitted model artifact: a small versioned JSON file (``seal/estimator/artifacts/energy_model.json``).

Contents: the :class:`~seal.estimator.model.EnergyModel` constants, the 80 % interval table calibrated on
held-out residuals (per situation and phase), and the training data's provenance (sources, versions, sha256,
row counts, code version). ``trained_at`` is the only field that changes when the same store is re-trained.
"""
from __future__ import annotations

import functools
import importlib.resources
import json
from pathlib import Path

ARTIFACT_FORMAT = "seal-energy-model"
ARTIFACT_VERSION = 2   # 2: engines (transformers / vllm-2024 / vllm), shapes, power and time fitted apart
# package data (read with importlib.resources, so a wheel install finds it); `seal train` rewrites it in place
DEFAULT_ARTIFACT = Path(str(importlib.resources.files("seal.estimator").joinpath("artifacts", "energy_model.json")))


def write_artifact(payload: dict, path: str | Path) -> Path:
    """Write the artifact JSON (sorted keys, floats rounded to 10 significant digits for stable diffs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_round(payload), indent=1, sort_keys=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _round(obj):
    if isinstance(obj, float):
        return float(f"{obj:.10g}")
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v) for v in obj]
    return obj


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_artifact(path: str | Path | None = None) -> dict:
    """The artifact as a dict (cached per file and modification time)."""
    from seal.errors import SealError

    path = Path(path or DEFAULT_ARTIFACT)
    if not path.is_file():
        raise SealError(f"Energy model artifact not found at {path}; run `seal train` to create it.")
    payload = _read(str(path), path.stat().st_mtime)
    if payload.get("format") != ARTIFACT_FORMAT or int(payload.get("version", 0)) > ARTIFACT_VERSION:
        raise SealError(f"{path} is not a SEAL energy model artifact of version <= {ARTIFACT_VERSION}.")
    return payload


def load_model(path: str | Path | None = None):
    """The fitted :class:`~seal.estimator.model.EnergyModel` of an artifact, with ``intervals_`` attached."""
    from seal.errors import SealError
    from seal.estimator.model import EnergyModel

    payload = read_artifact(path)
    if int(payload.get("version", 0)) < ARTIFACT_VERSION:
        raise SealError(f"{path} is a version {payload.get('version')} artifact; this SEAL needs version "
                        f"{ARTIFACT_VERSION}: run `seal train` to create it.")
    model = EnergyModel.from_dict(payload["model"])
    model.intervals_ = payload["intervals"]
    model.provenance_ = payload["provenance"]
    model.latency_log_sd_ = float(payload["latency_log_sd"])
    model.trained_at_ = payload.get("trained_at")
    return model


def shared_model(path: str | Path | None = None):
    """The artifact's model loaded once per file and modification time, and shared (``estimate_energy``'s default):
    treat it as read-only; :func:`load_model` gives a fresh object to change. Sharing lets every batch of a streamed
    log reuse the per-configuration plans memoised on the model (:func:`seal.estimator.estimate.config_plan`)."""
    path = Path(path or DEFAULT_ARTIFACT)
    read_artifact(path)   # the same errors as load_model
    return _shared(str(path), path.stat().st_mtime)


@functools.lru_cache(maxsize=4)
def _shared(path: str, mtime: float):
    return load_model(path)
