"""From GPU energy to CO2e and water: boundary layers, grid intensity (annual and live), PUE, embodied carbon.

Public API: :func:`add_carbon` (the pipeline stage), :func:`boundary_layers` (waterfall table),
:func:`water_breakdown`, :func:`resolve_regions` / :func:`accepted_regions` / :func:`regions_table`, :func:`equivalences`,
:func:`per_day` / :func:`per_year` / :func:`scale_up`, :func:`defaults_table`. Imports stay light: ``requests`` and
``duckdb`` are imported only when live intensity is asked for.
"""
from __future__ import annotations

_EXPORTS = {   # name -> module: imported on first use, so `seal --help` and `seal.carbon.defaults` stay light
    "BOUNDARIES": "defaults", "defaults_table": "defaults",
    "equivalences": "equivalents", "per_day": "equivalents", "per_year": "equivalents", "scale_up": "equivalents",
    "accepted_regions": "regions", "load_cloud_regions": "regions", "load_electricity_mixes": "regions",
    "regions_table": "regions", "resolve_regions": "regions",
    "EXTRA_COLUMNS": "stage", "add_carbon": "stage", "boundary_layers": "stage", "water_breakdown": "stage",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(f"seal.carbon.{_EXPORTS[name]}"), name)
        globals()[name] = value            # once: later look-ups are plain attributes
        return value
    raise AttributeError(f"module 'seal.carbon' has no attribute {name!r}")


__all__ = [
    "BOUNDARIES", "EXTRA_COLUMNS", "accepted_regions", "add_carbon", "boundary_layers", "defaults_table",
    "equivalences", "load_cloud_regions", "load_electricity_mixes", "per_day", "per_year", "regions_table", "resolve_regions",
    "scale_up", "water_breakdown",
]
