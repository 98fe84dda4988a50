"""seal.whatif: scenarios applied to requests, compare and sensitivity against the physics they must follow, the
page's scenario variants and alternative candidates, grouped requests whose totals equal row-by-row estimation
within the stated tolerance, greener alternatives that do the same job, the tornado on a log axis, and the page
showing what each scenario changes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seal import whatif
from seal.api import estimate
from seal.columns import INPUT_COLUMNS, LOG_COLUMNS
from seal.errors import SealError

MODELS = ("meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama/Meta-Llama-3.1-70B-Instruct",
          "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4o-mini")
SCENARIOS = ({}, {"region": "SWE"}, {"gpu": "H100-SXM"}, {"batch_size": 1, "engine": "vllm"},
             {"model": "Qwen/Qwen2.5-7B-Instruct"}, {"output_tokens_factor": 2.0})


def _synthetic_log(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` scored requests of several models, GPUs and regions, log-normal token counts, some latencies:
    the request columns as the Logs page's summary sees them (after estimation)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "model": rng.choice(MODELS, n, p=[0.4, 0.2, 0.2, 0.2]),
        "gpu": rng.choice(["H100", "A100", None], n),
        "region": rng.choice(["FRA", "USA", "POL"], n),
        "input_tokens": np.clip(rng.lognormal(np.log(400), 1.1, n), 1, 100_000).astype(np.int64),
        "output_tokens": np.clip(rng.lognormal(np.log(250), 0.8, n), 1, 20_000).astype(np.int64),
    })
    frame["latency_s"] = np.where(rng.random(n) < 0.3, rng.lognormal(np.log(4.0), 0.7, n), np.nan)
    scored = estimate(frame, batch_size=32)
    return scored


@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    return _synthetic_log(12_000)


def _requests(scored: pd.DataFrame) -> pd.DataFrame:
    return scored[[c for c in INPUT_COLUMNS + LOG_COLUMNS if c in scored]]


# ---------------------------------------------------------------- scenarios on requests (pure)
def test_apply_scenario_overrides_columns_and_drops_stale_latency():
    req = pd.DataFrame({"model": ["a", "b"], "latency_s": [1.0, 2.0], "params_b": [7.0, 8.0],
                        "output_tokens": [100, 3]})
    out = whatif.apply_scenario(req, {"gpu": "H100-SXM", "batch_size": 4})
    assert out["gpu"].tolist() == ["H100-SXM"] * 2 and "latency_s" not in out and "params_b" in out
    out = whatif.apply_scenario(req, {"model": "c"})
    assert out["model"].tolist() == ["c", "c"] and "params_b" not in out
    out = whatif.apply_scenario(req, {"region": "FRA"})
    assert "latency_s" in out  # the region does not change the serving set-up
    out = whatif.apply_scenario(req, {"output_tokens_factor": 2.0})
    assert out["output_tokens"].tolist() == [200, 6]
    with pytest.raises(SealError, match="Unknown scenario setting"):
        whatif.apply_scenario(req, {"colour": "red"})


def test_pareto_front():
    pts = pd.DataFrame({"total_g_co2e": [1.0, 2.0, 3.0, 4.0, 0.5], "quality": [10.0, 30.0, 20.0, 40.0, np.nan]})
    assert whatif.pareto_front(pts).tolist() == [True, True, False, True, False]


# ---------------------------------------------------------------- compare and sensitivity (direct)
PROMPTS = pd.DataFrame({"prompt": ["Hello there.", "Explain prefill and decode in two paragraphs."]})
BASE = {"model": MODELS[0], "gpu": "H100-SXM", "region": "DEU", "batch_size": 16, "pue": 1.2}


def test_compare_a_region_change_moves_co2e_but_not_energy():
    table = whatif.compare(PROMPTS, [BASE, {**BASE, "region": "SWE"}], output_tokens=200)
    assert table["scenario"].tolist() == ["Scenario 1", "Scenario 2"] and table["region"].tolist() == ["DEU", "SWE"]
    for col in ("gpu_energy_j", "facility_energy_j", "embodied_g_co2e"):
        assert table[col].iloc[1] == pytest.approx(table[col].iloc[0], rel=1e-12), col
    # the same energy on a cleaner grid: less operational CO2e, and the delta says so
    assert table["operational_g_co2e"].iloc[1] < 0.5 * table["operational_g_co2e"].iloc[0]
    assert table["delta_g_co2e"].iloc[0] == 0.0 and table["delta_g_co2e"].iloc[1] < 0
    delta = table["total_g_co2e"].iloc[1] - table["total_g_co2e"].iloc[0]
    assert table["delta_fraction"].iloc[1] == pytest.approx(delta / table["total_g_co2e"].iloc[0])


def test_doubling_output_tokens_raises_decode_energy_only():
    single, _ = whatif.run_scenario(PROMPTS, BASE, output_tokens=200)
    double, _ = whatif.run_scenario(PROMPTS, {**BASE, "output_tokens_factor": 2.0}, output_tokens=200)
    assert double["output_tokens"].tolist() == [400, 400]
    assert double["prefill_energy_j"].to_numpy() == pytest.approx(single["prefill_energy_j"].to_numpy())
    ratio = double["decode_energy_j"].to_numpy() / single["decode_energy_j"].to_numpy()
    assert (ratio > 1.8).all() and (ratio < 2.2).all(), ratio          # decode grows with the tokens decoded
    table = whatif.compare(PROMPTS, [BASE, {**BASE, "output_tokens_factor": 2.0}], output_tokens=200)
    assert table["gpu_energy_j"].iloc[1] > 1.8 * table["gpu_energy_j"].iloc[0]


def test_compare_a_gpu_swap_changes_the_energy():
    table = whatif.compare(PROMPTS, [BASE, {**BASE, "gpu": "A10G"}], output_tokens=200)
    assert table["gpu"].tolist() == ["H100-SXM", "A10G"]
    # an older, slower GPU takes longer per token at a similar power: more energy for the same requests
    assert table["gpu_energy_j"].iloc[1] > 1.2 * table["gpu_energy_j"].iloc[0]
    assert table["total_g_co2e"].iloc[1] > table["total_g_co2e"].iloc[0]


def test_compare_takes_one_to_five_scenarios():
    with pytest.raises(SealError, match=r"Compare one to five scenarios \(got 6\)"):
        whatif.compare(PROMPTS, [BASE] * 6, output_tokens=200)
    with pytest.raises(SealError, match=r"Compare one to five scenarios \(got 0\)"):
        whatif.compare(PROMPTS, [], output_tokens=200)


def test_sensitivity_signs_follow_the_physics():
    sens, base_total, skipped = whatif.sensitivity(PROMPTS, BASE, output_tokens=200)
    assert not skipped and set(sens["parameter"]) == set(whatif.DEFAULT_VARIATIONS)
    assert base_total == pytest.approx(whatif.compare(PROMPTS, [BASE], output_tokens=200)["total_g_co2e"].iloc[0])
    assert list(sens["swing_g_co2e"]) == sorted(sens["swing_g_co2e"], reverse=True)
    assert sens["swing_g_co2e"].to_numpy() == pytest.approx((sens["high_total_g_co2e"] - sens["low_total_g_co2e"]).abs())
    rows = sens.set_index("parameter")
    low, high = rows["low_total_g_co2e"], rows["high_total_g_co2e"]
    assert low["Region (grid)"] < base_total < high["Region (grid)"]      # Sweden < Germany < India
    assert low["Output tokens"] < base_total < high["Output tokens"]      # half / twice the tokens decoded
    assert low["Batch size"] < base_total < high["Batch size"]            # 256 share the GPU, 1 has it alone
    assert low["PUE"] < high["PUE"]                                       # 1.1 < 1.6 facility overhead
    assert low["Precision"] < high["Precision"]                           # float32 reads twice the bytes


def test_sensitivity_reports_a_refused_variation_and_keeps_the_others():
    variations = {"Region": (("Sweden", {"region": "SWE"}), ("Poland", {"region": "POL"})),
                  "GPU": (("H100", {"gpu": "H100-SXM"}), ("nonsense", {"gpu": "Z9000"}))}
    sens, _, skipped = whatif.sensitivity(PROMPTS, BASE, variations, output_tokens=200)
    assert sens["parameter"].tolist() == ["Region"] and sens["low_label"].tolist() == ["Sweden"]
    assert len(skipped) == 1 and skipped[0].startswith("GPU: Unknown GPU 'Z9000'")


# ---------------------------------------------------------------- the page's scenarios and alternatives (pure)
def test_scenario_settings_turn_the_pages_choices_into_settings():
    choices = {"model": MODELS[0], "gpu": "auto", "gpus": 0, "batch_size": 16.0, "region": "FRA", "pue": 0.0,
               "precision": "default", "engine": "vllm"}
    first = whatif.scenario_settings(choices, unset=("auto", "default"))
    assert first == {"model": MODELS[0], "gpu": None, "gpus": None, "batch_size": 16, "region": "FRA", "pue": None,
                     "precision": None, "engine": "vllm"}
    assert isinstance(first["batch_size"], int)
    assert whatif.scenario_settings({"gpus": 2, "pue": 1.3})["gpus"] == 2
    changes = whatif.scenario_changes({"model": "keep", "gpu": "keep", "gpus": 0, "batch_size": 256.0,
                                       "region": "SWE", "pue": 1.3, "engine": "keep"}, keep="keep")
    assert changes == {"batch_size": 256, "region": "SWE", "pue": 1.3}
    assert whatif.scenario_changes({"model": "keep", "gpus": 0, "pue": 0.0}, keep="keep") == {}


def test_scenario_variants_are_scenario_1_with_each_change():
    first = {"model": MODELS[0], "region": "FRA", "batch_size": 64}
    variants = whatif.scenario_variants(first, [{"region": "SWE"}, {}, {"batch_size": 256, "gpu": "L4"}])
    assert variants == [first, {**first, "region": "SWE"}, first, {**first, "batch_size": 256, "gpu": "L4"}]
    assert first == {"model": MODELS[0], "region": "FRA", "batch_size": 64}     # scenario 1 is not changed
    assert whatif.scenario_variants({}, [{"region": "SWE"}]) == [{}, {"region": "SWE"}]   # a log: as logged


CATALOGUE = pd.DataFrame({
    "model": ["meta-llama/Prompt-Guard-86M", "Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.2-3B-Instruct",
              "google/gemma-2-9b-it", "mistralai/Mistral-7B-Instruct-v0.3", "gpt-4o"],
    "params_b": [0.086, 7.6, 3.2, 9.2, 7.2, np.nan],
    "quality": [np.nan, 27.0, 24.0, 28.0, 16.0, np.nan],
})


def test_alternative_candidates_keep_what_the_catalogue_knows():
    gpus = pd.DataFrame({"gpu": ["T4", "H100-SXM", "L4"]})
    regions = pd.DataFrame({"region": ["USA", "SWE", "aws:eu-north-1"]})
    cand = whatif.alternative_candidates(CATALOGUE, gpus, regions, ["google/gemma-2-9b-it"], [1.0])
    assert cand.models == tuple(whatif.alternative_models(CATALOGUE, ["google/gemma-2-9b-it"])[0])
    assert set(cand.models) == {"Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.2-3B-Instruct"}
    assert cand.gpus == ("H100-SXM", "L4") and cand.regions == ("SWE", "aws:eu-north-1")   # in preference order
    assert dict(cand.quality) == {"Qwen/Qwen2.5-7B-Instruct": 27.0, "meta-llama/Llama-3.2-3B-Instruct": 24.0,
                                  "google/gemma-2-9b-it": 28.0, "mistralai/Mistral-7B-Instruct-v0.3": 16.0}
    assert isinstance(hash(cand), int)            # hashable: the page caches on it


def test_models_by_weight_of_a_frame_and_of_grouped_requests():
    frame = pd.DataFrame({"model": ["b", "a", "a", "a"], "input_tokens": [1, 2, 3, 4]})
    assert list(whatif.models_by_weight(frame).items()) == [("a", 3), ("b", 1)]
    grouped = whatif.GroupedRequests.of(pd.concat([frame, pd.DataFrame({"model": [None], "input_tokens": [5]})]))
    assert list(whatif.models_by_weight(grouped).items()) == [("a", 3.0), ("b", 1.0)]   # a missing model left out
    assert whatif.models_by_weight(frame.drop(columns="model")).empty
    assert whatif.models_by_weight(whatif.GroupedRequests()).empty


def test_analyse_runs_compare_sensitivity_and_alternatives_on_one_grouping():
    scenarios = [BASE, {**BASE, "region": "SWE"}]
    alternatives = whatif.Alternatives(models=("Qwen/Qwen2.5-7B-Instruct",), gpus=("L4", "Z9000"), regions=("FRA",),
                                       quality=(("Qwen/Qwen2.5-7B-Instruct", 27.0),))
    res = whatif.analyse(PROMPTS, scenarios, alternatives, output_tokens=200)
    assert res["groups"] == 2 and res["resolution"] == 0
    table = whatif.compare(PROMPTS, scenarios, output_tokens=200)
    assert res["compare"]["total_g_co2e"].to_numpy() == pytest.approx(table["total_g_co2e"].to_numpy())
    assert res["base_total"] == pytest.approx(table["total_g_co2e"].iloc[0])
    assert set(res["sensitivity"]["parameter"]) == set(whatif.DEFAULT_VARIATIONS)
    alts = res["alternatives"]
    assert sorted(alts["label"]) == sorted(["base (scenario 1)", "Qwen/Qwen2.5-7B-Instruct", "L4", "FRA"])
    assert alts.set_index("label").at["Qwen/Qwen2.5-7B-Instruct", "quality"] == 27.0
    assert len(res["skipped"]) == 1 and res["skipped"][0].startswith("Z9000: Unknown GPU")


# ---------------------------------------------------------------- grouped requests
@pytest.mark.parametrize("max_groups", [10**9, 500])
def test_grouped_totals_equal_row_by_row_totals(scored, max_groups):
    """Exact groups (no coarsening) match to rounding; the coarsest grid (2 buckets per decade, forced by a tiny
    ``max_groups``) stays within GROUPING_TOLERANCE (measured: < 0.3 % on every scenario here)."""
    req = _requests(scored)
    grouped = whatif.GroupedRequests(max_groups=max_groups)
    for start in range(0, len(req), 5_000):          # batch by batch, as the Logs page's summary adds them
        grouped.add(req.iloc[start:start + 5_000])
    assert grouped.requests == len(req) and len(grouped) < len(req)
    if max_groups == 500:
        assert grouped.resolution == whatif.RESOLUTIONS[-1]
    assert grouped.token_totals()["input_tokens"] == pytest.approx(float(req["input_tokens"].sum()), rel=1e-12)
    tolerance = 1e-9 if grouped.resolution == 0 else whatif.GROUPING_TOLERANCE
    for scenario in SCENARIOS:
        per_row = whatif.summarize(estimate(whatif.apply_scenario(req, scenario), batch_size=32))
        fast = whatif.summarize(*whatif.run_scenario(grouped, scenario, batch_size=32))
        assert fast["requests"] == len(req)
        for col in ("total_g_co2e", "total_low_g_co2e", "facility_energy_j", "water_ml"):
            assert fast[col] == pytest.approx(per_row[col], rel=tolerance), (scenario, col)


def test_scenario_1_of_a_log_keeps_each_rows_model(scored):
    from seal.summary import LogSummary

    log = LogSummary.of([scored.iloc[:6_000], scored.iloc[6_000:]])
    grouped = log.grouped_requests
    assert grouped.requests == len(scored)
    table = whatif.compare(grouped, [{}, {"model": MODELS[0]}], batch_size=32)
    # scenario 1 is the log's own estimate (each row its own model), not one model for every row
    assert table["total_g_co2e"].iloc[0] == pytest.approx(log.totals()["total_g_co2e"], rel=whatif.GROUPING_TOLERANCE)
    assert table["total_g_co2e"].iloc[1] < 0.5 * table["total_g_co2e"].iloc[0]
    assert pd.isna(table["model"].iloc[0]) and table["requests"].tolist() == [len(scored)] * 2
    sens, base_total, skipped = whatif.sensitivity(grouped, {}, batch_size=32)
    assert base_total == pytest.approx(table["total_g_co2e"].iloc[0], rel=1e-12)
    assert not skipped and list(sens["swing_g_co2e"]) == sorted(sens["swing_g_co2e"], reverse=True)
    row = sens.set_index("parameter").loc["Region (grid)"]
    assert row["low_total_g_co2e"] < base_total < row["high_total_g_co2e"]


def test_compare_of_a_frame_groups_it_and_changes_lists_only_differences():
    frame = pd.DataFrame({"prompt": ["Hello there.", "Explain prefill and decode.", "Hello there."]})
    base = {"model": MODELS[0], "region": "FRA", "batch_size": 64}
    table = whatif.compare(frame, [base, {**base, "region": "POL"}], output_tokens=100)
    assert table["requests"].tolist() == [3, 3]
    per_row = estimate(frame, output_tokens=100, **base)["total_g_co2e"].sum()
    assert table["total_g_co2e"].iloc[0] == pytest.approx(per_row, rel=1e-9)
    assert whatif.changes([base, {**base, "region": "POL"}]) == [base, {"region": "POL"}]


def test_changing_the_serving_set_up_chooses_the_gpu_count_again():
    req = pd.DataFrame({"model": ["gpt-4o"], "gpus": [16], "precision": ["bfloat16"], "latency_s": [3.0]})
    out = whatif.apply_scenario(req, {"gpu": "L4"})
    assert "gpus" not in out and "latency_s" not in out and out["precision"].tolist() == ["bfloat16"]
    out = whatif.apply_scenario(req, {"model": "gpt-oss-120b"})
    assert "precision" not in out            # the old model's precision is not the new one's
    assert whatif.apply_scenario(req, {"region": "FRA"})["gpus"].tolist() == [16]


def test_alternatives_do_the_same_job():
    catalogue = pd.DataFrame({
        "model": ["meta-llama/Prompt-Guard-86M", "google/gemma-2-9b-it-pytorch", "mistralai/mistral-code-fim-latest",
                  "BAAI/bge-large-en-v1.5-embed", "Qwen/Qwen2.5-Coder-7B-Instruct", "google/codegemma-7b-it",
                  "Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.2-3B-Instruct", "google/gemma-2-9b-it",
                  "mistralai/Mistral-7B-Instruct-v0.3", "Qwen/Qwen2.5-72B", "someone/NoSize-Instruct",
                  "Qwen/Qwen2.5-0.5B-Instruct", "gpt-4o"],
        "params_b": [0.086, 9.2, 22.0, 0.3, 7.6, 8.5, 7.6, 3.2, 9.2, 7.2, 72.7, np.nan, 0.5, np.nan],
        "quality": [np.nan, np.nan, np.nan, np.nan, 23.0, np.nan, 27.0, 24.0, 28.0, 16.0, 38.0, 30.0, 8.0, np.nan],
    })
    picked, base_q = whatif.alternative_models(catalogue, ["gpt-4o"])
    assert np.isnan(base_q)                                    # gpt-4o has no Open LLM Leaderboard score
    assert set(picked) <= {"Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.2-3B-Instruct", "google/gemma-2-9b-it",
                           "mistralai/Mistral-7B-Instruct-v0.3", "Qwen/Qwen2.5-0.5B-Instruct"} and picked
    picked, base_q = whatif.alternative_models(catalogue, ["google/gemma-2-9b-it"])
    assert base_q == 28.0
    # similar or better quality only (within SIMILAR_QUALITY_POINTS), never the base model itself
    assert set(picked) == {"Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.2-3B-Instruct"}


def test_alternatives_from_the_real_catalogue_are_chat_models():
    from seal.ui import loaders

    cat = loaders.models()
    picked, _ = whatif.alternative_models(cat, ["gpt-4o"])
    assert picked
    for model in picked:
        assert whatif.same_job(model)
        assert not any(bad in model.lower() for bad in ("guard", "pytorch", "fim", "embed", "code"))
        assert pd.notna(cat.set_index("model").at[model, "params_b"])


def test_tornado_is_on_a_log_axis_with_labels_outside_the_bars():
    from seal.ui import charts

    sens = pd.DataFrame({"parameter": ["Region (grid)", "Batch size"], "low_label": ["Sweden", "256"],
                         "high_label": ["India", "1"], "low_total_g_co2e": [2.0, 5.0],
                         "high_total_g_co2e": [40.0, 3000.0]})
    fig = charts.tornado(sens, 10.0)
    assert fig.layout.xaxis.type == "log"
    lo, hi = fig.layout.xaxis.range                          # log10 of the axis unit (g here)
    assert lo < np.log10(2.0) - 0.5 and hi > np.log10(3000.0) + 0.5   # room for the labels
    texts = [t for bar in fig.data for t in bar.text]
    assert any(t.startswith("Sweden") for t in texts) and all(bar.cliponaxis is False for bar in fig.data)


# ---------------------------------------------------------------- the page (AppTest)
def _csv_log() -> bytes:
    lines = ["model,input_tokens,output_tokens,region"]
    for i in range(24):
        lines.append(f"{MODELS[i % 2]},{100 + 40 * i},{60 + 5 * i},{'FRA' if i % 3 else 'USA'}")
    return ("\n".join(lines) + "\n").encode()


def test_whatif_page_on_a_log_starts_as_logged_and_shows_only_changes(clean_app):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP

    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("app_pages/logs.py").run()
    at.file_uploader(key="logs_file").set_value(("mixed.csv", _csv_log(), "text/csv"))
    at.run()
    assert not at.error, [e.value for e in at.error]
    log_total = at.session_state["logs_run"]["log"].totals()["total_g_co2e"]
    at.switch_page("app_pages/whatif.py").run()
    at.radio(key="wi_source").set_value("log").run()
    assert at.selectbox(key="wi_1_model").value == "(as scenario 1)"
    at.button(key="wi_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run = at.session_state["whatif_run"]
    table = run["results"]["compare"]
    assert table["total_g_co2e"].iloc[0] == pytest.approx(log_total, rel=whatif.GROUPING_TOLERANCE)
    assert run["inputs"]["scenarios"][0] == {} and run["changes"][1] == {"region": "SWE"}
    side = next(f.value for f in at.dataframe if "Setting" in f.value.columns)
    rows = side.set_index("Setting")
    assert rows.loc["Model", "Scenario 1"] == "as logged" and rows.loc["Model", "Scenario 2"] == "same"
    assert rows.loc["Region", "Scenario 2"] == "SWE" and rows.loc["Batch size", "Scenario 2"] == "same"
    alts = next(f.value for f in at.dataframe if "Alternative" in f.value.columns)
    assert not alts.astype(str).isin(["None", "nan"]).any().any()
    assert not alts["Alternative"].str.contains("Guard|pytorch|fim", case=False).any()


def test_a_logs_scenarios_regroup_the_requests_as_read_not_the_filled_in_setup(tmp_path):
    """What-if on a log read by the Logs page: a scenario may change what the estimator filled in (the default engine
    at batch 1, bfloat16 on a T4, a closed model's size range), so its totals equal row-by-row estimation."""
    import seal
    from seal import whatif
    from seal.sample_log import sample_log_csv
    from seal.ui import loaders

    data = sample_log_csv()
    path = tmp_path / "sample.csv"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    defaults = {"region": "WOR", "batch_size": 64}
    log, _ = loaders.summarize_log(path, "sample.csv", defaults)
    frame = pd.read_csv(path)
    for scenario in ({}, {"batch_size": 1}, {"gpu": "T4"}, {"engine": "vllm-2024"}, {"gpu": "H100-SXM"}):
        grouped = whatif.summarize(*whatif.run_scenario(log.grouped_requests, scenario, **defaults))
        rows = seal.estimate(whatif.apply_scenario(frame, scenario), **defaults)
        for col in ("total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "water_high_ml"):
            assert grouped[col] == pytest.approx(rows[col].sum(), rel=whatif.GROUPING_TOLERANCE), (scenario, col)
