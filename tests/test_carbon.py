"""The carbon stage: each layer against hand-computed values, regions, intervals, boundaries, errors, equivalences.

Frames are synthetic and estimator-shaped, so these tests do not depend on the estimator.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seal.carbon import (BOUNDARIES, accepted_regions, add_carbon, boundary_layers, defaults_table, equivalences,
                         load_cloud_regions, load_electricity_mixes, per_day, per_year, regions_table,
                         resolve_regions, scale_up,
                         water_breakdown)
from seal.carbon import defaults as D
from seal.columns import CARBON_COLUMNS
from seal.errors import WARNINGS, SealError

YEAR_S = 365 * 24 * 3600
ECOLOGITS_MIXES = Path(__import__("ecologits").__file__).parent / "data" / "electricity_mixes.json"


def mix(zone: str) -> float:
    """g CO2e/kWh of an EcoLogits zone, read straight from the package's JSON."""
    data = json.loads(ECOLOGITS_MIXES.read_text())["electricity_mixes"]
    return {m["name"]: m["gwp"] for m in data}[zone] * 1000.0


def mix_wue(zone: str) -> float:
    data = json.loads(ECOLOGITS_MIXES.read_text())["electricity_mixes"]
    return {m["name"]: m["wue"] for m in data}[zone]


def frame(**overrides) -> pd.DataFrame:
    row = {"gpu_energy_j": 1000.0, "gpu_energy_low_j": 800.0, "gpu_energy_high_j": 1300.0, "gpu_time_s": 2.0,
           "gpus": 1, "gpu_model": "TEST-GPU-NOT-IN-TABLE", "region": "azure:swedencentral",
           "timestamp": pd.NaT, "warnings": ""}
    row.update(overrides)
    return pd.DataFrame([row])


# --- layers, hand-computed -------------------------------------------------------------------------------------------

def test_each_layer_hand_computed():
    out = add_carbon(frame(), idle_overhead=0.1).iloc[0]
    # host: 1200 W per 8-GPU server -> 150 W per GPU-second; 2 GPU-s -> 300 J
    assert out["host_energy_j"] == pytest.approx(300.0)
    # idle: 0.1 x (1000 + 300)
    assert out["idle_energy_j"] == pytest.approx(130.0)
    assert out["it_energy_j"] == pytest.approx(1430.0)
    # Azure Sweden Central PUE 1.16 (seal/data/facts/cloud_regions.csv)
    assert out["pue"] == pytest.approx(1.16)
    assert out["facility_energy_j"] == pytest.approx(1430.0 * 1.16)
    assert out["grid_intensity_g_per_kwh"] == pytest.approx(mix("SWE"))
    assert out["operational_g_co2e"] == pytest.approx(1658.8 / 3.6e6 * mix("SWE"))
    # embodied: 2 GPU-s of a 273 kg GPU over 3 years + 2/8 server-s of a 5700 kg server over 3 years
    embodied = 2 * 273_000 / (3 * YEAR_S) + (2 / 8) * 5_700_000 / (3 * YEAR_S)
    assert out["embodied_g_co2e"] == pytest.approx(embodied)
    assert out["embodied_g_co2e"] == pytest.approx(1_971_000 / 94_608_000)
    assert out["total_g_co2e"] == pytest.approx(1658.8 / 3.6e6 * mix("SWE") + embodied)
    # water: on-site WUE 0.09 L/kWh x IT + off-site mix WUE x facility, in mL
    assert out["wue_l_per_kwh"] == pytest.approx(0.09)
    assert out["water_ml"] == pytest.approx(1000 * (1430 / 3.6e6 * 0.09 + 1658.8 / 3.6e6 * mix_wue("SWE")))
    assert out["region_zone"] == "SWE"
    assert "SWE" in out["grid_intensity_source"] and "2024" in out["grid_intensity_source"]


def test_interval_hand_computed_with_region_pue_range():
    out = add_carbon(frame(), idle_overhead=0.1).iloc[0]
    embodied = out["embodied_g_co2e"]
    # low: 800 J accelerator, PUE low 1.12; high: 1300 J, PUE high 1.25 (Azure rows of seal/data/facts/cloud_regions.csv)
    low_it, high_it = (800 + 300) * 1.1, (1300 + 300) * 1.1
    assert out["total_low_g_co2e"] == pytest.approx(low_it * 1.12 / 3.6e6 * mix("SWE") + embodied)
    assert out["total_high_g_co2e"] == pytest.approx(high_it * 1.25 / 3.6e6 * mix("SWE") + embodied)
    assert out["total_low_g_co2e"] < out["total_g_co2e"] < out["total_high_g_co2e"]


