"""Each model family counted with its own tokenizer, offline (issue 13 item 9).

References pinned here:

- OpenAI cookbook, "How to count tokens with tiktoken" (examples/How_to_count_tokens_with_tiktoken.ipynb): token ids
  of four strings in cl100k_base and o200k_base, and a chat example the OpenAI API counted as 129 prompt tokens
  (gpt-4, cl100k_base) and 124 (gpt-4o, o200k_base).
- The vocabulary files themselves: the ranks ``quicktok-v1`` ships are byte-identical to OpenAI's files (sha256 =
  tiktoken's ``expected_hash``), to Meta's ``llama_models/llama3/tokenizer.model`` (``llama-models`` 0.3.0) and to
  Alibaba's ``dashscope/resources/qwen.tiktoken`` (``dashscope`` 2.0.2).
- The counting engine: ``tiktoken`` (a dependency of mistral-common) run on those ranks with each family's split
  pattern (OpenAI: tiktoken's own definitions; Llama 3: Meta's ``llama3/tokenizer.py``; Qwen: dashscope's
  ``qwen_tokenizer.py``, NFC first) gives the same ids as SEAL's counts on a varied corpus.
- Llama 3 / Qwen ids of a few strings, from Meta's ``llama_models`` Tokenizer and from the dashscope vocabulary.
"""
from __future__ import annotations

import base64
import hashlib
import random
import socket
import unicodedata

import numpy as np
import pandas as pd
import pytest

from seal.errors import SealError
from seal.logs import tokens
from seal.logs.normalize import prepare_requests
from seal.logs.tokens import (DEFAULT_TOKENIZER, available_tokenizers, count_tokens, get_encoding, tokenizer_backend,
                              tokenizer_for_model)

quicktok = pytest.importorskip("quicktok", reason="quicktok-v1 ships the GPT / Llama 3 / Qwen vocabularies")

FAMILIES = [
    ("gpt-4o", "o200k_base"), ("gpt-4o-mini", "o200k_base"), ("gpt-4.1", "o200k_base"), ("gpt-5", "o200k_base"),
    ("o3-mini", "o200k_base"), ("openai/gpt-oss-120b", "o200k_base"),
    ("gpt-4", "cl100k_base"), ("gpt-4-turbo", "cl100k_base"), ("gpt-3.5-turbo", "cl100k_base"),
    ("text-embedding-3-small", "cl100k_base"),
    ("meta-llama/Llama-3.1-8B-Instruct", "llama3"), ("meta-llama/Meta-Llama-3-70B-Instruct", "llama3"),
    ("llama3.2", "llama3"), ("meta-llama/Llama-3.3-70B-Instruct", "llama3"),
    ("nvidia/llama-3_3-nemotron-super-49b-v1", "llama3"),
    ("Qwen/Qwen2.5-7B-Instruct", "qwen"), ("qwen2.5-coder", "qwen"), ("Qwen/Qwen3-235B-A22B", "qwen"),
    ("qwen3-coder-30b-a3b-instruct", "qwen"), ("Qwen/QwQ-32B", "qwen"), ("qwen1.5-7b-chat", "qwen"),
    ("mistral-large-latest", "tekken"), ("open-mistral-nemo", "tekken-240718"),
    # no offline tokenizer of their own: the default counts, and the label says so
    ("meta-llama/Llama-2-7b-chat-hf", DEFAULT_TOKENIZER), ("codellama-7b-instruct", DEFAULT_TOKENIZER),
    ("meta-llama/Llama-4-Scout-17B-16E-Instruct", DEFAULT_TOKENIZER), ("llama-30b", DEFAULT_TOKENIZER),
    ("qwen3.5-27b", DEFAULT_TOKENIZER), ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", DEFAULT_TOKENIZER),
    ("deepseek-r1-distill-llama-8b", DEFAULT_TOKENIZER), ("google/gemma-2-9b-it", DEFAULT_TOKENIZER),
    ("", DEFAULT_TOKENIZER),
]

