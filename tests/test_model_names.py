"""Model names as request logs spell them (issue 16): provider and router ids, dated snapshots, runtime tags,
GGUF quantisations, retired models sized as siblings, and the user's model map."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seal.data import aliases
from seal.data.catalogue import (ALIAS_CATALOGUE_SOURCE, RESOLUTION_COLUMNS, RESOLVED_COLUMNS, ecologits_models,
                                 resolve_ecologits, resolve_models)
from seal.errors import SealError
from seal.estimator import defaults as D
from _paths import REAL_LOGS as _REAL_LOGS

REAL_LOGS = _REAL_LOGS / "expected.json"


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("store") / "none.duckdb"   # no store: the EcoLogits catalogue alone


def one(name, offline, **kw) -> pd.Series:
    return resolve_models(pd.Series([name]), db_path=offline, **kw).iloc[0]


# ---------------------------------------------------------------- names from the real logs
REAL = [  # name, model_resolved, resolution, params_b (point), warnings
    ("gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini-2024-07-18", "exact", 18.0, ""),
    ("gpt-5.4-2026-03-05", "openai/gpt-5.4-2026-03-05", "exact", 450.0, ""),
    ("anthropic/claude-sonnet-4", "anthropic/claude-sonnet-4-5-20250929 (sibling of claude-sonnet-4)", "sibling",
     440.0, "model-sibling-estimate;model-alias"),
    ("gpt-4-0613", "openai/gpt-4-0613", "exact", 1760.0, ""),
    ("o1-2024-12-17", "openai/o1-2024-12-17", "exact", 440.0, ""),
    ("gpt-3.5-turbo-0125", "openai/gpt-3.5-turbo-0125", "exact", 45.0, ""),
    ("meta-llama/Meta-Llama-3-8B-Instruct", "meta-llama/Meta-Llama-3-8B-Instruct", "exact", 8.03, ""),
    ("gpt-4.1-2025-04-14", "openai/gpt-4.1-2025-04-14", "exact", 352.0, ""),
    ("claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4-5-20250929", "exact", 440.0, ""),
    ("qwen3", "Qwen/Qwen3-8B (ollama qwen3:8b)", "runtime-default-tag", 8.2, "model-default-tag-size;model-alias"),
    ("llama3.2", "meta-llama/Llama-3.2-3B-Instruct (ollama llama3.2:3b)", "runtime-default-tag", 3.21,
     "model-default-tag-size;model-alias"),
]


@pytest.mark.parametrize("name, resolved, how, params, warnings", REAL)
def test_names_of_the_real_logs(name, resolved, how, params, warnings, offline):
    r = one(name, offline)
    assert r["found"] and r["model_resolved"] == resolved and r["resolution"] == how
    assert r["params_b"] == pytest.approx(params) and r["resolution_warnings"] == warnings


def test_every_model_of_the_real_logs_resolves_but_the_embedding_model(offline):
    if not REAL_LOGS.exists():
        pytest.skip("shared real-log fixtures not laid out here")
    expected = json.loads(REAL_LOGS.read_text())
    names = sorted({m for f in expected.values() for m in f["models"] if m and m != "None"})
    r = resolve_models(pd.Series(names), db_path=offline).set_axis(names)
    assert set(r.index[~r["found"]]) == {"text-embedding-3-small"}   # no sourced size for an embedding model
    assert r.loc["text-embedding-3-small", "resolution"] == "unknown"
    assert {n for n, *_ in REAL} <= set(names)   # the rest are exact catalogue names
    assert set(names) - {n for n, *_ in REAL} == {"text-embedding-3-small", "gpt-5.4", "gpt-4o-mini", "gpt-3.5-turbo",
                                                  "gpt-4o"}


def test_columns_index_and_missing_names(offline):
    names = pd.Series(["qwen3", None, "", "  ", "gpt-4o", "qwen3"], index=[10, 11, 12, 13, 14, 15])
    r = resolve_models(names, db_path=offline)
    assert list(r.columns) == list(RESOLVED_COLUMNS) + list(RESOLUTION_COLUMNS)
    assert list(r.index) == [10, 11, 12, 13, 14, 15]
    assert list(r["resolution"]) == ["runtime-default-tag", "missing", "missing", "missing", "exact",
                                     "runtime-default-tag"]
    assert list(r["found"]) == [True, False, False, False, True, True]
    assert r["model_resolved"].iloc[1:4].isna().all() and list(r["resolution_warnings"].iloc[1:5]) == [""] * 4
    assert r["name_precision"].iloc[0] == "q4_k_m" and r["name_precision"].iloc[4] is None


# ---------------------------------------------------------------- provider prefixes, routers, clouds
PROVIDER_IDS = [  # name, catalogue model_key, pass
    ("openai/gpt-4o", "openai/gpt-4o", "exact"),
    ("azure/gpt-4o", "openai/gpt-4o", "exact"),
    ("azure/gpt-35-turbo", "openai/gpt-3.5-turbo", "exact"),             # EcoLogits alias
    ("google/gemini-2.5-pro", "google_genai/gemini-2.5-pro", "exact"),
    ("publishers/google/models/gemini-2.5-pro", "google_genai/gemini-2.5-pro", "exact"),
    ("projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash", "google_genai/gemini-2.5-flash",
     "exact"),
    ("meta-llama/llama-3.1-8b-instruct", "meta-llama/Meta-Llama-3.1-8B-Instruct", "normalised"),   # OpenRouter
    ("openai/gpt-4o:free", "openai/gpt-4o", "provider-id"),
    ("openai/gpt-4o-mini:nitro", "openai/gpt-4o-mini", "provider-id"),
    ("openrouter/openai/gpt-4o:floor", "openai/gpt-4o", "provider-id"),
    ("openai/gpt-4.1:online", "openai/gpt-4.1", "provider-id"),
    ("openai/o1:beta", "openai/o1", "provider-id"),
    ("anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4-5-20250929", "provider-id"),   # OpenRouter dots
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4-5-20250929", "provider-id"),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4-5-20250929", "provider-id"),
    ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic/claude-haiku-4-5-20251001", "provider-id"),
    ("bedrock/eu.anthropic.claude-opus-4-5-20251101-v1:0", "anthropic/claude-opus-4-5-20251101", "provider-id"),
    ("meta.llama3-1-70b-instruct-v1:0", "meta-llama/Meta-Llama-3.1-70B-Instruct", "provider-id"),
    ("us.meta.llama3-1-8b-instruct-v1:0", "meta-llama/Meta-Llama-3.1-8B-Instruct", "provider-id"),
    ("meta.llama3-70b-instruct-v1:0", "meta-llama/Meta-Llama-3-70B-Instruct", "provider-id"),
    ("mistral.mistral-large-2407-v1:0", "mistralai/Mistral-Large-Instruct-2407", "provider-id"),  # alias table
    ("mistral.mixtral-8x7b-instruct-v0:1", "mistralai/Mixtral-8x7B-Instruct-v0.1", "provider-id"),
    ("mistral.mistral-7b-instruct-v0:2", "mistralai/Mistral-7B-Instruct-v0.2", "provider-id"),
    ("cohere.command-r-plus-v1:0", "CohereForAI/c4ai-command-r-plus", "provider-id"),
    ("cohere.command-r-v1:0", "CohereForAI/c4ai-command-r-v01", "provider-id"),
    ("openai.gpt-oss-120b-1:0", "openai/gpt-oss-120b", "provider-id"),
    ("claude-sonnet-4-5@20250929", "anthropic/claude-sonnet-4-5-20250929", "provider-id"),    # Vertex
    ("vertex_ai/claude-opus-4-5@20251101", "anthropic/claude-opus-4-5-20251101", "provider-id"),
    ("publishers/meta/models/llama-3.1-405b-instruct-maas", "meta-llama/Meta-Llama-3.1-405B-Instruct",
     "provider-id"),
    ("fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct", "meta-llama/Meta-Llama-3.1-8B-Instruct",
     "provider-id"),
    ("deepseek/deepseek-r1", "deepseek-ai/DeepSeek-R1", "provider-id"),     # the full R1, not an Ollama distill
    ("open-mixtral-8x22b", "mistralai/Mixtral-8x22B-Instruct-v0.1", "provider-id"),
    ("lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF", "meta-llama/Meta-Llama-3.1-8B-Instruct", "provider-id"),
]


@pytest.mark.parametrize("name, key, how", PROVIDER_IDS)
def test_provider_and_router_ids(name, key, how, offline):
    r = one(name, offline)
    assert r["found"] and r["model_key"] == key and r["model_resolved"] == key and r["resolution"] == how
    assert r["resolution_warnings"] == ("model-alias" if how == "provider-id" else "")


def test_provider_id_sizes_come_from_the_catalogue_or_the_model_card(offline):
    r = one("us.meta.llama3-1-8b-instruct-v1:0", offline)
    assert (r["params_b"], r["catalogue_source"], r["open_weights"]) == (pytest.approx(8.03), "ecologits", True)
    r = one("deepseek/deepseek-r1", offline)
    assert (r["params_b"], r["active_params_b"]) == (671, 37) and r["is_moe"]
    assert r["params_low_b"] == r["params_high_b"] == 671 and r["catalogue_source"] == ALIAS_CATALOGUE_SOURCE


# ---------------------------------------------------------------- dates and versions
DATED = [
    ("gpt-4o-2025-01-01", "openai/gpt-4o"),                      # -YYYY-MM-DD
    ("gpt-4-0314", "openai/gpt-4"),                              # -MMDD
    ("gpt-3.5-turbo-0613", "openai/gpt-3.5-turbo"),
    ("gpt-3.5-turbo-16k-0613", "openai/gpt-3.5-turbo-16k"),
    ("claude-haiku-4-5-20251001-v2:0", "anthropic/claude-haiku-4-5-20251001"),
    ("claude-sonnet-4-5-latest", "anthropic/claude-sonnet-4-5-20250929"),
    ("gemini-2.5-flash-preview-05-20", "google_genai/gemini-2.5-flash"),
    ("gemini-2.5-pro-001", "google_genai/gemini-2.5-pro"),
    ("gpt-5-mini@2025-08-07", "openai/gpt-5-mini"),
    ("open-mistral-nemo-2407", "mistralai/Mistral-Nemo-Instruct-2407"),
    ("command-r-plus-04-2024", "CohereForAI/c4ai-command-r-plus"),
]


@pytest.mark.parametrize("name, key", DATED)
def test_date_and_version_suffixes(name, key, offline):
    r = one(name, offline)
    assert r["found"] and r["model_key"] == key and r["resolution"] == "provider-id"
    assert r["resolution_warnings"] == "model-alias"


def test_exact_and_normalised_names_win_over_dropping_a_date(offline):
    names = ["gpt-4o-mini-2024-07-18", "GPT-4O-2024-08-06", "openai/gpt-4-0613", "gpt-3.5-turbo-1106",
             "mistralai/Mistral-Nemo-Instruct-2407", "cohere/command-r-08-2024", "Mistral_Large_Instruct_2407"]
    r = resolve_models(pd.Series(names), db_path=offline)
    assert list(r["model_key"]) == ["openai/gpt-4o-mini-2024-07-18", "openai/gpt-4o-2024-08-06", "openai/gpt-4-0613",
                                    "openai/gpt-3.5-turbo-1106", "mistralai/Mistral-Nemo-Instruct-2407",
                                    "cohere/command-r-08-2024", "mistralai/Mistral-Large-Instruct-2407"]
    assert list(r["resolution"]) == ["exact"] * 6 + ["normalised"]
    assert r["resolution_warnings"].eq("").all()


def test_closed_models_of_a_line_the_catalogue_lacks_stay_unknown(offline):
    """No size is invented for a closed model: Claude 3.x and GPT-4o audio have no catalogue member."""
    names = ["claude-3-5-sonnet-20240620", "claude-3-5-sonnet@20240620", "anthropic.claude-3-5-sonnet-20240620-v1:0",
             "anthropic/claude-3.5-sonnet", "claude-3-opus-latest", "o3", "gemini-1.5-pro-002", "my-finetune",
             "text-embedding-3-small", "amazon.nova-pro-v1:0", "mistral-large-2411"]
    r = resolve_models(pd.Series(names), db_path=offline)
    assert not r["found"].any() and r["resolution"].eq("unknown").all()
    assert r["params_b"].isna().all() and r["model_resolved"].isna().all() and r["resolution_warnings"].eq("").all()


# ---------------------------------------------------------------- siblings
SIBLINGS = [
    ("claude-sonnet-4", "anthropic/claude-sonnet-4-5-20250929", 440, 44, 132),
    ("claude-sonnet-4-0", "anthropic/claude-sonnet-4-5-20250929", 440, 44, 132),
    ("claude-sonnet-4-20250514", "anthropic/claude-sonnet-4-5-20250929", 440, 44, 132),
    ("us.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic/claude-sonnet-4-5-20250929", 440, 44, 132),
    ("claude-sonnet-4@20250514", "anthropic/claude-sonnet-4-5-20250929", 440, 44, 132),
    ("claude-opus-4-1-20250805", "anthropic/claude-opus-4-5-20251101", 670, 67, 200),
    ("anthropic/claude-opus-4", "anthropic/claude-opus-4-5-20251101", 670, 67, 200),
    ("gpt-4-turbo-preview", "openai/gpt-4-turbo", 880, 88, 264),
    ("gpt-4-1106-preview", "openai/gpt-4-turbo", 880, 88, 264),
    ("gpt-4-32k-0613", "openai/gpt-4", 1760, 176, 528),
    ("chatgpt-4o-latest", "openai/gpt-4o", 440, 44, 132),
    ("o1-preview-2024-09-12", "openai/o1", 440, 44, 132),
]


@pytest.mark.parametrize("name, key, total, act_lo, act_hi", SIBLINGS)
def test_retired_models_are_sized_as_their_sibling(name, key, total, act_lo, act_hi, offline):
    r = one(name, offline)
    assert r["found"] and r["model_key"] == key and r["resolution"] == "sibling"
    assert r["model_resolved"].startswith(f"{key} (sibling of ")
    assert r["resolution_warnings"] == "model-sibling-estimate;model-alias"
    assert (r["params_b"], r["active_params_low_b"], r["active_params_high_b"]) == (total, act_lo, act_hi)
    assert not r["open_weights"] and r["catalogue_source"] == "ecologits"   # still an EcoLogits estimate


# ---------------------------------------------------------------- runtime tags
RUNTIME = [  # name, target, resolution, params_b, active_params_b, precision
    ("llama3.2", "meta-llama/Llama-3.2-3B-Instruct", "runtime-default-tag", 3.21, 3.21, "q4_k_m"),
    ("llama3.2:latest", "meta-llama/Llama-3.2-3B-Instruct", "runtime-default-tag", 3.21, 3.21, "q4_k_m"),
    ("llama3.2:1b", "meta-llama/Llama-3.2-1B-Instruct", "runtime-tag", 1.23, 1.23, "q4_k_m"),
    ("llama3.2:3b-instruct-q8_0", "meta-llama/Llama-3.2-3B-Instruct", "runtime-tag", 3.21, 3.21, "q8_0"),
    ("llama3.1:70b", "meta-llama/Meta-Llama-3.1-70B-Instruct", "runtime-tag", 70.55, 70.55, "q4_k_m"),
    ("llama3.1:8b-instruct-fp16", "meta-llama/Meta-Llama-3.1-8B-Instruct", "runtime-tag", 8.03, 8.03, "float16"),
    ("qwen3", "Qwen/Qwen3-8B", "runtime-default-tag", 8.2, 8.2, "q4_k_m"),
    ("qwen3:30b-a3b", "Qwen/Qwen3-30B-A3B", "runtime-tag", 30.5, 3.3, "q4_k_m"),
    ("qwen3:30b-a3b-instruct-2507-q4_K_M", "Qwen/Qwen3-30B-A3B", "runtime-tag", 30.5, 3.3, "q4_k_m"),
    ("qwen3:235b-a22b", "Qwen/Qwen3-235B-A22B", "runtime-tag", 235, 22, "q4_k_m"),
    ("qwen2.5:7b-instruct-q4_K_M", "Qwen/Qwen2.5-7B-Instruct", "runtime-tag", 7.61, 7.61, "q4_k_m"),
    ("qwen2.5-coder:32b", "Qwen/Qwen2.5-Coder-32B-Instruct", "runtime-tag", 32.5, 32.5, "q4_k_m"),
    ("mistral:latest", "mistralai/Mistral-7B-Instruct-v0.3", "runtime-default-tag", 7.25, 7.25, "q4_0"),
    ("mixtral", "mistralai/Mixtral-8x7B-Instruct-v0.1", "runtime-default-tag", 46.7, 12.9, "q4_0"),
    ("deepseek-r1:14b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "runtime-tag", 14.8, 14.8, "q4_k_m"),
    ("deepseek-r1:70b-llama-distill-q8_0", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "runtime-tag", 70.6, 70.6,
     "q8_0"),
    ("gemma3", "google/gemma-3-4b-it", "runtime-default-tag", 4, 4, "q4_k_m"),
    ("gemma3:4b-it-qat", "google/gemma-3-4b-it", "runtime-tag", 4, 4, "q4_0"),
    ("gemma2:27b", "google/gemma-2-27b-it", "runtime-tag", 27.23, 27.23, "q4_0"),
    ("phi4", "microsoft/phi-4", "runtime-default-tag", 14.7, 14.7, "q4_k_m"),
    ("phi3:medium", "microsoft/Phi-3-medium-4k-instruct", "runtime-tag", 13.96, 13.96, "q4_0"),
    ("codellama:34b", "meta-llama/CodeLlama-34b-Instruct-hf", "runtime-tag", 34, 34, "q4_0"),
    ("gpt-oss:120b", "openai/gpt-oss-120b", "runtime-tag", 117, 5.1, "mxfp4"),
    ("ollama/llama3.2", "meta-llama/Llama-3.2-3B-Instruct", "runtime-default-tag", 3.21, 3.21, "q4_k_m"),
    ("ollama_chat/qwen3:14b", "Qwen/Qwen3-14B", "runtime-tag", 14.8, 14.8, "q4_k_m"),
    ("library/llama3:70b", "meta-llama/Meta-Llama-3-70B-Instruct", "runtime-tag", 70.55, 70.55, "q4_0"),
    ("Llama3.3", "meta-llama/Llama-3.3-70B-Instruct", "runtime-default-tag", 70.6, 70.6, "q4_k_m"),
]


@pytest.mark.parametrize("name, target, how, params, active, precision", RUNTIME)
def test_runtime_tags(name, target, how, params, active, precision, offline):
    r = one(name, offline)
    assert r["found"] and r["model_key"] == target and r["resolution"] == how
    assert re.fullmatch(re.escape(target) + r" \(ollama [a-z0-9.\-]+:[a-z0-9.\-]+\)", r["model_resolved"])
    assert (r["params_b"], r["active_params_b"]) == (pytest.approx(params), pytest.approx(active))
    assert r["name_precision"] == precision and r["is_moe"] == (active < params)
    default = how == "runtime-default-tag"
    assert r["resolution_warnings"] == ("model-default-tag-size;model-alias" if default else "model-alias")


def test_runtime_tag_sizes_are_points_and_say_where_they_come_from(offline):
    r = resolve_models(pd.Series(["qwen3:14b", "llama3.1:8b"]), db_path=offline)
    assert r["params_low_b"].tolist() == r["params_high_b"].tolist() == pytest.approx([14.8, 8.03])
    assert list(r["catalogue_source"]) == [ALIAS_CATALOGUE_SOURCE, "ecologits"]   # card size / EcoLogits entry
    assert r["open_weights"].tolist() == [True, True]


def test_a_runtime_size_the_table_lacks_is_read_from_the_tag(offline):
    r = resolve_models(pd.Series(["qwen3:72b", "llava:7b", "llava", "gemma3:e2b"]), db_path=offline)
    assert list(r["resolution"]) == ["name-size", "name-size", "unknown", "unknown"]
    assert r["params_b"].iloc[:2].tolist() == pytest.approx([72.0, 7.0])
    assert list(r["model_resolved"].iloc[:2]) == ["qwen3:72b", "llava:7b"]


def test_names_with_an_org_prefix_are_not_runtime_names(offline):
    """OpenRouter's deepseek/deepseek-r1 is the full model; Ollama's bare deepseek-r1 a distill."""
    r = resolve_models(pd.Series(["deepseek/deepseek-r1", "deepseek-r1", "someone/qwen3"]), db_path=offline)
    assert r["params_b"].iloc[0] == 671 and r["params_b"].iloc[1] == pytest.approx(8.19)
    assert list(r["resolution"]) == ["provider-id", "runtime-default-tag", "unknown"]


def test_lm_studio_and_gguf_file_names(offline):
    names = ["Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF",
             "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF/Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf",
             "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M", "Qwen2.5-7B-Instruct-Q5_K_M.gguf",
             "mistral-7b-instruct-v0.2.Q8_0.gguf"]
    r = resolve_models(pd.Series(names), db_path=offline)
    assert r["found"].all()
    assert list(r["model_key"].iloc[:3]) == ["meta-llama/Meta-Llama-3.1-8B-Instruct"] * 3
    assert r["model_key"].iloc[5] == "mistralai/Mistral-7B-Instruct-v0.2"
    assert list(r["resolution"]) == ["provider-id"] * 3 + ["name-size", "name-size", "provider-id"]
    assert list(r["name_precision"]) == ["q4_k_m", None, "iq4_xs", "q4_k_m", "q5_k_m", "q8_0"]
    assert r["params_b"].iloc[3:5].tolist() == pytest.approx([3.0, 7.0])


# ---------------------------------------------------------------- precision written in a name
@pytest.mark.parametrize("name, precision", [
    ("qwen2.5:7b-instruct-q4_K_M", "q4_k_m"), ("model-Q4_0.gguf", "q4_0"), ("x-q5_k_m.gguf", "q5_k_m"),
    ("x.Q6_K.gguf", "q6_k"), ("llama3.1:8b-instruct-q8_0", "q8_0"), ("x-Q2_K.gguf", "q2_k"),
    ("x-Q3_K_M.gguf", "q3_k_m"), ("x-IQ4_XS.gguf", "iq4_xs"), ("x-IQ2_XXS.gguf", "iq2_xxs"),
    ("x-F16.gguf", "float16"), ("x-BF16.gguf", "bfloat16"), ("llama3.1:8b-instruct-fp16", "float16"),
    ("meta-llama/Meta-Llama-3.1-405B-Instruct-FP8", "fp8"), ("neuralmagic/Llama-3.1-8B-Instruct-FP8-dynamic", "fp8"),
    ("Qwen/Qwen2.5-7B-Instruct-AWQ", "awq"), ("TheBloke/Llama-2-7B-GPTQ", "gptq"),
    ("Qwen/Qwen2.5-7B-Instruct-GPTQ-Int8", "int8"), ("x-int4", "int4"), ("mlx-community/Llama-3.2-3B-4bit", "int4"),
    ("unsloth/llama-3-8b-bnb-4bit", "nf4"), ("x-w8a8", "fp8"), ("openai/gpt-oss-20b-mxfp4", "mxfp4"),
    ("gemma3:4b-it-qat", "q4_0"),
    ("gpt-4o", None), ("qwen3:30b-a3b", None), ("mixtral-8x7b", None), ("phi-3-mini-4k-instruct", None),
    ("o4-mini", None), ("claude-sonnet-4-5", None),
])
def test_precision_written_in_the_name(name, precision):
    assert aliases.name_precision(name) == precision
    assert precision is None or precision in D.PRECISIONS


@pytest.mark.parametrize("spelling, canonical, bits", [
    ("Q4_K_M", "q4_k_m", 4.8944), ("q4_k_m", "q4_k_m", 4.8944), ("q4_k", "q4_k_m", 4.8944), ("Q4_0", "q4_0", 4.6425),
    ("Q5_K_M", "q5_k_m", 5.7036), ("q6_k", "q6_k", 6.5633), ("Q8_0", "q8_0", 8.5008), ("Q2_K", "q2_k", 3.1593),
    ("q3_k_m", "q3_k_m", 4.0007), ("IQ4_XS", "iq4_xs", 4.4597), ("iq2_xxs", "iq2_xxs", 2.3824),
    ("f16", "float16", 16), ("bf16", "bfloat16", 16)])
def test_gguf_precisions_have_llama_cpp_bits_per_weight(spelling, canonical, bits):
    from seal.estimator.estimate import resolve_precision

    assert resolve_precision(pd.Series([spelling]))[0] == canonical
    p = D.PRECISIONS[canonical]
    assert p.bytes_per_weight == pytest.approx(bits / 8)
    if canonical.startswith(("q", "iq")):   # weight-only: 16-bit products, eager as the 4-bit weight-only kernels
        assert (p.compute, p.eager_scheme) == ("bf16", "gptq")
        assert re.search(r"llama\.cpp quantize README|quantize\.cpp", p.note) and str(bits) in p.note


def test_every_gguf_precision_is_weight_only_and_ordered_by_bits():
    gguf = {k: v for k, v in D.PRECISIONS.items() if re.fullmatch(r"i?q\d_\w+", k)}
    assert len(gguf) >= 27 and all(v.compute == "bf16" and v.eager_scheme == "gptq" for v in gguf.values())
    assert gguf["q2_k"].bytes_per_weight < gguf["q3_k_m"].bytes_per_weight < gguf["q4_k_m"].bytes_per_weight \
        < gguf["q5_k_m"].bytes_per_weight < gguf["q6_k"].bytes_per_weight < gguf["q8_0"].bytes_per_weight < 1.1
    assert all(v in D.PRECISIONS for v in D.PRECISION_ALIASES.values())


# ---------------------------------------------------------------- model map
def test_model_map_comes_first_and_resolves_its_targets(offline):
    mm = {"my-finetune": {"params_b": 7, "precision": "Q4_K_M"}, "prod-chat": "gpt-4o-mini",
          "tuned": {"model": "qwen3:30b-a3b", "params_b": 61}, "gpt-4o": {"model": "gpt-4o", "active_params_b": 50},
          "retired": "claude-sonnet-4"}
    names = pd.Series(["my-finetune", "prod-chat", "tuned", "gpt-4o", "retired", "MY-FINETUNE ", "gpt-4.1"])
    r = resolve_models(names, db_path=offline, model_map=mm)
    assert list(r["resolution"]) == ["model-map"] * 6 + ["exact"]
    assert r["found"].all()
    mine = r.iloc[0]
    assert (mine["params_b"], mine["params_low_b"], mine["params_high_b"]) == (7, 7, 7)   # ±0: the user's size
    assert mine["name_precision"] == "q4_k_m" and mine["model_resolved"] == "my-finetune (model map)"
    assert mine["catalogue_source"] == "model-map" and mine["resolution_warnings"] == ""
    assert r["model_key"].iloc[1] == "openai/gpt-4o-mini" and r["params_low_b"].iloc[1] == 8   # catalogue range
    tuned = r.iloc[2]
    assert tuned["params_b"] == 61 and tuned["active_params_b"] == pytest.approx(61 * 3.3 / 30.5)
    assert tuned["name_precision"] == "q4_k_m" and tuned["resolution_warnings"] == ""
    assert (r["params_b"].iloc[3], r["active_params_b"].iloc[3]) == (440, 50)
    assert r["resolution_warnings"].iloc[4] == "model-sibling-estimate"
    assert r["params_b"].iloc[5] == 7


def test_model_map_is_part_of_the_cache_key(offline):
    names = pd.Series(["my-finetune", "gpt-4o"])
    before = resolve_models(names, db_path=offline)
    mapped = resolve_models(names, db_path=offline, model_map={"my-finetune": {"params_b": 3}})
    other = resolve_models(names, db_path=offline, model_map={"my-finetune": {"params_b": 5}})
    after = resolve_models(names, db_path=offline)
    assert list(before["found"]) == list(after["found"]) == [False, True]
    assert (mapped["params_b"].iloc[0], other["params_b"].iloc[0]) == (3, 5)


def test_model_map_to_an_unknown_model_without_a_size_is_an_error(offline):
    with pytest.raises(SealError, match="neither in the catalogue nor sized by its name"):
        resolve_models(pd.Series(["x"]), db_path=offline, model_map={"x": "my-other-finetune"})
    with pytest.raises(SealError, match="unknown field"):
        resolve_models(pd.Series(["x"]), db_path=offline, model_map={"x": {"size": 3}})


def test_read_model_map_csv_and_json(tmp_path, offline):
    csv_path = tmp_path / "map.csv"
    csv_path.write_text("log_model,model,params_b,active_params_b,precision\n"
                        "prod-chat,gpt-4o-mini,,,\n"
                        "my-finetune,,7,,q4_k_m\n"
                        "my-moe,,30,3,fp8\n")
    mm = aliases.read_model_map(csv_path)
    assert mm == {"prod-chat": {"model": "gpt-4o-mini", "params_b": None, "active_params_b": None, "precision": None},
                  "my-finetune": {"model": None, "params_b": 7.0, "active_params_b": None, "precision": "q4_k_m"},
                  "my-moe": {"model": None, "params_b": 30.0, "active_params_b": 3.0, "precision": "fp8"}}
    json_path = tmp_path / "map.json"
    json_path.write_text(json.dumps({"prod-chat": "gpt-4o-mini", "my-moe": {"params_b": 30, "active_params_b": 3,
                                                                           "precision": "FP8"}}))
    assert aliases.read_model_map(json_path) == {k: mm[k] for k in ("prod-chat", "my-moe")}
    r = resolve_models(pd.Series(["my-moe", "prod-chat"]), db_path=offline, model_map=mm)
    assert (r["params_b"].iloc[0], r["active_params_b"].iloc[0], r["is_moe"].iloc[0]) == (30, 3, True)
    assert r["name_precision"].iloc[0] == "fp8" and r["model_key"].iloc[1] == "openai/gpt-4o-mini"
    only_model = tmp_path / "plain.csv"
    only_model.write_text("log_model,model\nfoo,llama3.2:1b\n")
    assert aliases.read_model_map(only_model)["foo"]["model"] == "llama3.2:1b"


@pytest.mark.parametrize("name, text, message", [
    ("bad.json", "{not json", "is not valid JSON"),
    ("list.json", "[1, 2]", "must hold a JSON object"),
    ("empty.csv", "", "is empty"),
    ("col.csv", "log_model,model,size\nx,gpt-4o,3\n", "unknown column(s) 'size'"),
    ("nolog.csv", "model,params_b\ngpt-4o,3\n", "no log_model column"),
    ("nothing.csv", "log_model,precision\nx,fp8\n", "neither a model nor a params_b column"),
    ("neg.csv", "log_model,params_b\nx,-3\n", "params_b must be a positive number"),
    ("zero.json", '{"x": {"params_b": 0}}', "params_b must be a positive number"),
    ("nan.csv", "log_model,params_b\nx,lots\n", "is not a number"),
    ("prec.csv", "log_model,params_b,precision\nx,3,fp3\n", "unknown precision 'fp3'"),
    ("dup.csv", "log_model,model\nx,gpt-4o\nX,gpt-4o-mini\n", "twice"),
    ("blank.csv", "log_model,model,params_b\nx,,\n", "neither a model nor params_b"),
    ("active.json", '{"x": {"params_b": 3, "active_params_b": 5}}', "exceeds params_b"),
    ("field.json", '{"x": {"model": "gpt-4o", "tokens": 5}}', "unknown field(s) 'tokens'"),
])
def test_read_model_map_errors_are_one_sentence(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SealError) as err:
        aliases.read_model_map(path)
    msg = str(err.value)
    assert message in msg and msg.endswith(".") and "\n" not in msg


def test_read_model_map_missing_file(tmp_path):
    with pytest.raises(SealError, match="Cannot read the model map"):
        aliases.read_model_map(tmp_path / "nope.csv")


# ---------------------------------------------------------------- the alias table
@pytest.fixture(scope="module")
def alias_rows() -> list[dict]:
    from seal.data import facts

    with open(facts.path("model_aliases.csv"), newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_alias_table_rows_have_a_source_url_and_known_fields(alias_rows):
    assert len(alias_rows) >= 90
    assert set(alias_rows[0]) == {"kind", "runtime", "name", "tag", "is_default", "target", "params_b",
                                  "active_params_b", "quant", "line", "source", "note"}
    for row in alias_rows:
        assert row["kind"] in ("runtime-tag", "sibling", "provider-id"), row
        assert re.search(r"https://\S+", row["source"]), row
        assert row["note"], row
        if row["kind"] == "runtime-tag":
            assert row["runtime"] == "ollama" and row["tag"] and row["is_default"] in ("True", "False")
            assert "https://ollama.com/library/" + row["name"] in row["source"]
            assert row["quant"] in D.PRECISIONS, row
        if row["params_b"]:
            assert float(row["params_b"]) > 0 and f"https://huggingface.co/{row['target']}" in row["source"]
            assert not row["active_params_b"] or 0 < float(row["active_params_b"]) < float(row["params_b"])
    keys = [(r["runtime"], r["name"], r["tag"]) for r in alias_rows]
    assert len(keys) == len(set(keys))


def test_each_runtime_name_has_at_most_one_default_tag_and_unverified_defaults_say_so(alias_rows):
    defaults: dict[str, list[str]] = {}
    for r in alias_rows:
        if r["kind"] == "runtime-tag" and r["is_default"] == "True":
            defaults.setdefault(r["name"], []).append(r["tag"])
            assert r["note"].startswith(("default tag: Ollama README", "default tag not verified",
                                         "12b is the library's only size tag", "3.8b is the library's only size tag"))
    assert all(len(v) == 1 for v in defaults.values()), defaults
    assert {"llama3.2", "llama3.1", "qwen3", "qwen2.5", "mistral", "gemma3", "phi4", "deepseek-r1"} <= set(defaults)


def test_every_alias_row_target_resolves(alias_rows, offline):
    catalogue = set(ecologits_models()["model_key"])
    spelled = [f"{r['name']}:{r['tag']}" if r["kind"] == "runtime-tag" else r["name"] for r in alias_rows]
    res = resolve_models(pd.Series(spelled), db_path=offline)
    for row, (_, got) in zip(alias_rows, res.iterrows()):
        assert got["found"], row
        assert got["model_key"] == row["target"], (row, got["model_key"])
        if row["params_b"]:
            assert got["params_b"] == pytest.approx(float(row["params_b"]))
            assert got["active_params_b"] == pytest.approx(float(row["active_params_b"] or row["params_b"]))
            assert got["catalogue_source"] == ALIAS_CATALOGUE_SOURCE
        else:
            assert row["target"] in catalogue, row   # no size typed in: the EcoLogits entry is used
        if row["kind"] == "runtime-tag":
            assert got["resolution"] == "runtime-tag" and got["name_precision"] == row["quant"]
        else:
            assert got["resolution"] == row["kind"]


def test_siblings_only_where_every_member_of_the_line_shares_the_estimate(alias_rows):
    eco = ecologits_models()
    cols = ["params_low_b", "params_high_b", "active_params_low_b", "active_params_high_b"]
    siblings = [r for r in alias_rows if r["kind"] == "sibling"]
    assert len(siblings) >= 10
    for row in siblings:
        provider = row["target"].split("/", 1)[0]
        line = eco[(eco["provider"] == provider) & eco["name"].str.fullmatch(row["line"])]
        assert row["target"] in set(line["model_key"]), row
        assert len(line) >= 2 and len(line[cols].drop_duplicates()) == 1, (row["name"], line["model_key"].tolist())
        assert not line["open_weights"].any()   # closed: the shared size is EcoLogits' estimate
        assert row["name"] not in set(eco["name"]) and "https://github.com/mlco2/ecologits" in row["source"]
        assert "same estimate" in row["note"]


def test_warning_codes_have_text(offline):
    names = pd.Series([n for n, *_ in REAL] + [n for n, *_ in PROVIDER_IDS] + [n for n, *_ in RUNTIME]
                      + [n for n, *_ in SIBLINGS] + ["mixtral-8x7b-instruct"])
    r = resolve_models(names, db_path=offline)
    codes = {c for w in r["resolution_warnings"] for c in w.split(";") if c}
    assert codes == set(aliases.WARNING_TEXT) == {"model-alias", "model-default-tag-size", "model-sibling-estimate"}
    assert all(t.endswith(".") and len(t) < 300 for t in aliases.WARNING_TEXT.values())
    assert set(r["resolution"]) <= set(aliases.RESOLUTIONS)


def test_strict_matching_takes_no_alias(offline):
    names = pd.Series(["qwen3", "claude-sonnet-4", "openai/gpt-4o:free", "gpt-4o", "llama3.2:1b-q8_0"])
    r = resolve_models(names, db_path=offline, loose=False)
    assert list(r["found"]) == [False, False, False, True, False]
    assert list(r["resolution"]) == ["unknown", "unknown", "unknown", "exact", "unknown"]
    assert r["name_precision"].iloc[4] == "q8_0"
    strict = resolve_ecologits(names)   # the data pull's labelling of benchmark runs stays exact
    assert list(strict["found"]) == [False, False, False, True, False]


def test_many_rows_of_few_names_resolve_once(offline):
    base = np.array(["qwen3", "anthropic/claude-sonnet-4", "llama3.2:1b", "my-finetune", "gpt-4o-2025-01-01"],
                    dtype=object)
    names = pd.Series(np.tile(base, 20_000))
    r = resolve_models(names, db_path=offline)
    assert len(r) == 100_000 and r["found"].sum() == 80_000
    assert r["resolution"].iloc[:5].tolist() == ["runtime-default-tag", "sibling", "runtime-tag", "unknown",
                                                 "provider-id"]
    assert (r["params_b"].to_numpy().reshape(-1, 5)[:, 2] == 1.23).all()
