"""The public pipeline: requests -> prepared requests -> GPU energy -> CO2e and water.

``estimate`` is vectorised end to end: it takes a DataFrame of requests (a single prompt is a one-row
frame) and returns the same rows with the estimator's and the carbon stage's columns added
(see :mod:`seal.columns`).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

# Defaults a caller may pass as keyword arguments; they fill missing columns / empty cells.
REQUEST_DEFAULT_KEYS = (
    "model", "params_b", "active_params_b", "precision", "gpu", "gpus", "engine", "batch_size",
    "input_tokens", "output_tokens", "latency_s", "ttft_s", "region", "deployment",
)
# Keyword arguments for the carbon stage (seal.carbon.add_carbon).
CARBON_KEYS = (
    "pue", "market_g_per_kwh", "live_intensity", "electricitymaps_token", "boundary",
    "host_power_w", "idle_overhead", "gpu_lifetime_years", "server_lifetime_years",
)


def estimate(requests: pd.DataFrame | dict | None = None, *, energy_model: Any = None,
             tokenizer: str | None = None, model_map: dict | None = None, **defaults: Any) -> pd.DataFrame:
    """Estimate energy (J), CO2e (g) and water (mL) for every request in ``requests``.

    Args:
        requests: a DataFrame with any of :data:`seal.columns.INPUT_COLUMNS` (or a dict of columns; ``None``
            for a single request described by ``defaults`` alone).
        energy_model: a fitted :class:`seal.estimator.EnergyModel`; default the shipped artifact.
        tokenizer: tokenizer name for prompts without token counts; default chosen per model.
        model_map: model names as the log spells them -> a catalogue model or a size (``{"my-ft": "gpt-4o"}``,
            ``{"my-ft": {"params_b": 8}}``; :func:`seal.data.aliases.read_model_map` reads one from a file).
        **defaults: values for missing columns (``model``, ``gpu``, ``region``, ``deployment`` (a calibrated
            deployment, ``user:NAME``) ...) and carbon-stage
            options (``pue``, ``market_g_per_kwh`` ...).

    Returns:
        A new DataFrame: every input column plus :data:`seal.columns.ENERGY_COLUMNS`,
        :data:`seal.columns.CALIBRATION_COLUMNS` and
        :data:`seal.columns.CARBON_COLUMNS`.

    Raises:
        seal.errors.SealError: one clear sentence for any input the user can fix.
    """
    from seal.carbon import add_carbon
    from seal.errors import SealError
    from seal.estimator import estimate_energy
    from seal.estimator.calibrate import apply_calibration
    from seal.logs.normalize import prepare_requests

    unknown = set(defaults) - set(REQUEST_DEFAULT_KEYS) - set(CARBON_KEYS)
    if unknown:
        raise SealError(
            f"Unknown option(s) {sorted(unknown)}; accepted: {sorted(REQUEST_DEFAULT_KEYS + CARBON_KEYS)}."
        )
    if requests is None:
        requests = pd.DataFrame(index=[0])
    elif isinstance(requests, dict):
        scalar = all(pd.api.types.is_scalar(v) for v in requests.values())
        requests = pd.DataFrame(requests, index=[0] if scalar else None)   # a dict of scalars is one request
    elif not isinstance(requests, pd.DataFrame):
        raise SealError(f"requests must be a pandas DataFrame, a dict of columns or None, not "
                        f"{type(requests).__name__}; for one prompt use seal.estimate({{'prompt': [text]}}, ...).")
    request_defaults = {k: v for k, v in defaults.items() if k in REQUEST_DEFAULT_KEYS and v is not None}
    carbon_options = {k: v for k, v in defaults.items() if k in CARBON_KEYS and v is not None}

    frame = prepare_requests(requests, tokenizer=tokenizer, model_map=model_map, **request_defaults)
    if energy_model is None or isinstance(energy_model, (str, bytes)) or hasattr(energy_model, "__fspath__"):
        from seal.estimator.artifact import shared_model

        energy_model = shared_model(energy_model)
    frame = estimate_energy(frame, model=energy_model)
    # rows of a calibrated deployment (their `deployment` cell, else the option: it also covers a log's own names)
    frame = apply_calibration(frame, request_defaults.get("deployment"), model=energy_model)
    return add_carbon(frame, **carbon_options)
