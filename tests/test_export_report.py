"""Exports a reviewer can trust (issue 13, item 6) and a fresh install that explains itself (item 7): the HTML
report carries the assumptions, the warnings as sentences, energy, CO2e and water with intervals and equivalences,
and stays small; the scenario file holds what the rows resolved to; the CSV has SEAL's documented columns; the
Benchmarks and Accuracy pages on a store without benchmark runs show the shipped facts and no exception text."""
from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest

import seal
from seal.columns import CSV_COLUMNS
from seal.errors import WARNINGS
from seal.sample_log import SAMPLE_LOG_NAME
from seal.ui import aggregate, charts, export, loaders
from _paths import REPO



def _app(page: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture()
def sample_log_summary(tmp_path, clean_app):
    path = tmp_path / "sample.csv"
    path.write_bytes(loaders.sample_upload().getvalue())
    log, _line = loaders.summarize_log(path, SAMPLE_LOG_NAME, {})
    return log


def _log_report(log) -> bytes:
    figures = [("CO2e over time", charts.time_bars(log.over_time("h"))),
               ("CO2e by user", charts.bars(log.top_groups("user")[0], "user", "total_g_co2e", "User",
                                           low="total_low_g_co2e", high="total_high_g_co2e", horizontal=True)),
               ("Distribution", charts.histogram_bins(log.histogram()))]
    return export.html_report("SEAL log report", intro="sample", figures=figures,
                              scenario={"resolved": log.resolved()}, **export.log_report_sections(log))


def test_log_report_has_assumptions_warnings_intervals_and_is_small(sample_log_summary):
    data = _log_report(sample_log_summary)
    assert len(data) <= export.MAX_REPORT_BYTES, len(data)
    text = data.decode()
    assert "<script" not in text and "http" not in text.split("<h2>Scenario</h2>")[0].replace("http://www.w3.org", "")
    assert text.count("<svg") == 3
    for heading in ("Figures", "Assumptions", "Warnings", "Equivalences", "Notes", "Scenario"):
        assert f"<h2>{heading}</h2>" in text, heading
    for label in ("GPU", "Concurrent requests (batch size)", "Serving engine", "Precision", "PUE (facility overhead)",
                  "Grid intensity", "Grid intensity source"):
        assert f"<td>{label}</td>" in text, label
    assert "H100-SXM (all 2,000 requests)" in text and "458 g CO2e/kWh" in text
    tot = sample_log_summary.totals()
    for code in sample_log_summary.warning_counts():
        sentence = re.sub(r"[`*]", "", WARNINGS[code]).split(":")[0]
        assert sentence.replace("'", "&#x27;") in text, code
    from seal.ui.format import ENERGY_UNITS, MASS_UNITS, fmt_interval, fmt_water

    assert fmt_interval(tot["total_low_g_co2e"], tot["total_high_g_co2e"], MASS_UNITS) in text
    assert fmt_interval(tot["facility_energy_low_j"], tot["facility_energy_high_j"], ENERGY_UNITS) in text
    assert fmt_water(tot["water_ml"]) in text
    assert "smartphone charges" in text and "other users" in text


def test_estimate_report_from_a_result_and_its_size():
    result = seal.estimate(pd.DataFrame({"model": ["gpt-4o"] * 3, "input_tokens": [100, 400, 900],
                                         "output_tokens": [300, 200, 100]}), region="FR")
    fig = charts.phase_bars(aggregate.phase_split(result), ["a", "b", "c"])
    data = export.html_report("SEAL estimate", figures=[("Phases", fig)], result=result, scenario={"model": "gpt-4o"})
    text = data.decode()
    assert len(data) < 200_000 and "<svg" in text and "<script" not in text
    assert "H100-SXM (all 3 requests)" in text and "Grid intensity source" in text
    assert "No GPU or batch size given" in text


def test_csv_has_the_documented_columns_in_order_and_the_gpu_used():
    result = seal.estimate(pd.DataFrame({"model": ["gpt-4o", "meta-llama/Meta-Llama-3.1-8B-Instruct"],
                                         "input_tokens": [100, 200], "output_tokens": [50, 60],
                                         "gpu": [None, "A100"]}))
    back = pd.read_csv(io.BytesIO(export.to_csv(result)))
    assert list(back.columns) == [c for c in CSV_COLUMNS if c in result.columns]
    assert back["gpu"].tolist() == result["gpu_model"].tolist()      # never empty beside the GPU used
    assert "gpu_model" not in back and "adpe_kg_sbeq" not in back
    full = pd.read_csv(io.BytesIO(export.to_csv(result, full=True)))
    assert set(result.columns) <= set(full.columns)
    assert set(result.columns) <= set(pd.read_parquet(io.BytesIO(export.to_parquet(result))).columns)
    assert set(result.columns) <= set(json.loads(export.to_json(result))[0])


def test_logs_scenario_file_holds_the_resolved_setup(clean_app):
    at = _app("app_pages/logs.py")
    at.button(key="logs_sample").click().run()
    run = at.session_state["logs_run"]
    assert run["inputs"]["defaults"]["gpu"] is None                # the choice: Auto
    resolved = run["log"].resolved()
    assert resolved["gpu_model"] == "H100-SXM" and resolved["batch_size"] == 64 and resolved["engine"] == "vllm"
    assert resolved["pue"] > 1 and resolved["grid_intensity_g_per_kwh"] > 0 and resolved["grid_intensity_source"]
    doc = json.loads(export.scenario_to_json("Logs", {**run["inputs"], "resolved": resolved}))
    assert doc["inputs"]["resolved"]["gpu_model"] == "H100-SXM"
    assert export.scenario_from_json(json.dumps(doc), page="Logs")["resolved"] == json.loads(json.dumps(resolved))


# ---------------------------------------------------------------- fresh install
@pytest.fixture()
def init_only_store(tmp_path, monkeypatch, clean_app):
    from seal.data.pull import init

    db = init(tmp_path / "seal.duckdb")
    monkeypatch.setenv("SEAL_DB", str(db))
    return db


NO_EXCEPTION_TEXT = re.compile(r"SealError|Exception|Traceback|No store at|\.duckdb|/tmp/|Error:")


def _all_text(at) -> str:
    parts = []
    for kind in ("error", "warning", "info", "caption", "markdown", "success"):
        parts += [e.value for e in getattr(at, kind)]
    return "\n".join(parts)


@pytest.mark.parametrize("store", ["none", "init"])
def test_benchmarks_on_a_fresh_install_shows_shipped_facts_and_one_pull_action(store, request, clean_app):
    if store == "init":
        request.getfixturevalue("init_only_store")
    at = _app("app_pages/benchmarks.py")
    assert not at.error, [e.value for e in at.error]
    text = _all_text(at)
    assert not NO_EXCEPTION_TEXT.search(text), NO_EXCEPTION_TEXT.search(text)
    assert [c.value for c in at.code] == ["seal data pull"]
    assert sum("not pulled yet" in i.value for i in at.info) == 1
    frames = {tuple(d.value.columns[:2]): d.value for d in at.dataframe}
    gpus = next(v for k, v in frames.items() if k[0] == "gpu")
    assert len(gpus) >= 10 and "H100-SXM" in set(gpus["gpu"])
    regions = next(v for k, v in frames.items() if k[0] == "region")
    assert "WOR" in set(regions["region"]) and len(regions) > 100
    assert any("coverage_80" in d.value.columns for d in at.dataframe)   # the shipped validation


def test_accuracy_on_a_fresh_install_keeps_the_shipped_validation_and_explains_coverage(init_only_store):
    at = _app("app_pages/accuracy.py")
    assert not at.error and [b.label for b in at.button] == []      # nothing to re-run on
    text = _all_text(at)
    assert not NO_EXCEPTION_TEXT.search(text), NO_EXCEPTION_TEXT.search(text)
    table = next(d.value for d in at.dataframe if "coverage_80" in d.value.columns)
    assert len(table) > 0 and table["coverage_80"].notna().any()
    assert any(i.value.startswith("Below the 80 % target") and "never seen" in i.value for i in at.info)


def test_a_validation_of_nan_rows_is_not_usable():
    shipped = loaders.shipped_validation()
    assert loaders.validation_usable(shipped)
    empty = shipped.assign(mape=float("nan"), median_ape=float("nan"), coverage_80=float("nan"))
    assert not loaders.validation_usable(empty) and not loaders.validation_usable(None)
