"""The Streamlit dashboard, page by page, with Streamlit's AppTest (no browser): widgets with their exact labels,
a run that produces results, and bad input that shows one clear ``st.error`` while keeping what was loaded."""
from __future__ import annotations

import ast
import json

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from _paths import REPO  # noqa: E402
APP = REPO / "app.py"
TIMEOUT = 120  # s per script run: generous for a shared 2-core CI machine
NAV = ["Estimate", "Logs", "What-if", "Your fleet", "Benchmarks", "Accuracy", "Methodology"]
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"


@pytest.fixture(autouse=True)
def _clean_app(clean_app):
    """Every page test starts clean (conftest.clean_app)."""
    yield


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _table(at: AppTest, column: str):
    """The first st.dataframe with a column starting with ``column`` (plain dataframes carry no key)."""
    for frame in at.dataframe:
        value = frame.value
        if any(str(c).startswith(column) for c in value.columns):
            return value
    raise KeyError(f"no dataframe with a column {column!r}")


def _charts(at: AppTest) -> list:
    return at.get("plotly_chart")


# ---------------------------------------------------------------- navigation
def test_navigation_has_exactly_the_seven_pages_with_estimate_first():
    tree = ast.parse(APP.read_text())
    titles, defaults = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page":
            kw = {k.arg: k.value for k in node.keywords}
            titles.append(kw["title"].value)
            defaults.append(getattr(kw.get("default"), "value", False))
    assert titles == NAV
    assert defaults[0] is True and not any(defaults[1:])
    at = _app()
    assert at.title[0].value == "Estimate"  # the landing page, ready to estimate
    assert at.button(key="est_go").label == "Estimate" and at.text_area(key="est_prompts").value == ""


def _estimate_offers_typical_output_lengths(at: AppTest) -> None:
    assert "Estimate" in [b.label for b in at.button]
    typical = _table(at, "Typical output tokens")
    assert "Tweet" in set(typical["Task"])
    assert typical["Typical output tokens"].between(10, 10_000).all(), typical   # tokens per answer, not words


def _logs_waits_for_an_upload(at: AppTest) -> None:
    assert "Upload logs" in [w.label for w in at.file_uploader]
    assert at.button(key="logs_sample").label == "Try a sample log"
    assert any(i.value.startswith("No log loaded yet") for i in at.info)


def _whatif_offers_three_scenarios(at: AppTest) -> None:
    assert at.selectbox(key="wi_0_model").value == MODEL        # scenario 1 starts from a real, common model
    assert [at.selectbox(key=f"wi_{i}_model").value for i in (1, 2)] == ["(as scenario 1)"] * 2
    assert at.button(key="wi_go").label == "Compare"


def _fleet_offers_to_create_the_store(at: AppTest) -> None:
    assert at.button(key="fleet_init").label == "Create the local store"
    assert any("no local data store yet" in i.value for i in at.info)


def _benchmarks_shows_the_shipped_facts(at: AppTest) -> None:
    gpus = _table(at, "memory_bandwidth_gb_s").set_index("gpu")
    assert (gpus["memory_bandwidth_gb_s"] > 0).all()
    assert gpus.at["H100-SXM", "memory_bandwidth_gb_s"] > gpus.at["T4", "memory_bandwidth_gb_s"]
    grid = _table(at, "grid_intensity_g_per_kwh").set_index("region")["grid_intensity_g_per_kwh"]
    assert grid.between(0, 1_500).all() and grid["FRA"] < grid["POL"]    # g/kWh; nuclear France, coal Poland


def _accuracy_shows_the_shipped_validation(at: AppTest) -> None:
    table = _table(at, "coverage_80")
    assert table["coverage_80"].dropna().between(0, 100).all()        # % of measurements inside the interval
    shipped = table[(table["family"] == "physics+ridge") & (table["split"] == "random-5fold")
                    & (table["target"] == "request")]["coverage_80"]
    assert len(shipped) and shipped.between(60, 100).all(), shipped    # near the 80 % it promises


def _methodology_lists_every_warning_code(at: AppTest) -> None:
    from seal.errors import WARNINGS

    codes = _table(at, "code")
    assert set(codes["code"]) == set(WARNINGS) and codes["meaning"].str.len().gt(10).all()


