"""Today's serving: engines, precisions (MXFP4 / NVFP4 / FP8 ...), fractional batch sizes, published model shapes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seal.errors import WARNINGS, SealError
from seal.estimator import defaults as D
from seal.estimator import shapes as S
from seal.estimator.estimate import estimate_energy


def one(**kw) -> pd.Series:
    row = {"input_tokens": 400, "output_tokens": 300, **kw}
    return estimate_energy(pd.DataFrame([row])).iloc[0]


def test_gpt_oss_in_mxfp4_with_a_measured_mean_concurrency():
    r = one(model="gpt-oss-120b", precision="mxfp4", batch_size=31.99, gpu="H100")
    assert r.precision == "mxfp4" and r.batch_size == pytest.approx(31.99) and r.engine == "vllm"
    assert 0 < r.gpu_energy_low_j < r.gpu_energy_j < r.gpu_energy_high_j
    assert r.gpus == 1   # 117 B x 4.25 bits fits one 80 GB GPU; in bfloat16 it would not
    assert one(model="gpt-oss-120b", precision="bfloat16", batch_size=31.99, gpu="H100").gpus == 4
    assert "shape-from-size" not in r.warnings   # gpt-oss has a row in seal/data/facts/model_architectures.csv
    # a fraction between two whole batches lands between their estimates
    lo, hi = (one(model="gpt-oss-120b", precision="mxfp4", batch_size=b, gpu="H100").gpu_energy_j for b in (31, 32))
    assert min(lo, hi) <= r.gpu_energy_j <= max(lo, hi)


@pytest.mark.parametrize("name, bits", [("mxfp4", 4.25), ("nvfp4", 4.5), ("fp8", 8), ("fp8_e4m3", 8),
                                        ("e5m2", 8), ("w8a8", 8), ("int8", 8), ("awq", 4.125), ("gptq", 4.125),
                                        ("int4", 4.125), ("nf4", 4.127), ("bf16", 16)])
def test_every_precision_has_its_bytes_per_weight(name, bits):
    from seal.estimator.estimate import resolve_precision

    canonical = resolve_precision(pd.Series([name]))[0]
    assert D.PRECISIONS[canonical].bytes_per_weight == pytest.approx(bits / 8)


def test_unknown_precision_and_engine_are_one_sentence_listing_the_accepted():
    with pytest.raises(SealError) as err:
        one(params_b=8.0, precision="fp3")
    msg = str(err.value)
    assert msg.startswith("Unknown precision 'fp3'; accepted:") and "mxfp4" in msg and "nvfp4" in msg
    with pytest.raises(SealError) as err:
        one(params_b=8.0, engine="llama.cpp")
    msg = str(err.value)
    assert msg.startswith("Unknown engine 'llama.cpp'; accepted: transformers, vllm-2024, vllm")


def test_engine_defaults_are_stated_and_flagged():
    assert "default-engine" in WARNINGS and "engine-approximated" in WARNINGS and "shape-from-size" in WARNINGS
    batched = one(params_b=8.0, gpu="H100", batch_size=64)
    single = one(params_b=8.0, gpu="H100", batch_size=1)
    unsaid = one(params_b=8.0, gpu="H100")
    assert batched.engine == "vllm" and unsaid.engine == "vllm" and single.engine == "transformers"
    assert all("default-engine" in r.warnings for r in (batched, single, unsaid))
    named = one(params_b=8.0, gpu="H100", batch_size=1, engine="vllm")
    assert named.engine == "vllm" and "default-engine" not in named.warnings
    # an eager framework at batch 1 (no CUDA graphs, kernel launches per layer) costs more than a serving engine
    assert single.gpu_energy_j > named.gpu_energy_j
    sg = one(params_b=8.0, gpu="H100", batch_size=16, engine="SGLang")
    assert sg.engine == "vllm" and "engine-approximated" in sg.warnings
    assert sg.gpu_energy_j == pytest.approx(one(params_b=8.0, gpu="H100", batch_size=16, engine="vllm").gpu_energy_j)


def test_engines_are_distinct_fitted_regimes():
    e = {eng: one(params_b=70.0, gpu="H100", batch_size=64, engine=eng).gpu_energy_j for eng in D.ENGINES}
    assert len({round(v, 6) for v in e.values()}) == 3


def test_batch_size_must_be_at_least_one_and_gpus_whole():
    with pytest.raises(SealError, match="batch_size must be a number of at least 1"):
        one(params_b=8.0, batch_size=0.5)
    with pytest.raises(SealError, match="gpus must be a whole number"):
        one(params_b=8.0, gpus=1.5)


def test_published_shapes_are_used_and_size_rules_flagged():
    known = one(model="meta-llama/Llama-3.1-70B-Instruct", gpu="H100", batch_size=32)
    assert "shape-from-size" not in known.warnings
    unknown = one(params_b=70.0, gpu="H100", batch_size=32)
    assert "shape-from-size" in unknown.warnings
    table = S.load_architectures()
    assert len(table) >= 60 and table["source"].str.startswith("https://").all()
    assert table["family"].nunique() >= 12


def test_shape_key_matches_spellings_of_logs():
    pos = S.find_architecture(pd.Series(["Qwen/Qwen3-235B-A22B-Thinking-2507-FP8", "qwen3-235b-a22b",
                                         "llama3.1:8b", "meta-llama/Meta-Llama-3.1-8B-Instruct", "nobody/none-1b"]))
    assert pos[0] == pos[1] >= 0 and pos[2] == pos[3] >= 0 and pos[4] == -1


def test_mla_and_sliding_windows_shrink_the_kv_cache():
    table = S.load_architectures()
    rows = table[table["model_id"].isin(["deepseek-ai/DeepSeek-V3", "google/gemma-2-27b-it"])].set_index("model_id")
    shp = S.shapes_from_rows(rows.reset_index(), rows["params_b"].to_numpy(dtype=float))
    ds, gemma = 0, 1
    assert shp.kv_width[ds] == 512 + 64                   # one latent per token per layer, not K and V per head
    long = np.array([16_000.0, 16_000.0])
    windowed = S.kv_elements_read(shp, long)[gemma]
    full = shp.kv_width[gemma] * (shp.full_layers[gemma] + shp.window_layers[gemma]) * long[gemma]
    assert windowed < 0.7 * full                          # half of Gemma 2's layers see a 4096-token window


def test_moe_reads_the_experts_its_tokens_touch():
    table = S.load_architectures()
    row = table.iloc[S.find_architecture(pd.Series(["Qwen/Qwen3-30B-A3B-Instruct-2507"]))]
    shp = S.shapes_from_rows(row.reset_index(drop=True), row["params_b"].to_numpy(dtype=float))
    from seal.estimator.physics import weights_read_b

    one_token = weights_read_b(shp, np.array([1.0]))[0]
    many = weights_read_b(shp, np.array([4096.0]))[0]
    assert one_token < 0.25 * many and many == pytest.approx(30.5, rel=0.02)
    assert one_token == pytest.approx(3.3, rel=0.35)      # about the active parameters


def test_low_precision_tensor_cores_only_where_the_gpu_has_them():
    from seal.data.gpus import load_gpus
    from seal.estimator.model import peak_tflops

    facts = load_gpus().set_index("gpu")
    gpus = pd.Series(["H100-SXM", "A100-SXM4-80GB", "B200", "H100-SXM", "B200"])
    compute = np.array(["fp8", "fp8", "fp4", "fp4", "fp8"], dtype=object)
    served = np.full(5, D.ENGINES.index("vllm"))
    peak = peak_tflops(compute, served, facts, gpus)
    assert list(peak) == [1979.0, 312.0, 9000.0, 989.5, 4500.0]
    eager = np.zeros(5, dtype=int)
    assert list(peak_tflops(compute, eager, facts, gpus)) == [989.5, 312.0, 2250.0, 989.5, 2250.0]


def test_defaults_table_lists_every_constant_with_a_source():
    t = D.defaults_table()
    assert {"DEFAULT_ENGINE", "DEFAULT_BATCH_SIZE", "DEFAULT_GPU"} <= set(t["name"])
    assert all(f"precision[{p}]" in set(t["name"]) for p in D.PRECISIONS)
    assert t["source"].str.len().gt(0).all() and t["kind"].isin(["default", "assumption", "constant", "format"]).all()


def test_fractional_batch_from_a_table(tmp_path):
    from seal.api import estimate

    path = tmp_path / "r.csv"
    path.write_text("model,input_tokens,output_tokens,batch_size,engine,precision\n"
                    "gpt-oss-20b,100,50,7.5,vllm,mxfp4\n", encoding="utf-8")
    from seal.logs import read_requests

    out = estimate(read_requests(path)[0])
    row = out.iloc[0]
    assert row["batch_size"] == 7.5 and row["engine"] == "vllm" and row["gpu_energy_j"] > 0


def test_cli_engine_precision_and_fractional_batch(capsys):
    import json

    from seal.cli import main

    code = main(["estimate", "Hello", "--model", "gpt-oss-120b", "--precision", "mxfp4", "--batch-size", "31.99",
                 "--engine", "vllm", "--gpu", "B200", "--format", "json"])
    assert code == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["engine"] == "vllm" and row["precision"] == "mxfp4" and row["batch_size"] == 31.99
    assert main(["estimate", "Hello", "--model", "gpt-oss-120b", "--engine", "nope"]) != 0
    assert "Unknown engine 'nope'" in capsys.readouterr().err


def test_disclosures_table_states_assumptions_and_lands_near_the_energy_figures():
    from seal.carbon.disclosures import DISCLOSURES, disclosure_comparison

    t = disclosure_comparison()
    assert len(t) == sum(len(d.figures) for d in DISCLOSURES)
    assert (t["seal"] > 0).all() and (t["seal_low"] <= t["seal"]).all() and (t["seal"] <= t["seal_high"]).all()
    assert t["assumptions"].str.len().gt(100).all() and t["source"].str.len().gt(10).all()
    energy = t[t["quantity"] == "energy_wh"]
    assert len(energy) == 2 and energy["ratio"].between(0.5, 2.0).all(), energy[["disclosure", "ratio"]]


def test_review_cases_names_sizes_and_native_formats():
    # loose name keys never pick one of two shapes; major versions are different models
    t = S.load_architectures()
    pick = lambda n: t["model_id"].iloc[S.find_architecture(pd.Series([n]))[0]]  # noqa: E731
    assert pick("deepseek-ai/DeepSeek-V3.1") == "deepseek-ai/DeepSeek-V3"
    assert pick("mistral:7b") == "mistralai/Mistral-7B-Instruct-v0.3"
    v31 = one(model="deepseek-ai/DeepSeek-V3.1", gpu="H200", batch_size=64)
    assert v31.params_b == pytest.approx(671.0) and v31.precision == "fp8" and "native-precision" in v31.warnings
    oss = one(model="gpt-oss-120b", gpu="H100", batch_size=64)
    assert oss.precision == "mxfp4" and oss.gpus == 1
    # an MoE the catalogue lists without an active count takes the published active share
    phi = one(model="microsoft/Phi-3.5-MoE-instruct", gpu="H100", batch_size=64)
    assert phi.active_params_b < 0.25 * phi.params_b


def test_windowed_layers_hold_at_most_their_window_in_the_gpu_count():
    long = {"input_tokens": 100_000, "output_tokens": 100, "batch_size": 64, "gpu": "H100", "precision": "bfloat16"}
    gemma = one(model="google/gemma-3-27b-it", **long)      # 52 of 62 layers see a 1024-token window
    dense = one(params_b=27.0, **long)                       # size rules: every layer holds the whole context
    assert gemma.gpus < dense.gpus


def test_shipped_validation_keeps_its_column_order_and_every_split():
    from seal.ui.loaders import shipped_validation

    table = shipped_validation()
    assert list(table.columns[:4]) == ["family", "split", "source", "target"]
    shipped = table[(table["family"] == "physics") & (table["target"] == "request")]
    assert {"random-5fold", "leave-one-family-out", "leave-one-gpu-out", "size>30B", "size>111B",
            "leave-one-gpu-out[B200]", "leave-one-gpu-out[H100-SXM]"} <= set(shipped["split"])
    assert {"mlenergy-v3", "mlenergy-v2", "llm-perf", "all"} <= set(shipped["source"])
    assert {"power", "time"} <= set(table["target"])
