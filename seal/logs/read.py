"""Read request logs of any supported format into normalised request frames, in bounded memory.

DuckDB streams the file (``read_csv`` of raw lines for JSONL, ``read_json_objects`` for JSON documents,
``read_csv`` / ``read_parquet`` for tables) as Arrow batches; each batch gets its line numbers and is mapped onto the
normalised columns by the format's SQL (:mod:`seal.logs.formats`), still in DuckDB. Python only splits off bad
rows: by default the first one raises a :class:`~seal.errors.SealError` naming its line; with ``skip_bad=True`` they
are skipped, counted in the :class:`ReadReport` and a few are quoted.
"""
from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from seal.errors import SealError
from seal.logs.detect import detect
from seal.logs.formats import (LANGFUSE_ROLLUP_SQL, NUMBER_COLUMNS, OTLP_RESOURCE_SCHEMA,
                               OTLP_SPAN_SCHEMA, STREAM_GROUP_SQL, STRING_COLUMNS, Detected, Format)
from seal.logs.normalize import NORMALIZED_COLUMNS, check_rows, empty_column

# Rows per batch, for reading and scoring alike. 131 072 rather than 262 144: the same speed, and the peak memory of
# a 10 M-row log about half (each scored batch has ~54 columns, and up to three wait for the Parquet writer;
# figures in `make bench`).
BATCH_ROWS = 131_072
MAX_LINE_BYTES = 256 << 20        # longest JSONL line / JSON object accepted
# DuckDB's CSV reader buffers 16 x max_line_size by default (4 GiB here), i.e. the whole file of any log below that:
# 10 M JSONL lines peaked at 2.0 GiB RSS. Just above the longest line keeps such lines readable (10 M: 1.2 GiB).
CSV_BUFFER_BYTES = MAX_LINE_BYTES + (1 << 20)
EXAMPLES_KEPT = 5                 # bad rows quoted in the report

SKIP_HINT = " Fix the file, or pass --skip-bad (skip_bad=True) to skip bad rows; they are counted and reported."

_MACROS = """
CREATE OR REPLACE MACRO seal_epoch_ts(v) AS CASE WHEN isfinite(v) AND abs(v) < 1e19 THEN
    try(make_timestamp(TRY_CAST(CASE WHEN abs(v) >= 1e17 THEN v / 1000 WHEN abs(v) >= 1e14 THEN v
    WHEN abs(v) >= 1e11 THEN v * 1000 ELSE v * 1e6 END AS BIGINT))::TIMESTAMPTZ) END;
CREATE OR REPLACE MACRO seal_ts(x) AS CASE WHEN x IS NULL OR trim(x::VARCHAR) = '' THEN NULL
    WHEN TRY_CAST(x::VARCHAR AS DOUBLE) IS NOT NULL THEN seal_epoch_ts(TRY_CAST(x::VARCHAR AS DOUBLE))
    ELSE TRY_CAST(x::VARCHAR AS TIMESTAMPTZ) END;
CREATE OR REPLACE MACRO seal_ns_ts(x) AS try(make_timestamp(TRY_CAST(TRY_CAST(x AS HUGEINT) // 1000 AS BIGINT))
    ::TIMESTAMPTZ);
CREATE OR REPLACE MACRO seal_seconds(a, b) AS epoch(seal_ts(b)) - epoch(seal_ts(a));
CREATE OR REPLACE MACRO seal_attr(l, k) AS list_filter(l, lambda x: x.key = k)[1].v;
"""


