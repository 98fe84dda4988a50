"""Prepare a request frame for the estimator: fill defaults, count tokens, validate, parse timestamps.

Everything is vectorised (numpy / pandas); the only per-text work is the tokenizer's batch encoder, and only for
rows that come without token counts.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from seal.columns import INPUT_COLUMNS, LOG_COLUMNS
from seal.errors import SealError, join_codes
from seal.frames import blank

NORMALIZED_COLUMNS: tuple[str, ...] = INPUT_COLUMNS + LOG_COLUMNS + ("warnings",)
NUMERIC_COLUMNS: tuple[str, ...] = (
    "params_b", "active_params_b", "gpus", "batch_size", "input_tokens", "output_tokens", "latency_s", "ttft_s",
    "cached_input_tokens", "reasoning_tokens",
)
TOKEN_COLUMNS: tuple[str, ...] = ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens")
STRING_COLUMNS: tuple[str, ...] = tuple(c for c in NORMALIZED_COLUMNS if c not in NUMERIC_COLUMNS and c != "timestamp")

DEFAULT_OUTPUT_TOKENS = 215            # tokens; mean response length in LMSYS-Chat-1M (Zheng et al. 2023,
                                       # arXiv:2309.11998, Table 1: 214.5 tokens per response)
MAX_TOKENS_PER_REQUEST = 10_000_000    # tokens; the largest context window offered (Llama 4 Scout, 10 M)
MAX_LATENCY_S = 86_400.0               # s; one request longer than a day is a logging error
MAX_PARAMS_B = 100_000.0               # billions of parameters; far above any published model
MAX_GPUS_OR_BATCH = 65_536               # gpus / batch_size above this are typos, not set-ups (largest clusters: ~10^5)

# call_type spellings (LiteLLM's call_type, OTel's gen_ai.operation.name, Langfuse's observation type, OpenAI's
# endpoints) -> chat | embedding. A chat call has prefill and decode; an embedding call is a forward pass over its
# input: prefill only, no output tokens.
CALL_TYPES = ("chat", "embedding")
CALL_TYPE_ALIASES: dict[str, str] = {
    "chat": "chat", "completion": "chat", "acompletion": "chat", "text-completion": "chat", "chat.completion": "chat",
    "chat.completions": "chat", "chat-completion": "chat", "responses": "chat", "aresponses": "chat",
    "response": "chat", "generation": "chat", "generate": "chat", "text-completions": "chat", "atext-completion": "chat",
    "embedding": "embedding", "embeddings": "embedding", "aembedding": "embedding", "embed": "embedding",
}


def _where(frame: pd.DataFrame, label: Any) -> str:
    return f"{frame.index.name or 'row'} {label}"


def empty_column(col: str, index: pd.Index) -> pd.Series:
    """An all-missing column of the normalised frame's type for ``col`` (cheap for millions of rows)."""
    if col in NUMERIC_COLUMNS:
        return pd.Series(np.full(len(index), np.nan), index=index)
    if col == "timestamp":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[us, UTC]")
    import pyarrow as pa

    return pd.Series(pd.array(pa.nulls(len(index), pa.large_string()), dtype="str"), index=index)


class _Reasons:
    """The first reason each row is unusable: a row keeps the first flag that hits it."""

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, None, dtype=object)
        self.pending = np.ones(n, dtype=bool)

    def flag(self, mask: np.ndarray, text: Any) -> None:
        """Give the rows of ``mask`` without a reason yet ``text``: a string, or a function of their positions
        returning one string per row (called only when some row is hit)."""
        hit = mask & self.pending
        if hit.any():
            if callable(text):
                idx = np.flatnonzero(hit)
                self.reason[idx] = text(idx)
            else:
                self.reason[hit] = text
            self.pending &= ~hit


_Flag = Callable[[np.ndarray, Any], None]


def _floats(frame: pd.DataFrame, col: str) -> np.ndarray:
    """``frame[col]`` (already numeric) as floats, NaN where missing."""
    return frame[col].to_numpy(dtype=float, na_value=np.nan)


