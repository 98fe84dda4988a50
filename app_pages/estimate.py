"""Estimate: pick an example or paste prompts, choose a model, GPU and region, and see each prompt's energy, CO2e and
water with their 80 % intervals, in one unit per quantity, beside other regions."""
from __future__ import annotations

import hashlib
import time
from typing import Any

import pandas as pd
import streamlit as st

from seal.carbon.compare import compare_regions, suggest_regions
from seal.estimator.defaults import DEFAULT_BATCH_SIZE
from seal.logs.normalize import DEFAULT_OUTPUT_TOKENS
from seal.ui import aggregate, charts, examples, loaders, prompts as rows_ui, units as U, words
from seal.ui.export import html_report
from seal.ui.format import MASS_UNITS, WATER_UNITS, fmt_pct, fmt_quantity, plain
from seal.ui.picker import picker_models
from seal.ui.widgets import NO_DEPLOYMENT, deployment_choice, export_buttons, impact_tiles_in, initial, labelled, \
    preload_charts, scenario_loader, show_error, warning_banners

PAGE = "Estimate"
SPLIT_MODES = {"line": "One prompt per line", "block": "Blocks separated by a blank line"}
DEFAULT_MODEL_HINTS = ("meta-llama-3.1-8b-instruct", "llama-3.1-8b-instruct", "llama-3.1-8b", "meta-llama-3-8b-instruct",
                       "mistral-7b-instruct", "gpt-4o-mini")
DEFAULT_BATCH = int(DEFAULT_BATCH_SIZE)        # the package's default (seal.estimator.defaults), as the CLI and API
# widget key -> scenario input name
KEYS = {"est_split": "split", "est_prompts": "prompts", "est_model": "model", "est_gpu": "gpu",
        "est_region": "region", "est_batch": "batch_size", "est_output_tokens": "output_tokens",
        "est_gpus": "gpus", "est_precision": "precision", "est_pue": "pue", "est_engine": "engine"}
OVERRIDES, RESPONSES = "est_out_by_prompt", "est_responses"


def _apply_scenario(inputs: dict[str, Any]) -> None:
    loaders.check_choices(inputs)
    for key, name in KEYS.items():
        if name in inputs:
            value = inputs[name]
            if name == "prompts" and isinstance(value, list):
                value = ("\n\n" if inputs.get("split") == "block" else "\n").join(value)
            if name in ("gpu", "precision", "engine") and value in (None, ""):
                value = loaders.AUTO if name == "gpu" else "default"
            if name in ("gpus", "pue") and value is None:
                value = 0 if name == "gpus" else 0.0
            st.session_state[key] = value
    st.session_state["est_deployment"] = inputs.get("deployment") or NO_DEPLOYMENT
    prompts = inputs.get("prompts") if isinstance(inputs.get("prompts"), list) else []
    per_prompt = inputs.get("prompt_output_tokens") or []
    responses = inputs.get("responses") or []
    def natural(prompt: str) -> Any:   # the length the table gives the prompt without an edit
        example = examples.example_for(prompt)
        return example.output_tokens if example is not None else inputs.get("output_tokens")

    st.session_state[OVERRIDES] = {p: int(t) for p, t in zip(prompts, per_prompt)
                                   if t is not None and t != natural(p)}
    st.session_state[RESPONSES] = {p: r for p, r in zip(prompts, responses) if r}


def _apply_example() -> None:
    """The example picker's choice: its prompts in the box (one per line), each with its typical output length."""
    chosen = examples.chosen(st.session_state.get("est_example", examples.NONE))
    if not chosen:
        return
    st.session_state["est_split"] = "line"
    st.session_state["est_prompts"] = "\n".join(e.prompt for e in chosen)
    for e in chosen:  # the example's own length, not an older edit
        st.session_state.setdefault(OVERRIDES, {}).pop(e.prompt, None)
        st.session_state.setdefault(RESPONSES, {}).pop(e.prompt, None)