@dataclass
class ReadReport:
    """What a read found: format, rows kept, rows skipped as bad (with examples), records ignored as non-requests."""

    path: str
    container: str = ""
    source_format: str = ""
    rows: int = 0
    skipped: int = 0
    ignored: int = 0
    ignored_what: str = ""
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the CLI / UI."""
        text = f"{self.rows:,} requests read from {Path(self.path).name} ({self.source_format}, {self.container})"
        if self.skipped:
            text += f"; {self.skipped:,} bad rows skipped (e.g. {self.examples[0]})"
        if self.ignored:
            text += f"; {self.ignored:,} {self.ignored_what or 'non-request records'} ignored"
        return text

    def add_bad(self, label: str, lines: np.ndarray, reasons: np.ndarray) -> None:
        self.skipped += len(lines)
        for line, why in zip(lines[: EXAMPLES_KEPT - len(self.examples)], reasons):
            self.examples.append(f"{label} {line}: {why}")


def _connect():
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for stmt in _MACROS.split(";"):
        if stmt.strip():
            con.execute(stmt)
    return con


def _explain(exc: Exception, path: Path) -> SealError:
    """A DuckDB error as one clear sentence."""
    text = str(exc)
    m = re.search(r"CSV Error on Line: (\d+)", text)
    if m and ("unicode" in text.lower() or "utf-8" in text.lower()):
        return SealError(f"{path}: line {m.group(1)} is not valid UTF-8 text; SEAL reads UTF-8 logs "
                         "(re-save the file as UTF-8)." + SKIP_HINT)
    if m:
        detail = next((ln for ln in text.splitlines()[2:] if ln.strip() and not ln.startswith("Original")), "")
        return SealError(f"{path}: line {m.group(1)} cannot be read as CSV ({detail.strip()})." + SKIP_HINT)
    m = re.search(r"Malformed JSON.*?at byte \d+ in (?:line|record/value) (\d+): (.*)", text)
    if m:
        return SealError(f"{path} is not valid JSON near line {m.group(1)}: {m.group(2).strip().rstrip('.')}.")
    if "Duplicate key" in text:
        return SealError(f"{path} has a record with the same key twice (or twice in different case); each field "
                         "may appear once per record.")
    if "not a GZIP stream" in text or "frame descriptor" in text.lower():
        return SealError(f"{path} could not be read as text (compressed?); decompress it first.")
    if "utf-8" in text.lower() or "unicode" in text.lower():
        return SealError(f"{path} contains bytes that are not valid UTF-8 text; SEAL reads UTF-8 logs.")
    first = text.splitlines()[0] if text else type(exc).__name__
    return SealError(f"Could not read {path}: {first}")


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _parquet_rows(path: Path) -> int:
    """Rows of a Parquet file, from its footer (the progress bar's total)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _json_document_sql(container: str, p: str) -> str:
    """The query giving one ``line`` per record of the JSON document ``p`` (a quoted path): the array's or
    the document's objects, a ``{"data": [...]}`` list's items, or a Langfuse trace's observations."""
    fmt = "array" if container == "json-array" else "unstructured"
    rd = f"read_json_objects({p}, format='{fmt}', compression='none', maximum_object_size={MAX_LINE_BYTES})"
    if container == "json-data":
        return f"SELECT unnest(json_extract(json, '$.data[*]'))::VARCHAR AS line FROM {rd}"
    if container == "json-observations":
        # a trace's observations (never the copy inside "trace" of a UI download), each given the trace's
        # user and session where it has none
        trace = ("json_object('userId', coalesce(json->>'$.trace.userId', json->>'$.userId'), "
                 "'sessionId', coalesce(json->>'$.trace.sessionId', json->>'$.sessionId'))")
        return (f"SELECT json_merge_patch({trace}, obs)::VARCHAR AS line FROM (SELECT json, "
                f"unnest(json_extract(json, '$.observations[*]')) AS obs FROM {rd})")
    return f"SELECT json::VARCHAR AS line FROM {rd}"


class _Plan:
    """The source query (streamed) and the per-batch mapping SQL for one detected file."""

    def __init__(self, path: Path, det: Detected, skip_bad: bool) -> None:
        self.path, self.det, self.fmt = path, det, det.fmt
        c = det.container
        self.label = {"jsonl": "line", "sse": "line", "csv": "line", "parquet": "row"}.get(c, "record")
        self.first_line = 2 if c == "csv" else 1
        self.total_rows: int | None = _parquet_rows(path) if c == "parquet" else None
        self.read_columns: list[str] = ["line"]
        self.source = self._source_sql(skip_bad)
        # a streamed log: every batch's parsed chunks go to the table seal_stream, grouped into completions at the end
        self.grouped = self.fmt.name == "openai-stream"
        self.rollup = self.fmt.name == "langfuse"
        self.chunks = self._chunks_sql() if self.grouped else ""
        self.mapping = self._mapping_sql()
        # a Parquet file is mapped while DuckDB reads it: one query, no per-batch round trip through Arrow and a
        # second connection (see `make bench`); its row numbers come from the reader
        self.one_pass = None
        if c == "parquet" and "file_row_number" not in det.columns:
            self.one_pass = (f"WITH batch AS (SELECT {self._projection(det.columns)}, file_row_number + "
                             f"{self.first_line} AS _line FROM read_parquet({_q(path)}, file_row_number=true)) "
                             + self.mapping)

    def _source_sql(self, skip_bad: bool) -> str:
        """The streamed query reading the file: one ``line`` per JSON record / JSONL line, or the table's columns."""
        c, p, det = self.det.container, _q(self.path), self.det
        rejects = ", ignore_errors=true, store_rejects=true" if skip_bad else ""
        if c in ("jsonl", "sse"):
            return (f"SELECT line FROM read_csv({p}, columns={{'line': 'VARCHAR'}}, delim=chr(1), quote='', "
                    f"escape='', header=false, auto_detect=false, compression='none', max_line_size={MAX_LINE_BYTES}, "
                    f"buffer_size={CSV_BUFFER_BYTES}{rejects})")
        if c in ("json-array", "json-object", "json-data", "json-observations"):
            return _json_document_sql(c, p)
        if c == "csv":
            # the header parsed in detect() gives the columns: no sniffing, so a ragged row is an error with its line
            delim = (det.delimiter or ",").replace("'", "''")
            spec = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for n in det.columns) + "}"
            rd = (f"read_csv({p}, header=false, skip=1, auto_detect=false, columns={spec}, delim='{delim}', "
                  f"quote='\"', escape='\"', compression='none', max_line_size={MAX_LINE_BYTES}, "
                  f"buffer_size={CSV_BUFFER_BYTES}{rejects})")
            return f"SELECT {self._projection(det.columns)} FROM {rd}"
        if c == "parquet":
            return f"SELECT {self._projection(det.columns)} FROM read_parquet({p})"
        raise SealError(f"Unsupported container {c!r}.")  # pragma: no cover - detect() returns only the above

    def _projection(self, cols: list[str]) -> str:
        wanted = set(self.fmt.schema or {}) if self.fmt.schema else None
        names = [c for c in cols if wanted is None or c in wanted]
        if not names:
            names = cols
        self.read_columns = names
        return ", ".join('"' + c.replace('"', '""') + '"' for c in names)

    def _chunks_sql(self) -> str:
        """SQL over the batch: one parsed chunk per non-blank line (``_line, _state, r``), for ``seal_stream``.
        Server-sent events keep the JSON of their ``data:`` lines; other fields, ``[DONE]`` and blanks are skipped."""
        line = "line"
        if self.det.container == "sse":
            line = ("CASE WHEN starts_with(ltrim(line), 'data:') AND trim(substr(ltrim(line), 6)) <> '[DONE]' "
                    "THEN ltrim(substr(ltrim(line), 6)) END")
        return ("SELECT _line, CASE WHEN r IS NULL OR left(ltrim(line), 1) <> '{' THEN CASE WHEN line IS NULL OR "
                "trim(line) = '' THEN 'blank' WHEN NOT json_valid(line) THEN 'invalid' ELSE 'not-object' END END "
                f"AS _state, r FROM (SELECT _line, line, try(json_transform(line, '{self.fmt.json_schema()}')) AS r "
                f"FROM (SELECT _line, {line} AS line FROM batch)) WHERE line IS NOT NULL AND trim(line) <> ''")

    def _records_sql(self) -> tuple[str, str]:
        """SQL over the batch (``_line``, ``line``/columns) yielding ``_line, _state, r``; and the record prefix."""
        if self.det.container in ("csv", "parquet"):
            return "SELECT *, NULL::VARCHAR AS _state FROM batch", ""
        state = ("CASE WHEN line IS NULL OR trim(line) = '' THEN 'blank' "
                 "WHEN NOT json_valid(line) THEN 'invalid' WHEN json_type(line) <> 'OBJECT' THEN 'not-object' END")
        if self.fmt.name == "otlp":
            attrs = ("list_transform(json_transform({x}, '{s}'), lambda a: {{'key': a.key, 'v': coalesce("
                     "a.value.stringValue, a.value.intValue, a.value.doubleValue, a.value.boolValue)}})")
            import json as _json

            span_schema = {k: v for k, v in OTLP_SPAN_SCHEMA.items() if k != "attributes"}
            attr_schema = _json.dumps(OTLP_RESOURCE_SCHEMA)
            return (
                "WITH d AS (SELECT _line, " + state + " AS _state, line FROM batch), "
                "rs AS (SELECT _line, _state, unnest(CASE WHEN _state IS NULL AND json_exists(line, '$.resourceSpans') "
                "THEN json_extract(line, '$.resourceSpans[*]') WHEN _state IS NULL AND NOT json_exists(line, '$.resourceSpans') "
                "THEN [NULL::JSON] ELSE [NULL::JSON] END) AS rs FROM d WHERE _state IS DISTINCT FROM 'blank'), "
                "sp AS (SELECT _line, _state, json_extract(rs, '$.resource.attributes') AS rattrs, "
                "unnest(CASE WHEN rs IS NULL THEN [NULL::JSON] ELSE json_extract(rs, '$.scopeSpans[*].spans[*]') END) AS span "
                "FROM rs) "
                "SELECT _line, _state, CASE WHEN span IS NULL THEN NULL ELSE struct_pack("
                f"span := struct_insert(json_transform(span, '{_json.dumps(span_schema)}'), "
                f"attributes := {attrs.format(x=chr(40) + 'span->' + chr(39) + 'attributes' + chr(39) + chr(41), s=attr_schema)}), "
                f"resource := {attrs.format(x='rattrs', s=attr_schema)}) END AS r FROM sp",
                "r.",
            )
        if self.grouped:
            return STREAM_GROUP_SQL, "r."
        # one parse per line; lines that do not parse are classified afterwards (rare)
        return (
            # json_transform turns an array line ('[1,2]') into a struct of NULLs, not NULL: a line that does not
            # start with '{' is classified too (a string test, no second parse)
            "SELECT _line, CASE WHEN r IS NULL OR left(ltrim(line), 1) <> '{' THEN CASE WHEN line IS NULL OR "
            "trim(line) = '' THEN 'blank' WHEN NOT json_valid(line) THEN 'invalid' ELSE 'not-object' END END AS "
            "_state, r FROM "
            f"(SELECT _line, line, try(json_transform(line, '{self.fmt.json_schema()}')) AS r FROM batch)",
            "r.",
        )

    def _mapping_sql(self) -> str:
        fmt: Format = self.fmt
        records, prefix = self._records_sql()

        def sub(expr: str) -> str:
            return expr.replace("{r}", prefix)

        raw = [f"({sub(e)}) AS \"raw_{c}\"" for c, e in fmt.fields.items()]
        inner = (f"SELECT _line, _state, ({sub(fmt.shape)}) AS _shape, ({sub(fmt.keep)}) AS _keep, "
                 f"({sub(fmt.bad) if fmt.bad else 'NULL'})::VARCHAR AS _fbad, " + ", ".join(raw) +
                 f" FROM ({records}) WHERE _state IS DISTINCT FROM 'blank'")
        # columns the format does not have are left out here and added as empty columns in _split: DuckDB
        # materialising a dozen all-NULL columns per batch was a large share of a table log's mapping (see `make bench`)
        cols, reasons = [], []
        for c in STRING_COLUMNS:
            if c in fmt.fields:
                cols.append(f"CAST(\"raw_{c}\" AS VARCHAR) AS \"{c}\"")
        for c in NUMBER_COLUMNS:
            if c in fmt.fields:
                cols.append(f"TRY_CAST(\"raw_{c}\" AS DOUBLE) AS \"{c}\"")
                reasons.append(f"WHEN \"raw_{c}\" IS NOT NULL AND trim(\"raw_{c}\"::VARCHAR) <> '' AND "
                               f"TRY_CAST(\"raw_{c}\" AS DOUBLE) IS NULL THEN '{c} is not a number (' || "
                               f"left(\"raw_{c}\"::VARCHAR, 40) || ')'")
                # 'nan', 'NaN', 'inf' cast to DOUBLE: a written-out non-number is a bad value, never "missing"
                reasons.append(f"WHEN NOT isfinite(TRY_CAST(\"raw_{c}\" AS DOUBLE)) THEN '{c} is not a finite "
                               f"number (' || left(\"raw_{c}\"::VARCHAR, 40) || ')'")
        if "timestamp" in fmt.fields:
            cols.append("seal_ts(\"raw_timestamp\") AS \"timestamp\"")
            reasons.append("WHEN \"raw_timestamp\" IS NOT NULL AND trim(\"raw_timestamp\"::VARCHAR) <> '' AND "
                           "seal_ts(\"raw_timestamp\") IS NULL THEN 'timestamp is not a date-time (' || "
                           "left(\"raw_timestamp\"::VARCHAR, 40) || ')'")
        src_fmt = "\"raw_source_format\"" if "source_format" in fmt.fields else "NULL"
        cols.append(f"coalesce(CAST({src_fmt} AS VARCHAR), '{fmt.name}') AS source_format")
        tok = [f"\"raw_{c}\"" for c in ("input_tokens", "output_tokens") if c in fmt.fields]
        given = " OR ".join(f"{t} IS NOT NULL" for t in tok)
        if "token_source" in fmt.fields:
            cols.append("coalesce(CAST(\"raw_token_source\" AS VARCHAR), "
                        + (f"CASE WHEN {given} THEN 'log' END)" if tok else "NULL)")
                        + " AS token_source")
        elif tok:
            cols.append(f"CASE WHEN {given} THEN '{fmt.token_source}' END AS token_source")
        else:
            cols.append("NULL::VARCHAR AS token_source")
        bad = ("CASE WHEN _state = 'invalid' THEN 'is not valid JSON (a truncated or malformed line)' "
               "WHEN _state = 'not-object' THEN 'is not a JSON object' "
               f"WHEN NOT coalesce(_shape, FALSE) THEN 'is not {fmt.label} like the first records (mixed formats)' "
               "WHEN _fbad IS NOT NULL THEN _fbad " + " ".join(reasons) + " END")
        keep = "CASE WHEN _state IS NOT NULL OR NOT coalesce(_shape, FALSE) THEN TRUE ELSE coalesce(_keep, FALSE) END"
        return f"SELECT _line, {keep} AS _keep, {bad} AS _bad, " + ", ".join(cols) + f" FROM ({inner})"


