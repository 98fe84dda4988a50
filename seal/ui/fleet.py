"""The "Your fleet" page's helpers: read an uploaded measurement file the way ``seal data import`` would (a preview,
nothing written), import it, and put a stored calibration (:mod:`seal.estimator.calibrate`) into words and tables.

Nothing here estimates or fits anything itself: reading and resolving rows is :mod:`seal.data.measured`'s, the
correction :mod:`seal.estimator.calibrate`'s. Uploads come as temporary files
(:func:`seal.ui.loaders.spooled_upload`); every message that would name a temporary file names the upload instead,
and the command-line options a message mentions are said as the page's own controls.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from seal.errors import SealError

KIND_WORDS: dict[str, str] = {
    "table": "Measurement table (CSV, Parquet, JSON or JSONL, one row per request)",
    "codecarbon": "CodeCarbon emissions.csv (with the request log it measured)",
    "mlenergy": "ML.ENERGY-benchmark result (JSON)",
}
APPORTION_WORDS: dict[str, str] = {
    "tokens": "By each request's tokens (prompt + output)",
    "output": "By each request's output tokens",
    "estimate": "By SEAL's estimate of each request (prefill and decode weighed apart)",
}
UPLOAD_TYPES = ("csv", "tsv", "txt", "parquet", "pq", "json", "jsonl", "ndjson")
REQUEST_LOG_TYPES = ("csv", "tsv", "txt", "json", "jsonl", "ndjson", "parquet", "pq")
PREVIEW_ROWS = 10                  # rows of the preview table
# The preview's columns (the user_runs layout, as SEAL resolved each row) and their names on the page
PREVIEW_COLUMNS: dict[str, str] = {
    "file_line": "Line", "model_id": "Model", "params_b": "Size (B)", "gpu": "GPU", "gpu_count": "GPUs",
    "engine": "Engine", "precision": "Precision", "batch_size": "Batch size", "input_tokens": "Prompt tokens",
    "output_tokens": "Output tokens", "request_energy_j": "Measured GPU energy (J)",
    "prefill_energy_j": "Measured prefill (J)", "decode_energy_j": "Measured decode (J)",
    "measure_group": "Measured together", "measured_basis": "How measured",
}
BASIS_WORDS: dict[str, str] = {"per-request": "per request", "window-apportioned": "shared out from a window",
                               "benchmark-mean": "benchmark mean per request"}
COVERAGE_COLUMNS: dict[str, str] = {
    "model": "Model", "gpu": "GPU", "engine": "Engine", "precision": "Precision", "rows": "Rows",
    "batch_sizes": "Batch sizes", "input_tokens": "Prompt tokens", "output_tokens": "Output tokens",
    "measured_j": "Measured GPU energy",
}
# How the page says what the command line calls an option (messages of seal.data.measured are the CLI's)
OPTION_WORDS: tuple[tuple[str, str], ...] = (
    ("(--skip-bad skips and counts such rows)", "(tick “Skip unusable rows” to skip and count such rows)"),
    ("; --skip-bad skips and counts them)", "; tick “Skip unusable rows” to skip and count them)"),
    ("; use --replace to import it again", "; tick “Replace its earlier rows” to import it again"),
    ("give --requests LOG", "upload the request log too"),
    ("(e.g. --name my-fleet, stored as user:my-fleet)", "(e.g. my-fleet, stored as user:my-fleet)"),
    (" (add some with `seal data import FILE --name NAME`)", ""),
    (" (--tz)", " (the time zone box)"),
    (" Import more with `seal data import`.", " Import more on this page."),
)
OPTION_PATTERNS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"run `seal calibrate (user:[A-Za-z0-9._-]+)` again( \(with --energy-model PATH[^)]*\))?"),
     r"press “Calibrate” for \1 again (the Your fleet page)"),
)
# the template's columns: what a measurement table may hold (seal.data.measured.read_table)
TEMPLATE_COLUMNS: tuple[str, ...] = (
    "request_id", "model", "params_b", "gpu", "gpus", "engine", "precision", "batch_size", "input_tokens",
    "output_tokens", "latency_s", "measured_gpu_energy_j", "measured_prefill_energy_j", "measured_decode_energy_j",
    "measured_power_w", "measure_group",
)
TEMPLATE_ROWS: tuple[tuple[object, ...], ...] = (
    ("EXAMPLE-1 (replace with your own rows)", "meta-llama/Meta-Llama-3.1-8B-Instruct", 8.03, "H100", 1, "vllm",
     "bfloat16", 32, 850, 210, 3.1, 95.0, "", "", 420, "example-run-1"),
    ("EXAMPLE-2 (replace with your own rows)", "my-finetuned-model", 13, "A100-SXM4-80GB", 2, "vllm", "bfloat16",
     64, 2400, 380, 6.8, "", 40.0, 180.0, "", "example-run-1"),
)
TEMPLATE_NAME = "seal-measurements-template-EXAMPLE.csv"
STAGE_WORDS: dict[str, str] = {"before (SEAL as shipped)": "Before: SEAL from public benchmarks only",
                               "after calibration (cross-validated)": "After calibration (each measurement "
                                                                      "predicted without it)"}
TARGET_WORDS: dict[str, str] = {"request": "whole request", "prefill": "prefill (reading the prompt)",
                                "decode": "decode (writing the answer)"}
AGREEMENT_WORDS: dict[str, str] = {"median_ape": "Typical error (%)", "mape": "Mean error (%)",
                                   "bias": "Bias (%, + = estimate too high)",
                                   "coverage_80": "Inside the 80 % interval (%)"}


def page_words(message: object) -> str:
    """A message of :mod:`seal.data.measured` with the command-line options it names said as the page's controls."""
    text = str(message)
    for old, new in OPTION_WORDS:
        text = text.replace(old, new)
    for pattern, new in OPTION_PATTERNS:
        text = pattern.sub(new, text)
    return text