def _default_index(options: list[str], hints: tuple[str, ...]) -> int:
    lowered = [o.lower() for o in options]
    for hint in hints:
        for i, o in enumerate(lowered):
            if hint in o:
                return i
    return 0


def _examples_picker() -> None:
    st.selectbox("Start from an example", examples.CHOICES, key="est_example", on_change=_apply_example,
                 help="Real prompts for typical tasks; each sets its typical output length (source beside it).")
    with st.expander("Example tasks and where their typical output lengths come from"):
        st.dataframe(pd.DataFrame({"Task": [e.name for e in examples.EXAMPLES],
                                   "Typical output tokens": [e.output_tokens for e in examples.EXAMPLES],
                                   "Source": [e.source for e in examples.EXAMPLES]}),
                     hide_index=True, key="est_example_sources")


def _prompt_table(prompts: list[str]) -> pd.DataFrame:
    """Each prompt with its output length, editable; returns the rows as they stand."""
    ss = st.session_state
    default = int(ss.get("est_output_tokens", DEFAULT_OUTPUT_TOKENS))
    overrides, responses = ss.get(OVERRIDES, {}), ss.get(RESPONSES, {})
    shown = rows_ui.prompt_rows(prompts, default, overrides, responses)
    if not prompts:
        st.caption("No prompt yet: pick an example above or paste prompts into the box.")
        return shown
    st.caption(f"{len(prompts)} prompt{'s' if len(prompts) != 1 else ''}, each with its own output length: type "
               "another length, or paste the model's response to count its tokens.")
    digest = hashlib.sha256("\x00".join(prompts).encode()).hexdigest()[:12]
    edited = st.data_editor(
        shown, hide_index=True, key=f"est_rows_{digest}", disabled=[rows_ui.PROMPT, rows_ui.FROM],
        column_config={rows_ui.PROMPT: st.column_config.TextColumn(width="large"),
                       rows_ui.OUTPUT: st.column_config.NumberColumn(min_value=1, max_value=200_000, step=1,
                                                                     format="%d"),
                       rows_ui.RESPONSE: st.column_config.TextColumn(width="medium"),
                       rows_ui.FROM: st.column_config.TextColumn(width="medium")})
    new_overrides, new_responses = rows_ui.read_edits(shown, edited, overrides, responses)
    if new_overrides != overrides or new_responses != responses:
        ss[OVERRIDES], ss[RESPONSES] = new_overrides, new_responses
        shown = rows_ui.prompt_rows(prompts, default, new_overrides, new_responses)
    return shown


def _inputs_form() -> tuple[dict[str, Any], pd.DataFrame] | None:
    """Draw the inputs; returns (defaults for seal.estimate, per-prompt rows) when "Estimate" is clicked."""
    try:
        models = picker_models(loaders.models())
        gpus = loaders.gpus()
        regions = loaders.regions()
    except loaders.Unavailable as exc:
        st.error(plain(exc))
        return None

    rows = _prompts_input()
    _setup_inputs(models, gpus, regions)
    deployment = deployment_choice("est_deployment")
    _advanced_inputs()
    if not st.button("Estimate", type="primary", key="est_go"):
        return None
    return _chosen_defaults(deployment), rows


def _prompts_input() -> pd.DataFrame:
    """Draw the example picker, the separation choice and the prompts box; returns the per-prompt rows."""
    _examples_picker()
    split = st.radio("Prompt separation", list(SPLIT_MODES), format_func=SPLIT_MODES.get, horizontal=True,
                     key="est_split", help="How the text below is cut into prompts.")
    st.text_area(
        "Prompts", key="est_prompts", height=160,
        placeholder=("Pick an example above, or paste your own prompts here, one per line." if split == "line" else
                     "Pick an example above, or paste your own prompts here, separated by a blank line."),
        help="One prompt per line, or blocks separated by a blank line — as chosen above.",
    )
    prompts = aggregate.split_prompts(st.session_state.get("est_prompts", ""), split)
    return _prompt_table(prompts)


