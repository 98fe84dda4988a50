"""Detect a request log's container (JSONL, JSON document, CSV, Parquet) and record format from its first bytes.

Only a sample is parsed in Python (the first :data:`SAMPLE_BYTES`); the whole file is then scanned by DuckDB, which
re-checks every record's shape, so a file whose later lines switch format is reported line by line.
"""
from __future__ import annotations

import json
from pathlib import Path

from seal.errors import SealError
from seal.logs.formats import (FORMATS, LITELLM_COLUMNS, Detected, classify_record, is_trace_document,
                               litellm_table_format, table_format)

SAMPLE_BYTES = 1 << 20      # bytes read to detect the format
MAX_JSON_DEPTH_HINT = 1000  # about where Python's json parser gives up (its recursion limit)
SAMPLE_RECORDS = 200        # records classified to detect mixed formats

ACCEPTED = ("OpenAI Chat Completions / Responses / Embeddings objects (JSON or JSONL), streamed chat.completion.chunk "
            "lines (JSONL or server-sent events), OpenAI or vLLM batch output JSONL, Anthropic Messages responses "
            "and batch results, Gemini responses and Vertex AI batch output, OTLP JSON trace exports with "
            "GenAI spans, LiteLLM spend logs (JSON or CSV), Langfuse observations or trace downloads, Ollama "
            "responses, or a CSV / JSONL / Parquet table with token columns (any names, with --columns) or prompt text")
SSE_FIELDS = ("data:", "event:", "id:", "retry:", ":")     # lines of a server-sent-events stream


class _TooDeep(Exception):
    """JSON nested past Python's recursion limit (kept apart from ``ValueError``, which means "not JSON")."""