def test_user_pue_is_exact_and_interval_from_energy_only():
    out = add_carbon(frame(), pue=1.3, idle_overhead=0.0).iloc[0]
    assert out["pue"] == 1.3
    assert out["total_low_g_co2e"] == pytest.approx(1100 * 1.3 / 3.6e6 * mix("SWE") + out["embodied_g_co2e"])


def test_default_idle_overhead_is_google_share():
    out = add_carbon(frame()).iloc[0]
    assert D.IDLE_OVERHEAD == pytest.approx(0.10 / 0.83)
    assert out["idle_energy_j"] == pytest.approx(1300 * 0.10 / 0.83)


def test_unknown_gpu_time_uses_google_host_share_and_warns():
    out = add_carbon(frame(gpu_time_s=np.nan, warnings="transferred-gpu"), idle_overhead=0.0).iloc[0]
    assert out["host_energy_j"] == pytest.approx(1000 * 0.25 / 0.58)
    assert out["embodied_g_co2e"] == 0.0
    assert out["warnings"] == "transferred-gpu;gpu-time-unknown"
    assert "gpu-time-unknown" in WARNINGS


def test_host_power_and_lifetimes_overridable():
    base = add_carbon(frame(), idle_overhead=0.0).iloc[0]
    out = add_carbon(frame(), idle_overhead=0.0, host_power_w=2400, gpu_lifetime_years=6,
                     server_lifetime_years=6).iloc[0]
    assert out["host_energy_j"] == pytest.approx(600.0)
    assert out["embodied_g_co2e"] == pytest.approx(base["embodied_g_co2e"] / 2)


def test_gpu_embodied_from_gpu_table(monkeypatch):
    import seal.data.gpus as gpus

    table = pd.DataFrame({"gpu": ["FAKE-GPU"], "embodied_kg_co2e": [100.0]})
    monkeypatch.setattr(gpus, "load_gpus", lambda *a, **k: table)
    out = add_carbon(frame(gpu_model="FAKE-GPU")).iloc[0]
    assert out["embodied_g_co2e"] == pytest.approx(2 * 100_000 / (3 * YEAR_S) + (2 / 8) * 5_700_000 / (3 * YEAR_S))


def test_output_adds_exactly_the_contract_columns():
    f = frame()
    out = add_carbon(f)
    assert set(out.columns) - set(f.columns) == set(CARBON_COLUMNS) | {"region_zone", "wue_l_per_kwh"}
    assert list(out.index) == list(f.index)
    assert f.columns.tolist() == frame().columns.tolist()  # input not modified


# --- regions ---------------------------------------------------------------------------------------------------------

def test_changing_only_region_scales_operational_exactly_by_intensity_ratio():
    fr = add_carbon(frame(region="FRA")).iloc[0]
    de = add_carbon(frame(region="Germany")).iloc[0]
    assert fr["pue"] == de["pue"]
    ratio = de["operational_g_co2e"] / fr["operational_g_co2e"]
    assert ratio == pytest.approx(mix("DEU") / mix("FRA"), rel=1e-12)
    assert ratio == pytest.approx(de["grid_intensity_g_per_kwh"] / fr["grid_intensity_g_per_kwh"], rel=1e-12)
    assert de["embodied_g_co2e"] == fr["embodied_g_co2e"]


def test_sweden_central_and_mumbai_differ_as_their_grids():
    f = pd.concat([frame(region="azure:swedencentral"), frame(region="aws:ap-south-1")], ignore_index=True)
    out = add_carbon(f, pue=1.2)
    assert out["region_zone"].tolist() == ["SWE", "IND"]
    assert out["grid_intensity_g_per_kwh"].tolist() == pytest.approx([mix("SWE"), mix("IND")])
    ratio = out["operational_g_co2e"].iloc[1] / out["operational_g_co2e"].iloc[0]
    assert ratio == pytest.approx(mix("IND") / mix("SWE"), rel=1e-12)
    assert ratio > 10  # Indian grid ~670 g/kWh vs Swedish ~35 g/kWh
    # with each provider's own PUE (Azure Sweden 1.16, AWS 1.14) the ratio is grid ratio x PUE ratio
    own = add_carbon(f)
    assert own["operational_g_co2e"].iloc[1] / own["operational_g_co2e"].iloc[0] == pytest.approx(
        mix("IND") / mix("SWE") * 1.14 / 1.16, rel=1e-12)


