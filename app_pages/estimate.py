"""Estimate: paste prompts, pick a model, GPU and region, and see each prompt's energy and CO2e."""
from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from seal.ui import aggregate, charts, loaders
from seal.ui.export import html_report
from seal.ui.format import (ENERGY_UNITS, MASS_UNITS, WATER_UNITS, fmt_energy, fmt_interval, fmt_mass, fmt_pct,
                            fmt_impacts, fmt_quantity, plain)
from seal.ui.tables import display_table, number_format
from seal.ui.widgets import (export_buttons, impact_tiles, initial, labelled, preload_charts, scenario_loader, show_error,
                             warning_banners)

PAGE = "Estimate"
SPLIT_MODES = {"line": "One prompt per line", "block": "Blocks separated by a blank line"}
DEFAULT_MODEL_HINTS = ("meta-llama-3.1-8b-instruct", "llama-3.1-8b-instruct", "llama-3.1-8b", "meta-llama-3-8b-instruct",
                       "mistral-7b-instruct", "gpt-4o-mini")
RESULT_COLUMNS = ("input_tokens", "output_tokens", "prefill_energy_j", "decode_energy_j", "total_g_co2e",
                  "total_low_g_co2e", "total_high_g_co2e")
# widget key -> scenario input name
KEYS = {"est_split": "split", "est_prompts": "prompts", "est_model": "model", "est_gpu": "gpu",
        "est_region": "region", "est_batch": "batch_size", "est_output_tokens": "output_tokens",
        "est_gpus": "gpus", "est_precision": "precision", "est_pue": "pue", "est_engine": "engine"}


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


def _default_index(options: list[str], hints: tuple[str, ...]) -> int:
    lowered = [o.lower() for o in options]
    for hint in hints:
        for i, o in enumerate(lowered):
            if hint in o:
                return i
    return 0


def _preview(prompts: list[str]) -> None:
    """How the text is cut into prompts (shown before estimating, so the choice above is visible)."""
    preview = pd.DataFrame({"#": range(1, len(prompts) + 1),
                            "Prompt (as it will be estimated)": [p if len(p) <= 120 else p[:119] + "…" for p in prompts],
                            "Characters": [len(p) for p in prompts]})
    st.caption(f"{len(prompts)} prompt{'s' if len(prompts) != 1 else ''} detected" + (":" if prompts else
               " — paste some above (press Ctrl+Enter or click outside the box to update this preview)."))
    st.dataframe(preview, hide_index=True, key="est_preview", height=min(35 * (len(prompts) + 1) + 3, 180))