def _renamed(exc: BaseException, names: dict[Path, str]) -> SealError:
    """``exc`` as one :class:`SealError` naming the uploads, never their temporary files."""
    text = str(exc) if isinstance(exc, SealError) else (
        f"The file could not be read ({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
    for path, name in names.items():
        text = text.replace(str(path), name).replace(path.name, name)
    return SealError(page_words(text))


def create_store(db_path) -> Path:
    """``seal data init`` from the page (offline sources only); one :class:`SealError` sentence when it fails."""
    from seal.data.pull import init
    from seal.ui.loaders import log_failure

    try:
        return init(db_path)
    except Exception as exc:  # noqa: BLE001 - the details go to the server's log, the page says what to do
        log_failure("seal data init", exc)
        raise SealError("The local store could not be created here; run `seal data init` in the SEAL folder "
                        "instead.") from None


def detect_kind(path: Path, file_name: str) -> str:
    """The kind of measurement file (:func:`seal.data.measured.detect_kind`); ``table`` when it cannot tell."""
    from seal.data.measured import detect_kind as detect

    try:
        return detect(path)
    except SealError:
        return "table"


@dataclass
class Preview:
    """What an import of the file would store, nothing written: ``rows`` (the ``user_runs`` rows), ``skipped``
    (reason -> rows), ``method`` (how energy per request was obtained), ``notes``."""

    rows: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)
    method: str = ""
    notes: list[str] = field(default_factory=list)

    def first_rows(self, n: int = PREVIEW_ROWS) -> pd.DataFrame:
        """The first ``n`` rows as SEAL read and resolved them, columns in words (empty columns left out)."""
        shown = self.rows.head(n)
        cols = [c for c in PREVIEW_COLUMNS if c in shown and shown[c].notna().any()]
        out = shown[cols].rename(columns=PREVIEW_COLUMNS)
        if "How measured" in out:
            out["How measured"] = out["How measured"].map(lambda b: BASIS_WORDS.get(str(b), str(b)))
        return out

    def coverage(self) -> pd.DataFrame:
        """What the rows cover (:func:`seal.data.measured.coverage`), per model, GPU, engine and precision."""
        from seal.data.measured import coverage
        from seal.ui.format import fmt_energy

        table = coverage(self.rows)
        table = table.assign(measured_j=table["measured_j"].map(fmt_energy))
        return table[[c for c in COVERAGE_COLUMNS if c in table]].rename(columns=COVERAGE_COLUMNS)

    def skipped_line(self) -> str:
        """ "3 rows would be skipped: 2 no gpu ...; 1 ..." or ""."""
        n = sum(self.skipped.values())
        if not n:
            return ""
        why = "; ".join(f"{c} {r}" for r, c in sorted(self.skipped.items(), key=lambda kv: -kv[1])[:5])
        return f"{n:,} row{'s' if n != 1 else ''} would be skipped: {why}."


