"""The Estimate page as a first-time user sees it (AppTest, no browser): the example picker, one output length per
prompt, one unit per quantity, the assumptions in words, SEAL's own defaults, intervals on every figure, the region
comparison, and no raw code anywhere."""
from __future__ import annotations

import re

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from seal.ui import examples  # noqa: E402
from _paths import APP

TIMEOUT = 120


@pytest.fixture(autouse=True)
def _clean_app(clean_app):
    yield


def _app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _estimate_examples(model: str = "openai/gpt-4o", region: str = "WOR") -> AppTest:
    at = _app()
    at.selectbox(key="est_example").set_value(examples.ALL).run()
    at.selectbox(key="est_model").set_value(model)
    at.selectbox(key="est_region").set_value(region)
    at.button(key="est_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def _result_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Output tokens from" in d.value.columns)


def _visible_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for d in at.dataframe:
        parts += [str(c) for c in d.value.columns] + d.value.astype(str).to_numpy().ravel().tolist()
    return " ".join(parts).replace("\\", "")


def test_the_picker_sets_the_prompts_and_their_typical_output_lengths():
    at = _app()
    at.selectbox(key="est_example").set_value("Code").run()
    code = examples.BY_NAME["Code"]
    assert at.text_area(key="est_prompts").value == code.prompt
    rows = next(d.value for d in at.dataframe if "Output length from" in d.value.columns)
    assert rows["Output tokens"].tolist() == [code.output_tokens]
    assert "PEP 8" in rows["Output length from"].iloc[0]          # the source of the typical length
    for e in examples.EXAMPLES:
        assert e.source and e.output_tokens > 0


def test_prompts_with_different_output_lengths_give_different_rows():
    at = _estimate_examples()
    table = _result_table(at)
    assert table["Output tokens"].tolist() == [e.output_tokens for e in examples.EXAMPLES]
    co2e = next(c for c in table.columns if c.startswith("CO2e (") and "80 %" not in c)
    assert table[co2e].nunique() == len(examples.EXAMPLES)
    assert table["Output tokens from"].str.startswith("typical").all()


def test_one_unit_per_quantity_on_the_page():
    import json

    at = _estimate_examples()
    metrics = {m.label: m.value for m in at.metric}
    figures = [m.value for m in at.markdown if m.value.startswith("**These prompts emit")]
    figures += [c.value for c in at.caption if c.value.startswith(("80 %", "GPU energy", "Total", "Served in"))]
    figures += [metrics["Facility energy"], metrics["CO2e"], metrics["Water"]]
    figures += [str(c) for c in _result_table(at).columns]
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    figures += [s["layout"][a]["title"]["text"] for s in specs for a in ("xaxis", "yaxis")
                if s["layout"].get(a, {}).get("title")]
    text = re.sub(r"\S+ Sb eq", "", " ".join(figures).replace("\\", ""))   # ADPe has its own unit
    energy = set(re.findall(r"(?<![\w])(mJ|J|Wh|kWh|MWh)(?![\w])", text))
    mass = set(re.findall(r"(?<![\w])(µg|mg|g|kg|t)(?= CO2e|[ ,.)]|$)", text))
    water = set(re.findall(r"(?<![\w])(µL|mL|L|m³)(?![\w])", text))
    assert len(energy) == 1 and len(mass) == 1 and len(water) == 1, (energy, mass, water)
    assert metrics["CO2e"].endswith(f" {mass.pop()}")


def test_the_summary_names_the_assumed_values_in_words():
    at = _estimate_examples()
    text = _visible_text(at)
    assumed = next(m.value for m in at.markdown if m.value.startswith("Assumed")).replace("\\", "")
    for words in ("H100-SXM", "64 concurrent requests", "current vLLM", "bfloat16 weights", "PUE 1.25",
                  "g CO2e/kWh (WOR)"):
        assert words in assumed, (words, assumed)
    assert "Why does SEAL differ from EcoLogits" in " ".join(e.label for e in at.expander)
    assert "EcoLogits" in text and "disclos" in text.lower()
    assert "8.0" not in assumed and "Batch size: 8" not in text


def test_the_apps_gpt4o_figure_equals_seal_estimate_with_the_same_inputs():
    import seal

    at = _app()
    at.text_area(key="est_prompts").set_value("Explain prefill and decode")
    at.selectbox(key="est_model").set_value("openai/gpt-4o")
    at.number_input(key="est_output_tokens").set_value(300)
    at.button(key="est_go").click().run()
    assert not at.error, [e.value for e in at.error]
    app = at.session_state["estimate_run"]["result"]
    api = seal.estimate(pd.DataFrame({"prompt": ["Explain prefill and decode"]}), model="openai/gpt-4o",
                        output_tokens=300, region="WOR")
    for col in ("total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "facility_energy_j", "water_ml"):
        assert app[col].iloc[0] == pytest.approx(api[col].iloc[0], rel=1e-9), col
    assert int(app["batch_size"].iloc[0]) == 64                    # the package's default, not the app's own
    assert at.selectbox(key="est_batch").value == 64


def test_the_region_comparison_has_the_chosen_region_and_others_with_intervals():
    from seal.carbon.compare import compare_regions, suggest_regions

    at = _estimate_examples(region="FRA")
    suggested = suggest_regions("FRA")
    assert at.multiselect(key="est_compare_FRA").value == suggested[1:]
    charts = at.get("plotly_chart")
    import json

    specs = [json.loads(c.proto.spec) for c in charts]
    region_chart = next(s for s in specs if s["layout"]["xaxis"]["title"]["text"].startswith("CO2e of these prompts"))
    bar = region_chart["data"][0]
    assert any("France (your choice)" in y for y in bar["y"]) and len(bar["y"]) == len(suggested)
    assert "error_x" in bar and bar["error_x"]["array"]
    table = compare_regions(at.session_state["estimate_run"]["result"], suggested)
    assert (table["total_low_g_co2e"] <= table["total_g_co2e"]).all()
    assert (table["total_g_co2e"] <= table["total_high_g_co2e"]).all()
    assert table.loc[table["region"] == "POL", "total_g_co2e"].iloc[0] > table.loc[
        table["region"] == "FRA", "total_g_co2e"].iloc[0]


def test_every_figure_has_an_interval_and_no_code_is_visible():
    from seal.errors import WARNINGS

    at = _estimate_examples()
    captions = [c.value for c in at.caption]
    assert sum(c.startswith("80 %:") for c in captions) == 5      # every tile, water included
    text = _visible_text(at)
    for code in WARNINGS:
        assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text), code
    for raw in ("tokenizer:", "coverage_80", "token_source", "Batch size: 8.0"):
        assert raw not in text
    eq = [m.value for m in at.markdown if "per " in m.value and "prompts like these" in m.value]
    assert eq and not any(re.search(r"0\.0\d+ charges", m) for m in eq)


def test_the_empty_page_shows_no_preview_table():
    at = _app()
    assert not [d for d in at.dataframe if "Output length from" in d.value.columns]
    assert any("No prompt yet" in c.value for c in at.caption)


def test_model_picker_lists_popular_models_first_with_family_size_and_access():
    at = _app()
    box = at.selectbox(key="est_model")
    options = list(box.options)
    assert options[0].startswith("★ OpenAI GPT · openai/gpt-4o · closed")
    popular = [o for o in options if o.startswith("★")]
    assert len(popular) >= 20 and options[:len(popular)] == popular
    assert any("Meta Llama · meta-llama/Meta-Llama-3.1-8B-Instruct · open · 8.03 B" in o for o in popular)
