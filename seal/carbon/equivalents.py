"""Everyday equivalences and the scale-up view (per day at N requests, per year), each constant sourced.

Emissions are compared with a car's emissions; energy is compared with energy (facility energy, what the grid
delivered), so the equivalences of energy do not depend on the grid intensity.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from seal.units import J_PER_WH

# US EPA, "Greenhouse Gas Emissions from a Typical Passenger Vehicle" (EPA-420-F-23-014, June 2023): a typical
# gasoline passenger vehicle emits about 400 g CO2 per mile = 400 / 1.609344 g per km (tailpipe).
PETROL_CAR_G_CO2E_PER_KM = 400.0 / 1.609344      # g CO2e/km, = 248.5
# Google, "Powering a Google search" (Official Google Blog, 2009-01-11): about 0.0003 kWh per search.
WEB_SEARCH_WH = 0.3                              # Wh per search
# A smartphone battery full charge: iPhone 13 Pro battery, 3,095 mAh at 3.83 V = 11.85 Wh (battery energy, charger
# losses excluded; worked example in How-To Geek, "How Much Does It Cost to Charge Your Smartphone for a Year?").
SMARTPHONE_CHARGE_WH = 3.095 * 3.83              # Wh per full charge, = 11.85
# Boiling 1 L of water from 15 degC: 4.186 kJ/(kg K) x 1 kg x 85 K = 355.8 kJ (specific heat of water), delivered by
# an electric kettle at 85 % efficiency (SEAL assumption; kettles are typically 80-90 % efficient).
KETTLE_BOIL_WH = 4.186 * 1.0 * 85.0 / 0.85 / 3.6  # Wh per 1-litre boil, = 116.3
DAYS_PER_YEAR = 365


def equivalences(total_g_co2e: float, facility_energy_j: float | None = None) -> pd.DataFrame:
    """Everyday equivalents of an amount of CO2e (and of energy, when given).

    Args:
        total_g_co2e: emissions, g CO2e.
        facility_energy_j: energy drawn from the grid, J (optional).

    Returns:
        One row per equivalence: ``name``, ``value``, ``unit``, ``basis`` (co2e | energy), ``per_unit`` and ``source``.
    """
    rows = [("distance by petrol car", total_g_co2e / PETROL_CAR_G_CO2E_PER_KM, "km", "co2e",
             f"{PETROL_CAR_G_CO2E_PER_KM:.1f} g CO2e/km",
             "US EPA, Greenhouse Gas Emissions from a Typical Passenger Vehicle (EPA-420-F-23-014, 2023)")]
    if facility_energy_j is not None:
        wh = facility_energy_j / J_PER_WH
        rows += [
            ("smartphone charges", wh / SMARTPHONE_CHARGE_WH, "charges", "energy", f"{SMARTPHONE_CHARGE_WH:.2f} Wh",
             "3,095 mAh x 3.83 V smartphone battery (How-To Geek worked example), charger losses excluded"),
            ("web searches", wh / WEB_SEARCH_WH, "searches", "energy", f"{WEB_SEARCH_WH} Wh",
             "Google, Powering a Google search (Official Google Blog, 2009)"),
            ("kettle boils (1 L)", wh / KETTLE_BOIL_WH, "boils", "energy", f"{KETTLE_BOIL_WH:.1f} Wh",
             "Specific heat of water, 1 L from 15 to 100 degC, 85 % kettle efficiency (SEAL assumption)"),
        ]
    return pd.DataFrame(rows, columns=["name", "value", "unit", "basis", "per_unit", "source"])


def per_day(total_g: float | np.ndarray | pd.Series, requests_per_day: float) -> float | np.ndarray | pd.Series:
    """Daily total of a per-request quantity at ``requests_per_day`` requests (same unit as ``total_g``, per day)."""
    if requests_per_day is None or not np.isfinite(requests_per_day) or requests_per_day < 0:
        from seal.errors import SealError

        raise SealError(f"requests_per_day must be a non-negative number, got {requests_per_day!r}.")
    return total_g * requests_per_day


def per_year(total_g: float | np.ndarray | pd.Series, requests_per_day: float) -> float | np.ndarray | pd.Series:
    """Yearly total (365 days) of a per-request quantity at ``requests_per_day`` requests."""
    return per_day(total_g, requests_per_day) * DAYS_PER_YEAR


def scale_up(per_request: dict[str, float], requests_per_day: float) -> pd.DataFrame:
    """Scale-up table: one row per quantity (e.g. ``{"total_g_co2e": 0.5, "water_ml": 2.0}``) with per request,
    per day and per year values (units unchanged; the quantity's name carries them)."""
    return pd.DataFrame([
        {"quantity": name, "per_request": value, "per_day": per_day(value, requests_per_day),
         "per_year": per_year(value, requests_per_day)}
        for name, value in per_request.items()
    ])
