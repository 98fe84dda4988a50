"""The carbon stage: add host, idle, facility, grid-intensity, embodied, total and water columns to a request frame.

``add_carbon`` takes the estimator's frame (``gpu_energy_j`` and its 80 % interval, ``gpu_time_s``, ``gpu_model`` /
``gpu``, ``region``, ``timestamp``, ``warnings``) and returns a copy with :data:`seal.columns.CARBON_COLUMNS` plus
``region_zone`` and ``wue_l_per_kwh``. Vectorised: regions are resolved once per distinct value.
``boundary_layers`` sums a scored frame into the waterfall the UI draws.
"""
from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
import pandas as pd

from seal.carbon import defaults as D
from seal.carbon import impacts as I
from seal.carbon.regions import region_codes
from seal.errors import SealError
from seal.frames import add_codes, labels_column, numeric_column, object_column, with_columns
from seal.units import J_PER_WH

EXTRA_COLUMNS = ("region_zone", "wue_l_per_kwh")


def _check_number(name: str, value, *, minimum: float, strict: bool = False, unit: str = "") -> float | None:
    """``value`` as a float (None stays None); SealError unless it is finite and at least (``strict``: above)
    ``minimum``."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    bad = not np.isfinite(number) or (number <= minimum if strict else number < minimum)
    if bad:
        relation = "greater than" if strict else "at least"
        raise SealError(f"{name} must be a number {relation} {minimum:g}{unit}, got {value!r}.")
    return number


def _gpu_embodied_kg(frame: pd.DataFrame) -> np.ndarray:
    """kg CO2e per GPU from seal/data/facts/gpus.csv (``embodied_kg_co2e``); NaN where no figure is published."""
    out = np.full(len(frame), np.nan)
    col = "gpu_model" if "gpu_model" in frame else ("gpu" if "gpu" in frame else None)
    if col is None:
        return out
    try:
        from seal.data.gpus import load_gpus

        table = load_gpus()
        lookup = dict(zip(table["gpu"], pd.to_numeric(table["embodied_kg_co2e"], errors="coerce")))
    except Exception:  # the GPU facts table is optional here
        return out
    codes, uniques = pd.factorize(frame[col], use_na_sentinel=True)
    per_unique = np.array([lookup.get(u, np.nan) for u in uniques] + [np.nan], dtype=float)
    mapped = per_unique[np.where(codes < 0, len(uniques), codes)]
    return mapped


class _Span(NamedTuple):
    """A quantity per request with its 80 % interval: ``point``, ``low``, ``high`` arrays (same unit)."""

    point: np.ndarray
    low: np.ndarray
    high: np.ndarray


class _Settings(NamedTuple):
    """The options of :func:`add_carbon`, checked, with the defaults filled in."""

    level: int                       # index of the boundary in D.BOUNDARIES
    pue: float | None                # ratio for every row; None: the region's
    market_g_per_kwh: float | None   # g CO2e/kWh; None: location-based
    host_power_w: float              # W per 8-GPU server
    idle_overhead: float             # fraction of active energy
    gpu_lifetime_years: float
    server_lifetime_years: float


class _Regions(NamedTuple):
    """The requests' resolved regions: ``codes`` (request -> ``table`` row) and ``table``
    (:func:`seal.carbon.regions.region_codes`)."""

    codes: np.ndarray
    table: pd.DataFrame

    def values(self, col: str) -> np.ndarray:
        """Column ``col`` of the resolved regions, per request."""
        return self.table[col].to_numpy()[self.codes]

    def labels(self, col: str, index: pd.Index) -> pd.Series:
        """Text column ``col`` of the resolved regions, per request, as a ``str`` column built in Arrow."""
        return labels_column(self.table[col].to_numpy(), self.codes, index)


def _settings(boundary: str, pue, market_g_per_kwh, host_power_w, idle_overhead, gpu_lifetime_years,
              server_lifetime_years) -> _Settings:
    """The options of :func:`add_carbon`, checked in argument order (SealError on the first bad one) and defaulted."""
    if boundary not in D.BOUNDARIES:
        raise SealError(f"Unknown boundary {boundary!r}; accepted: {', '.join(D.BOUNDARIES)}.")
    pue = _check_number("pue", pue, minimum=1.0)
    market = _check_number("market_g_per_kwh", market_g_per_kwh, minimum=0.0, unit=" g CO2e/kWh")
    host_power = _check_number("host_power_w", host_power_w, minimum=0.0, unit=" W")
    idle = _check_number("idle_overhead", idle_overhead, minimum=0.0)
    gpu_life = _check_number("gpu_lifetime_years", gpu_lifetime_years, minimum=0.0, strict=True, unit=" years")
    server_life = _check_number("server_lifetime_years", server_lifetime_years, minimum=0.0, strict=True,
                                unit=" years")
    return _Settings(
        level=D.BOUNDARIES.index(boundary), pue=pue, market_g_per_kwh=market,
        host_power_w=D.HOST_POWER_W if host_power is None else host_power,
        idle_overhead=D.IDLE_OVERHEAD if idle is None else idle,
        gpu_lifetime_years=D.GPU_LIFETIME_YEARS if gpu_life is None else gpu_life,
        server_lifetime_years=D.SERVER_LIFETIME_YEARS if server_life is None else server_life)


def _regions(frame: pd.DataFrame) -> _Regions:
    """The frame's ``region`` values resolved (a missing column or value: the world average)."""
    return _Regions(*region_codes(object_column(frame, "region")))