def test_same_provider_regions_scale_exactly_by_intensity_ratio():
    f = pd.concat([frame(region="aws:us-east-1"), frame(region="aws:eu-west-3")], ignore_index=True)
    out = add_carbon(f)
    assert out["operational_g_co2e"].iloc[0] / out["operational_g_co2e"].iloc[1] == pytest.approx(
        mix("USA") / mix("FRA"), rel=1e-12)


@pytest.mark.parametrize("spelling", ["FR", "FRA", "France", "fra", " france "])
def test_country_spellings(spelling):
    assert resolve_regions(pd.Series([spelling]))["region_zone"].tolist() == ["FRA"]


@pytest.mark.parametrize("spelling, zone", [("UK", "GBR"), ("Great Britain", "GBR"), ("United States", "USA"),
                                            ("US", "USA"), ("Turkey", "TUR"), ("Taiwan", "TWN")])
def test_common_country_names(spelling, zone):
    assert resolve_regions(spelling)["region_zone"].tolist() == [zone]


def test_every_listed_region_resolves_to_its_listed_intensity():
    table = regions_table()
    resolved = resolve_regions(table["region"])
    assert set(table["kind"]) == {"world", "cloud", "country"}
    assert len(table) > 250
    assert resolved["mix_g_per_kwh"].tolist() == pytest.approx(table["grid_intensity_g_per_kwh"].tolist())
    assert resolved["pue_region"].tolist() == pytest.approx(table["pue"].tolist())


@pytest.mark.parametrize("spelling", [None, np.nan, "", "WOR", "world"])
def test_missing_region_is_world_average(spelling):
    out = add_carbon(frame(region=spelling)).iloc[0]
    assert out["region_zone"] == "WOR"
    assert out["grid_intensity_g_per_kwh"] == pytest.approx(mix("WOR"))
    assert out["pue"] == D.DEFAULT_PUE


def test_frame_without_region_column():
    out = add_carbon(frame().drop(columns=["region", "timestamp", "warnings"]))
    assert out["region_zone"].tolist() == ["WOR"]


def test_cloud_region_spellings_and_aliases():
    out = resolve_regions(pd.Series(["aws:US-EAST-1", "amazon:us-east-1", "google:europe-west1", "gcp:europe-west1",
                                     "microsoft:swedencentral"]))
    assert out["region_zone"].tolist() == ["USA", "USA", "BEL", "BEL", "SWE"]
    assert out["provider"].tolist() == ["aws", "aws", "gcp", "gcp", "azure"]
    assert out["pue_region"].tolist() == [1.14, 1.14, 1.09, 1.09, 1.16]


def test_cloud_regions_table_is_sourced_and_consistent():
    table = load_cloud_regions()
    mixes = load_electricity_mixes()
    assert table["source"].str.len().min() > 40
    assert (table.groupby("provider").size() >= 20).all()
    assert set(table["provider"]) == {"aws", "gcp", "azure"}
    assert not table.duplicated(["provider", "region"]).any()
    assert (table["pue_low"] <= table["pue"]).all() and (table["pue"] <= table["pue_high"]).all()
    assert (table["pue_low"] >= 1.0).all() and (table["wue_l_per_kwh"] >= 0).all()
    assert table["grid_zone"].isin(mixes.index).all()
    assert "aws:ap-south-1" in accepted_regions() and "azure:swedencentral" in accepted_regions()


