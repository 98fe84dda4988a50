"""What-if: the same prompts or log under two to five serving set-ups, what moves the total, and greener options."""
from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from seal import whatif
from seal.ui import aggregate, charts, loaders
from seal.ui.export import html_report
from seal.ui.format import (MASS_UNITS, fmt_energy, fmt_interval, fmt_mass, fmt_pct, fmt_impacts,
                            fmt_primary_energy, fmt_sbeq, fmt_water, plain)
from seal.ui.widgets import export_buttons, impact_tiles, initial, scenario_loader, show_error

PAGE = "What-if"
SOURCES = {"prompts": "Prompts (below)", "log": "The log loaded on the Logs page"}
ALTERNATIVE_GPUS = ("H100-SXM", "A100-SXM4-80GB", "L4", "H200")
ALTERNATIVE_REGIONS = ("SWE", "FRA", "aws:eu-north-1", "gcp:europe-north1")
MAX_ALTERNATIVE_MODELS = 8


def _base_defaults() -> dict[str, Any]:
    """Scenario 1 starts from the last Estimate run (or the Estimate page's defaults)."""
    run = st.session_state.get("estimate_run")
    inputs = run["inputs"] if run else {}
    return {"model": inputs.get("model"), "gpu": inputs.get("gpu"), "gpus": inputs.get("gpus"),
            "batch_size": inputs.get("batch_size") or 64, "region": inputs.get("region") or "WOR",
            "pue": inputs.get("pue"), "precision": inputs.get("precision"), "engine": inputs.get("engine")}


