"""The carbon stage: add host, idle, facility, grid-intensity, embodied, total and water columns to a request frame.

``add_carbon`` takes the estimator's frame (``gpu_energy_j`` and its 80 % interval, ``gpu_time_s``, ``gpu_model`` /
``gpu``, ``region``, ``timestamp``, ``warnings``) and returns a copy with :data:`seal.columns.CARBON_COLUMNS` plus
``region_zone`` and ``wue_l_per_kwh``. Vectorised: regions are resolved once per distinct value.
``boundary_layers`` sums a scored frame into the waterfall the UI draws.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from seal.carbon import defaults as D
from seal.carbon import impacts as I
from seal.carbon.regions import region_codes
from seal.errors import SealError
from seal.frames import labels_column, numeric_column, with_columns
from seal.units import J_PER_WH

EXTRA_COLUMNS = ("region_zone", "wue_l_per_kwh")


def _check_number(name: str, value, *, minimum: float, strict: bool = False, unit: str = "") -> float | None:
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


def add_code(warnings: pd.Series, mask, code: str) -> pd.Series:
    """Append warning ``code`` to the ``;``-joined ``warnings`` of rows where ``mask`` is true.

    Vectorised over the few distinct warning strings: each is updated once, and the column is rebuilt from codes
    in Arrow (:func:`seal.frames.labels_column`), so the writer does not convert per-row Python strings.
    """
    from seal.frames import labels_column

    mask = np.asarray(mask, dtype=bool)
    warnings = pd.Series(warnings)
    if not mask.any():
        return warnings
    import pyarrow as pa
    import pyarrow.compute as pc

    # dictionary-encode in Arrow (C++): the column holds a handful of distinct strings over ~10^5 rows
    values = pa.array(warnings.array, type=pa.string(), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(pc.fill_null(values, ""))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    uniques = encoded.dictionary.to_pylist()
    added = [u if code in u.split(";") else (code if u == "" else f"{u};{code}") for u in uniques]
    return labels_column(uniques + added, np.where(mask, codes + len(uniques), codes), warnings.index)


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
    if boundary not in D.BOUNDARIES:
        raise SealError(f"Unknown boundary {boundary!r}; accepted: {', '.join(D.BOUNDARIES)}.")
    pue = _check_number("pue", pue, minimum=1.0)
    market = _check_number("market_g_per_kwh", market_g_per_kwh, minimum=0.0, unit=" g CO2e/kWh")
    host_power = _check_number("host_power_w", host_power_w, minimum=0.0, unit=" W")
    idle = _check_number("idle_overhead", idle_overhead, minimum=0.0)
    gpu_life = _check_number("gpu_lifetime_years", gpu_lifetime_years, minimum=0.0, strict=True, unit=" years")
    server_life = _check_number("server_lifetime_years", server_lifetime_years, minimum=0.0, strict=True,
                                unit=" years")
    host_power = D.HOST_POWER_W if host_power is None else host_power
    idle = D.IDLE_OVERHEAD if idle is None else idle
    gpu_life = D.GPU_LIFETIME_YEARS if gpu_life is None else gpu_life
    server_life = D.SERVER_LIFETIME_YEARS if server_life is None else server_life
    level = D.BOUNDARIES.index(boundary)

    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    n = len(out)
    warnings = out["warnings"] if "warnings" in out else pd.Series([""] * n, index=out.index, dtype=object)
    region_code, region_rows = region_codes(out["region"] if "region" in out else pd.Series([None] * n,
                                                                                         index=out.index))

    def region(col: str) -> np.ndarray:
        """Column ``col`` of the resolved regions, per request."""
        return region_rows[col].to_numpy()[region_code]

    # Accelerator energy and its interval (the model-size range is already inside the estimator's interval).
    acc = numeric_column(out, "gpu_energy_j")
    acc_lo = np.where(np.isfinite(numeric_column(out, "gpu_energy_low_j")), numeric_column(out, "gpu_energy_low_j"), acc)
    acc_hi = np.where(np.isfinite(numeric_column(out, "gpu_energy_high_j")), numeric_column(out, "gpu_energy_high_j"), acc)
    gpu_time = numeric_column(out, "gpu_time_s")
    time_known = np.isfinite(gpu_time) & (gpu_time >= 0)

    # Host: EcoLogits' server power for the request's share of server time; Google's measured share without it.
    if level >= 1:
        by_time = I.host_energy_j(np.where(time_known, gpu_time, 0.0), host_power, D.SERVER_GPUS)
        host, host_lo, host_hi = (np.where(time_known, by_time, I.host_energy_from_share_j(a))
                                  for a in (acc, acc_lo, acc_hi))
    else:
        host = host_lo = host_hi = np.zeros(n)
    idle_factor = idle if level >= 2 else 0.0
    idle_j, idle_lo, idle_hi = (I.idle_energy_j(a, h, idle_factor) for a, h in
                                ((acc, host), (acc_lo, host_lo), (acc_hi, host_hi)))
    it, it_lo, it_hi = (I.it_energy_j(a, h, i) for a, h, i in
                        ((acc, host, idle_j), (acc_lo, host_lo, idle_lo), (acc_hi, host_hi, idle_hi)))

    # Facility (PUE): a user value is exact; a region's carries the provider's published range.
    if level >= 3:
        if pue is not None:
            pue_pt = pue_lo = pue_hi = np.full(n, pue)
        else:
            pue_pt = region("pue_region")
            pue_lo = np.minimum(region("pue_low_region"), pue_pt)
            pue_hi = np.maximum(region("pue_high_region"), pue_pt)
    else:
        pue_pt = pue_lo = pue_hi = np.ones(n)
    facility = I.facility_energy_j(it, pue_pt)
    facility_lo = I.facility_energy_j(it_lo, pue_lo)
    facility_hi = I.facility_energy_j(it_hi, pue_hi)

    # Grid intensity: market-based (user) > live hourly > annual location-based.
    intensity = region("mix_g_per_kwh")
    source = None   # the annual label of the row's region (a text column built once, below) unless replaced here
    if market is not None:
        intensity = np.full(n, market)
        source = np.full(n, f"market-based {market:g} g/kWh (user-given)", dtype=object)
        warnings = add_code(warnings, np.ones(n, dtype=bool), "market-based-factor")
    elif live_intensity:
        from seal.carbon.live import ENV_TOKEN, live_intensity as fetch_live

        token = electricitymaps_token or os.environ.get(ENV_TOKEN) or None
        live = fetch_live(pd.Series(region("electricitymaps_zone"), index=out.index),
                          pd.Series(region("country_iso3"), index=out.index),
                          out["timestamp"] if "timestamp" in out else None, token=token)
        got = np.isfinite(live["intensity_g_per_kwh"].to_numpy())
        intensity = np.where(got, live["intensity_g_per_kwh"].to_numpy(), intensity)
        source = np.where(got, live["source"].to_numpy(dtype=object), region("annual_source"))
        warnings = add_code(warnings, ~got, "annual-intensity-fallback")

    operational = I.operational_g_co2e(facility, intensity)
    operational_lo = I.operational_g_co2e(facility_lo, intensity)
    operational_hi = I.operational_g_co2e(facility_hi, intensity)

    # Embodied: GPU + server manufacturing, by the request's share of their lifetime.
    if level >= 4:
        gpu_kg = _gpu_embodied_kg(out)
        embodied = I.embodied_g_co2e(np.where(time_known, gpu_time, 0.0),
                                     np.where(np.isfinite(gpu_kg), gpu_kg, D.GPU_EMBODIED_KG_CO2E), gpu_life,
                                     D.SERVER_EMBODIED_KG_CO2E, server_life, D.SERVER_GPUS)
        # a named GPU without a published figure gets EcoLogits' generic one: say so
        gpu_col = "gpu_model" if "gpu_model" in out else "gpu"
        named = out[gpu_col].notna().to_numpy() if gpu_col in out else np.zeros(n, dtype=bool)
        generic = named & ~np.isfinite(gpu_kg) & time_known
        if generic.any():
            warnings = add_code(warnings, generic, "default-embodied")
    else:
        embodied = np.zeros(n)
    if (~time_known).any() and level >= 1:
        warnings = add_code(warnings, ~time_known, "gpu-time-unknown")

    # Abiotic depletion (kg Sb eq) and primary energy (MJ), as life-cycle assessments report them: the facility
    # energy times the zone's annual factors (location-based: a market-based CO2e factor or live intensity does not
    # change them), plus manufacturing amortised like embodied CO2e; same boundary, same interval on the usage part.
    adpe_f, pe_f = region("mix_adpe_kg_sbeq_per_kwh"), region("mix_pe_mj_per_kwh")
    world_mix = region("mix_adpe_pe_world").astype(bool)
    if world_mix.any():
        warnings = add_code(warnings, world_mix, "adpe-pe-world-mix")
    adpe_use, adpe_use_lo, adpe_use_hi = (I.usage_impact(f, adpe_f) for f in (facility, facility_lo, facility_hi))
    pe_use, pe_use_lo, pe_use_hi = (I.usage_impact(f, pe_f) for f in (facility, facility_lo, facility_hi))
    if level >= 4:
        share_s = np.where(time_known, gpu_time, 0.0)
        adpe_emb = I.amortised_embodied(share_s, D.GPU_EMBODIED_KG_SBEQ, D.SERVER_EMBODIED_KG_SBEQ, gpu_life,
                                        server_life, D.SERVER_GPUS)
        pe_emb = I.amortised_embodied(share_s, D.GPU_EMBODIED_PE_MJ, D.SERVER_EMBODIED_PE_MJ, gpu_life,
                                      server_life, D.SERVER_GPUS)
    else:
        adpe_emb = pe_emb = np.zeros(n)

    wue = region("wue_l_per_kwh")
    source_column = (labels_column(region_rows["annual_source"].to_numpy(), region_code, out.index)
                     if source is None else pd.Series(source, index=out.index, dtype=object))
    return with_columns(out, {
        "host_energy_j": host,
        "idle_energy_j": idle_j,
        "it_energy_j": it,
        "pue": pue_pt,
        "facility_energy_j": facility,
        "facility_energy_low_j": facility_lo,
        "facility_energy_high_j": facility_hi,
        "grid_intensity_g_per_kwh": intensity,
        "grid_intensity_source": source_column,
        "operational_g_co2e": operational,
        "embodied_g_co2e": embodied,
        "total_g_co2e": operational + embodied,
        "total_low_g_co2e": operational_lo + embodied,
        "total_high_g_co2e": operational_hi + embodied,
        "water_ml": I.water_ml(it, facility, wue, region("mix_wue_l_per_kwh")),
        # both water terms are proportional to the energy drawn: the energy's interval carries over
        "water_low_ml": I.water_ml(it * facility_lo / np.where(facility > 0, facility, 1.0), facility_lo, wue,
                                   region("mix_wue_l_per_kwh")),
        "water_high_ml": I.water_ml(it * facility_hi / np.where(facility > 0, facility, 1.0), facility_hi, wue,
                                    region("mix_wue_l_per_kwh")),
        "adpe_usage_kg_sbeq": adpe_use,
        "adpe_usage_low_kg_sbeq": adpe_use_lo,
        "adpe_usage_high_kg_sbeq": adpe_use_hi,
        "adpe_embodied_kg_sbeq": adpe_emb,
        "adpe_kg_sbeq": adpe_use + adpe_emb,
        "adpe_low_kg_sbeq": adpe_use_lo + adpe_emb,
        "adpe_high_kg_sbeq": adpe_use_hi + adpe_emb,
        "primary_energy_usage_mj": pe_use,
        "primary_energy_usage_low_mj": pe_use_lo,
        "primary_energy_usage_high_mj": pe_use_hi,
        "primary_energy_embodied_mj": pe_emb,
        "primary_energy_mj": pe_use + pe_emb,
        "primary_energy_low_mj": pe_use_lo + pe_emb,
        "primary_energy_high_mj": pe_use_hi + pe_emb,
        "region_zone": labels_column(region_rows["region_zone"].to_numpy(), region_code, out.index),
        "wue_l_per_kwh": wue,
        "warnings": warnings,
    })


def boundary_layers(frame: pd.DataFrame) -> pd.DataFrame:
    """Sum a scored frame into the waterfall: accelerator -> + host -> + idle -> + facility -> + embodied -> total.

    Returns:
        One row per layer plus ``total``: ``layer``, ``measure`` (``relative`` | ``total``, for a plotly waterfall),
        ``energy_j``, ``energy_wh`` (NaN for embodied), ``g_co2e`` (the layer's emissions: its energy x the rows'
        grid intensity; embodied as is) and ``cumulative_g_co2e``.
    """
    missing = [c for c in ("it_energy_j", "host_energy_j", "idle_energy_j", "facility_energy_j",
                           "grid_intensity_g_per_kwh", "embodied_g_co2e") if c not in frame]
    if missing:
        raise SealError(f"boundary_layers needs a frame scored by add_carbon; missing columns {missing}.")
    num = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
           for c in ("it_energy_j", "host_energy_j", "idle_energy_j", "facility_energy_j",
                     "grid_intensity_g_per_kwh", "embodied_g_co2e")}
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
