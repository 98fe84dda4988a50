"""Your fleet: import your own energy measurements, fit a correction of SEAL to your deployment, and see how well it
agrees with what you measured; the Estimate, Logs and What-if pages then offer the deployment."""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pandas as pd
import streamlit as st

from seal.data.measured import APPORTION_METHODS, KINDS
from seal.errors import SealError
from seal.ui import fleet, loaders
from seal.ui.format import plain
from seal.ui.widgets import bold, calibration_report, show_error

PAGE = "Your fleet"
NOTICE = "fleet_notice"            # (kind, text) shown once after a store write and the rerun that follows it
UPLOADER = "fleet_uploader_n"      # the uploaders' key suffix: a new one after an import empties them
NO_STORE = ("There is no local data store yet, so there is nowhere to keep your measurements. Create it here, or "
            "run `seal data init` (offline, a few seconds; `make run` does it too) in the SEAL folder, then reload "
            "this page.")


def _notice() -> None:
    """What the last action did (kept across the rerun that shows its result)."""
    note = st.session_state.pop(NOTICE, None)
    if not note:
        return
    kind, lines = note
    text = "  \n".join(plain(line) for line in str(lines).splitlines())
    (st.success if kind == "success" else st.error)(text)


def _done(kind: str, text: str) -> None:
    """After a store write: drop the cached reads of the store (every page sees the new data) and rerun."""
    st.session_state[NOTICE] = (kind, text)
    loaders.store_changed()
    st.rerun()


def _create_store(db) -> None:
    st.info(NO_STORE, icon=":material/database:")
    st.code("seal data init", language="bash")
    if st.button("Create the local store", type="primary", key="fleet_init",
                 help="Builds the store from what ships with SEAL (no download); `seal data pull` adds the public "
                      "benchmarks later and keeps your measurements."):
        try:
            with st.spinner("Creating the local store…"):
                fleet.create_store(db)
        except SealError as exc:
            show_error(exc)
            return
        _done("success", "Created the local store: you can import measurements now.")


def _options(kind: str, n: int) -> dict[str, Any]:
    """The CodeCarbon-only inputs: the request log it measured, its time zone and how a window's energy is shared."""
    if kind != "codecarbon":
        return {"requests": None, "tz": "UTC", "apportion": "tokens", "requests_tz": None}
    st.caption("CodeCarbon measures the GPU energy of time windows, not of requests: each window's energy is shared "
               "among the requests of your log whose timestamp falls in it.")
    requests = st.file_uploader("The request log CodeCarbon measured (with a timestamp per request)",
                                type=list(fleet.REQUEST_LOG_TYPES), key=f"fleet_requests_{n}",
                                help="Any log the Logs page reads (OpenAI, OTLP, LiteLLM, Langfuse, CSV / JSONL / "
                                     "Parquet with token columns), with timestamps.")
    c1, c2 = st.columns(2)
    tz = c1.text_input("Time zone of the emissions.csv timestamps", value="UTC", key="fleet_tz",
                       help="CodeCarbon writes the machine's local time without an offset: give the time zone the "
                            "tracker ran in (an IANA name such as Europe/Paris; most servers run in UTC).")
    apportion = c2.selectbox("Share each window's energy", list(APPORTION_METHODS), key="fleet_apportion",
                             format_func=lambda m: fleet.APPORTION_WORDS.get(m, m))
    requests_tz = st.text_input("Time zone of the request log's timestamps, where they have no offset", value="",
                                key="fleet_requests_tz", placeholder="as the log says (UTC when it says nothing)",
                                help="Only for a log written in local time without '+01:00' or 'Z': an IANA name "
                                     "such as Europe/Paris.")
    return {"requests": requests, "tz": tz.strip() or "UTC", "apportion": apportion,
            "requests_tz": requests_tz.strip() or None}


