"""SEAL: energy and CO2e of LLM prompts, from prefill and decode models learned on public benchmarks.

The public entry point is :func:`seal.estimate`, which takes a DataFrame of requests (a single prompt is a
one-row frame) and returns it with energy, carbon and water columns added. Imports are lazy so that the
CLI starts fast.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["estimate", "SealError", "__version__"]


def __getattr__(name: str):
    if name == "estimate":
        from seal.api import estimate

        return estimate
    if name == "SealError":
        from seal.errors import SealError

        return SealError
    raise AttributeError(f"module 'seal' has no attribute {name!r}")
