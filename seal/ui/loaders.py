"""Cached reads of what the pages offer to choose from (models, GPUs, regions) and of the store.

Each loader calls the ``seal`` package once per process (``st.cache_data``) and returns a small frame the
pages turn into widgets. A part of the backend that is missing or fails raises :class:`Unavailable` with a
sentence the page shows, so one broken source never blanks the whole app.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import streamlit as st

from seal.errors import SealError
from seal.summary import SAMPLE_ROWS, LogSummary

AUTO = "Auto (default serving set-up)"
PRECISIONS: tuple[str, ...] = ("bfloat16", "float16", "float32", "fp8", "int8", "mxfp4", "nvfp4", "awq", "gptq",
                                "int4", "nf4")
ENGINES: tuple[str, ...] = ("vllm", "vllm-2024", "transformers")
ENGINE_LABELS: dict[str, str] = {"default": "default (vLLM; transformers at batch 1)", "vllm": "vLLM (current, 2025-26)",
                                 "vllm-2024": "vLLM 2024 (0.4-0.5)", "transformers": "transformers (eager, batch-1 style)"}
BATCH_SIZES: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Unavailable(RuntimeError):
    """A part of the backend the page needs is not available (message for the user)."""


# the catalogue's columns (seal.data.catalogue.list_models) -> the picker's
CATALOGUE_COLUMNS: dict[str, str] = {"model_key": "model", "params_b": "params_b", "active_params_b": "active_params_b",
                                     "params_low_b": "params_low_b", "params_high_b": "params_high_b",
                                     "quality_score": "quality", "open_weights": "open", "provider": "provider",
                                     "params_estimated": "params_estimated"}


@st.cache_data(show_spinner=False, ttl=600)  # the catalogue grows when `seal data pull` adds the leaderboard
def models() -> pd.DataFrame:
    """The model catalogue for the picker: ``model``, ``params_b``, ``active_params_b``, ``open``,
    ``quality`` (Open LLM Leaderboard average where known) and ``label`` (name · open/closed · size)."""
    try:
        from seal.data.catalogue import list_models

        cat = list_models()
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"The model catalogue could not be loaded ({exc.__class__.__name__}: {exc}).") from exc
    out = cat[list(CATALOGUE_COLUMNS)].rename(columns=CATALOGUE_COLUMNS)
    out["model"] = out["model"].astype(str)
    out["provider"] = out["provider"].astype(str)
    for col in ("open", "params_estimated"):
        out[col] = out[col].fillna(False).to_numpy(dtype=bool)
    out = out.drop_duplicates("model").reset_index(drop=True)
    out["label"] = [_model_label(r) for r in out.itertuples()]
    return out


def _model_label(r: Any) -> str:
    from seal.ui.format import sig_figures

    kind = "open" if r.open else "closed"
    if r.params_estimated and pd.notna(r.params_low_b) and pd.notna(r.params_high_b) and r.params_low_b < r.params_high_b:
        size = f"{sig_figures(r.params_low_b, 2)}–{sig_figures(r.params_high_b, 2)} B (estimated)"
    elif pd.notna(r.params_b):
        size = f"{sig_figures(r.params_b, 3)} B"
        if pd.notna(r.active_params_b) and r.active_params_b < r.params_b * 0.99:
            size += f" ({sig_figures(r.active_params_b, 3)} B active)"
    elif pd.notna(r.params_low_b) and pd.notna(r.params_high_b):
        size = f"{sig_figures(r.params_low_b, 2)}–{sig_figures(r.params_high_b, 2)} B (estimated)"
    else:
        size = "size unknown"
    return f"{r.model} · {kind} · {size}"


@st.cache_data(show_spinner=False)
def gpus() -> pd.DataFrame:
    """The GPU facts table (``seal/data/facts/gpus.csv``)."""
    try:
        from seal.data.gpus import load_gpus

        return load_gpus()
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"The GPU table could not be loaded ({exc}).") from exc


@st.cache_data(show_spinner=False)
def regions() -> pd.DataFrame:
    """Regions for the picker (``seal.carbon.regions_table``): ``region`` (the code passed to ``seal.estimate``),
    ``grid_intensity_g_per_kwh`` (annual) and ``label``: the world average, every cloud region of
    ``seal/data/facts/cloud_regions.csv`` and every country with an electricity mix."""
    try:
        from seal.carbon import regions_table

        table = regions_table()
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"The region list could not be loaded ({exc.__class__.__name__}: {exc}).") from exc
    g = table["grid_intensity_g_per_kwh"]
    out = pd.DataFrame({"region": table["region"].astype(str), "grid_intensity_g_per_kwh": g.to_numpy()})
    labels = out["region"] + " — " + table["name"].astype(str)
    out["label"] = (labels + g.map(lambda v: f" · {v:.0f} g/kWh" if pd.notna(v) else "")).to_numpy()
    return out


def db_path() -> Path:
    from seal.data.store import default_db_path

    return Path(default_db_path())


@st.cache_data(show_spinner=False, ttl=60)
def store_status() -> pd.DataFrame:
    """Per source: version, rows, when pulled (``seal.data.store.status``); without a store, every registered
    source with 0 rows (a fresh install before ``seal data init`` / ``seal data pull``)."""
    path = db_path()
    if not path.exists():
        return _empty_status()
    try:
        from seal.data.store import status

        return pd.DataFrame(status(path))
    except Exception as exc:  # noqa: BLE001
        log_failure("store status", exc)
        raise Unavailable(STORE_UNREADABLE) from exc


STORE_UNREADABLE = ("The local data store could not be read; rebuild it with `seal data init` (offline) or "
                    "`seal data pull`.")
PULL_COMMAND = "seal data pull"


def log_failure(what: str, exc: BaseException) -> None:
    """Log a failure's details for whoever runs the server (the page shows one sentence without them)."""
    import logging

    logging.getLogger("seal.ui").warning("%s failed: %s: %s", what, exc.__class__.__name__, exc)