def _import_section(db) -> None:
    st.subheader("Import measurements")
    n = int(st.session_state.get(UPLOADER, 0))
    c1, c2 = st.columns([3, 2])
    upload = c1.file_uploader(
        "Measurement file", type=list(fleet.UPLOAD_TYPES), key=f"fleet_upload_{n}",
        help="A measurement table (CSV, Parquet, JSON, JSONL: one row per request with its measured GPU energy), "
             "a CodeCarbon emissions.csv, or an ML.ENERGY-benchmark result JSON of your own runs.")
    with c2:
        st.download_button("Template with two example rows (CSV)", fleet.template_csv(),
                           file_name=fleet.TEMPLATE_NAME, mime="text/csv", key="fleet_template",
                           icon=":material/download:", on_click="ignore",
                           help="The accepted columns: " + ", ".join(fleet.TEMPLATE_COLUMNS) + ". The two rows "
                                "are made-up examples: replace them with your own measurements.")
        st.caption("The template's two rows are **examples, not measurements**: keep the header, put your own rows "
                   "below it. Give `measured_gpu_energy_j` per request, or the prefill and decode energies apart.")
    name = st.text_input("Name of this deployment", value="my-fleet", key="fleet_name",
                         help="Letters, digits, '.', '_' or '-' (64 at most); stored as user:NAME.")
    try:
        source = fleet.valid_name(name)
    except SealError as exc:
        show_error(exc)
        source = None
    if upload is None:
        st.caption("No file chosen yet. Use the template above for a table of your own.")
        return
    try:
        limits = loaders.upload_limits()
        with loaders.spooled_upload(upload, limits.max_mb) as (path, sha):
            detected = fleet.detect_kind(path, upload.name)
            kind = st.selectbox("Kind of file", list(KINDS), index=list(KINDS).index(detected),
                                key=f"fleet_kind_{sha[:16]}", format_func=lambda k: fleet.KIND_WORDS.get(k, k),
                                help=f"Detected from the file: {fleet.KIND_WORDS.get(detected, detected)}. "
                                     "Change it if SEAL guessed wrong.")
            options = _options(kind, n)
            c1, c2 = st.columns(2)
            skip_bad = c1.checkbox("Skip unusable rows", key="fleet_skip_bad",
                                   help="Rows SEAL cannot use (no GPU, an unknown model without a size, a missing or "
                                        "negative energy) are skipped and counted instead of stopping the import.")
            replace = c2.checkbox("Replace its earlier rows", key="fleet_replace",
                                  help="Drop the rows imported before under this name first (otherwise the file's "
                                       "rows are added to them).")
            if kind == "codecarbon" and options["requests"] is None:
                st.info("Upload the request log CodeCarbon measured to see the preview.")
                return
            log = options["requests"]
            with (loaders.spooled_upload(log, limits.max_mb) if log is not None else nullcontext((None, None))) \
                    as (req_path, req_sha):
                req_name = log.name if log is not None else ""
                _preview_and_import(db, source, upload.name, path, sha, kind, req_path, req_sha, req_name,
                                    options, skip_bad, replace, n)
    except SealError as exc:       # a size limit of the upload (SEAL_MAX_UPLOAD_MB)
        show_error(exc)


def _preview_and_import(db, source: str | None, file_name: str, path, sha: str, kind: str, req_path, req_sha,
                        req_name: str, options: dict[str, Any], skip_bad: bool, replace: bool, n: int) -> None:
    try:
        with st.spinner(f"Reading {plain(file_name)}…"):
            pre = fleet.cached_preview(sha, file_name, kind, req_sha, req_name, options["tz"], options["apportion"],
                                       skip_bad, loaders.store_key(), path, req_path,
                                       requests_tz=options["requests_tz"])
    except SealError as exc:
        show_error(exc)
        return
    bold(f"Preview of {file_name}: {len(pre.rows):,} usable rows (nothing imported yet)")
    st.caption("The first rows as SEAL read them (model, GPU, engine and precision as an estimate would resolve "
               "them), then what the file covers. How energy per request was obtained: " + plain(pre.method) + ".")
    st.dataframe(pre.first_rows(), hide_index=True, key="fleet_preview")
    st.dataframe(pre.coverage(), hide_index=True, key="fleet_coverage")
    if pre.skipped_line():
        st.warning(plain(pre.skipped_line()))
    for note in pre.notes:
        st.caption(plain(note))
    if st.button("Import", type="primary", key="fleet_import", disabled=source is None,
                 help="Adds the rows to the local store as " + (source or "user:NAME") + "; nothing leaves this "
                      "machine."):
        try:
            with st.spinner(f"Importing {plain(file_name)}…"):
                report = fleet.import_upload(path, file_name, source, kind, db_path=db, requests=req_path,
                                             requests_name=req_name, tz=options["tz"],
                                             apportion=options["apportion"], skip_bad=skip_bad, replace=replace,
                                             requests_tz=options["requests_tz"])
        except SealError as exc:
            show_error(exc)
            return
        st.session_state[UPLOADER] = n + 1          # empty uploaders for the next file
        text = fleet.page_words(report)
        if "again to use the new rows" not in text:
            text += f"\nNext: press “Calibrate” for {report.source} below."
        _done("success", text)


