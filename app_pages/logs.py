"""Logs: upload request logs (OpenAI, OTLP, LiteLLM, Langfuse, CSV/JSONL/Parquet) and see where the CO2e goes."""
from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from seal.ui import aggregate, charts, loaders
from seal.ui.export import html_report
from seal.ui.format import ENERGY_UNITS, MASS_UNITS, fmt_count, fmt_energy, fmt_interval, fmt_mass
from seal.ui.tables import display_table, number_format
from seal.ui.widgets import export_buttons, initial, scenario_loader, show_error, warning_banners

PAGE = "Logs"
HEAVY_COLUMNS = ("timestamp", "model", "app", "user", "input_tokens", "output_tokens", "prefill_energy_j",
                 "decode_energy_j", "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "estimate_basis")
GROUP_COLUMNS = ("total_g_co2e", "total_low_g_co2e", "total_high_g_co2e")


def _assumptions() -> dict[str, Any]:
    """Defaults for fields the log lacks (used only where a row has no value)."""
    with st.expander("Assumptions for fields the log does not have"):
        try:
            models, gpus, regions = loaders.models(), loaders.gpus(), loaders.regions()
        except loaders.Unavailable as exc:
            st.error(str(exc))
            return {}
        codes = regions["region"].tolist()
        c1, c2, c3, c4, c5 = st.columns([3, 2, 2, 2, 2])
        labels = dict(zip(models["model"], models["label"]))
        model = c1.selectbox("Model (when the log has none)", ["(from the log)", *models["model"]],
                             format_func=lambda m: labels.get(m, m), key="logs_model")
        gpu = c2.selectbox("GPU", [loaders.AUTO, *gpus["gpu"]], key="logs_gpu")
        region_labels = dict(zip(regions["region"], regions["label"]))
        region = c3.selectbox("Region", codes, **initial("logs_region", index=next(
                                  (i for i, r in enumerate(codes) if r.lower() == "wor"), 0)),
                              format_func=lambda r: region_labels.get(r, r), key="logs_region")
        batch = c4.selectbox("Batch size", loaders.BATCH_SIZES, key="logs_batch",
                             **initial("logs_batch", index=loaders.BATCH_SIZES.index(64)))
        engine = c5.selectbox("Serving engine", ["default", *loaders.ENGINES], key="logs_engine",
                              format_func=lambda e: loaders.ENGINE_LABELS.get(e, e),
                              help="For requests whose log does not name one (an `engine` column wins).")
    return {"model": None if model == "(from the log)" else model,
            "gpu": None if gpu == loaders.AUTO else gpu, "region": region, "batch_size": int(batch),
            "engine": None if engine == "default" else engine}


def _load(upload, defaults: dict[str, Any]) -> None:
    data = upload.getvalue()
    digest = loaders.file_digest(data)
    previous = st.session_state.get("logs_run")
    if previous and previous["digest"] == digest and previous["inputs"]["defaults"] == defaults:
        return
    t0 = time.perf_counter()
    try:
        with st.spinner(f"Reading and estimating {upload.name}…"):
            requests, result, summary = loaders.estimate_upload(digest, upload.name, tuple(sorted(defaults.items())), data)
    except Exception as exc:  # noqa: BLE001 - shown; the previous log stays loaded
        show_error(exc)
        if previous:
            st.caption(f"Still showing the previously loaded log: {previous['name']}.")
        return
    st.session_state["logs_run"] = {"digest": digest, "name": upload.name, "result": result, "requests": requests, "summary": summary,
                                    "inputs": {"file": upload.name, "sha256": digest, "defaults": defaults},
                                    "elapsed_s": time.perf_counter() - t0}


def _headline(result: pd.DataFrame) -> dict[str, float]:
    tot = aggregate.totals(result)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Requests", fmt_count(tot["requests"]))
    c2.metric("Tokens", fmt_count(tot.get("input_tokens", 0) + tot.get("output_tokens", 0)),
              help="Input (prefill) plus output (decode) tokens.")
    c2.caption(f"{fmt_count(tot.get('input_tokens', 0))} in · {fmt_count(tot.get('output_tokens', 0))} out")
    c3.metric("Facility energy", fmt_energy(tot.get("facility_energy_j")),
              help="GPU + host + idle overhead, times PUE.")
    c3.caption(f"GPU only: {fmt_energy(tot.get('gpu_energy_j'))}")
    c4.metric("CO2e", fmt_mass(tot.get("total_g_co2e")))
    c4.caption(f"80 % interval: {fmt_interval(tot.get('total_low_g_co2e'), tot.get('total_high_g_co2e'), MASS_UNITS)}")
    return tot


def _time_chart(result: pd.DataFrame):
    if "timestamp" not in result or pd.to_datetime(result["timestamp"], errors="coerce", utc=True).notna().sum() == 0:
        st.info("This log has no timestamps, so there is no time series.")
        return None
    freq = st.radio("Resolution", ["Hourly", "Daily"], horizontal=True, key="logs_freq")
    series = aggregate.over_time(result, "h" if freq == "Hourly" else "D")
    fig = charts.time_bars(series, freq_label="hour" if freq == "Hourly" else "day")
    st.plotly_chart(fig, key="logs_time_chart")
    return fig


def _group_chart(result: pd.DataFrame, column: str, title: str, key: str):
    if column not in result or result[column].dropna().astype(str).eq("").all():
        st.info(f"This log has no {title.lower()} field.")
        return None
    table = aggregate.grouped(result, column, top=25)
    fig = charts.bars(table, column, "total_g_co2e", title, low="total_low_g_co2e", high="total_high_g_co2e",
                      horizontal=True)
    st.plotly_chart(fig, key=f"{key}_chart")
    shown = display_table(table, [column, "requests", "input_tokens", "output_tokens", "gpu_energy_j",
                                  *GROUP_COLUMNS], text_column=None)
    st.dataframe(shown, hide_index=True, column_config=number_format(shown), key=f"{key}_table")
    return fig


def _heaviest(result: pd.DataFrame) -> None:
    top = aggregate.heaviest(result, 50)
    table = display_table(top, HEAVY_COLUMNS)
    st.caption("The 50 requests with the most CO2e. Select a row to see everything about it.")
    event = st.dataframe(table, hide_index=True, column_config=number_format(table), key="logs_heaviest",
                         on_select="rerun", selection_mode="single-row")
    rows = getattr(getattr(event, "selection", None), "rows", []) if event is not None else []
    if rows:
        row = top.iloc[rows[0]]
        rid = row.get("request_id")
        rid = rid if isinstance(rid, str) and rid else f"#{rows[0] + 1} by CO2e"
        st.markdown(f"**Request {rid}**")
        if isinstance(row.get("prompt"), str) and row["prompt"]:
            st.text_area("Prompt text", row["prompt"], disabled=True, key="logs_drill_prompt")
        split = aggregate.phase_split(top.iloc[[rows[0]]])
        st.plotly_chart(charts.phase_bars(split, [str(row.get("model", "request"))]), key="logs_drill_chart")
        warning_banners(str(row.get("warnings") or ""))
        present = row[row.notna() & (row.astype(str) != "")]
        detail = pd.DataFrame({"field": present.index, "value": [str(v) for v in present.to_numpy()]})
        st.dataframe(detail, hide_index=True, key="logs_drill_detail")


st.title("Logs")
st.markdown("Upload a request log — OpenAI (Chat Completions, Responses, Batch output), OpenTelemetry GenAI "
            "spans (OTLP JSON), LiteLLM spend logs, Langfuse exports, or a plain CSV / JSONL / Parquet with token "
            "columns or prompt text. The format is detected from the content.")


def _apply_scenario(inputs: dict[str, Any]) -> None:
    d = inputs.get("defaults") or {}
    st.session_state["logs_model"] = d.get("model") or "(from the log)"
    st.session_state["logs_gpu"] = d.get("gpu") or loaders.AUTO
    st.session_state["logs_engine"] = d.get("engine") or "default"
    for key, name in (("logs_region", "region"), ("logs_batch", "batch_size")):
        if d.get(name) is not None:
            st.session_state[key] = d[name]
    if inputs.get("file"):
        st.session_state["logs_scenario_note"] = (f"Scenario loaded: upload {inputs['file']} "
                                                  f"(sha256 {str(inputs.get('sha256', ''))[:12]}…) to reproduce the run.")


scenario_loader(PAGE, "logs_scenario", _apply_scenario)
if st.session_state.get("logs_scenario_note"):
    st.info(st.session_state["logs_scenario_note"])
defaults = _assumptions()
upload = st.file_uploader("Upload logs", key="logs_file",
                          help="Large files are read with DuckDB; a file already estimated is served from the cache.")
if upload is not None:
    _load(upload, defaults)

run = st.session_state.get("logs_run")
if run is None:
    st.info("No log loaded yet. Any of the formats above works; see the README for examples.")
else:
    result: pd.DataFrame = run["result"]
    st.caption(f"{run.get('summary') or run['name']} · read and estimated in {run['elapsed_s']:.2f} s")
    tot = _headline(result)
    warning_banners(result.get("warnings"), counts=True)
    tabs = st.tabs(["Over time", "By model", "By app", "By user", "Distribution", "Heaviest prompts"])
    figures: list[tuple[str, Any]] = []
    with tabs[0]:
        fig = _time_chart(result)
        if fig is not None:
            figures.append(("CO2e over time", fig))
    for tab, column, title in ((tabs[1], "model", "Model"), (tabs[2], "app", "App"), (tabs[3], "user", "User")):
        with tab:
            fig = _group_chart(result, column, title, key=f"logs_by_{column}")
            if fig is not None:
                figures.append((f"CO2e by {title.lower()}", fig))
    with tabs[4]:
        fig = charts.histogram(result["total_g_co2e"])
        st.plotly_chart(fig, key="logs_histogram")
        figures.append(("Distribution of CO2e per request", fig))
    with tabs[5]:
        _heaviest(result)

    def report() -> bytes:
        tables = [("By model", display_table(aggregate.grouped(result, "model", top=25),
                                             ["model", "requests", *GROUP_COLUMNS], text_column=None))] \
            if "model" in result else []
        return html_report(
            f"SEAL log report — {run['name']}",
            intro=(f"{fmt_count(tot['requests'])} requests, {fmt_energy(tot.get('facility_energy_j'))} facility "
                   f"energy, {fmt_mass(tot.get('total_g_co2e'))} CO2e (80 %: "
                   f"{fmt_interval(tot.get('total_low_g_co2e'), tot.get('total_high_g_co2e'), MASS_UNITS)})."),
            figures=figures, tables=tables, scenario=run["inputs"])

    st.markdown("**Export**")
    export_buttons(result, f"seal-log-{run['name']}", PAGE, run["inputs"], report, key="logs_export")
    st.caption("The scenario file records the log's name, its sha256 and the assumptions; upload the same log with "
               "it to reproduce the run.")
