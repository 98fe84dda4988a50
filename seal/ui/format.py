"""Human-readable numbers with sensible SI prefixes: J / Wh / kWh, mg / g / kg / t, mL / L / m³.

Every function takes the base unit of the result columns (joules, grams CO2e, millilitres) and picks the
prefix from the magnitude, so a pasted prompt reads "0.12 Wh" and a month of logs "840 kWh".
"""
from __future__ import annotations

from typing import Any

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np

from seal.units import J_PER_WH

# (unit label, size of one unit in the base unit), smallest first.
ENERGY_UNITS: tuple[tuple[str, float], ...] = (
    ("mJ", 1e-3), ("J", 1.0), ("Wh", J_PER_WH), ("kWh", 1e3 * J_PER_WH),
    ("MWh", 1e6 * J_PER_WH), ("GWh", 1e9 * J_PER_WH),
)
MASS_UNITS: tuple[tuple[str, float], ...] = (
    ("µg", 1e-6), ("mg", 1e-3), ("g", 1.0), ("kg", 1e3), ("t", 1e6), ("kt", 1e9),
)
WATER_UNITS: tuple[tuple[str, float], ...] = (
    ("µL", 1e-3), ("mL", 1.0), ("L", 1e3), ("m³", 1e6), ("ML", 1e9),
)
# abiotic resource depletion, base unit kg Sb eq; primary energy, base unit MJ
SBEQ_UNITS: tuple[tuple[str, float], ...] = (
    ("pg Sb eq", 1e-15), ("ng Sb eq", 1e-12), ("µg Sb eq", 1e-9), ("mg Sb eq", 1e-6), ("g Sb eq", 1e-3),
    ("kg Sb eq", 1.0), ("t Sb eq", 1e3),
)
PRIMARY_ENERGY_UNITS: tuple[tuple[str, float], ...] = (
    ("J", 1e-6), ("kJ", 1e-3), ("MJ", 1.0), ("GJ", 1e3), ("TJ", 1e6),
)
COUNT_UNITS: tuple[tuple[str, float], ...] = (
    ("", 1.0), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
)


def pick_unit(value: float, units: Sequence[tuple[str, float]]) -> tuple[str, float]:
    """The largest unit in which ``abs(value)`` is at least 1 (the smallest unit for 0 or NaN)."""
    v = abs(float(value)) if value is not None else float("nan")
    if not math.isfinite(v) or v == 0:
        # zero/NaN: use the base unit (size 1.0) when there is one
        return next(((u, s) for u, s in units if s == 1.0), units[0])
    chosen = units[0]
    for unit, size in units:
        if v >= size * 0.9999999:
            chosen = (unit, size)
    return chosen


def axis_unit(values: Iterable[float], units: Sequence[tuple[str, float]]) -> tuple[str, float]:
    """A unit for a whole chart axis, chosen from the largest finite absolute value."""
    arr = np.asarray(list(values) if not hasattr(values, "__array__") else values, dtype=float)
    arr = np.abs(arr[np.isfinite(arr)])
    return pick_unit(float(arr.max()) if arr.size else 0.0, units)


def sig_figures(x: float, digits: int = 3) -> str:
    """``digits`` significant figures, no scientific notation for everyday magnitudes."""
    if x is None or not math.isfinite(float(x)):
        return "–"
    x = float(x)
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - mag)
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "\u2009")  # thin space as the thousands separator