def _empty_status() -> pd.DataFrame:
    try:
        from seal.data.sources import SOURCES

        names = list(SOURCES)
    except Exception:  # noqa: BLE001 - no registry: an empty table
        names = []
    return pd.DataFrame({"source": names, "rows": [0] * len(names)})


def has_store() -> bool:
    """Whether the data store file exists (``seal data init`` or ``seal data pull`` made it)."""
    return db_path().exists()


@st.cache_data(show_spinner=False, ttl=60)
def store_table(name: str) -> pd.DataFrame:
    """A whole table of the store (``seal.data.store.read_table``); raises :class:`Unavailable` (one sentence, no
    file path) when there is no store or the table cannot be read."""
    if not db_path().exists():
        raise Unavailable("There is no local data store yet, so there are no benchmark runs to show.")
    try:
        from seal.data.store import read_table

        return pd.DataFrame(read_table(name, db_path()))
    except Exception as exc:  # noqa: BLE001
        log_failure(f"reading table {name}", exc)
        raise Unavailable(f"The store's {name.replace('_', ' ')} table could not be read.") from exc


def store_key() -> tuple[str, int, int]:
    """The store file's identity now: ``(path, modification time in ns, size)``, ``(path, 0, 0)`` without a store.
    Loaders of the store's user tables are cached on it, so a write from any page or the CLI is seen."""
    path = db_path()
    try:
        st_ = path.stat()
    except OSError:
        return str(path), 0, 0
    return str(path), st_.st_mtime_ns, st_.st_size


@st.cache_data(show_spinner=False, max_entries=4)
def _calibrations(key: tuple[str, int, int]) -> dict[str, dict]:
    if not key[1]:
        return {}
    try:
        from seal.estimator.calibrate import load_calibrations

        return load_calibrations(Path(key[0]))
    except Exception as exc:  # noqa: BLE001 - an unreadable table: no deployment offered, the pages work on
        log_failure("reading the calibrations", exc)
        return {}


def usable_calibrations() -> dict[str, dict]:
    """The calibrations estimates can apply now: fitted on the shipped energy model (a calibration of another
    cannot be applied; the Your fleet page says to fit it again)."""
    from seal.estimator.calibrate import calibration_state

    out = {}
    for name, payload in calibrations().items():
        try:
            if calibration_state(payload, db_path()) != "other-model":
                out[name] = payload
        except Exception as exc:  # noqa: BLE001
            log_failure("checking a calibration", exc)
    return out


def calibrations() -> dict[str, dict]:
    """The store's calibrated deployments (``seal.estimator.calibrate.load_calibrations``): {``user:NAME``:
    payload}, empty without a store, without calibrations, or when they cannot be read."""
    return _calibrations(store_key())


@st.cache_data(show_spinner=False, max_entries=4)
def _calibration_stamps(key: tuple[str, int, int]) -> dict[str, str]:
    import json

    return {name: hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
            for name, payload in _calibrations(key).items()}


