"""The model catalogue: EcoLogits' package catalogue (offline) + Open LLM Leaderboard rows from a pulled store."""
from __future__ import annotations

import importlib.resources
import json

import numpy as np
import pandas as pd
import pytest

from seal.data.catalogue import ecologits_models, list_models, resolve_ecologits, resolve_models


@pytest.fixture(scope="module")
def eco_json() -> dict:
    return json.loads(importlib.resources.files("ecologits").joinpath("data/models.json").read_text())


def _first(eco_json, pred):
    return next(m for m in eco_json["models"] if pred(m))


def test_catalogue_comes_from_the_installed_package(eco_json):
    table = ecologits_models()
    assert len(table) == len(eco_json["models"])
    assert table["model_key"].is_unique
    assert set(table["provider"]) >= {"openai", "anthropic", "huggingface_hub", "mistralai"}


def test_aliases_case_and_prefixes(eco_json, tmp_path):
    alias = eco_json["aliases"][0]
    names = pd.Series([alias["name"], alias["alias"], alias["name"].upper(), f"{alias['provider']}/{alias['name']}",
                       "meta-llama/Meta-Llama-3.1-8B-Instruct", "Meta-Llama-3.1-8B-Instruct",
                       "META-LLAMA/meta-llama-3.1-8b-instruct", "azure/gpt-4o", "openai/gpt-4o", "gpt-4o"],
                      index=range(100, 110))
    r = resolve_models(names, db_path=tmp_path / "no-store.duckdb")
    assert list(r.index) == list(names.index) and r["found"].all()
    assert r["model_key"].iloc[:4].nunique() == 1
    assert r["model_key"].iloc[4:7].nunique() == 1 and r["provider"].iloc[4] == "huggingface_hub"
    assert r["model_key"].iloc[7:].nunique() == 1 and r["model_key"].iloc[7] == "openai/gpt-4o"


def test_moe_and_closed_model_ranges(eco_json, tmp_path):
    moe = _first(eco_json, lambda m: m["architecture"]["type"] == "moe"
                 and isinstance(m["architecture"]["parameters"]["active"], (int, float))
                 and m["provider"] == "huggingface_hub")
    ranged_active = _first(eco_json, lambda m: m["architecture"]["type"] == "moe"
                           and isinstance(m["architecture"]["parameters"]["active"], dict))
    closed = _first(eco_json, lambda m: isinstance(m["architecture"]["parameters"], dict)
                    and "min" in m["architecture"]["parameters"])
    r = resolve_models(pd.Series([moe["name"], ranged_active["name"], closed["name"]]),
                       db_path=tmp_path / "none.duckdb")
    p = moe["architecture"]["parameters"]
    assert r["is_moe"].iloc[0] and r["params_b"].iloc[0] == pytest.approx(p["total"])
    assert r["active_params_b"].iloc[0] == pytest.approx(p["active"])
    assert r["active_params_b"].iloc[0] < r["params_b"].iloc[0]
    act = ranged_active["architecture"]["parameters"]["active"]
    assert (r["active_params_low_b"].iloc[1], r["active_params_high_b"].iloc[1]) == (act["min"], act["max"])
    assert r["active_params_b"].iloc[1] == pytest.approx((act["min"] + act["max"]) / 2)
    c = closed["architecture"]["parameters"]
    assert (r["params_low_b"].iloc[2], r["params_high_b"].iloc[2]) == (c["min"], c["max"])
    assert r["params_low_b"].iloc[2] < r["params_b"].iloc[2] < r["params_high_b"].iloc[2]
    assert not r["open_weights"].iloc[2] and r["catalogue_source"].iloc[2] == "ecologits"
    if closed["deployment"]["tps"] is not None:
        assert r["tps"].iloc[2] == closed["deployment"]["tps"]


def test_unknown_and_missing_names(tmp_path):
    r = resolve_ecologits(pd.Series(["no-such-model-xyz", None, "", "openai/no-such"]))
    assert not r["found"].any()
    assert r["params_b"].isna().all() and r["model_key"].isna().all()