class RequestBatches:
    """Iterable of normalised request frames (one per batch) read from a log; ``report`` fills as it goes."""

    def __init__(self, path: str | Path, *, batch_rows: int = BATCH_ROWS, skip_bad: bool = False,
                 progress: bool = False, columns: dict[str, str] | str | None = None) -> None:
        from seal.logs.formats import parse_column_mapping

        self.path = Path(path)
        self.batch_rows = int(batch_rows)
        self.skip_bad = skip_bad
        self.progress = progress
        self.detected = detect(self.path, strict=not skip_bad, mapping=parse_column_mapping(columns))
        self._scan_path, self._alias_dir = literal_scan_path(self.path)
        self._quote: tuple[int, int] | None = None    # (line, byte) of an unterminated quote (skip_bad CSV)
        self._max_line = 0                            # highest line number read
        self._formats: list[str] = []                 # source_format values of the rows read, in order
        self.report = ReadReport(path=str(self.path), container=self.detected.container,
                                 source_format=self.detected.fmt.name, ignored_what=self.detected.fmt.ignored_what)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        import duckdb

        t0 = time.perf_counter()
        plan = _Plan(self._scan_path, self.detected, self.skip_bad)
        src_con = _connect()
        map_con = _connect() if plan.one_pass is None else None   # a one-pass read maps in the source query
        bar = self._progress_bar(plan)
        try:
            rejected = np.zeros(0, dtype=np.int64)
            if self.skip_bad and self.detected.container in ("jsonl", "sse", "csv"):
                rejected = self._rejected_lines(src_con, plan)
            if plan.rollup:
                self._langfuse_rollups(src_con, map_con, plan)
            if plan.one_pass is not None:
                yield from self._mapped_frames(src_con, plan.one_pass, plan, bar)
            else:
                yield from self._batches(src_con, map_con, plan, bar, rejected)
        except duckdb.Error as exc:
            raise _explain(exc, self.path) from None
        finally:
            if bar is not None:
                bar.close()
            src_con.close()
            if map_con is not None:
                map_con.close()
            self.report.seconds = time.perf_counter() - t0
        if self._quote is not None:
            self._count_swallowed(plan)
        if self.report.rows == 0:
            what = f" ({self.report.skipped:,} bad rows skipped)" if self.report.skipped else ""
            what += f" ({self.report.ignored:,} {self.report.ignored_what} ignored)" if self.report.ignored else ""
            raise SealError(f"{self.path} holds no model requests{what}.")

    def _progress_bar(self, plan: _Plan):
        """A tqdm bar on stderr counting the rows read (``None`` unless ``progress``)."""
        if not self.progress:
            return None
        from tqdm import tqdm

        return tqdm(total=plan.total_rows, unit=" rows", file=sys.stderr, desc=f"reading {self.path.name}",
                    mininterval=0.5, leave=False, dynamic_ncols=True)

    def _batches(self, src_con, map_con, plan: _Plan, bar, rejected: np.ndarray) -> Iterator[pd.DataFrame]:
        """Frames of ``plan.source`` read in batches, numbered by file line (past the ``rejected`` lines) and mapped
        on ``map_con``; a stream's completions come at the end, once all its chunks are read."""
        import pyarrow as pa

        offset = plan.first_line
        for arrow_batch in src_con.sql(plan.source).to_arrow_reader(self.batch_rows):
            n = arrow_batch.num_rows
            if n == 0:
                continue
            lines = np.arange(offset, offset + n, dtype=np.int64)
            if len(rejected):
                lines = _skip_lines(lines, rejected)
            batch = pa.Table.from_batches([arrow_batch]).append_column("_line", pa.array(lines))
            frame = self._map_batch(map_con, plan, batch, first=offset == plan.first_line)
            offset += n
            if bar is not None:
                bar.update(n)
            if frame is not None and len(frame):
                yield frame
        if plan.grouped and offset > plan.first_line:
            yield from self._mapped_frames(map_con, f"SELECT * FROM ({plan.mapping}) ORDER BY _line", plan)

    def _map_batch(self, map_con, plan: _Plan, batch, *, first: bool) -> pd.DataFrame | None:
        """The Arrow ``batch`` mapped to a frame; ``None`` for a streamed log, whose parsed chunks wait in the table
        ``seal_stream`` (created by the ``first`` batch) until the whole file is read."""
        map_con.register("batch", batch)
        if plan.grouped:
            map_con.execute(("CREATE TEMP TABLE seal_stream AS " if first else "INSERT INTO seal_stream ")
                            + plan.chunks)
            map_con.unregister("batch")
            return None
        mapped = map_con.sql(plan.mapping).to_arrow_table()
        map_con.unregister("batch")
        return self._split(mapped, plan)

    def _langfuse_rollups(self, src_con, map_con, plan: _Plan) -> None:
        """Table ``seal_rollup`` (in ``map_con``) of the GENERATIONs that roll up their descendants' usage
        (:data:`seal.logs.formats.LANGFUSE_ROLLUP_SQL`), ignored so a trace's usage is counted once. One extra scan
        of the file."""
        def tokens(*paths: str) -> str:
            return "TRY_CAST(coalesce(" + ", ".join(f"json_extract_string(line, '$.{p}')" for p in paths) + \
                ") AS DOUBLE)"

        total = (f"coalesce({tokens('usageDetails.input', 'usage.input', 'promptTokens', 'inputUsage')}, 0) + "
                 f"coalesce({tokens('usageDetails.output', 'usage.output', 'completionTokens', 'outputUsage')}, 0)")
        src_con.execute(f"CREATE OR REPLACE TEMP TABLE seal_obs AS SELECT json_extract_string(line, '$.id') AS id, "
                        f"json_extract_string(line, '$.parentObservationId') AS parent, "
                        f"coalesce(json_extract_string(line, '$.type') = 'GENERATION', FALSE) AS is_gen, "
                        f"{total} AS tokens FROM ({plan.source}) WHERE json_valid(line)")
        ids = [r[0] for r in src_con.execute(LANGFUSE_ROLLUP_SQL).fetchall() if r[0] is not None]
        src_con.execute("DROP TABLE seal_obs")
        map_con.execute("CREATE OR REPLACE TEMP TABLE seal_rollup (id VARCHAR)")
        if ids:
            map_con.executemany("INSERT INTO seal_rollup VALUES (?)", [[i] for i in ids])

    def _mapped_frames(self, con, sql: str, plan: _Plan, bar=None) -> Iterator[pd.DataFrame]:
        """Frames of the mapped rows ``sql`` streams (source and mapping in one query, or a stream's grouped
        completions)."""
        import pyarrow as pa

        for mapped_batch in con.sql(sql).to_arrow_reader(self.batch_rows):
            if mapped_batch.num_rows == 0:
                continue
            frame = self._split(pa.Table.from_batches([mapped_batch]), plan)
            if bar is not None:
                bar.update(mapped_batch.num_rows)
            if len(frame):
                yield frame

    def _rejected_lines(self, con, plan: _Plan) -> np.ndarray:
        """With skip_bad: a first pass lets DuckDB reject unreadable lines (bad UTF-8, ragged CSV rows); they are
        counted and quoted, and the line numbers of the rows that follow stay exact."""
        # every column is read: DuckDB checks a value's UTF-8 only when it materialises it (count(*) alone
        # skipped a row whose bad bytes sat in its second column, uncounted)
        cols = plan.read_columns if plan.det.container == "csv" else ["line"]
        touched = ", ".join(f'min(length("{c.replace(chr(34), chr(34) * 2)}"))' for c in cols) or "count(*)"
        con.execute(f"SELECT count(*), {touched} FROM ({plan.source})").fetchall()
        try:
            rows = con.execute("SELECT line, min(error_message), min(byte_position) FROM reject_errors GROUP BY line "
                               "ORDER BY line").fetchall()
            con.execute("DROP TABLE IF EXISTS reject_errors")
            con.execute("DROP TABLE IF EXISTS reject_scans")
        except Exception:  # noqa: BLE001 - no rejects table when nothing was rejected
            return np.zeros(0, dtype=np.int64)
        if not rows:
            return np.zeros(0, dtype=np.int64)
        lines = np.array([int(r[0]) for r in rows], dtype=np.int64)
        why = np.array(["is not valid UTF-8 text" if "unicode" in str(r[1]).lower()
                        else f"cannot be read as CSV ({str(r[1])[:80]})" for r in rows], dtype=object)
        # the last unterminated quote: (line, byte where its record starts), if nothing was rejected after it
        last = rows[-1]
        self._quote = (int(last[0]), int(last[2] or 0)) if "quote" in str(last[1]).lower() else None
        self.report.add_bad(plan.label, lines, why)
        return lines

    def _count_swallowed(self, plan: _Plan) -> None:
        """The non-blank lines after an unterminated quote that the reader swallowed (to the end of the file) are
        counted as bad rows too, so rows read = scored + skipped + ignored still holds. Counted only when no row
        after the quote was read (then the quote ran to the end); multi-line quoted cells before it do not matter,
        since lines are counted from the quote's byte position."""
        line, byte = self._quote
        if self._max_line > line:
            return                              # a later quote closed it: what it swallowed cannot be told apart
        swallowed = _count_lines(self.path, start=byte, non_blank=True) - 1
        if swallowed > 0:
            self.report.skipped += swallowed
            if len(self.report.examples) < EXAMPLES_KEPT:
                self.report.examples.append(f"{swallowed:,} lines after {plan.label} {line}: swallowed by the "
                                            "unterminated quote opened there")

    def _split(self, mapped, plan: _Plan) -> pd.DataFrame:
        df = mapped.to_pandas()
        keep = df.pop("_keep").to_numpy(dtype=bool)
        if not keep.all():
            self.report.ignored += int((~keep).sum())
            df = df[keep]
        lines = df.pop("_line").to_numpy()
        if len(lines):
            self._max_line = max(self._max_line, int(lines.max()))
        df.index = pd.Index(lines, name=plan.label)
        reasons = df.pop("_bad")
        value_reasons = check_rows(df)
        # the format's reasons first (for typed Parquet input they are all missing: skip the merge)
        reasons = value_reasons if not reasons.notna().any() else reasons.where(reasons.notna(), value_reasons)
        bad = reasons.notna().to_numpy()
        if bad.any():
            if not self.skip_bad:
                i = int(np.flatnonzero(bad)[0])
                more = int(bad.sum()) - 1
                tail = f" ({more} more bad row{'s' if more != 1 else ''} in this batch)" if more else ""
                raise SealError(f"{self.path}: {plan.label} {lines[i]} {_verb(reasons.iloc[i])}{tail}." + SKIP_HINT)
            self.report.add_bad(plan.label, lines[bad], reasons.to_numpy()[bad])
            df = df[~bad]
        self.report.rows += len(df)
        if len(df) and "source_format" in df:          # the summary names what the rows are (openai-responses ...)
            seen = self._formats
            seen.extend(f for f in pd.unique(df["source_format"].dropna()) if f not in seen)
            self.report.source_format = "+".join(seen)
        for col in NORMALIZED_COLUMNS:
            if col not in df:
                df[col] = empty_column(col, df.index)
        return df[list(NORMALIZED_COLUMNS)]