def calibration_stamp(deployment: str | None) -> str:
    """A digest of ``deployment``'s stored calibration ("" for none): part of the cache keys of results computed
    with it, so a deployment calibrated again is never served from a result of its older calibration."""
    if not deployment:
        return ""
    return _calibration_stamps(store_key()).get(deployment, "")


@st.cache_data(show_spinner=False, max_entries=4)
def _user_table(key: tuple[str, int, int], name: str) -> pd.DataFrame:
    from seal.data import measured

    reader = {"user_runs": measured.user_runs, "user_sources": measured.user_sources}[name]
    return reader(Path(key[0]))


def user_table(name: str) -> pd.DataFrame:
    """The store's ``user_runs`` or ``user_sources`` (a team's imported measurements, ``seal data import``); an
    empty frame without a store. Raises :class:`Unavailable` (one sentence) when the table cannot be read."""
    try:
        return _user_table(store_key(), name).copy()
    except Exception as exc:  # noqa: BLE001
        log_failure(f"reading table {name}", exc)
        raise Unavailable(f"The store's {name.replace('_', ' ')} table could not be read.") from exc


def store_changed() -> None:
    """After the app wrote to the store (an import, a removal, a calibration, ``seal data init``): drop the cached
    reads of it, so every page (and every session) sees the new data; log summaries scored with a deployment's
    calibration are dropped too."""
    for fn in (store_status, store_table, _calibrations, _calibration_stamps, _user_table, summarize_upload):
        fn.clear()


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


MAX_UPLOAD_ROWS = 5_000_000        # requests scored per upload unless SEAL_MAX_UPLOAD_ROWS says otherwise
UPLOAD_CACHE_ENTRIES = 8           # summaries of uploads kept per process (each at most a few tens of MiB)
COPY_CHUNK_BYTES = 1 << 20         # bytes per read when an upload is copied to its temporary file
UPLOAD_BATCH_ROWS = 65_536         # rows per scored batch of an upload (see summarize_log)
CLI_HINT = "score the whole file with the CLI instead (`seal estimate --file LOG --out scored.parquet`)"


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may cost the server: ``max_rows`` requests, ``max_mb`` MB of file (``None``: only
    Streamlit's ``server.maxUploadSize``), ``sample_rows`` rows kept for the downloads."""

    max_rows: int = MAX_UPLOAD_ROWS
    max_mb: float | None = None
    sample_rows: int = SAMPLE_ROWS


def upload_limits(environ: Mapping[str, str] | None = None) -> UploadLimits:
    """The deployment's limits from ``environ`` (default ``os.environ``): ``SEAL_MAX_UPLOAD_ROWS`` (requests,
    default 5 000 000), ``SEAL_MAX_UPLOAD_MB`` (MB, default none) and ``SEAL_UPLOAD_SAMPLE_ROWS`` (default 20 000).

    Raises:
        seal.errors.SealError: a value that is not a positive number.
    """
    import os

    from seal.errors import SealError

    env = os.environ if environ is None else environ

    def read(name: str, default, kind):
        text = (env.get(name) or "").strip().replace("_", "")
        if not text:
            return default
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise SealError(f"{name}={env.get(name)!r} is not a positive number; fix it in the server's environment.")
        return value

    return UploadLimits(max_rows=read("SEAL_MAX_UPLOAD_ROWS", MAX_UPLOAD_ROWS, int),
                        max_mb=read("SEAL_MAX_UPLOAD_MB", None, float),
                        sample_rows=read("SEAL_UPLOAD_SAMPLE_ROWS", SAMPLE_ROWS, int))


def row_limit_message(name: str, max_rows: int) -> str:
    """The one sentence shown when a log has more requests than ``SEAL_MAX_UPLOAD_ROWS``."""
    return (f"{name} has more than {max_rows:,} requests, the most this app scores per upload "
            f"(SEAL_MAX_UPLOAD_ROWS; raise it in the server's environment), so nothing was loaded from it: "
            f"{CLI_HINT}.")


def size_limit_message(name: str, max_mb: float) -> str:
    """The one sentence shown when a file is larger than ``SEAL_MAX_UPLOAD_MB``."""
    return (f"{name} is larger than {max_mb:g} MB, the most this app reads per upload (SEAL_MAX_UPLOAD_MB; raise "
            f"it in the server's environment), so nothing was loaded from it: {CLI_HINT}.")


class _HashingWriter:
    """A binary file wrapper that hashes (sha256) and counts what is written, and stops past ``max_bytes``."""

    def __init__(self, fh, name: str, max_mb: float | None) -> None:
        self.fh, self.name, self.max_mb = fh, name, max_mb
        self.max_bytes = None if max_mb is None else int(max_mb * 1024 * 1024)
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, chunk: bytes) -> int:
        from seal.errors import SealError

        self.bytes += len(chunk)
        if self.max_bytes is not None and self.bytes > self.max_bytes:
            raise SealError(size_limit_message(self.name, self.max_mb))
        self.sha256.update(chunk)
        return self.fh.write(chunk)