def _loads(text: str, path: Path):
    """``json.loads`` that turns absurd nesting (``[[[[...`` ten thousand deep) into one sentence.

    Raises:
        ValueError: not JSON. seal.errors.SealError: nested too deeply for any request record.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise _TooDeep() from None


def _too_deep(path: Path) -> SealError:
    return SealError(f"{path} nests JSON too deeply (over ~{MAX_JSON_DEPTH_HINT:,} levels); request records nest a "
                     "few levels, so this is not a request log.")


def sse_payload(line: str) -> str | None:
    """The JSON of a server-sent-events line (``data: {...}``), ``None`` for other SSE fields, ``[DONE]`` and
    blank lines."""
    text = line.strip()
    if not text.startswith("data:"):
        return None
    text = text[5:].strip()
    return None if text in ("", "[DONE]") else text


def _records_in_sample(text: str, container: str, path: Path = Path("log")) -> list:
    """Parsed records from the sample text (complete ones only)."""
    if container in ("jsonl", "sse"):
        out = []
        lines = text.splitlines()[:SAMPLE_RECORDS * 3 + 1]
        if container == "sse":
            lines = [p for p in map(sse_payload, lines) if p is not None][:SAMPLE_RECORDS + 1]
        for line in lines[:SAMPLE_RECORDS + 1]:
            if line.strip():
                if "\ufffd" in line:      # bytes that are not UTF-8: reported with its line number by the scan
                    out.append(ValueError)
                    continue
                try:
                    out.append(_loads(line, path))
                except (ValueError, _TooDeep):   # a bad line: the scan reports it with its line number
                    out.append(ValueError)
        return out
    try:
        doc = _loads(text, path)
    except ValueError:
        return []
    return doc if isinstance(doc, list) else [doc]


def _records_via_duckdb(path: Path, container: str) -> list:
    import duckdb

    from seal.logs.read import literal_scan_path

    fmt = "array" if container == "json-array" else "unstructured"
    scan, _folder = literal_scan_path(path)
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"SELECT json FROM read_json_objects(?, format='{fmt}', maximum_object_size=268435456) LIMIT 20",
            [str(scan)]).fetchall()
    except duckdb.Error as exc:
        raise SealError(f"{path} is not valid JSON: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    return [_loads(r[0], path) for r in rows]


def detect(path: str | Path, *, strict: bool = True, mapping: dict[str, str] | None = None) -> Detected:
    """Detect the container and record format of the log at ``path`` (see :func:`_detect`)."""
    try:
        return _detect(Path(path), strict=strict, mapping=mapping or None)
    except _TooDeep:
        raise _too_deep(Path(path)) from None
    except SealError as exc:
        if str(exc).startswith("The column mapping"):      # name the file the mapping was for
            raise SealError(f"{path}: {exc}") from None
        raise


def _detect(path: Path, *, strict: bool = True, mapping: dict[str, str] | None = None) -> Detected:
    """Detect the container and record format of the log at ``path``.

    ``strict=False`` (``--skip-bad``): records of another format in the sample do not stop detection; the first
    record's format is used and the others become bad rows of the scan. ``mapping`` ({SEAL column: file column},
    ``--columns``) maps a table's columns; it is refused for logs of a known format (their fields are fixed).

    Raises:
        seal.errors.SealError: missing or empty file, unknown format, or mixed formats in the first records;
            :class:`seal.errors.UnmappedTable` for a table without recognisable token or text columns.
    """
    path = Path(path)
    if path.is_dir():
        raise SealError(f"{path} is a folder; give one log file (JSON, JSONL, CSV or Parquet).")
    if not path.exists():
        raise SealError(f"No such file: {path}.")
    if not path.is_file():
        raise SealError(f"{path} is not a regular file (a device, pipe or socket); give a log file saved on disk "
                        "(JSON, JSONL, CSV or Parquet).")
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if not head.strip():
        raise SealError(f"The file {path} is empty; give a request log ({ACCEPTED}).")
    if head[:4] == b"PAR1":
        import pyarrow.parquet as pq

        try:
            schema = pq.ParquetFile(path).schema_arrow
        except Exception as exc:  # a corrupt footer
            raise SealError(f"{path} looks like Parquet but cannot be read: {exc}.") from None
        _check_unique(path, schema.names)
        det = _table(path, "parquet", schema.names, mapping)
        _check_flat(path, schema, det)
        return det
    if head[:2] in (b"\x1f\x8b", b"PK"):
        raise SealError(f"{path} is compressed (gzip/zip); decompress it first. Accepted: {ACCEPTED}.")
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if len(head) == SAMPLE_BYTES:  # cut at the last complete line
        text = text[: text.rfind("\n") + 1] or text
    first = text.lstrip()[:1]
    if first in ("{", "["):
        return _json(path, text, complete=len(head) < SAMPLE_BYTES, strict=strict, mapping=mapping)
    if text.lstrip().startswith(SSE_FIELDS):
        return _json(path, text, complete=len(head) < SAMPLE_BYTES, strict=strict, mapping=mapping, sse=True)
    return _csv(path, text, mapping)


def _json(path: Path, text: str, *, complete: bool, strict: bool = True, mapping: dict[str, str] | None = None,
          sse: bool = False) -> Detected:
    """The container and record format of a JSON / JSONL / server-sent-events log from its sample ``text``
    (``complete``: the sample is the whole file); see :func:`_detect`."""
    container = "sse" if sse else _json_container(path, text)
    container, records = _unwrap(container, _sample_records(path, text, container, complete))
    kinds = [(i, classify_record(rec, mapped=bool(mapping)))
             for i, rec in enumerate(records[:SAMPLE_RECORDS], start=1)
             if rec is not ValueError]   # a malformed line: reported with its line number by the full scan
    if not kinds:
        raise SealError(f"Unknown format: no complete JSON record found at the start of {path}. Accepted: {ACCEPTED}.")
    first_kind = kinds[0][1]
    _check_first_kind(path, container, first_kind, records[kinds[0][0] - 1], mapping)
    if strict:
        _check_same_kind(path, container, kinds)
    if first_kind == "table":
        cols = list(dict.fromkeys(k for rec in records[:SAMPLE_RECORDS] if isinstance(rec, dict) for k in rec))
        return Detected(container=container, fmt=table_format(cols, mapping=mapping), columns=cols)
    return Detected(container=container, fmt=FORMATS[first_kind])


def _json_container(path: Path, text: str) -> str:
    """``jsonl`` when the first line is an object of its own, else ``json-array`` / ``json-object``."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines:
        try:
            first = _loads(lines[0], path)
            # one object per line, except a one-line {"data": [...]} export (Langfuse's API, compact) or trace
            if isinstance(first, dict) and not (len(lines) == 1 and (isinstance(first.get("data"), list)
                                                                    or is_trace_document(first))):
                return "jsonl"
        except ValueError:
            pass
    return "json-array" if text.lstrip().startswith("[") else "json-object"


def _sample_records(path: Path, text: str, container: str, complete: bool) -> list:
    """The first records of the file: parsed from the sample, or read by DuckDB when a JSON document is larger
    than the sample.

    Raises:
        seal.errors.SealError: a whole-file JSON document that does not parse.
    """
    if container in ("jsonl", "sse"):
        return _records_in_sample(text, container, path)
    if not complete:
        return _records_via_duckdb(path, container)
    records = _records_in_sample(text, container, path)
    if not records and text.strip():
        try:
            _loads(text, path)
        except ValueError as exc:
            raise SealError(f"{path} is not valid JSON: {exc}.") from None
    return records


def _unwrap(container: str, records: list) -> tuple[str, list]:
    """``(container, records)`` with an envelope opened: a Langfuse trace's observations (``json-observations``),
    a ``{"data": [...]}`` list (``json-data``), an array inside an array."""
    if container == "json-object" and len(records) == 1 and is_trace_document(records[0]):
        return "json-observations", records[0]["observations"]
    if container == "json-object" and len(records) == 1 and isinstance(records[0], dict) \
            and isinstance(records[0].get("data"), list) and classify_record(records[0]) is None:
        return "json-data", records[0]["data"]      # a list envelope (not an embeddings response)
    if container == "json-array" and len(records) == 1 and isinstance(records[0], list):
        return container, records[0]
    return container, records


