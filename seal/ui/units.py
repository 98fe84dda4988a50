"""One unit per quantity for a whole page, and everyday equivalences that read as sentences.

:func:`page_units` picks, for energy, CO2e and water, the unit every number of a page is shown in (tiles, table,
charts, captions), from the magnitude of the page's values: the total's unit, one step smaller when a typical
per-prompt value would read below 0.1 in it. :func:`page_totals` adds up a result with an 80 % interval for every
quantity (water's from :func:`seal.carbon.compare.water_interval_ml`). :func:`equivalence_texts` turns
:func:`seal.carbon.equivalences` into "1 smartphone charge per 25 prompts".
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from seal.ui.format import ENERGY_UNITS, MASS_UNITS, WATER_UNITS, sig_figures, pick_unit

Unit = tuple[str, float]
# quantity -> (result column, unit table)
QUANTITIES: dict[str, tuple[str, tuple[Unit, ...]]] = {
    "energy": ("facility_energy_j", ENERGY_UNITS),
    "co2e": ("total_g_co2e", MASS_UNITS),
    "water": ("water_ml", WATER_UNITS),
}
# units a page never uses for everyday figures (too exotic for a reader)
_SKIP = {"mJ", "µg", "µL"}


def unit_for(total: float, typical: float, units: Sequence[Unit]) -> Unit:
    """The unit for a page whose largest figure is ``total`` and whose typical per-prompt figure is ``typical``."""
    usable = [u for u in units if u[0] not in _SKIP] or list(units)
    unit = pick_unit(total, usable)
    if math.isfinite(typical) and typical > 0 and typical / unit[1] < 0.1:
        i = usable.index(unit)
        unit = usable[max(0, i - 1)]
    return unit


def page_units(result: pd.DataFrame) -> dict[str, Unit]:
    """``{"energy": ("Wh", 3600.0), "co2e": ("g", 1.0), "water": ("mL", 1.0)}`` for a result frame."""
    out = {}
    for quantity, (col, units) in QUANTITIES.items():
        values = pd.to_numeric(result[col], errors="coerce") if col in result else pd.Series(dtype=float)
        total = float(values.sum()) if values.notna().any() else 0.0
        typical = float(values.median()) if values.notna().any() else float("nan")
        out[quantity] = unit_for(total, typical, units)
    return out


def fmt_in(value: float | None, unit: Unit, digits: int = 3) -> str:
    """``value`` (base unit) in ``unit``: "0.521 g"."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    return f"{sig_figures(float(value) / unit[1], digits)} {unit[0]}"


def fmt_range_in(low: float | None, high: float | None, unit: Unit, digits: int = 2) -> str:
    """An interval in ``unit``: "0.34–0.82 g"."""
    if low is None or high is None or not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return "–"
    return f"{sig_figures(float(low) / unit[1], digits)}–{sig_figures(float(high) / unit[1], digits)} {unit[0]}"


def with_water_interval(result: pd.DataFrame) -> pd.DataFrame:
    """``result`` with ``water_low_ml`` / ``water_high_ml`` (a copy; see :func:`seal.carbon.compare.water_interval_ml`)."""
    from seal.carbon.compare import water_interval_ml

    if "water_ml" not in result:
        return result
    low, high = water_interval_ml(result)
    return result.assign(water_low_ml=low, water_high_ml=high)


def page_totals(result: pd.DataFrame) -> dict[str, float]:
    """:func:`seal.ui.aggregate.totals` plus the water interval (``water_low_ml`` / ``water_high_ml``)."""
    from seal.ui.aggregate import totals

    frame = with_water_interval(result)
    tot = totals(frame)
    for col in ("water_low_ml", "water_high_ml", "prefill_energy_low_j", "prefill_energy_high_j",
                "decode_energy_low_j", "decode_energy_high_j"):
        if col in frame:
            tot[col] = float(pd.to_numeric(frame[col], errors="coerce").sum(min_count=1))
    return tot


# equivalence name (seal.carbon.equivalences) -> (one, many)
_NOUNS: dict[str, tuple[str, str]] = {
    "smartphone charges": ("smartphone charge", "smartphone charges"),
    "web searches": ("web search", "web searches"),
    "kettle boils (1 L)": ("boiled litre of water in a kettle", "boiled litres of water in a kettle"),
}


def _count_text(n: float) -> str:
    """A count for a sentence: 2 significant figures, thousands separated ("25", "1 200", "0.5")."""
    if n >= 100:
        rounded = float(f"{n:.2g}")
        return f"{int(round(rounded)):,}".replace(",", "\u2009")
    return sig_figures(n, 2)


def _distance_text(km: float) -> str:
    if km >= 1:
        return f"{sig_figures(km, 2)} km"
    if km * 1000 >= 1:
        return f"{sig_figures(km * 1000, 2)} m"
    return f"{sig_figures(km * 1e5, 2)} cm"


def equivalence_texts(eq: pd.DataFrame, prompts: int) -> list[tuple[str, str]]:
    """Each equivalence of a page's total as ``(headline, help)``: "≈ 2.3 smartphone charges" when there is at
    least one, else "1 smartphone charge per 25 prompts" (per "25 prompts like this one" for a single prompt);
    distances as "120 m by petrol car". ``eq``: :func:`seal.carbon.equivalences` of the page's totals."""
    out = []
    what = "prompts like this one" if prompts == 1 else "prompts like these"
    for row in eq.itertuples(index=False):
        value = float(row.value)
        help_text = f"At {row.per_unit}. Source: {row.source}"
        if not math.isfinite(value) or value <= 0:
            out.append((f"no {row.name}", help_text))
            continue
        if row.unit == "km":
            out.append((f"{_distance_text(value)} by petrol car", help_text))
            continue
        one, many = _NOUNS.get(str(row.name), (str(row.name), str(row.name)))
        if value >= 1:
            out.append((f"≈ {_count_text(value)} {one if round(value, 1) == 1 else many}", help_text))
        else:
            per = prompts / value
            out.append((f"1 {one} per {_count_text(per)} {what}", help_text))
    return out


def in_unit(values: np.ndarray | pd.Series, unit: Unit) -> np.ndarray:
    """``values`` (base unit) divided into ``unit``."""
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float) / unit[1]
