"""Prompts and request logs in: format detection, streaming reads, token counting, normalisation.

Public API: :func:`read_requests`, :func:`iter_request_batches`, :func:`detect_format`
(= :func:`seal.logs.detect.detect`), :func:`prepare_requests`, :func:`count_tokens`.
"""
from __future__ import annotations

__all__ = ["read_requests", "iter_request_batches", "detect_format", "prepare_requests", "count_tokens", "ReadReport"]


def __getattr__(name: str):  # lazy: keep `import seal` fast
    if name in ("read_requests", "iter_request_batches", "ReadReport"):
        from seal.logs import read

        return getattr(read, name)
    if name == "detect_format":
        from seal.logs.detect import detect

        return detect
    if name == "prepare_requests":
        from seal.logs.normalize import prepare_requests

        return prepare_requests
    if name == "count_tokens":
        from seal.logs.tokens import count_tokens

        return count_tokens
    raise AttributeError(name)