def _sources_section(db) -> pd.DataFrame:
    """The imported files, and per source a Calibrate and a Remove button; returns the imported rows."""
    st.subheader("Your imported sources")
    try:
        sources = loaders.user_table("user_sources")
        runs = loaders.user_table("user_runs")
    except loaders.Unavailable as exc:
        st.error(plain(exc))
        return pd.DataFrame()
    if not len(sources):
        st.caption("Nothing imported yet.")
        return runs
    st.dataframe(fleet.sources_table(sources), hide_index=True, key="fleet_sources")
    calibrated = loaders.calibrations()
    pending = st.session_state.get("fleet_remove")
    for source in dict.fromkeys(sources["source"].astype(str)):
        rows = int((runs["source"] == source).sum()) if len(runs) else 0
        c1, c2, c3 = st.columns([3, 1, 1])
        state = "calibrated" if source in calibrated else "not calibrated yet"
        c1.markdown(f"**{plain(source)}** · {rows:,} row{'s' if rows != 1 else ''} · {state}")
        key = fleet.short(source)
        if c2.button("Calibrate", key=f"fleet_calibrate_{key}", type="primary" if source not in calibrated else
                     "secondary", help="Fits the correction of SEAL to these measurements and stores it; the "
                                       "Estimate, Logs and What-if pages then offer this deployment."):
            try:
                from seal.estimator.calibrate import calibrate

                with st.spinner(f"Calibrating {plain(source)}…"):
                    payload = calibrate(source, db_path=db)
            except SealError as exc:
                show_error(exc)
            else:
                _done("success", f"Calibrated {source} on {payload['observations']:,} measurements: choose it as "
                                 "“Deployment” on the Estimate, Logs or What-if page.")
        if c3.button("Remove", key=f"fleet_remove_{key}",
                     help="Deletes these rows and their calibration from the local store."):
            st.session_state["fleet_remove"] = pending = source
        if pending == source:
            also = " and its calibration" if source in loaders.calibrations() else ""
            st.warning(plain(f"Remove {source}: its {rows:,} rows{also}? This cannot be undone (import "
                             "the files again to get them back)."))
            k1, k2, _ = st.columns([1, 1, 3])
            if k1.button("Yes, remove", key=f"fleet_remove_yes_{key}", type="primary"):
                st.session_state.pop("fleet_remove", None)
                try:
                    from seal.data.measured import remove_source

                    removed = remove_source(source, db)
                except SealError as exc:
                    show_error(exc)
                else:
                    _done("success", f"Removed {source}: {removed:,} row{'s' if removed != 1 else ''}{also}.")
            if k2.button("Cancel", key=f"fleet_remove_no_{key}"):
                st.session_state.pop("fleet_remove", None)
                st.rerun()
    return runs


def _calibrations_section(runs: pd.DataFrame) -> None:
    calibrated = loaders.calibrations()
    if not calibrated:
        return
    st.subheader("Your calibrated deployments")
    for deployment, payload in sorted(calibrated.items()):
        with st.container(border=True):
            bold(deployment)
            calibration_report(payload, key=f"fleet_cal_{fleet.short(deployment)}")
            note = fleet.state_words(payload, runs)
            if note:
                st.warning(plain(note))


st.title("Your fleet")
st.markdown("SEAL's estimates come from public benchmarks. If you measure the energy of your own serving — per "
            "request, with CodeCarbon, or with the ML.ENERGY benchmark — bring the measurements here: SEAL fits a "
            "small correction for your deployment, checks it on measurements it was not fitted on, and the Estimate, "
            "Logs and What-if pages can then use it. Everything stays in the local store on this machine.")
st.caption("The same from the command line:")
st.code("seal data import FILE --name my-fleet\nseal calibrate user:my-fleet\n"
        "seal estimate --deployment user:my-fleet --file LOG --out scored.parquet", language="bash")
_notice()
db = loaders.db_path()
if not db.exists():
    _create_store(db)
    st.stop()
_import_section(db)
imported = _sources_section(db)
_calibrations_section(imported)
