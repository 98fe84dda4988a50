"""Logs: upload request logs (OpenAI, OTLP, LiteLLM, Langfuse, CSV/JSONL/Parquet) and see where the CO2e goes."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from seal.columns import INPUT_COLUMNS, LOG_COLUMNS
from seal.errors import SealError, UnmappedTable
from seal.sample_log import TEMPLATE_COLUMNS, sample_note, template_csv
from seal.summary import TOP_GROUPS, LogSummary
from seal.ui import aggregate, charts, loaders
from seal.ui.export import html_report, log_report_sections
from seal.ui.format import fmt_energy, fmt_mass, fmt_pct, plain
from seal.ui.tables import display_table, exact_count, number_format
from seal.ui.widgets import (NO_DEPLOYMENT, bold, deployment_choice, export_buttons, impact_tiles, initial,
                              scenario_loader, show_error, slug, warning_banners, warning_counts_banners)

PAGE = "Logs"
HEAVY_COLUMNS = ("timestamp", "model", "app", "user", "input_tokens", "output_tokens", "prefill_energy_j",
                 "decode_energy_j", "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "estimate_basis")
GROUP_COLUMNS = ("total_g_co2e", "total_low_g_co2e", "total_high_g_co2e")
REQUEST_COLUMNS = INPUT_COLUMNS + LOG_COLUMNS   # what the What-if page re-scores (no result columns)
REPORT_MAX_BARS = 1_000            # time buckets drawn in the HTML report before it switches to daily sums


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


def _wanted(digest: str | None, defaults: dict[str, Any], limits: loaders.UploadLimits) -> tuple:
    """What a read of the upload with ``digest`` depends on: the assumptions, the column mapping and the model
    map kept for that file (``logs_columns`` / ``logs_model_maps``, keyed by the file's sha256), the limits,
    skipping bad rows, and when the chosen deployment was calibrated (a new calibration scores the log again)."""
    columns = st.session_state.get("logs_columns", {}).get(digest)
    model_map = st.session_state.get("logs_model_maps", {}).get(digest)
    return (tuple(sorted(defaults.items())), loaders.mapping_key(columns), loaders.mapping_key(model_map), limits,
            bool(st.session_state.get("logs_skip_bad")), loaders.calibration_stamp(defaults.get("deployment")))


def _show_failure(failed: dict[str, Any], previous: dict[str, Any] | None) -> None:
    st.error(plain(failed["message"]))
    if failed.get("bad_row"):
        st.caption("Tick “Skip bad rows” above to estimate the other rows; the rows skipped are counted and quoted.")
    if previous:
        st.caption(f"Still showing the previously loaded log: {plain(previous['name'])}.")


def _load(upload, defaults: dict[str, Any]) -> None:
    """Score a new upload (or the same one with new assumptions or mappings) into ``st.session_state["logs_run"]``.

    The upload is copied to a temporary file in chunks (hashed on the way) and scored batch by batch into a
    :class:`seal.summary.LogSummary`; only that summary is kept, in the cache and in the session. On any error the
    previously loaded log stays, and the failure is kept (``logs_failed``) so that reruns show it again without
    reading the file again; a table SEAL cannot map records its columns (``logs_file_columns``) for the mapping step.
    """
    previous = st.session_state.get("logs_run")
    failed = st.session_state.get("logs_failed")
    file_id = getattr(upload, "file_id", None)
    try:
        limits = loaders.upload_limits()
    except Exception as exc:  # noqa: BLE001 - shown; the previous log stays loaded
        show_error(exc)
        return
    if _read_already(previous, failed, file_id, defaults, limits):
        return   # a rerun with the same upload and the same inputs: nothing to read
    t0 = time.perf_counter()
    digest = key = None
    try:
        with st.spinner(f"Reading and estimating {plain(upload.name)}…"):
            with loaders.spooled_upload(upload, limits.max_mb) as (path, digest):
                key = _wanted(digest, defaults, limits)
                if previous and previous["digest"] == digest and previous.get("key") == key:
                    previous["file_id"] = file_id
                    st.session_state.pop("logs_failed", None)
                    return
                log, summary = loaders.summarize_upload(digest, upload.name, key[0], limits, path, key[1], key[2],
                                                        key[4], key[5])
    except Exception as exc:  # noqa: BLE001 - shown; the previous log stays loaded
        failure = _failure(exc, upload.name, file_id, digest, key, _wanted(digest, defaults, limits))
        st.session_state["logs_failed"] = failure
        _show_failure(failure, previous)
        return
    st.session_state.pop("logs_failed", None)
    st.session_state["logs_run"] = _run_record(upload.name, file_id, digest, key, defaults, log, summary,
                                               time.perf_counter() - t0)


def _read_already(previous: dict[str, Any] | None, failed: dict[str, Any] | None, file_id: str | None,
                  defaults: dict[str, Any], limits) -> bool:
    """Whether this upload was read already with the same inputs (the kept run, or the kept failure, shown again)."""
    for record in (previous, failed):
        if record and file_id and record.get("file_id") == file_id \
                and record.get("key") == _wanted(record["digest"], defaults, limits):
            if record is failed:
                _show_failure(failed, previous)
            return True
    return False


def _failure(exc: Exception, name: str, file_id: str | None, digest: str | None, key: tuple | None,
             wanted: tuple) -> dict[str, Any]:
    """The kept record of a failed read: its message, unknown models, and whether skipping bad rows would help
    (only once the read had started: ``key`` is None when the upload could not even be copied); a table SEAL cannot
    map records its columns (``logs_file_columns``) for the mapping step. ``wanted`` is the key kept without one."""
    failure = {"file_id": file_id, "digest": digest, "name": name, "key": key or wanted, "unknown_models": None}
    if isinstance(exc, UnmappedTable) and digest:
        st.session_state.setdefault("logs_file_columns", {})[digest] = list(dict.fromkeys(exc.columns))
        failure["message"] = loaders.unmapped_message(name, exc.columns)
    elif isinstance(exc, SealError):
        failure["message"] = str(exc)
        failure["unknown_models"] = getattr(exc, "unknown_models", None)
        limit = str(exc).startswith((f"{name} has more than", f"{name} is larger than"))
        # a bad row stopped the read (not a limit, not unknown models): skipping bad rows is offered
        failure["bad_row"] = bool(key) and not key[4] and failure["unknown_models"] is None and not limit
    else:
        failure["message"] = f"Unexpected {exc.__class__.__name__}: {exc}"
    return failure


def _run_record(name: str, file_id: str | None, digest: str, key: tuple, defaults: dict[str, Any], log, summary,
                elapsed_s: float) -> dict[str, Any]:
    """The kept record of a scored upload (``logs_run``): the summary, the inputs that reproduce it, and the
    sample's request columns, which the What-if page re-scores under other scenarios."""
    sample = log.sample
    inputs: dict[str, Any] = {"file": name, "sha256": digest, "defaults": defaults}
    if key[4]:
        inputs["skip_bad"] = True
    if log.column_mapping:
        inputs["columns"] = dict(log.column_mapping)
    if log.model_map:
        inputs["model_map"] = dict(log.model_map)
    return {"digest": digest, "file_id": file_id, "name": name, "log": log, "summary": summary, "key": key,
            "requests": sample[[c for c in REQUEST_COLUMNS if c in sample]], "inputs": inputs, "elapsed_s": elapsed_s}


# ---------------------------------------------------------------- mapping steps (a table's columns, unknown models)
def _widget_id(digest: str, name: str) -> str:
    """A widget key part for ``name`` (a SEAL column or a model as logged) of the file with ``digest``."""
    return hashlib.sha1(f"{digest}\0{name}".encode()).hexdigest()[:16]


def _chosen_columns(digest: str) -> dict[str, str]:
    """The column mapping the mapping step's selectboxes hold now: {SEAL column: file column}."""
    out = {}
    for col, _label, _meaning in loaders.MAPPING_FIELDS:
        value = st.session_state.get(f"logs_map_col_{_widget_id(digest, col)}")
        if value not in (None, loaders.NO_COLUMN):
            out[col] = value
    return out


def _save_columns(digest: str) -> None:
    st.session_state.setdefault("logs_columns", {})[digest] = _chosen_columns(digest)


def _column_mapping_step(digest: str, name: str, file_columns: list[str], defaults: dict[str, Any]) -> None:
    """One selectbox per SEAL column (the file's columns to choose from) and a button that reads the same upload
    with that mapping; the mapping is kept per file (``logs_columns``), so reruns keep it."""
    bold("Map the file's columns")
    st.caption("Say which of the file's columns holds what; “(none)”: the file does not have it. Input or output "
               "tokens (or prompt text, whose tokens are counted) are needed; the rest is optional.")
    saved = st.session_state.get("logs_columns", {}).get(digest) or loaders.guess_column_mapping(file_columns)
    options = [loaders.NO_COLUMN, *file_columns]
    grid = st.columns(3)
    for i, (col, label, meaning) in enumerate(loaders.MAPPING_FIELDS):
        with grid[i % 3]:
            current = saved.get(col)
            st.selectbox(label, options, index=options.index(current) if current in options else 0,
                         key=f"logs_map_col_{_widget_id(digest, col)}")
            st.caption(meaning)
    chosen = _chosen_columns(digest)
    ready = loaders.column_mapping_ready(chosen)
    st.button("Read with this mapping", key="logs_map_read", type="primary", disabled=not ready,
              on_click=_save_columns, args=(digest,))
    if not ready:
        st.caption("Choose the column with input tokens, output tokens or prompt text first.")
    st.caption("The same with the command line:")
    st.code(loaders.cli_line(name, defaults, chosen), language="bash")


def _chosen_models(digest: str, names: list[str]) -> dict[str, Any]:
    """The model map the model mapping's widgets hold now: {model as logged: catalogue model or {"params_b": B}}
    (a name whose size is not given yet is left out)."""
    out: dict[str, Any] = {}
    for name in names:
        wid = _widget_id(digest, name)
        choice = st.session_state.get(f"logs_mm_model_{wid}")
        if choice == loaders.SIZE_CHOICE:
            size = st.session_state.get(f"logs_mm_params_{wid}")
            if size is not None and size > 0:
                out[name] = {"params_b": float(size)}
        elif choice:
            out[name] = str(choice)
    return out


def _save_models(digest: str, names: list[str]) -> None:
    maps = st.session_state.setdefault("logs_model_maps", {})
    maps[digest] = {**maps.get(digest, {}), **_chosen_models(digest, names)}


def _mapped_text(model_map: dict[str, Any]) -> str:
    return ", ".join(f"{name} → " + (f"{target['params_b']:g} B" if isinstance(target, dict) else str(target))
                     for name, target in model_map.items())


def _model_mapping_step(digest: str, name: str, unknown: dict[str, int], applied: dict[str, Any],
                        defaults: dict[str, Any], columns: dict[str, str]) -> None:
    """For each unknown model (most rows first, at most :data:`loaders.MAX_MAPPED_MODELS`): a catalogue model or
    a size; a button that scores the same upload with that map (kept per file in ``logs_model_maps``); the same
    as a ``--model-map`` CSV to download, with the CLI line."""
    choices: dict[str, Any] = {}
    if unknown:
        bold("Map the unknown models")
        st.caption("Pick the catalogue model each name stands for, or “(size in billions)” and its size in "
                   "billions of parameters; the rows of a model left as it is stay out of the figures.")
        try:
            catalogue = loaders.models()
        except loaders.Unavailable as exc:
            st.error(plain(exc))
            catalogue = pd.DataFrame({"model": [], "label": []})
        labels = dict(zip(catalogue["model"], catalogue["label"]))
        options = [loaders.SIZE_CHOICE, *catalogue["model"]]
        offered = loaders.unknown_models_to_map(unknown)
        for model, rows in offered:
            wid = _widget_id(digest, model)
            target = applied.get(model)
            c1, c2 = st.columns([3, 1])
            choice = c1.selectbox(f"{plain(model)} ({rows:,} row{'s' if rows != 1 else ''})", options,
                                  index=options.index(target) if isinstance(target, str) and target in options else 0,
                                  format_func=lambda m: labels.get(m, m), key=f"logs_mm_model_{wid}")
            c2.number_input("Size (billions)", min_value=0.001, step=1.0, key=f"logs_mm_params_{wid}",
                            value=target.get("params_b") if isinstance(target, dict) else None,
                            disabled=choice != loaders.SIZE_CHOICE, placeholder="e.g. 8")
        if len(unknown) > len(offered):
            rest = dict(unknown)
            for model, _rows in offered:
                rest.pop(model)
            st.caption(f"{len(rest):,} more unknown models ({sum(rest.values()):,} rows) are not listed here: map "
                       "them in a --model-map file for the command line.")
        names = [model for model, _rows in offered]
        choices = _chosen_models(digest, names)
        st.button("Estimate these rows too", key="logs_mm_apply", type="primary", disabled=not choices,
                  on_click=_save_models, args=(digest, names))
    model_map = {**applied, **choices}
    if not model_map:
        return
    if not unknown:
        st.caption(f"Models mapped: {plain(_mapped_text(model_map))}.")
    file_name = f"{slug(Path(name).stem)}-model-map.csv"
    st.caption("The same with the command line (download the model map beside the log):")
    st.code(loaders.cli_line(name, defaults, columns, file_name), language="bash")
    st.download_button("Model map (CSV)", loaders.model_map_csv(model_map), file_name=file_name, mime="text/csv",
                       key="logs_mm_download", icon=":material/download:", on_click="ignore",
                       help="log_model,model (catalogue models) or log_model,params_b (sizes): "
                            "`seal estimate --model-map FILE` reads it.")


def _headline(log: LogSummary) -> dict[str, float]:
    tot = log.totals()
    c1, c2, c3 = st.columns(3)
    c1.metric("Requests", exact_count(tot["requests"]))
    c2.metric("Tokens", exact_count(tot.get("input_tokens", 0) + tot.get("output_tokens", 0)),
              help="Input (prefill) plus output (decode) tokens, exact.")
    c2.caption(f"{exact_count(tot.get('input_tokens', 0))} in · {exact_count(tot.get('output_tokens', 0))} out")
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
    table, rest = log.top_groups(column, TOP_GROUPS)
    note = _rest_note(rest, title)
    fig = charts.bars(table, column, "total_g_co2e", title, low="total_low_g_co2e", high="total_high_g_co2e",
                      horizontal=True)
    if note:
        st.caption(f"The {len(table)} {title.lower()}s with the most CO2e; " + note)
    st.plotly_chart(fig, key=f"{key}_chart")
    shown = display_table(table, [column, "requests", "input_tokens", "output_tokens", "gpu_energy_j",
                                  *GROUP_COLUMNS], text_column=None)
    st.dataframe(shown, hide_index=True, column_config=number_format(shown), key=f"{key}_table")
    if column in log.folded:
        st.caption(f"More than {log.max_groups:,} distinct {title.lower()} values: the lighter ones were added to "
                   "“(other)” as the log was read, so a group's sum can miss requests counted there early on; the "
                   "totals are exact.")
    return fig


def _rest_note(rest: dict[str, float] | None, title: str) -> str:
    """ "412 other users (3,120 requests): 31 % of the CO2e (1.2 kg), not drawn." or "" when every group is shown."""
    if not rest:
        return ""
    n = rest["groups"]
    what = f"{'at least ' if rest['groups_at_least'] else ''}{n:,} other {title.lower()}{'s' if n != 1 else ''}"
    return (f"{what} ({exact_count(rest['requests'])} requests): {fmt_pct(rest['share'])} of the CO2e "
            f"({fmt_mass(rest['total_g_co2e'])}), not drawn.")


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


def _choose_sample() -> None:
    st.session_state["logs_source"] = "sample"


def _source_controls() -> None:
    """Try a synthetic sample log, download the CSV template, choose to skip bad rows."""
    c1, c2, c3 = st.columns([1, 1, 1])
    c1.button("Try a sample log", key="logs_sample", icon=":material/science:", on_click=_choose_sample,
              help="Loads a synthetic log SEAL generates (not real traffic): a few models, apps and users over "
                   "two weeks, with token counts.")
    c2.download_button("Log template (CSV)", template_csv(), file_name="seal-log-template.csv", mime="text/csv",
                       key="logs_template", icon=":material/download:", on_click="ignore",
                       help="SEAL's columns (" + ", ".join(TEMPLATE_COLUMNS) + ") and three example rows; "
                            "every column but the token counts (or prompt text) may be left empty.")
    c3.checkbox("Skip bad rows", key="logs_skip_bad",
                help="Rows that cannot be estimated (negative or missing token counts, broken JSON lines) are "
                     "skipped and counted instead of stopping the read.")


def _apply_scenario(inputs: dict[str, Any]) -> None:
    d = inputs.get("defaults") or {}
    loaders.check_choices({"deployment": d.get("deployment")})
    st.session_state["logs_model"] = d.get("model") or "(from the log)"
    st.session_state["logs_gpu"] = d.get("gpu") or loaders.AUTO
    st.session_state["logs_engine"] = d.get("engine") or "default"
    st.session_state["logs_deployment"] = d.get("deployment") or NO_DEPLOYMENT
    for key, name in (("logs_region", "region"), ("logs_batch", "batch_size")):
        if d.get(name) is not None:
            st.session_state[key] = d[name]
    sha256 = inputs.get("sha256")
    if sha256 and isinstance(inputs.get("columns"), dict):    # the mappings apply when the same file is uploaded
        st.session_state.setdefault("logs_columns", {})[sha256] = dict(inputs["columns"])
    if sha256 and isinstance(inputs.get("model_map"), dict):
        st.session_state.setdefault("logs_model_maps", {})[sha256] = dict(inputs["model_map"])
    if inputs.get("file"):
        st.session_state["logs_scenario_note"] = (f"Scenario loaded: upload {inputs['file']} "
                                                  f"(sha256 {str(inputs.get('sha256', ''))[:12]}…) to reproduce the run.")


loaders.memory_trimmer()   # once per process: memory freed when sessions that uploaded a log expire goes back to the OS
scenario_loader(PAGE, "logs_scenario", _apply_scenario)
if st.session_state.get("logs_scenario_note"):
    st.info(plain(st.session_state["logs_scenario_note"]))
defaults = _assumptions()
deployment = deployment_choice("logs_deployment", help_suffix=" A `deployment` column in the log wins for its rows.")
if deployment:
    defaults["deployment"] = deployment
_source_controls()
upload = st.file_uploader("Upload logs", key="logs_file",
                          help=f"Read and scored in batches, so the server keeps only a summary; a file already "
                               f"estimated is served from the cache. At most {loaders.MAX_UPLOAD_ROWS:,} requests per "
                               "upload unless the server sets SEAL_MAX_UPLOAD_ROWS; for larger logs use "
                               "`seal estimate --file LOG --out scored.parquet`.")
if upload is not None and st.session_state.get("logs_last_upload") != upload.file_id:
    st.session_state["logs_last_upload"] = upload.file_id   # a new upload wins over the sample
    st.session_state["logs_source"] = "upload"
source = loaders.sample_upload() if st.session_state.get("logs_source") == "sample" else upload
if source is not None:
    _load(source, defaults)

run = st.session_state.get("logs_run")
file_id = getattr(source, "file_id", None) if source is not None else None
failed = st.session_state.get("logs_failed")
failed = failed if failed and file_id and failed.get("file_id") == file_id else None   # this upload's failure
file_columns = st.session_state.get("logs_file_columns", {})
if failed is not None:
    digest = failed["digest"]
    if digest in file_columns:
        _column_mapping_step(digest, failed["name"], file_columns[digest], defaults)
    if failed.get("unknown_models"):
        _model_mapping_step(digest, failed["name"], failed["unknown_models"],
                            st.session_state.get("logs_model_maps", {}).get(digest, {}), defaults,
                            st.session_state.get("logs_columns", {}).get(digest, {}))
if run is None:
    st.info("No log loaded yet. Any of the formats above works; see the README for examples.")
else:
    log: LogSummary = run["log"]
    if run.get("file_id") == loaders.SAMPLE_FILE_ID:
        st.info(plain(sample_note()))
    st.caption(f"{plain(run.get('summary') or run['name'])} · read and estimated in {run['elapsed_s']:.2f} s")
    if log.skipped:
        examples = "; ".join(log.skipped_examples[:3])
        st.warning(plain(f"{log.skipped:,} bad row{'s' if log.skipped != 1 else ''} skipped and not estimated "
                         f"(e.g. {examples}); the figures below cover the {log.requests:,} rows that were."))
    if log.column_mapping:
        st.caption("Columns read as: " + plain(", ".join(f"{k} ← {v}" for k, v in log.column_mapping.items())) + ".")
    if log.partial:
        from seal.stream import unknown_models_line

        st.warning(plain(f"{unknown_models_line(log.unknown_models)}; the figures below cover the "
                         f"{log.requests:,} rows that were estimated."))
    if failed is None and file_id and run.get("file_id") == file_id:   # the upload shown: its mappings can change
        if run["digest"] in file_columns:
            with st.expander("Column mapping"):
                _column_mapping_step(run["digest"], run["name"], file_columns[run["digest"]], defaults)
        if log.partial or log.model_map:
            _model_mapping_step(run["digest"], run["name"], log.unknown_models, log.model_map, defaults,
                                log.column_mapping)
    elif log.model_map:
        st.caption(f"Models mapped: {plain(_mapped_text(log.model_map))}.")
    tot = _headline(log)
    deployment = (run["inputs"].get("defaults") or {}).get("deployment")
    if deployment:
        st.info(plain(f"Calibrated to your deployment {deployment}: the log's requests are scored with the "
                      "correction fitted on your own measurements (Your fleet page)."), icon=":material/tune:")
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

    scenario = {**run["inputs"], "resolved": log.resolved()}   # what the rows used, beside what was chosen

    def report() -> bytes:
        sections = log_report_sections(log, top=TOP_GROUPS)
        intro = f"{exact_count(tot['requests'])} requests from {run['name']}."
        if run.get("file_id") == loaders.SAMPLE_FILE_ID:
            intro += " " + sample_note()
        shown = [(name, charts.time_bars(log.over_time("D"), freq_label="day"))
                 if name == "CO2e over time" and log.hourly_available and len(log.over_time("h")) > REPORT_MAX_BARS
                 else (name, fig) for name, fig in figures]   # a long hourly series as days: the report stays small
        return html_report(f"SEAL log report — {run['name']}", intro=intro, figures=shown, scenario=scenario,
                           **sections)

    st.markdown("**Export**")
    export_buttons(lambda: log.sample, f"seal-log-{run['name']}", PAGE, scenario, report, key="logs_export")
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
    st.caption(rows_note + " The scenario file records the log's name, its sha256, the assumptions chosen and what "
               "the rows resolved to (GPU, GPU count, batch size, engine, precision, PUE, grid intensity); upload "
               "the same log with it to reproduce the run. The CSV has SEAL's documented columns "
               "(`seal.columns.CSV_COLUMNS`); Parquet and JSON have every column.")
