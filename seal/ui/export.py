"""Exports of results: CSV, Parquet, JSON, scenario files that reproduce a run, and a self-contained
HTML report with the interactive charts (plotly.js inlined once, so it opens offline)."""
from __future__ import annotations

import datetime as dt
import html
import io
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from seal.errors import SealError

SCENARIO_SCHEMA = "seal-scenario/1"


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy safe for every writer: timestamps kept, other object/string columns as Python strings."""
    return frame.reset_index(drop=True).copy()


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names cannot run as spreadsheet formulas
    (:func:`seal.frames.neutralise_csv_frame`); categorical text columns are included."""
    from seal.frames import FORMULA_PREFIXES, neutralise_csv_frame

    out = _plain(frame)
    for name in out.columns[[isinstance(t, pd.CategoricalDtype) for t in out.dtypes]]:
        out[name] = out[name].astype(object)
    out.columns = [f"'{c}" if str(c).startswith(FORMULA_PREFIXES) else c for c in out.columns]
    return neutralise_csv_frame(out)


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV, no index, safe to open in a spreadsheet.

    Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR get a leading apostrophe (OWASP "CSV
    injection"; numbers are untouched), and rows end with CRLF (RFC 4180), so that the writer quotes every cell
    holding a CR or an LF: a ``\\r`` inside a model name stays inside its cell instead of starting a new row.
    """
    return _csv_safe(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet bytes (pyarrow), no index."""
    buf = io.BytesIO()
    _plain(frame).to_parquet(buf, index=False)
    return buf.getvalue()


def to_json(frame: pd.DataFrame) -> bytes:
    """JSON array of records, ISO-8601 timestamps, NaN as null."""
    from seal.stream import JSON_DECIMALS

    return _plain(frame).to_json(orient="records", date_format="iso", force_ascii=False, indent=1,
                                 double_precision=JSON_DECIMALS).encode("utf-8")


def scenario_to_json(page: str, inputs: dict[str, Any]) -> bytes:
    """A scenario file: the page and every input needed to reproduce the run, with the SEAL version."""
    from seal import __version__

    doc = {
        "schema": SCENARIO_SCHEMA, "page": page, "seal_version": __version__,
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs,
    }
    return json.dumps(doc, indent=2, default=str, ensure_ascii=False).encode("utf-8")


def scenario_from_json(data: bytes | str, page: str | None = None) -> dict[str, Any]:
    """The ``inputs`` of a scenario file; raises :class:`SealError` when it is not one (for ``page``)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SealError(f"The scenario file is not valid JSON ({exc.__class__.__name__}); "
                        "load a file saved with “Scenario (JSON)”.") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCENARIO_SCHEMA or not isinstance(doc.get("inputs"), dict):
        raise SealError(f"This JSON file is not a SEAL scenario (expected \"schema\": \"{SCENARIO_SCHEMA}\" and "
                        "an \"inputs\" object).")
    if page is not None and doc.get("page") != page:
        raise SealError(f"This scenario was saved on the {doc.get('page')!r} page; load it there (this is {page!r}).")
    return doc["inputs"]


def html_report(title: str, intro: str = "", figures: Sequence[tuple[str, Any]] = (),
                tables: Sequence[tuple[str, pd.DataFrame]] = (), notes: Sequence[str] = (),
                scenario: dict[str, Any] | None = None) -> bytes:
    """One HTML file with the charts (interactive, plotly.js embedded once), tables, notes and scenario."""
    import plotly.io as pio

    from seal import __version__

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#1b1f23}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
        "th{background:#f2f5f7}td:first-child,th:first-child{text-align:left}.note{color:#555}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>SEAL {html.escape(__version__)} · generated "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC</p>",
    ]
    if intro:
        parts.append(f"<p>{html.escape(intro)}</p>")
    first = True
    for caption, fig in figures:
        parts.append(f"<h2>{html.escape(caption)}</h2>")
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=True if first else False))
        first = False
    for caption, frame in tables:
        parts.append(f"<h2>{html.escape(caption)}</h2>")
        parts.append(frame.to_html(index=False, na_rep="–", float_format=lambda v: f"{v:.4g}", border=0))
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    if scenario is not None:
        parts.append("<h2>Scenario</h2><pre>" + html.escape(json.dumps(scenario, indent=2, default=str)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")
