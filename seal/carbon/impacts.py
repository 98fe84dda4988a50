"""The layers from accelerator energy to total CO2e and water, one small pure function per quantity.

Each function takes numpy arrays or pandas Series (or scalars) and returns the same; units are in the names and
docstrings. Defaults are the sourced constants of :mod:`seal.carbon.defaults`. The interval (low / high) flows through
the same functions.

    accelerator_j                                    (estimator: gpu_energy_j)
    + host_j       = host_power_w / server_gpus x gpu_time_s          (or host share x accelerator_j)
    + idle_j       = idle_overhead x (accelerator_j + host_j)
    = it_j
    facility_j     = pue x it_j
    operational_g  = facility_j / 3.6e6 x intensity_g_per_kwh
    embodied_g     = gpu_time_s x gpu_kg x 1000 / gpu_lifetime_s
                     + gpu_time_s / server_gpus x server_kg x 1000 / server_lifetime_s
    total_g        = operational_g + embodied_g
    adpe_kg        = facility_j / 3.6e6 x adpe_kg_sbeq_per_kwh  + amortised(gpu_time_s, gpu / server kg Sb eq)
    primary_mj     = facility_j / 3.6e6 x pe_mj_per_kwh         + amortised(gpu_time_s, gpu / server MJ)
    water_ml       = 1000 x (it_j / 3.6e6 x wue_onsite + facility_j / 3.6e6 x wue_offsite)
"""
from __future__ import annotations

from seal.carbon import defaults as D


def host_energy_j(gpu_time_s, host_power_w=D.HOST_POWER_W, server_gpus=D.SERVER_GPUS):
    """Host (CPU, RAM, network) energy of the request, J.

    Args:
        gpu_time_s: the request's share of GPU time, GPU-seconds (gpus x wall time / batch size).
        host_power_w: non-GPU power of one server, W.
        server_gpus: GPUs per server; the request holds ``gpu_time_s / server_gpus`` server-seconds.
    """
    return gpu_time_s * (host_power_w / server_gpus)


def host_energy_from_share_j(accelerator_j, host_share=D.HOST_SHARE_OF_ACCELERATOR):
    """Host energy as a measured fraction of accelerator energy (used when GPU time is unknown), J."""
    return accelerator_j * host_share


def idle_energy_j(accelerator_j, host_j, idle_overhead=D.IDLE_OVERHEAD):
    """Energy of idle machines provisioned for latency and failover, charged to active work, J."""
    return idle_overhead * (accelerator_j + host_j)


def it_energy_j(accelerator_j, host_j, idle_j):
    """IT energy: accelerator + host + idle share, J."""
    return accelerator_j + host_j + idle_j


def facility_energy_j(it_j, pue):
    """Facility energy (IT energy x power usage effectiveness), J."""
    return it_j * pue


def operational_g_co2e(facility_j, intensity_g_per_kwh):
    """Operational emissions of the electricity drawn, g CO2e."""
    return facility_j / D.J_PER_KWH * intensity_g_per_kwh


def usage_impact(facility_j, factor_per_kwh):
    """An impact of the electricity drawn: facility energy (J) x the grid's factor per kWh (kg Sb eq/kWh for ADPe,
    MJ/kWh for primary energy, ...), in the factor's unit."""
    return facility_j / D.J_PER_KWH * factor_per_kwh


def amortised_embodied(gpu_time_s, per_gpu, per_server, gpu_lifetime_years=D.GPU_LIFETIME_YEARS,
                       server_lifetime_years=D.SERVER_LIFETIME_YEARS, server_gpus=D.SERVER_GPUS):
    """A manufacturing impact (any unit: kg CO2e, kg Sb eq, MJ) spread over the hardware's lifetime, charged by the
    request's share of its time: ``gpu_time_s`` GPU-seconds and ``gpu_time_s / server_gpus`` server-seconds.

    Args:
        per_gpu: the impact of making one GPU; per_server: of one server without its GPUs (same unit).
        gpu_lifetime_years, server_lifetime_years: years of service the manufacturing is spread over.
    """
    gpu = gpu_time_s * per_gpu / (gpu_lifetime_years * D.SECONDS_PER_YEAR)
    server = (gpu_time_s / server_gpus) * per_server / (server_lifetime_years * D.SECONDS_PER_YEAR)
    return gpu + server


def embodied_g_co2e(gpu_time_s, gpu_embodied_kg=D.GPU_EMBODIED_KG_CO2E,
                    gpu_lifetime_years=D.GPU_LIFETIME_YEARS, server_embodied_kg=D.SERVER_EMBODIED_KG_CO2E,
                    server_lifetime_years=D.SERVER_LIFETIME_YEARS, server_gpus=D.SERVER_GPUS):
    """Manufacturing emissions amortised over the hardware's lifetime by the request's share of its time, g CO2e.

    Args:
        gpu_time_s: GPU-seconds of the request; the server share is ``gpu_time_s / server_gpus`` server-seconds.
        gpu_embodied_kg: kg CO2e per GPU; server_embodied_kg: kg CO2e per server without GPUs.
        gpu_lifetime_years, server_lifetime_years: years of service the manufacturing is spread over.
    """
    return amortised_embodied(gpu_time_s, gpu_embodied_kg * 1000.0, server_embodied_kg * 1000.0, gpu_lifetime_years,
                              server_lifetime_years, server_gpus)


def water_ml(it_j, facility_j, wue_onsite_l_per_kwh, wue_offsite_l_per_kwh):
    """Water consumed: on-site cooling (WUE x IT energy) + off-site water of the electricity generated, mL."""
    return 1000.0 * (it_j / D.J_PER_KWH * wue_onsite_l_per_kwh + facility_j / D.J_PER_KWH * wue_offsite_l_per_kwh)