def _setup_inputs(models: pd.DataFrame, gpus: pd.DataFrame, regions: pd.DataFrame) -> None:
    """Draw the model, GPU, region, batch size, output length and engine choices."""
    model_names = models["model"].tolist()
    labels = dict(zip(models["model"], models["picker_label"]))
    st.selectbox("Model", model_names, **initial("est_model", index=_default_index(model_names, DEFAULT_MODEL_HINTS)),
                 format_func=lambda m: labels.get(m, m), key="est_model",
                 help="Popular models first (★, by family), then every catalogue model. Type any part of the name to "
                      "search. Open-weights models show their size; closed ones a published or estimated size.")
    c2, c3 = st.columns([2, 3])
    gpu_options = [loaders.AUTO, *gpus["gpu"].tolist()]
    c2.selectbox("GPU", gpu_options, key="est_gpu",
                 help="Auto: the documented default serving set-up for the model (H100-SXM, enough GPUs for it).")
    region_codes = regions["region"].tolist()
    region_labels = dict(zip(regions["region"], regions["label"]))
    c3.selectbox("Region", region_codes, **initial("est_region", index=_default_index(region_codes, ("wor",))),
                 format_func=lambda r: region_labels.get(r, r), key="est_region",
                 help="Country (ISO code), world average, or cloud region (provider PUE/WUE applied).")
    c4, c5, c6 = st.columns([2, 2, 3])
    c4.selectbox("Batch size", loaders.BATCH_SIZES, key="est_batch",
                 **initial("est_batch", index=loaders.BATCH_SIZES.index(DEFAULT_BATCH)),
                 help=f"Requests served concurrently; each request is charged its share of the GPU time. Default "
                      f"{DEFAULT_BATCH}, SEAL's default everywhere (seal.estimator.defaults).")
    c5.number_input("Expected output tokens", min_value=1, max_value=200_000, step=50,
                    **initial("est_output_tokens", value=DEFAULT_OUTPUT_TOKENS),
                    key="est_output_tokens",
                    help=f"Tokens generated per prompt that has no length of its own in the table above. Default "
                         f"{DEFAULT_OUTPUT_TOKENS}: the mean response of LMSYS-Chat-1M, SEAL's default everywhere.")
    c6.selectbox("Serving engine", ["default", *loaders.ENGINES], key="est_engine",
                 format_func=lambda e: loaders.ENGINE_LABELS.get(e, e),
                 help="The serving stack: current vLLM (ML.ENERGY v3, 2025-26), vLLM as of 2024 (ML.ENERGY v2) or "
                      "eager Hugging Face transformers (LLM-Perf, batch-1 style). Default: current vLLM; "
                      "transformers when the batch size is 1.")


def _advanced_inputs() -> None:
    """Draw the GPU count, precision and PUE overrides (collapsed)."""
    with st.expander("Advanced: GPU count, precision, PUE"):
        a1, a2, a3 = st.columns(3)
        a1.number_input("GPU count (0 = auto)", min_value=0, max_value=64, key="est_gpus")
        a2.selectbox("Precision", ["default", *loaders.PRECISIONS], key="est_precision")
        a3.number_input("PUE (0 = region/provider default)", min_value=0.0, max_value=3.0, step=0.05,
                        key="est_pue")


def _chosen_defaults(deployment: str | None) -> dict[str, Any]:
    """The request defaults for seal.estimate from the widgets' values (every widget has written session state)."""
    ss = st.session_state
    defaults = {
        "model": ss["est_model"],
        "gpu": None if ss["est_gpu"] == loaders.AUTO else ss["est_gpu"],
        "region": ss["est_region"],
        "batch_size": int(ss["est_batch"]),
        "output_tokens": int(ss["est_output_tokens"]),
        "gpus": int(ss["est_gpus"]) or None,
        "precision": None if ss["est_precision"] == "default" else ss["est_precision"],
        "engine": None if ss.get("est_engine", "default") == "default" else ss["est_engine"],
        "pue": float(ss["est_pue"]) or None,
    }
    if deployment:           # a scenario without one is SEAL from public benchmarks
        defaults["deployment"] = deployment
    return defaults