@contextmanager
def spooled_upload(upload: BinaryIO, max_mb: float | None = None,
                   chunk_bytes: int = COPY_CHUNK_BYTES) -> Iterator[tuple[Path, str]]:
    """Copy an uploaded file (any binary file object with ``.name``) to a temporary file in chunks, hashing it on
    the way: yields ``(path, sha256 hex digest)`` and deletes the file afterwards, also on error.

    The copy never holds more than ``chunk_bytes`` beyond what the upload object already holds (no
    ``getvalue()``). Raises :class:`seal.errors.SealError` (:func:`size_limit_message`) past ``max_mb`` MB.
    """
    import os
    import shutil
    import tempfile

    name = str(getattr(upload, "name", "") or "upload")
    fd, tmp = tempfile.mkstemp(prefix="seal-upload-", suffix=Path(name).suffix[:16])
    try:
        with os.fdopen(fd, "wb") as fh:
            writer = _HashingWriter(fh, name, max_mb)
            upload.seek(0)
            shutil.copyfileobj(upload, writer, chunk_bytes)
        upload.seek(0)
        yield Path(tmp), writer.sha256.hexdigest()
    finally:
        Path(tmp).unlink(missing_ok=True)


class NothingEstimated(SealError):
    """No row of a log could be estimated: every model in it is unknown. ``unknown_models`` ({name as logged:
    rows}) lets the page offer the model mapping for them."""

    def __init__(self, message: str, unknown_models: Mapping[str, int]) -> None:
        super().__init__(message)
        self.unknown_models = dict(unknown_models)


def summarize_log(path: str | Path, name: str, defaults: dict[str, Any], limits: UploadLimits = UploadLimits(), *,
                  batch_rows: int | None = None, columns: Mapping[str, str] | None = None,
                  model_map: Mapping[str, Any] | None = None, skip_bad: bool = False) -> tuple[LogSummary, str]:
    """Read and score the log at ``path`` batch by batch (:class:`seal.stream.ScoredBatches`, as the CLI does)
    into a :class:`seal.summary.LogSummary`: ``(summary, one line on what was read and scored)``.

    ``name`` replaces the file's own name (a temporary file's) in messages. ``columns`` ({SEAL column: file
    column}) maps a table's columns, ``model_map`` ({model as logged: catalogue model, or {"params_b": ...}}) maps
    unknown models (the CLI's ``--columns`` / ``--model-map``); both are recorded in the summary
    (``column_mapping``, ``model_map``), with the rows of models still unknown (``unknown_models``: set apart,
    not estimated). Memory stays bounded by the batch size (``batch_rows``, default :data:`UPLOAD_BATCH_ROWS`:
    half the CLI's, since several sessions may score at once; see `make bench`) plus the summary, whatever the
    log's size. ``skip_bad`` skips rows that cannot be scored (the CLI's ``--skip-bad``) instead of stopping at
    the first: the summary counts them (``skipped``, with a few ``skipped_examples``).

    Raises:
        seal.errors.UnmappedTable: a table without recognisable token or text columns (``columns``: the file's).
        NothingEstimated: every row is of a model no catalogue knows (``unknown_models``).
        seal.errors.SealError: an unreadable file or a bad row (naming its line); more than ``limits.max_rows``
            requests (:func:`row_limit_message`).
    """
    import time

    from seal.errors import UnmappedTable
    from seal.stream import ScoredBatches

    t0 = time.perf_counter()
    columns, model_map = dict(columns or {}), dict(model_map or {})
    summary = LogSummary(sample_rows=limits.sample_rows)
    scored = None
    try:
        scored = ScoredBatches(path, defaults, skip_bad=skip_bad, batch_rows=batch_rows or UPLOAD_BATCH_ROWS,
                               columns=columns or None, model_map=model_map or None)
        scored.name = name
        _add_batches(summary, scored, name, limits.max_rows)
    except UnmappedTable as exc:
        raise UnmappedTable(_upload_named(str(exc), path, name), columns=exc.columns) from None
    except SealError as exc:
        raise _upload_error(exc, scored, path, name) from None
    _record_report(summary, scored, path, name)
    summary.column_mapping = ordered_columns(columns)
    summary.model_map = model_map
    return summary, _upload_named(scored.summary(time.perf_counter() - t0), path, name)