@pytest.mark.parametrize("page, title, check", [
    ("app_pages/estimate.py", "Estimate", _estimate_offers_typical_output_lengths),
    ("app_pages/logs.py", "Logs", _logs_waits_for_an_upload),
    ("app_pages/whatif.py", "What-if", _whatif_offers_three_scenarios),
    ("app_pages/fleet.py", "Your fleet", _fleet_offers_to_create_the_store),
    ("app_pages/benchmarks.py", "Benchmarks", _benchmarks_shows_the_shipped_facts),
    ("app_pages/accuracy.py", "Accuracy", _accuracy_shows_the_shipped_validation),
    ("app_pages/methodology.py", "Methodology", _methodology_lists_every_warning_code),
])
def test_every_page_renders_offline_without_a_store(page, title, check):
    at = _app(page)
    assert at.title[0].value == title
    assert not _errors(at), _errors(at)
    check(at)   # and shows what a user needs from it first


# ---------------------------------------------------------------- Estimate
def test_estimate_widgets_have_the_exact_labels():
    at = _app()
    assert [w.label for w in at.text_area] == ["Prompts"]
    labels = [w.label for w in at.selectbox]
    for label in ("Model", "GPU", "Region", "Batch size"):
        assert label in labels
    assert "Expected output tokens" in [w.label for w in at.number_input]
    split = at.radio(key="est_split")
    assert list(split.options) == ["One prompt per line", "Blocks separated by a blank line"]
    assert "Estimate" in [b.label for b in at.button]
    model_labels = list(at.selectbox(key="est_model").options)
    assert any("· open ·" in x and " B" in x for x in model_labels)  # open models with their size
    assert any("· closed ·" in x for x in model_labels)


def _widget(at: AppTest, key: str):
    for kind in (at.selectbox, at.number_input, at.radio):
        try:
            return kind(key=key)
        except KeyError:
            continue
    raise KeyError(key)


def _estimate(at: AppTest, text: str, **widgets) -> AppTest:
    at.text_area(key="est_prompts").set_value(text)
    for key, value in widgets.items():
        _widget(at, key).set_value(value)
    return at.button(key="est_go").click().run()


def test_estimate_two_prompts_produces_table_charts_and_provenance():
    at = _app()
    _estimate(at, "Explain the difference between prefill and decode.\nWrite a haiku about data centres.",
              est_model=MODEL, est_region="FRA", est_output_tokens=200)
    assert not at.exception and not _errors(at), _errors(at)
    table = _table(at, "Facility energy (")
    assert len(table) == 2
    for header in ("Input tokens", "Output tokens", "Output tokens from", "Facility energy (",
                   "Facility energy 80 % (", "CO2e (", "CO2e 80 % (", "Water (", "Water 80 % ("):
        assert any(c.startswith(header) for c in table.columns), (header, list(table.columns))
    assert (table["Output tokens"] == 200).all()
    assert len(_charts(at)) >= 2  # phases per prompt and the boundary waterfall
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["CO2e"].split()[-1] in {"µg", "mg", "g", "kg"}
    assert metrics["Facility energy"].split()[-1] in {"mJ", "J", "Wh", "kWh"}
    assert metrics["ADPe"].endswith("Sb eq") and metrics["Primary energy"].split()[-1] in {"J", "kJ", "MJ"}
    assert metrics["Water"].split()[-1] in {"µL", "mL", "L"}
    assert any(c.value.startswith("GPU energy (prefill + decode") for c in at.caption)
    assert any("80 % interval" in c.value for c in at.caption)
    text = " ".join(m.value for m in at.markdown)
    assert "Estimate basis" in text and "Grid intensity" in text and "FRA" in text
    from seal.errors import WARNINGS

    # coded warnings become banners with their sentence, never the code
    assert any(WARNINGS["estimated-tokens"] in w.value for w in at.warning)
    assert not any("estimated-tokens" in w.value for w in at.warning)
    downloads = [b.proto.label for b in at.get("download_button")]
    assert downloads == ["CSV", "Parquet", "JSON", "Scenario (JSON)", "HTML report"]
    run = at.session_state["estimate_run"]
    assert run["inputs"]["prompts"][1] == "Write a haiku about data centres."
    assert run["inputs"]["model"] == MODEL and run["inputs"]["region"] == "FRA"


