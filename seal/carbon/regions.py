"""Regions: country codes and names, the world average, and cloud regions -> grid zone, PUE, WUE.

Accepted spellings: ISO 3166 alpha-2 / alpha-3 codes and country names (``FR``, ``FRA``, ``France``), ``WOR`` (world
average), and cloud regions ``provider:region`` with provider ``aws``, ``gcp`` or ``azure``
(``aws:us-east-1``, ``gcp:europe-west1``, ``azure:swedencentral``; ``seal/data/facts/cloud_regions.csv``).
Annual grid intensities (g CO2e/kWh) and off-site water (L/kWh) come from the EcoLogits package's electricity mixes,
read from the installed package without importing it.
"""
from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd

from seal.carbon import defaults as D
from seal.data import facts
from seal.data.catalogue import ecologits_version
from seal.errors import SealError

CLOUD_REGIONS_CSV = facts.path("cloud_regions.csv")

PROVIDER_ALIASES = {
    "aws": "aws", "amazon": "aws",
    "gcp": "gcp", "google": "gcp", "googlecloud": "gcp", "google-cloud": "gcp",
    "azure": "azure", "microsoft": "azure",
}
WORLD_ALIASES = {"wor", "world", "global", "world average"}
# Common country spellings pycountry does not know.
COUNTRY_ALIASES = {
    "uk": "GBR", "great britain": "GBR", "britain": "GBR", "england": "GBR", "scotland": "GBR", "wales": "GBR",
    "russia": "RUS", "korea": "KOR", "turkey": "TUR", "ivory coast": "CIV", "macedonia": "MKD",
    "holland": "NLD", "usa": "USA", "us": "USA", "america": "USA", "united states": "USA",
}

# Columns of a resolved region (one row per distinct region string).
REGION_COLUMNS = ("region_zone", "country_iso3", "provider", "electricitymaps_zone", "pue_region", "pue_low_region",
                  "pue_high_region", "wue_l_per_kwh", "mix_g_per_kwh", "mix_wue_l_per_kwh",
                  "mix_adpe_kg_sbeq_per_kwh", "mix_pe_mj_per_kwh", "mix_adpe_pe_world")

ACCEPTED_MESSAGE = (
    "accepted: ISO 3166 country codes or names (FR, FRA, France), WOR (world average), or cloud regions "
    "provider:region with provider aws, gcp or azure (e.g. aws:us-east-1, gcp:europe-west1, azure:swedencentral; "
    "full list: seal.carbon.accepted_regions())"
)


@functools.lru_cache(maxsize=1)
def load_electricity_mixes() -> pd.DataFrame:
    """EcoLogits' electricity mixes: ``zone`` (ISO alpha-3 or WOR), ``gwp_g_per_kwh``, ``wue_l_per_kwh``,
    ``adpe_kg_sbeq_per_kwh`` (abiotic depletion, elements), ``pe_mj_per_kwh`` (primary energy), ``warnings`` (e.g.
    ``electricity-mix-adpe-world``: the zone has no figure of its own and carries the world value)."""
    spec = importlib.util.find_spec("ecologits")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover
        raise SealError("The ecologits package is not installed; install the project's dependencies (pip install -e .).")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "electricity_mixes.json"
    data = json.loads(path.read_text())["electricity_mixes"]
    frame = pd.DataFrame({
        "zone": [m["name"] for m in data],
        "gwp_g_per_kwh": [float(m["gwp"]) * 1000.0 for m in data],  # kg/kWh -> g/kWh
        "wue_l_per_kwh": [float(m["wue"]) for m in data],
        "adpe_kg_sbeq_per_kwh": [float(m["adpe"]) for m in data],
        "pe_mj_per_kwh": [float(m["pe"]) for m in data],
        "warnings": [";".join(m.get("warnings") or []) for m in data],
    })
    return frame.set_index("zone", drop=False)


@functools.lru_cache(maxsize=4)
def _cloud_regions(path: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"provider": str, "region": str})
    frame["key"] = frame["provider"].str.lower() + ":" + frame["region"].str.lower()
    return frame.set_index("key", drop=False)


def load_cloud_regions(path: str | Path | None = None) -> pd.DataFrame:
    """The cloud-region facts table (``seal/data/facts/cloud_regions.csv``), one row per provider region (a copy)."""
    return _cloud_regions(str(path or CLOUD_REGIONS_CSV)).reset_index(drop=True).drop(columns="key")


