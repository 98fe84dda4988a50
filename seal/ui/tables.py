"""Result frames turned into display tables: one SI unit per column (chosen from the data), the unit in
the header, numbers kept numeric so the tables stay sortable."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from seal.ui.format import ENERGY_UNITS, MASS_UNITS, WATER_UNITS, axis_unit

COUNT_COLUMNS: tuple[str, ...] = ("requests", "input_tokens", "output_tokens")   # shown as exact whole numbers


def exact_count(n: float | None) -> str:
    """A count written out in full with thousands separators: 108419 -> "108,419" (never rounded to "108k")."""
    import math

    if n is None or not math.isfinite(float(n)):
        return "–"
    return f"{round(float(n)):,d}"


# column -> (header, unit table or None for plain numbers)
COLUMN_SPECS: dict[str, tuple[str, tuple | None]] = {
    "request_id": ("Request", None),
    "timestamp": ("Time (UTC)", None),
    "model": ("Model", None),
    "app": ("App", None),
    "user": ("User", None),
    "gpu": ("GPU", None),
    "gpus": ("GPUs", None),
    "batch_size": ("Batch size", None),
    "requests": ("Requests", None),
    "input_tokens": ("Input tokens", None),
    "output_tokens": ("Output tokens", None),
    "prefill_energy_j": ("Prefill energy", ENERGY_UNITS),
    "decode_energy_j": ("Decode energy", ENERGY_UNITS),
    "gpu_energy_j": ("GPU energy", ENERGY_UNITS),
    "facility_energy_j": ("Facility energy", ENERGY_UNITS),
    "total_g_co2e": ("CO2e", MASS_UNITS),
    "total_low_g_co2e": ("80 % low", MASS_UNITS),
    "total_high_g_co2e": ("80 % high", MASS_UNITS),
    "water_ml": ("Water", WATER_UNITS),
    "estimate_basis": ("Basis", None),
}


def display_table(frame: pd.DataFrame, columns: Sequence[str], text_column: str | None = "prompt",
                  text_width: int = 80) -> pd.DataFrame:
    """The chosen result columns with headers like "Prefill energy (J)" and values in that unit.

    The CO2e, its low and its high share one unit (chosen from the highs) so an interval reads at a glance.
    """
    out = pd.DataFrame(index=frame.index)
    if text_column and text_column in frame and frame[text_column].notna().any():
        text = frame[text_column].astype("string").fillna("").str.replace(r"\s+", " ", regex=True)
        out["Prompt"] = text.where(text.str.len() <= text_width, text.str.slice(0, text_width - 1) + "…")
    shared_mass = None
    mass_cols = [c for c in ("total_g_co2e", "total_low_g_co2e", "total_high_g_co2e") if c in frame and c in columns]
    if mass_cols:
        shared_mass = axis_unit(pd.to_numeric(frame[mass_cols].stack(), errors="coerce"), MASS_UNITS)
    shared_energy = None
    energy_cols = [c for c in ("prefill_energy_j", "decode_energy_j", "gpu_energy_j") if c in frame and c in columns]
    if energy_cols:
        shared_energy = axis_unit(pd.to_numeric(frame[energy_cols].stack(), errors="coerce"), ENERGY_UNITS)
    for col in columns:
        if col not in frame or frame[col].isna().all():
            continue
        header, units = COLUMN_SPECS.get(col, (col, None))
        if col in COUNT_COLUMNS:    # sums of counts are floats: exact whole numbers, not "1.08e+05"
            out[header] = pd.to_numeric(frame[col], errors="coerce").round().astype("Int64")
            continue
        if units is None:
            out[header] = frame[col]
            continue
        unit = (shared_mass if col in mass_cols else shared_energy if col in energy_cols
                else axis_unit(pd.to_numeric(frame[col], errors="coerce"), units))
        out[f"{header} ({unit[0]})"] = pd.to_numeric(frame[col], errors="coerce") / unit[1]
    return out


def number_format(table: pd.DataFrame, text_width: str = "large") -> dict:
    """``st.dataframe`` column_config giving float columns 3 significant-looking digits."""
    import streamlit as st

    config = {}
    for col in table.columns:
        if col == "Prompt":
            config[col] = st.column_config.TextColumn(col, width=text_width)
        elif pd.api.types.is_float_dtype(table[col]):
            config[col] = st.column_config.NumberColumn(col, format="%.3g")
        elif pd.api.types.is_integer_dtype(table[col]):
            # counts in full with the reader's thousands separator ("108,419"); other whole numbers plain
            counts = {COLUMN_SPECS[c][0] for c in COUNT_COLUMNS}
            config[col] = st.column_config.NumberColumn(col, format="localized" if col in counts else "%d")
    return config