def _inputs_form() -> tuple[dict[str, Any], list[str]] | None:
    """Draw the inputs; returns (defaults for seal.estimate, prompts) when "Estimate" is clicked."""
    try:
        models = loaders.models()
        gpus = loaders.gpus()
        regions = loaders.regions()
    except loaders.Unavailable as exc:
        st.error(plain(exc))
        return None

    model_names = models["model"].tolist()
    region_codes = regions["region"].tolist()
    split = st.radio("Prompt separation", list(SPLIT_MODES), format_func=SPLIT_MODES.get, horizontal=True,
                     key="est_split", help="How the text below is cut into prompts.")
    st.text_area(
        "Prompts", key="est_prompts", height=160,
        placeholder=("Explain the difference between prefill and decode in LLM inference.\n"
                     "Write a haiku about data centres." if split == "line" else
                     "First prompt, which may\nspan several lines.\n\nSecond prompt."),
        help="One prompt per line, or blocks separated by a blank line — as chosen above.",
    )
    _preview(aggregate.split_prompts(st.session_state.get("est_prompts", ""), split))
    c1, c2, c3 = st.columns([3, 2, 2])
    labels = dict(zip(models["model"], models["label"]))
    c1.selectbox("Model", model_names, **initial("est_model", index=_default_index(model_names, DEFAULT_MODEL_HINTS)),
                 format_func=lambda m: labels.get(m, m), key="est_model",
                 help="Type to search. Open-weights models show their size; closed ones a published or estimated range.")
    gpu_options = [loaders.AUTO, *gpus["gpu"].tolist()]
    c2.selectbox("GPU", gpu_options, key="est_gpu",
                 help="Auto: the documented default serving set-up for the model.")
    region_labels = dict(zip(regions["region"], regions["label"]))
    c3.selectbox("Region", region_codes, **initial("est_region", index=_default_index(region_codes, ("wor",))),
                 format_func=lambda r: region_labels.get(r, r), key="est_region",
                 help="Country (ISO code), world average, or cloud region (provider PUE/WUE applied).")
    c4, c5, c6 = st.columns([2, 2, 3])
    c4.selectbox("Batch size", loaders.BATCH_SIZES, key="est_batch",
                 **initial("est_batch", index=loaders.BATCH_SIZES.index(64)),
                 help="Requests served concurrently; each request is charged its share of the GPU time.")
    c5.number_input("Expected output tokens", min_value=1, max_value=200_000, step=50,
                    **initial("est_output_tokens", value=300),
                    key="est_output_tokens", help="Tokens the model will generate per prompt (decode).")
    c6.selectbox("Serving engine", ["default", *loaders.ENGINES], key="est_engine",
                 format_func=lambda e: loaders.ENGINE_LABELS.get(e, e),
                 help="The serving stack: current vLLM (ML.ENERGY v3, 2025-26), vLLM as of 2024 (ML.ENERGY v2) or "
                      "eager Hugging Face transformers (LLM-Perf, batch-1 style). Default: current vLLM; "
                      "transformers when the batch size is 1.")
    with st.expander("Advanced: GPU count, precision, PUE"):
        a1, a2, a3 = st.columns(3)
        a1.number_input("GPU count (0 = auto)", min_value=0, max_value=64, key="est_gpus")
        a2.selectbox("Precision", ["default", *loaders.PRECISIONS], key="est_precision")
        a3.number_input("PUE (0 = region/provider default)", min_value=0.0, max_value=3.0, step=0.05,
                        key="est_pue")

    if not st.button("Estimate", type="primary", key="est_go"):
        return None
    ss = st.session_state  # every widget above has written its value here
    prompts = aggregate.split_prompts(ss.get("est_prompts", ""), ss.get("est_split", "line"))
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
    return defaults, prompts


