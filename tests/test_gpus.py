"""The GPU facts table and alias resolution."""
from __future__ import annotations

import pandas as pd
import pytest

from seal.data.gpus import accepted_gpu_names, load_gpus, resolve_gpu
from seal.errors import SealError

REQUIRED = ["T4", "A10G", "L4", "L40S", "A40", "V100-SXM2-16GB", "V100-SXM2-32GB", "A100-SXM4-40GB",
            "A100-SXM4-80GB", "A100-PCIE-40GB", "A100-PCIE-80GB", "H100-SXM", "H100-PCIE", "H200", "B200", "MI300X"]


def test_table_has_required_gpus_with_sourced_numbers():
    gpus = load_gpus()
    assert set(REQUIRED) <= set(gpus["gpu"])
    assert gpus["gpu"].is_unique
    for col in ("memory_gb", "memory_bandwidth_gb_s", "bf16_dense_tflops", "tdp_w", "release_year"):
        assert gpus[col].notna().all() and (gpus[col] > 0).all(), col
    assert gpus["source"].str.startswith("http").all()
    assert set(gpus.loc[gpus["gpu"].isin(["T4", "V100-SXM2-16GB"]), "bf16_supported"].astype(str).str.lower()) == {"false"}
    # embodied figures carry their own citation
    assert (gpus["embodied_kg_co2e"].isna() | gpus["embodied_source"].notna()).all()


def test_datasheet_orders_of_magnitude():
    g = load_gpus().set_index("gpu")
    assert g.loc["H100-SXM", "memory_bandwidth_gb_s"] > g.loc["A100-SXM4-80GB", "memory_bandwidth_gb_s"] > g.loc["T4", "memory_bandwidth_gb_s"]
    assert g.loc["H200", "memory_gb"] == 141 and g.loc["MI300X", "memory_gb"] == 192


@pytest.mark.parametrize("alias, canonical", [
    ("A100", "A100-SXM4-80GB"), ("NVIDIA A100-SXM4-80GB", "A100-SXM4-80GB"), ("a100-sxm4-40gb", "A100-SXM4-40GB"),
    ("NVIDIA A10G", "A10G"), ("Tesla T4", "T4"), ("H100 80GB HBM3", "H100-SXM"), ("NVIDIA H100 80GB HBM3", "H100-SXM"),
    ("['NVIDIA A10G']", "A10G"), ("  h200 ", "H200"), ("AMD Instinct MI300X", "MI300X"), ("NVIDIA L4", "L4"),
])
def test_aliases_resolve_case_insensitively(alias, canonical):
    assert resolve_gpu(alias) == canonical


def test_series_resolution_keeps_missing():
    out = resolve_gpu(pd.Series(["A100", None, "Tesla T4"], index=[5, 6, 7]))
    assert list(out.index) == [5, 6, 7]
    assert out[5] == "A100-SXM4-80GB" and pd.isna(out[6]) and out[7] == "T4"


def test_unknown_gpu_names_it_and_lists_accepted():
    with pytest.raises(SealError) as exc:
        resolve_gpu(pd.Series(["A100", "RTX 9999"]))
    msg = str(exc.value)
    assert "RTX 9999" in msg and "H100-SXM" in msg
    assert "T4" in accepted_gpu_names()