# OpenAI cookbook, "How to count tokens with tiktoken", section 3 and "5. Comparing encodings"
COOKBOOK_IDS = {
    "cl100k_base": {
        "tiktoken is great!": [83, 1609, 5963, 374, 2294, 0],
        "antidisestablishmentarianism": [519, 85342, 34500, 479, 8997, 2191],
        "2 + 2 = 4": [17, 489, 220, 17, 284, 220, 19],
        "お誕生日おめでとう": [33334, 45918, 243, 21990, 9080, 33334, 62004, 16556, 78699],
    },
    "o200k_base": {
        "tiktoken is great!": [83, 8251, 2488, 382, 2212, 0],
        "antidisestablishmentarianism": [493, 129901, 376, 160388, 21203, 2367],
        "2 + 2 = 4": [17, 659, 220, 17, 314, 220, 19],
        "お誕生日おめでとう": [8930, 9697, 243, 128225, 8930, 17693, 4344, 48669],
    },
}

# ids from Meta's llama_models.llama3.tokenizer.Tokenizer (encode, bos=False, eos=False) and from tiktoken on
# dashscope's qwen.tiktoken with its split pattern after NFC (as dashscope's QwenTokenizer does)
OPEN_MODEL_IDS = {
    "llama3": {
        "hello": [15339],
        "tiktoken is great!": [103589, 5963, 374, 2294, 0],
        "人工智能的能源消耗": [17792, 49792, 118034, 9554, 126369, 33420, 120225],
        "cafe\u0301": [936, 1897, 54939],
        "12345678": [4513, 10961, 2495],
        "def f(x):\n    return x ** 2\n": [755, 282, 2120, 997, 262, 471, 865, 3146, 220, 17, 198],
    },
    "qwen": {
        "hello": [14990],
        "tiktoken is great!": [83, 1579, 5839, 374, 2244, 0],
        "人工智能的能源消耗": [104455, 9370, 100727, 104997],
        "cafe\u0301": [924, 58858],          # NFC first: the same ids as "café"
        "12345678": [16, 17, 18, 19, 20, 21, 22, 23],
        "def f(x):\n    return x ** 2\n": [750, 282, 2075, 982, 262, 470, 856, 3070, 220, 17, 198],
    },
}

# sha256 of each vocabulary file as its owner publishes it, and the number of ordinary ranks
VOCAB_SHA256 = {
    "cl100k_base": (100256, "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),   # tiktoken
    "o200k_base": (199998, "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),    # tiktoken
    "llama3": (128000, "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55"),        # llama-models
    "qwen": (151643, "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186"),          # dashscope
}

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                  r"\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")


def _corpus(n_random: int = 300) -> list[str]:
    fixed = [
        "", " ", "The quick brown fox jumps over the lazy dog. I'M sure it's THEY'LL we'D you've",
        "def f(x):\n    return {'a': [1, 2, 3], \"b\": x ** 2}  # comment\n\n\n\tif x != None:\n\t\tpass\n",
        "SELECT id, COUNT(*) FROM t WHERE x >= 1000000 GROUP BY id;\r\n",
        "人工智能的能源消耗正在成为一个重要问题。大型语言模型的推理需要大量计算。",
        "日本語のテキストと한국어 텍스트, русский текст, العربية, ελληνικά, हिन्दी",
        "emoji: 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 🚀🚀🚀 😀😃😄", " " * 1000, "a" + " " * 257 + "b", "\n" * 300,
        "\t \n \r\n  \u00a0\u3000 x  ", "x" * 5000, "1234567890123 3.14159 1e-10 0xFF 100,000,000",
        "e\u0301 cafe\u0301 A\u030a \uac00\u11a8 \u212b", "<|endoftext|> <|im_start|> <|begin_of_text|> [INST] <s>",
        "https://example.com/path?q=1&b=%20#frag user@example.com", "\U0001F600" * 100,
    ]
    rng = random.Random(13)
    pools = [range(0x20, 0x7f), range(0xa0, 0x250), range(0x4e00, 0x4fff), range(0x3040, 0x30ff),
             range(0x1f300, 0x1f6ff), range(0x0600, 0x06ff), range(0x0300, 0x036f), range(0xac00, 0xad00)]
    spaces = [" ", "  ", "\n", "\t", "\r\n", "   \n", "\u00a0"]
    out = list(fixed)
    for _ in range(n_random):
        parts = []
        for _ in range(rng.randint(1, 40)):
            if rng.random() < 0.25:
                parts.append(rng.choice(spaces) * rng.randint(1, 5))
            else:
                pool = rng.choice(pools)
                parts.append("".join(chr(rng.choice(pool)) for _ in range(rng.randint(1, 12))))
        out.append("".join(parts))
    return out


def _ranks(name: str) -> dict[bytes, int]:
    n, _ = VOCAB_SHA256[name]
    enc = get_encoding(name)
    return {enc.decode_single_token_bytes(i): i for i in range(n)}


def _tiktoken_reference(name: str, monkeypatch):
    """tiktoken's own engine on the vocabulary SEAL uses, with each family's published split pattern."""
    import tiktoken
    import tiktoken_ext.openai_public as public

    ranks = _ranks(name)
    if name in ("cl100k_base", "o200k_base"):
        monkeypatch.setattr(public, "load_tiktoken_bpe", lambda *a, **k: ranks)
        spec = getattr(public, name)()
        enc = tiktoken.Encoding(name=f"ref-{name}", pat_str=spec["pat_str"], mergeable_ranks=ranks, special_tokens={})
        return enc.encode_ordinary
    if name == "llama3":
        enc = tiktoken.Encoding(name="ref-llama3", pat_str=LLAMA3_PATTERN, mergeable_ranks=ranks, special_tokens={})
        return enc.encode_ordinary
    enc = tiktoken.Encoding(name="ref-qwen", pat_str=QWEN_PATTERN, mergeable_ranks=ranks, special_tokens={})
    return lambda text: enc.encode_ordinary(unicodedata.normalize("NFC", text))


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails (and proxies point nowhere)."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")


