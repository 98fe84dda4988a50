"""prepare_requests and the offline tokenizers: real counts, stated defaults, validation naming the row."""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from seal.errors import WARNINGS, SealError
from seal.logs.normalize import DEFAULT_OUTPUT_TOKENS, prepare_requests
from seal.logs.tokens import (DEFAULT_TOKENIZER, available_tokenizers, count_tokens, get_encoding,
                              tokenizer_for_model)

TEXT = "SEAL estimates the energy of every prompt: prefill ∝ input tokens, decode ∝ output tokens. Ça va?"


def test_tekken_count_matches_mistral_common_directly():
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    texts = [TEXT, "日本語のテキストも数えます。", "def f(x):\n    return x ** 2  # code\n", "  spaces\t\ttabs\r\n"]
    for name, file in (("tekken", "tekken_240911.json"), ("tekken-240718", "tekken_240718.json")):
        path = resources.files("mistral_common") / "data" / file
        with resources.as_file(path) as p:
            tok = Tekkenizer.from_file(p)
        expected = [len(tok.encode(t, bos=False, eos=False)) for t in texts]
        assert count_tokens(texts, name).tolist() == expected
    assert expected[0] < len(TEXT) / 2          # a real BPE count, not characters


def test_count_tokens_batch_and_missing():
    counts = count_tokens([TEXT, None, "", float("nan"), "hi"])
    assert counts[0] > 10 and counts[1:4].tolist() == [0, 0, 0] and counts[4] >= 1
    assert counts.dtype == np.int64


def test_tokenizer_choice_is_offline_and_honest():
    assert DEFAULT_TOKENIZER in available_tokenizers()
    assert tokenizer_for_model("mistral-large-latest") == "tekken"
    assert tokenizer_for_model("open-mistral-nemo") == "tekken-240718"
    # each family its own offline tokenizer where a package ships it (quicktok-v1); never downloads
    assert tokenizer_for_model("meta-llama/Llama-3.1-8B-Instruct") in ("llama3", DEFAULT_TOKENIZER)
    assert tokenizer_for_model("gpt-4o") in ("o200k_base", DEFAULT_TOKENIZER)
    with pytest.raises(SealError, match="Unknown tokenizer"):
        get_encoding("no-such-tokenizer")


def test_prompt_without_output_uses_stated_default():
    out = prepare_requests(pd.DataFrame({"prompt": [TEXT]}), model="mistral-large-latest")
    row = out.iloc[0]
    assert row["input_tokens"] == count_tokens([TEXT], "tekken")[0]
    assert row["output_tokens"] == DEFAULT_OUTPUT_TOKENS
    assert row["token_source"] == "tokenizer:tekken+default"
    assert row["warnings"] == "estimated-tokens;default-output-tokens"
    assert "default-output-tokens" in WARNINGS and "estimated-tokens" in WARNINGS


def test_response_text_is_counted_and_user_values_win():
    frame = pd.DataFrame({"prompt": ["a b c", "x"], "response": ["one two three four", None],
                          "output_tokens": [None, None]})
    out = prepare_requests(frame, model="m", input_tokens=None)
    assert out["output_tokens"].iloc[0] == count_tokens(["one two three four"])[0]
    assert out["token_source"].iloc[0] == "tokenizer:tekken"
    out = prepare_requests(frame, model="m", output_tokens=500)   # user's output length fills the gaps
    assert out["output_tokens"].tolist() == [500, 500]
    assert out["token_source"].tolist() == ["tokenizer:tekken+user"] * 2
    given = prepare_requests(pd.DataFrame({"input_tokens": [7], "output_tokens": [3]}), model="m")
    assert given["token_source"].tolist() == ["user"] and pd.isna(given["warnings"].iloc[0])


def test_explicit_tokenizer_argument():
    out = prepare_requests(pd.DataFrame({"prompt": [TEXT]}), tokenizer="tekken-240718", model="x", output_tokens=1)
    assert out["token_source"].iloc[0] == "tokenizer:tekken-240718+user"


