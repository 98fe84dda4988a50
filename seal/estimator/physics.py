"""Physics of one LLM request on a GPU server: FLOPs, bytes moved, time and power, per phase.

Small pure functions, one per quantity, numpy arrays in and out (a single request is an array of length 1).
The fitted parameters (efficiencies, overheads, power fractions) live in :class:`PhysicsParams`; the
learned model (:mod:`seal.estimator.model`) fits them on measured benchmark runs.

Notation: ``n_tot`` / ``n_act`` total / active parameters (billions), ``g`` GPU count, ``b`` batch size
(requests served concurrently), ``t_in`` / ``t_out`` input / output tokens per request.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# ---------------------------------------------------------------- architecture constants
# Modelling assumptions, not measurements: shape rules of thumb read off the published configs of Llama 2/3,
# Qwen 2 and Mistral models (layers vs size, 12·L·d² parameters per dense layer stack, GQA ratio, fp16 KV cache)
# and deployment headroom. The fitted efficiencies of seal.estimator.model absorb their error.
LAYERS_COEF = 20.0        # layers ~= LAYERS_COEF * params_B ** LAYERS_EXP (fits Llama/Qwen/Mistral 1-405 B within ~15 %)
LAYERS_EXP = 0.30
DENSE_PARAMS_PER_LAYER_D2 = 12.0   # params ~= 12 * layers * d_model ** 2 (attention 4 d^2 + MLP 8 d^2)
KV_GQA_RATIO = 4.0        # query heads per KV head assumed (grouped-query attention, typical of 2024 models)
KV_BYTES = 2.0            # bytes per KV-cache element (fp16/bf16 cache)
WEIGHT_HEADROOM = 1.05    # memory per weight byte incl. activations and fragmentation (KV cache counted apart)
GPU_MEMORY_USABLE = 0.95  # share of a GPU's memory usable by the model (CUDA context, allocator reserve)

# Bytes per parameter by precision name (weights as served).
PRECISION_BYTES: dict[str, float] = {
    "float32": 4.0, "fp32": 4.0,
    "bfloat16": 2.0, "bf16": 2.0, "float16": 2.0, "fp16": 2.0, "half": 2.0,
    "fp8": 1.0, "float8": 1.0, "int8": 1.0, "8bit": 1.0,
    "int4": 0.5, "4bit": 0.5, "fp4": 0.5, "nf4": 0.5,
}


@dataclass
class PhysicsParams:
    """Fitted constants of the time and power model (defaults are physically plausible priors).

    Two serving regimes have their own efficiencies: *eager* frameworks at batch 1 (PyTorch/transformers,
    as in LLM-Perf) and *served* batched engines (vLLM, as in ML.ENERGY).

    {eager,served}_compute_eff: achieved / peak dense tensor FLOPS (FP32 FLOPS for float32 weights).
    {eager,served}_memory_eff: achieved / peak memory bandwidth.
    {eager,served}_overhead_s: fixed time per layer and forward step (kernel launches, Python) (s).
    {eager,served}_step_s: fixed time per forward step (sampling, scheduling) (s).
    moe_eager_slowdown: time multiplier of MoE layers in eager frameworks (experts run one by one).
    served_seq_s: CPU time per sequence in the batch per step of a serving engine (scheduling, sampling) (s).
    {scheme}_overhead_x: multiplier of the fixed per-layer time for quantized-weight kernels in eager
        frameworks (more, smaller kernels: bnb 8-bit, bnb 4-bit, GPTQ 4-bit, torchao int4).
    {scheme}_{prefill,decode}_dequant_flop: extra work per weight and forward step to dequantize it (FLOP per
        weight, at the compute efficiency; prefill and decode use different kernels); served engines are
        assumed to use fused kernels with neither cost.
    power_base / power_compute / power_memory: GPU power as a fraction of TDP =
        base + compute * (compute-busy share) + memory * (memory-busy share), clipped to [0.1, 1].
    """

    eager_compute_eff: float = 0.5
    eager_memory_eff: float = 0.5
    eager_overhead_s: float = 5e-4
    eager_step_s: float = 1e-3
    served_compute_eff: float = 0.5
    served_memory_eff: float = 0.7
    served_overhead_s: float = 1e-4
    served_step_s: float = 5e-3
    served_seq_s: float = 1e-4
    moe_eager_slowdown: float = 5.0
    bnb8_overhead_x: float = 1.5
    bnb8_prefill_dequant_flop: float = 20.0
    bnb8_decode_dequant_flop: float = 20.0
    bnb4_overhead_x: float = 1.5
    bnb4_prefill_dequant_flop: float = 20.0
    bnb4_decode_dequant_flop: float = 20.0
    gptq_overhead_x: float = 1.5
    gptq_prefill_dequant_flop: float = 20.0
    gptq_decode_dequant_flop: float = 20.0
    torchao_overhead_x: float = 1.5
    torchao_prefill_dequant_flop: float = 20.0
    torchao_decode_dequant_flop: float = 20.0
    power_base: float = 0.4
    power_compute: float = 0.5
    power_memory: float = 0.3

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


PARAM_NAMES = tuple(PhysicsParams().to_dict())


def bytes_per_param(precision) -> np.ndarray:
    """Bytes per weight for each precision name (NaN where unknown; see PRECISION_BYTES)."""
    import pandas as pd

    names = pd.Series(np.asarray(precision, dtype=object).ravel()).astype("string").str.strip().str.lower()
    return names.map(PRECISION_BYTES).astype(float).to_numpy()


def n_layers(n_tot: np.ndarray) -> np.ndarray:
    """Approximate number of transformer layers from total params (billions)."""
    return LAYERS_COEF * np.maximum(n_tot, 1e-3) ** LAYERS_EXP


def d_model(n_act: np.ndarray, layers: np.ndarray) -> np.ndarray:
    """Approximate hidden size from (active, attention-bearing) params and layer count."""
    return np.sqrt(np.maximum(n_act, 1e-3) * 1e9 / (DENSE_PARAMS_PER_LAYER_D2 * layers))


def kv_bytes_per_token(layers: np.ndarray, d: np.ndarray) -> np.ndarray:
    """KV-cache bytes per token of context (K and V, every layer, GQA-shrunk)."""
    return 2.0 * layers * d * KV_BYTES / KV_GQA_RATIO


def prefill_flops(n_act: np.ndarray, t_in: np.ndarray, layers: np.ndarray, d: np.ndarray) -> np.ndarray:
    """FLOPs of one request's prefill: 2 x active params x tokens + causal attention 2 L d T^2 (FLOP)."""
    return 2.0 * n_act * 1e9 * t_in + 2.0 * layers * d * t_in ** 2