def test_many_rows_resolve_once_per_region():
    n = 100_000
    f = pd.concat([frame()] * 2, ignore_index=True).sample(n, replace=True, random_state=0).reset_index(drop=True)
    f["region"] = np.where(np.arange(n) % 2 == 0, "FR", "aws:us-east-1")
    out = add_carbon(f)
    assert out["region_zone"].value_counts().to_dict() == {"FRA": n // 2, "USA": n // 2}


# --- market factor, boundaries ---------------------------------------------------------------------------------------

def test_market_based_factor_is_labelled_and_warned():
    out = add_carbon(frame(warnings="transferred-gpu"), market_g_per_kwh=50.0, idle_overhead=0.1).iloc[0]
    assert out["grid_intensity_g_per_kwh"] == 50.0
    assert out["grid_intensity_source"] == "market-based 50 g/kWh (user-given)"
    assert out["warnings"] == "transferred-gpu;market-based-factor;default-embodied"
    assert out["operational_g_co2e"] == pytest.approx(1658.8 / 3.6e6 * 50.0)


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_warnings_column_of_any_string_dtype(dtype):
    f = pd.concat([frame(warnings="transferred-gpu"), frame(warnings=None)], ignore_index=True)
    f["warnings"] = f["warnings"].astype(dtype)
    out = add_carbon(f, market_g_per_kwh=10.0)
    assert out["warnings"].tolist() == ["transferred-gpu;market-based-factor;default-embodied",
                                      "market-based-factor;default-embodied"]


def test_market_factor_zero_is_allowed():
    assert add_carbon(frame(), market_g_per_kwh=0)["operational_g_co2e"].iloc[0] == 0.0


@pytest.mark.parametrize("boundary, it_j, pue, embodied", [
    ("accelerator", 1000.0, 1.0, False),
    ("server", 1300.0, 1.0, False),
    ("it", 1430.0, 1.0, False),
    ("facility", 1430.0, 1.16, False),
    ("full", 1430.0, 1.16, True),
])
def test_boundaries_add_one_layer_each(boundary, it_j, pue, embodied):
    out = add_carbon(frame(), boundary=boundary, idle_overhead=0.1).iloc[0]
    assert out["it_energy_j"] == pytest.approx(it_j)
    assert out["pue"] == pytest.approx(pue)
    assert out["operational_g_co2e"] == pytest.approx(it_j * pue / 3.6e6 * mix("SWE"))
    assert bool(out["embodied_g_co2e"] > 0) == embodied
    assert BOUNDARIES[-1] == "full"


def test_boundary_layers_waterfall_sums_to_totals():
    f = pd.concat([frame(), frame(region="aws:ap-south-1", gpu_energy_j=3000.0), frame(gpu_time_s=np.nan)],
                  ignore_index=True)
    out = add_carbon(f)
    layers = boundary_layers(out)
    assert layers["layer"].tolist() == ["accelerator", "host CPU/RAM/network", "idle/provisioning",
                                        "facility (PUE)", "embodied", "total"]
    body = layers.iloc[:-1]
    assert body["g_co2e"].sum() == pytest.approx(out["total_g_co2e"].sum())
    assert body["energy_j"].sum() == pytest.approx(out["facility_energy_j"].sum())
    assert layers["energy_j"].iloc[0] == pytest.approx(out["gpu_energy_j"].sum())
    assert layers["energy_wh"].iloc[-1] == pytest.approx(out["facility_energy_j"].sum() / 3600)
    assert layers["cumulative_g_co2e"].iloc[-1] == pytest.approx(out["total_g_co2e"].sum())
    with pytest.raises(SealError, match="scored by add_carbon"):
        boundary_layers(f)


def test_water_breakdown_parts():
    out = add_carbon(frame(), idle_overhead=0.1)
    parts = water_breakdown(out).iloc[0]
    assert parts["onsite_water_ml"] == pytest.approx(1000 * 1430 / 3.6e6 * 0.09)
    assert parts["onsite_water_ml"] + parts["offsite_water_ml"] == pytest.approx(out["water_ml"].iloc[0])


# --- errors ----------------------------------------------------------------------------------------------------------

def test_unknown_region_error_lists_what_is_accepted():
    with pytest.raises(SealError) as err:
        add_carbon(frame(region="Atlantis"))
    assert str(err.value) == (
        "Unknown region 'Atlantis'; accepted: ISO 3166 country codes or names (FR, FRA, France), WOR (world "
        "average), or cloud regions provider:region with provider aws, gcp or azure (e.g. aws:us-east-1, "
        "gcp:europe-west1, azure:swedencentral; full list: seal.carbon.accepted_regions()).")
    with pytest.raises(SealError, match="Unknown region 'aws:mars-north-1'"):
        add_carbon(frame(region="aws:mars-north-1"))
    with pytest.raises(SealError, match="Unknown region 'ibm:us-south'"):
        add_carbon(frame(region="ibm:us-south"))


def test_bad_numbers_are_clear_errors():
    with pytest.raises(SealError) as err:
        add_carbon(frame(), pue=0.9)
    assert str(err.value) == "pue must be a number at least 1, got 0.9."
    with pytest.raises(SealError) as err:
        add_carbon(frame(), market_g_per_kwh=-5)
    assert str(err.value) == "market_g_per_kwh must be a number at least 0 g CO2e/kWh, got -5."
    with pytest.raises(SealError) as err:
        add_carbon(frame(), gpu_lifetime_years=0)
    assert str(err.value) == "gpu_lifetime_years must be a number greater than 0 years, got 0."
    with pytest.raises(SealError) as err:
        add_carbon(frame(), server_lifetime_years=-1)
    assert str(err.value) == "server_lifetime_years must be a number greater than 0 years, got -1."
    with pytest.raises(SealError, match="host_power_w must be a number at least 0 W"):
        add_carbon(frame(), host_power_w=-1)
    with pytest.raises(SealError, match="idle_overhead must be a number at least 0"):
        add_carbon(frame(), idle_overhead=-0.1)
    with pytest.raises(SealError, match="pue must be a number at least 1, got 'abc'"):
        add_carbon(frame(), pue="abc")
    with pytest.raises(SealError) as err:
        add_carbon(frame(), boundary="gpu")
    assert str(err.value) == "Unknown boundary 'gpu'; accepted: accelerator, server, it, facility, full."


# --- defaults and their sources -------------------------------------------------------------------------------------

def test_embodied_and_server_constants_match_installed_ecologits():
    from ecologits.impacts import llm

    assert D.GPU_EMBODIED_KG_CO2E == llm.GPU_EMBODIED_IMPACT_GWP
    assert D.SERVER_EMBODIED_KG_CO2E == llm.SERVER_EMBODIED_IMPACT_GWP
    assert D.HOST_POWER_W == llm.SERVER_POWER * 1000
    assert D.SERVER_GPUS == llm.SERVER_GPUS
    assert D.GPU_LIFETIME_YEARS * YEAR_S == llm.HARDWARE_LIFESPAN


def test_mixes_match_ecologits_repository():
    from ecologits.electricity_mix_repository import electricity_mixes

    mixes = load_electricity_mixes()
    for zone in ("SWE", "IND", "FRA", "USA", "WOR"):
        assert mixes.at[zone, "gwp_g_per_kwh"] == pytest.approx(electricity_mixes.find_electricity_mix(zone).gwp * 1000)


def test_defaults_table_has_a_source_per_row():
    table = defaults_table()
    assert table["source"].str.len().min() > 10
    assert {"host_power_w", "idle_overhead", "gpu_lifetime_years"} <= set(table["name"])


# --- equivalences and scale-up ---------------------------------------------------------------------------------------

def test_equivalences_each_sourced():
    eq = equivalences(248.548477, facility_energy_j=3600.0 * 116.3).set_index("name")
    assert eq.at["distance by petrol car", "value"] == pytest.approx(248.548477 / (400 / 1.609344))
    assert eq.at["distance by petrol car", "value"] == pytest.approx(1.0, rel=1e-6)
    assert eq.at["kettle boils (1 L)", "value"] == pytest.approx(116.3 / (4.186 * 85 / 0.85 / 3.6))
    assert eq.at["web searches", "value"] == pytest.approx(116.3 / 0.3)
    assert eq.at["smartphone charges", "value"] == pytest.approx(116.3 / (3.095 * 3.83))
    assert eq["source"].str.len().min() > 20
    assert equivalences(1.0)["name"].tolist() == ["distance by petrol car"]


def test_scale_up():
    assert per_day(0.5, 1_000_000) == 500_000.0
    assert per_year(0.5, 1_000_000) == 500_000.0 * 365
    table = scale_up({"total_g_co2e": 0.5, "water_ml": 2.0}, 1000).set_index("quantity")
    assert table.at["water_ml", "per_year"] == 2.0 * 1000 * 365
    with pytest.raises(SealError, match="requests_per_day must be a non-negative number"):
        per_day(1.0, -3)
    assert math.isclose(per_day(np.array([1.0, 2.0]), 10)[1], 20.0)