def accepted_regions() -> list[str]:
    """Every cloud region (``provider:region``) plus ``WOR``; any ISO country code or name is accepted too."""
    return ["WOR", *_cloud_regions(str(CLOUD_REGIONS_CSV))["key"].tolist()]


def _country_iso3(text: str) -> str | None:
    import pycountry  # light, but only needed for country spellings

    raw = text.strip()
    if raw.upper() in load_electricity_mixes().index:
        return raw.upper()
    if raw.lower() in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[raw.lower()]
    try:
        country = pycountry.countries.lookup(raw)
    except LookupError:
        return None
    return country.alpha_3


def _resolve_one(raw: str) -> dict:
    """One region spelling resolved (a fresh dict; the work is cached per spelling)."""
    return dict(_resolve_one_cached(str(raw)))


@functools.lru_cache(maxsize=4096)
def _resolve_one_cached(raw: str) -> dict:
    mixes = load_electricity_mixes()
    text = str(raw).strip()
    if text.lower() in WORLD_ALIASES or text == "":
        row = {"region_zone": D.DEFAULT_ZONE, "country_iso3": None, "provider": None, "electricitymaps_zone": None,
               "pue_region": D.DEFAULT_PUE, "pue_low_region": D.DEFAULT_PUE_LOW,
               "pue_high_region": D.DEFAULT_PUE_HIGH, "wue_l_per_kwh": D.DEFAULT_WUE_L_PER_KWH}
    elif ":" in text:
        provider, _, name = text.partition(":")
        provider = PROVIDER_ALIASES.get(provider.strip().lower().replace(" ", ""))
        key = f"{provider}:{name.strip().lower()}"
        table = _cloud_regions(str(CLOUD_REGIONS_CSV))
        if provider is None or key not in table.index:
            raise SealError(f"Unknown region {raw!r}; {ACCEPTED_MESSAGE}.")
        rec = table.loc[key]
        row = {"region_zone": rec["grid_zone"], "country_iso3": rec["country_iso3"], "provider": provider,
               "electricitymaps_zone": rec["electricitymaps_zone"], "pue_region": float(rec["pue"]),
               "pue_low_region": float(rec["pue_low"]), "pue_high_region": float(rec["pue_high"]),
               "wue_l_per_kwh": float(rec["wue_l_per_kwh"])}
    else:
        iso3 = _country_iso3(text)
        if iso3 is None:
            raise SealError(f"Unknown region {raw!r}; {ACCEPTED_MESSAGE}.")
        alpha2 = None
        try:
            import pycountry

            country = pycountry.countries.get(alpha_3=iso3)
            alpha2 = country.alpha_2 if country else None
        except Exception:  # pragma: no cover
            alpha2 = None
        row = {"region_zone": iso3, "country_iso3": iso3, "provider": None, "electricitymaps_zone": alpha2,
               "pue_region": D.DEFAULT_PUE, "pue_low_region": D.DEFAULT_PUE_LOW,
               "pue_high_region": D.DEFAULT_PUE_HIGH, "wue_l_per_kwh": D.DEFAULT_WUE_L_PER_KWH}
    zone = row["region_zone"]
    if zone not in mixes.index:
        raise SealError(
            f"No annual electricity mix for region {raw!r} (zone {zone}); use a neighbouring country, WOR, "
            f"or a market-based factor (market_g_per_kwh)."
        )
    row["mix_g_per_kwh"] = float(mixes.at[zone, "gwp_g_per_kwh"])
    row["mix_wue_l_per_kwh"] = float(mixes.at[zone, "wue_l_per_kwh"])
    row["mix_adpe_kg_sbeq_per_kwh"] = float(mixes.at[zone, "adpe_kg_sbeq_per_kwh"])
    row["mix_pe_mj_per_kwh"] = float(mixes.at[zone, "pe_mj_per_kwh"])
    flags = str(mixes.at[zone, "warnings"]).split(";")
    row["mix_adpe_pe_world"] = zone != D.DEFAULT_ZONE and ("electricity-mix-adpe-world" in flags
                                                           or "electricity-mix-pe-world" in flags)
    return row


def resolve_regions(regions: pd.Series | str | None) -> pd.DataFrame:
    """Resolve region spellings to grid zone, PUE (point, low, high), WUE and the annual mix, row by row.

    Args:
        regions: a Series of region strings (missing -> ``WOR``), or one string.

    Returns:
        A DataFrame with :data:`REGION_COLUMNS` and ``annual_source``, aligned with ``regions``' index.

    Raises:
        SealError: an unknown region, naming it and listing what is accepted.
    """
    series = pd.Series([regions]) if regions is None or isinstance(regions, str) else pd.Series(regions)
    codes, table = region_codes(series)
    return pd.DataFrame({col: table[col].to_numpy()[codes] for col in table.columns}, index=series.index)