def _upload_named(text: str, path: str | Path, name: str) -> str:
    """``text`` naming the upload ``name``, never the temporary file at ``path``."""
    return text.replace(str(path), name).replace(Path(path).name, name)


def _add_batches(summary: LogSummary, scored: Any, name: str, max_rows: int) -> None:
    """Add every batch of ``scored`` (a :class:`seal.stream.ScoredBatches`) to ``summary``; raises a SealError
    (:func:`row_limit_message`) past ``max_rows`` requests."""
    batches = iter(scored)
    try:
        for batch in batches:
            if summary.requests + len(batch) > max_rows:
                raise SealError(row_limit_message(name, max_rows))
            summary.add(batch, requests=scored.last_requests)
    finally:
        batches.close()   # stop the reader (closes its DuckDB connections) when a limit or an error ends early


def _upload_error(exc: SealError, scored: Any, path: str | Path, name: str) -> SealError:
    """The error to raise for ``exc`` naming the upload: :class:`NothingEstimated` when no row was estimated
    because every model is unknown, else a SealError."""
    text = _upload_named(str(exc), path, name)
    if scored is not None and scored.unknown_models and not scored.rows and "no row could be estimated" in str(exc):
        return NothingEstimated(text, scored.unknown_models)
    return SealError(text)


def _record_report(summary: LogSummary, scored: Any, path: str | Path, name: str) -> None:
    """Copy the reader's report of ``scored`` (unknown models, skipped and ignored rows) into ``summary``."""
    scored.report.path = name
    summary.unknown_models = dict(scored.unknown_models)
    summary.skipped, summary.ignored = int(scored.report.skipped), int(scored.report.ignored)
    summary.skipped_examples = [_upload_named(e, path, name) for e in scored.report.examples]
    summary.ignored_what = scored.report.ignored_what


def mapping_key(mapping: Mapping[str, Any] | None) -> tuple:
    """A column mapping or model map as a hashable, order-free tuple (part of :func:`summarize_upload`'s cache
    key): ``{"a": "x", "b": {"params_b": 8.0}}`` -> ``(("a", "x"), ("b", (("params_b", 8.0),)))``."""
    return tuple(sorted((str(k), mapping_key(v) if isinstance(v, Mapping) else v)
                        for k, v in (mapping or {}).items()))


def mapping_from_key(key: tuple) -> dict[str, Any]:
    """The dict of :func:`mapping_key` (nested tuples of pairs become dicts again)."""
    return {k: (mapping_from_key(v) if isinstance(v, tuple) else v) for k, v in key}


@st.cache_data(show_spinner=False, max_entries=UPLOAD_CACHE_ENTRIES)
def summarize_upload(digest: str, name: str, defaults: tuple[tuple[str, Any], ...], limits: UploadLimits,
                     _path: Path, columns: tuple = (), model_map: tuple = (),
                     skip_bad: bool = False, calibration: str = "") -> tuple[LogSummary, str]:
    """:func:`summarize_log` of an upload spooled to ``_path``, cached on the file's sha256, its name, the
    defaults, the limits, the column mapping and the model map (both as :func:`mapping_key` tuples; ``_path`` is
    not hashed), ``skip_bad`` and ``calibration`` (:func:`calibration_stamp` of the defaults' deployment: only a
    cache key, so a deployment calibrated again is scored again): a log is scored once per process however many
    reruns and sessions follow. Only the summary is cached (a few MiB to a few tens of MiB, never the rows), at
    most :data:`UPLOAD_CACHE_ENTRIES` of them, least recently used evicted first."""
    try:
        return summarize_log(_path, name, {k: v for k, v in defaults if v is not None}, limits,
                             columns=mapping_from_key(columns), model_map=mapping_from_key(model_map),
                             skip_bad=skip_bad)
    finally:
        release_unused_memory()


SAMPLE_FILE_ID = "seal-sample-log"   # the upload id the synthetic sample log is loaded under


def sample_upload() -> "io.BytesIO":
    """The synthetic sample log (:func:`seal.sample_log.sample_log_csv`) as an upload-like file object (``name``,
    ``file_id``), so the Logs page reads and scores it like any upload."""
    import io

    from seal.sample_log import SAMPLE_LOG_NAME

    buf = io.BytesIO(_sample_bytes())
    buf.name, buf.file_id = SAMPLE_LOG_NAME, SAMPLE_FILE_ID
    return buf


