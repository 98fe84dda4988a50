"""Real, offline token counting for prompts and responses that come without token counts.

Tokenizers (all offline; nothing is ever downloaded):

- ``o200k_base`` (GPT-4o, GPT-4.1, GPT-4.5, GPT-5, o-series, gpt-oss) and ``cl100k_base`` (GPT-4, GPT-3.5,
  text-embedding-3): OpenAI's encodings, from the ``quicktok-v1`` wheel (it ships the vocabularies; token ids
  identical to ``tiktoken``'s, see ``tests/test_tokenizers.py``). Without ``quicktok`` they are used only when
  already in ``tiktoken``'s local cache (``TIKTOKEN_CACHE_DIR`` / ``DATA_GYM_CACHE_DIR`` / ``$TMP/data-gym-cache``).
- ``llama3``: Meta's Llama 3 / 3.1 / 3.2 / 3.3 tokenizer (128 000 ranks), shipped in ``quicktok-v1`` (its vocabulary
  equals Meta's ``tokenizer.model``; the Meta Llama 3 Community License covers it).
- ``qwen``: the Qwen byte-level BPE shared by Qwen 1.5, Qwen2, Qwen2.5, Qwen3 and QwQ (151 643 ranks, NFC-normalised
  like the Hugging Face tokenizer), shipped in ``quicktok-v1`` as ``qwen3``. Qwen3.5 and later use a new vocabulary
  and are not matched.
- ``tekken`` (default): Mistral's Tekken BPE tokenizer (``tekken_240911.json``, 131 k vocabulary), shipped inside the
  ``mistral-common`` wheel (same vocabulary and split pattern as its ``Tekkenizer``). Used for Mistral models and for
  every model whose own tokenizer is not available offline (Llama 2 and 4, Gemma, DeepSeek, Phi ...): those use BPE
  vocabularies of similar size (32 k - 256 k), so counts are close but not identical, and the row's
  ``token_source`` says which tokenizer counted it.
- ``tekken-240718``: the earlier Tekken file (Mistral NeMo), also in the wheel.

Counts never include chat-template or BOS/EOS tokens: they count the text as given (special-token text such as
``<|endoftext|>`` is counted as ordinary text).
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import tempfile
from importlib import resources
from typing import Any, Iterable

import numpy as np

DEFAULT_TOKENIZER = "tekken"

# name -> file inside mistral_common/data (see `mistral_common` 1.13 package data)
TEKKEN_FILES: dict[str, str] = {
    "tekken": "tekken_240911.json",
    "tekken-240718": "tekken_240718.json",
}

# SEAL name -> encoding name inside the `quicktok-v1` wheel (bundled vocabularies, no download)
QUICKTOK_ENCODINGS: dict[str, str] = {
    "o200k_base": "o200k_base",
    "cl100k_base": "cl100k_base",
    "llama3": "llama3",
    "qwen": "qwen3",
}

# tiktoken encodings -> blob URL tiktoken caches them under (sha1 of the URL is the cache file name); used for
# these two only when quicktok is not installed.
TIKTOKEN_BLOBS: dict[str, str] = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}

ALL_TOKENIZERS: tuple[str, ...] = (*TEKKEN_FILES, *QUICKTOK_ENCODINGS)

# model-name pattern -> preferred tokenizer (first match wins, on the lower-cased name); a tokenizer that is not
# available falls back to DEFAULT_TOKENIZER.
MODEL_TOKENIZERS: tuple[tuple[str, str], ...] = (
    (r"(^|/)(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|chatgpt-4o|gpt-oss)", "o200k_base"),
    (r"(^|/)(gpt-4|gpt-3\.5|text-embedding-3)", "cl100k_base"),
    # DeepSeek's distilled Llama / Qwen models ship DeepSeek's changed tokenizers: not counted as Llama / Qwen
    (r"deepseek", DEFAULT_TOKENIZER),
    (r"open-mistral-nemo|mistral-nemo", "tekken-240718"),
    (r"mistral|mixtral|ministral|codestral|pixtral|magistral|devstral", "tekken"),
    # Llama 3.x and its fine-tunes (Nemotron ...), not Llama 2 / 4, CodeLlama, or LLaMA-30B
    (r"llama[-_ ]?3(?![\d])", "llama3"),
    # Qwen 1.5 / 2 / 2.5 / 3 (incl. -Coder, -VL, -Next) and QwQ; not Qwen3.5+ (new vocabulary)
    (r"qwen[-_ ]?(1\.5|2\.5|2|3)(?![.\d])|qwq", "qwen"),
)

_CHUNK = 4096   # texts per native batch call: bounds the flat token buffer quicktok returns


def _threads() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def _tiktoken_cache_path(name: str) -> str | None:
    """Path where tiktoken caches encoding ``name``, or ``None`` when caching is disabled."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache_dir = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache_dir = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not cache_dir:
        return None
    return os.path.join(cache_dir, hashlib.sha1(TIKTOKEN_BLOBS[name].encode()).hexdigest())


@functools.lru_cache(maxsize=1)
def _has_quicktok() -> bool:
    return importlib.util.find_spec("quicktok") is not None


