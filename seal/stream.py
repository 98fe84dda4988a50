"""Score a request log of any size: read in batches, estimate each batch, write results incrementally.

Memory stays bounded by the batch size (:data:`BATCH_ROWS`), whatever the file size:
DuckDB streams the input, :func:`seal.api.estimate` scores one batch at a time, and the writer appends
(CSV rows, JSON records, Parquet row groups through ``pyarrow.parquet.ParquetWriter``).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from contextlib import contextmanager, nullcontext
from typing import Any, BinaryIO, Iterator, Sequence, TextIO

import numpy as np
import pandas as pd

from seal.units import J_PER_KWH
from seal.errors import SealError
from seal.frames import neutralise_csv_table
from seal.logs.read import BATCH_ROWS
from seal.outfile import OUTPUT_FORMATS, SUFFIX_FORMATS

# zstd's fast level -1 rather than the default 1: the writer thread encodes a batch faster (most of its time goes to
# compressing ~30 high-entropy float columns), for a slightly larger file; with two cores the writer competes with
# scoring, so this is end-to-end time (see `make bench`). Same values, any Parquet reader.
PARQUET_ZSTD_LEVEL = -1
# Decimal places of floats in JSON output (pandas' maximum; its default, 10, wrote an ADPe of 5.6e-11 kg Sb eq per
# request as 0.0). Values below 1e-15 are written in exponent form. CSV and Parquet keep every digit.
JSON_DECIMALS = 15


def output_format(out: str | Path | None, fmt: str | None) -> str:
    """The output format: ``fmt`` if given (``json`` to a ``.jsonl`` path means JSON Lines), else from the suffix
    of ``out``, else ``json``."""
    suffix = Path(out).suffix.lower() if out else ""
    if fmt:
        fmt = fmt.lower()
        if fmt not in OUTPUT_FORMATS:
            raise SealError(f"Unknown output format {fmt!r}; accepted: {', '.join(OUTPUT_FORMATS)}.")
        return "jsonl" if fmt == "json" and suffix in (".jsonl", ".ndjson") else fmt
    if not out:
        return "json"
    if suffix not in SUFFIX_FORMATS:
        raise SealError(f"Cannot tell the output format from {out!r}; use a .csv, .json, .jsonl or .parquet path "
                        "or --format.")
    return SUFFIX_FORMATS[suffix]


class FrameWriter:
    """Appends frames to one output (file or stdout) in csv / json (one array) / jsonl / parquet.

    CSV and Parquet go through Arrow's C++ writers (pandas' ``to_csv`` is much slower on wide float frames); every
    batch is cast to the first batch's schema, so a column that is empty in the first batch cannot break the file.
    """

    def __init__(self, out: str | Path | None = None, fmt: str | None = None, *, background: bool = False) -> None:
        """``background=True``: Parquet row groups are encoded and written by a second thread (pyarrow releases
        the GIL), overlapping the next batch's estimate; at most two batches wait."""
        self.fmt = output_format(out, fmt)
        self.out = out
        self.rows = 0
        self._schema = None
        self._pq = None
        self._csv = None
        self._thread = None
        self._error: BaseException | None = None
        binary = self.fmt in ("parquet", "csv")
        if out is None:
            if self.fmt == "parquet" and sys.stdout.isatty():
                raise SealError("Parquet is binary: give --out PATH.parquet rather than writing it to the terminal.")
            self._fh: TextIO | BinaryIO = sys.stdout.buffer if binary else sys.stdout
            self._close = False
        else:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(out, "wb") if binary else open(out, "w", encoding="utf-8", newline="")
            self._close = True
        if self.fmt == "json":
            self._fh.write("[")
        if background and self.fmt == "parquet":
            import queue
            import threading

            self._queue: queue.Queue = queue.Queue(maxsize=2)
            self._thread = threading.Thread(target=self._drain, name="seal-parquet-writer", daemon=True)
            self._thread.start()

    @staticmethod
    def _with_index(frame: pd.DataFrame) -> pd.DataFrame:
        """Keep a named index (the log's ``line`` / ``row`` / ``record`` number) as the first column."""
        if frame.index.name and frame.index.name not in frame.columns:
            return frame.reset_index()
        return frame.reset_index(drop=True)

    def write(self, frame: pd.DataFrame) -> None:
        frame = self._with_index(frame)
        if self.fmt == "csv":
            # text cells that a spreadsheet would run as formulas get a leading apostrophe (OWASP)
            table = neutralise_csv_table(self._arrow(frame))
            if self._csv is None:
                import pyarrow.csv as pacsv

                self._csv = pacsv.CSVWriter(self._fh, self._schema)
            self._csv.write_table(table)
        elif self.fmt == "jsonl":
            if len(frame):
                text = frame.to_json(orient="records", lines=True, date_format="iso", date_unit="ms",
                                     double_precision=JSON_DECIMALS)
                self._fh.write(text if text.endswith("\n") else text + "\n")
        elif self.fmt == "json":
            if len(frame):
                text = frame.to_json(orient="records", date_format="iso", date_unit="ms",
                                     double_precision=JSON_DECIMALS)
                self._fh.write(("" if self.rows == 0 else ",\n") + text[1:-1])
        else:
            table = self._arrow(frame)
            if self._pq is None:
                import pyarrow.parquet as pq

                # dictionary-encode repetitive text columns only: trying it on the ~30 high-cardinality float
                # columns slowed the write and made a larger file (see `make bench`).
                # No min/max statistics for those columns: every row group holds a mix of models, GPUs and
                # regions, so they would prune nothing, and comparing their strings cost writer time
                repetitive = _repetitive_text(table)
                self._pq = pq.ParquetWriter(self._fh, self._schema, compression="zstd",
                                            compression_level=PARQUET_ZSTD_LEVEL, use_dictionary=repetitive,
                                            write_statistics=[c for c in self._schema.names if c not in repetitive])
            if self._thread is None:
                self._pq.write_table(table)
            else:
                self._raise_if_failed()
                self._queue.put(table)      # blocks while two tables wait: memory stays bounded
        self.rows += len(frame)

    def _arrow(self, frame: pd.DataFrame):
        """``frame`` as an Arrow table with the first batch's schema (all-null first columns become strings)."""
        import pyarrow as pa

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._schema is None:
            self._schema = pa.schema([pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                                      for f in table.schema])
        return _conform(table, self._schema)

    def _drain(self) -> None:
        while True:
            table = self._queue.get()
            if table is None:
                return
            if self._error is not None:
                continue                  # keep draining so the producer never blocks
            try:
                self._pq.write_table(table)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the producer thread
                self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
            self._raise_if_failed()
        if self.fmt == "json":
            self._fh.write("]\n")
        if self.fmt == "parquet" and self._pq is None:   # nothing written: still a valid (empty) file
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({}), self._fh)
        for writer in (self._pq, self._csv):
            if writer is not None:
                writer.close()
        if self._close:
            self._fh.close()
        else:
            self._fh.flush()