@pytest.mark.parametrize("model,expected", FAMILIES)
def test_each_family_gets_its_own_tokenizer(model, expected):
    assert tokenizer_for_model(model) == expected


def test_backends_are_the_shipped_packages():
    assert set(available_tokenizers()) == {"tekken", "tekken-240718", "o200k_base", "cl100k_base", "llama3", "qwen"}
    assert {n: tokenizer_backend(n) for n in ("o200k_base", "cl100k_base", "llama3", "qwen")} == dict.fromkeys(
        ("o200k_base", "cl100k_base", "llama3", "qwen"), "quicktok")
    assert tokenizer_backend("tekken") == "mistral-common"
    with pytest.raises(SealError, match="Unknown tokenizer"):
        get_encoding("no-such-tokenizer")


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_openai_counts_equal_the_cookbook(name):
    enc = get_encoding(name)
    cases = COOKBOOK_IDS[name]
    for text, ids in cases.items():
        assert list(enc.encode_ordinary(text)) == ids
    assert count_tokens(list(cases), name).tolist() == [len(ids) for ids in cases.values()]


@pytest.mark.parametrize("name,api_count", [("cl100k_base", 129), ("o200k_base", 124)])
def test_openai_chat_example_matches_the_api_count(name, api_count):
    """The cookbook's num_tokens_from_messages (3 per message, +1 per name, +3 reply priming) on SEAL's counts
    gives the prompt_tokens the OpenAI API returned for these messages."""
    messages = [
        ("system", None, "You are a helpful, pattern-following assistant that translates corporate jargon into "
                         "plain English."),
        ("system", "example_user", "New synergies will help drive top-line growth."),
        ("system", "example_assistant", "Things working well together will increase revenue."),
        ("system", "example_user", "Let's circle back when we have more bandwidth to touch base on opportunities "
                                   "for increased leverage."),
        ("system", "example_assistant", "Let's talk later when we're less busy about how to do better."),
        ("user", None, "This late pivot means we don't have time to boil the ocean for the client deliverable."),
    ]
    parts = [p for role, who, content in messages for p in (role, content, *((who,) if who else ()))]
    named = sum(1 for _, who, _ in messages if who)
    total = int(count_tokens(parts, name).sum()) + 3 * len(messages) + named + 3
    assert total == api_count


@pytest.mark.parametrize("name", ["llama3", "qwen"])
def test_open_model_counts_equal_the_reference_tokenizers(name):
    cases = OPEN_MODEL_IDS[name]
    enc = get_encoding(name)
    for text, ids in cases.items():
        assert list(enc.encode_ordinary(text)) == ids
    assert count_tokens(list(cases), name).tolist() == [len(ids) for ids in cases.values()]