def _in_tiktoken_cache(name: str) -> bool:
    path = _tiktoken_cache_path(name) if name in TIKTOKEN_BLOBS else None
    return bool(path) and os.path.exists(path)


def tokenizer_backend(name: str) -> str | None:
    """Which package counts tokenizer ``name`` here (``mistral-common``, ``quicktok``, ``tiktoken-cache``), or
    ``None`` when it is not available offline."""
    if name in TEKKEN_FILES:
        return "mistral-common"
    if name in QUICKTOK_ENCODINGS and _has_quicktok():
        return "quicktok"
    if _in_tiktoken_cache(name):
        return "tiktoken-cache"
    return None


def is_available(name: str) -> bool:
    """True when tokenizer ``name`` can be loaded offline."""
    return tokenizer_backend(name) is not None


def available_tokenizers() -> list[str]:
    """Names of the tokenizers usable on this machine (offline)."""
    return [n for n in ALL_TOKENIZERS if is_available(n)]


def tokenizer_for_model(model: Any) -> str:
    """The tokenizer used to count text for ``model`` (its family's own when available offline, else the default)."""
    name = str(model or "").lower()
    for pattern, tok in MODEL_TOKENIZERS:
        if re.search(pattern, name):
            return tok if is_available(tok) else DEFAULT_TOKENIZER
    return DEFAULT_TOKENIZER


@functools.lru_cache(maxsize=None)
def get_encoding(name: str = DEFAULT_TOKENIZER):
    """The loaded tokenizer for ``name``, cached for the process: a ``tiktoken.Encoding`` (Tekken, or an OpenAI
    encoding from tiktoken's cache) or a ``quicktok.Tokenizer`` (same ``encode`` / ``encode_ordinary`` /
    ``decode`` API).

    Raises:
        seal.errors.SealError: unknown name, or a tokenizer that is not available offline here.
    """
    from seal.errors import SealError

    if name not in ALL_TOKENIZERS:
        raise SealError(f"Unknown tokenizer {name!r}; accepted: {sorted(ALL_TOKENIZERS)}.")
    backend = tokenizer_backend(name)
    if backend == "mistral-common":
        return _load_tekken(name)
    if backend == "quicktok":
        import quicktok

        return quicktok.get_encoding(QUICKTOK_ENCODINGS[name])
    if backend == "tiktoken-cache":
        import tiktoken

        return tiktoken.get_encoding(name)
    hint = "install `quicktok-v1`, which ships it" if name in QUICKTOK_ENCODINGS else ""
    raise SealError(
        f"Tokenizer {name!r} is not available offline here and SEAL never downloads it ({hint}); "
        f"available offline: {available_tokenizers()}."
    )


def _load_tekken(name: str):
    """The Tekken vocabulary of ``mistral-common`` as a ``tiktoken.Encoding`` of ordinary (non-special) tokens.

    Built exactly as ``mistral_common``'s ``Tekkenizer`` builds its inner model (the first
    ``default_vocab_size - default_num_special_tokens`` ranks, the file's split pattern), without the rest of
    the Tekkenizer set-up, so it loads several times faster (`make bench`); tests pin equal counts against ``Tekkenizer``.
    """
    import base64
    import json

    import tiktoken

    ref = resources.files("mistral_common") / "data" / TEKKEN_FILES[name]
    with ref.open("rb") as fh:
        spec = json.load(fh)
    config = spec["config"]
    inner = config["default_vocab_size"] - config["default_num_special_tokens"]
    ranks = {base64.b64decode(tok["token_bytes"]): tok["rank"] for tok in spec["vocab"][:inner]}
    return tiktoken.Encoding(name=name, pat_str=config["pattern"], mergeable_ranks=ranks, special_tokens={})


def _valid_utf8(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (what tiktoken does before encoding such text)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _quicktok_counts(enc, items: list[str]) -> np.ndarray:
    out = np.empty(len(items), dtype=np.int64)
    threads = _threads()
    for start in range(0, len(items), _CHUNK):
        chunk = items[start:start + _CHUNK]
        try:
            _, offsets = enc.encode_batch(chunk, threads, False)
        except (TypeError, UnicodeEncodeError):   # a lone surrogate cannot be passed to the native code
            _, offsets = enc.encode_batch([_valid_utf8(t) for t in chunk], threads, False)
        out[start:start + len(chunk)] = np.diff(np.asarray(offsets, dtype=np.int64))
    return out


def count_tokens(texts: Iterable[Any], tokenizer: str = DEFAULT_TOKENIZER) -> np.ndarray:
    """Number of tokens of each text (int64 array; missing texts count 0).

    Args:
        texts: strings (``None`` / NaN count as empty).
        tokenizer: a name from :func:`available_tokenizers`.
    """
    items = ["" if t is None or (isinstance(t, float) and t != t) else str(t) for t in texts]
    if not items:
        return np.zeros(0, dtype=np.int64)
    enc = get_encoding(tokenizer)
    if tokenizer_backend(tokenizer) == "quicktok":
        return _quicktok_counts(enc, items)
    encoded = enc.encode_ordinary_batch(items, num_threads=2)
    return np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(items))