def decode_flops_per_token(n_act: np.ndarray, context: np.ndarray, layers: np.ndarray, d: np.ndarray) -> np.ndarray:
    """FLOPs to decode one token at a given context length (FLOP)."""
    return 2.0 * n_act * 1e9 + 4.0 * layers * d * context


def weight_bytes_read(n_tot: np.ndarray, n_act: np.ndarray, bpp: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Weight bytes read per forward step, shared by the whole batch (B).

    Dense: all weights. MoE: the experts touched by at least one of ``batch`` tokens, with the active share
    ``r = n_act / n_tot`` as the chance a given expert weight is used by one token: ``n_tot (1 - (1 - r)^b)``.
    """
    r, b = np.broadcast_arrays(np.clip(n_act / n_tot, 1e-6, 1.0), np.maximum(batch, 1.0))
    touched = np.ones(r.shape)  # dense (r = 1): every weight, 1 - 0 ** b
    moe = r < 1.0
    touched[moe] = 1.0 - (1.0 - r[moe]) ** b[moe]  # the power only where it is needed (costly per row)
    return n_tot * 1e9 * bpp * touched


# Quantization schemes with fitted eager-kernel multipliers, and the scheme assumed for a bare precision name.
QUANT_SCHEMES = ("bnb8", "bnb4", "gptq", "torchao")
# A bare precision name given by a user maps to the eager kernels measured for it (LLM-Perf): int8 -> bitsandbytes
# LLM.int8, int4 -> GPTQ/exllama, nf4 -> bitsandbytes 4-bit; fp8/fp4 are native tensor-core formats (no slowdown).
PRECISION_SCHEME: dict[str, str] = {"int8": "bnb8", "8bit": "bnb8", "int4": "gptq", "4bit": "gptq", "nf4": "bnb4"}


def quant_costs(scheme: np.ndarray, eager: np.ndarray, params: PhysicsParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(overhead multiplier, prefill and decode dequantization FLOP per weight) per row; (1, 0, 0) for
    unquantized rows and served engines. ``scheme`` None: no row is quantized."""
    n = len(eager)
    oh = np.ones(n)
    flop_pf = np.zeros(n)
    flop_dc = np.zeros(n)
    if scheme is None:
        return oh, flop_pf, flop_dc
    for name in QUANT_SCHEMES:
        m = (scheme == name) & eager
        oh[m] = getattr(params, f"{name}_overhead_x")
        flop_pf[m] = getattr(params, f"{name}_prefill_dequant_flop")
        flop_dc[m] = getattr(params, f"{name}_decode_dequant_flop")
    return oh, flop_pf, flop_dc


def phase_times(n_tot, n_act, bpp, gpus, batch, t_in, t_out, peak_tflops, fp32_tflops, bandwidth_gb_s, eager,
                params: PhysicsParams, scheme=None) -> dict[str, np.ndarray]:
    """Times of one step of each phase (s) and their busy shares.

    Prefill: one forward over the batch's prompts; decode: one step producing one token for every request
    in the batch, at the mean context ``t_in + t_out / 2``. Time = fixed per-layer overhead + compute time at
    ``compute_eff`` of peak (FP32 peak for 4-byte weights) + memory time at ``memory_eff`` of bandwidth, split
    across ``gpus``, times the quantized-kernel and eager-MoE slowdowns. Efficiencies and overhead come from
    the *eager* or *served* regime per row.

    Returns ``prefill_s`` (forward time), ``decode_step_s`` (one step), and busy shares for the power model.
    """
    layers = n_layers(n_tot)
    d = d_model(n_act, layers)
    c_eff = np.where(eager, params.eager_compute_eff, params.served_compute_eff)
    m_eff = np.where(eager, params.eager_memory_eff, params.served_memory_eff)
    peak_each = np.where(bpp >= 4.0, fp32_tflops, peak_tflops)
    peak = gpus * peak_each * 1e12 * c_eff
    bw = gpus * bandwidth_gb_s * 1e9 * m_eff
    scheme = None if scheme is None else np.asarray(scheme, dtype=object)
    q_oh, q_flop_pf, q_flop_dc = quant_costs(scheme, np.broadcast_to(eager, np.shape(np.atleast_1d(n_tot))), params)
    moe = n_act < 0.95 * n_tot
    slow = np.where(eager & moe, params.moe_eager_slowdown, 1.0)
    overhead = (np.where(eager, params.eager_overhead_s, params.served_overhead_s) * layers * q_oh
                + np.where(eager, params.eager_step_s, params.served_step_s + params.served_seq_s * batch)) * slow
    weights_per_peak = n_tot * 1e9 / peak * slow   # dequantization is per forward step, independent of tokens

    w_bytes = weight_bytes_read(n_tot, n_act, bpp, batch * np.maximum(t_in, 1.0))
    pf_c = (batch * prefill_flops(n_act, t_in, layers, d) / peak) * slow + q_flop_pf * weights_per_peak
    pf_m = w_bytes / bw * slow
    prefill_s = overhead + pf_c + pf_m

    context = t_in + np.maximum(t_out, 1.0) / 2.0
    dc_c = (batch * decode_flops_per_token(n_act, context, layers, d) / peak) * slow + q_flop_dc * weights_per_peak
    dc_m = (weight_bytes_read(n_tot, n_act, bpp, batch)
            + batch * kv_bytes_per_token(layers, d) * context) / bw * slow
    decode_s = overhead + dc_c + dc_m
    return {
        "prefill_s": prefill_s, "decode_step_s": decode_s,
        "prefill_compute_share": pf_c / prefill_s, "prefill_memory_share": pf_m / prefill_s,
        "decode_compute_share": dc_c / decode_s, "decode_memory_share": dc_m / decode_s,
    }


def power_fraction(compute_share: np.ndarray, memory_share: np.ndarray, params: PhysicsParams) -> np.ndarray:
    """GPU power draw as a fraction of TDP from how busy compute and memory are (clipped to 0.1-1)."""
    f = params.power_base + params.power_compute * compute_share + params.power_memory * memory_share
    return np.clip(f, 0.1, 1.0)


def request_energy_j(times: dict[str, np.ndarray], gpus, batch, t_out, tdp_w, params: PhysicsParams) -> dict[str, np.ndarray]:
    """Per-request GPU energy of each phase (J) and the request's share of GPU time (GPU-s).

    A request is charged ``1 / batch`` of the energy of every step it took part in:
    prefill ``gpus x P x t_prefill / b``, decode ``gpus x P x t_step x t_out / b``.
    """
    p_pf = power_fraction(times["prefill_compute_share"], times["prefill_memory_share"], params) * tdp_w
    p_dc = power_fraction(times["decode_compute_share"], times["decode_memory_share"], params) * tdp_w
    pf_time = gpus * times["prefill_s"] / batch
    dc_time = gpus * times["decode_step_s"] * np.maximum(t_out, 0.0) / batch
    return {
        "prefill_energy_j": p_pf * pf_time, "decode_energy_j": p_dc * dc_time,
        "prefill_power_w": p_pf, "decode_power_w": p_dc,
        "prefill_gpu_time_s": pf_time, "decode_gpu_time_s": dc_time,
    }


def gpu_required_count(n_tot: np.ndarray, bpp: np.ndarray, gpu_memory_gb: np.ndarray,
                       kv_cache_gb: np.ndarray | float = 0.0, power_of_two: bool = True) -> np.ndarray:
    """Fewest GPUs holding the weights (x WEIGHT_HEADROOM) plus the batch's KV cache in GPU_MEMORY_USABLE of
    each GPU's memory, rounded up to a power of two (tensor parallelism splits attention heads evenly, as
    EcoLogits does). MoE: total params (every expert must be resident)."""
    need_gb = n_tot * bpp * WEIGHT_HEADROOM + kv_cache_gb
    usable = gpu_memory_gb * GPU_MEMORY_USABLE
    count = np.maximum(np.ceil(need_gb / usable), 1.0)
    if power_of_two:
        count = 2.0 ** np.ceil(np.log2(count))
    return count


def kv_cache_gb(n_tot: np.ndarray, n_act: np.ndarray, batch: np.ndarray, context: np.ndarray) -> np.ndarray:
    """KV cache of a batch at a context length (GB)."""
    layers = n_layers(n_tot)
    return batch * context * kv_bytes_per_token(layers, d_model(n_act, layers)) / 1e9