def fmt_quantity(value: float, units: Sequence[tuple[str, float]], digits: int = 3,
                 unit: tuple[str, float] | None = None) -> str:
    """``value`` (in the base unit) as "1.23 kWh"; ``unit`` forces a unit (label, size)."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    label, size = unit or pick_unit(value, units)
    return f"{sig_figures(float(value) / size, digits)} {label}".strip()


def fmt_energy(joules: float, digits: int = 3) -> str:
    """Energy given in J, as mJ / J / Wh / kWh / MWh."""
    return fmt_quantity(joules, ENERGY_UNITS, digits)


def fmt_mass(grams: float, digits: int = 3) -> str:
    """CO2e mass given in g, as µg / mg / g / kg / t."""
    return fmt_quantity(grams, MASS_UNITS, digits)


def fmt_water(millilitres: float, digits: int = 3) -> str:
    """Water volume given in mL, as mL / L / m³."""
    return fmt_quantity(millilitres, WATER_UNITS, digits)


def fmt_sbeq(kg_sbeq: float, digits: int = 3) -> str:
    """Abiotic resource depletion given in kg Sb eq, as ng / µg / mg / g / kg Sb eq."""
    return fmt_quantity(kg_sbeq, SBEQ_UNITS, digits)


def fmt_primary_energy(mj: float, digits: int = 3) -> str:
    """Primary energy given in MJ, as J / kJ / MJ / GJ."""
    return fmt_quantity(mj, PRIMARY_ENERGY_UNITS, digits)


def fmt_count(n: float, digits: int = 3) -> str:
    """A count with k / M / G suffixes above 10 000 (exact below)."""
    if n is None or not math.isfinite(float(n)):
        return "–"
    if abs(n) < 1e4:
        return f"{round(float(n)):,d}".replace(",", "\u2009")
    return fmt_quantity(n, COUNT_UNITS, digits).replace(" ", "")


def fmt_interval(low: float, high: float, units: Sequence[tuple[str, float]], digits: int = 2) -> str:
    """An interval in one unit chosen from its upper end: "0.81–1.6 g"."""
    if low is None or high is None or not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return "–"
    unit = pick_unit(max(abs(float(low)), abs(float(high))), units)
    return f"{sig_figures(float(low) / unit[1], digits)}–{sig_figures(float(high) / unit[1], digits)} {unit[0]}"


def fmt_with_interval(value: float, low: float, high: float, units: Sequence[tuple[str, float]],
                      digits: int = 3) -> str:
    """ "1.2 g (80 %: 0.81–1.6 g)"."""
    return f"{fmt_quantity(value, units, digits)} (80 %: {fmt_interval(low, high, units)})"


def fmt_pct(fraction: float, digits: int = 2, signed: bool = False) -> str:
    """A fraction as a percentage: 0.123 -> "12 %"; ``signed`` adds "+" to positives."""
    if fraction is None or not math.isfinite(float(fraction)):
        return "–"
    text = sig_figures(100.0 * float(fraction), digits)
    if signed and fraction > 0:
        text = "+" + text
    return f"{text} %"


# ---------------------------------------------------------------- text from logs, shown literally
# CommonMark shows any backslash-escaped ASCII punctuation as itself; these are the characters that start Markdown,
# HTML, entity (``&lt;``), math (``$``), table (``|``), strikethrough (``~``) or Streamlit directive (``:red[…]``)
# syntax anywhere on a line.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|~$!&:])")
# List items, setext underlines and ordered lists start a line: "- x", "+ x", "===", "1. x".
_LINE_START_MARK = re.compile(r"^(\u00a0*)([-+=])", re.M)
_LINE_START_NUMBER = re.compile(r"^(\u00a0*\d+)\.", re.M)
# Leading spaces would make an indented code block (shown with its backslashes): no-break spaces look the same.
_LINE_INDENT = re.compile(r"^[ \t]+", re.M)
WORD_JOINER = "\u2060"  # invisible; breaks the patterns below without changing what the reader sees
# Text Streamlit's renderer turns into links or icons with no syntax at all, escaped or not: GFM literal autolinks
# (https://…, www.…, name@host), emoji and icon shortcodes (:smile:, :streamlit:, :material/…:).
_DEFANG = (
    (re.compile(r"(https?)(?=://)", re.I), r"\1" + WORD_JOINER),
    (re.compile(r"(www)(?=\.)", re.I), r"\1" + WORD_JOINER),
    (re.compile(r"@(?=[-\w])"), "@" + WORD_JOINER),
    (re.compile(r":(?=[A-Za-z+\-][\w+\-/]*:)"), ":" + WORD_JOINER),
)


def plain(text: object) -> str:
    """``text`` (a model name, an app or user name, a prompt, an error message) escaped so that Streamlit's
    Markdown elements (``st.markdown``, ``st.caption``, ``st.error`` / ``info`` / ``warning``) show it literally:
    no images, links, HTML, entities, emphasis, headings, lists, tables, code, math or icons.

    Markdown and HTML syntax characters get a backslash (which CommonMark drops when rendering); line-start list
    marks are escaped as Streamlit escapes widget labels, and leading indentation becomes no-break spaces; text the
    renderer would turn into a link or an icon without any syntax (``https://…``, ``www.…``, e-mail addresses,
    ``:shortcode:``) gets an invisible word joiner (U+2060). For interpolating into Markdown only: ``st.dataframe``
    cells, ``st.text`` and ``st.code`` are literal already.
    """
    out = "" if text is None else str(text)
    out = out.replace("\r\n", "\n").replace("\r", "\n")  # a lone CR ends a Markdown line too
    for pattern, repl in _DEFANG:
        out = pattern.sub(repl, out)
    out = _MARKDOWN_SPECIAL.sub(r"\\\1", out)
    out = _LINE_INDENT.sub(lambda m: "\u00a0" * len(m.group()), out)
    out = _LINE_START_MARK.sub(r"\1\\\2", out)
    return _LINE_START_NUMBER.sub(r"\1\\.", out)


# The five impacts life-cycle assessments report, in the order the UI shows them: label, total column, formatter,
# units, interval columns (None: no interval modelled), what it is.
IMPACTS: tuple[tuple[str, str, Any, Any, str | None, str | None, str], ...] = (
    ("Facility energy", "facility_energy_j", fmt_energy, ENERGY_UNITS, "facility_energy_low_j",
     "facility_energy_high_j", "Facility energy: GPU + host + idle overhead, times PUE."),
    ("CO2e", "total_g_co2e", fmt_mass, MASS_UNITS, "total_low_g_co2e", "total_high_g_co2e",
     "Greenhouse gases: electricity (location-based unless a market factor is given) + manufacturing."),
    ("ADPe", "adpe_kg_sbeq", fmt_sbeq, SBEQ_UNITS, "adpe_low_kg_sbeq", "adpe_high_kg_sbeq",
     "Abiotic resource depletion (elements), kg antimony equivalent: the grid's + the hardware's share."),
    ("Primary energy", "primary_energy_mj", fmt_primary_energy, PRIMARY_ENERGY_UNITS, "primary_energy_low_mj",
     "primary_energy_high_mj",
     "Primary energy drawn from nature (fuels, uranium, renewables) for the electricity and the hardware."),
    ("Water", "water_ml", fmt_water, WATER_UNITS, "water_low_ml", "water_high_ml",
     "On-site cooling (WUE) plus off-site water of the electricity."),
)


def fmt_impacts(tot: dict[str, float]) -> str:
    """The five impacts of a total (sums of scored columns) in one line, each with its 80 % range where modelled:
    for reports ("Facility energy 1.2 Wh (80 %: 0.9–1.6 Wh); CO2e …; ADPe …; primary energy …; water …")."""
    return "; ".join(f"{label} {fmt(tot.get(key))}" + (f" (80 %: {fmt_interval(tot.get(low), tot.get(high), units)})"
                                                       if low and tot.get(low) is not None else "")
                     for label, key, fmt, units, low, high, _ in IMPACTS) + "."