@st.cache_data(show_spinner=False, max_entries=32)
def _estimate(requests: pd.DataFrame, defaults: tuple[tuple[str, Any], ...], calibration: str = "") -> pd.DataFrame:
    """``seal.estimate`` of the prompts; ``calibration`` (when the deployment's calibration was fitted) is only
    part of the cache key."""
    import seal

    # output lengths are per prompt in `requests` (a pasted response is counted): the page default is not passed
    return seal.estimate(requests, **{k: v for k, v in defaults if v is not None and k != "output_tokens"})


def _run(defaults: dict[str, Any], rows: pd.DataFrame) -> None:
    if rows.empty:
        st.error("Paste at least one prompt into “Prompts” (one per line, or blocks separated by a blank line).")
        return
    t0 = time.perf_counter()
    try:
        with st.spinner("Estimating…"):
            result = _estimate(rows_ui.request_frame(rows), tuple(sorted(defaults.items())),
                               loaders.calibration_stamp(defaults.get("deployment")))
    except Exception as exc:  # noqa: BLE001 - the message is shown; earlier results stay
        show_error(exc)
        return
    per_prompt = [None if pd.isna(t) else int(t) for t in rows[rows_ui.OUTPUT]]
    responses = [str(r) for r in rows[rows_ui.RESPONSE]]
    inputs = {"split": st.session_state.get("est_split", "line"), "prompts": rows[rows_ui.PROMPT].tolist(),
              **defaults, "prompt_output_tokens": per_prompt}
    if any(responses):
        inputs["responses"] = responses
    st.session_state["estimate_run"] = {"inputs": inputs, "result": result, "elapsed_s": time.perf_counter() - t0,
                                        "output_from": [f.split(":")[0] for f in rows[rows_ui.FROM]]}


def _summary(result: pd.DataFrame, tot: dict[str, float], units: dict[str, U.Unit]) -> str:
    """One plain sentence: the total, its interval, and the biggest part of it."""
    n = len(result)
    split = aggregate.phase_split(result).sum()
    parts = {"generating the answer (decode)": split["decode_g_co2e"], "reading the prompt (prefill)":
             split["prefill_g_co2e"], "manufacturing the hardware (embodied)": split["embodied_g_co2e"]}
    biggest = max(parts, key=parts.get)
    share = parts[biggest] / tot["total_g_co2e"] if tot.get("total_g_co2e") else float("nan")
    co2e = units["co2e"]
    return (f"**{'These prompts emit' if n > 1 else 'This prompt emits'} about "
            f"{U.fmt_in(tot.get('total_g_co2e'), co2e)} CO2e**, likely "
            f"{U.fmt_range_in(tot.get('total_low_g_co2e'), tot.get('total_high_g_co2e'), co2e)} (80 % interval), "
            f"and draw {U.fmt_in(tot.get('facility_energy_j'), units['energy'])} "
            f"({U.fmt_range_in(tot.get('facility_energy_low_j'), tot.get('facility_energy_high_j'), units['energy'])}). "
            f"Most of it ({fmt_pct(share)}) comes from {biggest}.")