# characters DuckDB's readers give a meaning to in a file name (globs; ``scheme://`` for remote files)
_SPECIAL_IN_PATH = re.compile(r"[*?\[\]{}~]|://|^[a-zA-Z][a-zA-Z0-9+.-]+:")


def literal_scan_path(path: Path):
    """The path DuckDB should scan for the file ``path``, read literally: ``(path, None)`` when its name holds no
    glob or URL syntax, else ``(alias, folder)``: a symlink named plainly in a private temporary folder, so
    ``a[1].csv`` reads that file, not ``a1.csv``, and ``logs*.csv`` never merges files the user did not name.
    The folder is removed when the returned object is garbage-collected (keep a reference while scanning)."""
    if not _SPECIAL_IN_PATH.search(str(path)):
        return path, None
    import tempfile

    folder = tempfile.TemporaryDirectory(prefix="seal-scan-")
    alias = Path(folder.name) / ("log" + "".join(c for c in path.suffix if c.isalnum() or c == "."))
    alias.symlink_to(path.resolve())
    return alias, folder


def _count_lines(path: Path, start: int = 0, non_blank: bool = False, chunk_bytes: int = 1 << 24) -> int:
    """Lines of a file from byte ``start`` (a last line without newline counts; ``non_blank``: lines holding
    something other than spaces), read in chunks."""
    count, tail = 0, b""
    with open(path, "rb") as fh:
        fh.seek(start)
        while chunk := fh.read(chunk_bytes):
            parts = (tail + chunk).split(b"\n")
            tail = parts.pop()
            count += sum(1 for ln in parts if ln.strip()) if non_blank else len(parts)
    return count + (bool(tail.strip()) if non_blank else bool(tail))


