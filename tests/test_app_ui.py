"""The dashboard's display helpers (seal.ui), without a browser or a script run (what-if: tests/test_whatif.py)."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from seal.errors import SealError
from seal.ui import aggregate, charts, export
from seal.ui.format import (ENERGY_UNITS, MASS_UNITS, axis_unit, fmt_count, fmt_energy, fmt_interval, fmt_mass,
                            fmt_pct, fmt_water, fmt_with_interval)


# ---------------------------------------------------------------- SI formatting
@pytest.mark.parametrize("joules, text", [
    (0.5, "500 mJ"), (1.0, "1.00 J"), (360.0, "360 J"), (3600.0, "1.00 Wh"), (5.2 * 3600, "5.20 Wh"),
    (3.6e6, "1.00 kWh"), (2.5 * 3.6e9, "2.50 MWh"),
])
def test_energy_prefixes(joules, text):
    assert fmt_energy(joules) == text


@pytest.mark.parametrize("grams, text", [
    (0.0004, "400 µg"), (0.0123, "12.3 mg"), (1.5, "1.50 g"), (12345.0, "12.3 kg"), (2.0e6, "2.00 t"),
])
def test_mass_prefixes(grams, text):
    assert fmt_mass(grams) == text


def test_water_counts_pct_and_missing_values():
    assert fmt_water(1500.0) == "1.50 L"
    assert fmt_count(42) == "42"
    assert fmt_count(1234) == "1\u2009234"
    assert fmt_count(12_345_678) == "12.3M"
    assert fmt_pct(-0.234, signed=True) == "-23 %"
    assert fmt_pct(0.5, signed=True) == "+50 %"
    assert fmt_energy(float("nan")) == "–" and fmt_mass(None) == "–"


def test_interval_uses_one_unit_chosen_from_its_upper_end():
    assert fmt_interval(0.8, 1.6, MASS_UNITS) == "0.80–1.6 g"
    assert fmt_interval(600.0, 1500.0, MASS_UNITS) == "0.60–1.5 kg"
    assert fmt_with_interval(1.2, 0.8, 1.6, MASS_UNITS) == "1.20 g (80 %: 0.80–1.6 g)"


def test_axis_unit_follows_the_largest_value():
    assert axis_unit([10.0, 2000.0, 7200.0], ENERGY_UNITS) == ("Wh", 3600.0)
    assert axis_unit([0.002, 0.004], MASS_UNITS) == ("mg", 1e-3)
    assert axis_unit([np.nan], MASS_UNITS) == ("g", 1.0)


# ---------------------------------------------------------------- aggregation for display
def _results(n: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    total = rng.uniform(0.1, 2.0, n)
    return pd.DataFrame({
        "timestamp": pd.date_range("2026-01-01", periods=n, freq="7h", tz="UTC"),
        "model": ["a", "b"] * (n // 2), "app": ["x"] * n,
        "input_tokens": np.arange(n) + 10, "output_tokens": np.arange(n) + 100,
        "prefill_energy_j": np.full(n, 10.0), "decode_energy_j": np.full(n, 30.0),
        "gpu_energy_j": np.full(n, 40.0), "facility_energy_j": np.full(n, 60.0),
        "operational_g_co2e": total * 0.9, "embodied_g_co2e": total * 0.1,
        "total_g_co2e": total, "total_low_g_co2e": total * 0.7, "total_high_g_co2e": total * 1.5,
        "prompt": [f"prompt {i}" for i in range(n)],
    })


def test_totals_groups_and_time_buckets_add_up():
    r = _results()
    tot = aggregate.totals(r)
    assert tot["requests"] == 6 and tot["gpu_energy_j"] == pytest.approx(240.0)
    assert tot["total_low_g_co2e"] == pytest.approx(r["total_low_g_co2e"].sum())
    by_model = aggregate.grouped(r, "model")
    assert set(by_model["model"]) == {"a", "b"}
    assert by_model["total_g_co2e"].sum() == pytest.approx(r["total_g_co2e"].sum())
    assert by_model["requests"].sum() == 6
    assert by_model["total_g_co2e"].is_monotonic_decreasing
    daily = aggregate.over_time(r, "D")
    assert daily["total_g_co2e"].sum() == pytest.approx(r["total_g_co2e"].sum())
    assert daily["requests"].sum() == 6 and len(daily) == 2
    top = aggregate.grouped(r, "prompt", top=2)
    assert top["prompt"].iloc[-1] == "(other)" and top["requests"].sum() == 6


def test_phase_split_allocates_operational_by_gpu_energy_and_keeps_the_total():
    r = _results()
    split = aggregate.phase_split(r)
    assert split.sum(axis=1).to_numpy() == pytest.approx(r["total_g_co2e"].to_numpy())
    assert (split["decode_g_co2e"] / split["prefill_g_co2e"]).to_numpy() == pytest.approx(np.full(6, 3.0))


def test_split_prompts_by_line_and_by_block():
    text = "first line\nsecond line\n\n  third block  \n"
    assert aggregate.split_prompts(text, "line") == ["first line", "second line", "third block"]
    assert aggregate.split_prompts(text, "block") == ["first line\nsecond line", "third block"]
    assert aggregate.split_prompts("  \n\n ", "line") == []


def test_energy_per_token_uses_decode_where_split_else_whole_request():
    runs = pd.DataFrame({"decode_energy_j": [63.0, np.nan], "request_energy_j": [80.0, 500.0],
                         "output_tokens": [63.0, 250.0]})
    out = aggregate.energy_per_token(runs)
    assert out["energy_per_output_token_j"].tolist() == pytest.approx([1.0, 2.0])
    assert out["energy_per_token_basis"].tolist() == ["decode only", "whole request"]


# ---------------------------------------------------------------- charts
def test_charts_carry_units_and_the_okabe_ito_palette():
    r = _results()
    fig = charts.phase_bars(aggregate.phase_split(r), r["prompt"].tolist())
    assert isinstance(fig, go.Figure)
    assert "CO2e per prompt (" in fig.layout.xaxis.title.text
    assert [t.marker.color for t in fig.data] == ["#0072B2", "#E69F00", "#009E73"]
    layers = pd.DataFrame({"layer": ["accelerator", "host", "total"], "g_co2e": [1.0, 0.5, 1.5],
                           "measure": ["relative", "relative", "total"]})
    wf = charts.waterfall(layers)
    assert wf.layout.yaxis.title.text == "CO2e (g)"
    hist = charts.histogram(pd.Series(np.logspace(-3, 1, 1000)), bins=20)
    assert len(hist.data[0].x) == 20 and hist.data[0].y.sum() == 1000
    assert "(count)" in hist.layout.yaxis.title.text
    tb = charts.time_bars(aggregate.over_time(r, "h"))
    assert "(mg)" in tb.layout.yaxis.title.text or "(g)" in tb.layout.yaxis.title.text
    for f in (fig, wf, hist, tb):
        assert f.layout.xaxis.title.text and f.layout.yaxis.title.text


# ---------------------------------------------------------------- exports
def test_exports_round_trip_csv_parquet_json():
    r = _results()
    back = pd.read_csv(io.BytesIO(export.to_csv(r)))
    assert back["total_g_co2e"].to_numpy() == pytest.approx(r["total_g_co2e"].to_numpy())
    back = pd.read_parquet(io.BytesIO(export.to_parquet(r)))
    assert back["total_g_co2e"].to_numpy() == pytest.approx(r["total_g_co2e"].to_numpy())
    records = json.loads(export.to_json(r))
    assert len(records) == 6 and records[0]["timestamp"].startswith("2026-01-01T00:00:00")


def test_scenario_file_round_trip_and_clear_errors():
    inputs = {"prompts": ["a", "b"], "model": "m", "batch_size": 8}
    data = export.scenario_to_json("Estimate", inputs)
    assert export.scenario_from_json(data, page="Estimate") == inputs
    with pytest.raises(SealError, match="not valid JSON"):
        export.scenario_from_json(b"{not json")
    with pytest.raises(SealError, match="not a SEAL scenario"):
        export.scenario_from_json(b'{"a": 1}')
    with pytest.raises(SealError, match="saved on the 'Estimate' page"):
        export.scenario_from_json(data, page="What-if")


def test_html_report_is_self_contained_with_charts():
    r = _results()
    html = export.html_report("Report", figures=[("Phases", charts.phase_bars(aggregate.phase_split(r), r["prompt"]))],
                              tables=[("Rows", r.head(2))], notes=["note"], scenario={"model": "m"}).decode()
    assert html.startswith("<!DOCTYPE html>") and "Phases" in html and "<table" in html
    assert "<script" not in html and "<svg" in html  # charts as static SVG: opens offline, at once
    assert len(html) < 100_000 and html.count("<svg") == 1