def _why_different() -> None:
    with st.expander("Why does SEAL differ from EcoLogits and from provider disclosures?"):
        for paragraph in words.why_different():
            st.markdown(paragraph)
        try:
            table = loaders.disclosures()
        except Exception:  # noqa: BLE001 - the explanation stands without the table
            return
        shown = pd.DataFrame({
            "Disclosure": table["disclosure"], "Quantity": table["unit"],
            "Disclosed": table["disclosed"].map(lambda v: f"{v:.3g}"),
            "SEAL (80 % interval)": [f"{s:.2g} ({lo:.2g}–{hi:.2g})" for s, lo, hi in
                                     zip(table["seal"], table["seal_low"], table["seal_high"])],
            "SEAL ÷ disclosed": table["ratio"].map(lambda v: f"{v:.2g}×"),
            "SEAL's assumptions": table["assumptions"]})
        st.dataframe(shown, hide_index=True, key="est_disclosures")


def _regions(run: dict[str, Any], units: dict[str, U.Unit]) -> None:
    result: pd.DataFrame = run["result"]
    chosen = str(run["inputs"].get("region") or "WOR")
    st.markdown("**The same prompts in other regions**")
    try:
        regions = loaders.regions()
        suggested = suggest_regions(chosen)
    except Exception as exc:  # noqa: BLE001 - the rest of the results stay
        st.info(plain(f"The region comparison is not available ({exc})."))
        return
    labels = {r: (l.split(" — ", 1)[1] if " — " in l else l).split(" · ")[0]
              for r, l in zip(regions["region"], regions["label"])}
    others = st.multiselect("Regions compared", regions["region"].tolist(), default=suggested[1:],
                            format_func=lambda r: labels.get(r, r), key=f"est_compare_{chosen}",
                            help="Your region against reference grids and the cleanest cloud regions on the same "
                                 "continent; add or remove any.")
    try:
        table = compare_regions(result, [chosen, *others], pue=run["inputs"].get("pue"))
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    st.plotly_chart(charts.region_bars(table, units["co2e"], chosen, labels), key="est_region_chart")
    mine = table.loc[table["region"] == chosen].iloc[0]
    best = table.sort_values("total_g_co2e").iloc[0]
    if best["region"] != chosen and mine["total_g_co2e"] > 0:
        saving = 1.0 - best["total_g_co2e"] / mine["total_g_co2e"]
        st.caption(plain(f"Served in {labels.get(best['region'], best['region'])}, these prompts would emit "
                         f"{U.fmt_in(best['total_g_co2e'], units['co2e'])} (80 %: "
                         f"{U.fmt_range_in(best['total_low_g_co2e'], best['total_high_g_co2e'], units['co2e'])}), "
                         f"{fmt_pct(saving)} less than in {labels.get(chosen, chosen)}. Only the grid, the PUE and the "
                         "water factors change; the GPU energy is the same."))


def _equivalences(result: pd.DataFrame, tot: dict[str, float], units: dict[str, U.Unit]) -> None:
    st.markdown("**What this is comparable to**")
    try:
        eq = loaders.equivalences(tot.get("total_g_co2e", 0.0), tot.get("facility_energy_j"))
    except loaders.Unavailable as exc:
        st.info(plain(exc))
        return
    texts = U.equivalence_texts(eq, len(result))
    cols = st.columns(max(1, len(texts)))
    for col, (headline, help_text) in zip(cols, texts):
        col.markdown(f"**{plain(headline)}**", help=help_text)
    st.caption("From the central estimate; energy equivalences use the facility energy, the car its CO2e.")
    with st.expander("Scale up: per day and per year"):
        per_day = st.number_input("Requests per day (like these, on average)", min_value=0, value=1_000_000,
                                  step=100_000, key="est_per_day")
        frame = U.with_water_interval(result)
        mean = aggregate.mean_per_request(frame, ("total_g_co2e", "total_low_g_co2e", "total_high_g_co2e",
                                                  "facility_energy_j", "facility_energy_low_j",
                                                  "facility_energy_high_j", "water_ml", "water_low_ml",
                                                  "water_high_ml"))
        try:
            table = loaders.scale_up(mean, float(per_day))
        except loaders.Unavailable as exc:
            st.info(plain(exc))
            return
        from seal.ui.format import ENERGY_UNITS

        names = {"total_g_co2e": ("CO2e", MASS_UNITS), "total_low_g_co2e": ("CO2e 80 % low", MASS_UNITS),
                 "total_high_g_co2e": ("CO2e 80 % high", MASS_UNITS),
                 "facility_energy_j": ("Facility energy", ENERGY_UNITS),
                 "facility_energy_low_j": ("Facility energy 80 % low", ENERGY_UNITS),
                 "facility_energy_high_j": ("Facility energy 80 % high", ENERGY_UNITS),
                 "water_ml": ("Water", WATER_UNITS), "water_low_ml": ("Water 80 % low", WATER_UNITS),
                 "water_high_ml": ("Water 80 % high", WATER_UNITS)}
        page_unit = {"total": units["co2e"], "facil": units["energy"], "water": units["water"]}
        shown = pd.DataFrame({
            "Quantity": [names.get(q, (q, None))[0] for q in table["quantity"]],
            "Per request": [U.fmt_in(v, page_unit[q[:5]]) for q, v in zip(table["quantity"], table["per_request"])],
            **{label: [fmt_quantity(v, names.get(q, (q, MASS_UNITS))[1]) for q, v in zip(table["quantity"], table[col])]
               for label, col in (("Per day", "per_day"), ("Per year", "per_year"))},
        })
        st.dataframe(shown, hide_index=True, key="est_scale_up")


