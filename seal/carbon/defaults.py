"""Default constants of the carbon stage, each with its unit and published source.

Every constant is a plain module-level name passed into the layer functions of :mod:`seal.carbon.impacts` as an
overridable default (``add_carbon(..., host_power_w=..., idle_overhead=..., pue=...)``), in the manner of
EcoLogits' ``impacts/llm.py``. :func:`defaults_table` lists them for the UI's "show your working" panel.
Per-region data-centre figures (provider PUE / WUE) live in ``seal/data/facts/cloud_regions.csv`` with a source per row.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from seal.units import J_PER_KWH, SECONDS_PER_YEAR  # noqa: F401  (the carbon stage reads them as D.*)


# --- Host (CPU / RAM / network) share of the server --------------------------------------------------------------
# EcoLogits 0.11.3, ecologits/impacts/llm.py: SERVER_POWER = 1.2 kW for a server of SERVER_GPUS = 8 GPUs (power of
# the server without its GPUs, AWS p5.48xlarge reference via BoaviztAPI). A request is charged the host power for its
# share of server time: host_power_w / SERVER_GPUS per GPU-second of the request.
HOST_POWER_W = 1200.0   # W, non-GPU power of one 8-GPU server
SERVER_GPUS = 8         # GPUs per server

# Elsworth et al. 2025, "Measuring the environmental impact of delivering AI at Google scale" (arXiv:2508.15734),
# comprehensive boundary of the median Gemini Apps text prompt (May 2025): active AI accelerators 58 %, active host
# CPU & DRAM 25 %, idle (provisioned) machines 10 %, data-centre overhead 8 % of 0.24 Wh.
GOOGLE_SHARE_ACCELERATOR = 0.58
GOOGLE_SHARE_HOST = 0.25
GOOGLE_SHARE_IDLE = 0.10
GOOGLE_SHARE_OVERHEAD = 0.08
# Host energy as a fraction of accelerator energy, used only when the request's GPU time is unknown.
HOST_SHARE_OF_ACCELERATOR = GOOGLE_SHARE_HOST / GOOGLE_SHARE_ACCELERATOR                           # = 0.431
# Idle / provisioned-capacity energy as a fraction of active (accelerator + host) energy.
IDLE_OVERHEAD = GOOGLE_SHARE_IDLE / (GOOGLE_SHARE_ACCELERATOR + GOOGLE_SHARE_HOST)               # = 0.120

# --- Facility (PUE) and on-site water (WUE) when the region is a country, not a cloud region ---------------------
# IDC, "2H Datacenter Trends: Sustainable Datacenter Builds and CO2 Emissions", Doc US51911924, Jan 2025, as cited on
# AWS's sustainability page (https://aws.amazon.com/sustainability/data-centers/): public-cloud industry average PUE
# 1.25, on-premises enterprise data centres 1.63. Low end: Google fleet-wide PUE 2024, 1.09 (Google 2025
# Environmental Report, https://www.google.com/about/datacenters/efficiency/).
DEFAULT_PUE = 1.25
DEFAULT_PUE_LOW = 1.09
DEFAULT_PUE_HIGH = 1.63
# Shehabi et al. 2016, "United States Data Center Energy Usage Report", LBNL-1005775: average on-site water
# consumption of US data centres, 1.8 L per kWh of IT energy.
DEFAULT_WUE_L_PER_KWH = 1.8

# --- Embodied carbon (manufacturing), EcoLogits 0.11.3 ecologits/impacts/llm.py -----------------------------------
GPU_EMBODIED_KG_CO2E = 273.0     # kg CO2e per GPU (GPU_EMBODIED_IMPACT_GWP); used when seal/data/facts/gpus.csv has no figure
SERVER_EMBODIED_KG_CO2E = 5700.0  # kg CO2e per 8-GPU server without its GPUs (SERVER_EMBODIED_IMPACT_GWP,
#                                   BoaviztAPI for AWS p5.48xlarge)
# Abiotic resource depletion (elements, kg Sb eq) and primary energy (MJ) of manufacturing, same source
# (GPU_EMBODIED_IMPACT_ADPE / _PE, SERVER_EMBODIED_IMPACT_ADPE / _PE; BoaviztAPI). No per-GPU figures are published:
# every GPU gets these.
GPU_EMBODIED_KG_SBEQ = 0.00895    # kg Sb eq per GPU
GPU_EMBODIED_PE_MJ = 3721.0       # MJ per GPU
SERVER_EMBODIED_KG_SBEQ = 0.37    # kg Sb eq per 8-GPU server without its GPUs
SERVER_EMBODIED_PE_MJ = 70000.0   # MJ per 8-GPU server without its GPUs
GPU_LIFETIME_YEARS = 3.0          # years (HARDWARE_LIFESPAN = 3 years; NVIDIA HGX H100 product carbon footprint)
SERVER_LIFETIME_YEARS = 3.0       # years (same HARDWARE_LIFESPAN)

# --- Annual grid intensity -----------------------------------------------------------------------------------------
# EcoLogits 0.11.3 ecologits/data/electricity_mixes.json: GWP per country from Our World in Data (Ember lifecycle
# carbon intensity of electricity generation; EcoLogits PR #181 of 2025-09-08 moved to OWID, whose latest year then was
# 2024), off-site water (``wue``, L/kWh) from the World Resources Institute method. ``WOR`` is the world average.
ANNUAL_INTENSITY_SOURCE = "Our World in Data/Ember lifecycle intensity via EcoLogits electricity mixes"
ANNUAL_INTENSITY_YEAR = 2024
DEFAULT_ZONE = "WOR"

# --- Live intensity --------------------------------------------------------------------------------------------------
LIVE_TIMEOUT_S = 3.0          # s, per HTTP request
LIVE_MAX_REQUESTS = 24        # per zone and call; beyond that the annual average is used (and said)

BOUNDARIES: tuple[str, ...] = ("accelerator", "server", "it", "facility", "full")
# accelerator: GPU energy only | server: + host CPU/RAM/network | it: + idle/provisioned capacity |
# facility: x PUE | full: + embodied (manufacturing). Each includes the ones before it.


if TYPE_CHECKING:
    import pandas as pd


def defaults_table() -> "pd.DataFrame":
    """The carbon stage's default constants: name, value, unit, source (one row each)."""
    rows = [
        ("host_power_w", HOST_POWER_W, "W per 8-GPU server", "EcoLogits 0.11.3 SERVER_POWER (1.2 kW, 8 GPUs)"),
        ("server_gpus", SERVER_GPUS, "GPUs", "EcoLogits 0.11.3 SERVER_GPUS"),
        ("host_share_of_accelerator", HOST_SHARE_OF_ACCELERATOR, "fraction",
         "Elsworth et al. 2025 (arXiv:2508.15734): host 25 % / accelerator 58 % (used when GPU time is unknown)"),
        ("idle_overhead", IDLE_OVERHEAD, "fraction of active energy",
         "Elsworth et al. 2025 (arXiv:2508.15734): idle 10 % / (58 % + 25 %)"),
        ("pue (country region)", DEFAULT_PUE, "ratio", "IDC 2025 public-cloud industry average (Doc US51911924)"),
        ("pue_low (country region)", DEFAULT_PUE_LOW, "ratio", "Google fleet PUE 2024 (Environmental Report 2025)"),
        ("pue_high (country region)", DEFAULT_PUE_HIGH, "ratio", "IDC 2025 on-premises enterprise average"),
        ("wue_l_per_kwh (country region)", DEFAULT_WUE_L_PER_KWH, "L/kWh",
         "Shehabi et al. 2016, LBNL-1005775 (US data-centre average)"),
        ("gpu_embodied_kg_co2e (fallback)", GPU_EMBODIED_KG_CO2E, "kg CO2e per GPU",
         "EcoLogits 0.11.3 GPU_EMBODIED_IMPACT_GWP; seal/data/facts/gpus.csv embodied_kg_co2e first"),
        ("server_embodied_kg_co2e", SERVER_EMBODIED_KG_CO2E, "kg CO2e per server",
         "EcoLogits 0.11.3 SERVER_EMBODIED_IMPACT_GWP (BoaviztAPI, AWS p5.48xlarge)"),
        ("gpu_embodied_kg_sbeq", GPU_EMBODIED_KG_SBEQ, "kg Sb eq per GPU",
         "EcoLogits 0.11.3 GPU_EMBODIED_IMPACT_ADPE (BoaviztAPI)"),
        ("gpu_embodied_pe_mj", GPU_EMBODIED_PE_MJ, "MJ per GPU", "EcoLogits 0.11.3 GPU_EMBODIED_IMPACT_PE (BoaviztAPI)"),
        ("server_embodied_kg_sbeq", SERVER_EMBODIED_KG_SBEQ, "kg Sb eq per server",
         "EcoLogits 0.11.3 SERVER_EMBODIED_IMPACT_ADPE (BoaviztAPI, AWS p5.48xlarge)"),
        ("server_embodied_pe_mj", SERVER_EMBODIED_PE_MJ, "MJ per server",
         "EcoLogits 0.11.3 SERVER_EMBODIED_IMPACT_PE (BoaviztAPI, AWS p5.48xlarge)"),
        ("electricity ADPe (annual)", float("nan"), "kg Sb eq/kWh",
         "EcoLogits 0.11.3 electricity_mixes.json `adpe` per zone (ADEME Base Empreinte); world value where a "
         "zone has none (warning adpe-pe-world-mix)"),
        ("electricity primary energy (annual)", float("nan"), "MJ/kWh",
         "EcoLogits 0.11.3 electricity_mixes.json `pe` per zone (ADEME Base Empreinte); world value where a "
         "zone has none (warning adpe-pe-world-mix)"),
        ("gpu_lifetime_years", GPU_LIFETIME_YEARS, "years", "EcoLogits 0.11.3 HARDWARE_LIFESPAN"),
        ("server_lifetime_years", SERVER_LIFETIME_YEARS, "years", "EcoLogits 0.11.3 HARDWARE_LIFESPAN"),
        ("grid intensity (annual)", float("nan"), "g CO2e/kWh",
         f"{ANNUAL_INTENSITY_SOURCE}, {ANNUAL_INTENSITY_YEAR}"),
    ]
    import pandas as pd

    return pd.DataFrame(rows, columns=["name", "value", "unit", "source"])
