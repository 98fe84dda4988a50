"""What-if: the same prompts or log under two to five serving set-ups, what moves the total, and greener options."""
from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from seal import whatif
from seal.ui import aggregate, charts, loaders
from seal.ui.export import html_report
from seal.ui.format import (ENERGY_UNITS, MASS_UNITS, PRIMARY_ENERGY_UNITS, SBEQ_UNITS, WATER_UNITS, axis_unit,
                            fmt_interval, fmt_mass, fmt_pct, fmt_impacts, fmt_quantity, plain)
from seal.ui.widgets import NO_DEPLOYMENT, deployment_choice, export_buttons, impact_tiles, initial, scenario_loader, \
    show_error

PAGE = "What-if"
SOURCES = {"prompts": "Prompts (below)", "log": "The log loaded on the Logs page"}
KEEP = "(as scenario 1)"           # a setting a scenario does not change
AS_LOGGED = "as logged"
# Scenarios 2-5 start from scenario 1 and change one visible thing each (nothing hidden).
PRESETS: tuple[dict[str, Any], ...] = ({"region": "SWE"}, {"gpu": "H100-SXM"}, {"batch_size": 256},
                                       {"precision": "fp8"})
QUALITY_COLUMN = "Quality (Open LLM Leaderboard avg, %)"


def _base_defaults() -> dict[str, Any]:
    """Scenario 1 starts from the last Estimate run (or the Estimate page's defaults)."""
    run = st.session_state.get("estimate_run")
    inputs = run["inputs"] if run else {}
    return {"model": inputs.get("model"), "gpu": inputs.get("gpu"), "gpus": inputs.get("gpus"),
            "batch_size": inputs.get("batch_size") or 64, "region": inputs.get("region") or "WOR",
            "pue": inputs.get("pue"), "precision": inputs.get("precision"), "engine": inputs.get("engine")}