def test_defaults_fill_empty_cells_only():
    frame = pd.DataFrame({"model": ["a", None, ""], "input_tokens": [1, 2, 3], "output_tokens": [1, 1, 1],
                          "gpu": ["H100", None, None]})
    out = prepare_requests(frame, model="b", gpu="A100", region="FR")
    assert out["model"].tolist() == ["a", "b", "b"]
    assert out["gpu"].tolist() == ["H100", "A100", "A100"]
    assert (out["region"] == "FR").all()
    assert pd.isna(frame["model"].iloc[1])             # the caller's frame is untouched


@pytest.mark.parametrize("frame, message", [
    ({"input_tokens": [5, -1], "output_tokens": [1, 1]}, r"row 1: input_tokens is negative \(-1\)"),
    ({"input_tokens": [5, 20_000_000], "output_tokens": [1, 1]}, r"row 1: input_tokens is 20000000, more than"),
    ({"input_tokens": [5, "many"], "output_tokens": [1, 1]}, r"row 1: input_tokens is not a number \('many'\)"),
    ({"output_tokens": [1]}, r"row 0: no input_tokens and no prompt text"),
    ({"input_tokens": [1], "latency_s": [-2.0]}, r"row 0: latency_s is negative"),
    ({"input_tokens": [1], "timestamp": ["not a time"]}, r"row 0: timestamp is not a date-time"),
])
def test_validation_names_column_and_row(frame, message):
    with pytest.raises(SealError, match=message):
        prepare_requests(pd.DataFrame(frame), model="m")


def test_missing_model_unless_params_given():
    with pytest.raises(SealError, match=r"row 0: no model"):
        prepare_requests(pd.DataFrame({"input_tokens": [1], "output_tokens": [1]}))
    out = prepare_requests(pd.DataFrame({"input_tokens": [1], "output_tokens": [1], "params_b": [7.0]}))
    assert len(out) == 1


def test_timestamps_to_utc():
    frame = pd.DataFrame({"input_tokens": [1, 1, 1], "output_tokens": [1, 1, 1],
                          "timestamp": ["2025-01-01T12:00:00+02:00", "2025-01-01T12:00:00Z", "2025-01-01 12:00:00"]})
    out = prepare_requests(frame, model="m")
    assert out["timestamp"].tolist() == [pd.Timestamp("2025-01-01T10:00:00Z"), pd.Timestamp("2025-01-01T12:00:00Z"),
                                         pd.Timestamp("2025-01-01T12:00:00Z")]


def test_hundred_prompts_are_counted():
    get_encoding("tekken")   # loading the vocabulary once per process is not per-prompt work
    prompts = [f"Prompt number {i}: summarise the attached meeting notes and list the actions. " * 3
               for i in range(100)]
    out = prepare_requests(pd.DataFrame({"prompt": prompts}), model="mistral-small")   # speed: make bench
    assert (out["input_tokens"] > 20).all()


def test_million_rows_with_counts_vectorised():
    n = 1_000_000
    frame = pd.DataFrame({"model": np.where(np.arange(n) % 2, "a", "b"), "input_tokens": np.arange(n) % 4000,
                          "output_tokens": np.arange(n) % 500})
    out = prepare_requests(frame, gpu="A100")
    assert out["input_tokens"].sum() == frame["input_tokens"].sum()


def test_epoch_numbers_are_read_by_magnitude_like_the_log_readers():
    import pandas as pd

    from seal.logs.normalize import prepare_requests

    stamps = [1.7e9, 1.7e12, 1.7e15, 1.7e18]          # s, ms, us, ns of one instant
    out = prepare_requests(pd.DataFrame({"params_b": [8.0] * 4, "input_tokens": [1] * 4, "output_tokens": [1] * 4,
                                         "timestamp": stamps}))
    assert out["timestamp"].nunique() == 1
    assert str(out["timestamp"].iloc[0]) == "2023-11-14 22:13:20+00:00"