def _too_many_tokens(col: str, value: float) -> str:
    """The reason for a count above :data:`MAX_TOKENS_PER_REQUEST` (huge counts in ``:.3g``)."""
    shown = f"{value:.0f}" if value < 1e15 else f"{value:.3g}"
    return f"{col} is {shown}, more than {MAX_TOKENS_PER_REQUEST:,} tokens per request"


def _flag_token_counts(frame: pd.DataFrame, flag: _Flag) -> None:
    """Flag negative token counts and counts above :data:`MAX_TOKENS_PER_REQUEST`."""
    for col in TOKEN_COLUMNS:
        if col in frame:
            v = _floats(frame, col)
            flag(v < 0, lambda idx, c=col, v=v: [f"{c} is negative ({v[i]:g})" for i in idx])
            flag(v > MAX_TOKENS_PER_REQUEST, lambda idx, c=col, v=v: [_too_many_tokens(c, v[i]) for i in idx])


def _flag_latencies(frame: pd.DataFrame, flag: _Flag) -> None:
    """Flag negative latency / TTFT seconds and ones above :data:`MAX_LATENCY_S`."""
    for col in ("latency_s", "ttft_s"):
        if col in frame:
            v = _floats(frame, col)
            flag(v < 0, lambda idx, c=col, v=v: [f"{c} is negative ({v[i]:g} s)" for i in idx])
            flag(v > MAX_LATENCY_S, lambda idx, c=col, v=v: [f"{c} is {v[i]:g} s, more than a day" for i in idx])


def _flag_sizes(frame: pd.DataFrame, flag: _Flag) -> None:
    """Flag model sizes, GPU counts and batch sizes that are not positive or far above any real value, a batch
    size below 1 and a fractional GPU count."""
    for col in ("params_b", "active_params_b", "gpus", "batch_size"):
        if col in frame:
            v = _floats(frame, col)
            flag(v <= 0, lambda idx, c=col, v=v: [f"{c} must be positive (got {v[i]:g})" for i in idx])
            if col == "batch_size":
                flag((v > 0) & (v < 1), lambda idx, v=v: [f"batch_size must be at least 1 (got {v[i]:g})" for i in idx])
            flag(v > (MAX_PARAMS_B if col.endswith("params_b") else MAX_GPUS_OR_BATCH),
                 lambda idx, c=col, v=v: [f"{c} is {v[i]:g}, far above any real value" for i in idx])
    if "gpus" in frame:     # batch_size is a mean concurrency: fractions are real (vLLM's metrics)
        v = _floats(frame, "gpus")
        flag(np.isfinite(v) & (v != np.round(v)),
             lambda idx: [f"gpus must be a whole number (got {v[i]:g})" for i in idx])


def _flag_inconsistent(frame: pd.DataFrame, flag: _Flag) -> None:
    """Flag an active size larger than the total size and a TTFT longer than the whole latency."""
    if "params_b" in frame and "active_params_b" in frame:
        total, active = _floats(frame, "params_b"), _floats(frame, "active_params_b")
        flag(active > total * (1 + 1e-9), lambda idx: [f"active_params_b ({active[i]:g}) is larger than params_b "
                                                       f"({total[i]:g})" for i in idx])
    if "latency_s" in frame and "ttft_s" in frame:
        lat, ttft = _floats(frame, "latency_s"), _floats(frame, "ttft_s")
        flag(ttft > lat, lambda idx: [f"ttft_s ({ttft[i]:g} s) is longer than latency_s ({lat[i]:g} s)" for i in idx])


