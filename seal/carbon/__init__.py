"""From GPU energy to CO2e and water: boundary layers, grid intensity (annual and live), PUE, embodied carbon.

Public API: :func:`add_carbon` (the pipeline stage), :func:`boundary_layers` (waterfall table),
:func:`water_breakdown`, :func:`resolve_regions` / :func:`accepted_regions` / :func:`regions_table`, :func:`equivalences`,
:func:`per_day` / :func:`per_year` / :func:`scale_up`, :func:`defaults_table`. Imports stay light: ``requests`` and
``duckdb`` are imported only when live intensity is asked for.
"""
from __future__ import annotations

from seal.carbon.defaults import BOUNDARIES, defaults_table
from seal.carbon.equivalences import equivalences, per_day, per_year, scale_up
from seal.carbon.regions import (accepted_regions, load_cloud_regions, load_electricity_mixes, regions_table,
                                 resolve_regions)
from seal.carbon.stage import EXTRA_COLUMNS, add_carbon, boundary_layers, water_breakdown

__all__ = [
    "BOUNDARIES", "EXTRA_COLUMNS", "accepted_regions", "add_carbon", "boundary_layers", "defaults_table",
    "equivalences", "load_cloud_regions", "load_electricity_mixes", "per_day", "per_year", "regions_table", "resolve_regions",
    "scale_up", "water_breakdown",
]