def _provenance(result: pd.DataFrame, inputs: dict[str, Any]) -> None:
    with st.expander("What produced this estimate", expanded=True):
        warning_banners(result.get("warnings"), counts=True, words=words.PAGE_WARNINGS)
        basis = result.get("estimate_basis", pd.Series(dtype=str)).astype(str).value_counts()
        labelled("Estimate basis", "; ".join(f"{words.BASIS_WORDS.get(b, b)} ({c} of {len(result)})"
                                             for b, c in basis.items()))
        if "sources" in result:
            srcs = sorted({s for v in result["sources"].dropna().astype(str) for s in v.split(";") if s})
            labelled("Benchmark sources supporting it", ", ".join(srcs) or "none (physics prior only)")
        if "grid_intensity_source" in result:
            gi = result[["grid_intensity_g_per_kwh", "grid_intensity_source"]].drop_duplicates()
            labelled("Grid intensity", "; ".join(f"{g:.0f} g/kWh ({s})" for g, s in gi.itertuples(index=False)))
        for label, values in words.assumptions(result, inputs):
            if label != "Grid intensity":
                labelled(label, values)
        st.caption("Every figure on this page is in one unit per quantity, chosen from the size of the results; "
                   "see Methodology for the formulas and every default's source.")


def _results(run: dict[str, Any]) -> None:
    """Draw the last run's results: headline, per-prompt table, charts, other regions, equivalences, export."""
    result: pd.DataFrame = run["result"]
    inputs = run["inputs"]
    units = U.page_units(result)
    tot = U.page_totals(result)
    _headline(run, tot, units)
    table = rows_ui.result_table(result, units, output_from=run.get("output_from"))
    st.dataframe(table, hide_index=True, key="est_table",
                 column_config={c: st.column_config.NumberColumn(c, format="%.3g") for c in table.columns
                                if pd.api.types.is_float_dtype(table[c])})
    figures = _charts(result, tot, units)
    _regions(run, units)
    _equivalences(result, tot, units)
    _provenance(result, inputs)
    _export(result, inputs, tot, units, table, figures)


