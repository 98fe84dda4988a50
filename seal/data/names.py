"""What a model id says about itself: family, size (``7b``, ``1.4b``, ``125m``, ``8x7b``) and MoE-ness.

Pure, vectorised functions over a ``pd.Series`` of model ids (Hugging Face ``org/name`` or bare names).
Used as a fallback when no catalogue knows the model's parameter count.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# Ordered (pattern, family): the first pattern found in the lower-cased id wins. Families group models that
# share an architecture lineage, for leave-one-family-out validation.
FAMILY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("llava", "llava"),
    ("chameleon", "chameleon"),
    ("recurrentgemma", "recurrentgemma"),
    ("codegemma", "gemma"),
    ("gemma", "gemma"),
    ("codellama", "llama"),
    ("tinyllama", "llama"),
    ("llama", "llama"),
    ("mixtral", "mixtral"),
    ("mistral", "mistral"),
    ("qwen1.5-moe", "qwen2-moe"),
    ("qwen2-57b-a14b", "qwen2-moe"),
    ("qwen1.5", "qwen2"),
    ("qwen2", "qwen2"),
    ("qwen", "qwen"),
    ("phi", "phi"),
    ("pythia", "pythia"),
    ("polyglot", "gpt-neox"),
    ("gpt-neox", "gpt-neox"),
    ("redpajama", "gpt-neox"),
    ("gpt-neo", "gpt-neo"),
    ("gpt-j", "gpt-j"),
    ("distilgpt2", "gpt2"),
    ("gpt2", "gpt2"),
    ("xglm", "xglm"),
    ("opt-", "opt"),
    ("falcon", "falcon"),
    ("bloom", "bloom"),
    ("starcoder", "starcoder"),
    ("decicoder", "deci"),
    ("decilm", "deci"),
    ("codegen", "codegen"),
    ("stablelm", "stablelm"),
    ("internlm", "internlm"),
    ("01-ai/yi", "yi"),
    ("yi-", "yi"),
    ("dbrx", "dbrx"),
    ("deepseek", "deepseek"),
    ("olmo", "olmo"),
    ("granite", "granite"),
    ("command", "cohere"),
    ("aya", "cohere"),
    ("jamba", "jamba"),
    ("mpt-", "mpt"),
    ("t5", "t5"),
    ("rho-math", "llama"),
)

# Architectures (Hugging Face class names, lower-cased prefixes) that are mixtures of experts.
MOE_ARCHITECTURES: tuple[str, ...] = (
    "mixtral", "qwen2moe", "qwen3moe", "deepseekv2", "deepseekv3", "dbrx", "jamba", "phimoe", "olmoe",
    "granitemoe", "grok", "arctic", "llama4",
)

_SIZE = r"(?<![a-z0-9.])(?<![0-9]_)(?P<n>\d+(?:[._]\d+)?)(?P<unit>[bm])(?![a-z0-9])"
_EXPERTS = r"(?<![a-z0-9.])(?<![0-9]_)(?P<e>\d+)x(?P<n>\d+(?:[._]\d+)?)b(?![a-z0-9])"
_ACTIVE = r"(?<![a-z0-9.])(?<![0-9]_)a(?P<n>\d+(?:[._]\d+)?)b(?![a-z0-9])"
MOE_TOP_K_DEFAULT = 2  # experts active per token when only "NxMb" is known (Mixtral-style top-2 routing)


def _name_number(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.replace("_", ".", regex=False), errors="coerce")


def model_family(model_ids: pd.Series) -> pd.Series:
    """Family of each model id (``llama``, ``qwen2``, ``gemma`` ...), or ``other``."""
    ids = model_ids.astype("str").str.lower()
    out = pd.Series("other", index=model_ids.index, dtype="str")
    done = pd.Series(False, index=model_ids.index)
    for pattern, family in FAMILY_PATTERNS:
        hit = ~done & ids.str.contains(pattern, regex=False)
        out[hit] = family
        done |= hit
    return out


def params_from_name(model_ids: pd.Series) -> pd.DataFrame:
    """Parameter counts written in the ids.

    Returns columns ``params_b`` (total, billions), ``active_params_b`` (billions) and ``is_moe`` (bool);
    NaN where the id names no size. ``8x7b`` gives total 56 and active ``2/8`` of it (top-2 routing assumed);
    ``A2.7B`` gives the active count of a MoE; ``125m`` gives 0.125.
    """
    names = model_ids.astype("str").str.lower().str.rsplit("/", n=1).str[-1]
    size = names.str.extract(_SIZE)
    total = _name_number(size["n"]) * np.where(size["unit"] == "m", 1e-3, 1.0)
    experts = names.str.extract(_EXPERTS)
    n_exp = pd.to_numeric(experts["e"], errors="coerce")
    per_exp = _name_number(experts["n"])
    has_exp = n_exp.notna() & per_exp.notna()
    total = total.where(~has_exp, n_exp * per_exp)
    active = total.where(~has_exp, n_exp.clip(upper=MOE_TOP_K_DEFAULT) / n_exp * n_exp * per_exp)
    active_tag = _name_number(names.str.extract(_ACTIVE)["n"])
    has_active = active_tag.notna()
    active = active.where(~has_active, active_tag)
    # An id with only the active tag ("Qwen1.5-MoE-A2.7B") names no total.
    total = total.where(~(has_active & (total == active_tag)), np.nan)
    is_moe = has_exp | has_active | names.str.contains("moe", regex=False)
    return pd.DataFrame({"params_b": total.astype("float64"), "active_params_b": active.astype("float64"),
                         "is_moe": is_moe.astype(bool)}, index=model_ids.index)


def is_moe_architecture(architectures: pd.Series) -> pd.Series:
    """True where a Hugging Face architecture class (``MixtralForCausalLM``) is a mixture of experts."""
    arch = architectures.astype("str").str.lower()
    return arch.str.startswith(MOE_ARCHITECTURES).fillna(False).astype(bool)