def _flag_call_types(frame: pd.DataFrame, flag: _Flag) -> None:
    """Flag an unknown ``call_type`` and an embedding call with output tokens."""
    if "call_type" not in frame:
        return
    kinds = frame["call_type"]
    given = ~blank(kinds)
    if not given.any():
        return
    codes, uniques = pd.factorize(kinds.astype(object), use_na_sentinel=True)   # once per distinct spelling
    canon_u = np.array([_call_type(u) for u in uniques] + [None], dtype=object)
    canon = canon_u[np.where(codes >= 0, codes, len(uniques))]
    flag(given & pd.isna(canon),
         lambda idx: [f"unknown call_type {kinds.iloc[i]!r} (accepted: {', '.join(CALL_TYPES)})" for i in idx])
    if "output_tokens" in frame:
        out_v = _floats(frame, "output_tokens")
        flag(given & (canon == "embedding") & (out_v > 0),
             lambda idx: [f"an embedding call has no output tokens (got {out_v[i]:g})" for i in idx])


def _flag_missing(frame: pd.DataFrame, flag: _Flag, *, require_model: bool, require_tokens: bool) -> None:
    """Flag rows without a model (nor ``params_b``) and rows without input tokens (nor prompt text), as asked."""
    n = len(frame)
    if require_model:
        no_model = blank(frame["model"]) if "model" in frame else np.ones(n, dtype=bool)
        if "params_b" in frame:
            no_model = no_model & frame["params_b"].isna().to_numpy()
        flag(no_model, "no model (give a model column or --model, or params_b for an unknown model)")
    if require_tokens:
        no_in = frame["input_tokens"].isna().to_numpy() if "input_tokens" in frame else np.ones(n, dtype=bool)
        if "prompt" in frame:
            no_in = no_in & blank(frame["prompt"])
        flag(no_in, "no input_tokens and no prompt text to count")


def check_rows(frame: pd.DataFrame, *, require_model: bool = False, require_tokens: bool = False) -> pd.Series:
    """Why each row is unusable (a short reason), or NA when it is fine. Numeric columns must already be numeric.

    Checks: negative or absurd token counts (> :data:`MAX_TOKENS_PER_REQUEST`), negative or absurd latency, and
    optionally a missing model (without ``params_b``) or missing input tokens (without prompt text).
    """
    reasons = _Reasons(len(frame))
    for check in (_flag_token_counts, _flag_latencies, _flag_sizes, _flag_inconsistent, _flag_call_types):
        check(frame, reasons.flag)
    _flag_missing(frame, reasons.flag, require_model=require_model, require_tokens=require_tokens)
    return pd.Series(reasons.reason, index=frame.index, dtype=object)


def raise_first_bad(frame: pd.DataFrame, reasons: pd.Series, *, hint: str = "") -> None:
    """Raise a :class:`SealError` for the first bad row in ``reasons`` (no-op when all are NA)."""
    bad = reasons.notna().to_numpy()
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    more = int(bad.sum()) - 1
    tail = f" ({more} more bad row{'s' if more != 1 else ''})" if more else ""
    raise SealError(f"{_where(frame, frame.index[i])}: {reasons.iloc[i]}{tail}.{hint}")


def _to_numeric(frame: pd.DataFrame, col: str) -> None:
    s = frame[col]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        if s.dtype != np.float64:
            frame[col] = s.astype(np.float64)
        return
    num = pd.to_numeric(s, errors="coerce")
    # a written-out "nan" / "NaN" is a bad value (a real missing value is None / NaN / an empty cell); only the
    # cells that did not parse are turned into text to tell those apart
    bad = (num.isna() & s.notna()).to_numpy(dtype=bool, copy=True)
    if bad.any():
        idx = np.flatnonzero(bad)
        bad[idx] = ~s.iloc[idx].astype("str").str.strip().eq("").to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SealError(f"{_where(frame, frame.index[i])}: {col} is not a number ({s.iloc[i]!r}).")
    frame[col] = num.astype(np.float64)


def _blank_safe(s: pd.Series) -> pd.Series:
    return s.astype("str").str.strip().isin(["", "nan", "None", "<NA>"])