def _headline(run: dict[str, Any], tot: dict[str, Any], units: dict[str, str]) -> None:
    """Draw the results' heading, summary sentence, assumptions, calibration note and impact tiles."""
    result, inputs = run["result"], run["inputs"]
    n = len(result)
    st.subheader(f"Results for {n} prompt{'s' if n != 1 else ''}")
    st.markdown(_summary(result, tot, units))
    st.markdown(plain(words.assumption_sentence(result, inputs)))
    calibrated = words.calibration_words(result)
    if calibrated:
        st.info(plain(f"Calibrated to your deployment {calibrated}. Set “Deployment” to none for SEAL's figures "
                      "from public benchmarks only."), icon=":material/tune:")
    _why_different()
    impact_tiles_in(tot, units, "all prompts")
    st.caption(f"GPU energy (prefill + decode, accelerators only): {U.fmt_in(tot.get('gpu_energy_j'), units['energy'])}, "
               f"80 % {U.fmt_range_in(tot.get('gpu_energy_low_j'), tot.get('gpu_energy_high_j'), units['energy'])}.")
    st.caption(f"Computed in {run['elapsed_s']:.2f} s. Each interval is where about 80 % of measured requests "
               "fall for estimates like this one (calibrated on held-out benchmarks); water's follows the energy's.")


def _charts(result: pd.DataFrame, tot: dict[str, Any], units: dict[str, str]) -> list[tuple[str, Any]]:
    """Draw the per-prompt phase bars and the boundary waterfall side by side; returns them (title, figure) for the
    report (the waterfall only when the boundary layers could be computed)."""
    split = aggregate.phase_split(result)
    labels = result.get("prompt", result.index).tolist()
    phases = charts.phase_bars_in(split, labels, units["co2e"], result["total_low_g_co2e"], result["total_high_g_co2e"])
    figures = [("CO2e per prompt by phase", phases)]
    left, right = st.columns(2)
    with left:
        st.markdown("**CO2e per prompt by phase**")
        st.plotly_chart(phases, key="est_phase_chart")
    with right:
        st.markdown("**From GPU energy to total CO2e (boundary layers)**")
        try:
            waterfall = charts.waterfall_in(loaders.boundary(result), units["co2e"])
            st.plotly_chart(waterfall, key="est_waterfall")
            figures.append(("Boundary layers", waterfall))
            st.caption(f"Total {U.fmt_in(tot.get('total_g_co2e'), units['co2e'])}, 80 %: "
                       f"{U.fmt_range_in(tot.get('total_low_g_co2e'), tot.get('total_high_g_co2e'), units['co2e'])}.")
        except loaders.Unavailable as exc:
            st.info(plain(exc))
    return figures


def _export(result: pd.DataFrame, inputs: dict[str, Any], tot: dict[str, Any], units: dict[str, str],
            table: pd.DataFrame, figures: list[tuple[str, Any]]) -> None:
    """Draw the export buttons (CSV / Parquet / JSON / scenario / HTML report) of the results."""
    n = len(result)

    def report() -> bytes:
        notes = [_summary(result, tot, units).replace("**", ""), words.assumption_sentence(result, inputs)]
        notes += [f"{sentence} ({c} of {n})" for sentence, c in
                  words.warning_sentences(result.get("warnings"), words.PAGE_WARNINGS)]
        return html_report(
            "SEAL estimate", intro=f"{n} prompt(s), model {inputs.get('model')}, region {inputs.get('region')}.",
            figures=figures, tables=[("Per prompt", table)], scenario=inputs, notes=notes, result=result)

    st.markdown("**Export**")
    from seal.summary import LogSummary

    scenario = {**inputs, "resolved": LogSummary.of([result]).resolved()}   # what the rows used, beside the choices
    export_buttons(result, "seal-estimate", PAGE, scenario, report, key="est_export")


st.title("Estimate")
st.markdown("Pick an example or paste prompts, choose a model, GPU and region, and click **Estimate**: SEAL gives "
            "each prompt's energy, CO2e and water with an 80 % interval, and the same prompts in other regions.")
scenario_loader(PAGE, "est_scenario", _apply_scenario)
submitted = _inputs_form()
if submitted is not None:
    _run(*submitted)
run = st.session_state.get("estimate_run")
if run is not None:
    _results(run)
else:
    preload_charts("est_preload")