def _repetitive_text(table, max_distinct_share: float = 0.5) -> list[str]:
    """Text columns of ``table`` (the first batch) worth dictionary-encoding: at most ``max_distinct_share`` of
    their values distinct. A per-row id (``request_id``) overflows the dictionary and falls back to plain after
    hashing every value: writer time for nothing (see ``make bench``)."""
    import pyarrow.compute as pc

    limit = max(1, int(max_distinct_share * table.num_rows))
    return [f.name for f in table.schema if _is_text(f.type)
            and pc.count_distinct(table[f.name], mode="all").as_py() <= limit]


def _is_text(arrow_type) -> bool:
    """Whether an Arrow type holds text (string, large string or dictionary-encoded)."""
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_dictionary(arrow_type)


def _conform(table, schema):
    """``table`` with exactly ``schema``'s columns and types (missing columns as nulls)."""
    import pyarrow as pa

    cols = []
    for f in schema:
        if f.name in table.column_names:
            col = table[f.name]
            if col.type != f.type:
                try:
                    col = col.cast(f.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise SealError(f"Column {f.name!r} changed type between batches ({f.type} -> {col.type}); "
                                    "write CSV or JSON instead.") from None
            cols.append(col)
        else:
            cols.append(pa.nulls(len(table), f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def write_frame(frame: pd.DataFrame, out: str | Path | None = None, fmt: str | None = None,
                protect: Sequence[str | Path] = ()) -> None:
    """Write one frame to ``out`` (stdout when ``None``) as csv / json / jsonl / parquet (see :func:`output_format`),
    through a temporary file replaced atomically (:class:`seal.outfile.AtomicOutput`)."""
    from seal.outfile import AtomicOutput, check_output

    target = check_output(out, protect) if out is not None else None
    fmt = output_format(out, fmt)
    if target is None:
        writer = FrameWriter(None, fmt)
        try:
            writer.write(frame)
        finally:
            writer.close()
        return
    with AtomicOutput(target) as tmp:
        try:
            writer = FrameWriter(tmp.path, fmt)
            try:
                writer.write(frame)
            finally:
                writer.close()
        except OSError as exc:
            raise SealError(f"Could not write {out}: {exc.strerror or exc}; {tmp.kept_note()}.") from None
        tmp.commit()


def _drop_unscorable(frame: pd.DataFrame, defaults: dict[str, Any], report) -> pd.DataFrame:
    """With --skip-bad: drop (and count) rows the estimate would reject: no model, no input tokens."""
    from seal.logs.normalize import check_rows

    need_model = defaults.get("model") is None and defaults.get("params_b") is None
    need_tokens = defaults.get("input_tokens") is None
    if not (need_model or need_tokens):
        return frame
    reasons = check_rows(frame, require_model=need_model, require_tokens=need_tokens)
    bad = reasons.notna().to_numpy()
    if bad.any():
        report.add_bad(frame.index.name or "row", frame.index.to_numpy()[bad], reasons.to_numpy()[bad])
        report.rows -= int(bad.sum())
        frame = frame[~bad]
    return frame


def _total(frame: pd.DataFrame, *cols: str) -> tuple[float, str | None]:
    for col in cols:
        if col in frame:
            return float(np.nansum(pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float))), col
    return 0.0, None


MODEL_FIX_HINT = ("map it to a catalogue model or a size with --model-map FILE (CSV log_model,model or "
                  "log_model,params_b; in the app: the model mapping), or give a params_b column (--params-b sizes "
                  "every row that has none, the known models' too)")


def unknown_models_line(unknown: dict[str, int], limit: int = 5) -> str:
    """One sentence on the rows of unknown models that were not estimated, and how to fix them."""
    rows = sum(unknown.values())
    names = ", ".join(f"{name!r} ({n:,} row{'s' if n != 1 else ''})"
                      for name, n in sorted(unknown.items(), key=lambda kv: -kv[1])[:limit])
    more = f" and {len(unknown) - limit} more" if len(unknown) > limit else ""
    return (f"{rows:,} row{'s' if rows != 1 else ''} of {len(unknown)} unknown model{'s' if len(unknown) != 1 else ''} "
            f"not estimated: {names}{more}; {MODEL_FIX_HINT}")


class ScoredBatches:
    """Iterator of scored batches of one log: ``for result in ScoredBatches(path, defaults): ...``.

    Reads the log in batches (:func:`seal.logs.read.iter_request_batches`), drops and counts unscorable rows with
    ``skip_bad``, sets apart (and counts per name, :attr:`unknown_models`) the rows of models no catalogue knows,
    so one unknown model never stops a file, scores each batch with :func:`seal.api.estimate`, and keeps running
    totals. Memory is bounded by ``batch_rows``, whatever the file size. ``report`` (rows read, skipped, ignored,
    examples) is the reader's. ``columns`` maps a table's columns (``--columns``); ``model_map`` maps log model
    names to catalogue models or sizes (``--model-map``, :func:`seal.data.aliases.read_model_map`).
    """

    def __init__(self, path: str | Path | BinaryIO, defaults: dict[str, Any] | None = None, *,
                 skip_bad: bool = False, progress: bool = False, batch_rows: int | None = None,
                 columns: dict[str, str] | str | None = None, model_map: dict | None = None,
                 strict_empty: bool = True) -> None:
        from seal.logs.read import iter_request_batches

        self.strict_empty = strict_empty   # False: a file with no estimable row is a partial run, not an error

        self.path = path
        self.name = Path(getattr(path, "name", None) or str(path)).name
        self.defaults = {k: v for k, v in (defaults or {}).items() if v is not None}
        self.skip_bad = skip_bad
        self.model_map = model_map or None
        self._batches = iter_request_batches(path, batch_rows=batch_rows or BATCH_ROWS, skip_bad=skip_bad,
                                             progress=progress, columns=columns)
        self.report = self._batches.report
        self.rows = 0
        self.energy_j = 0.0
        self.co2e_g = 0.0
        self.energy_col: str | None = None
        self.unknown_models: dict[str, int] = {}     # model name as logged -> rows not estimated
        self.last_requests: pd.DataFrame | None = None   # the requests of the batch last yielded, as read

    @property
    def unestimated(self) -> int:
        """Rows read but not estimated because their model is unknown."""
        return sum(self.unknown_models.values())

    @property
    def partial(self) -> bool:
        """True when some rows were not estimated (unknown models)."""
        return bool(self.unknown_models)

    def _set_apart_unknown(self, frame: pd.DataFrame) -> pd.DataFrame:
        from seal.estimator.estimate import unknown_models
        from seal.logs.normalize import apply_model_map

        mapped = apply_model_map(frame, self.model_map) if self.model_map else frame
        unknown = unknown_models(mapped, model=self.defaults.get("model"), params_b=self.defaults.get("params_b"))
        if not unknown.any():
            return frame
        names = mapped["model"].where(mapped["model"].notna(), self.defaults.get("model")).astype(str)
        if "model_as_logged" in mapped:      # a map whose target is unknown: named as logged, with its target
            logged = mapped["model_as_logged"].astype(str)
            names = names.where(logged == names, logged + " (mapped to " + names + ")")
        names = names[unknown]
        for name, n in names.value_counts(sort=False).items():
            self.unknown_models[name] = self.unknown_models.get(name, 0) + int(n)
        return frame[~unknown]

    def __iter__(self) -> Iterator[pd.DataFrame]:
        import seal.api as api

        for frame in self._batches:
            if self.skip_bad:
                frame = _drop_unscorable(frame, self.defaults, self.report)
                if not len(frame):
                    continue
            frame = self._set_apart_unknown(frame)
            if not len(frame):
                continue
            self.last_requests = frame     # the batch as read (before the estimator fills defaults): What-if's input
            try:
                extra = {"model_map": self.model_map} if self.model_map else {}
                result = api.estimate(frame, **extra, **self.defaults)
            except SealError as exc:
                if str(exc).startswith(f"{frame.index.name or 'row'} "):   # names a row of the log
                    raise SealError(f"{self.name}: {exc}") from None
                raise
            e, self.energy_col = _total(result, "facility_energy_j", "gpu_energy_j")
            c, _ = _total(result, "total_g_co2e")
            self.energy_j += e
            self.co2e_g += c
            self.rows += len(result)
            yield result
        if self.unknown_models and not self.rows and self.strict_empty:
            raise SealError(f"{self.name}: no row could be estimated: {unknown_models_line(self.unknown_models)}.")

    def summary(self, seconds: float | None = None, out: str | Path | None = None) -> str:
        """One line: rows scored, skipped, ignored, not estimated (unknown models), total energy (kWh) and CO2e
        (kg), seconds, where it went."""
        report = self.report
        what = {"facility_energy_j": "facility energy", "gpu_energy_j": "GPU energy"}.get(self.energy_col or "",
                                                                                             "energy")
        took = f" in {seconds:.1f} s" if seconds is not None else ""
        text = (f"{self.rows:,} requests scored from {self.name} ({report.source_format}){took}: "
                f"{self.energy_j / J_PER_KWH:.4g} kWh {what}, {self.co2e_g / 1000:.4g} kg CO2e")
        if report.skipped:
            text += f"; {report.skipped:,} bad rows skipped (e.g. {report.examples[0]})"
        else:
            text += "; 0 rows skipped"
        if report.ignored:
            text += f"; {report.ignored:,} {report.ignored_what or 'non-request records'} ignored"
        if self.unknown_models:
            text += "; PARTIAL: " + unknown_models_line(self.unknown_models)
        read = self.rows + report.skipped + report.ignored + self.unestimated
        text += (f"; {read:,} records read = {self.rows:,} scored + {report.skipped:,} skipped + "
                 f"{report.ignored:,} ignored" + (f" + {self.unestimated:,} not estimated" if self.unknown_models
                                                  else ""))
        if out:
            text += f"; wrote {out}"
        return text


class RunSummary(str):
    """What :func:`estimate_file` returns: the summary text (a ``str``), plus ``partial`` (some rows of unknown
    models were not estimated) and ``unknown_models`` ({name as logged: rows}, over every file)."""

    partial: bool
    unknown_models: dict[str, int]

    def __new__(cls, text: str, unknown_models: dict[str, int] | None = None) -> "RunSummary":
        obj = super().__new__(cls, text)
        obj.unknown_models = dict(unknown_models or {})
        obj.partial = bool(obj.unknown_models)
        return obj


def estimate_file(path: str | Path | Sequence[str | Path], *, out: str | Path | None = None,
                  fmt: str | None = None, defaults: dict[str, Any] | None = None, skip_bad: bool = False,
                  progress: bool = True, batch_rows: int | None = None,
                  protect: Sequence[str | Path] = (), columns: dict[str, str] | str | None = None,
                  model_map: dict | None = None) -> RunSummary:
    """Estimate every request of the log(s) at ``path`` and write the results to ``out`` (stdout when ``None``).

    Args:
        path: a request log in any format of :mod:`seal.logs.formats` (detected automatically), read literally
            (no glob or URL syntax), or a list of them: their rows go to one output with a ``file`` column.
        out: output path; its suffix picks the format unless ``fmt`` is given. Written through a unique temporary
            file and replaced atomically (:class:`seal.outfile.AtomicOutput`); never one of the inputs.
        fmt: csv | json | jsonl | parquet.
        defaults: keyword arguments for :func:`seal.api.estimate` (``model``, ``gpu``, ``region``, ``pue`` ...).
        skip_bad: skip bad rows (counted and reported in the summary) instead of stopping at the first one.
        progress: show a progress bar on stderr.
        batch_rows: rows per batch (default :data:`BATCH_ROWS`).
        protect: other files ``out`` must not be (the store the run reads).
        columns: a table's column mapping ({SEAL column: file column}, or ``input_tokens=Col,...``).
        model_map: log model name -> catalogue model or size (:func:`seal.data.aliases.read_model_map`).

    Returns:
        A :class:`RunSummary`: per file, rows read = scored + skipped + ignored (+ not estimated), total energy
        (kWh) and CO2e (kg), seconds; ``partial`` when rows of unknown models were set apart (named, with the fix).

    Raises:
        seal.errors.SealError: unreadable file or bad row (naming its line) unless ``skip_bad``; an unsafe ``out``.
    """
    from seal.outfile import AtomicOutput, check_output

    paths = [path] if isinstance(path, (str, Path)) else list(path)
    if not paths:
        raise SealError("Give at least one log file.")
    t0 = time.perf_counter()
    target = check_output(out, [*paths, *protect]) if out else None
    fmt = output_format(out, fmt)
    options = {"skip_bad": skip_bad, "progress": progress, "batch_rows": batch_rows, "columns": columns,
               "model_map": model_map}
    with (AtomicOutput(target) if target else nullcontext()) as tmp:
        writer = FrameWriter(tmp.path if tmp else None, fmt, background=True)
        with _closing(writer, tmp, out):
            summaries, unknown = _score_files(writer, paths, defaults, options)
        if tmp is not None:
            tmp.commit()
    wrote = f"; wrote {out}" if out else ""
    if len(paths) == 1:
        return RunSummary(summaries[0] + wrote, unknown)
    total = f"{writer.rows:,} requests scored from {len(paths)} files in {time.perf_counter() - t0:.1f} s"
    return RunSummary("\n".join([total + wrote + ":", *("  " + line for line in summaries)]), unknown)


def _score_files(writer: FrameWriter, paths: list[str | Path], defaults: dict[str, Any] | None,
                 options: dict[str, Any]) -> tuple[list[str], dict[str, int]]:
    """Score each log into ``writer`` (with a ``file`` column when there are several): (a summary line per file,
    rows not estimated per unknown model over all files)."""
    several = len(paths) > 1
    summaries: list[str] = []
    unknown: dict[str, int] = {}
    scored_rows = 0
    for one in paths:
        t1 = time.perf_counter()
        scored = ScoredBatches(one, defaults, strict_empty=not several, **options)
        for result in scored:
            if several:
                result = result.assign(file=str(one))
            writer.write(result)
        summaries.append(scored.summary(time.perf_counter() - t1))
        scored_rows += scored.rows
        for name, n in scored.unknown_models.items():
            unknown[name] = unknown.get(name, 0) + n
    if several and unknown and not scored_rows:
        raise SealError(f"No row of the {len(paths)} files could be estimated: "
                        f"{unknown_models_line(unknown)}")
    return summaries, unknown


@contextmanager
def _closing(writer: FrameWriter, tmp: Any, out: str | Path | None) -> Iterator[None]:
    """Close ``writer`` after the block; errors of the block or of a successful block's close become SealErrors
    naming the output and the kept temporary file ``tmp`` (None when writing to stdout)."""
    finished = False
    try:
        yield
        finished = True
    except SealError as exc:
        if tmp is not None:
            raise SealError(f"{str(exc).rstrip('.')}; {tmp.kept_note()}.") from None
        raise
    except OSError as exc:
        where = f"; {tmp.kept_note()}" if tmp is not None else ""
        raise SealError(f"Could not write {out or 'the output'}: {exc.strerror or exc}{where}.") from None
    finally:
        try:
            writer.close()
        except OSError as exc:
            if finished:
                raise SealError(f"Could not write {out or 'the output'}: {exc.strerror or exc}"
                                + (f"; {tmp.kept_note()}." if tmp is not None else ".")) from None
