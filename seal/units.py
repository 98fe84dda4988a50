"""Unit conversions, one constant per fact (units also live in every column name: ``_j``, ``_wh``, ``_kwh``,
``_g_co2e``, ``_ml``, ``_s``). Import these; never write the bare numbers."""
from __future__ import annotations

J_PER_WH = 3600.0            # J in one Wh
J_PER_KWH = 1000.0 * J_PER_WH  # J in one kWh (3.6e6)
G_PER_KG = 1000.0            # g in one kg
ML_PER_L = 1000.0            # mL in one L
S_PER_MS = 1e-3              # s in one ms
S_PER_NS = 1e-9              # s in one ns
SECONDS_PER_YEAR = 365 * 24 * 60 * 60  # s in a (365-day) year
