"""SEAL beside what operators disclose per prompt: a plausibility check, not a validation.

Each :data:`DISCLOSURES` entry is one published figure, the situation it describes, and the SEAL request that stands
for that situation, with every assumption SEAL needed written out (operators do not publish model sizes, batch sizes or
token counts). :func:`disclosure_comparison` scores those requests with the shipped model and the carbon stage and
returns SEAL's estimate (with its 80 % interval) beside each disclosed number. TPUs are not GPUs: a TPU fleet is
stood in for by the GPU of its generation and memory bandwidth class (H100-SXM: 3.35 TB/s, TPU v5p: 2.76 TB/s), an
assumption the table says.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from seal.units import J_PER_KWH


@dataclass(frozen=True)
class Disclosure:
    """One operator's published per-prompt figure(s) and the SEAL request standing for it."""

    name: str
    source: str
    figures: dict[str, float]          # quantity -> disclosed value: energy_wh | g_co2e | onsite_water_ml | water_ml
    boundary: str                      # what the operator's figure covers
    request: dict                      # SEAL request columns
    options: dict = field(default_factory=dict)   # carbon-stage options (pue, market factor, ...)
    assumptions: str = ""


DISCLOSURES: tuple[Disclosure, ...] = (
    Disclosure(
        name="Google, Gemini Apps median text prompt (May 2025)",
        source="Elsworth et al. 2025, arXiv:2508.15734",
        figures={"energy_wh": 0.24, "onsite_water_ml": 0.26},
        boundary="comprehensive: active accelerators 58 %, host CPU/DRAM 25 %, idle machines 10 %, overhead 8 %",
        request={"model": "gemini-2.5-flash", "gpu": "H100-SXM", "engine": "vllm", "precision": "fp8",
                 "batch_size": 256.0, "input_tokens": 400, "output_tokens": 300, "region": "gcp:us-central1"},
        assumptions="Gemini 2.5 Flash at EcoLogits' size estimate (440 B total / 88 B active MoE); TPU v5p-class "
                    "fleet costed as H100-SXM (same bandwidth class), FP8 weights, current-vLLM-class engine, 256 "
                    "concurrent requests (a large fleet's steady load), 400 tokens in / 300 out; Google's PUE 1.09 "
                    "(gcp:us-central1). SEAL's full boundary covers the same layers (host, idle, PUE) plus embodied "
                    "carbon; market-based CO2e (0.03 g) is not compared: Google's market factor is not public.",
    ),
    Disclosure(
        name="OpenAI, average ChatGPT query (June 2025)",
        source="S. Altman, 'The Gentle Singularity', 10 June 2025",
        figures={"energy_wh": 0.34, "onsite_water_ml": 0.32},
        boundary="not stated (read as facility energy per query)",
        request={"model": "gpt-4o", "gpu": "H100-SXM", "engine": "vllm", "precision": "fp8", "batch_size": 128.0,
                 "input_tokens": 400, "output_tokens": 300, "region": "azure:eastus"},
        assumptions="GPT-4o (ChatGPT's default model then) at EcoLogits' size estimate (440 B / 88 B active), H100-SXM, "
                    "FP8, current-vLLM-class engine, 128 concurrent requests, 400 tokens in / 300 out, Azure "
                    "East US (PUE 1.18, on-site WUE 0.30 L/kWh).",
    ),
    Disclosure(
        name="Mistral AI, Mistral Large 2 in Le Chat, one 400-token response (July 2025)",
        source="Mistral AI life-cycle analysis with Carbone 4 and ADEME, July 2025",
        figures={"g_co2e": 1.14, "water_ml": 45.0},
        boundary="life cycle incl. upstream (embodied) impacts",
        request={"model": "mistralai/Mistral-Large-Instruct-2407", "gpu": "H100-SXM", "engine": "vllm",
                 "precision": "bfloat16", "batch_size": 64.0, "input_tokens": 400, "output_tokens": 400,
                 "region": "WOR"},
        assumptions="Mistral Large 2 (123 B dense, published), H100-SXM, bfloat16, current-vLLM-class engine, 64 "
                    "concurrent requests, 400 tokens in / 400 out; the serving location is not stated, so the world "
                    "average grid (SEAL's default) and the industry-average PUE 1.25; SEAL's full boundary includes "
                    "embodied GPU and server carbon (manufacturing, amortised over 3 years of GPU time).",
    ),
)

QUANTITY_COLUMNS = {"energy_wh": ("facility_energy_j", "Wh"), "g_co2e": ("total_g_co2e", "g CO2e"),
                    "water_ml": ("water_ml", "mL"), "onsite_water_ml": ("onsite_water_ml", "mL")}


def disclosure_comparison(energy_model=None) -> pd.DataFrame:
    """SEAL's estimate beside each disclosed figure: one row per (disclosure, quantity) with ``disclosed``,
    ``seal``, ``seal_low`` / ``seal_high`` (80 % interval; energy from the GPU interval scaled like the point),
    ``ratio`` (SEAL / disclosed), the unit, boundary and assumptions."""
    from seal.api import estimate
    from seal.carbon.stage import water_breakdown

    rows = []
    for d in DISCLOSURES:
        out = estimate(pd.DataFrame([d.request]), energy_model=energy_model, **d.options).iloc[0]
        water = water_breakdown(pd.DataFrame([out])).iloc[0]
        span = (out["gpu_energy_low_j"] / out["gpu_energy_j"], out["gpu_energy_high_j"] / out["gpu_energy_j"])
        for quantity, disclosed in d.figures.items():
            col, unit = QUANTITY_COLUMNS[quantity]
            if quantity == "energy_wh":
                value = out["facility_energy_j"] / J_PER_KWH * 1000.0
                low, high = value * span[0], value * span[1]
            elif quantity == "g_co2e":
                value, low, high = out["total_g_co2e"], out["total_low_g_co2e"], out["total_high_g_co2e"]
            else:
                value = float(water[col])
                low, high = value * span[0], value * span[1]
            rows.append({"disclosure": d.name, "source": d.source, "quantity": quantity, "unit": unit,
                         "disclosed": disclosed, "seal": float(value), "seal_low": float(low),
                         "seal_high": float(high), "ratio": float(value) / disclosed, "boundary": d.boundary,
                         "assumptions": d.assumptions})
    return pd.DataFrame(rows)