def _fill(frame: pd.DataFrame, col: str, value: Any) -> np.ndarray:
    """Fill missing cells of ``col`` with ``value``; return the mask of filled rows."""
    s = frame[col]
    missing = s.isna().to_numpy().copy()
    if col in STRING_COLUMNS:
        missing |= blank(s)
    if missing.any():
        if missing.all():
            frame[col] = pd.Series(value, index=frame.index, dtype=s.dtype if col in NUMERIC_COLUMNS else None)
        else:
            frame[col] = s.where(~missing, value)
    return missing


def _tokenize(frame: pd.DataFrame, rows: np.ndarray, text_col: str, tokenizer: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Token counts of ``text_col`` at ``rows`` and the tokenizer name per row."""
    from seal.logs.tokens import count_tokens, tokenizer_for_model

    idx = np.flatnonzero(rows)
    texts = frame[text_col].to_numpy(dtype=object)[idx]
    if tokenizer:
        names = np.full(len(idx), tokenizer, dtype=object)
    else:
        models = frame["model"].to_numpy(dtype=object)[idx]
        uniq, inv = np.unique(pd.Series(models, dtype=object).fillna("").astype(str).to_numpy(), return_inverse=True)
        names = np.array([tokenizer_for_model(m) for m in uniq], dtype=object)[inv]
    counts = np.zeros(len(idx), dtype=np.int64)
    for name in pd.unique(names):
        sel = names == name
        counts[sel] = count_tokens(texts[sel], name)
    return counts, names


class _TokenSources:
    """Where the token counts of the rows missing either count come from, input and output apart (``None``: the
    frame's own ``token_source``)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        given = frame["input_tokens"].notna().to_numpy() & frame["output_tokens"].notna().to_numpy()
        self.rows = np.flatnonzero(~given)
        self.of = {col: np.full(len(self.rows), None, dtype=object) for col in ("input_tokens", "output_tokens")}

    def mark(self, col: str, mask: np.ndarray, value: Any) -> None:
        """Record ``value`` (one, or one per row of ``mask``) as the source of ``col`` at the rows of ``mask``
        (a subset of :attr:`rows`)."""
        self.of[col][mask[self.rows]] = value

    def column(self, token_source: pd.Series) -> pd.Series:
        """The ``token_source`` column: ``log`` / ``user`` / ``tokenizer:<name>`` / ``default``, ``a+b`` when the
        input's and the output's differ (a blank given source is ``user``)."""
        given = token_source.where(~blank(token_source), "user") if len(token_source) else token_source
        if len(self.rows):
            base = given.to_numpy(dtype=object)[self.rows]
            ins = np.where(pd.isna(self.of["input_tokens"]), base, self.of["input_tokens"])
            outs = np.where(pd.isna(self.of["output_tokens"]), base, self.of["output_tokens"])
            combined = [a if a == b else f"{a}+{b}" for a, b in zip(ins, outs)]
            given = given.copy()
            given.iloc[self.rows] = combined
        return given.astype("str")


def _with_all_columns(frame: pd.DataFrame, model_map: dict | None) -> pd.DataFrame:
    """A new frame: ``frame`` with every column of :data:`NORMALIZED_COLUMNS`, ``model_map`` applied and the
    numeric columns as float64."""
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed, and nothing is copied twice
    for col in NORMALIZED_COLUMNS:
        if col not in out:
            out[col] = empty_column(col, out.index)
    out = apply_model_map(out, model_map)
    for col in NUMERIC_COLUMNS:
        _to_numeric(out, col)
    return out


def _default_values(defaults: dict[str, Any]) -> dict[str, Any]:
    """The defaults to fill (``None`` left out), numeric ones as floats.

    Raises:
        SealError: an unknown column, or a numeric default that is not a finite number.
    """
    unknown = set(defaults) - set(NORMALIZED_COLUMNS)
    if unknown:
        raise SealError(f"Unknown default(s) {sorted(unknown)}; accepted: {sorted(NUMERIC_COLUMNS + STRING_COLUMNS)}.")
    values = {}
    for key, value in defaults.items():
        if value is None:
            continue
        if key in NUMERIC_COLUMNS:
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise SealError(f"{key} must be a number (got {value!r}).") from None
            if not np.isfinite(value):
                raise SealError(f"{key} must be a finite number (got {value!r}).")
        values[key] = value
    return values


def _embedding_calls(frame: pd.DataFrame) -> np.ndarray:
    """The mask of embedding calls (``call_type`` canonicalised in place); their output tokens are set to 0.

    Raises:
        SealError: an embedding call with output tokens.
    """
    embedding = _call_types(frame, out_given=frame["output_tokens"].notna().to_numpy())
    if embedding.any():                      # no output: an embedding is one forward pass over its input
        given = frame["output_tokens"].to_numpy(dtype=float, copy=True)
        wrong = embedding & (given > 0)
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise SealError(f"{_where(frame, frame.index[i])}: an embedding call has no output tokens (got "
                            f"{given[i]:g}); give output_tokens 0 or leave it empty, or set call_type to chat.")
        given[embedding] = 0.0
        frame["output_tokens"] = given
    return embedding


def _count_missing_tokens(frame: pd.DataFrame, tokenizer: str | None, sources: _TokenSources) -> np.ndarray:
    """Count the tokens of prompts / responses whose counts are missing (in place); return the mask of rows counted."""
    counted = np.zeros(len(frame), dtype=bool)
    for tcol, text_col in (("input_tokens", "prompt"), ("output_tokens", "response")):
        need = frame[tcol].isna().to_numpy() & ~blank(frame[text_col])
        if need.any():
            counts, names = _tokenize(frame, need, text_col, tokenizer)
            vals = frame[tcol].to_numpy(dtype=float, copy=True)
            vals[need] = counts
            frame[tcol] = vals
            sources.mark(tcol, need, ["tokenizer:" + str(nm) for nm in names])
            counted |= need
    return counted


def _default_output_tokens(frame: pd.DataFrame, sources: _TokenSources) -> np.ndarray:
    """Give the rows still without output tokens :data:`DEFAULT_OUTPUT_TOKENS` (in place); return their mask."""
    no_out = frame["output_tokens"].isna().to_numpy()
    if no_out.any():
        vals = frame["output_tokens"].to_numpy(dtype=float, copy=True)
        vals[no_out] = DEFAULT_OUTPUT_TOKENS
        frame["output_tokens"] = vals
        sources.mark("output_tokens", no_out, "default")
    return no_out


def _with_token_codes(warnings: pd.Series, estimated: np.ndarray, default_output: np.ndarray,
                      embedding: np.ndarray) -> pd.Series:
    """``warnings`` with ``estimated-tokens`` / ``default-output-tokens`` / ``embedding-call`` appended where the
    masks are set (other rows unchanged), as ``str``."""
    flagged = np.flatnonzero(estimated | default_output | embedding)
    prev = warnings.to_numpy(dtype=object)[flagged]
    codes = [join_codes("" if pd.isna(p) else str(p), "estimated-tokens" if w else "",
                        "default-output-tokens" if d else "", "embedding-call" if e else "")
             for p, w, d, e in zip(prev, estimated[flagged], default_output[flagged], embedding[flagged])]
    out = warnings.astype(object).copy()
    out.iloc[flagged] = codes
    return out.astype("str")


def prepare_requests(frame: pd.DataFrame, tokenizer: str | None = None, model_map: dict | None = None,
                     **defaults: Any) -> pd.DataFrame:
    """Normalise a request frame: defaults, token counts, default output length, validation, UTC timestamps.

    Args:
        frame: requests with any of :data:`seal.columns.INPUT_COLUMNS` / ``LOG_COLUMNS``.
        tokenizer: tokenizer for texts without counts (see :mod:`seal.logs.tokens`); default per model.
        model_map: log model names -> catalogue model or size (:func:`apply_model_map`), applied first.
        **defaults: values for missing columns / empty cells (``model``, ``gpu``, ``input_tokens`` ...).

    Returns:
        A new frame with every column of :data:`NORMALIZED_COLUMNS` (plus the input's other columns), token
        counts as int64, ``token_source`` (``log`` / ``user`` / ``tokenizer:<name>``, ``a+b`` when input and
        output differ), ``timestamp`` as tz-aware UTC and coded ``warnings``.

    Raises:
        SealError: a non-numeric or impossible value, a row without model or input tokens, a bad timestamp;
            the message names the column and the row (``line N`` for frames read from logs).
    """
    out = _with_all_columns(frame, model_map)
    sources = _TokenSources(out)          # rows whose token counts come from somewhere else than the input
    for key, value in _default_values(defaults).items():
        hit = _fill(out, key, value)
        if key in sources.of:
            sources.mark(key, hit, "user")
    embedding = _embedding_calls(out)
    estimated = _count_missing_tokens(out, tokenizer, sources)
    no_out = _default_output_tokens(out, sources)
    raise_first_bad(out, check_rows(out, require_model=True, require_tokens=True))
    for col in ("input_tokens", "output_tokens"):
        out[col] = out[col].to_numpy(dtype=float).round().astype(np.int64)
    out["token_source"] = sources.column(out["token_source"])
    out["timestamp"] = _utc(out, out["timestamp"])
    if (estimated | no_out | embedding).any():
        out["warnings"] = _with_token_codes(out["warnings"], estimated, no_out, embedding)
    return out


MODEL_MAP_FIELDS = ("model", "params_b", "active_params_b", "precision")


def apply_model_map(frame: pd.DataFrame, model_map: dict | None) -> pd.DataFrame:
    """Rows whose ``model`` is a key of ``model_map`` (exactly, else ignoring case and surrounding spaces) take
    the mapped catalogue model and / or size: ``{log_name: catalogue_name}`` or ``{log_name: {"model": ...,
    "params_b": ..., "active_params_b": ..., "precision": ...}}`` (:func:`seal.data.aliases.read_model_map`).
    Sizes fill only empty cells (a row's own ``params_b`` wins); the name as logged is kept in ``model_as_logged``.
    Returns a new frame (the input is never changed); the input itself when nothing matches."""
    if not model_map or "model" not in frame or not len(frame):
        return frame
    entries = {str(k): (v if isinstance(v, dict) else {"model": v}) for k, v in model_map.items()}
    loose = {k.strip().lower(): v for k, v in entries.items()}
    codes, uniques = pd.factorize(frame["model"].astype(object), use_na_sentinel=True)
    hits = [entries.get(str(u), loose.get(str(u).strip().lower())) for u in uniques]
    if not any(hits):
        return frame
    from seal.frames import add_codes

    out = frame.copy(deep=False)
    out["model_as_logged"] = frame["model"]
    mapped = np.array([h is not None for h in hits] + [False])[codes]
    warnings = out["warnings"] if "warnings" in out else empty_column("warnings", out.index)
    out["warnings"] = add_codes(warnings, {"model-map": mapped})
    for field in MODEL_MAP_FIELDS:
        values = np.array([None if h is None else h.get(field) for h in hits] + [None], dtype=object)[codes]
        take = pd.notna(values)
        if not take.any():
            continue
        if field == "model":
            out["model"] = out["model"].astype(object).where(~take, values).astype("str")
        else:
            cur = out[field] if field in out else empty_column(field, out.index)
            fill = take & (cur.isna().to_numpy() | (blank(cur) if field == "precision" else False))
            out[field] = cur.astype(object).where(~fill, values)
            if field in NUMERIC_COLUMNS:
                out[field] = pd.to_numeric(out[field], errors="coerce")
    return out


EMBEDDING_MODEL_NAME = r"(?i)(?:^|[/_.:-])(?:text-)?embed(?:ding)?s?(?:$|[/_.:-])|embed-|-embed|bge-|/e5-|^e5-"


def _call_type(value: Any) -> str | None:
    """The canonical call type of one spelling (``None``: not one of :data:`CALL_TYPE_ALIASES`)."""
    key = str(value).strip().lower().replace("_", "-")
    return CALL_TYPE_ALIASES.get(key, CALL_TYPE_ALIASES.get(key.replace("-", ".")))


def _call_types(frame: pd.DataFrame, out_given: np.ndarray | None = None) -> np.ndarray:
    """Canonicalise ``call_type`` in place; return the mask of embedding calls. A blank call type is ``chat``,
    except for a row without output tokens whose model is named as an embedding model
    (:data:`EMBEDDING_MODEL_NAME`: ``text-embedding-3-small``, ``nomic-embed-text``, ``bge-m3``): an embedding call,
    never given a chat's default output length.

    Raises:
        SealError: a call type that is neither chat nor embedding (nor one of their aliases).
    """
    s = frame["call_type"]
    unset = blank(s)
    no_out = ~out_given if out_given is not None else np.ones(len(frame), dtype=bool)
    if (unset & no_out).any() and "model" in frame:
        codes, uniques = pd.factorize(frame["model"].astype(object), use_na_sentinel=True)
        hits = np.append(pd.Series(uniques, dtype="str").str.contains(EMBEDDING_MODEL_NAME, regex=True,
                                                                      na=False).to_numpy(dtype=bool), False)
        named = unset & no_out & hits[np.where(codes >= 0, codes, len(uniques))]
        if named.any():
            s = s.astype(object).where(~named, "embedding")
            unset = unset & ~named
    if unset.all():
        frame["call_type"] = pd.Series("chat", index=frame.index, dtype="str")
        return np.zeros(len(frame), dtype=bool)
    codes, uniques = pd.factorize(s.where(~unset, "chat").astype("str"))
    canon = []
    for u in uniques:
        c = _call_type(u)
        if c is None:
            i = int(np.flatnonzero(codes == len(canon))[0])
            raise SealError(f"{_where(frame, frame.index[i])}: unknown call_type {s.iloc[i]!r}; accepted: "
                            f"{', '.join(CALL_TYPES)} (aliases: {', '.join(sorted(CALL_TYPE_ALIASES))}).")
        canon.append(c)
    values = np.array(canon, dtype=object)[codes]
    frame["call_type"] = pd.Series(values, index=frame.index, dtype="str")
    return values == "embedding"


EPOCH_MAGNITUDES = ((1e17, "ns"), (1e14, "us"), (1e11, "ms"))   # |epoch| at or above: the unit (else s); as in
# seal.logs.read's DuckDB macro seal_epoch_ts (2001-09-09 in ms is 1e12: no seconds value of this century reaches 1e11)


def _utc(frame: pd.DataFrame, s: pd.Series) -> pd.Series:
    """``s`` as tz-aware UTC datetimes (naive values are taken as UTC; epoch numbers by their magnitude, as the
    log readers' ``seal_epoch_ts``: :data:`EPOCH_MAGNITUDES`)."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(s):
        return s.dt.tz_localize("UTC")
    if s.isna().all():
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
    if pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype=float)
        per = {"ns": 1.0, "us": 1e3, "ms": 1e6}                     # ns per unit
        ns = v * np.select([np.abs(v) >= m for m, _ in EPOCH_MAGNITUDES], [per[u] for _, u in EPOCH_MAGNITUDES], 1e9)
        return pd.Series(pd.to_datetime(ns, unit="ns", utc=True), index=s.index)
    parsed = pd.to_datetime(s, utc=True, errors="coerce", format="mixed")
    bad = parsed.isna() & s.notna() & ~_blank_safe(s)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SealError(f"{_where(frame, frame.index[i])}: timestamp is not a date-time ({s.iloc[i]!r}); "
                        "use ISO 8601 with a time zone, e.g. 2025-01-31T12:00:00Z.")
    return parsed
