"""Exports of results: CSV (SEAL's documented columns, :data:`seal.columns.CSV_COLUMNS`), Parquet and JSON (every
column), scenario files that reproduce a run, and a small self-contained HTML report: the assumptions, the
warnings as sentences, energy, CO2e and water with their 80 % intervals, equivalences, and the charts as static
SVG (no JavaScript, no network; a few hundred kB instead of the 4.8 MB plotly.js would add)."""
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


def csv_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The CSV's columns of a result frame (one with ``estimate_basis``): :data:`seal.columns.CSV_COLUMNS` in that
    order, those it has, with ``gpu`` the GPU the estimate used (``gpu_model``: the log's GPU, else the default
    serving set-up's) so it is never empty beside a filled ``gpu_model``. Any other frame is returned as it is."""
    from seal.columns import CSV_COLUMNS

    if "estimate_basis" not in frame:
        return frame
    out = frame.copy()
    if "gpu_model" in out:
        used = out["gpu_model"]
        out["gpu"] = used.where(used.notna() & (used.astype(str) != ""), out.get("gpu"))
    return out[[c for c in CSV_COLUMNS if c in out]]


def to_csv(frame: pd.DataFrame, full: bool = False) -> bytes:
    """UTF-8 CSV, no index, safe to open in a spreadsheet; a result frame has the columns of :func:`csv_view`
    (``full``: every column).

    Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR get a leading apostrophe (OWASP "CSV
    injection"; numbers are untouched), and rows end with CRLF (RFC 4180), so that the writer quotes every cell
    holding a CR or an LF: a ``\\r`` inside a model name stays inside its cell instead of starting a new row.
    """
    frame = frame if full else csv_view(frame)
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


MAX_REPORT_BYTES = 1_500_000       # the report's size budget (tests/test_export_report.py measures it)
ASSUMPTION_LABELS: tuple[tuple[str, str], ...] = (   # seal.summary.SETUP_COLUMNS -> what the report calls it
    ("model", "Model"), ("gpu_model", "GPU"), ("gpus", "GPUs serving one model copy"),
    ("batch_size", "Concurrent requests (batch size)"), ("engine", "Serving engine"), ("precision", "Precision"),
    ("pue", "PUE (facility overhead)"), ("grid_intensity_g_per_kwh", "Grid intensity"),
    ("grid_intensity_source", "Grid intensity source"),
)
# (label, total column, low column, high column, formatter name in seal.ui.format)
FIGURE_ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    ("GPU energy (prefill + decode)", "gpu_energy_j", "gpu_energy_low_j", "gpu_energy_high_j", "energy"),
    ("Facility energy (GPU + host + idle, times PUE)", "facility_energy_j", "facility_energy_low_j",
     "facility_energy_high_j", "energy"),
    ("CO2e (operational + embodied)", "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "mass"),
    ("Water (on-site cooling + electricity)", "water_ml", "water_low_ml", "water_high_ml", "water"),
    ("Primary energy", "primary_energy_mj", "primary_energy_low_mj", "primary_energy_high_mj", "primary"),
    ("ADPe (abiotic depletion)", "adpe_kg_sbeq", "adpe_low_kg_sbeq", "adpe_high_kg_sbeq", "sbeq"),
)
SHOWN_VALUES = 6                   # values listed per assumption before "and N more"


def _formatters() -> dict[str, tuple]:
    from seal.ui import format as f

    return {"energy": (f.fmt_energy, f.ENERGY_UNITS), "mass": (f.fmt_mass, f.MASS_UNITS),
            "water": (f.fmt_water, f.WATER_UNITS), "primary": (f.fmt_primary_energy, f.PRIMARY_ENERGY_UNITS),
            "sbeq": (f.fmt_sbeq, f.SBEQ_UNITS)}


def figures_table(totals: dict[str, float]) -> pd.DataFrame:
    """Energy, CO2e, water, primary energy and ADPe of ``totals`` (sums of the result columns), each with its
    80 % interval (or "not modelled" where SEAL has none)."""
    from seal.ui.format import fmt_interval

    fmts = _formatters()
    rows = []
    for label, col, low, high, kind in FIGURE_ROWS:
        value = totals.get(col)
        if value is None or value != value:
            continue
        fmt, units = fmts[kind]
        lo, hi = totals.get(low), totals.get(high)
        interval = fmt_interval(lo, hi, units) if lo is not None and hi is not None and lo == lo else "not modelled"
        rows.append((label, fmt(value), interval))
    return pd.DataFrame(rows, columns=["Quantity", "Estimate", "80 % interval"])


def _value_text(col: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "(not set)"
    if col == "grid_intensity_g_per_kwh":
        return f"{float(value):.0f} g CO2e/kWh"
    if col in ("gpus",):
        return f"{int(value)}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def assumptions_table(setups: pd.DataFrame) -> pd.DataFrame:
    """What the rows resolved to (``setups``: :meth:`seal.summary.LogSummary.setups`), one line per assumption:
    "H100-SXM (all 2,000 requests)" or "1 GPU (686 requests), 2 (554), …"."""
    rows = []
    total = int(setups["requests"].sum()) if len(setups) else 0
    for col, label in ASSUMPTION_LABELS:
        if col not in setups:
            continue
        counts = setups.groupby(setups[col].astype(object).where(setups[col].notna(), None), dropna=False,
                                sort=False)["requests"].sum().sort_values(ascending=False, kind="stable")
        if len(counts) == 1:
            text = f"{_value_text(col, counts.index[0])} (all {total:,} requests)"
        else:
            parts = [f"{_value_text(col, v)} ({n:,} requests)" for v, n in counts.iloc[:SHOWN_VALUES].items()]
            more = len(counts) - SHOWN_VALUES
            text = "; ".join(parts) + (f"; and {more:,} more" if more > 0 else "")
        rows.append((label, text))
    return pd.DataFrame(rows, columns=["Assumption", "Value used"])


def warning_sentences(counts: dict[str, int], requests: int) -> list[str]:
    """Each warning code (``seal.errors.WARNINGS``) as its sentence, with how many requests it concerns."""
    import re

    from seal.errors import WARNINGS

    out = []
    for code, n in counts.items():
        message = WARNINGS.get(code, code)
        message = re.sub(r"[`*]", "", message).strip()
        out.append(f"{message} ({n:,} of {requests:,} requests; code {code}.)" if requests > 1
                   else f"{message} (code {code}.)")
    return out


def equivalences_table(totals: dict[str, float]) -> pd.DataFrame:
    """Everyday equivalents of the total CO2e and facility energy (``seal.carbon.equivalences``), with sources."""
    from seal.ui.format import sig_figures

    try:
        from seal.carbon.equivalents import equivalences

        eq = pd.DataFrame(equivalences(totals.get("total_g_co2e", 0.0), totals.get("facility_energy_j")))
    except Exception:  # noqa: BLE001 - equivalences only add context
        return pd.DataFrame(columns=["Equivalent", "Per unit", "Source"])
    rows = []
    for r in eq.itertuples():
        value = float(r.value)
        text = f"{sig_figures(value, 3)} {r.unit}" if value >= 1 or value == 0 else \
            f"{sig_figures(value, 2)} {r.unit} (one per {sig_figures(1 / value, 2)} times this total)"
        rows.append((f"{r.name}: {text}", r.per_unit, r.source))
    return pd.DataFrame(rows, columns=["Equivalent", "Per unit", "Source"])


def report_sections(summary: Any, top: int | None = None) -> dict[str, Any]:
    """The keyword arguments of :func:`html_report` for a scored log or result (a
    :class:`seal.summary.LogSummary`): totals, assumptions, warnings and, with ``top``, the per-model / app / user
    tables (the ``top`` heaviest, the rest as one line)."""
    from seal.ui.format import fmt_mass, fmt_pct
    from seal.ui.tables import display_table

    tables, notes = [], []
    if top is not None:
        for by in ("model", "app", "user"):
            if not summary.has_values(by):
                continue
            shown, rest = summary.top_groups(by, top)
            tables.append((f"By {by}", display_table(shown, [by, "requests", "total_g_co2e", "total_low_g_co2e",
                                                            "total_high_g_co2e"], text_column=None)))
            if rest:
                notes.append(f"By {by}: {'at least ' if rest['groups_at_least'] else ''}{rest['groups']:,} other "
                             f"{by}s ({int(rest['requests']):,} requests) are not listed: {fmt_pct(rest['share'])} "
                             f"of the CO2e ({fmt_mass(rest['total_g_co2e'])}).")
    if getattr(summary, "skipped", 0):
        notes.append(f"{summary.skipped:,} bad rows were skipped and not estimated (e.g. "
                     f"{'; '.join(summary.skipped_examples[:3])}).")
    if getattr(summary, "unknown_models", None):
        from seal.stream import unknown_models_line

        notes.append(unknown_models_line(summary.unknown_models) + "; the figures cover the other rows.")
    return {"totals": summary.totals(), "setups": summary.setups(), "warnings": summary.warning_counts(),
            "tables": tables, "notes": notes}


def log_report_sections(log: Any, top: int = 25) -> dict[str, Any]:
    """:func:`report_sections` of a Logs page summary, with the per-group tables."""
    return report_sections(log, top=top)


def _table_html(frame: pd.DataFrame, text: bool = False) -> str:
    """A table; ``text``: every cell left-aligned (sentences rather than numbers)."""
    return frame.to_html(index=False, na_rep="–", float_format=lambda v: f"{v:.4g}", border=0,
                         classes="text" if text else None)


_REPORT_CSS = (
    "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#1b1f23}"
    "table{border-collapse:collapse;font-size:13px;margin-bottom:1em}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
    "th{background:#f2f5f7}table.text td,table.text th{text-align:left}"
    "td:first-child,th:first-child{text-align:left}.note{color:#555}"
    "svg{display:block;margin:0.5em 0 1.5em}</style>"
)


def html_report(title: str, intro: str = "", figures: Sequence[tuple[str, Any]] = (),
                tables: Sequence[tuple[str, pd.DataFrame]] = (), notes: Sequence[str] = (),
                scenario: dict[str, Any] | None = None, *, result: pd.DataFrame | None = None,
                totals: dict[str, float] | None = None, setups: pd.DataFrame | None = None,
                warnings: dict[str, int] | None = None) -> bytes:
    """One small HTML file (no script, no network): headline figures with 80 % intervals, the assumptions the
    rows resolved to, the warnings as sentences, equivalences, the charts as static SVG
    (:func:`seal.ui.svg.figure_svg`), tables, notes and the scenario.

    ``result`` (a frame of :func:`seal.estimate`) fills ``totals``, ``setups`` and ``warnings`` from its rows;
    a log passes them from its summary (:func:`report_sections`).
    """
    if result is not None:
        totals, setups, warnings = _result_sections(result, totals, setups, warnings)
    parts = _report_head(title)
    if intro:
        parts.append(f"<p>{html.escape(intro)}</p>")
    if result is not None:
        parts += _calibration_html(result)
    parts += _results_html(totals, setups, warnings)
    parts += _charts_and_tables_html(figures, tables)
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    if scenario is not None:
        parts.append("<h2>Scenario</h2><pre>" + html.escape(json.dumps(scenario, indent=2, default=str)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


def _result_sections(result: pd.DataFrame, totals: dict[str, float] | None, setups: pd.DataFrame | None,
                     warnings: dict[str, int] | None) -> tuple[dict[str, float], pd.DataFrame, dict[str, int]]:
    """(totals, setups, warnings): those given, the others from ``result``'s rows (:func:`report_sections`)."""
    from seal.summary import LogSummary

    sections = report_sections(LogSummary.of([result]))
    return (totals if totals is not None else sections["totals"],
            setups if setups is not None else sections["setups"],
            warnings if warnings is not None else sections["warnings"])


def _report_head(title: str) -> list[str]:
    """The report's opening lines: doctype, title, style sheet, heading and the SEAL version / time line."""
    from seal import __version__

    return [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        _REPORT_CSS,
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>SEAL {html.escape(__version__)} · generated "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC · a static file: no script, no network.</p>",
    ]


def _calibration_html(result: pd.DataFrame) -> list[str]:
    """A line naming the calibrated deployment and its factor (not only the warning); none when not calibrated."""
    from seal.ui.words import calibration_words

    calibrated = calibration_words(result)
    return [f"<p><b>Calibrated to your deployment</b> {html.escape(calibrated)}.</p>"] if calibrated else []


def _results_html(totals: dict[str, float] | None, setups: pd.DataFrame | None,
                  warnings: dict[str, int] | None) -> list[str]:
    """The Figures, Assumptions, Warnings and Equivalences sections, each where it has content."""
    parts = []
    if totals:
        parts.append("<h2>Figures</h2><p class='note'>Each estimate with its 80 % interval: where about 80 % of "
                     "measured requests fall for estimates like this one.</p>")
        parts.append(_table_html(figures_table(totals)))
    if setups is not None and len(setups):
        parts.append("<h2>Assumptions</h2><p class='note'>The serving set-up and carbon factors the estimate "
                     "used: the log's own values, else SEAL's defaults (see the Methodology page).</p>")
        parts.append(_table_html(assumptions_table(setups), text=True))
    if warnings:
        requests = int((totals or {}).get("requests", 0))
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{html.escape(w)}</li>"
                                                      for w in warning_sentences(warnings, requests)) + "</ul>")
    if totals and totals.get("total_g_co2e") == totals.get("total_g_co2e"):
        eq = equivalences_table(totals)
        if len(eq):
            parts.append("<h2>Equivalences</h2>" + _table_html(eq, text=True))
    return parts


def _charts_and_tables_html(figures: Sequence[tuple[str, Any]],
                            tables: Sequence[tuple[str, pd.DataFrame]]) -> list[str]:
    """Each chart as static SVG (:func:`seal.ui.svg.figure_svg`), then each table, under its caption."""
    from seal.ui.svg import figure_svg

    parts = []
    for caption, fig in figures:
        parts.append(f"<h2>{html.escape(caption)}</h2>")
        parts.append(figure_svg(fig))
    for caption, frame in tables:
        parts.append(f"<h2>{html.escape(caption)}</h2>")
        parts.append(_table_html(frame))
    return parts
