"""Every constant of the energy estimator: unit, value and where it comes from, in one place.

The pipeline (:mod:`seal.estimator.estimate`), the physics (:mod:`seal.estimator.physics`) and the shapes
(:mod:`seal.estimator.shapes`) read their constants from here; :func:`defaults_table` lists them for the
Methodology page and the README. A constant marked *assumption* is a modelling choice, not a measurement.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# ---------------------------------------------------------------- serving set-up used when a request says nothing
DEFAULT_GPU = "H100-SXM"        # the most common inference GPU of 2024-26 cloud fleets (EcoLogits' 80 GB GPU)
DEFAULT_BATCH_SIZE = 64.0       # mean concurrent requests (EcoLogits' BATCH_SIZE); vLLM's metrics report a float
DEFAULT_PRECISION = "bfloat16"  # weights as served (EcoLogits: 16-bit)
DEFAULT_PRECISION_NO_BF16 = "float16"  # on GPUs without BF16 tensor cores (T4, V100)
QUANT_COMPUTE_DTYPE = "bfloat16"       # activations of weight-only quantized models

# ---------------------------------------------------------------- serving engines
# transformers: eager PyTorch / Hugging Face generate (LLM-Perf, AI Energy Score: batch-1 style, no CUDA graphs);
# vllm-2024: vLLM 0.4-0.5 as ML.ENERGY v2 measured it; vllm: current vLLM (2025-26, CUDA graphs, chunked
# prefill, FP8 kernels) as ML.ENERGY v3 measured it.
ENGINES: tuple[str, ...] = ("transformers", "vllm-2024", "vllm")
ENGINE_SOURCES: dict[str, str] = {"transformers": "llm-perf", "vllm-2024": "mlenergy-v2", "vllm": "mlenergy-v3"}
# Spellings accepted for each engine (lower case). SGLang, TensorRT-LLM and TGI are current batched engines of the
# same generation as vLLM: costed as `vllm` with the warning `engine-approximated` (assumption: no measurements).
ENGINE_ALIASES: dict[str, str] = {
    "transformers": "transformers", "hf": "transformers", "huggingface": "transformers", "pytorch": "transformers",
    "eager": "transformers", "optimum-benchmark": "transformers",
    "vllm-2024": "vllm-2024", "vllm-0.4": "vllm-2024", "vllm-0.5": "vllm-2024", "vllm-v2": "vllm-2024",
    "vllm": "vllm", "vllm-2025": "vllm", "vllm-v1": "vllm",
}
APPROXIMATED_ENGINES: dict[str, str] = {"sglang": "vllm", "tensorrt-llm": "vllm", "trt-llm": "vllm", "tgi": "vllm"}
# The engine of a request that names none: current vLLM for batched serving and API models; eager transformers
# when the request says batch_size <= 1 (a single-stream run, as LLM-Perf and AI Energy Score measure it).
DEFAULT_ENGINE = "vllm"
DEFAULT_ENGINE_BATCH1 = "transformers"


# ---------------------------------------------------------------- precisions
@dataclass(frozen=True)
class Precision:
    """A weight format: bytes per weight as stored (scales included), the tensor-core format its matrix
    products run in where the GPU has it (``fp8`` / ``fp4``; else the activations' 16-bit format), and the
    eager-framework kernel family whose measured costs apply in ``transformers`` (empty: none)."""

    bytes_per_weight: float
    compute: str           # fp32 | bf16 | fp16 | fp8 | fp4 | int8 (int8 runs at the FP8 rate where present)
    eager_scheme: str = ""  # bnb8 | bnb4 | gptq | torchao | ""
    note: str = ""


PRECISIONS: dict[str, Precision] = {
    "float32": Precision(4.0, "fp32", note="IEEE single"),
    "bfloat16": Precision(2.0, "bf16", note="bfloat16"),
    "float16": Precision(2.0, "fp16", note="IEEE half"),
    "fp8": Precision(1.0, "fp8", note="FP8 weights and activations (W8A8; e4m3), per-tensor / per-channel scales"),
    "fp8-e5m2": Precision(1.0, "fp8", note="FP8 e5m2 (KV caches mostly; costed like e4m3)"),
    "int8": Precision(1.0, "int8", "bnb8", "8-bit integer weights; eager: bitsandbytes LLM.int8; served: W8A8"),
    "mxfp4": Precision(4.25 / 8, "fp4", note="OCP MX FP4: 4-bit e2m1 + one 8-bit scale per 32 weights (gpt-oss)"),
    "nvfp4": Precision(4.5 / 8, "fp4", note="NVIDIA NVFP4: 4-bit e2m1 + one FP8 scale per 16 weights"),
    "int4": Precision(4.125 / 8, "bf16", "gptq", "4-bit integer weights + 16-bit scale per 128 (weight-only)"),
    "awq": Precision(4.125 / 8, "bf16", "gptq", "AWQ 4-bit, group 128 (weight-only; eager kernels as GPTQ)"),
    "gptq": Precision(4.125 / 8, "bf16", "gptq", "GPTQ 4-bit, group 128 (weight-only)"),
    "nf4": Precision(4.127 / 8, "bf16", "bnb4", "bitsandbytes NF4 with double-quantized absmax per 64"),
    # GGUF (llama.cpp, Ollama, LM Studio): weight-only formats, dequantized into 16-bit matrix products (bf16) and
    # costed in `transformers` with the weight-only 4-bit kernel family (gptq). Bits per weight are llama.cpp's
    # documented averages over a whole model file (mixes and the 6-bit output tensor included) of Llama-3.1-8B:
    # table "Quantization" of https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/README.md; the five
    # types that table lacks (*) from the file sizes that llama-quantize lists for Llama-3-8B (same 8.03 B weights),
    # QUANT_OPTIONS in https://github.com/ggml-org/llama.cpp/blob/master/tools/quantize/quantize.cpp
    # (GiB x 2^30 x 8 / 8.03e9). Larger models keep fewer high-precision tensors: their files are a few % smaller.
    **{name: Precision(bpw / 8, "bf16", "gptq", f"GGUF {name.upper()}: {bpw} bits/weight ({src})")
       for name, bpw, src in (
           ("iq1_s", 2.0042, "llama.cpp quantize README"), ("iq1_m", 2.1460, "llama.cpp quantize README"),
           ("iq2_xxs", 2.3824, "llama.cpp quantize README"), ("iq2_xs", 2.5882, "llama.cpp quantize README"),
           ("iq2_s", 2.7403, "llama.cpp quantize README"), ("iq2_m", 2.9294, "llama.cpp quantize README"),
           ("iq3_xxs", 3.2548, "llama.cpp quantize README"), ("iq3_xs", 3.4977, "llama.cpp quantize README"),
           ("iq3_s", 3.6606, "llama.cpp quantize README"), ("iq3_m", 3.7628, "llama.cpp quantize README"),
           ("iq4_xs", 4.4597, "llama.cpp quantize README"), ("iq4_nl", 4.6818, "llama.cpp quantize README"),
           ("q2_k_s", 2.9697, "llama.cpp quantize README"), ("q2_k", 3.1593, "llama.cpp quantize README"),
           ("q3_k_s", 3.6429, "llama.cpp quantize README"), ("q3_k_m", 4.0007, "* quantize.cpp: 3.74 GiB"),
           ("q3_k_l", 4.2979, "llama.cpp quantize README"), ("q4_0", 4.6425, "* quantize.cpp: 4.34 GiB"),
           ("q4_1", 5.1131, "* quantize.cpp: 4.78 GiB"), ("q4_k_s", 4.6672, "llama.cpp quantize README"),
           ("q4_k_m", 4.8944, "llama.cpp quantize README"), ("q5_0", 5.5731, "* quantize.cpp: 5.21 GiB"),
           ("q5_1", 6.0438, "* quantize.cpp: 5.65 GiB"), ("q5_k_s", 5.5704, "llama.cpp quantize README"),
           ("q5_k_m", 5.7036, "llama.cpp quantize README"), ("q6_k", 6.5633, "llama.cpp quantize README"),
           ("q8_0", 8.5008, "llama.cpp quantize README"))},
}
PRECISION_ALIASES: dict[str, str] = {
    "fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16",
    "float8": "fp8", "fp8-e4m3": "fp8", "fp8_e4m3": "fp8", "e4m3": "fp8", "float8_e4m3fn": "fp8", "w8a8": "fp8",
    "w8a8-fp8": "fp8", "fp8_e5m2": "fp8-e5m2", "e5m2": "fp8-e5m2",
    "fp8-e4m3fn": "fp8", "float8-e4m3fn": "fp8", "fp8-dynamic": "fp8", "fp8-static": "fp8", "float8-e4m3": "fp8",
    "float8-e5m2": "fp8-e5m2", "8bit": "int8", "w8a8-int8": "int8", "int8-w8a8": "int8",
    "mx-fp4": "mxfp4", "mxfp4-e2m1": "mxfp4", "fp4": "nvfp4", "nv-fp4": "nvfp4",
    "4bit": "int4", "w4a16": "int4", "awq-int4": "awq", "gptq-int4": "gptq", "bnb4": "nf4", "bnb-nf4": "nf4",
    "bnb-4bit": "nf4", "gptq-int8": "int8", "w8a16": "int8", "f32": "float32", "f16": "float16",
    # GGUF: resolve_precision turns "Q4_K_M" into "q4-k-m"; llama-quantize's own aliases Q3_K/Q4_K/Q5_K (= *_M)
    "q3_k": "q3_k_m", "q4_k": "q4_k_m", "q5_k": "q5_k_m", "q3-k": "q3_k_m", "q4-k": "q4_k_m", "q5-k": "q5_k_m",
    **{k.replace("_", "-"): k for k in ("iq1_s", "iq1_m", "iq2_xxs", "iq2_xs", "iq2_s", "iq2_m", "iq3_xxs", "iq3_xs",
                                        "iq3_s", "iq3_m", "iq4_xs", "iq4_nl", "q2_k_s", "q2_k", "q3_k_s", "q3_k_m",
                                        "q3_k_l", "q4_0", "q4_1", "q4_k_s", "q4_k_m", "q5_0", "q5_1", "q5_k_s",
                                        "q5_k_m", "q6_k", "q8_0")},
}
NATIVE_16BIT = ("float32", "bfloat16", "float16")

# ---------------------------------------------------------------- shape rules (models without a published shape)
# Assumptions read off the published configs of Llama 2/3, Qwen 2 and Mistral models; the fitted efficiencies
# absorb their error; `seal/data/facts/model_architectures.csv` replaces them where a model has a row.
LAYERS_COEF = 20.0        # layers ~= LAYERS_COEF * params_B ** LAYERS_EXP
LAYERS_EXP = 0.30
DENSE_PARAMS_PER_LAYER_D2 = 12.0   # params ~= 12 * layers * d_model ** 2 (attention 4 d^2 + MLP 8 d^2)
KV_GQA_RATIO = 4.0        # query heads per KV head (grouped-query attention, typical of 2024 models)
KV_BYTES = 2.0            # bytes per KV-cache element (fp16/bf16 cache)
WEIGHT_HEADROOM = 1.05    # memory per weight byte incl. activations and fragmentation (KV cache counted apart)
GPU_MEMORY_USABLE = 0.95  # share of a GPU's memory usable by the model (CUDA context, allocator reserve)

# ---------------------------------------------------------------- training assumptions
# Mean prompt length (tokens) of benchmark rows that do not publish it. ML.ENERGY v2: ShareGPT chat and code
# completion prompts. ML.ENERGY v3 per task: LMArena first-turn chat prompts (short, long tail), GPQA questions with
# four choices and the answer instruction, Sourcegraph fill-in-the-middle requests (code before and after the gap).
# Assumptions (no published counts); `seal validate` reports the sensitivity to halving / doubling them.
MLENERGY_V2_INPUT_TOKENS = 256.0
TASK_INPUT_TOKENS: dict[str, float] = {"lm-arena-chat": 300.0, "gpqa": 350.0, "sourcegraph-fim": 1500.0}
FIT_WEIGHTS = {"energy": 1.0, "power": 0.7, "time": 0.7}   # weight of each measured quantity's log residual
# Robust loss of the fit (scipy least_squares): log residuals beyond ~FIT_F_SCALE count linearly, not squared, so
# a few runs no physics explains (e.g. ML.ENERGY v3 B200 GPQA rows at a third of TDP, 4x slower per token than
# the same model on the same GPU for chat) do not drag every other prediction.
FIT_LOSS = "soft_l1"
FIT_F_SCALE = 0.15
PRIOR_WEIGHT = 3.0        # pull of each fitted constant towards its prior, per unit of log deviation
# ... except the eager-framework constants (transformers engine, quantized kernels): 474 batch-1 runs of one suite
# identify them well, and a strong pull there costs the batch-1 extrapolation to large models.
EAGER_PRIOR_WEIGHT = 0.5
GENERATION_PRIOR_WEIGHT = 3.0  # stronger pull of the per-generation power scales towards 1 (few GPUs each)

# ---------------------------------------------------------------- intervals and warnings
INTERVAL_Z = 1.2816            # z of the 10th/90th percentile (80 % interval)
LATENCY_LOG_SD_KNOWN_BATCH = 0.25   # assumption when the artifact has no calibrated latency spread
LATENCY_LOG_SD_DEFAULT_BATCH = 0.8  # assumption: the GPU-time share is a guess when the batch is not given
MIN_GPU_ROWS = 20   # training rows of a GPU under an engine for it to count as measured (else transferred-gpu)
DEFAULT_INTERVALS: dict[str, dict[str, list[float]]] = {   # assumption: fallback log-quantiles, wider than fitted
    "interpolation": {"prefill": [-0.5, 0.5], "decode": [-0.4, 0.4], "request": [-0.4, 0.4]},
    "transferred-gpu": {"prefill": [-0.8, 0.8], "decode": [-0.7, 0.7], "request": [-0.7, 0.7]},
    "extrapolated-size": {"prefill": [-0.7, 0.7], "decode": [-0.6, 0.6], "request": [-0.6, 0.6]},
}


def defaults_table() -> pd.DataFrame:
    """The estimator's constants as rows (name, value, unit, kind, source) for the Methodology page."""
    rows = [
        ("DEFAULT_GPU", DEFAULT_GPU, "", "default", "most common 2024-26 inference GPU; EcoLogits' 80 GB GPU"),
        ("DEFAULT_BATCH_SIZE", DEFAULT_BATCH_SIZE, "requests", "default", "EcoLogits BATCH_SIZE"),
        ("DEFAULT_PRECISION", DEFAULT_PRECISION, "", "default", "EcoLogits 16-bit weights"),
        ("DEFAULT_ENGINE", DEFAULT_ENGINE, "", "default", "current vLLM, as ML.ENERGY v3 measures it"),
        ("DEFAULT_ENGINE_BATCH1", DEFAULT_ENGINE_BATCH1, "", "default", "batch-1 runs as LLM-Perf measures them"),
        ("LAYERS_COEF", LAYERS_COEF, "layers", "assumption", "Llama/Qwen/Mistral configs (shape from size)"),
        ("LAYERS_EXP", LAYERS_EXP, "", "assumption", "Llama/Qwen/Mistral configs (shape from size)"),
        ("DENSE_PARAMS_PER_LAYER_D2", DENSE_PARAMS_PER_LAYER_D2, "d^2", "assumption", "attention 4 d^2 + MLP 8 d^2"),
        ("KV_GQA_RATIO", KV_GQA_RATIO, "query heads per KV head", "assumption", "typical GQA of 2024 models"),
        ("KV_BYTES", KV_BYTES, "B", "assumption", "fp16/bf16 KV cache"),
        ("WEIGHT_HEADROOM", WEIGHT_HEADROOM, "x", "assumption", "activations and fragmentation"),
        ("GPU_MEMORY_USABLE", GPU_MEMORY_USABLE, "share", "assumption", "CUDA context, allocator reserve"),
        ("MLENERGY_V2_INPUT_TOKENS", MLENERGY_V2_INPUT_TOKENS, "tokens", "assumption", "ShareGPT / code prompts"),
        *((f"TASK_INPUT_TOKENS[{t}]", v, "tokens", "assumption", "ML.ENERGY v3 task prompts (not published)")
          for t, v in TASK_INPUT_TOKENS.items()),
        ("INTERVAL_Z", INTERVAL_Z, "", "constant", "normal 10th/90th percentile"),
        ("MIN_GPU_ROWS", MIN_GPU_ROWS, "rows", "assumption", "measured vs transferred GPU"),
        ("LATENCY_LOG_SD_DEFAULT_BATCH", LATENCY_LOG_SD_DEFAULT_BATCH, "log-sd", "assumption",
         "latency path with a guessed batch"),
    ]
    rows += [(f"precision[{name}]", round(p.bytes_per_weight, 5), "B/weight", "format", p.note or name)
             for name, p in PRECISIONS.items()]
    return pd.DataFrame(rows, columns=["name", "value", "unit", "kind", "source"]).astype({"value": str})