@st.cache_data(show_spinner=False, max_entries=32)
def _estimate(prompts: tuple[str, ...], defaults: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    import seal

    frame = pd.DataFrame({"request_id": [f"p{i + 1}" for i in range(len(prompts))], "prompt": list(prompts)})
    return seal.estimate(frame, **{k: v for k, v in defaults if v is not None})


def _run(defaults: dict[str, Any], prompts: list[str]) -> None:
    if not prompts:
        st.error("Paste at least one prompt into “Prompts” (one per line, or blocks separated by a blank line).")
        return
    t0 = time.perf_counter()
    try:
        with st.spinner("Estimating…"):
            result = _estimate(tuple(prompts), tuple(sorted(defaults.items())))
    except Exception as exc:  # noqa: BLE001 - the message is shown; earlier results stay
        show_error(exc)
        return
    st.session_state["estimate_run"] = {
        "inputs": {"split": st.session_state.get("est_split", "line"), "prompts": prompts, **defaults},
        "result": result, "elapsed_s": time.perf_counter() - t0,
    }


def _figures(result: pd.DataFrame) -> dict[str, Any]:
    figs: dict[str, Any] = {"phases": charts.phase_bars(aggregate.phase_split(result), result.get("prompt", result.index).tolist())}
    try:
        layers = loaders.boundary(result)
        figs["waterfall"] = charts.waterfall(layers)
        figs["layers"] = layers
    except loaders.Unavailable as exc:
        figs["waterfall_error"] = str(exc)
    return figs


def _equivalences(result: pd.DataFrame, tot: dict[str, float]) -> None:
    st.markdown("**What this is comparable to**")
    try:
        eq = loaders.equivalences(tot.get("total_g_co2e", 0.0), tot.get("facility_energy_j"))
    except loaders.Unavailable as exc:
        st.info(plain(exc))
        return
    cols = st.columns(max(1, len(eq)))
    for col, row in zip(cols, eq.itertuples(index=False)):
        value, unit = (row.value * 1000.0, "m") if row.unit == "km" and abs(row.value) < 1 else (row.value, row.unit)
        name = str(row.name)
        col.metric(name[:1].upper() + name[1:], f"{value:.3g} {unit}",
                   help=f"At {row.per_unit}. Source: {row.source}")
    with st.expander("Scale up: per day and per year"):
        per_day = st.number_input("Requests per day (like these, on average)", min_value=0, value=1_000_000,
                                  step=100_000, key="est_per_day")
        try:
            table = loaders.scale_up(aggregate.mean_per_request(result), float(per_day))
        except loaders.Unavailable as exc:
            st.info(plain(exc))
            return
        units = {"total_g_co2e": ("CO2e", MASS_UNITS), "total_low_g_co2e": ("CO2e 80 % low", MASS_UNITS),
                 "total_high_g_co2e": ("CO2e 80 % high", MASS_UNITS),
                 "facility_energy_j": ("Facility energy", ENERGY_UNITS), "water_ml": ("Water", WATER_UNITS)}
        shown = pd.DataFrame({
            "Quantity": [units.get(q, (q, None))[0] for q in table["quantity"]],
            **{label: [fmt_quantity(v, units.get(q, (q, MASS_UNITS))[1]) for q, v in zip(table["quantity"], table[col])]
               for label, col in (("Per request", "per_request"), ("Per day", "per_day"), ("Per year", "per_year"))},
        })
        st.dataframe(shown, hide_index=True, key="est_scale_up")


def _distinct(series: pd.Series) -> str:
    vals = sorted({str(v) for v in series.dropna() if str(v) not in ("", "nan", "<NA>")})
    return ", ".join(vals) or "–"


def _setup_lines(result: pd.DataFrame) -> list[tuple[str, str]]:
    """The serving set-up the estimate used, as (label, values) lines."""
    lines = []
    if "params_b" in result:
        sizes = result[["params_b", "params_low_b", "params_high_b"]].drop_duplicates() \
            if {"params_low_b", "params_high_b"} <= set(result) else result[["params_b"]].drop_duplicates()
        parts = []
        for row in sizes.itertuples(index=False):
            text = f"{row[0]:.3g} B"
            if len(row) == 3 and pd.notna(row[1]) and pd.notna(row[2]) and row[1] < row[2]:
                text += f" (range {row[1]:.3g}–{row[2]:.3g} B)"
            parts.append(text)
        lines.append(("Model size (parameters)", ", ".join(parts)))
    gpu = result["gpu"] if "gpu" in result else pd.Series(dtype=object)
    if "gpu_model" in result:
        gpu = gpu.where(gpu.notna(), result["gpu_model"]) if len(gpu) else result["gpu_model"]
    lines.append(("GPU", _distinct(gpu)))
    for col, label in (("gpus", "GPUs used"), ("batch_size", "Batch size"), ("precision", "Precision"),
                       ("pue", "PUE"), ("token_source", "Token counts from")):
        if col in result:
            lines.append((label, _distinct(result[col])))
    return lines


def _summary(result: pd.DataFrame, tot: dict[str, float]) -> str:
    """One plain sentence: the total, its interval, and the biggest part of it."""
    n = len(result)
    split = aggregate.phase_split(result).sum()
    parts = {"generating the answer (decode)": split["decode_g_co2e"], "reading the prompt (prefill)":
             split["prefill_g_co2e"], "manufacturing the hardware (embodied)": split["embodied_g_co2e"]}
    biggest = max(parts, key=parts.get)
    share = parts[biggest] / tot["total_g_co2e"] if tot.get("total_g_co2e") else float("nan")
    return (f"**{'These prompts emit' if n > 1 else 'This prompt emits'} about "
            f"{fmt_mass(tot.get('total_g_co2e'))} CO2e**, likely "
            f"{fmt_interval(tot.get('total_low_g_co2e'), tot.get('total_high_g_co2e'), MASS_UNITS)} (80 % interval). "
            f"Most of it ({fmt_pct(share)}) comes from {biggest}.")


def _results(run: dict[str, Any]) -> None:
    result: pd.DataFrame = run["result"]
    tot = aggregate.totals(result)
    n = len(result)
    st.subheader(f"Results for {n} prompt{'s' if n != 1 else ''}")
    st.markdown(_summary(result, tot))
    impact_tiles(tot, "all prompts")
    st.caption(f"GPU energy (prefill + decode, accelerators only): {fmt_energy(tot.get('gpu_energy_j'))}, 80 % "
               f"{fmt_interval(tot.get('gpu_energy_low_j'), tot.get('gpu_energy_high_j'), ENERGY_UNITS)}.")
    st.caption(f"Computed in {run['elapsed_s']:.2f} s. The interval is where about 80 % of measured requests "
               "fall for estimates like this one (calibrated on held-out benchmarks).")

    table = display_table(result, RESULT_COLUMNS)
    st.dataframe(table, hide_index=True, column_config=number_format(table, text_width="medium"), key="est_table")

    figs = _figures(result)
    left, right = st.columns(2)
    with left:
        st.markdown("**CO2e per prompt by phase**")
        st.plotly_chart(figs["phases"], key="est_phase_chart")
    with right:
        st.markdown("**From GPU energy to total CO2e (boundary layers)**")
        if "waterfall" in figs:
            st.plotly_chart(figs["waterfall"], key="est_waterfall")
        else:
            st.info(plain(figs["waterfall_error"]))

    _equivalences(result, tot)

    with st.expander("What produced this estimate", expanded=True):
        warning_banners(result.get("warnings"), counts=True)
        basis = result.get("estimate_basis", pd.Series(dtype=str)).astype(str).value_counts()
        labelled("Estimate basis", ", ".join(f"{b} ({c})" for b, c in basis.items()))
        if "sources" in result:
            srcs = sorted({s for v in result["sources"].dropna().astype(str) for s in v.split(";") if s})
            labelled("Benchmark sources supporting it", ", ".join(srcs) or "none (physics prior only)")
        if "grid_intensity_source" in result:
            gi = result[["grid_intensity_g_per_kwh", "grid_intensity_source"]].drop_duplicates()
            labelled("Grid intensity", "; ".join(f"{g:.0f} g/kWh ({s})" for g, s in gi.itertuples(index=False)))
        for label, values in _setup_lines(result):
            labelled(label, values)
        st.caption("Units: energy in J/Wh/kWh, CO2e in mg/g/kg, water in mL/L. See Methodology for the formulas.")

    inputs = run["inputs"]

    def report() -> bytes:
        fig_list = [("CO2e per prompt by phase", figs["phases"])]
        if "waterfall" in figs:
            fig_list.append(("Boundary layers", figs["waterfall"]))
        return html_report(
            "SEAL estimate", intro=f"{n} prompt(s), model {inputs.get('model')}, region {inputs.get('region')}.",
            figures=fig_list, tables=[("Per prompt", table)], scenario=inputs,
            notes=[f"Totals: {fmt_impacts(tot)}"],
        )

    st.markdown("**Export**")
    export_buttons(result, "seal-estimate", PAGE, inputs, report, key="est_export")


st.title("Estimate")
st.markdown("Paste prompts, choose a model, GPU and region, and click **Estimate**: SEAL gives each prompt's "
            "prefill and decode energy and its CO2e with an 80 % interval.")
scenario_loader(PAGE, "est_scenario", _apply_scenario)
submitted = _inputs_form()
if submitted is not None:
    _run(*submitted)
run = st.session_state.get("estimate_run")
if run is not None:
    _results(run)
else:
    preload_charts("est_preload")