@st.cache_data(show_spinner=False)
def _sample_bytes() -> bytes:
    from seal.sample_log import sample_log_csv

    return sample_log_csv()


def validation_usable(table: pd.DataFrame | None) -> bool:
    """Whether a validation table has figures (a re-run on a store without enough runs gives rows of NaN, which
    must not replace the shipped table)."""
    if table is None or not len(table):
        return False
    cols = [c for c in ("mape", "median_ape", "coverage_80") if c in table]
    return bool(cols) and bool(table[cols].apply(pd.to_numeric, errors="coerce").notna().any().any())


# ---------------------------------------------------------------- mapping a table's columns and unknown models
# The SEAL columns the Logs page offers to map, in the order shown: (column, label, what it means)
MAPPING_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("input_tokens", "Input tokens", "Prompt (prefill) tokens per request: a whole number."),
    ("output_tokens", "Output tokens", "Generated (decode) tokens per request: a whole number."),
    ("model", "Model", "The model's name as logged (e.g. gpt-4o, llama3.1:8b)."),
    ("timestamp", "Timestamp", "When the request was made (ISO 8601 or epoch seconds): the time series."),
    ("prompt", "Prompt text", "The prompt itself: its tokens are counted when no token column is mapped."),
    ("response", "Response text", "The generated text: its tokens are counted when output tokens are missing."),
    ("user", "User", "Who sent the request: the per-user view."),
    ("app", "App", "Which application sent it: the per-app view."),
    ("latency_s", "Latency (s)", "Seconds the request took: the estimate then follows GPU time."),
)
NO_COLUMN = "(none)"                 # the mapping step's choice for "not in this file"
SIZE_CHOICE = "(size in billions)"   # the model mapping's choice for "give the size instead of a catalogue model"
MAX_MAPPED_MODELS = 20               # unknown models offered in the model mapping (most rows first)


def ordered_columns(mapping: Mapping[str, str]) -> dict[str, str]:
    """``mapping`` ({SEAL column: file column}) in the order of :data:`MAPPING_FIELDS`, other columns after."""
    order = [c for c, _label, _help in MAPPING_FIELDS]
    return dict(sorted(mapping.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])))


def guess_column_mapping(file_columns: list[str]) -> dict[str, str]:
    """What the reader would take by itself from ``file_columns`` for each of :data:`MAPPING_FIELDS` (by the
    aliases of :data:`seal.logs.formats.TABLE_ALIASES`, matched loosely): the mapping step's starting choices."""
    from seal.logs.formats import TABLE_ALIASES, column_key

    by_key: dict[str, str] = {}
    for c in file_columns:
        by_key.setdefault(column_key(c), c)
    out: dict[str, str] = {}
    for col, _label, _help in MAPPING_FIELDS:
        hit = next((by_key[column_key(a)] for a in TABLE_ALIASES.get(col, ()) if column_key(a) in by_key), None)
        if hit is not None and hit not in out.values():
            out[col] = hit
    return out


def column_mapping_ready(mapping: Mapping[str, str]) -> bool:
    """Whether a mapping names what a table needs to be read: input or output tokens, or prompt text."""
    return any(mapping.get(c) for c in ("input_tokens", "output_tokens", "prompt"))


def unmapped_message(name: str, file_columns: list[str]) -> str:
    """The one sentence shown when an upload is a table whose token columns SEAL does not recognise."""
    shown = ", ".join(file_columns[:12]) + (f" and {len(file_columns) - 12} more" if len(file_columns) > 12 else "")
    return (f"{name} is a table without a column SEAL recognises as token counts or prompt text (its columns: "
            f"{shown}), so nothing was loaded from it: map its columns below.")


def cli_line(name: str, defaults: Mapping[str, Any] | None = None, columns: Mapping[str, str] | None = None,
             model_map_file: str | None = None) -> str:
    """The ``seal estimate`` command that scores the same file the same way: the page's assumptions as flags,
    ``--columns`` for a column mapping, ``--model-map FILE`` for a model map (shell-quoted)."""
    import shlex

    flags = {"model": "--model", "gpu": "--gpu", "region": "--region", "batch_size": "--batch-size",
             "engine": "--engine", "deployment": "--deployment"}
    parts = ["seal", "estimate", "--file", shlex.quote(name)]
    for key, flag in flags.items():
        value = (defaults or {}).get(key)
        if value is not None:
            parts += [flag, shlex.quote(str(value))]
    if columns:
        parts += ["--columns", shlex.quote(",".join(f"{k}={v}" for k, v in columns.items()))]
    if model_map_file:
        parts += ["--model-map", shlex.quote(model_map_file)]
    return " ".join(parts + ["--out", "scored.parquet"])