@pytest.mark.parametrize("name", list(VOCAB_SHA256))
def test_vocabulary_is_the_publishers_file(name):
    n, sha = VOCAB_SHA256[name]
    ranks = _ranks(name)
    assert len(ranks) == n
    lines = b"".join(base64.b64encode(tok) + b" " + str(rank).encode() + b"\n" for tok, rank in ranks.items())
    assert hashlib.sha256(lines).hexdigest() == sha


@pytest.mark.parametrize("name", list(VOCAB_SHA256))
def test_counts_equal_tiktoken_engine_on_a_varied_corpus(name, monkeypatch):
    reference = _tiktoken_reference(name, monkeypatch)
    texts = _corpus()
    expected = [len(reference(t)) for t in texts]
    assert count_tokens(texts, name).tolist() == expected
    ids = get_encoding(name)
    assert all(list(ids.encode_ordinary(t)) == reference(t) for t in texts[:40])


def test_works_offline(no_network):
    get_encoding.cache_clear()
    try:
        for name in available_tokenizers():
            assert count_tokens(["tiktoken is great!", "日本語"], name).min() > 0
    finally:
        get_encoding.cache_clear()


def test_label_in_token_source():
    frame = pd.DataFrame({"model": ["gpt-4o", "gpt-4", "meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct",
                                    "mistral-large-latest", "google/gemma-2-9b-it"],
                          "prompt": ["tiktoken is great!"] * 6})
    out = prepare_requests(frame)
    names = ["o200k_base", "cl100k_base", "llama3", "qwen", "tekken", "tekken"]
    assert out["token_source"].tolist() == [f"tokenizer:{n}+default" for n in names]
    assert out["input_tokens"].tolist() == [int(count_tokens(["tiktoken is great!"], n)[0]) for n in names]
    assert out["input_tokens"].tolist()[:4] == [6, 6, 5, 6]


def test_batches_missing_values_and_odd_text(monkeypatch):
    monkeypatch.setattr(tokens, "_CHUNK", 3)   # several native calls in one count
    texts = ["a b", None, "", float("nan"), "日本語", "x\ud800y", "tiktoken is great!"] * 3
    counts = count_tokens(texts, "o200k_base")
    assert counts.dtype == np.int64 and len(counts) == len(texts)
    assert counts[:7].tolist() == [2, 0, 0, 0, 2, 3, 6]
    assert count_tokens([], "llama3").tolist() == []


def test_without_quicktok_falls_back_honestly(monkeypatch, tmp_path):
    """No quicktok and an empty tiktoken cache: GPT / Llama / Qwen rows are counted with Tekken and say so."""
    monkeypatch.setattr(tokens, "_has_quicktok", lambda: False)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    get_encoding.cache_clear()
    try:
        assert available_tokenizers() == ["tekken", "tekken-240718"]
        for model in ("gpt-4o", "gpt-4", "meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-8B"):
            assert tokenizer_for_model(model) == DEFAULT_TOKENIZER
        with pytest.raises(SealError, match="never downloads"):
            get_encoding("llama3")
        out = prepare_requests(pd.DataFrame({"model": ["gpt-4o"], "prompt": ["tiktoken is great!"]}))
        assert out["token_source"].iloc[0] == "tokenizer:tekken+default"
    finally:
        get_encoding.cache_clear()


def test_ten_thousand_prompts_are_counted_in_one_batched_call():
    # speed is make bench's (10 000 prompts: ~0.05 s on 2 cores, tiktoken ~0.5 s); here the batch gives the same
    # counts as one text at a time
    prompts = [f"Prompt {i}: summarise the attached meeting notes and list the actions. " * 8 for i in range(10_000)]
    for name in ("o200k_base", "llama3", "qwen"):
        counts = count_tokens(prompts, name)
        assert len(counts) == 10_000 and (counts > 80).all()
        some = [0, 4_321, 9_999]
        assert [int(counts[i]) for i in some] == [int(count_tokens([prompts[i]], name)[0]) for i in some]