def _skip_lines(lines: np.ndarray, rejected: np.ndarray) -> np.ndarray:
    """File line numbers of kept rows, given their sequence numbers ``lines`` and the sorted ``rejected`` lines."""
    out = lines.copy()
    for _ in range(len(rejected) + 1):
        shifted = lines + np.searchsorted(rejected, out, side="right")
        if np.array_equal(shifted, out):
            break
        out = shifted
    return out


def _verb(reason: str) -> str:
    """Messages read "line 4 is not valid JSON" / "line 4: input_tokens is negative"."""
    return reason if reason.startswith("is ") else f"has a bad value: {reason}"


def iter_request_batches(path: str | Path, *, batch_rows: int = BATCH_ROWS, skip_bad: bool = False,
                         progress: bool = False, columns: dict[str, str] | str | None = None) -> RequestBatches:
    """Stream a request log as normalised frames of at most ``batch_rows`` rows.

    Returns a :class:`RequestBatches`: iterate it for frames (index = line / row / record number); its ``report``
    (a :class:`ReadReport`) counts rows, skipped bad rows and ignored non-request records. ``columns`` maps a
    table's columns ({SEAL column: file column}, or the text ``input_tokens=ContextTokens,...``).

    Raises:
        seal.errors.SealError: missing, empty, unknown-format or mixed-format file; the first bad row (its line
            and why) unless ``skip_bad``; a file holding no requests at all.
    """
    return RequestBatches(path, batch_rows=batch_rows, skip_bad=skip_bad, progress=progress, columns=columns)


def read_requests(path: str | Path, *, skip_bad: bool = False, progress: bool = False,
                  columns: dict[str, str] | str | None = None) -> tuple[pd.DataFrame, ReadReport]:
    """Read a whole request log into one normalised frame (see :func:`iter_request_batches`).

    ``path`` may also be a binary file object (an upload); it is spooled to a temporary file named like it
    (``.name``) so DuckDB can scan it.
    """
    if hasattr(path, "read"):
        import os
        import tempfile

        suffix = Path(getattr(path, "name", "") or "upload").suffix
        fd, tmp = tempfile.mkstemp(suffix=suffix, prefix="seal-upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                data = path.read()
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            shown = str(getattr(path, "name", "") or "the upload")
            try:
                frame, report = read_requests(tmp, skip_bad=skip_bad, progress=progress, columns=columns)
            except SealError as exc:
                raise SealError(str(exc).replace(tmp, shown)) from None
            report.path = shown
            return frame, report
        finally:
            os.unlink(tmp)
    batches = iter_request_batches(path, skip_bad=skip_bad, progress=progress, columns=columns)
    frames = list(batches)
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    return frame, batches.report