def test_estimate_blocks_mode_and_closed_model():
    at = _app()
    _estimate(at, "First prompt\nstill the first.\n\nSecond prompt.", est_split="block", est_model="openai/gpt-4o-mini")
    assert not _errors(at), _errors(at)
    assert len(_table(at, "Facility energy (")) == 2
    assert "range" in " ".join(m.value for m in at.markdown) or at.warning  # a closed model carries its range


def test_estimate_bad_input_shows_an_error_and_keeps_the_previous_results():
    at = _app()
    _estimate(at, "", est_model=MODEL)
    assert _errors(at) == ["Paste at least one prompt into “Prompts” (one per line, or blocks separated by a blank "
                           "line)."]
    assert not at.get("plotly_chart") or all(c.proto for c in at.get("plotly_chart"))
    _estimate(at, "One good prompt.", est_model=MODEL)
    assert not _errors(at) and len(_table(at, "Facility energy (")) == 1
    _estimate(at, "   \n  ", est_model=MODEL)
    assert len(_errors(at)) == 1
    assert len(_table(at, "Facility energy (")) == 1  # the earlier result is still shown


def test_estimate_scenario_file_reproduces_the_run():
    from seal.ui.export import scenario_to_json

    at = _app()
    _estimate(at, "Alpha prompt.\nBeta prompt.", est_model=MODEL, est_region="SWE", est_batch=32,
              est_output_tokens=123)
    first = at.session_state["estimate_run"]
    data = scenario_to_json("Estimate", first["inputs"])

    fresh = _app()
    fresh.file_uploader(key="est_scenario_file").set_value(("s.json", data, "application/json"))
    fresh.run()
    assert not _errors(fresh), _errors(fresh)
    assert not [w.value for w in fresh.warning if "Session State" in w.value]
    assert fresh.text_area(key="est_prompts").value == "Alpha prompt.\nBeta prompt."
    assert fresh.selectbox(key="est_region").value == "SWE" and fresh.selectbox(key="est_batch").value == 32
    fresh.button(key="est_go").click().run()
    again = fresh.session_state["estimate_run"]
    assert again["inputs"] == first["inputs"]
    assert again["result"]["total_g_co2e"].sum() == pytest.approx(first["result"]["total_g_co2e"].sum())


def test_estimate_bad_scenario_file_is_one_clear_error():
    at = _app()
    at.file_uploader(key="est_scenario_file").set_value(("s.json", b"{not json", "application/json"))
    at.run()
    assert len(_errors(at)) == 1 and "not valid JSON" in _errors(at)[0]
    at.file_uploader(key="est_scenario_file").set_value(("w.json", json.dumps(
        {"schema": "seal-scenario/1", "page": "What-if", "inputs": {}}).encode(), "application/json"))
    at.run()
    assert "saved on the 'What-if' page" in _errors(at)[0]


# ---------------------------------------------------------------- Logs
def _csv_log(n: int = 30) -> bytes:
    lines = ["timestamp,model,input_tokens,output_tokens,app,user"]
    for i in range(n):
        lines.append(f"2026-03-0{1 + i % 2}T{i % 24:02d}:15:00Z,{MODEL},{100 + 10 * i},{50 + i},"
                     f"{'chat' if i % 3 else 'search'},u{i % 4}")
    return ("\n".join(lines) + "\n").encode()


