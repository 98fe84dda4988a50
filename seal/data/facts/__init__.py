"""The project's own fact tables, shipped inside the package (one source per row in each): ``gpus.csv`` (GPU
datasheets), ``cloud_regions.csv`` (cloud region -> grid zone, PUE, WUE), ``model_architectures.csv`` (published
model configs). Read through :func:`path`, which works for a source checkout and an installed wheel alike."""
from __future__ import annotations

import importlib.resources
from pathlib import Path

TABLES = ("gpus.csv", "cloud_regions.csv", "model_architectures.csv")


def path(name: str) -> Path:
    """The file ``name`` of this package (``importlib.resources``; a real file for a regular install)."""
    return Path(str(importlib.resources.files(__name__).joinpath(name)))