def model_map_csv(model_map: Mapping[str, Any]) -> bytes:
    """A model map as the CSV ``seal estimate --model-map FILE`` reads: ``log_model,model`` (catalogue models),
    ``log_model,params_b`` (sizes), or all three columns when the map has both kinds."""
    import csv
    import io

    rows = [(str(k), *((None, v.get("params_b")) if isinstance(v, Mapping) else (v, None)))
            for k, v in model_map.items()]
    fields = ["log_model"] + [f for f, i in (("model", 1), ("params_b", 2)) if any(r[i] is not None for r in rows)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    for r in rows:
        cells = {"log_model": r[0], "model": r[1], "params_b": None if r[2] is None else f"{float(r[2]):g}"}
        writer.writerow(["" if cells[f] is None else cells[f] for f in fields])
    return buf.getvalue().encode("utf-8")


def unknown_models_to_map(unknown: Mapping[str, int], limit: int = MAX_MAPPED_MODELS) -> list[tuple[str, int]]:
    """The unknown models the model mapping offers: ``(name as logged, rows)``, most rows first (then by name),
    at most ``limit``."""
    return sorted(unknown.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def release_unused_memory(collect: bool = True) -> None:
    """Hand memory freed after a large read back to the operating system: Arrow's allocator (mimalloc / jemalloc)
    and glibc's heap (one arena per script thread) keep freed blocks for reuse; ``collect`` first runs Python's
    cycle collector (a closed session's objects are often in cycles). Safe from any thread."""
    import ctypes
    import gc

    if collect:
        gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # noqa: BLE001 - an allocator without the call: nothing to release
        pass
    try:
        ctypes.CDLL(None).malloc_trim(0)    # glibc; other C libraries have no malloc_trim
    except (OSError, AttributeError):
        pass


def boundary(result: pd.DataFrame) -> pd.DataFrame:
    """The boundary waterfall of a result's total (``seal.carbon.boundary_layers``): ``layer``, ``g_co2e``,
    ``measure`` and ``energy_j`` rows."""
    try:
        from seal.carbon import boundary_layers

        layers = boundary_layers(result)
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"The boundary layers could not be computed ({exc.__class__.__name__}: {exc}).") from exc
    return layers[["layer", "g_co2e", "measure", "energy_j"]]


def equivalences(total_g_co2e: float, facility_energy_j: float | None = None) -> pd.DataFrame:
    """Everyday equivalents of a CO2e total (``seal.carbon.equivalences``): ``name``, ``value``, ``unit``,
    ``per_unit``, ``source``."""
    try:
        from seal.carbon.equivalents import equivalences as fn

        return pd.DataFrame(fn(total_g_co2e, facility_energy_j))
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"Equivalences could not be computed ({exc.__class__.__name__}: {exc}).") from exc


def scale_up(per_request: dict[str, float], requests_per_day: float) -> pd.DataFrame:
    """Per request, per day and per year (``seal.carbon.scale_up``)."""
    try:
        from seal.carbon import scale_up as fn

        return pd.DataFrame(fn(per_request, requests_per_day))
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"The scale-up view could not be computed ({exc.__class__.__name__}: {exc}).") from exc


def store_stamp() -> tuple[str, float]:
    """The store's path and modification time: a cache key that changes when the store is rebuilt."""
    path = db_path()
    return str(path), (path.stat().st_mtime if path.exists() else 0.0)


def shipped_validation() -> pd.DataFrame | None:
    """The validation table stored in the shipped artifact, when the estimator wrote one there."""
    try:
        from seal.estimator.artifact import read_artifact

        payload = read_artifact()
    except Exception:  # noqa: BLE001 - no artifact: the page offers to run the validation instead
        return None
    table = payload.get("validation")
    columns = None
    if isinstance(table, dict) and "rows" in table:
        table, columns = table["rows"], table.get("columns")
    if not table:
        return None
    frame = pd.DataFrame(table)
    # the artifact's JSON keys are sorted: restore the validation's own column order (split, source, target first)
    return frame[[c for c in columns if c in frame]] if columns else frame


@st.cache_data(show_spinner=False, max_entries=2)
def validation(stamp: tuple[str, float]) -> pd.DataFrame:
    """``seal.estimator.validate.validate`` on the store (cached per store file and modification time)."""
    try:
        from seal.estimator.validate import validate
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"The validation module is not available ({exc.__class__.__name__}: {exc}).") from exc
    return pd.DataFrame(validate(db_path=Path(stamp[0]), sensitivity=False))