def _check_first_kind(path: Path, container: str, kind: str | None, record, mapping: dict[str, str] | None) -> None:
    """Refuse a first record SEAL cannot read as it is stored (unknown kind, a stream in one document, a mapping
    for a known format).

    Raises:
        seal.errors.SealError: as above; :class:`seal.errors.UnmappedTable` for a flat record without token columns.
    """
    sse = container == "sse"
    if kind is None and not sse and isinstance(record, dict) and record and \
            sum(not isinstance(v, (dict, list)) for v in record.values()) >= 0.5 * len(record):
        table_format(list(record))          # raises UnmappedTable naming the record's keys, with --columns
    if kind is None:
        raise SealError(f"Unknown format: the first record of {path} is not one of the accepted kinds. "
                        f"Accepted: {ACCEPTED}.")
    if sse and kind != "openai-stream":
        raise SealError(f"{path} is a server-sent-events stream, but its first event is not a chat.completion.chunk; "
                        "SEAL reads streamed Chat Completions (or save the events' JSON one per line).")
    if kind == "openai-stream" and container not in ("jsonl", "sse"):
        raise SealError(f"{path} holds chat.completion.chunk objects in one JSON document; save a streamed log one "
                        "chunk per line (JSONL) or as the server-sent events.")
    if mapping and kind != "table":
        raise SealError(f"A column mapping applies to tables of requests, but {path} holds "
                        f"{FORMATS[kind].label} records, whose fields SEAL reads as the format defines them; "
                        "drop --columns for this file.")


def _check_same_kind(path: Path, container: str, kinds: list[tuple[int, str | None]]) -> None:
    """Refuse a sample whose records (``(number, kind)``) are not all of the first one's kind (a flat row lacking
    columns is a bad row of a table, reported by the full scan).

    Raises:
        seal.errors.SealError: mixed formats, naming the first odd record.
    """
    first_kind = kinds[0][1]
    for i, kind in kinds[1:]:
        if kind is None and first_kind == "table":
            continue
        if kind != first_kind:
            what = "line" if container == "jsonl" else "record"
            other = FORMATS[kind].label if kind in FORMATS else ("a flat table row" if kind else "of unknown kind")
            raise SealError(
                f"Mixed formats in {path}: {what} {i} is {other}, but the first record is "
                f"{FORMATS[first_kind].label if first_kind in FORMATS else 'a flat table row'}; "
                "split the file by format (or use --skip-bad to skip the odd rows)."
            )


def _table(path: Path, container: str, columns: list[str], mapping: dict[str, str] | None = None) -> Detected:
    if not mapping and LITELLM_COLUMNS <= {c.lower() for c in columns}:
        return Detected(container=container, fmt=litellm_table_format(columns), columns=columns)
    return Detected(container=container, fmt=table_format(columns, mapping=mapping), columns=columns)


def _csv(path: Path, text: str, mapping: dict[str, str] | None = None) -> Detected:
    import csv

    header = text.splitlines()[0] if text.splitlines() else ""
    try:
        dialect = csv.Sniffer().sniff(header + "\n", delimiters=",;\t|")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    columns = [c.strip() for c in next(csv.reader([header], delimiter=delim))]   # csv unquotes
    _check_unique(path, columns)
    if len(columns) < 2 and not ({c.lower() for c in columns} & {"prompt", "input_tokens"}) and not mapping:
        raise SealError(f"Unknown format: {path} is neither JSON, JSONL, Parquet nor a CSV with a header row. "
                        f"Accepted: {ACCEPTED}.")
    det = _table(path, "csv", columns, mapping)
    det.columns = columns
    det.delimiter = delim
    return det


def _check_unique(path: Path, columns: list[str]) -> None:
    """A table whose header names one column twice (ignoring case) is refused: which would be the tokens?"""
    seen: dict[str, tuple[int, str]] = {}
    for i, name in enumerate(columns, start=1):
        key = name.casefold()            # the reader matches names case-insensitively: input_tokens = Input_Tokens
        if key in seen:
            j, first = seen[key]
            same = f"named {name!r}" if first == name else f"named {first!r} and {name!r} (names differ only in case)"
            raise SealError(f"{path} has two columns {same} (columns {j} and {i}); rename or drop one so each "
                            "column name is unique.")
        seen[key] = (i, name)


def _check_flat(path: Path, schema, det: Detected) -> None:
    """Columns SEAL reads must hold one value per row: a list, struct or map column is refused by name."""
    import pyarrow as pa

    used = set(det.fmt.schema or {}) or set(schema.names)
    nested = [f.name for f in schema if f.name in used and pa.types.is_nested(f.type)]
    if nested:
        raise SealError(f"{path}: column {nested[0]!r} holds lists or records ({schema.field(nested[0]).type}); "
                        "SEAL needs one number or text per row in its columns (tokens, model, timestamps).")