_FLOAT_REGION_COLUMNS = ("pue_region", "pue_low_region", "pue_high_region", "wue_l_per_kwh", "mix_g_per_kwh",
                         "mix_wue_l_per_kwh", "mix_adpe_kg_sbeq_per_kwh", "mix_pe_mj_per_kwh")


def region_codes(regions: pd.Series) -> tuple[np.ndarray, pd.DataFrame]:
    """(row -> code, one resolved row per distinct region): the compact form of :func:`resolve_regions`, for
    taking only the columns a caller needs. The table's last row is the world average, for missing values."""
    codes, uniques = pd.factorize(pd.Series(regions), use_na_sentinel=True)
    texts = [str(u).strip() for u in uniques]
    # the table is cached per set of spellings (sorted: batches of a log list the same regions in another order):
    # building it costs the same whatever the batch's size (`make bench` profile)
    order = sorted(range(len(texts)), key=texts.__getitem__)
    rank = np.empty(len(texts) + 1, dtype=np.int64)
    rank[order] = np.arange(len(texts))
    rank[len(texts)] = len(texts)                       # missing values: the last row
    table = _regions_table(tuple(texts[i] for i in order))
    return rank[np.where(codes < 0, len(texts), codes)], table


@functools.lru_cache(maxsize=64)
def _regions_table(texts: tuple[str, ...]) -> pd.DataFrame:
    """One resolved row per region spelling in ``texts``, then the world average (for missing values); never
    modified by callers."""
    texts = (*texts, D.DEFAULT_ZONE)
    table = pd.DataFrame([_resolve_one(t or D.DEFAULT_ZONE) for t in texts], columns=list(REGION_COLUMNS))
    table["annual_source"] = [annual_source(z) for z in table["region_zone"]]
    for col in _FLOAT_REGION_COLUMNS:
        table[col] = table[col].astype(np.float64)
    return table


def annual_source(zone: str) -> str:
    """The ``grid_intensity_source`` label of an annual intensity for ``zone`` (source and year)."""
    return f"annual {zone} {D.ANNUAL_INTENSITY_YEAR}: {D.ANNUAL_INTENSITY_SOURCE} (ecologits {ecologits_version()})"


def regions_table() -> pd.DataFrame:
    """Every accepted region for a picker: ``region`` (the code to pass), ``name``, ``kind`` (world | cloud |
    country), ``grid_intensity_g_per_kwh`` (annual), ``pue`` and ``wue_l_per_kwh`` (defaults for that region)."""
    import pycountry

    mixes = load_electricity_mixes()
    cloud = load_cloud_regions()
    world = pd.DataFrame({"region": [D.DEFAULT_ZONE], "name": ["World average"], "kind": ["world"],
                          "grid_intensity_g_per_kwh": [mixes.at[D.DEFAULT_ZONE, "gwp_g_per_kwh"]],
                          "pue": [D.DEFAULT_PUE], "wue_l_per_kwh": [D.DEFAULT_WUE_L_PER_KWH]})
    clouds = pd.DataFrame({
        "region": cloud["provider"] + ":" + cloud["region"],
        "name": cloud["provider"].str.upper() + " " + cloud["region"] + " (" + cloud["location"].astype(str) + ")",
        "kind": "cloud", "grid_intensity_g_per_kwh": cloud["grid_zone"].map(mixes["gwp_g_per_kwh"]).to_numpy(),
        "pue": cloud["pue"], "wue_l_per_kwh": cloud["wue_l_per_kwh"]})
    zones = [z for z in mixes.index if z != D.DEFAULT_ZONE and pycountry.countries.get(alpha_3=z) is not None]
    countries = pd.DataFrame({
        "region": zones, "name": [pycountry.countries.get(alpha_3=z).name for z in zones], "kind": "country",
        "grid_intensity_g_per_kwh": mixes.loc[zones, "gwp_g_per_kwh"].to_numpy(),
        "pue": D.DEFAULT_PUE, "wue_l_per_kwh": D.DEFAULT_WUE_L_PER_KWH}).sort_values("name")
    return pd.concat([world, clouds, countries], ignore_index=True)
