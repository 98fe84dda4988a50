"""Model shapes: the published architecture of a model (``seal/data/facts/model_architectures.csv``), else rules from its size.

A shape gives the physics what a parameter count cannot: layers, attention width, KV-cache width (grouped-query
heads, multi-head latent attention), sliding-window and linear-attention layers, and the mixture-of-experts
layout (routed experts, experts per token, shared experts) that decides how many weights a step reads.

:func:`lookup_shapes` returns one :class:`Shapes` (arrays, one entry per configuration); rows without a published
shape use :func:`shape_from_size` and are flagged (warning ``shape-from-size``).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
import numpy as np
import pandas as pd

from seal.data import facts

from seal.estimator import defaults as D

ARCH_CSV = facts.path("model_architectures.csv")
# Name suffixes that do not change a model's shape (post-training variants, quantized builds, dates).
# A major version (DeepSeek-V3, -v2) names another model and is kept; minor ones (-v0.3) and dates (-2507) are not.
_SHAPE_SUFFIX = re.compile(r"(?:-instruct|-chat|-it|-hf|-base|-thinking|-reasoning|-fp8|-fp8-dynamic|-awq|-gptq"
                           r"|-gptq-int4|-gptq-int8|-int4|-int8|-w8a8|-w4a16|-bf16|-fp16|-mxfp4|-nvfp4|-gguf"
                           r"|-\d{4}|-v\d+\.\d+|:latest)$")


def shape_key(name: str) -> str:
    """Matching key of a model name for the shape table: lower case, no ``org/`` prefix, no ``meta-`` prefix,
    no trailing variant / quantization / date suffixes (``Qwen/Qwen3-235B-A22B-Thinking-2507-FP8`` ->
    ``qwen3-235b-a22b``)."""
    key = str(name).strip().lower().rsplit("/", 1)[-1].replace("_", "-").replace(" ", "-").removeprefix("meta-")
    while True:
        shorter = _SHAPE_SUFFIX.sub("", key)
        if shorter == key or not shorter:
            return key
        key = shorter


@dataclass(frozen=True)
class Shapes:
    """Per-configuration architecture arrays (float).

    layers: transformer blocks; hidden: model width (activations exchanged between GPUs per token); attn_flop_width: FLOP per layer per token per context token of attention
    (4 x heads x head_dim; MLA decode in absorbed form 2 x heads x (2 rank + rope)); attn_prefill_width: the same for
    prefill (MLA prefill runs un-absorbed: 2 x heads x (qk head dim + v head dim)); kv_width: KV-cache elements per token
    per attention layer (2 x kv_heads x head_dim; MLA: rank + rope); full_layers / window_layers: attention layers
    with a growing / a windowed cache; window_tokens: the window (inf: none); dense_params_b / expert_params_b:
    weights every token reads / routed-expert weights (billions); route_share: experts per token / routed experts
    (chance one token uses a given expert); published: a row of the shape table was used.
    """

    layers: np.ndarray
    hidden: np.ndarray
    attn_flop_width: np.ndarray
    attn_prefill_width: np.ndarray
    kv_width: np.ndarray
    full_layers: np.ndarray
    window_layers: np.ndarray
    window_tokens: np.ndarray
    dense_params_b: np.ndarray
    expert_params_b: np.ndarray
    route_share: np.ndarray
    published: np.ndarray

    def take(self, idx: np.ndarray) -> "Shapes":
        return Shapes(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: getattr(self, k) for k in self.__dataclass_fields__})


@functools.lru_cache(maxsize=2)
def load_architectures(path: str | None = None) -> pd.DataFrame:
    """The shape table, one row per model (numbers as floats; empty cells NaN)."""
    frame = pd.read_csv(path or ARCH_CSV)
    for col in frame.columns:
        if col not in ("model_id", "family", "native_precision", "aliases", "source"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


@functools.lru_cache(maxsize=2)
def _index(path: str | None = None) -> dict[str, int]:
    table = load_architectures(path)
    names = [[n.strip() for n in [mid, *str(aliases).split("|")] if n.strip()]
             for mid, aliases in zip(table["model_id"], table["aliases"].fillna(""))]
    # exact spellings first; then loose keys, only where they point to one row (v0.1 and v0.3 of a model share
    # "mistral-7b": that key would pick one of two shapes, so it is left out and the exact names decide)
    index: dict[str, int] = {}
    for i, row in enumerate(names):
        for name in row:
            index.setdefault(name.lower(), i)
    loose: dict[str, set[int]] = {}
    for i, row in enumerate(names):
        for name in row:
            loose.setdefault(shape_key(name), set()).add(i)
    for key, rows in loose.items():
        if len(rows) == 1 and key not in index:
            index[key] = next(iter(rows))
    return index


def find_architecture(names: pd.Series, path: str | None = None) -> np.ndarray:
    """Row position in the shape table per name (-1: none)."""
    index = _index(path)

    def one(name) -> int:
        if name is None or (isinstance(name, float) and np.isnan(name)) or not str(name).strip():
            return -1
        text = str(name).strip().lower()
        return index.get(text, index.get(shape_key(text), -1))

    return np.array([one(n) for n in pd.Series(names, dtype=object)], dtype=np.int64)


def shape_from_size(n_tot: np.ndarray, n_act: np.ndarray) -> Shapes:
    """Size rules (:mod:`seal.estimator.defaults`): layers ``20 N^0.3``, width ``sqrt(N_act / 12 L)``, GQA 4, no
    windows; an MoE's weights are all routed, each used by one token with the chance ``N_act / N_tot``."""
    n_tot = np.maximum(np.asarray(n_tot, dtype=float), 1e-3)
    n_act = np.minimum(np.maximum(np.asarray(n_act, dtype=float), 1e-3), n_tot)
    layers = D.LAYERS_COEF * n_tot ** D.LAYERS_EXP
    d = np.sqrt(n_act * 1e9 / (D.DENSE_PARAMS_PER_LAYER_D2 * layers))
    share = n_act / n_tot
    moe = share < 0.95
    return Shapes(layers=layers, hidden=d, attn_flop_width=4.0 * d, attn_prefill_width=4.0 * d, kv_width=2.0 * d / D.KV_GQA_RATIO, full_layers=layers,
                  window_layers=np.zeros_like(layers), window_tokens=np.full_like(layers, np.inf),
                  dense_params_b=np.where(moe, 0.0, n_tot), expert_params_b=np.where(moe, n_tot, 0.0),
                  route_share=np.where(moe, share, 1.0), published=np.zeros(len(layers), dtype=bool))