def test_logs_upload_gives_headline_figures_and_charts():
    at = _app("app_pages/logs.py")
    assert [w.label for w in at.file_uploader] == ["Scenario file (JSON)", "Upload logs"]
    at.file_uploader(key="logs_file").set_value(("requests.csv", _csv_log(30), "text/csv"))
    at.run()
    assert not at.exception and not _errors(at), _errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Requests"] == "30"
    assert metrics["Tokens"] == f"{sum(100 + 10 * i + 50 + i for i in range(30)):,}"   # exact, separators
    assert metrics["CO2e"].split()[-1] in {"µg", "mg", "g", "kg"}
    assert metrics["Facility energy"].split()[-1] in {"J", "Wh", "kWh", "MWh"}
    assert metrics["ADPe"].endswith("Sb eq") and metrics["Primary energy"].split()[-1] in {"J", "kJ", "MJ"}
    assert any(c.value.startswith("80 %: ") and "Sb eq" in c.value for c in at.caption)   # ADPe's range
    assert len(_charts(at)) >= 4  # over time, by model, by app, by user, distribution
    assert _table(at, "App").shape[0] == 2
    assert len(_table(at, "Basis")) == 30


def test_logs_bad_upload_shows_an_error_and_keeps_the_loaded_log():
    at = _app("app_pages/logs.py")
    at.file_uploader(key="logs_file").set_value(("requests.csv", _csv_log(12), "text/csv"))
    at.run()
    assert {m.label: m.value for m in at.metric}["Requests"] == "12"
    at.file_uploader(key="logs_file").set_value(("broken.jsonl", b'{"model": "x", "usage": {\n', "application/json"))
    at.run()
    assert len(_errors(at)) == 1 and len(_errors(at)[0]) < 400
    assert {m.label: m.value for m in at.metric}["Requests"] == "12"  # still the previous log


# ---------------------------------------------------------------- What-if
def test_whatif_compares_scenarios_with_sensitivity_and_alternatives():
    at = _app("app_pages/whatif.py")
    labels = [w.label for w in at.selectbox]
    for label in ("Model", "GPU", "Batch size", "Region", "Precision"):
        assert labels.count(label) == 3  # three scenarios by default
    # scenario 1 sets everything; scenarios 2-3 only what they change
    assert [w.label for w in at.number_input].count("GPU count (0 = auto)") == 1
    assert [w.label for w in at.number_input].count("PUE (0 = region default)") == 1
    assert [w.label for w in at.number_input].count("GPU count (0 = as scenario 1)") == 2
    assert at.selectbox(key="wi_1_region").value == "SWE" and at.selectbox(key="wi_1_batch_size").value == "(as scenario 1)"
    at.number_input(key="wi_n").set_value(2).run()
    at.text_area(key="wi_prompts").set_value("Summarise this paragraph.\nTranslate this sentence.")
    at.selectbox(key="wi_0_model").set_value(MODEL)
    at.selectbox(key="wi_1_model").set_value(MODEL)
    at.selectbox(key="wi_0_region").set_value("FRA")
    at.selectbox(key="wi_1_region").set_value("POL")
    at.button(key="wi_go").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    side = _table(at, "Setting")
    assert list(side.columns) == ["Setting", "Scenario 1", "Scenario 2"]
    rows = dict(zip(side["Setting"], side["Scenario 2"]))
    assert rows["Region"] == "POL" and rows["Δ vs scenario 1"].endswith("%)")
    table = at.session_state["whatif_run"]["results"]["compare"]
    # changing only the region scales operational CO2e by the intensity ratio: Poland's grid is dirtier
    assert table["total_g_co2e"].iloc[1] > table["total_g_co2e"].iloc[0]
    sens = at.session_state["whatif_run"]["results"]["sensitivity"]
    assert {"Region (grid)", "PUE", "Batch size"} <= set(sens["parameter"])
    assert len(_charts(at)) >= 2  # totals and tornado
    assert len(_table(at, "Alternative")) >= 2
    # the five impacts: rows of the side-by-side table and tiles of the chosen scenario
    assert rows["ADPe"].endswith("Sb eq") and rows["Primary energy"].split()[-1] in {"J", "kJ", "MJ"}
    metrics = {m.label: m.value for m in at.metric}
    assert {"Facility energy", "CO2e", "ADPe", "Primary energy", "Water"} <= set(metrics)
    assert table["primary_energy_mj"].iloc[1] != table["primary_energy_mj"].iloc[0]   # Poland's grid differs


