"""Real, offline token counting for prompts and responses that come without token counts.

Tokenizers (all offline; nothing is ever downloaded):

- ``tekken`` (default): Mistral's Tekken BPE tokenizer (``tekken_240911.json``, 131 k vocabulary), shipped inside the
  ``mistral-common`` wheel (same vocabulary and split pattern as its ``Tekkenizer``). Used for
  Mistral models and for every open model whose own tokenizer is not available offline (Llama, Qwen, Gemma ...):
  those use BPE vocabularies of similar size (128 k - 256 k), so counts are close but not identical, and the row's
  ``token_source`` says which tokenizer counted it.
- ``tekken-240718``: the earlier Tekken file (Mistral NeMo), also in the wheel.
- ``o200k_base`` / ``cl100k_base``: OpenAI's tiktoken encodings, used for OpenAI models **only when already in
  tiktoken's local cache** (``TIKTOKEN_CACHE_DIR`` / ``DATA_GYM_CACHE_DIR`` / ``$TMP/data-gym-cache``); otherwise the
  default tokenizer counts and says so.

Counts never include chat-template or BOS/EOS tokens: they count the text as given.
"""
from __future__ import annotations

import functools
import hashlib
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

# tiktoken encodings -> blob URL tiktoken caches them under (sha1 of the URL is the cache file name)
TIKTOKEN_BLOBS: dict[str, str] = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}

# model-name pattern -> preferred tokenizer (first match wins); a tokenizer that is not available falls back
# to DEFAULT_TOKENIZER.
MODEL_TOKENIZERS: tuple[tuple[str, str], ...] = (
    (r"(^|/)(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|chatgpt-4o|gpt-oss)", "o200k_base"),
    (r"(^|/)(gpt-4|gpt-3\.5|text-embedding-3)", "cl100k_base"),
    (r"open-mistral-nemo|mistral-nemo", "tekken-240718"),
    (r"mistral|mixtral|ministral|codestral|pixtral|magistral|devstral", "tekken"),
)


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


def is_available(name: str) -> bool:
    """True when tokenizer ``name`` can be loaded offline."""
    if name in TEKKEN_FILES:
        return True
    if name in TIKTOKEN_BLOBS:
        path = _tiktoken_cache_path(name)
        return bool(path) and os.path.exists(path)
    return False


def available_tokenizers() -> list[str]:
    """Names of the tokenizers usable on this machine (offline)."""
    return [n for n in (*TEKKEN_FILES, *TIKTOKEN_BLOBS) if is_available(n)]


def tokenizer_for_model(model: Any) -> str:
    """The tokenizer used to count text for ``model`` (its family's own when available offline, else the default)."""
    name = str(model or "").lower()
    for pattern, tok in MODEL_TOKENIZERS:
        if re.search(pattern, name):
            return tok if is_available(tok) else DEFAULT_TOKENIZER
    return DEFAULT_TOKENIZER


@functools.lru_cache(maxsize=None)
def get_encoding(name: str = DEFAULT_TOKENIZER):
    """The loaded tokenizer (a ``tiktoken.Encoding``) for ``name``; cached for the process.

    Raises:
        seal.errors.SealError: unknown name, or a tiktoken encoding that is not in the local cache.
    """
    from seal.errors import SealError

    if name in TEKKEN_FILES:
        return _load_tekken(name)
    if name in TIKTOKEN_BLOBS:
        if not is_available(name):
            raise SealError(
                f"Tokenizer {name!r} is not in tiktoken's local cache and SEAL never downloads it; "
                f"available offline: {available_tokenizers()}."
            )
        import tiktoken

        return tiktoken.get_encoding(name)
    raise SealError(f"Unknown tokenizer {name!r}; accepted: {sorted((*TEKKEN_FILES, *TIKTOKEN_BLOBS))}.")


def _load_tekken(name: str):
    """The Tekken vocabulary of ``mistral-common`` as a ``tiktoken.Encoding`` of ordinary (non-special) tokens.

    Built exactly as ``mistral_common``'s ``Tekkenizer`` builds its inner model (the first
    ``default_vocab_size - default_num_special_tokens`` ranks, the file's split pattern), without the rest of
    the Tekkenizer set-up, so it loads in ~0.2 s instead of ~1 s; tests pin equal counts against ``Tekkenizer``.
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
    encoded = enc.encode_ordinary_batch(items, num_threads=2)
    return np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(items))