def preview(path: Path, file_name: str, kind: str, *, requests: Path | None = None, requests_name: str = "",
            tz: str = "UTC", apportion: str = "tokens", skip_bad: bool = False, db_path=None,
            name: str = "preview", requests_tz: str | None = None) -> Preview:
    """The rows an import of ``path`` would store (``seal.data.measured``'s readers and ``measured_rows``), with
    nothing written.

    Raises:
        SealError: one sentence naming the upload (never the temporary file): an unreadable file, missing
            columns, the first bad row (unless ``skip_bad``), no usable row.
    """
    from seal.data import measured

    names = {path: file_name, **({requests: requests_name or "the request log"} if requests is not None else {})}
    try:
        source = measured.source_name(name)
        if kind not in measured.KINDS:
            raise SealError(f"Unknown kind of file {kind!r}; accepted: {', '.join(measured.KINDS)}.")
        frame, extra = measured.read_kind(path, kind, requests=requests, tz=tz, apportion=apportion,
                                          skip_bad=skip_bad, requests_tz=requests_tz)
        method = frame.attrs.get("method", "measured GPU energy per request as given")
        rows, skipped = measured.measured_rows(frame, source, file_name, skip_bad=skip_bad, db_path=db_path)
    except Exception as exc:  # noqa: BLE001 - one sentence for the page, whatever failed
        raise _renamed(exc, names) from None
    notes = measured.codecarbon_counts(extra, skipped)
    return Preview(rows=rows, skipped=skipped, method=str(method), notes=notes)


@st.cache_data(show_spinner=False, max_entries=8)
def cached_preview(sha256: str, file_name: str, kind: str, requests_sha256: str | None, requests_name: str,
                   tz: str, apportion: str, skip_bad: bool, store: tuple, _path: Path,
                   _requests: Path | None, requests_tz: str | None = None) -> Preview:
    """:func:`preview` cached on the upload's sha256 (and the request log's), the options and the store's
    identity (``loaders.store_key()``): the paths are not hashed."""
    return preview(_path, file_name, kind, requests=_requests, requests_name=requests_name, tz=tz,
                   apportion=apportion, skip_bad=skip_bad, db_path=Path(store[0]), requests_tz=requests_tz)


def import_upload(path: Path, file_name: str, name: str, kind: str, *, db_path, requests: Path | None = None,
                  requests_name: str = "", tz: str = "UTC", apportion: str = "tokens", skip_bad: bool = False,
                  replace: bool = False, requests_tz: str | None = None):
    """:func:`seal.data.measured.import_measurements` of an upload spooled to ``path`` (recorded as
    ``file_name``): the :class:`~seal.data.measured.ImportReport`, or one :class:`SealError` naming the upload."""
    from seal.data.measured import import_measurements

    names = {path: file_name, **({requests: requests_name or "the request log"} if requests is not None else {})}
    try:
        return import_measurements(path, name, db_path=db_path, kind=kind, requests=requests, tz=tz,
                                   apportion=apportion, skip_bad=skip_bad, replace=replace, file_name=file_name,
                                   requests_tz=requests_tz)
    except Exception as exc:  # noqa: BLE001
        raise _renamed(exc, names) from None