@st.cache_data(show_spinner=False, max_entries=2)
def disclosures() -> pd.DataFrame:
    """SEAL beside operators' published per-prompt figures (:func:`seal.carbon.disclosures.disclosure_comparison`)."""
    from seal.carbon.disclosures import disclosure_comparison

    return disclosure_comparison()


@st.cache_data(show_spinner=False, max_entries=8)
def parity(stamp: tuple[str, float], split: str = "random-5fold") -> pd.DataFrame:
    """Held-out predictions against measurements (``seal.estimator.validate.parity_frame``)."""
    try:
        from seal.estimator.validate import parity_frame
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"The parity data are not available ({exc.__class__.__name__}: {exc}).") from exc
    return pd.DataFrame(parity_frame(db_path=Path(stamp[0]), split=split))


TRIM_INTERVAL_S = 10.0            # s between two hand-backs of freed memory (SEAL_UI_TRIM_S; 0 switches them off)


class MemoryTrimmer:
    """A daemon thread that calls :func:`release_unused_memory` every ``interval_s`` seconds.

    Streamlit frees a session's state and uploaded bytes when the closed session expires, on its own threads, with
    no hook for the app; the freed memory would stay resident (see `make bench`). The thread holds only a weak
    reference: it ends once this object is dropped (a cleared ``st.cache_resource``)."""

    def __init__(self, interval_s: float) -> None:
        import threading
        import weakref

        self.interval_s = interval_s
        self.runs = 0
        self.thread = threading.Thread(target=MemoryTrimmer._loop, args=(weakref.ref(self), interval_s),
                                       name="seal-memory-trim", daemon=True)
        self.thread.start()

    @staticmethod
    def _loop(ref, interval_s: float) -> None:
        import time

        while True:
            time.sleep(interval_s)
            trimmer = ref()
            if trimmer is None:
                return
            release_unused_memory()
            trimmer.runs += 1
            del trimmer


@st.cache_resource(show_spinner=False)
def memory_trimmer() -> MemoryTrimmer | None:
    """Once per server process (the Logs page starts it): a :class:`MemoryTrimmer` every ``SEAL_UI_TRIM_S``
    seconds (default :data:`TRIM_INTERVAL_S`; ``0`` or an invalid value: none)."""
    import os

    try:
        interval = float(os.environ.get("SEAL_UI_TRIM_S", TRIM_INTERVAL_S))
    except ValueError:
        return None
    return MemoryTrimmer(interval) if interval > 0 else None


@st.cache_resource(show_spinner=False)
def warm_up() -> "threading.Thread":
    """Once per server process, in the background: import the pipeline and score one tiny request, so the
    tokenizer, the fitted model and the catalogue are loaded before the first click on "Estimate"."""
    import os
    import threading

    def work() -> None:
        if os.environ.get("SEAL_UI_WARM_UP", "1") == "0":  # tests switch it off to keep timings clean
            return
        try:
            import seal

            seal.estimate(pd.DataFrame({"prompt": ["warm-up"]}), output_tokens=8, model=_warm_model())
        except Exception:  # noqa: BLE001 - a failed warm-up only means the first click is slower
            pass

    thread = threading.Thread(target=work, name="seal-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_model() -> str | None:
    try:
        from seal.data.catalogue import list_models

        keys = list_models()["model_key"].astype(str)
        hit = keys[keys.str.lower().str.contains("llama-3.1-8b-instruct")]
        return str(hit.iloc[0]) if len(hit) else str(keys.iloc[0])
    except Exception:  # noqa: BLE001
        return None


def check_choices(inputs: dict[str, Any]) -> None:
    """Raise a SealError when a loaded scenario names a model, GPU, region, engine or calibrated deployment this
    installation does not offer."""
    from seal.errors import SealError

    offered = {"model": lambda: set(models()["model"]), "gpu": lambda: set(gpus()["gpu"]),
               "region": lambda: set(regions()["region"]), "engine": lambda: set(ENGINES),
               "deployment": lambda: set(calibrations())}
    for key, options in offered.items():
        value = inputs.get(key)
        if value not in (None, "") and value not in options():
            if key == "deployment":
                raise SealError(f"The scenario's deployment {value!r} has no calibration in this store; import its "
                                "measurements and calibrate it on the Your fleet page, or choose another deployment.")
            raise SealError(f"The scenario's {key} {value!r} is not available here; pick one from the {key} list.")