def _defaults(models: pd.DataFrame, regions: pd.DataFrame) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Initial values: the requests from the last Estimate run, and five scenarios that start from its set-up
    (scenario 1) and change one thing each (a cleaner grid, a bigger batch, a newer GPU, 8-bit weights)."""
    run = st.session_state.get("estimate_run")
    page = {
        "wi_prompts": "\n".join(run["inputs"]["prompts"]) if run else
        ("Summarise the main causes of the French Revolution in five bullet points.\n"
         "Write a Python function that checks whether a string is a palindrome."),
        "wi_output_tokens": int(run["inputs"].get("output_tokens") or 300) if run else 300,
    }
    base = _base_defaults()
    model_names = models["model"].tolist()
    if base["model"] not in model_names:
        base["model"] = next((m for m in model_names if "llama-3.1-8b-instruct" in m.lower()), model_names[0])
    codes = set(regions["region"])
    if base["region"] not in codes:
        base["region"] = "WOR"
    variants = [{}, {"region": "SWE" if "SWE" in codes else base["region"]},
                {"batch_size": 256}, {"gpu": "H100-SXM"}, {"precision": "fp8"}]
    return page, [{**base, **change} for change in variants]


def _apply_scenario(inputs: dict[str, Any]) -> None:
    ss = st.session_state
    ss["wi_source"] = inputs.get("source", "prompts")
    if inputs.get("prompts") is not None:
        ss["wi_prompts"] = "\n".join(inputs["prompts"])
    if inputs.get("output_tokens") is not None:
        ss["wi_output_tokens"] = int(inputs["output_tokens"])
    scenarios = inputs.get("scenarios") or []
    for scenario in scenarios:
        loaders.check_choices(scenario)
    ss["wi_n"] = max(2, min(5, len(scenarios)))
    for i, s in enumerate(scenarios[:5]):
        ss[f"wi_{i}_model"] = s.get("model")
        ss[f"wi_{i}_gpu"] = s.get("gpu") or loaders.AUTO
        ss[f"wi_{i}_gpus"] = int(s.get("gpus") or 0)
        ss[f"wi_{i}_batch_size"] = int(s.get("batch_size") or 64)
        ss[f"wi_{i}_engine"] = s.get("engine") or "default"
        ss[f"wi_{i}_region"] = s.get("region") or "WOR"
        ss[f"wi_{i}_pue"] = float(s.get("pue") or 0.0)
        ss[f"wi_{i}_precision"] = s.get("precision") or "default"


def _scenario_inputs(i: int, col, models: pd.DataFrame, gpus: pd.DataFrame, regions: pd.DataFrame,
                     default: dict[str, Any]) -> dict[str, Any]:
    labels = dict(zip(models["model"], models["label"]))
    region_labels = dict(zip(regions["region"], regions["label"]))
    model_options = models["model"].tolist()
    gpu_options = [loaders.AUTO, *gpus["gpu"]]
    region_options = regions["region"].tolist()
    precision_options = ["default", *loaders.PRECISIONS]

    def index(options: list, value: Any) -> int:
        return options.index(value) if value in options else 0

    with col:
        st.markdown(f"**Scenario {i + 1}**" + (" (reference)" if i == 0 else ""))
        model = st.selectbox("Model", model_options, format_func=lambda m: labels.get(m, m), key=f"wi_{i}_model",
                             **initial(f"wi_{i}_model", index=index(model_options, default["model"])))
        gpu = st.selectbox("GPU", gpu_options, key=f"wi_{i}_gpu",
                           **initial(f"wi_{i}_gpu", index=index(gpu_options, default["gpu"])))
        count = st.number_input("GPU count (0 = auto)", min_value=0, max_value=64, key=f"wi_{i}_gpus",
                                **initial(f"wi_{i}_gpus", value=int(default["gpus"] or 0)))
        batch = st.selectbox("Batch size", loaders.BATCH_SIZES, key=f"wi_{i}_batch_size",
                             **initial(f"wi_{i}_batch_size",
                                       index=index(list(loaders.BATCH_SIZES), int(default["batch_size"]))))
        region = st.selectbox("Region", region_options, format_func=lambda r: region_labels.get(r, r),
                              key=f"wi_{i}_region", **initial(f"wi_{i}_region",
                                                              index=index(region_options, default["region"])))
        pue = st.number_input("PUE (0 = region default)", min_value=0.0, max_value=3.0, step=0.05,
                              key=f"wi_{i}_pue", **initial(f"wi_{i}_pue", value=float(default["pue"] or 0.0)))
        precision = st.selectbox("Precision", precision_options, key=f"wi_{i}_precision",
                                 **initial(f"wi_{i}_precision",
                                           index=index(precision_options, default["precision"] or "default")))
        engine_options = ["default", *loaders.ENGINES]
        engine = st.selectbox("Serving engine", engine_options, key=f"wi_{i}_engine",
                              format_func=lambda e: loaders.ENGINE_LABELS.get(e, e),
                              **initial(f"wi_{i}_engine",
                                        index=index(engine_options, default.get("engine") or "default")))
    return {"model": model, "gpu": None if gpu == loaders.AUTO else gpu, "gpus": int(count) or None,
            "batch_size": int(batch), "region": region, "pue": float(pue) or None,
            "precision": None if precision == "default" else precision,
            "engine": None if engine == "default" else engine}


@st.cache_data(show_spinner=False, max_entries=16)
def _compute(key: str, scenarios: tuple, output_tokens: int | None, alternatives: tuple,
             _requests: pd.DataFrame) -> dict[str, Any]:
    """Comparison, sensitivity and alternatives, cached on the requests' identity and the scenarios."""
    defaults = {"output_tokens": output_tokens} if output_tokens else {}
    scen = [dict(s) for s in scenarios]
    table = whatif.compare(_requests, scen, **defaults)
    sens, base_total, skipped = whatif.sensitivity(_requests, scen[0], **defaults)
    models, gpus, regions, quality = alternatives
    alts, alt_skipped = whatif.greener_alternatives(
        _requests, scen[0], quality=pd.Series(dict(quality), dtype=float), models=list(models),
        gpus=list(gpus), regions=list(regions), **defaults)
    return {"compare": table, "sensitivity": sens, "base_total": base_total, "alternatives": alts,
            "skipped": skipped + alt_skipped}