def test_open_llm_leaderboard_from_the_store(pulled_store):
    r = resolve_models(pd.Series(["meta-llama/Meta-Llama-3.1-8B-Instruct", "dfurman/CalmeRys-78B-Orpo-v0.1",
                                  "CalmeRys-78B-Orpo-v0.1"]), db_path=pulled_store)
    assert r["found"].all()
    assert r["catalogue_source"].iloc[0] == "ecologits+open-llm-leaderboard" and r["quality_score"].iloc[0] > 0
    assert r["catalogue_source"].iloc[1] == "open-llm-leaderboard"
    assert r["params_low_b"].iloc[1] < r["params_b"].iloc[1] < r["params_high_b"].iloc[1]  # whole-billion rounding
    assert r["model_key"].iloc[2] == r["model_key"].iloc[1]
    offline = list_models(pulled_store.parent / "none.duckdb")
    full = list_models(pulled_store)
    assert len(full) > len(offline) and full["model_key"].is_unique
    assert not full["open_weights"].all() and full["open_weights"].any()


def test_resolver_handles_a_million_rows(tmp_path):
    names = pd.Series(np.tile(np.array(["gpt-4o", "Meta-Llama-3.1-8B-Instruct", "unknown-x", "GPT-4O"],
                                       dtype=object), 250_000))
    resolve_models(names.iloc[:10], db_path=tmp_path / "none.duckdb")  # warm the cache
    r = resolve_models(names, db_path=tmp_path / "none.duckdb")
    assert len(r) == 1_000_000 and r["found"].sum() == 750_000
    assert r["found"].to_numpy().reshape(-1, 4).tolist()[0] == [True, True, False, True]


def test_normalised_names():
    from seal.data.catalogue import normalised_name

    assert normalised_name("meta-llama/Llama-3.1-8B-Instruct") == "llama-3.1-8b-instruct"
    assert normalised_name("Meta-Llama-3.1-8B-Instruct") == "llama-3.1-8b-instruct"
    assert normalised_name("meta-llama/Llama-2-7b-chat-hf", drop_variant=True) == "llama-2-7b"
    assert normalised_name("mistralai/Mixtral-8x7B-Instruct-v0.1", drop_variant=True) == "mixtral-8x7b"
    assert normalised_name("Instruct", drop_variant=True) == "instruct"  # never strips a name to nothing


def test_loose_matching_keeps_exact_matches_first(tmp_path):
    names = pd.Series(["meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b", "LLAMA_3.1_8B_INSTRUCT",
                       "mixtral-8x7b-instruct", "meta-llama/Llama-2-7b-chat-hf", "Llama-2-7b-chat"])
    r = resolve_models(names, db_path=tmp_path / "none.duckdb")
    assert r["found"].all() and r["catalogue_source"].eq("ecologits").all()
    assert list(r["model_key"]) == [
        "meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama/Meta-Llama-3.1-8B",
        "meta-llama/Meta-Llama-3.1-8B-Instruct", "mistralai/Mixtral-8x7B-v0.1",
        "meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-7b-chat"]  # the last two differ in size (6.74 / 7 B)
    assert r["params_b"].iloc[4] != r["params_b"].iloc[5]
    strict = resolve_ecologits(names)  # the data pull labels benchmark runs with exact matches only
    assert list(strict["found"]) == [False, False, False, False, True, True]


def test_size_from_the_name_as_last_fallback(tmp_path):
    from seal.data.catalogue import NAME_SIZE_TOLERANCE

    names = pd.Series(["my-custom-13b", "Qwen/Qwen3-30B-A3B", "acme/foo-8x7b", "tiny-125m", "bar-1.4b",
                       "acme/mystery-model-v3", "no-size-at-all"], index=range(10, 17))
    r = resolve_models(names, db_path=tmp_path / "none.duckdb")
    assert list(r.index) == list(names.index)
    assert list(r["found"]) == [True] * 5 + [False, False]
    named = r.iloc[:5]
    assert named["catalogue_source"].eq("name").all() and named["model_key"].tolist() == names.iloc[:5].tolist()
    assert named["params_b"].tolist() == pytest.approx([13.0, 30.0, 56.0, 0.125, 1.4])
    assert named["active_params_b"].tolist() == pytest.approx([13.0, 3.0, 14.0, 0.125, 1.4])
    assert named["is_moe"].tolist() == [False, True, True, False, False]
    tol = NAME_SIZE_TOLERANCE
    assert np.allclose(named["params_low_b"], named["params_b"] * (1 - tol))
    assert np.allclose(named["params_high_b"], named["params_b"] * (1 + tol))
    assert np.allclose(named["active_params_high_b"], named["active_params_b"] * (1 + tol))
    assert r["params_b"].iloc[5:].isna().all() and r["catalogue_source"].iloc[5:].isna().all()
    assert not resolve_models(names, db_path=tmp_path / "none.duckdb", loose=False)["found"].any()