def shapes_from_rows(rows: pd.DataFrame, n_tot: np.ndarray) -> Shapes:
    """Shapes of published rows (``n_tot``: the total size the request uses, billions)."""
    f = lambda c, default=0.0: rows[c].astype(float).fillna(default).to_numpy()  # noqa: E731
    layers = f("layers")
    heads, kv_heads, head_dim = f("attention_heads"), f("kv_heads"), f("head_dim")
    rank, rope = f("kv_lora_rank"), f("qk_rope_head_dim")
    mla = rank > 0
    attn_flop_width = np.where(mla, 2.0 * heads * (2.0 * rank + rope), 4.0 * heads * head_dim)
    # MLA prefill: queries / keys of head_dim + rope, values of head_dim (DeepSeek-V3: 2 x 128 x (192 + 128))
    attn_prefill_width = np.where(mla, 2.0 * heads * (2.0 * head_dim + rope), attn_flop_width)
    kv_width = np.where(mla, rank + rope, 2.0 * kv_heads * head_dim)
    linear = f("linear_attention_layers")
    window = f("sliding_window_layers")
    full = np.maximum(layers - linear - window, 0.0)
    window_tokens = rows["sliding_window_tokens"].astype(float).fillna(np.inf).to_numpy()
    experts, k, shared = f("experts_total"), f("experts_per_token"), f("shared_experts")
    moe_layers = np.where(experts > 0, np.maximum(layers - f("dense_layers"), 0.0), 0.0)
    per_expert = 3.0 * f("hidden_size") * f("moe_intermediate_size")   # gate, up, down projections
    expert_b = np.where(experts > 0, moe_layers * experts * per_expert / 1e9, 0.0)
    expert_b = np.minimum(expert_b, 0.98 * n_tot)
    share = np.where(experts > 0, k / np.maximum(experts, 1.0), 1.0)
    _ = shared  # shared experts are read by every token: they sit in the dense part (total - routed)
    return Shapes(layers=layers, hidden=f("hidden_size"), attn_flop_width=attn_flop_width,
                  attn_prefill_width=attn_prefill_width, kv_width=kv_width, full_layers=full,
                  window_layers=window, window_tokens=window_tokens, dense_params_b=n_tot - expert_b,
                  expert_params_b=expert_b, route_share=share, published=np.ones(len(layers), dtype=bool))


def lookup_shapes(models: pd.Series | None, n_tot: np.ndarray, n_act: np.ndarray,
                  path: str | None = None) -> Shapes:
    """Shapes per configuration: the published one where the model has a row, else :func:`shape_from_size`."""
    n_tot = np.asarray(n_tot, dtype=float)
    shapes = shape_from_size(n_tot, n_act)
    if models is None:
        return shapes
    pos = find_architecture(models, path)
    hit = pos >= 0
    if not hit.any():
        return shapes
    table = load_architectures(path)
    published = shapes_from_rows(table.iloc[pos[hit]].reset_index(drop=True), n_tot[hit])
    merged = {}
    for k in Shapes.__dataclass_fields__:
        values = getattr(shapes, k).copy()
        values[hit] = getattr(published, k)
        merged[k] = values
    return Shapes(**merged)


def native_precisions(models: pd.Series, path: str | None = None) -> np.ndarray:
    """The published weight format per name (``""`` where the table has no row)."""
    pos = find_architecture(models, path)
    table = load_architectures(path)
    values = np.append(table["native_precision"].fillna("").astype(str).str.lower().to_numpy(dtype=object), "")
    return values[np.where(pos >= 0, pos, len(table))]


def architecture_sizes(models: pd.Series, path: str | None = None) -> pd.DataFrame:
    """Total / active params (billions) of the shape table's row per name (NaN where none): a model the catalogue
    lacks but the shape table holds still has a size."""
    pos = find_architecture(models, path)
    table = load_architectures(path)
    p = np.full(len(pos), np.nan)
    a = np.full(len(pos), np.nan)
    hit = pos >= 0
    p[hit] = table["params_b"].to_numpy(dtype=float)[pos[hit]]
    a[hit] = table["active_params_b"].to_numpy(dtype=float)[pos[hit]]
    return pd.DataFrame({"params_b": p, "active_params_b": a}, index=pd.Series(models).index)


# ---------------------------------------------------------------- per-token quantities of a shape
def kv_elements_read(s: Shapes, context: np.ndarray) -> np.ndarray:
    """KV-cache elements one decode token reads at a context length (all layers; windows capped)."""
    if not s.window_layers.any():   # no windowed layer in the batch: skip the per-row minimum
        return s.kv_width * s.full_layers * context
    return s.kv_width * (s.full_layers * context + s.window_layers * np.minimum(context, s.window_tokens))