def _alternative_candidates(models: pd.DataFrame, gpus: pd.DataFrame, regions: pd.DataFrame,
                            base_model: str) -> tuple:
    scored = models[models["quality"].notna()]
    if len(scored):
        # a spread of sizes among the best-scoring open models, plus the base model
        scored = scored.sort_values("quality", ascending=False).head(60)
        scored = scored.sort_values("params_b").iloc[::max(1, len(scored) // MAX_ALTERNATIVE_MODELS)]
        candidates = scored["model"].head(MAX_ALTERNATIVE_MODELS).tolist()
    else:
        open_models = models[models["open"] & models["params_b"].notna()].sort_values("params_b")
        candidates = open_models["model"].iloc[::max(1, len(open_models) // 6)].head(6).tolist()
    quality = tuple((m, float(q)) for m, q in zip(models["model"], models["quality"]) if pd.notna(q))
    gpu_names = tuple(g for g in ALTERNATIVE_GPUS if g in set(gpus["gpu"]))
    region_codes = tuple(r for r in ALTERNATIVE_REGIONS if r in set(regions["region"]))
    return tuple(m for m in candidates if m != base_model), gpu_names, region_codes, quality


def _side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """Scenarios as columns, settings and totals as rows (strings with units)."""
    def text(col: str, missing: str) -> list[str]:
        return [missing if pd.isna(v) else (f"{v:g}" if isinstance(v, float) else str(v)) for v in table[col]]

    rows = {
        "Model": table["model"], "GPU": text("gpu", "auto"), "GPU count": text("gpus", "auto"),
        "Batch size": text("batch_size", "–"), "Region": table["region"], "PUE": text("pue", "region default"),
        "Precision": text("precision", "default"),
        "CO2e": table["total_g_co2e"].map(fmt_mass),
        "80 % interval": [fmt_interval(lo, hi, MASS_UNITS) for lo, hi in
                          zip(table["total_low_g_co2e"], table["total_high_g_co2e"])],
        "Δ vs scenario 1": [f"{fmt_mass(d)} ({fmt_pct(f, signed=True)})" if i else "–"
                            for i, (d, f) in enumerate(zip(table["delta_g_co2e"], table["delta_fraction"]))],
        "Facility energy": table["facility_energy_j"].map(fmt_energy),
        "ADPe": table["adpe_kg_sbeq"].map(fmt_sbeq),
        "Primary energy": table["primary_energy_mj"].map(fmt_primary_energy),
        "Water": table["water_ml"].map(fmt_water),
    }
    out = pd.DataFrame(rows).astype(str).T
    out.columns = table["scenario"].tolist()
    out.index.name = "Setting"
    return out.reset_index()


def _results(run: dict[str, Any]) -> None:
    res = run["results"]
    table: pd.DataFrame = res["compare"]
    st.subheader("Totals side by side")
    st.caption(f"{run['n_requests']} requests · computed in {run['elapsed_s']:.1f} s. Intervals are 80 %; deltas "
               "compare with scenario 1.")
    side = _side_by_side(table)
    st.dataframe(side, hide_index=True, key="wi_side_by_side", height=35 * (len(side) + 1) + 3)
    fig_totals = charts.bars(table, "scenario", "total_g_co2e", "Scenario", low="total_low_g_co2e",
                             high="total_high_g_co2e")
    st.plotly_chart(fig_totals, key="wi_totals_chart")
    pick = st.selectbox("Five impacts of", table["scenario"].tolist(), key="wi_impacts_of")
    impact_tiles(table.set_index("scenario").loc[pick].to_dict(), f"{run['n_requests']} requests")

    st.subheader("Which assumption moves the total most")
    sens = res["sensitivity"]
    fig_tornado = None
    if len(sens):
        fig_tornado = charts.tornado(sens, res["base_total"])
        st.plotly_chart(fig_tornado, key="wi_tornado")
        st.caption("Each bar changes one assumption of scenario 1 and keeps the rest; the dotted line is "
                   "scenario 1's total.")
    else:
        st.info("No sensitivity could be computed for these requests.")

    st.subheader("Greener alternatives")
    alts = res["alternatives"]
    fig_pareto = None
    if len(alts):
        shown = alts.assign(
            **{"CO2e": alts["total_g_co2e"].map(fmt_mass),
               "80 % interval": [fmt_interval(lo, hi, MASS_UNITS) for lo, hi in
                                 zip(alts["total_low_g_co2e"], alts["total_high_g_co2e"])],
               "Saved vs scenario 1": [fmt_pct(f, signed=False) for f in alts["saved_fraction"]],
               "Quality (Open LLM Leaderboard avg, %)": alts["quality"].round(1)})
        shown = shown.rename(columns={"change": "Change", "label": "Alternative", "pareto": "Pareto-optimal"})
        st.dataframe(shown[["Alternative", "Change", "CO2e", "80 % interval", "Saved vs scenario 1",
                            "Quality (Open LLM Leaderboard avg, %)", "Pareto-optimal"]],
                     hide_index=True, key="wi_alternatives")
        if alts["quality"].notna().sum() >= 2:
            points = alts.assign(label=alts["label"].astype(str))
            fig_pareto = charts.pareto(points)
            st.plotly_chart(fig_pareto, key="wi_pareto")
        else:
            st.info("Model quality scores come from the Open LLM Leaderboard table, which is not in the store yet: "
                    "run `seal data pull` to add it and get the carbon-versus-quality plot.")
    if res["skipped"]:
        with st.expander(f"{len(res['skipped'])} variation(s) could not be estimated"):
            for line in res["skipped"]:
                st.markdown(f"- {plain(line)}")  # the reason quotes the requests (model names from a log)

    def report() -> bytes:
        figs = [("Totals by scenario", fig_totals)]
        if fig_tornado is not None:
            figs.append(("Sensitivity", fig_tornado))
        if fig_pareto is not None:
            figs.append(("Carbon versus quality", fig_pareto))
        firsts = table.iloc[0].to_dict()
        return html_report("SEAL what-if", intro=(f"{run['n_requests']} requests, {len(table)} scenarios. "
                                                  f"{table['scenario'].iloc[0]}: {fmt_impacts(firsts)}"),
                           figures=figs, tables=[("Scenarios", _side_by_side(table)),
                                                 ("Greener alternatives", alts)], scenario=run["inputs"])

    st.markdown("**Export**")
    export_buttons(table, "seal-what-if", PAGE, run["inputs"], report, key="wi_export")


st.title("What-if")
st.markdown("Apply two to five serving set-ups to the same requests and compare their totals; see which "
            "assumption matters most, and which alternatives cut CO2e for what model quality.")
scenario_loader(PAGE, "wi_scenario", _apply_scenario)
try:
    models, gpus, regions = loaders.models(), loaders.gpus(), loaders.regions()
except loaders.Unavailable as exc:
    st.error(plain(exc))
    st.stop()
page_defaults, scenario_defaults = _defaults(models, regions)

logs_run = st.session_state.get("logs_run")
source_options = ["prompts", "log"] if logs_run else ["prompts"]
if "wi_source" in st.session_state and st.session_state["wi_source"] not in source_options:
    st.session_state["wi_source"] = "prompts"
source = st.radio("Requests to compare", source_options, format_func=SOURCES.get, horizontal=True, key="wi_source")
if source == "prompts":
    st.text_area("Prompts", key="wi_prompts", height=110, help="One prompt per line.",
                 **initial("wi_prompts", value=page_defaults["wi_prompts"]))
    st.number_input("Expected output tokens", min_value=1, max_value=200_000, step=50, key="wi_output_tokens",
                    **initial("wi_output_tokens", value=page_defaults["wi_output_tokens"]))
else:
    shown, total = len(logs_run["requests"]), getattr(logs_run.get("log"), "requests", len(logs_run["requests"]))
    what = f"{shown:,} requests" if shown >= total else f"a uniform random sample of {shown:,} of its {total:,} requests"
    st.caption(f"Using {plain(logs_run['name'])} ({what}). Scenario settings replace "
               "the log's model, GPU, batch and region on every request; measured latencies are dropped when the "
               "serving set-up changes.")
n = st.number_input("Number of scenarios", min_value=2, max_value=5, key="wi_n", **initial("wi_n", value=3))
cols = st.columns(int(n))
scenarios = [_scenario_inputs(i, cols[i], models, gpus, regions, scenario_defaults[i]) for i in range(int(n))]

if st.button("Compare", type="primary", key="wi_go"):
    if source == "prompts":
        prompts = aggregate.split_prompts(st.session_state.get("wi_prompts", ""), "line")
        requests = pd.DataFrame({"request_id": [f"p{i + 1}" for i in range(len(prompts))], "prompt": prompts})
        key, output_tokens = "prompts:" + "\x1f".join(prompts), int(st.session_state["wi_output_tokens"])
    else:
        prompts, requests = None, logs_run["requests"]
        key, output_tokens = "log:" + logs_run["digest"], None
    if requests.empty:
        st.error("Give at least one prompt (one per line), or load a log on the Logs page.")
    else:
        t0 = time.perf_counter()
        try:
            with st.spinner(f"Running {len(scenarios)} scenarios, the sensitivity and the alternatives…"):
                results = _compute(key, tuple(tuple(sorted(s.items())) for s in scenarios), output_tokens,
                                   _alternative_candidates(models, gpus, regions, scenarios[0]["model"]), requests)
        except Exception as exc:  # noqa: BLE001 - shown; the previous comparison stays
            show_error(exc)
        else:
            st.session_state["whatif_run"] = {
                "results": results, "n_requests": len(requests), "elapsed_s": time.perf_counter() - t0,
                "inputs": {"source": source, "prompts": prompts, "output_tokens": output_tokens,
                           "log_sha256": None if source == "prompts" else logs_run["digest"],
                           "scenarios": scenarios},
            }

run = st.session_state.get("whatif_run")
if run is not None:
    _results(run)