def _defaults(models: pd.DataFrame, regions: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """Initial values: the prompts from the last Estimate run, and scenario 1 as entered there (the Estimate
    page's set-up); scenarios 2-5 start as :data:`PRESETS`, each changing one visible setting."""
    run = st.session_state.get("estimate_run")
    page = {
        # one prompt per line here: a prompt's own line breaks (blank-line-separated blocks on Estimate) become spaces
        "wi_prompts": "\n".join(p.replace("\n", " ") for p in run["inputs"]["prompts"]) if run else
        ("Summarise the main causes of the French Revolution in five bullet points.\n"
         "Write a Python function that checks whether a string is a palindrome."),
        "wi_output_tokens": int(run["inputs"].get("output_tokens") or 300) if run else 300,
    }
    base = _base_defaults()
    model_names = models["model"].tolist()
    if base["model"] not in model_names:
        base["model"] = next((m for m in model_names if "llama-3.1-8b-instruct" in m.lower()), model_names[0])
    if base["region"] not in set(regions["region"]):
        base["region"] = "WOR"
    return page, base


def _apply_scenario(inputs: dict[str, Any]) -> None:
    """Widgets from a scenario file: scenario 1's settings, and for the others what differs from scenario 1."""
    ss = st.session_state
    loaders.check_choices({"deployment": inputs.get("deployment")})
    ss["wi_deployment"] = inputs.get("deployment") or NO_DEPLOYMENT
    ss["wi_source"] = inputs.get("source", "prompts")
    if inputs.get("prompts") is not None:
        ss["wi_prompts"] = "\n".join(str(p).replace("\n", " ") for p in inputs["prompts"])
    if inputs.get("output_tokens") is not None:
        ss["wi_output_tokens"] = int(inputs["output_tokens"])
    scenarios = inputs.get("scenarios") or []
    for scenario in scenarios:
        loaders.check_choices(scenario)
    ss["wi_n"] = max(2, min(5, len(scenarios)))
    first = scenarios[0] if scenarios else {}
    if first:   # a log's scenario 1 is "as logged": nothing to set
        for key, value in _first_widgets(first).items():
            ss[f"wi_0_{key}"] = value
    for i, s in enumerate(scenarios[1:5], start=1):
        changed = whatif.changes([first, s])[1]
        for key, value in _other_widgets(changed).items():
            ss[f"wi_{i}_{key}"] = value


def _first_widgets(s: dict[str, Any]) -> dict[str, Any]:
    return {"model": s.get("model"), "gpu": s.get("gpu") or loaders.AUTO, "gpus": int(s.get("gpus") or 0),
            "batch_size": int(s.get("batch_size") or 64), "engine": s.get("engine") or "default",
            "region": s.get("region") or "WOR", "pue": float(s.get("pue") or 0.0),
            "precision": s.get("precision") or "default"}


def _other_widgets(changed: dict[str, Any]) -> dict[str, Any]:
    return {"model": changed.get("model", KEEP), "gpu": changed.get("gpu", KEEP),
            "gpus": int(changed.get("gpus") or 0), "batch_size": changed.get("batch_size", KEEP),
            "engine": changed.get("engine", KEEP), "region": changed.get("region", KEEP),
            "pue": float(changed.get("pue") or 0.0), "precision": changed.get("precision", KEEP)}


def _index(options: list, value: Any) -> int:
    return options.index(value) if value in options else 0


def _first_inputs(col, models: pd.DataFrame, gpus: pd.DataFrame, regions: pd.DataFrame,
                  default: dict[str, Any]) -> dict[str, Any]:
    """Scenario 1 for prompts: the set-up as entered (every setting)."""
    labels = dict(zip(models["model"], models["label"]))
    region_labels = dict(zip(regions["region"], regions["label"]))
    model_options, gpu_options = models["model"].tolist(), [loaders.AUTO, *gpus["gpu"]]
    region_options, precision_options = regions["region"].tolist(), ["default", *loaders.PRECISIONS]
    engine_options = ["default", *loaders.ENGINES]
    with col:
        st.markdown("**Scenario 1** (as entered)")
        model = st.selectbox("Model", model_options, format_func=lambda m: labels.get(m, m), key="wi_0_model",
                             **initial("wi_0_model", index=_index(model_options, default["model"])))
        gpu = st.selectbox("GPU", gpu_options, key="wi_0_gpu",
                           **initial("wi_0_gpu", index=_index(gpu_options, default["gpu"])))
        count = st.number_input("GPU count (0 = auto)", min_value=0, max_value=64, key="wi_0_gpus",
                                **initial("wi_0_gpus", value=int(default["gpus"] or 0)))
        batch = st.selectbox("Batch size", loaders.BATCH_SIZES, key="wi_0_batch_size",
                             **initial("wi_0_batch_size",
                                       index=_index(list(loaders.BATCH_SIZES), int(default["batch_size"]))))
        region = st.selectbox("Region", region_options, format_func=lambda r: region_labels.get(r, r),
                              key="wi_0_region", **initial("wi_0_region",
                                                           index=_index(region_options, default["region"])))
        pue = st.number_input("PUE (0 = region default)", min_value=0.0, max_value=3.0, step=0.05, key="wi_0_pue",
                              **initial("wi_0_pue", value=float(default["pue"] or 0.0)))
        precision = st.selectbox("Precision", precision_options, key="wi_0_precision",
                                 **initial("wi_0_precision",
                                           index=_index(precision_options, default["precision"] or "default")))
        engine = st.selectbox("Serving engine", engine_options, key="wi_0_engine",
                              format_func=lambda e: loaders.ENGINE_LABELS.get(e, e),
                              **initial("wi_0_engine", index=_index(engine_options, default.get("engine") or "default")))
    return whatif.scenario_settings({"model": model, "gpu": gpu, "gpus": count, "batch_size": batch, "region": region,
                                     "pue": pue, "precision": precision, "engine": engine},
                                    unset=(loaders.AUTO, "default"))


def _as_logged(col, log_models: list[str]) -> dict[str, Any]:
    """Scenario 1 for a log: every request keeps its own model, GPU, batch, region (nothing to set)."""
    with col:
        st.markdown("**Scenario 1** (as logged)")
        shown = ", ".join(plain(m.split("/")[-1]) for m in log_models[:4])
        more = f" and {len(log_models) - 4} more" if len(log_models) > 4 else ""
        st.caption(f"Each request keeps its own model, GPU, batch size and region, as the log was estimated "
                   f"({len(log_models)} model{'s' if len(log_models) != 1 else ''}: {shown}{more}).")
    return {}


def _other_inputs(i: int, col, models: pd.DataFrame, gpus: pd.DataFrame, regions: pd.DataFrame) -> dict[str, Any]:
    """Scenario ``i`` (2-5): only what it changes; every setting starts as "(as scenario 1)" except the
    preset's one."""
    preset = _other_widgets(PRESETS[(i - 1) % len(PRESETS)])
    labels = {KEEP: KEEP, **dict(zip(models["model"], models["label"]))}
    region_labels = {KEEP: KEEP, **dict(zip(regions["region"], regions["label"]))}
    model_options, gpu_options = [KEEP, *models["model"]], [KEEP, *gpus["gpu"]]
    batch_options = [KEEP, *loaders.BATCH_SIZES]
    region_options, precision_options = [KEEP, *regions["region"]], [KEEP, *loaders.PRECISIONS]
    engine_options = [KEEP, *loaders.ENGINES]
    k = f"wi_{i}_"
    with col:
        st.markdown(f"**Scenario {i + 1}** (changes only)")
        model = st.selectbox("Model", model_options, format_func=lambda m: labels.get(m, m), key=k + "model",
                             **initial(k + "model", index=_index(model_options, preset["model"])))
        gpu = st.selectbox("GPU", gpu_options, key=k + "gpu", **initial(k + "gpu", index=_index(gpu_options, preset["gpu"])))
        count = st.number_input("GPU count (0 = as scenario 1)", min_value=0, max_value=64, key=k + "gpus",
                                **initial(k + "gpus", value=0))
        batch = st.selectbox("Batch size", batch_options, key=k + "batch_size",
                             **initial(k + "batch_size", index=_index(batch_options, preset["batch_size"])))
        region = st.selectbox("Region", region_options, format_func=lambda r: region_labels.get(r, r),
                              key=k + "region", **initial(k + "region", index=_index(region_options, preset["region"])))
        pue = st.number_input("PUE (0 = as scenario 1)", min_value=0.0, max_value=3.0, step=0.05, key=k + "pue",
                              **initial(k + "pue", value=0.0))
        precision = st.selectbox("Precision", precision_options, key=k + "precision",
                                 **initial(k + "precision", index=_index(precision_options, preset["precision"])))
        engine = st.selectbox("Serving engine", engine_options, key=k + "engine",
                              format_func=lambda e: loaders.ENGINE_LABELS.get(e, e),
                              **initial(k + "engine", index=_index(engine_options, preset["engine"])))
    return whatif.scenario_changes({"model": model, "gpu": gpu, "gpus": count, "batch_size": batch, "region": region,
                                    "pue": pue, "precision": precision, "engine": engine}, keep=KEEP)


@st.cache_data(show_spinner=False, max_entries=16)
def _compute(key: str, scenarios: tuple, defaults: tuple, alternatives: whatif.Alternatives,
             _requests: pd.DataFrame | whatif.GroupedRequests) -> dict[str, Any]:
    """:func:`seal.whatif.analyse`, cached on the requests' identity (``key``), the scenarios, the defaults and
    the alternatives."""
    defaults = dict(defaults)
    if isinstance(defaults.get("model_map"), tuple):
        defaults["model_map"] = loaders.mapping_from_key(defaults["model_map"])
    return whatif.analyse(_requests, scenarios, alternatives, **defaults)


def _estimate_lengths(prompts: list[str], page_tokens: int) -> tuple[list[float], list[str | None]]:
    """Per prompt: its output length and pasted response from the last Estimate run where the prompt is the same
    (what that page estimated), else ``page_tokens`` and no response. A row with a response has no length here:
    its response's tokens are counted, as on Estimate."""
    inputs = (st.session_state.get("estimate_run") or {}).get("inputs") or {}
    shown = inputs.get("prompts") or []
    tokens = [*(inputs.get("prompt_output_tokens") or []), *[None] * len(shown)]
    pasted = [*(inputs.get("responses") or []), *[None] * len(shown)]
    known = {str(p).replace("\n", " "): (t, r or None) for p, t, r in zip(shown, tokens, pasted)}
    lengths, responses = [], []
    for prompt in prompts:
        tokens, response = known.get(prompt, (None, None))
        responses.append(response)
        lengths.append(float("nan") if response else float(tokens if tokens is not None else page_tokens))
    return lengths, responses


SETTINGS = (("Model", "model", None), ("GPU", "gpu", "auto"), ("GPU count", "gpus", "auto"),
            ("Batch size", "batch_size", "–"), ("Region", "region", "–"), ("PUE", "pue", "region default"),
            ("Precision", "precision", "default"), ("Serving engine", "engine", "default"))
RESULTS = (("CO2e", "total_g_co2e", MASS_UNITS), ("Facility energy", "facility_energy_j", ENERGY_UNITS),
           ("ADPe", "adpe_kg_sbeq", SBEQ_UNITS), ("Primary energy", "primary_energy_mj", PRIMARY_ENERGY_UNITS),
           ("Water", "water_ml", WATER_UNITS))


def _setting_text(value: Any, missing: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return missing
    return f"{value:g}" if isinstance(value, float) else str(value)


def _side_by_side(table: pd.DataFrame, changed: list[dict[str, Any]], as_logged: bool) -> tuple[pd.DataFrame, list]:
    """Scenarios as columns, settings and totals as rows (one unit per row, chosen from its largest value).

    Scenario 1 shows every setting (or "as logged"); the others only what they change ("same" elsewhere).
    Returns the table and the (row, column) cells a scenario changes, for highlighting."""
    rows: dict[str, list[str]] = {}
    cells = []
    for r, (label, key, missing) in enumerate(SETTINGS):
        first = AS_LOGGED if as_logged and key not in changed[0] else _setting_text(changed[0].get(key), missing)
        values = [first]
        for c, ch in enumerate(changed[1:], start=1):
            if key in ch:
                values.append(_setting_text(ch[key], missing))
                cells.append((r, c + 1))
            else:
                values.append("same")
        rows[label] = values
    for label, key, units in RESULTS:
        unit = axis_unit(table[key], units)
        rows[label] = [fmt_quantity(v, units, unit=unit) for v in table[key]]
        if key == "total_g_co2e":
            rows["80 % interval"] = [f"{fmt_quantity(lo, units, 2, unit=unit)}–{fmt_quantity(hi, units, 2, unit=unit)}"
                                     .replace(f" {unit[0]}–", "–") for lo, hi in
                                     zip(table["total_low_g_co2e"], table["total_high_g_co2e"])]
            rows["Δ vs scenario 1"] = ["–"] + [f"{fmt_quantity(d, units, unit=unit)} ({fmt_pct(f, signed=True)})"
                                               for d, f in zip(table["delta_g_co2e"].iloc[1:],
                                                               table["delta_fraction"].iloc[1:])]
    out = pd.DataFrame(rows).astype(str).T
    out.columns = table["scenario"].tolist()
    out.index.name = "Setting"
    return out.reset_index(), cells


def _highlight(frame: pd.DataFrame, cells: list) -> Any:
    """``frame`` styled: the settings a scenario changes against scenario 1 in bold on a light yellow."""
    marks = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for r, c in cells:
        marks.iat[r, c] = "background-color: #FFF3C4; font-weight: 600"
    return frame.style.apply(lambda _: marks, axis=None)


def _totals_section(run: dict[str, Any]) -> tuple[Any, pd.DataFrame]:
    """The totals side by side, their chart and the chosen scenario's five impacts; returns (chart, table shown)."""
    res, table = run["results"], run["results"]["compare"]
    st.subheader("Totals side by side")
    deployment = run["inputs"].get("deployment")
    if deployment:
        st.info(plain(f"Calibrated to your deployment {deployment}: every scenario is SEAL's estimate corrected by "
                      "what your own measurements showed. A scenario on a GPU or engine the deployment never "
                      "measured gets its overall correction and a wider interval."), icon=":material/tune:")
    grouping = ("each distinct request estimated once" if res.get("resolution", 0) == 0 else
                f"requests grouped by configuration and token counts ({res['resolution']} buckets per decade; "
                f"totals within {whatif.GROUPING_TOLERANCE:.0%} of row-by-row estimation)")
    st.caption(f"{run['n_requests']:,} requests as {res.get('groups', run['n_requests']):,} groups ({grouping}) · "
               f"computed in {run['elapsed_s']:.1f} s. Intervals are 80 %; deltas compare with scenario 1; "
               "highlighted cells are what a scenario changes.")
    side, cells = _side_by_side(table, run["changes"], run["inputs"]["source"] == "log")
    st.dataframe(_highlight(side, cells), hide_index=True, key="wi_side_by_side", height=35 * (len(side) + 1) + 3)
    fig_totals = charts.bars(table, "scenario", "total_g_co2e", "Scenario", low="total_low_g_co2e",
                             high="total_high_g_co2e")
    st.plotly_chart(fig_totals, key="wi_totals_chart")
    pick = st.selectbox("Five impacts of", table["scenario"].tolist(), key="wi_impacts_of")
    impact_tiles(table.set_index("scenario").loc[pick].to_dict(), f"{run['n_requests']:,} requests")
    return fig_totals, side


def _sensitivity_section(res: dict[str, Any]) -> Any:
    """The tornado of what moves scenario 1's total; returns its chart (None when nothing could be computed)."""
    st.subheader("Which assumption moves the total most")
    sens = res["sensitivity"]
    if not len(sens):
        st.info("No sensitivity could be computed for these requests.")
        return None
    fig_tornado = charts.tornado(sens, res["base_total"])
    st.plotly_chart(fig_tornado, key="wi_tornado")
    st.caption("Each bar changes one assumption of scenario 1 and keeps the rest; the dotted line is "
               "scenario 1's total. Log scale: halving and doubling are bars of the same length.")
    return fig_tornado


def _alternatives_shown(alts: pd.DataFrame) -> pd.DataFrame:
    """The greener alternatives as displayed: formatted CO2e, interval, saving (and quality where any is rated)."""
    shown = alts.assign(
        **{"CO2e": alts["total_g_co2e"].map(fmt_mass),
           "80 % interval": [fmt_interval(lo, hi, MASS_UNITS) for lo, hi in
                             zip(alts["total_low_g_co2e"], alts["total_high_g_co2e"])],
           "Saved vs scenario 1": [fmt_pct(f, signed=False) for f in alts["saved_fraction"]],
           QUALITY_COLUMN: [f"{q:.1f}" if pd.notna(q) else "not rated" for q in alts["quality"]]})
    shown = shown.rename(columns={"change": "Change", "label": "Alternative", "pareto": "Pareto-optimal"})
    columns = ["Alternative", "Change", "CO2e", "80 % interval", "Saved vs scenario 1"]
    if alts["quality"].notna().any():
        columns += [QUALITY_COLUMN, "Pareto-optimal"]
    return shown[columns]


def _alternatives_section(res: dict[str, Any]) -> tuple[Any, pd.DataFrame]:
    """The greener alternatives and their carbon-versus-quality plot; returns (plot or None, table shown)."""
    st.subheader("Greener alternatives")
    alts = res["alternatives"]
    if not len(alts):
        return None, alts
    alts_shown = _alternatives_shown(alts)
    st.dataframe(alts_shown, hide_index=True, key="wi_alternatives")
    st.caption("Models offered do the same job: chat / instruct models of known size, of similar or better "
               "quality where it is known (no classifiers, guard, embedding, code-completion or framework "
               "re-uploads); each alternative changes one thing of scenario 1.")
    if alts["quality"].notna().sum() < 2:
        st.info("Model quality scores come from the Open LLM Leaderboard table, which is not in the store yet: "
                "run `seal data pull` to add it and get the carbon-versus-quality plot.")
        return None, alts_shown
    fig_pareto = charts.pareto(alts.assign(label=alts["label"].astype(str)))
    st.plotly_chart(fig_pareto, key="wi_pareto")
    return fig_pareto, alts_shown


def _report(run: dict[str, Any], figures: list[tuple[str, Any]], side: pd.DataFrame,
            alts_shown: pd.DataFrame) -> bytes:
    """The HTML report of the comparison: the charts drawn (None ones left out) and the two tables."""
    table = run["results"]["compare"]
    firsts = table.iloc[0].to_dict()
    return html_report("SEAL what-if", intro=(f"{run['n_requests']} requests, {len(table)} scenarios. "
                                              f"{table['scenario'].iloc[0]}: {fmt_impacts(firsts)}"),
                       figures=[(title, fig) for title, fig in figures if fig is not None],
                       tables=[("Scenarios", side), ("Greener alternatives", alts_shown)],
                       scenario=run["inputs"], totals={k: v for k, v in firsts.items()
                                                      if isinstance(v, (int, float))})


def _results(run: dict[str, Any]) -> None:
    res = run["results"]
    fig_totals, side = _totals_section(run)
    fig_tornado = _sensitivity_section(res)
    fig_pareto, alts_shown = _alternatives_section(res)
    if res["skipped"]:
        with st.expander(f"{len(res['skipped'])} variation(s) could not be estimated"):
            for line in res["skipped"]:
                st.markdown(f"- {plain(line)}")  # the reason quotes the requests (model names from a log)
    figures = [("Totals by scenario", fig_totals), ("Sensitivity", fig_tornado),
               ("Carbon versus quality", fig_pareto)]
    st.markdown("**Export**")
    export_buttons(res["compare"], "seal-what-if", PAGE, run["inputs"],
                   lambda: _report(run, figures, side, alts_shown), key="wi_export")


def _log_requests(logs_run: dict[str, Any]) -> tuple[Any, int, list[str], list[float], dict[str, Any]]:
    """The loaded log as What-if uses it: its grouped requests (every row; the sample for a summary made before
    grouping existed), the number of requests, its models by weight, and the defaults it was estimated with."""
    log = logs_run.get("log")
    grouped = getattr(log, "grouped_requests", None)
    if grouped is None or not len(grouped):
        grouped = logs_run["requests"]
        n = len(grouped)
    else:
        n = grouped.requests
    by_model = whatif.models_by_weight(grouped)
    defaults = {k: v for k, v in (logs_run.get("inputs", {}).get("defaults") or {}).items() if v is not None}
    model_map = getattr(log, "model_map", None) or logs_run.get("inputs", {}).get("model_map")
    if model_map:
        defaults["model_map"] = model_map
    return grouped, n, [str(m) for m in by_model.index], [float(w) for w in by_model.to_numpy()], defaults


st.title("What-if")
st.markdown("Compare the same requests under two to five serving set-ups: scenario 1 is the requests as entered "
            "(or as logged), each other scenario changes only what it shows. See which assumption matters most, and "
            "which alternatives cut CO2e for what model quality.")
scenario_loader(PAGE, "wi_scenario", _apply_scenario)
try:
    models, gpus, regions = loaders.models(), loaders.gpus(), loaders.regions()
except loaders.Unavailable as exc:
    st.error(plain(exc))
    st.stop()
page_defaults, base_default = _defaults(models, regions)

logs_run = st.session_state.get("logs_run")
source_options = ["prompts", "log"] if logs_run else ["prompts"]
if "wi_source" in st.session_state and st.session_state["wi_source"] not in source_options:
    st.session_state["wi_source"] = "prompts"
source = st.radio("Requests to compare", source_options, format_func=SOURCES.get, horizontal=True, key="wi_source")
log_models: list[str] = []
if source == "prompts":
    st.text_area("Prompts", key="wi_prompts", height=110, help="One prompt per line.",
                 **initial("wi_prompts", value=page_defaults["wi_prompts"]))
    st.number_input("Expected output tokens", min_value=1, max_value=200_000, step=50, key="wi_output_tokens",
                    **initial("wi_output_tokens", value=page_defaults["wi_output_tokens"]))
else:
    log_requests, log_n, log_models, log_weights, log_defaults = _log_requests(logs_run)
    st.caption(f"Using {plain(logs_run['name'])} ({log_n:,} requests). A scenario's setting replaces the log's "
               "value on every request; settings it leaves as scenario 1 keep each request's own. Measured "
               "latencies are dropped, and the GPU count chosen again, when the serving set-up changes.")
estimate_inputs = (st.session_state.get("estimate_run") or {}).get("inputs", {})
run_deployment = estimate_inputs.get("deployment") if source == "prompts" else log_defaults.get("deployment")
deployment = deployment_choice("wi_deployment", default=run_deployment,
                               help_suffix=" It applies to every scenario.")
n = st.number_input("Number of scenarios", min_value=2, max_value=5, key="wi_n", **initial("wi_n", value=3))
cols = st.columns(int(n))
first = (_first_inputs(cols[0], models, gpus, regions, base_default) if source == "prompts"
         else _as_logged(cols[0], log_models))
changed = [first] + [_other_inputs(i, cols[i], models, gpus, regions) for i in range(1, int(n))]
scenarios = whatif.scenario_variants(first, changed[1:])

if st.button("Compare", type="primary", key="wi_go"):
    if source == "prompts":
        prompts = aggregate.split_prompts(st.session_state.get("wi_prompts", ""), "line")
        output_tokens = int(st.session_state["wi_output_tokens"])
        lengths, responses = _estimate_lengths(prompts, output_tokens)
        requests = pd.DataFrame({"request_id": [f"p{i + 1}" for i in range(len(prompts))], "prompt": prompts,
                                 "output_tokens": lengths, "response": responses})
        # each prompt's own output length (as on Estimate; a pasted response is counted), the page's value elsewhere
        key = "prompts:" + "\x1f".join(f"{p}\x1e{n}\x1e{r}" for p, n, r in zip(prompts, lengths, responses))
        defaults = {}
        n_requests, base_models, base_weights = len(prompts), [first["model"]], [1.0]
    else:
        prompts, requests, output_tokens = None, log_requests, None
        key, defaults = "log:" + logs_run["digest"], dict(log_defaults)
        n_requests, base_models, base_weights = log_n, log_models, log_weights
    defaults.pop("deployment", None)           # the page's choice, not the one the log was scored with
    if deployment:
        defaults["deployment"] = deployment
        key += "\x1dcalibrated:" + loaders.calibration_stamp(deployment)
    if not n_requests:
        st.error("Give at least one prompt (one per line), or load a log on the Logs page.")
    else:
        t0 = time.perf_counter()
        try:
            with st.spinner(f"Running {len(scenarios)} scenarios, the sensitivity and the alternatives…"):
                results = _compute(key, tuple(tuple(sorted(s.items())) for s in scenarios),
                                   tuple(sorted((k, loaders.mapping_key(v) if isinstance(v, dict) else v)
                                                for k, v in defaults.items())),
                                   whatif.alternative_candidates(models, gpus, regions, base_models, base_weights),
                                   requests)
        except Exception as exc:  # noqa: BLE001 - shown; the previous comparison stays
            show_error(exc)
        else:
            st.session_state["whatif_run"] = {
                "results": results, "n_requests": n_requests, "elapsed_s": time.perf_counter() - t0,
                "changes": changed,
                "inputs": {"source": source, "prompts": prompts, "output_tokens": output_tokens,
                           "log_sha256": None if source == "prompts" else logs_run["digest"],
                           **({"deployment": deployment} if deployment else {}), "scenarios": scenarios},
            }

run = st.session_state.get("whatif_run")
if run is not None:
    _results(run)