def _gpu_time_s(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(the request's GPU time, s, 0 where unknown; where it is known: finite and >= 0)."""
    gpu_time = numeric_column(frame, "gpu_time_s")
    time_known = np.isfinite(gpu_time) & (gpu_time >= 0)
    return np.where(time_known, gpu_time, 0.0), time_known


def _accelerator_j(frame: pd.DataFrame) -> _Span:
    """GPU energy per request, J, with its interval (a missing bound is the point); the model-size range is
    already inside the estimator's interval."""
    point = numeric_column(frame, "gpu_energy_j")
    low, high = numeric_column(frame, "gpu_energy_low_j"), numeric_column(frame, "gpu_energy_high_j")
    return _Span(point, np.where(np.isfinite(low), low, point), np.where(np.isfinite(high), high, point))


def _host_j(accelerator_j: _Span, share_s: np.ndarray, time_known: np.ndarray, settings: _Settings) -> _Span:
    """Host (CPU/RAM/network) energy, J: EcoLogits' server power for the request's share of server time, Google's
    measured share of accelerator energy where the GPU time is unknown; zero below the ``server`` boundary."""
    if settings.level < 1:
        zeros = np.zeros(len(share_s))
        return _Span(zeros, zeros, zeros)
    by_time = I.host_energy_j(share_s, settings.host_power_w, D.SERVER_GPUS)
    return _Span(*(np.where(time_known, by_time, I.host_energy_from_share_j(a)) for a in accelerator_j))


def _pue(settings: _Settings, regions: _Regions, n: int) -> _Span:
    """Facility PUE per request (ratio): 1 below the ``facility`` boundary; a user value is exact; a region's
    carries the provider's published range."""
    if settings.level < 3:
        ones = np.ones(n)
        return _Span(ones, ones, ones)
    if settings.pue is not None:
        given = np.full(n, settings.pue)
        return _Span(given, given, given)
    point = regions.values("pue_region")
    return _Span(point, np.minimum(regions.values("pue_low_region"), point),
                 np.maximum(regions.values("pue_high_region"), point))


class _Energy(NamedTuple):
    """The energy layers per request, J (PUE a ratio), each with its interval."""

    host: _Span
    idle: _Span
    it: _Span
    pue: _Span
    facility: _Span


def _energy_layers(frame: pd.DataFrame, settings: _Settings, regions: _Regions, share_s: np.ndarray,
                   time_known: np.ndarray) -> _Energy:
    """Accelerator -> + host -> + idle (= IT) -> x PUE (= facility) energy, J, up to the settings' boundary."""
    accelerator = _accelerator_j(frame)
    host = _host_j(accelerator, share_s, time_known, settings)
    idle_factor = settings.idle_overhead if settings.level >= 2 else 0.0
    idle = _Span(*(I.idle_energy_j(a, h, idle_factor) for a, h in zip(accelerator, host)))
    it = _Span(*(I.it_energy_j(a, h, i) for a, h, i in zip(accelerator, host, idle)))
    pue = _pue(settings, regions, len(frame))
    return _Energy(host, idle, it, pue, _Span(*(I.facility_energy_j(e, p) for e, p in zip(it, pue))))


def _energy_columns(energy: _Energy) -> dict[str, np.ndarray]:
    """The energy columns of :data:`seal.columns.CARBON_COLUMNS`, in order."""
    return {"host_energy_j": energy.host.point, "idle_energy_j": energy.idle.point, "it_energy_j": energy.it.point,
            "pue": energy.pue.point, "facility_energy_j": energy.facility.point,
            "facility_energy_low_j": energy.facility.low, "facility_energy_high_j": energy.facility.high}


def _live_intensity(frame: pd.DataFrame, regions: _Regions, annual_g_per_kwh: np.ndarray, token: str | None):
    """(g CO2e/kWh, ``grid_intensity_source``, warning masks by code): hourly live intensity where a provider
    answers, the annual average elsewhere (``annual-intensity-fallback``)."""
    from seal.carbon.live import ENV_TOKEN, live_intensity as fetch_live

    token = token or os.environ.get(ENV_TOKEN) or None
    live = fetch_live(pd.Series(regions.values("electricitymaps_zone"), index=frame.index),
                      pd.Series(regions.values("country_iso3"), index=frame.index),
                      frame["timestamp"] if "timestamp" in frame else None, token=token)
    got = np.isfinite(live["intensity_g_per_kwh"].to_numpy())
    intensity = np.where(got, live["intensity_g_per_kwh"].to_numpy(), annual_g_per_kwh)
    source = np.where(got, live["source"].to_numpy(dtype=object), regions.values("annual_source"))
    return intensity, pd.Series(source, index=frame.index, dtype=object), {"annual-intensity-fallback": ~got}


def _grid_intensity(frame: pd.DataFrame, regions: _Regions, market_g_per_kwh: float | None, live: bool,
                    token: str | None) -> tuple[np.ndarray, pd.Series, dict[str, np.ndarray]]:
    """(g CO2e/kWh per request, ``grid_intensity_source``, warning masks by code): a market-based factor
    (user-given) over live hourly intensity over the region's annual location-based average."""
    if market_g_per_kwh is not None:
        n = len(frame)
        label = np.full(n, f"market-based {market_g_per_kwh:g} g/kWh (user-given)", dtype=object)
        return (np.full(n, market_g_per_kwh), pd.Series(label, index=frame.index, dtype=object),
                {"market-based-factor": np.ones(n, dtype=bool)})
    annual = regions.values("mix_g_per_kwh")
    if live:
        return _live_intensity(frame, regions, annual, token)
    return annual, regions.labels("annual_source", frame.index), {}


def _embodied_g_co2e(frame: pd.DataFrame, share_s: np.ndarray, time_known: np.ndarray,
                     settings: _Settings) -> tuple[np.ndarray, np.ndarray]:
    """(g CO2e of GPU + server manufacturing by the request's share of their lifetime, rows whose named GPU has no
    published figure and got EcoLogits' generic one); zeros below the ``full`` boundary."""
    if settings.level < 4:
        return np.zeros(len(frame)), np.zeros(len(frame), dtype=bool)
    gpu_kg = _gpu_embodied_kg(frame)
    embodied = I.embodied_g_co2e(share_s, np.where(np.isfinite(gpu_kg), gpu_kg, D.GPU_EMBODIED_KG_CO2E),
                                 settings.gpu_lifetime_years, D.SERVER_EMBODIED_KG_CO2E,
                                 settings.server_lifetime_years, D.SERVER_GPUS)
    gpu_col = "gpu_model" if "gpu_model" in frame else "gpu"
    named = frame[gpu_col].notna().to_numpy() if gpu_col in frame else np.zeros(len(frame), dtype=bool)
    return embodied, named & ~np.isfinite(gpu_kg) & time_known


def _co2e_columns(operational: _Span, embodied: np.ndarray) -> dict[str, np.ndarray]:
    """Operational, embodied and total g CO2e columns (the interval is the operational one), in order."""
    return {"operational_g_co2e": operational.point, "embodied_g_co2e": embodied,
            "total_g_co2e": operational.point + embodied, "total_low_g_co2e": operational.low + embodied,
            "total_high_g_co2e": operational.high + embodied}


def _water_columns(energy: _Energy, wue_l_per_kwh: np.ndarray, mix_wue_l_per_kwh: np.ndarray) -> dict[str, np.ndarray]:
    """``water_ml`` and its interval, mL: both terms (on-site cooling, off-site generation) are proportional to the
    energy drawn, so the facility energy's interval carries over."""
    it, facility = energy.it.point, energy.facility
    scale = np.where(facility.point > 0, facility.point, 1.0)
    return {"water_ml": I.water_ml(it, facility.point, wue_l_per_kwh, mix_wue_l_per_kwh),
            "water_low_ml": I.water_ml(it * facility.low / scale, facility.low, wue_l_per_kwh, mix_wue_l_per_kwh),
            "water_high_ml": I.water_ml(it * facility.high / scale, facility.high, wue_l_per_kwh, mix_wue_l_per_kwh)}


def _life_cycle_columns(stem: str, unit: str, usage: _Span, embodied: np.ndarray) -> dict[str, np.ndarray]:
    """A life-cycle indicator's columns, in order: ``{stem}_usage[_low|_high]_{unit}``, ``{stem}_embodied_{unit}``
    and the totals ``{stem}[_low|_high]_{unit}`` (the interval is the usage one)."""
    return {f"{stem}_usage_{unit}": usage.point, f"{stem}_usage_low_{unit}": usage.low,
            f"{stem}_usage_high_{unit}": usage.high, f"{stem}_embodied_{unit}": embodied,
            f"{stem}_{unit}": usage.point + embodied, f"{stem}_low_{unit}": usage.low + embodied,
            f"{stem}_high_{unit}": usage.high + embodied}


def _adpe_pe_columns(facility_j: _Span, regions: _Regions, share_s: np.ndarray,
                     settings: _Settings) -> dict[str, np.ndarray]:
    """Abiotic depletion (kg Sb eq) and primary energy (MJ) columns, as life-cycle assessments report them: the
    facility energy times the zone's annual factors (location-based: a market-based CO2e factor or live intensity
    does not change them), plus manufacturing amortised like embodied CO2e (below ``full``: none)."""
    adpe_f, pe_f = regions.values("mix_adpe_kg_sbeq_per_kwh"), regions.values("mix_pe_mj_per_kwh")
    adpe_use = _Span(*(I.usage_impact(f, adpe_f) for f in facility_j))
    pe_use = _Span(*(I.usage_impact(f, pe_f) for f in facility_j))
    if settings.level >= 4:
        lives = (settings.gpu_lifetime_years, settings.server_lifetime_years, D.SERVER_GPUS)
        adpe_emb = I.amortised_embodied(share_s, D.GPU_EMBODIED_KG_SBEQ, D.SERVER_EMBODIED_KG_SBEQ, *lives)
        pe_emb = I.amortised_embodied(share_s, D.GPU_EMBODIED_PE_MJ, D.SERVER_EMBODIED_PE_MJ, *lives)
    else:
        adpe_emb = pe_emb = np.zeros(len(share_s))
    return {**_life_cycle_columns("adpe", "kg_sbeq", adpe_use, adpe_emb),
            **_life_cycle_columns("primary_energy", "mj", pe_use, pe_emb)}


def _with_codes(frame: pd.DataFrame, masks: dict[str, np.ndarray]) -> pd.Series:
    """The frame's ``warnings`` (all empty without one) with each code appended where its mask holds; unchanged
    when no mask holds anywhere."""
    warnings = object_column(frame, "warnings", "")
    fired = {code: mask for code, mask in masks.items() if mask.any()}
    return add_codes(warnings, fired) if fired else warnings


def add_carbon(frame: pd.DataFrame, *, pue: float | None = None, market_g_per_kwh: float | None = None,
               live_intensity: bool = False, electricitymaps_token: str | None = None, boundary: str = "full",
               host_power_w: float | None = None, idle_overhead: float | None = None,
               gpu_lifetime_years: float | None = None, server_lifetime_years: float | None = None) -> pd.DataFrame:
    """Turn GPU energy into facility energy, CO2e (operational + embodied, with interval), water, abiotic resource
    depletion (ADPe, kg Sb eq) and primary energy (MJ), each of the last two as usage + embodied with an interval.

    Args:
        frame: the estimator's frame (see module docstring); a missing ``region`` is the world average ``WOR``.
        pue: facility PUE for every row (>= 1); default the region's (cloud provider's or industry average).
        market_g_per_kwh: a market-based emission factor, g CO2e/kWh (>= 0), replacing the location-based grid
            intensity; labelled in ``grid_intensity_source`` and warned (``market-based-factor``).
        live_intensity: use hourly live intensity (Electricity Maps with a token, UK Carbon Intensity API for Great
            Britain) where available; otherwise the annual average with ``annual-intensity-fallback``.
        electricitymaps_token: Electricity Maps token; default the ``ELECTRICITYMAPS_TOKEN`` environment variable.
        boundary: one of ``accelerator``, ``server``, ``it``, ``facility``, ``full`` (each adds a layer; default full).
        host_power_w: non-GPU power of an 8-GPU server, W (default EcoLogits' 1200 W).
        idle_overhead: idle/provisioned energy as a fraction of active energy (default Google 2025: 0.12).
        gpu_lifetime_years, server_lifetime_years: amortisation periods, years (> 0; default 3).

    Returns:
        A copy of ``frame`` with :data:`seal.columns.CARBON_COLUMNS`, ``region_zone`` and ``wue_l_per_kwh``.

    Raises:
        SealError: unknown region or boundary, PUE < 1, negative intensity/power/overhead, non-positive lifetime.
    """
    settings = _settings(boundary, pue, market_g_per_kwh, host_power_w, idle_overhead, gpu_lifetime_years,
                         server_lifetime_years)
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    regions = _regions(out)
    share_s, time_known = _gpu_time_s(out)
    energy = _energy_layers(out, settings, regions, share_s, time_known)
    intensity, source, masks = _grid_intensity(out, regions, settings.market_g_per_kwh, live_intensity,
                                               electricitymaps_token)
    embodied, generic = _embodied_g_co2e(out, share_s, time_known, settings)
    masks.update({"default-embodied": generic, "gpu-time-unknown": ~time_known & (settings.level >= 1),
                  "adpe-pe-world-mix": regions.values("mix_adpe_pe_world").astype(bool)})
    wue = regions.values("wue_l_per_kwh")
    return with_columns(out, {
        **_energy_columns(energy),
        "grid_intensity_g_per_kwh": intensity,
        "grid_intensity_source": source,
        **_co2e_columns(_Span(*(I.operational_g_co2e(f, intensity) for f in energy.facility)), embodied),
        **_water_columns(energy, wue, regions.values("mix_wue_l_per_kwh")),
        **_adpe_pe_columns(energy.facility, regions, share_s, settings),
        "region_zone": regions.labels("region_zone", out.index),
        "wue_l_per_kwh": wue,
        "warnings": _with_codes(out, masks),
    })


def boundary_layers(frame: pd.DataFrame) -> pd.DataFrame:
    """Sum a scored frame into the waterfall: accelerator -> + host -> + idle -> + facility -> + embodied -> total.

    Returns:
        One row per layer plus ``total``: ``layer``, ``measure`` (``relative`` | ``total``, for a plotly waterfall),
        ``energy_j``, ``energy_wh`` (NaN for embodied), ``g_co2e`` (the layer's emissions: its energy x the rows'
        grid intensity; embodied as is) and ``cumulative_g_co2e``.
    """
    needed = ("it_energy_j", "host_energy_j", "idle_energy_j", "facility_energy_j", "grid_intensity_g_per_kwh",
              "embodied_g_co2e")
    missing = [c for c in needed if c not in frame]
    if missing:
        raise SealError(f"boundary_layers needs a frame scored by add_carbon; missing columns {missing}.")
    num = {c: numeric_column(frame, c) for c in needed}
    intensity = num["grid_intensity_g_per_kwh"]
    energies = {
        "accelerator": num["it_energy_j"] - num["host_energy_j"] - num["idle_energy_j"],
        "host CPU/RAM/network": num["host_energy_j"],
        "idle/provisioning": num["idle_energy_j"],
        "facility (PUE)": num["facility_energy_j"] - num["it_energy_j"],
    }
    rows = []
    for layer, joules in energies.items():
        rows.append((layer, "relative", np.nansum(joules), np.nansum(joules / D.J_PER_KWH * intensity)))
    rows.append(("embodied", "relative", np.nan, np.nansum(num["embodied_g_co2e"])))
    table = pd.DataFrame(rows, columns=["layer", "measure", "energy_j", "g_co2e"])
    table["cumulative_g_co2e"] = table["g_co2e"].cumsum()
    total = pd.DataFrame([{"layer": "total", "measure": "total", "energy_j": table["energy_j"].sum(),
                           "g_co2e": table["g_co2e"].sum(), "cumulative_g_co2e": table["g_co2e"].sum()}])
    table = pd.concat([table, total], ignore_index=True)
    table["energy_wh"] = table["energy_j"] / J_PER_WH
    return table[["layer", "measure", "energy_j", "energy_wh", "g_co2e", "cumulative_g_co2e"]]


def water_breakdown(frame: pd.DataFrame) -> pd.DataFrame:
    """On-site (cooling, WUE x IT energy) and off-site (electricity generation) water of a scored frame, mL."""
    it = pd.to_numeric(frame["it_energy_j"], errors="coerce")
    onsite = it / D.J_PER_KWH * pd.to_numeric(frame["wue_l_per_kwh"], errors="coerce") * 1000.0
    total = pd.to_numeric(frame["water_ml"], errors="coerce")
    return pd.DataFrame({"onsite_water_ml": onsite, "offsite_water_ml": total - onsite, "water_ml": total})
