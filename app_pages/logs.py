"""Logs: upload request logs (OpenAI, OTLP, LiteLLM, Langfuse, CSV/JSONL/Parquet) and see where the CO2e goes."""
from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from seal.columns import INPUT_COLUMNS, LOG_COLUMNS
from seal.summary import TOP_GROUPS, LogSummary
from seal.ui import aggregate, charts, loaders
from seal.ui.export import html_report
from seal.ui.format import fmt_count, fmt_energy, fmt_impacts, plain
from seal.ui.tables import display_table, number_format
from seal.ui.widgets import (bold, export_buttons, impact_tiles, initial, scenario_loader, show_error, slug, warning_banners,
                              warning_counts_banners)

PAGE = "Logs"
HEAVY_COLUMNS = ("timestamp", "model", "app", "user", "input_tokens", "output_tokens", "prefill_energy_j",
                 "decode_energy_j", "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "estimate_basis")
GROUP_COLUMNS = ("total_g_co2e", "total_low_g_co2e", "total_high_g_co2e")
REQUEST_COLUMNS = INPUT_COLUMNS + LOG_COLUMNS   # what the What-if page re-scores (no result columns)


def _assumptions() -> dict[str, Any]:
    """Defaults for fields the log lacks (used only where a row has no value)."""
    with st.expander("Assumptions for fields the log does not have"):
        try:
            models, gpus, regions = loaders.models(), loaders.gpus(), loaders.regions()
        except loaders.Unavailable as exc:
            st.error(plain(exc))
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
    """Score a new upload (or the same one with new assumptions) into ``st.session_state["logs_run"]``.

    The upload is copied to a temporary file in chunks (hashed on the way) and scored batch by batch into a
    :class:`seal.summary.LogSummary`; only that summary is kept, in the cache and in the session. On any error the
    previously loaded log stays.
    """
    previous = st.session_state.get("logs_run")
    file_id = getattr(upload, "file_id", None)
    if previous and file_id and previous.get("file_id") == file_id and previous["inputs"]["defaults"] == defaults:
        return   # a rerun with the same upload: nothing to read
    t0 = time.perf_counter()
    try:
        limits = loaders.upload_limits()
        with st.spinner(f"Reading and estimating {plain(upload.name)}…"):
            with loaders.spooled_upload(upload, limits.max_mb) as (path, digest):
                if previous and previous["digest"] == digest and previous["inputs"]["defaults"] == defaults:
                    previous["file_id"] = file_id
                    return
                log, summary = loaders.summarize_upload(digest, upload.name, tuple(sorted(defaults.items())),
                                                        limits, path)
    except Exception as exc:  # noqa: BLE001 - shown; the previous log stays loaded
        show_error(exc)
        if previous:
            st.caption(f"Still showing the previously loaded log: {plain(previous['name'])}.")
        return
    sample = log.sample
    st.session_state["logs_run"] = {
        "digest": digest, "file_id": file_id, "name": upload.name, "log": log, "summary": summary,
        # the What-if page re-scores these requests under other scenarios: the sample's request columns
        "requests": sample[[c for c in REQUEST_COLUMNS if c in sample]],
        "inputs": {"file": upload.name, "sha256": digest, "defaults": defaults},
        "elapsed_s": time.perf_counter() - t0}


def _headline(log: LogSummary) -> dict[str, float]:
    tot = log.totals()
    c1, c2, c3 = st.columns(3)
    c1.metric("Requests", fmt_count(tot["requests"]))
    c2.metric("Tokens", fmt_count(tot.get("input_tokens", 0) + tot.get("output_tokens", 0)),
              help="Input (prefill) plus output (decode) tokens.")
    c2.caption(f"{fmt_count(tot.get('input_tokens', 0))} in · {fmt_count(tot.get('output_tokens', 0))} out")
    c3.metric("GPU energy", fmt_energy(tot.get("gpu_energy_j")), help="Prefill + decode, accelerators only.")
    impact_tiles(tot, "for the log")
    return tot


def _time_chart(log: LogSummary):
    if not log.timestamps:
        st.info("This log has no timestamps, so there is no time series.")
        return None
    options = ["Hourly", "Daily"] if log.hourly_available else ["Daily"]
    if st.session_state.get("logs_freq") not in (None, *options):
        st.session_state["logs_freq"] = "Daily"
    freq = st.radio("Resolution", options, horizontal=True, key="logs_freq")
    if not log.hourly_available:
        st.caption("The log spans too many hours for an hourly series; these are daily sums.")
    series = log.over_time("h" if freq == "Hourly" else "D")
    fig = charts.time_bars(series, freq_label="hour" if freq == "Hourly" else "day")
    st.plotly_chart(fig, key="logs_time_chart")
    return fig


def _group_chart(log: LogSummary, column: str, title: str, key: str):
    if not log.has_values(column):
        st.info(f"This log has no {title.lower()} field.")
        return None
    table = log.grouped(column, top=TOP_GROUPS)
    fig = charts.bars(table, column, "total_g_co2e", title, low="total_low_g_co2e", high="total_high_g_co2e",
                      horizontal=True)
    st.plotly_chart(fig, key=f"{key}_chart")
    shown = display_table(table, [column, "requests", "input_tokens", "output_tokens", "gpu_energy_j",
                                  *GROUP_COLUMNS], text_column=None)
    st.dataframe(shown, hide_index=True, column_config=number_format(shown), key=f"{key}_table")
    if column in log.folded:
        st.caption(f"More than {log.max_groups:,} distinct {title.lower()} values: the lighter ones were added to "
                   "“(other)” as the log was read, so a group's sum can miss requests counted there early on; the "
                   "totals are exact.")
    return fig


def _heaviest(log: LogSummary) -> None:
    top = log.heaviest(50)
    table = display_table(top, HEAVY_COLUMNS)
    st.caption("The 50 requests with the most CO2e. Select a row to see everything about it.")
    event = st.dataframe(table, hide_index=True, column_config=number_format(table), key="logs_heaviest",
                         on_select="rerun", selection_mode="single-row")
    rows = getattr(getattr(event, "selection", None), "rows", []) if event is not None else []
    if rows:
        row = top.iloc[rows[0]]
        rid = row.get("request_id")
        rid = rid if isinstance(rid, str) and rid else f"#{rows[0] + 1} by CO2e"
        bold(f"Request {rid}")
        if isinstance(row.get("prompt"), str) and row["prompt"]:
            st.text_area("Prompt text", row["prompt"], disabled=True, key="logs_drill_prompt")
        split = aggregate.phase_split(top.iloc[[rows[0]]])
        st.plotly_chart(charts.phase_bars(split, [str(row.get("model", "request"))]), key="logs_drill_chart")
        warning_banners(str(row.get("warnings") or ""))
        present = row[row.notna() & (row.astype(str) != "")]
        detail = pd.DataFrame({"field": present.index, "value": [str(v) for v in present.to_numpy()]})
        st.dataframe(detail, hide_index=True, key="logs_drill_detail")


def _aggregates_json(log: LogSummary, run: dict[str, Any]) -> bytes:
    """Every aggregate of the whole log (totals, per model / app / user, hourly and daily sums, the CO2e
    histogram, warning counts) as one JSON document, with the scenario."""
    import json

    def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return json.loads(frame.to_json(orient="records", date_format="iso"))

    totals = {k: (v if v == v else None) for k, v in log.totals().items()}   # NaN (no value) as null
    doc = {"file": run["name"], "sha256": run["digest"], "summary": run.get("summary"),
           "totals": totals, "warnings": log.warning_counts(),
           **{f"by_{by}": records(log.grouped(by, top=None)) for by in ("model", "app", "user") if log.has_values(by)},
           "hourly": records(log.over_time("h")) if log.hourly_available else None,
           "daily": records(log.over_time("D")), "histogram_g_co2e": records(log.histogram()),
           "scenario": run["inputs"]}
    return json.dumps(doc, indent=1, default=str, ensure_ascii=False).encode("utf-8")


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


loaders.memory_trimmer()   # once per process: memory freed when sessions that uploaded a log expire goes back to the OS
scenario_loader(PAGE, "logs_scenario", _apply_scenario)
if st.session_state.get("logs_scenario_note"):
    st.info(plain(st.session_state["logs_scenario_note"]))
defaults = _assumptions()
upload = st.file_uploader("Upload logs", key="logs_file",
                          help=f"Read and scored in batches, so the server keeps only a summary; a file already "
                               f"estimated is served from the cache. At most {loaders.MAX_UPLOAD_ROWS:,} requests per "
                               "upload unless the server sets SEAL_MAX_UPLOAD_ROWS; for larger logs use "
                               "`seal estimate --file LOG --out scored.parquet`.")
if upload is not None:
    _load(upload, defaults)

run = st.session_state.get("logs_run")
if run is None:
    st.info("No log loaded yet. Any of the formats above works; see the README for examples.")
else:
    log: LogSummary = run["log"]
    st.caption(f"{plain(run.get('summary') or run['name'])} · read and estimated in {run['elapsed_s']:.2f} s")
    tot = _headline(log)
    warning_counts_banners(log.warning_counts(), log.requests)
    tabs = st.tabs(["Over time", "By model", "By app", "By user", "Distribution", "Heaviest prompts"])
    figures: list[tuple[str, Any]] = []
    with tabs[0]:
        fig = _time_chart(log)
        if fig is not None:
            figures.append(("CO2e over time", fig))
    for tab, column, title in ((tabs[1], "model", "Model"), (tabs[2], "app", "App"), (tabs[3], "user", "User")):
        with tab:
            fig = _group_chart(log, column, title, key=f"logs_by_{column}")
            if fig is not None:
                figures.append((f"CO2e by {title.lower()}", fig))
    with tabs[4]:
        fig = charts.histogram_bins(log.histogram())
        st.plotly_chart(fig, key="logs_histogram")
        figures.append(("Distribution of CO2e per request", fig))
    with tabs[5]:
        _heaviest(log)

    def report() -> bytes:
        tables = [(f"By {by}", display_table(log.grouped(by, top=TOP_GROUPS), [by, "requests", *GROUP_COLUMNS],
                                             text_column=None))
                  for by in ("model", "app", "user") if log.has_values(by)]
        return html_report(
            f"SEAL log report — {run['name']}",
            intro=f"{fmt_count(tot['requests'])} requests. {fmt_impacts(tot)}",
            figures=figures, tables=tables, scenario=run["inputs"])

    st.markdown("**Export**")
    export_buttons(lambda: log.sample, f"seal-log-{run['name']}", PAGE, run["inputs"], report, key="logs_export")
    st.download_button("Aggregates (JSON)", lambda: _aggregates_json(log, run),
                       file_name=f"seal-log-{slug(run['name'])}-aggregates.json", mime="application/json",
                       key="logs_export_aggregates", icon=":material/download:", on_click="ignore",
                       help="Totals, per model / app / user, hourly and daily sums, histogram and warnings of "
                            "every request.")
    if log.is_complete:
        rows_note = f"CSV, Parquet and JSON hold all {log.requests:,} scored rows."
    else:
        rows_note = (f"CSV, Parquet and JSON hold a uniform random sample of {len(log.sample):,} of the "
                     f"{log.requests:,} scored rows; the aggregates, the charts and the HTML report cover every row. "
                     "For every scored row, run `seal estimate --file LOG --out scored.parquet`.")
    st.caption(rows_note + " The scenario file records the log's name, its sha256 and the assumptions; upload the "
               "same log with it to reproduce the run.")
