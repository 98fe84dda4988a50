"""Physics of one LLM request on a GPU server: FLOPs, bytes moved, time and power, per phase.

Small pure functions, one per quantity, numpy arrays in and out (a single request is an array of length 1).
The fitted constants (efficiencies and overheads per serving engine, MoE and quantized-kernel costs, the power
curve) live in :class:`PhysicsParams`; :mod:`seal.estimator.model` fits them on measured benchmark runs — time
and power apart, where a source measures both.

Notation: ``n_tot`` / ``n_act`` total / active parameters (billions), ``g`` GPU count, ``b`` batch size (mean
number of requests served concurrently, may be fractional), ``t_in`` / ``t_out`` input / output tokens per
request. A *physics frame* is a dict of equal-length arrays: the columns named in :data:`FRAME_COLUMNS` plus the
shape arrays of :class:`seal.estimator.shapes.Shapes`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from seal.estimator import defaults as D
from seal.estimator import shapes as S

# Engines in physics frames as integer codes (index into defaults.ENGINES), and the PhysicsParams prefix of each.
ENGINE_PREFIX = {"transformers": "transformers", "vllm-2024": "vllm2024", "vllm": "vllm"}
ENGINE_FIELDS = ("compute_eff", "memory_eff", "link_eff", "layer_s", "step_s", "seq_s", "comm_s", "moe_x")
ACT_BYTES = 2.0        # bytes per activation element exchanged between GPUs (bf16)
COLLECTIVES_PER_LAYER = 2.0   # tensor parallel: one all-reduce after attention, one after the MLP (Megatron)
RING_ALL_REDUCE_PASSES = 2.0  # a ring all-reduce sends each byte twice (reduce-scatter + all-gather): 2(g-1)/g
POWER_FLOOR_TDP_SHARE = 0.05  # fraction of TDP: SEAL's floor on a serving GPU's modelled power (a fit never
#                               drives it to zero)
# GPU generations with a fitted power scale (others use 1: the global curve).
GENERATIONS = ("turing", "ampere", "hopper", "blackwell")
# Quantization schemes with fitted eager-kernel costs (transformers only; served engines use fused kernels).
QUANT_SCHEMES = ("bnb8", "bnb4", "gptq", "torchao")
FRAME_COLUMNS = ("n_tot", "n_act", "bpp", "gpus", "batch", "t_in", "t_out", "peak_tflops", "bandwidth_gb_s",
                 "link_gb_s",
                 "tdp_w", "engine", "generation", "scheme")


@dataclass
class PhysicsParams:
    """Fitted constants of the time and power model (defaults are the priors the fit is pulled towards).

    Per engine (``transformers_*``, ``vllm2024_*``, ``vllm_*``):
        compute_eff / memory_eff / link_eff: achieved share of peak tensor FLOPS / memory bandwidth / GPU-to-GPU
            link bandwidth;
        layer_s: fixed time per layer and forward step (kernel launches) (s);
        step_s: fixed time per forward step (sampling, scheduling) (s);
        seq_s: time per sequence in the batch per step (scheduler, sampler, detokeniser) (s);
        comm_s: latency per layer per step per doubling of the GPU count (tensor / expert parallel collectives) (s);
        moe_x: time multiplier of an MoE model's compute and weight reads (routing, expert load imbalance;
            eager frameworks run experts one by one).
    ``{scheme}_overhead_x`` / ``{scheme}_{prefill,decode}_dequant_flop``: eager quantized kernels (bitsandbytes
    8/4-bit, GPTQ, torchao) — a multiplier of the per-layer time and dequantization work per weight per step.
    ``attention_x``: time multiplier of attention (FLOPs and KV-cache reads): paged / ragged attention kernels run
    further from peak than dense matrix products and weight streaming.
    ``low_precision_x``: time multiplier of FP8 / INT8 / FP4 matrix products at their own peak (scaling and
    conversion, smaller tiles: they reach ~peak / 1.5, not the datasheet's 2x of BF16).
    ``moe_spread``: extra MoE time per doubling of the GPUs the experts are spread over (expert-parallel load
    imbalance: a step waits for the busiest GPU) — MoE time x ``(1 + moe_spread x log2 g)``.
    Compute and memory traffic overlap: their busy time is the 2-norm ``sqrt(c^2 + m^2)`` (the p of a p-norm fitted
    2.03 when left free; fixed at 2, which ``np.hypot`` computes without per-row powers).
    Power per GPU = TDP x scale(generation) x (idle + compute x compute-busy share + memory x memory-busy share),
    clipped to [``POWER_FLOOR_TDP_SHARE``, 1] of TDP: time spent in fixed overheads and collectives draws only the
    idle part.
    """

    transformers_compute_eff: float = 0.5
    transformers_memory_eff: float = 0.5
    transformers_link_eff: float = 0.5
    transformers_layer_s: float = 5e-4
    transformers_step_s: float = 1e-3
    transformers_seq_s: float = 1e-5
    transformers_comm_s: float = 1e-4
    transformers_moe_x: float = 5.0
    vllm2024_compute_eff: float = 0.5
    vllm2024_memory_eff: float = 0.7
    vllm2024_link_eff: float = 0.5
    vllm2024_layer_s: float = 1e-4
    vllm2024_step_s: float = 5e-3
    vllm2024_seq_s: float = 1e-4
    vllm2024_comm_s: float = 5e-5
    vllm2024_moe_x: float = 1.5
    vllm_compute_eff: float = 0.5
    vllm_memory_eff: float = 0.7
    vllm_link_eff: float = 0.6
    vllm_layer_s: float = 3e-5
    vllm_step_s: float = 2e-3
    vllm_seq_s: float = 3e-5
    vllm_comm_s: float = 3e-5
    vllm_moe_x: float = 1.5
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
    low_precision_x: float = 1.5
    moe_spread: float = 0.1
    attention_x: float = 1.5
    power_idle: float = 0.2
    power_compute: float = 0.7
    power_memory: float = 0.5
    power_scale_turing: float = 1.0
    power_scale_ampere: float = 1.0
    power_scale_hopper: float = 1.0
    power_scale_blackwell: float = 1.0
    power_scale_other: float = 1.0   # GPUs of other generations: set after fitting to the fitted scales' mean

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    def engine_array(self, field: str, engine: np.ndarray) -> np.ndarray | float:
        """``{engine}_{field}`` per row (``engine``: codes into :data:`seal.estimator.defaults.ENGINES`); a scalar
        when every row has the same engine (the usual batch: no per-row gather)."""
        values = np.array([getattr(self, f"{ENGINE_PREFIX[e]}_{field}") for e in D.ENGINES])
        if len(engine) and engine.min() == engine.max():
            return float(values[engine[0]])
        return values[engine]


PARAM_NAMES = tuple(PhysicsParams().to_dict())


def engine_codes(names) -> np.ndarray:
    """Engine names -> codes into :data:`seal.estimator.defaults.ENGINES` (-1 where unknown)."""
    lookup = {e: i for i, e in enumerate(D.ENGINES)}
    return np.array([lookup.get(str(n), -1) for n in np.asarray(names, dtype=object).ravel()], dtype=np.int64)


def weights_read_b(s: S.Shapes, tokens: np.ndarray) -> np.ndarray:
    """Weights (billions) one forward step reads when it carries ``tokens`` tokens: every dense weight, and of
    the routed experts those at least one token picks: ``E_w x (1 - (1 - k/E)^tokens)``. The read is shared by
    all the step's tokens."""
    moe = s.route_share < 1.0
    if not moe.any():   # dense models only: every weight, every step
        return s.dense_params_b + s.expert_params_b
    # one vectorised power over every row (a dense row's share 1 gives 1 - 0^n = 1): cheaper than gathering MoE rows
    touched = 1.0 - (1.0 - s.route_share) ** np.maximum(tokens, 1.0)
    return s.dense_params_b + s.expert_params_b * touched


def quant_costs(scheme, eager: np.ndarray, params: PhysicsParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(per-layer overhead multiplier, prefill and decode dequantization FLOP per weight) per row; (1, 0, 0) for
    unquantized rows and served engines. ``scheme`` None: no row is quantized."""
    n = len(eager)
    if scheme is None:
        return 1.0, 0.0, 0.0
    oh, flop_pf, flop_dc = np.ones(n), np.zeros(n), np.zeros(n)
    scheme = np.asarray(scheme, dtype=object)
    for name in QUANT_SCHEMES:
        m = (scheme == name) & eager
        oh[m] = getattr(params, f"{name}_overhead_x")
        flop_pf[m] = getattr(params, f"{name}_prefill_dequant_flop")
        flop_dc[m] = getattr(params, f"{name}_decode_dequant_flop")
    return oh, flop_pf, flop_dc


def _gather(pf: dict):
    """``at(a)``: a configuration-level array at every row (``pf["rows"]``: row -> configuration), or the array
    itself when the frame is per row already (``rows`` absent)."""
    rows = pf.get("rows")
    if rows is None:
        return lambda a: a
    return lambda a: a[rows] if isinstance(a, np.ndarray) else a


def _inverse_rates(pf: dict, params: PhysicsParams) -> tuple[np.ndarray, np.ndarray]:
    """(s per FLOP, s per byte) of one GPU at the engine's achieved share of peak, per configuration (FP8 / INT8 /
    FP4 matrix products x ``low_precision_x``)."""
    engine = pf["engine"]
    low = pf["low_precision"] if "low_precision" in pf else np.zeros(len(engine), dtype=bool)
    inv_peak = np.where(low, params.low_precision_x, 1.0) / (pf["peak_tflops"] * 1e12
                                                              * params.engine_array("compute_eff", engine))
    inv_bw = 1.0 / (pf["bandwidth_gb_s"] * 1e9 * params.engine_array("memory_eff", engine))
    return inv_peak, inv_bw


def _moe_time_x(pf: dict, params: PhysicsParams, at, moe: np.ndarray, log2_g) -> np.ndarray:
    """MoE time multiplier per request: ``moe_x x (1 + moe_spread x log2 g)`` on MoE rows, 1 on dense rows
    (``log2_g`` None: every request runs on one GPU)."""
    moe_base = at(np.where(moe, params.engine_array("moe_x", pf["engine"]), 1.0))
    if log2_g is None:
        return moe_base
    return moe_base * np.where(at(moe), 1.0 + params.moe_spread * log2_g, 1.0)


def _overhead_s(pf: dict, params: PhysicsParams, at, quant_x, moe_x, moe: np.ndarray, log2_g) -> np.ndarray:
    """Fixed time of one step per request (s): ``layer_s L`` (x the quantized-kernel multiplier, x ``moe_x`` for
    MoE in eager frameworks) + ``step_s + seq_s b`` + ``comm_s L log2 g`` (collective latency)."""
    engine, layers = pf["engine"], pf["shape"].layers
    layer = params.engine_array("layer_s", engine) * layers * quant_x
    fixed = params.engine_array("step_s", engine) + params.engine_array("seq_s", engine) * pf["batch"]
    eager_moe = (engine == 0) & moe
    overhead = at(layer) * (np.where(at(eager_moe), moe_x, 1.0) if eager_moe.any() else 1.0) + at(fixed)
    if log2_g is None:
        return overhead
    return overhead + at(params.engine_array("comm_s", engine) * layers) * log2_g


def _attention_terms(pf: dict, params: PhysicsParams, at, context: np.ndarray):
    """Per request, x ``attention_x``: attention FLOPs of a prefill step, of a decode step at ``context``, and the
    KV-cache bytes a decode step reads. Causal attention ``A_p = w_p (full t^2/2 + window (t w - w^2/2))``,
    ``A_d = w (full c + window min(c, w))``; KV ``b x KV_BYTES x kv_width (full c + window min(c, w))``."""
    s, t_in = pf["shape"], pf["t_in"]
    per_batch = params.attention_x * pf["batch"]
    att, att_p = per_batch * s.attn_flop_width, per_batch * s.attn_prefill_width
    kv = per_batch * D.KV_BYTES * s.kv_width
    att_pf = at(att_p * s.full_layers) * t_in ** 2 / 2.0
    att_dc = at(att * s.full_layers) * context
    kv_dc = at(kv * s.full_layers) * context
    if s.window_layers.any():
        wt = at(s.window_tokens)
        w_pf, w_dc = np.minimum(t_in, wt), np.minimum(context, wt)
        att_pf = att_pf + at(att_p * s.window_layers) * (t_in * w_pf - w_pf ** 2 / 2.0)
        att_dc = att_dc + at(att * s.window_layers) * w_dc
        kv_dc = kv_dc + at(kv * s.window_layers) * w_dc
    return att_pf, att_dc, kv_dc


def _weight_bytes(pf: dict, at, moe: np.ndarray, prefill_tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weight bytes one prefill step (``prefill_tokens`` tokens) and one decode step (``b`` tokens) read, per
    request (:func:`weights_read_b`)."""
    s, rows = pf["shape"], pf.get("rows")
    w_bytes = 1e9 * pf["bpp"]
    decode = at(weights_read_b(s, pf["batch"]) * w_bytes)
    if not moe.any():
        return at((s.dense_params_b + s.expert_params_b) * w_bytes), decode
    return weights_read_b(s.take(rows) if rows is not None else s, prefill_tokens) * at(w_bytes), decode


def _busy_s(pf: dict, params: PhysicsParams, at, moe_x, moe: np.ndarray, dequant_flop, prefill_tokens):
    """Per request (s): compute- and memory-busy time of one prefill step, then of one decode step (FLOPs at
    ``moe_x / (g x peak x compute_eff)``, bytes at ``moe_x / (g x bandwidth x memory_eff)``)."""
    g, t_in = pf["gpus"], pf["t_in"]
    inv_peak, inv_bw = _inverse_rates(pf, params)
    cf, mf = moe_x * at(inv_peak) / g, moe_x * at(inv_bw) / g
    att_pf, att_dc, kv_dc = _attention_terms(pf, params, at, t_in + np.maximum(pf["t_out"], 1.0) / 2.0)
    flop_tok = pf["batch"] * 2.0 * pf["n_act"] * 1e9
    deq_pf, deq_dc = (q * pf["n_tot"] * 1e9 * inv_peak for q in dequant_flop)
    pf_weights, dc_weights = _weight_bytes(pf, at, moe, prefill_tokens)
    return (cf * (at(flop_tok) * t_in + att_pf) + at(deq_pf) / g, pf_weights * mf,
            cf * (at(flop_tok) + att_dc) + at(deq_dc) / g, (dc_weights + kv_dc) * mf)


def _collectives_s(pf: dict, params: PhysicsParams, at, prefill_tokens, log2_g):
    """GPU-to-GPU collective time (s) of one prefill and one decode step per request, ``n`` tokens in the step:
    ``2 L n hidden x 2 B x 2 (g-1)/g / (link x link_eff)``; (0, 0) when every request runs on one GPU."""
    if log2_g is None:
        return 0.0, 0.0
    s, g = pf["shape"], pf["gpus"]
    link = pf["link_gb_s"] * 1e9 * params.engine_array("link_eff", pf["engine"])
    per_token = COLLECTIVES_PER_LAYER * s.layers * s.hidden * ACT_BYTES * RING_ALL_REDUCE_PASSES / np.maximum(link, 1.0)
    share_g = (g - 1.0) / g
    return at(per_token) * prefill_tokens * share_g, at(per_token * pf["batch"]) * share_g


def phase_times(pf: dict, params: PhysicsParams) -> dict[str, np.ndarray]:
    """Times of one step of each phase (s) and their compute- / memory-busy shares.

    Prefill: one forward over the batch's ``b`` prompts; decode: one step producing a token for every request of
    the batch at the mean context ``t_in + t_out / 2``. Per step, with ``n`` tokens in it (prefill ``b x t_in``,
    decode ``b``) on ``g`` GPUs:

    - compute [s] = ``moe_x x FLOPs / (g x peak x compute_eff)``; FLOPs: prefill ``b (2 N_act t_in + a x A_p(t_in))``,
      decode ``b (2 N_act + a x A_d(c))`` (``a`` = attention_x; :func:`_attention_terms`), plus dequantization;
    - memory [s] = ``moe_x x bytes / (g x bandwidth x memory_eff)``; bytes: weights touched
      (:func:`weights_read_b`) x bytes/weight, plus for decode the KV cache read;
    - collectives [s] (:func:`_collectives_s`) and fixed overhead [s] (:func:`_overhead_s`);
    - step = overhead + ``hypot(compute, memory)`` + collectives (compute and memory overlap as a 2-norm).

    ``pf`` may hold the configuration-level quantities once per configuration with ``pf["rows"]`` mapping each
    request to its configuration (``gpus``, ``t_in``, ``t_out`` are per request): everything that does not
    depend on the request is then computed once per configuration and only token terms run per request.
    """
    at = _gather(pf)
    g, moe = pf["gpus"], pf["shape"].route_share < 1.0
    log2_g = np.log2(np.maximum(g, 1.0)) if (g > 1.0).any() else None
    quant_x, *dequant_flop = quant_costs(pf.get("scheme"), pf["engine"] == 0, params)
    moe_x = _moe_time_x(pf, params, at, moe, log2_g)
    overhead = _overhead_s(pf, params, at, quant_x, moe_x, moe, log2_g)
    prefill_tokens = at(pf["batch"]) * np.maximum(pf["t_in"], 1.0)
    pf_c, pf_m, dc_c, dc_m = _busy_s(pf, params, at, moe_x, moe, dequant_flop, prefill_tokens)
    coll_pf, coll_dc = _collectives_s(pf, params, at, prefill_tokens, log2_g)
    prefill_s = overhead + np.hypot(pf_c, pf_m) + coll_pf
    decode_s = overhead + np.hypot(dc_c, dc_m) + coll_dc
    return {
        "prefill_s": prefill_s, "decode_step_s": decode_s,
        "prefill_compute_share": pf_c / prefill_s, "prefill_memory_share": pf_m / prefill_s,
        "decode_compute_share": dc_c / decode_s, "decode_memory_share": dc_m / decode_s,
    }


def power_fraction(compute_share: np.ndarray, memory_share: np.ndarray, scale: np.ndarray | float,
                   params: PhysicsParams) -> np.ndarray:
    """GPU power as a fraction of TDP: ``scale_gen x (idle + compute x c + memory x m)``, clipped to 0.05-1."""
    f = scale * (params.power_idle + params.power_compute * compute_share + params.power_memory * memory_share)
    return np.clip(f, POWER_FLOOR_TDP_SHARE, 1.0)


def generation_scale(generation: np.ndarray, params: PhysicsParams) -> np.ndarray | float:
    """The fitted power scale of each GPU generation code (-1: another generation)."""
    scales = np.array([*(getattr(params, f"power_scale_{g}") for g in GENERATIONS), params.power_scale_other])
    if len(generation) and generation.min() == generation.max():
        return float(scales[len(GENERATIONS) if generation[0] < 0 else generation[0]])
    return scales[np.where(generation < 0, len(GENERATIONS), generation)]


def request_energy_j(times: dict[str, np.ndarray], pf: dict, params: PhysicsParams) -> dict[str, np.ndarray]:
    """Per-request GPU energy of each phase (J), mean GPU power (W per GPU) and the request's share of GPU time
    (GPU-s). A request is charged ``1 / b`` of every step it took part in: prefill ``g x P x t_prefill / b``,
    decode ``g x P x t_step x t_out / b``."""
    at = _gather(pf)
    scale = generation_scale(pf["generation"], params)
    scale = at(scale) if isinstance(scale, np.ndarray) else scale
    tdp = at(pf["tdp_w"])
    p_pf = power_fraction(times["prefill_compute_share"], times["prefill_memory_share"], scale, params) * tdp
    p_dc = power_fraction(times["decode_compute_share"], times["decode_memory_share"], scale, params) * tdp
    per_b = pf["gpus"] / at(pf["batch"])
    pf_time = per_b * times["prefill_s"]
    dc_time = per_b * times["decode_step_s"] * np.maximum(pf["t_out"], 0.0)
    return {
        "prefill_energy_j": p_pf * pf_time, "decode_energy_j": p_dc * dc_time,
        "prefill_power_w": p_pf, "decode_power_w": p_dc,
        "prefill_gpu_time_s": pf_time, "decode_gpu_time_s": dc_time,
    }


def gpu_required_count(n_tot: np.ndarray, bpp: np.ndarray, gpu_memory_gb: np.ndarray,
                       kv_cache_gb: np.ndarray | float = 0.0, power_of_two: bool = True) -> np.ndarray:
    """Fewest GPUs holding the weights (x WEIGHT_HEADROOM) plus the batch's KV cache in GPU_MEMORY_USABLE of
    each GPU's memory, rounded up to a power of two (tensor / expert parallelism splits heads and experts
    evenly, as EcoLogits does). MoE: total params (every expert must be resident)."""
    need_gb = n_tot * bpp * D.WEIGHT_HEADROOM + kv_cache_gb
    usable = gpu_memory_gb * D.GPU_MEMORY_USABLE
    count = np.maximum(np.ceil(need_gb / usable), 1.0)
    if power_of_two:
        count = 2.0 ** np.ceil(np.log2(count))
    return count