def test_whatif_bad_input_keeps_the_previous_comparison():
    at = _app("app_pages/whatif.py")
    at.number_input(key="wi_n").set_value(2).run()
    at.text_area(key="wi_prompts").set_value("One prompt.")
    at.button(key="wi_go").click().run()
    assert not _errors(at), _errors(at)
    at.text_area(key="wi_prompts").set_value("   ")
    at.button(key="wi_go").click().run()
    assert _errors(at) == ["Give at least one prompt (one per line), or load a log on the Logs page."]
    assert _table(at, "Setting").shape[1] == 3


# ---------------------------------------------------------------- Benchmarks, Accuracy, Methodology
def test_benchmarks_without_a_store_says_how_to_pull():
    at = _app("app_pages/benchmarks.py")
    text = " ".join(i.value for i in at.info)
    assert "seal data pull" in text


def test_benchmarks_explores_the_pulled_store(pulled_store, monkeypatch):
    monkeypatch.setenv("SEAL_DB", str(pulled_store))
    at = _app("app_pages/benchmarks.py")
    assert not _errors(at), _errors(at)
    status = _table(at, "pulled_at")
    assert {"llm-perf", "mlenergy-v2", "open-llm-leaderboard"} <= set(status["source"])
    assert "what it measured and how" in status.columns
    assert [w.label for w in at.multiselect] == ["Source", "GPU", "Model", "Precision"]
    total = len(_table(at, "energy_per_output_token_j"))
    at.multiselect(key="bench_source").set_value(["llm-perf"]).run()
    runs = _table(at, "energy_per_output_token_j")
    assert 0 < len(runs) < total and set(runs["source"]) == {"llm-perf"}
    fig = at.get("plotly_chart")[0]
    spec = json.loads(fig.proto.spec)
    assert "J/token" in spec["layout"]["yaxis"]["title"]["text"]
    assert "billion parameters" in spec["layout"]["xaxis"]["title"]["text"]


def test_accuracy_without_a_store_says_how_to_get_one():
    at = _app("app_pages/accuracy.py")
    assert any("seal data pull" in i.value for i in at.info)


def test_methodology_shows_formulas_defaults_and_sources():
    at = _app("app_pages/methodology.py")
    headers = [h.value for h in at.header]
    for h in ("Pipeline", "Uncertainty", "From GPU energy to CO2e", "Defaults and their sources", "Data sources",
              "Limits"):
        assert h in headers
    sources = _table(at, "licence")
    assert {"version", "licence"} <= set(sources.columns) and "mlenergy-v2" in set(sources["source"])
    defaults = _table(at, "name")
    assert defaults["source"].notna().all() and len(defaults) >= 5
    assert _table(at, "memory_bandwidth_gb_s")["source"].notna().all()


def test_accuracy_runs_the_validation_and_draws_parity(pulled_store, monkeypatch):
    import functools

    import seal.estimator.validate as V

    # the real validation, restricted to one family and one split to keep the test short
    monkeypatch.setattr(V, "validate", functools.partial(V.validate, families=("physics",), splits=("random-5fold",)))
    monkeypatch.setenv("SEAL_DB", str(pulled_store))
    at = _app("app_pages/accuracy.py")
    # the shipped artifact's table shows at once; the button re-runs on the current store
    assert _table(at, "coverage_80")["family"].eq("physics+ridge").any()
    assert [b.label for b in at.button] == ["Re-run the validation on this store"]
    at.button(key="acc_run").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    table = _table(at, "coverage_80")
    assert {"random-5fold", "paper: interpolation"} <= set(table["split"])
    assert {"physics", "ecologits", "seal-paper"} <= set(table["family"])
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [s["layout"][axis]["title"]["text"] for s in specs for axis in ("xaxis", "yaxis")]
    assert any("80 % interval" in t for t in titles)          # coverage
    assert any("Predicted GPU energy" in t for t in titles)   # parity
    assert any("Median absolute error" in t for t in titles)  # SEAL against EcoLogits


def test_estimate_scenario_with_an_unknown_model_is_refused_without_changing_the_form():
    from seal.ui.export import scenario_to_json

    at = _app()
    before = at.selectbox(key="est_model").value
    data = scenario_to_json("Estimate", {"model": "no-such/model-9000", "prompts": ["x"]})
    at.file_uploader(key="est_scenario_file").set_value(("s.json", data, "application/json"))
    at.run()
    assert _errors(at) == ["The scenario's model 'no-such/model-9000' is not available here; pick one from the "
                           "model list."]
    assert at.selectbox(key="est_model").value == before and at.text_area(key="est_prompts").value == ""


