"""Abiotic resource depletion (ADPe, kg Sb eq) and primary energy (PE, MJ), as life-cycle assessments report them:
usage (facility energy x the zone's factor) + embodied (manufacturing amortised by GPU-seconds), hand-computed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_carbon import frame

from seal.carbon import add_carbon, defaults_table
from seal.carbon import defaults as D
from seal.columns import CARBON_COLUMNS

YEAR_S = 365 * 24 * 3600
MIXES = {m["name"]: m for m in json.loads(
    (Path(__import__("ecologits").__file__).parent / "data" / "electricity_mixes.json").read_text())["electricity_mixes"]}

LCA_COLUMNS = ("adpe_kg_sbeq", "adpe_low_kg_sbeq", "adpe_high_kg_sbeq", "adpe_usage_kg_sbeq", "adpe_usage_low_kg_sbeq",
               "adpe_usage_high_kg_sbeq", "adpe_embodied_kg_sbeq", "primary_energy_mj", "primary_energy_low_mj",
               "primary_energy_high_mj", "primary_energy_usage_mj", "primary_energy_usage_low_mj",
               "primary_energy_usage_high_mj", "primary_energy_embodied_mj")


def test_the_columns_are_part_of_the_contract():
    assert set(LCA_COLUMNS) <= set(CARBON_COLUMNS)


def test_adpe_and_pe_hand_computed_per_layer():
    out = add_carbon(frame(), idle_overhead=0.1).iloc[0]
    facility_kwh = 1430.0 * 1.16 / 3.6e6                      # accelerator 1000 + host 300 + idle 130, PUE 1.16
    swe = MIXES["SWE"]
    assert out["adpe_usage_kg_sbeq"] == pytest.approx(facility_kwh * swe["adpe"])
    assert out["primary_energy_usage_mj"] == pytest.approx(facility_kwh * swe["pe"])
    # embodied: 2 GPU-s of a GPU (0.00895 kg Sb eq, 3721 MJ) + 2/8 server-s of a server (0.37 kg Sb eq, 70 000 MJ),
    # each over 3 years (EcoLogits 0.11.3 ecologits/impacts/llm.py)
    adpe_emb = 2 * 0.00895 / (3 * YEAR_S) + (2 / 8) * 0.37 / (3 * YEAR_S)
    pe_emb = 2 * 3721 / (3 * YEAR_S) + (2 / 8) * 70_000 / (3 * YEAR_S)
    assert out["adpe_embodied_kg_sbeq"] == pytest.approx(adpe_emb)
    assert out["primary_energy_embodied_mj"] == pytest.approx(pe_emb)
    assert out["adpe_kg_sbeq"] == pytest.approx(facility_kwh * swe["adpe"] + adpe_emb)
    assert out["primary_energy_mj"] == pytest.approx(facility_kwh * swe["pe"] + pe_emb)


def test_interval_flows_through_the_usage_part():
    out = add_carbon(frame(), pue=1.2, idle_overhead=0.1).iloc[0]
    swe = MIXES["SWE"]
    low_kwh = (800 + 300 + 0.1 * 1100) * 1.2 / 3.6e6          # the low accelerator energy through the same layers
    high_kwh = (1300 + 300 + 0.1 * 1600) * 1.2 / 3.6e6
    assert out["primary_energy_usage_low_mj"] == pytest.approx(low_kwh * swe["pe"])
    assert out["primary_energy_usage_high_mj"] == pytest.approx(high_kwh * swe["pe"])
    assert out["adpe_usage_low_kg_sbeq"] == pytest.approx(low_kwh * swe["adpe"])
    assert out["primary_energy_low_mj"] == pytest.approx(low_kwh * swe["pe"] + out["primary_energy_embodied_mj"])
    assert out["adpe_low_kg_sbeq"] <= out["adpe_kg_sbeq"] <= out["adpe_high_kg_sbeq"]
    assert out["primary_energy_low_mj"] < out["primary_energy_mj"] < out["primary_energy_high_mj"]


def test_a_region_change_scales_the_usage_parts_exactly_by_the_factor_ratio():
    fra = add_carbon(frame(region="FR"), pue=1.3).iloc[0]
    deu = add_carbon(frame(region="DEU"), pue=1.3).iloc[0]
    assert fra["facility_energy_j"] == deu["facility_energy_j"]
    assert deu["primary_energy_usage_mj"] / fra["primary_energy_usage_mj"] == pytest.approx(
        MIXES["DEU"]["pe"] / MIXES["FRA"]["pe"], rel=1e-12)
    assert deu["adpe_usage_kg_sbeq"] / fra["adpe_usage_kg_sbeq"] == pytest.approx(
        MIXES["DEU"]["adpe"] / MIXES["FRA"]["adpe"], rel=1e-12)
    assert deu["adpe_embodied_kg_sbeq"] == fra["adpe_embodied_kg_sbeq"]        # manufacturing does not move


def test_a_market_factor_changes_co2e_only():
    base = add_carbon(frame(region="FR")).iloc[0]
    market = add_carbon(frame(region="FR"), market_g_per_kwh=0.0).iloc[0]
    assert market["operational_g_co2e"] == 0.0
    assert market["primary_energy_mj"] == base["primary_energy_mj"]
    assert market["adpe_kg_sbeq"] == base["adpe_kg_sbeq"]


def test_a_zone_without_its_own_factors_is_warned():
    world_valued = next(z for z, m in MIXES.items() if "electricity-mix-pe-world" in (m.get("warnings") or [])
                        and z != "WOR")
    own = next(z for z, m in MIXES.items() if not (m.get("warnings") or []) and z != "WOR")
    assert "adpe-pe-world-mix" in add_carbon(frame(region=world_valued)).iloc[0]["warnings"]
    assert "adpe-pe-world-mix" not in add_carbon(frame(region=own)).iloc[0]["warnings"]
    assert "adpe-pe-world-mix" not in add_carbon(frame(region="WOR")).iloc[0]["warnings"]


@pytest.mark.parametrize("boundary, embodied", [("accelerator", False), ("facility", False), ("full", True)])
def test_same_boundaries_as_co2e(boundary, embodied):
    out = add_carbon(frame(), boundary=boundary, idle_overhead=0.1).iloc[0]
    assert out["primary_energy_usage_mj"] == pytest.approx(out["facility_energy_j"] / 3.6e6 * MIXES["SWE"]["pe"])
    assert bool(out["primary_energy_embodied_mj"] > 0) == embodied == bool(out["adpe_embodied_kg_sbeq"] > 0)


def test_lifetimes_override_the_embodied_parts():
    short = add_carbon(frame(), gpu_lifetime_years=1.5, server_lifetime_years=1.5).iloc[0]
    base = add_carbon(frame()).iloc[0]
    assert short["primary_energy_embodied_mj"] == pytest.approx(2 * base["primary_energy_embodied_mj"])


def test_every_factor_is_listed_with_a_source():
    table = defaults_table()
    for name in ("gpu_embodied_kg_sbeq", "gpu_embodied_pe_mj", "server_embodied_kg_sbeq", "server_embodied_pe_mj",
                 "electricity ADPe (annual)", "electricity primary energy (annual)"):
        row = table[table["name"] == name]
        assert len(row) == 1 and "EcoLogits" in row["source"].iloc[0]
    assert D.GPU_EMBODIED_PE_MJ == 3721.0 and D.SERVER_EMBODIED_KG_SBEQ == 0.37


def test_every_output_format_keeps_the_tiny_adpe_values(tmp_path):
    """ADPe per request is ~1e-11 kg Sb eq: JSON must not round it to 0 (pandas' default 10 decimals did)."""
    import pandas as pd

    from seal.cli import main

    outs = {}
    for fmt in ("csv", "json", "jsonl", "parquet"):
        out = tmp_path / f"r.{fmt}"
        assert main(["--db", str(tmp_path / "none.duckdb"), "estimate", "Hello there", "--model",
                     "meta-llama/Meta-Llama-3.1-8B-Instruct", "--region", "FR", "--out", str(out)]) == 0
        read = {"csv": pd.read_csv, "parquet": pd.read_parquet, "json": pd.read_json,
                "jsonl": lambda p: pd.read_json(p, lines=True)}[fmt]
        outs[fmt] = read(out).iloc[0]
    for fmt in ("json", "jsonl", "parquet"):
        for col in ("adpe_kg_sbeq", "adpe_usage_kg_sbeq", "adpe_embodied_kg_sbeq", "primary_energy_mj"):
            assert outs[fmt][col] > 0
            assert outs[fmt][col] == pytest.approx(outs["csv"][col], rel=1e-3), (fmt, col)
