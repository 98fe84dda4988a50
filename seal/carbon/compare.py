"""The same requests in other regions: CO2e per region with its 80 % interval, and which regions to compare.

:func:`compare_regions` re-runs only the carbon stage (:func:`seal.carbon.add_carbon`) on a scored frame with the
region replaced, so the GPU energy (and its interval) stays exactly the estimator's; the grid intensity, the PUE (and
its range for cloud regions), the water factors and the embodied share follow the region. :func:`suggest_regions`
picks the chosen region, a few well-known references and the cleanest cloud regions on the same continent.
:func:`water_interval_ml` gives water its 80 % interval (water scales with the energy it is drawn for).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# Reference grids shown beside any choice: the world average and large, contrasting grids (nuclear / hydro,
# mixed, coal-heavy), as Our World in Data / Ember's 2024 intensities shipped with EcoLogits rank them.
REFERENCE_REGIONS: tuple[str, ...] = ("WOR", "FRA", "DEU", "USA", "POL", "CHN")
CLEANEST_CLOUD_REGIONS = 3   # cleanest cloud regions on the chosen region's continent added to the comparison

# ISO 3166 alpha-3 codes by the continent (cloud-provider geography: the Middle East apart) of every zone in
# EcoLogits' electricity mixes.
CONTINENTS: dict[str, tuple[str, ...]] = {
    "Europe": tuple("ALB AUT BLR BEL BIH BGR HRV CYP CZE DNK EST FRO FIN FRA DEU GIB GRC HUN ISL IRL ITA LVA LTU "
                    "LUX MLT MDA MNE NLD MKD NOR POL PRT ROU RUS SRB SVK SVN ESP SWE CHE UKR GBR".split()),
    "North America": tuple("USA CAN MEX GRL BMU SPM BLZ CRI SLV GTM HND NIC PAN ATG ABW BHS BRB CYM CUB DMA DOM "
                           "GRD GLP HTI JAM MTQ MSR PRI KNA LCA VCT TTO TCA VGB VIR".split()),
    "South America": tuple("ARG BOL BRA CHL COL ECU FLK GUF GUY PRY PER SUR URY VEN".split()),
    "Middle East": tuple("BHR ARE ISR SAU QAT KWT OMN JOR LBN SYR IRQ IRN YEM PSE TUR".split()),
    "Asia Pacific": tuple("AFG ARM AZE BGD BTN BRN KHM CHN GEO HKG IND IDN JPN KAZ KGZ LAO MAC MYS MDV MNG MMR "
                          "NPL PRK KOR PAK PHL SGP LKA TWN TJK THA TLS TKM UZB VNM AUS NZL FJI PNG SLB VUT WSM TON "
                          "KIR NRU NCL PYF COK ASM GUM".split()),
    "Africa": tuple("DZA AGO BEN BWA BFA BDI CPV CMR CAF TCD COM COG COD CIV DJI EGY GNQ ERI SWZ ETH GAB GMB GHA "
                    "GIN GNB KEN LSO LBR LBY MDG MWI MLI MRT MUS MAR MOZ NAM NER NGA RWA REU SHN STP SEN SYC SLE "
                    "SOM ZAF SSD SDN TZA TGO TUN UGA ESH ZMB ZWE".split()),
}
_CONTINENT_OF = {code: name for name, codes in CONTINENTS.items() for code in codes}


def continent(region: str) -> str | None:
    """The continent of a region code (a country's ISO alpha-3 or a cloud region ``provider:region``); ``None``
    for the world average or an unknown code."""
    from seal.carbon.regions import load_cloud_regions

    code = str(region or "")
    if ":" in code:
        cloud = load_cloud_regions()
        hit = cloud[(cloud["provider"] + ":" + cloud["region"]).str.lower() == code.lower()]
        code = str(hit["country_iso3"].iloc[0]) if len(hit) else ""
    return _CONTINENT_OF.get(code.upper())


def suggest_regions(chosen: str, table: pd.DataFrame | None = None, cleanest: int = CLEANEST_CLOUD_REGIONS,
                    references: Sequence[str] = REFERENCE_REGIONS) -> list[str]:
    """The regions to compare ``chosen`` with: ``chosen`` first, then ``references`` (those the table knows), then
    the ``cleanest`` cloud regions (lowest annual grid intensity) on ``chosen``'s continent (world-wide for the world
    average), each once.

    Args:
        chosen: a region code as :func:`seal.estimate` accepts it.
        table: :func:`seal.carbon.regions_table` (default: loaded).
    """
    from seal.carbon.regions import load_cloud_regions, regions_table

    table = regions_table() if table is None else table
    known = set(table["region"].astype(str))
    out = [chosen]
    out += [r for r in references if r in known and r not in out]
    cloud = load_cloud_regions()
    codes = cloud["provider"] + ":" + cloud["region"]
    where = continent(chosen)
    near = cloud["country_iso3"].map(_CONTINENT_OF).eq(where).to_numpy() if where else np.ones(len(cloud), bool)
    intensity = table.set_index("region")["grid_intensity_g_per_kwh"]
    ranked = pd.DataFrame({"region": codes[near].to_numpy(),
                           "g": intensity.reindex(codes[near]).to_numpy(dtype=float)}).dropna().sort_values(
        ["g", "region"], kind="stable")
    picked = 0
    for region in ranked["region"]:
        if picked >= cleanest:
            break
        if region not in out:
            out.append(region)
            picked += 1
    return out


def compare_regions(result: pd.DataFrame, regions: Sequence[str], *, pue: float | None = None) -> pd.DataFrame:
    """CO2e, facility energy and water of the requests of ``result`` (a :func:`seal.estimate` frame) if they had
    been served in each of ``regions``.

    Args:
        result: scored requests (``gpu_energy_j`` with its interval, ``gpu_time_s``, ``gpu_model``).
        regions: region codes (duplicates are compared once).
        pue: the user's PUE, applied in every region as in the estimate (default: each region's own).

    Returns:
        One row per region, in the order given: ``region``, ``total_g_co2e``, ``total_low_g_co2e``,
        ``total_high_g_co2e``, ``facility_energy_j`` (with ``_low_j`` / ``_high_j``), ``water_ml`` (with
        ``water_low_ml`` / ``water_high_ml``), ``grid_intensity_g_per_kwh`` (energy-weighted), ``pue``
        (energy-weighted), and ``requests``.

    Raises:
        SealError: an unknown region (from :func:`seal.carbon.add_carbon`).
    """
    from seal.carbon.stage import add_carbon

    regions = list(dict.fromkeys(str(r) for r in regions))
    if not regions or result.empty:
        return pd.DataFrame(columns=["region", "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e",
                                     "facility_energy_j", "facility_energy_low_j", "facility_energy_high_j",
                                     "water_ml", "water_low_ml", "water_high_ml", "grid_intensity_g_per_kwh", "pue",
                                     "requests"])
    keep = [c for c in ("gpu_energy_j", "gpu_energy_low_j", "gpu_energy_high_j", "gpu_time_s", "gpu_model", "gpu",
                        "timestamp", "warnings") if c in result]
    base = result[keep].reset_index(drop=True)
    n = len(base)
    stacked = pd.concat([base] * len(regions), ignore_index=True)
    stacked["region"] = np.repeat(regions, n)
    scored = add_carbon(stacked, pue=pue)
    low, high = water_interval_ml(scored)
    scored = scored.assign(water_low_ml=low, water_high_ml=high,
                           _g_x_e=scored["grid_intensity_g_per_kwh"] * scored["facility_energy_j"],
                           _pue_x_e=scored["pue"] * scored["it_energy_j"])
    sums = scored.groupby("region", sort=False)[
        ["total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "facility_energy_j", "facility_energy_low_j",
         "facility_energy_high_j", "water_ml", "water_low_ml", "water_high_ml", "_g_x_e", "_pue_x_e",
         "it_energy_j"]].sum(min_count=1)
    sums["grid_intensity_g_per_kwh"] = sums.pop("_g_x_e") / sums["facility_energy_j"]
    sums["pue"] = sums.pop("_pue_x_e") / sums.pop("it_energy_j")
    sums["requests"] = n
    return sums.reindex(regions).rename_axis("region").reset_index()


def water_interval_ml(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The 80 % interval of ``water_ml`` (on-site cooling + off-site generation water, both proportional to the
    energy drawn): the water point value scaled by the facility-energy interval, ``water x low / point`` and
    ``water x high / point``, mL. Rows without a facility-energy interval get the point value at both ends."""
    def num(col: str) -> np.ndarray:
        return (pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float) if col in frame
                else np.full(len(frame), np.nan))

    if "water_low_ml" in frame and "water_high_ml" in frame:     # the carbon stage's own interval
        return num("water_low_ml"), num("water_high_ml")
    water, point = num("water_ml"), num("facility_energy_j")
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(point > 0, num("facility_energy_low_j") / point, np.nan)
        hi = np.where(point > 0, num("facility_energy_high_j") / point, np.nan)
    lo = np.where(np.isfinite(lo), lo, 1.0)
    hi = np.where(np.isfinite(hi), hi, 1.0)
    return water * lo, water * hi