def test_whatif_scenario_file_round_trip():
    from seal.ui.export import scenario_to_json

    at = _app("app_pages/whatif.py")
    inputs = {"source": "prompts", "prompts": ["Hello there."], "output_tokens": 50,
              "scenarios": [{"model": MODEL, "gpu": None, "gpus": None, "batch_size": 16, "region": "FRA",
                             "pue": 1.2, "precision": None, "engine": None},
                            {"model": MODEL, "gpu": "A100-SXM4-80GB", "gpus": 2, "batch_size": 4, "region": "DEU",
                             "pue": 1.2, "precision": "float16", "engine": "vllm-2024"}]}
    at.file_uploader(key="wi_scenario_file").set_value(("w.json", scenario_to_json("What-if", inputs), "application/json"))
    at.run()
    assert not _errors(at), _errors(at)
    assert at.number_input(key="wi_n").value == 2 and at.selectbox(key="wi_1_gpu").value == "A100-SXM4-80GB"
    at.button(key="wi_go").click().run()
    assert not _errors(at), _errors(at)
    assert at.session_state["whatif_run"]["inputs"]["scenarios"] == inputs["scenarios"]


def test_logs_accepts_an_openai_chat_completions_jsonl():
    lines = [json.dumps({"id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1767225600 + 3600 * i,
                         "model": "gpt-4o-mini", "choices": [{"index": 0, "message": {"role": "assistant",
                                                                                   "content": "ok"}}],
                         "usage": {"prompt_tokens": 100 + i, "completion_tokens": 20 + i, "total_tokens": 120 + 2 * i}})
             for i in range(5)]
    at = _app("app_pages/logs.py")
    at.file_uploader(key="logs_file").set_value(("chat.jsonl", ("\n".join(lines) + "\n").encode(), "application/json"))
    at.run()
    assert not _errors(at), _errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Requests"] == "5"
    assert metrics["Tokens"].replace(",", "") == str(sum(120 + 2 * i for i in range(5)))
    assert any("openai" in c.value.lower() for c in at.caption)  # the detected format is shown


def test_whatif_applies_scenarios_to_the_loaded_log():
    at = _app("app_pages/logs.py")
    at.file_uploader(key="logs_file").set_value(("requests.csv", _csv_log(20), "text/csv"))
    at.run()
    assert not _errors(at), _errors(at)
    at.switch_page("app_pages/whatif.py").run()
    assert list(at.radio(key="wi_source").options) == ["Prompts (below)", "The log loaded on the Logs page"]
    at.radio(key="wi_source").set_value("log").run()
    at.number_input(key="wi_n").set_value(2).run()
    at.selectbox(key="wi_1_batch_size").set_value(64)
    at.button(key="wi_go").click().run()
    assert not _errors(at), _errors(at)
    run = at.session_state["whatif_run"]
    assert run["n_requests"] == 20 and run["inputs"]["log_sha256"]
    table = run["results"]["compare"]
    assert table["requests"].tolist() == [20, 20]
    assert table["total_g_co2e"].iloc[1] < table["total_g_co2e"].iloc[0]  # a bigger batch shares the GPU more


def test_logs_export_offers_the_rows_and_the_aggregates_and_keeps_only_the_summary():
    at = _app("app_pages/logs.py")
    at.file_uploader(key="logs_file").set_value(("requests.csv", _csv_log(30), "text/csv"))
    at.run()
    assert not _errors(at), _errors(at)
    downloads = [b.proto.label for b in at.get("download_button")]
    assert downloads == ["Log template (CSV)", "CSV", "Parquet", "JSON", "Scenario (JSON)", "HTML report",
                         "Aggregates (JSON)"]
    assert any("all 30 scored rows" in c.value for c in at.caption)
    run = at.session_state["logs_run"]
    assert "result" not in run and run["log"].requests == 30 and len(run["requests"]) == 30
