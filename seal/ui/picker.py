"""The model picker's order and labels: popular models first, by family, then every other catalogue model.

Labels read "Meta Llama · meta-llama/Meta-Llama-3.1-8B-Instruct · open · 8.03 B": the family, the full name (so the
picker's search finds any part of it), open or closed weights and the size. The popular list is SEAL's choice of the
chat / instruct models most used through APIs and on open-weights hubs in 2024-26; only those the catalogue holds
are shown.
"""
from __future__ import annotations

import re

import pandas as pd

# family -> catalogue keys, in the order shown
POPULAR: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("OpenAI GPT", ("openai/gpt-4o", "openai/gpt-4o-mini", "openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/gpt-5",
                    "openai/gpt-5-mini", "openai/o4-mini", "openai/gpt-oss-120b", "openai/gpt-oss-20b")),
    ("Anthropic Claude", ("anthropic/claude-sonnet-4-5-20250929", "anthropic/claude-opus-4-5-20251101",
                          "anthropic/claude-haiku-4-5-20251001")),
    ("Google Gemini", ("google_genai/gemini-2.5-pro", "google_genai/gemini-2.5-flash",
                       "google_genai/gemini-2.5-flash-lite")),
    ("Meta Llama", ("meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama/Meta-Llama-3.1-70B-Instruct",
                    "meta-llama/Meta-Llama-3.1-405B-Instruct", "meta-llama/Llama-3.3-70B-Instruct",
                    "meta-llama/Llama-3.2-3B-Instruct", "meta-llama/Llama-3.2-1B-Instruct")),
    ("Mistral", ("mistralai/Mistral-7B-Instruct-v0.3", "mistralai/Mistral-Nemo-Instruct-2407",
                 "mistralai/Mistral-Small-Instruct-2409", "mistralai/Mixtral-8x7B-Instruct-v0.1",
                 "mistralai/Mistral-Large-Instruct-2407", "mistralai/mistral-large-latest",
                 "mistralai/mistral-medium-latest", "mistralai/mistral-small-latest")),
    ("Qwen", ("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-32B-Instruct",
              "Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-Coder-7B-Instruct")),
    ("Google Gemma", ("google/gemma-2-2b-it", "google/gemma-2-9b-it", "google/gemma-2-27b-it")),
    ("DeepSeek", ("deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1", "deepseek-ai/deepseek-llm-67b-chat")),
    ("Microsoft Phi", ("microsoft/phi-4", "microsoft/Phi-3.5-mini-instruct", "microsoft/Phi-3-medium-4k-instruct")),
    ("Cohere Command", ("cohere/command-a-03-2025", "cohere/command-r-plus-08-2024", "cohere/command-r-08-2024")),
)
# family of any other model, from its provider prefix or name (first match wins)
FAMILY_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^openai/", "OpenAI GPT"), (r"^anthropic/", "Anthropic Claude"), (r"^google_genai/", "Google Gemini"),
    (r"gemma", "Google Gemma"), (r"llama", "Meta Llama"), (r"mistral|mixtral|ministral|codestral|magistral", "Mistral"),
    (r"qwen", "Qwen"), (r"deepseek", "DeepSeek"), (r"phi-", "Microsoft Phi"), (r"cohere|command|aya", "Cohere Command"),
)


def family(model: str) -> str:
    """The model's family ("Meta Llama"), or "Other"."""
    for fam, keys in POPULAR:
        if model in keys:
            return fam
    for pattern, fam in FAMILY_PATTERNS:
        if re.search(pattern, model, re.I):
            return fam
    return "Other"


def picker_models(models: pd.DataFrame) -> pd.DataFrame:
    """``models`` (:func:`seal.ui.loaders.models`: ``model``, ``label``) in picker order with ``family``,
    ``popular`` and ``picker_label`` added: popular models by family first, then the rest by family and name."""
    frame = models.copy()
    rank = {key: i for i, (_fam, keys) in enumerate(POPULAR) for key in keys}
    order = {key: j for _fam, keys in POPULAR for j, key in enumerate(keys)}
    frame["family"] = [family(m) for m in frame["model"]]
    frame["popular"] = frame["model"].isin(rank)
    frame["_rank"] = frame["model"].map(rank).fillna(len(POPULAR)).astype(int)
    frame["_order"] = frame["model"].map(order).fillna(0).astype(int)
    frame["_name"] = frame["model"].str.lower()
    frame = frame.sort_values(["_rank", "_order", "_name"], kind="stable").drop(columns=["_rank", "_order", "_name"])
    star = frame["popular"].map({True: "★ ", False: ""})
    label = frame["label"].astype(str)
    estimated = (frame.get("params_estimated", False) == True) & ~label.str.contains("estimated")  # noqa: E712
    label = label.where(~estimated, label + " (estimated)")
    frame["picker_label"] = star + frame["family"] + " · " + label
    return frame.reset_index(drop=True)