def template_csv() -> bytes:
    """A measurement-table template: the accepted columns (:data:`TEMPLATE_COLUMNS`) and two example rows, each
    labelled as an example (one measured as a whole request, one with prefill and decode measured apart)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return buf.getvalue().encode("utf-8")


def sources_table(sources: pd.DataFrame) -> pd.DataFrame:
    """The imported files (``user_sources``) for the page: source, file, rows, skipped, how energy was obtained,
    when imported (UTC)."""
    cols = {"source": "Source", "file": "File", "rows": "Rows", "skipped": "Skipped", "method": "How energy per "
            "request was obtained", "imported_at": "Imported (UTC)"}
    if not len(sources):
        return pd.DataFrame(columns=list(cols.values()))
    out = sources[[c for c in cols if c in sources]].copy()
    if "imported_at" in out:
        out["imported_at"] = pd.to_datetime(out["imported_at"], utc=True, errors="coerce").dt.strftime("%Y-%m-%d %H:%M")
    return out.rename(columns=cols)


def _x(value: float) -> str:
    return f"×{value:.3g}"


def correction_words(payload: dict) -> str:
    """The correction in plain words (what :func:`seal.estimator.calibrate.format_agreement` states): the factor,
    what it was fitted on, and the interval of the calibrated value."""
    factor = payload.get("factor", {})
    if set(factor) >= {"prefill", "decode"}:
        how = (f"{_x(factor['prefill'])} SEAL's prefill energy and {_x(factor['decode'])} its decode energy "
               "(measured apart)")
    else:
        value = factor.get("request", next(iter(factor.values()), float("nan")))
        how = f"{_x(value)} the GPU energy SEAL estimates from public benchmarks"
    slopes = any(payload.get("corrections", {}).get(t, {}).get("uses_slopes") for t in payload.get("targets", []))
    varies = (", and the factor varies with batch size, prompt and output length and model size" if slopes else "")
    groups = payload.get("groups", {})
    setups = ", ".join(f"{g.split('|', 1)[-1]} with {g.split('|', 1)[0]} ({n:,})" for g, n in groups.items())
    lo, hi = payload.get("intervals", {}).get("request", [float("nan"), float("nan")])
    basis = "measurement windows" if payload.get("interval_basis") == "window totals" else "requests"
    n_obs, n_rows = int(payload.get("observations", 0)), int(payload.get("rows", 0))
    fitted = f"{n_obs:,} measured {basis}" + (f" ({n_rows:,} rows)" if n_rows != n_obs else "")
    return (f"On a typical request of {payload.get('deployment')} you measured {how}{varies}: estimates for this "
            f"deployment are corrected by it. Fitted on {fitted}: {setups}. Corrected estimates get an 80 % "
            f"interval of {_x(float(np.exp(lo)))} to {_x(float(np.exp(hi)))} around the calibrated value, from its "
            "errors on measurements left out of the fit. Other GPUs or engines get the overall factor and a wider "
            "interval.")


def _target_words(target: object) -> str:
    text = str(target)
    if text.startswith("server"):           # "server (gpu+cpu+ram (CodeCarbon))": what the meter covered
        covers = text[len("server"):].strip()
        return "whole server, GPU estimate + host share" + (f" against the meter {covers}" if covers else "")
    return TARGET_WORDS.get(text, text)


def agreement_display(payload: dict, by_group: bool = False) -> pd.DataFrame:
    """:func:`seal.estimator.calibrate.agreement_table` for the page (``by_group``: the request's agreement per
    engine and GPU, ``agreement_by_group``): stages and targets in words, the errors in percent (floats; NaN where
    not measured)."""
    from seal.estimator.calibrate import agreement_table

    if by_group:
        table = pd.DataFrame(payload.get("agreement_by_group") or [],
                             columns=["group", "stage", "target", "n", *AGREEMENT_WORDS])
    else:
        table = agreement_table(payload)
    out = pd.DataFrame({
        "When": table["stage"].map(lambda s: STAGE_WORDS.get(str(s), str(s))),
        "Energy of": table["target"].map(_target_words),
        "Measurements": pd.to_numeric(table["n"], errors="coerce"),
    })
    if by_group:
        out.insert(0, "GPU and engine", table["group"].map(lambda g: " with ".join(str(g).split("|", 1)[::-1])))
    for col, label in AGREEMENT_WORDS.items():
        out[label] = 100.0 * pd.to_numeric(table[col], errors="coerce")
    return out


def rows_since(payload: dict, runs: pd.DataFrame) -> int:
    """Rows of the payload's deployment imported (or removed) since it was calibrated: the difference in count."""
    if not len(runs) or "source" not in runs:
        return -int(payload.get("rows", 0))
    return int((runs["source"] == payload.get("deployment")).sum()) - int(payload.get("rows", 0))


def state_words(payload: dict, runs: pd.DataFrame) -> str:
    """Why a stored calibration should be fitted again ("" when it is current): its files changed since
    (:func:`seal.estimator.calibrate.calibration_state`), or it corrects another energy model than SEAL's."""
    from seal.estimator.calibrate import calibration_state
    from seal.ui import loaders

    try:
        state = calibration_state(payload, loaders.db_path())
    except Exception as exc:  # noqa: BLE001 - the page says it cannot tell, the details go to the log
        loaders.log_failure("checking a calibration", exc)
        return "Could not check whether this calibration is current; press “Calibrate” to fit it again."
    if state == "other-model":
        return ("This calibration was fitted on another version of SEAL's energy model, so estimates cannot use it: "
                "press “Calibrate” to fit it again.")
    if state == "stale":
        since = rows_since(payload, runs)
        what = f"{abs(since):,} rows {'added' if since > 0 else 'removed'}" if since else "rows replaced"
        return f"Files of this source changed since it was calibrated ({what}): press “Calibrate” again to use them."
    return ""


def valid_name(name: str) -> str:
    """``user:NAME`` for a name typed on the page (:func:`seal.data.measured.source_name`), or a SealError."""
    from seal.data.measured import source_name

    try:
        return source_name(name)
    except SealError as exc:
        raise SealError(page_words(exc)) from None


def short(source: str) -> str:
    """``user:my-fleet`` -> ``my-fleet`` (for widget keys and labels)."""
    return re.sub(r"^user:", "", str(source))
