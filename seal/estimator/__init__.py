"""The energy estimator: per-request prefill and decode GPU energy (J) with 80 % intervals.

``estimate_energy(frame)`` scores a prepared request frame with the shipped artifact; ``EnergyModel`` is
the fitted physics-plus-correction model (scikit-learn API); ``seal.estimator.train`` / ``.validate`` fit and
cross-validate it on the store's benchmark runs. Imports stay light: heavy modules load on first use.
"""
from __future__ import annotations

from seal.estimator.estimate import estimate_energy

__all__ = ["estimate_energy", "EnergyModel"]


def __getattr__(name: str):
    if name == "EnergyModel":
        from seal.estimator.model import EnergyModel

        return EnergyModel
    raise AttributeError(name)
