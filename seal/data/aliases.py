"""Model names as request logs spell them: provider and router ids, dated snapshots, runtime tags, quantisation
suffixes, and the user's own mapping.

Used by :func:`seal.data.catalogue.resolve_models` after its exact and normalised passes miss:

- :func:`alias_table`: ``seal/data/facts/model_aliases.csv``, one sourced row per alias: Ollama library tags
  (``llama3.2:3b``; the default ``latest`` tag), retired or renamed closed models sized as a *sibling* whose line
  EcoLogits gives one shared estimate (``claude-sonnet-4`` -> ``claude-sonnet-4-5``), and provider ids of published
  open-weights models (``mistral-large-2407``).
- :func:`rewrites`: the spellings a name is tried as, least changed first: a router suffix dropped (OpenRouter
  ``:free``), a Bedrock region / provider prefix and ``-v1:0`` version dropped, a Vertex ``@20240620`` or ``-maas``
  dropped, a ``.gguf`` / ``-GGUF`` / quantisation suffix dropped, then dates and versions (``-2024-08-06``,
  ``-20240620``, ``-0613``, ``-latest``, ``-001``).
- :func:`runtime_lookup`: ``name:tag`` of a local runtime (Ollama; Xinference and LM Studio use the same names).
- :func:`name_precision`: the weight format a name states (GGUF ``Q4_K_M``, ``-FP8``, ``-AWQ``, ``-4bit`` ...).
- :func:`read_model_map` / :func:`normalise_model_map`: a user's ``{log_name: catalogue_name}`` or
  ``{log_name: {model, params_b, active_params_b, precision}}`` mapping, applied before everything else.

Warning codes are listed in :data:`WARNING_TEXT`.
"""
from __future__ import annotations

import csv
import functools
import io
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from seal.errors import WARNINGS, SealError

ALIASES_TABLE = "model_aliases.csv"

# warning codes set by the resolution (their messages live in seal.errors.WARNINGS, the one catalogue)
WARNING_CODES = ("model-alias", "model-default-tag-size", "model-sibling-estimate")
WARNING_TEXT: dict[str, str] = {code: WARNINGS[code] for code in WARNING_CODES}

# resolution of each name (the ``resolution`` column of resolve_models)
RESOLUTIONS = ("exact", "normalised", "variant", "provider-id", "runtime-tag", "runtime-default-tag", "sibling",
               "name-size", "model-map", "unknown", "missing")
# resolutions reached through an alias or a rewrite: they carry the warning model-alias
ALIAS_RESOLUTIONS = frozenset({"variant", "provider-id", "runtime-tag", "runtime-default-tag", "sibling"})

# ---------------------------------------------------------------- spelling rewrites
# OpenRouter variant suffixes (https://openrouter.ai/docs: model variants) and LiteLLM/Bedrock context suffixes
_ROUTER_SUFFIX = re.compile(r":(?:free|nitro|beta|floor|online|extended|thinking|exacto|\d+k)$")
# Bedrock: cross-region inference prefix, then the provider's prefix (anthropic.claude-..., meta.llama3-...)
_BEDROCK_PREFIX = re.compile(
    r"^(?:(?:us|eu|apac|global|us-gov|jp|au|ca)\.)?"
    r"(?:anthropic|meta|mistral|amazon|cohere|ai21|deepseek|qwen|openai|writer|stability|twelvelabs)\.")
_BEDROCK_VERSION = re.compile(r"(?:-v\d+(?::\d+)?|-\d+:\d+)$")   # -v1:0, -v2, gpt-oss-120b-1:0
_BEDROCK_DOTTED = re.compile(r"-v(\d+):(\d+)$")
_VERTEX_SUFFIX = re.compile(r"(?:@[a-z0-9.-]+|-maas)$")          # claude-3-5-sonnet@20240620, llama-...-maas
_GGUF_SUFFIX = re.compile(r"(?:\.gguf|-gguf|-ggml)$")
_QUANT_SUFFIX = re.compile(
    r"[-._:](?:i?q[1-8]_[a-z0-9_]+|q[1-8]|f16|f32|bf16|fp16|fp32|fp8(?:[-_](?:dynamic|static|e4m3|e5m2))?|awq"
    r"|gptq(?:[-_]int[48])?|int[48]|w4a16|w8a8|w8a16|[248]bit|bnb[-_]4bit|nf4|mxfp4|nvfp4|qat)$")
# dates and versions; the month and day are checked so that a size or a count is never taken for a date
_MMDD = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_DATE_SUFFIX = re.compile(
    r"(?:-20\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"      # -2024-08-06
    r"|-20\d\d" + _MMDD +                                          # -20240620
    r"|-(?:preview|exp)-(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])"  # -preview-05-20, -exp-1206
    r"|-" + _MMDD +                                                # -0613 (OpenAI)
    r"|-(?:0[1-9]|1[0-2])-20\d\d"                                  # -04-2024 (Cohere)
    r"|-latest|-00\d)$")
_CLAUDE_DOT = re.compile(r"(?<=\d)\.(?=\d)")                        # OpenRouter claude-sonnet-4.5, claude-3.5-sonnet
_LLAMA_BEDROCK = re.compile(r"^llama(\d)-(\d)-")                    # Bedrock llama3-1-70b -> llama-3.1-70b
_LLAMA_BARE = re.compile(r"^llama(\d)-(?=\d+b)")                    # Bedrock / Groq llama3-70b -> llama-3-70b
_LLAMA_FIREWORKS = re.compile(r"^llama-v(\d)p(\d)-")                # Fireworks llama-v3p1-8b -> llama-3.1-8b


def _last_segment(name: str) -> str:
    """The model id inside a path: Vertex ``projects/.../models/ID`` and ``publishers/google/models/ID``; a
    router or org prefix is kept (the exact pass drops it)."""
    key = name.strip().lower()
    if "/models/" in key:
        key = key.rsplit("/models/", 1)[-1]
    return key


def rewrites(name: str) -> list[str]:
    """Spellings of ``name`` to try after its own spelling missed, least changed first (lower case; each differs
    from the previous). Only prefixes, suffixes and version separators change; the model's words never do."""
    out: list[str] = []

    def add(key: str) -> str:
        key = key.strip(" -_.:")
        if key and (not out or out[-1] != key) and key != name.strip().lower():
            out.append(key)
        return key

    key = add(_last_segment(name))
    key = add(_ROUTER_SUFFIX.sub("", key))                          # OpenRouter :free, :nitro ...
    key = add(key.rsplit("/", 1)[-1]) if "/" in key else key       # router / org prefix
    bedrock = bool(_BEDROCK_PREFIX.match(key)) or ":" in key
    key = add(_BEDROCK_PREFIX.sub("", key))
    key = add(_VERTEX_SUFFIX.sub("", key))
    dotted = _BEDROCK_DOTTED.search(key)
    if dotted:   # Bedrock writes Mistral's release v0.1 as -v0:1
        add(f"{key[:dotted.start()]}-v{dotted.group(1)}.{dotted.group(2)}")
    if bedrock:  # -v1:0 / -v2 of a Bedrock id; never a model's own version (deepseek-v3)
        key = add(_BEDROCK_VERSION.sub("", key))
    key = add(_GGUF_SUFFIX.sub("", key))
    for _ in range(3):   # a quantisation and a -GGUF suffix may come in either order
        key = add(_GGUF_SUFFIX.sub("", _QUANT_SUFFIX.sub("", key)))
    if key.startswith("claude"):
        key = add(_CLAUDE_DOT.sub("-", key))
    if key.startswith("llama"):
        key = add(_LLAMA_BARE.sub(r"llama-\1-", _LLAMA_BEDROCK.sub(r"llama-\1.\2-", _LLAMA_FIREWORKS.sub(r"llama-\1.\2-", key))))
    for _ in range(4):   # -preview-05-20, then -latest, ...
        shorter = _DATE_SUFFIX.sub("", key)
        if shorter == key or not shorter:
            break
        key = add(_BEDROCK_VERSION.sub("", shorter) if bedrock else shorter)
    return out


# ---------------------------------------------------------------- precision written in a name
_PRECISION_TOKEN = re.compile(
    r"(?<![a-z0-9])(i?q[1-8]_(?:k_(?:xxs|xs|s|m|l)|k|[01]|xxs|xs|s|m|nl)|f16|f32|bf16|fp16|fp32"
    r"|fp8(?:[-_](?:dynamic|static|e4m3|e5m2))?|awq|gptq(?:[-_]int[48])?|int[48]|w4a16|w8a8|w8a16|[48]bit"
    r"|bnb[-_]4bit|nf4|mxfp4|nvfp4|qat)(?![a-z0-9])")
_TOKEN_PRECISION = {"qat": "q4_0", "int4": "int4", "8bit": "int8", "4bit": "int4", "gptq-int4": "gptq"}


def canonical_precision(value: Any) -> str | None:
    """A precision spelling as a key of :data:`seal.estimator.defaults.PRECISIONS` (``Q4_K_M`` -> ``q4_k_m``,
    ``bf16`` -> ``bfloat16``), None if unknown. Same normalisation as the estimator's ``resolve_precision``."""
    from seal.estimator import defaults as D

    key = "-".join(str(value).strip().lower().replace("_", " ").split())
    if not key:
        return None
    key = _TOKEN_PRECISION.get(key, key)
    key = D.PRECISION_ALIASES.get(key, D.PRECISION_ALIASES.get(key.replace("-", "_"), key))
    if key in D.PRECISIONS:
        return key
    under = key.replace("-", "_")
    return under if under in D.PRECISIONS else None


@functools.lru_cache(maxsize=4096)
def name_precision(name: str) -> str | None:
    """The weight format a model name states (its last such token), as a PRECISIONS key; None if it states none
    (``qwen2.5:7b-instruct-q4_K_M`` -> ``q4_k_m``, ``Meta-Llama-3.1-8B-Instruct-FP8`` -> ``fp8``, ``...-AWQ`` ->
    ``awq``, ``gemma3:4b-it-qat`` -> ``q4_0`` (Gemma's QAT GGUFs are Q4_0))."""
    found = _PRECISION_TOKEN.findall(str(name).lower())
    for token in reversed(found):
        canon = canonical_precision(token)
        if canon:
            return canon
    return None


# ---------------------------------------------------------------- the alias table
class AliasRow(NamedTuple):
    kind: str                  # runtime-tag | sibling | provider-id
    runtime: str
    name: str
    tag: str
    is_default: bool
    target: str                # catalogue model_key (params empty) or the Hugging Face id sized by params_b
    params_b: float | None
    active_params_b: float | None
    quant: str | None          # PRECISIONS key of the tag's weights
    line: str
    source: str
    note: str


class AliasIndex(NamedTuple):
    names: dict[str, AliasRow]                         # sibling / provider-id rows by lower-case name
    runtime: dict[str, dict[str, AliasRow]]            # runtime name -> tag -> row
    defaults: dict[str, AliasRow]                      # runtime name -> default-tag row


def _float(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


@functools.lru_cache(maxsize=4)
def alias_table(path: str | None = None) -> tuple[AliasRow, ...]:
    """Rows of ``seal/data/facts/model_aliases.csv`` (or ``path``)."""
    if path is None:
        from seal.data import facts

        path = str(facts.path(ALIASES_TABLE))
    with open(path, newline="", encoding="utf-8") as fh:
        return tuple(AliasRow(
            kind=r["kind"].strip(), runtime=r["runtime"].strip().lower(), name=r["name"].strip().lower(),
            tag=r["tag"].strip().lower(), is_default=r["is_default"].strip().lower() == "true",
            target=r["target"].strip(), params_b=_float(r["params_b"]), active_params_b=_float(r["active_params_b"]),
            quant=(r["quant"].strip().lower() or None), line=r["line"].strip(), source=r["source"].strip(),
            note=r["note"].strip()) for r in csv.DictReader(fh))


@functools.lru_cache(maxsize=4)
def alias_index(path: str | None = None) -> AliasIndex:
    names: dict[str, AliasRow] = {}
    runtime: dict[str, dict[str, AliasRow]] = {}
    defaults: dict[str, AliasRow] = {}
    for row in alias_table(path):
        if row.kind == "runtime-tag":
            runtime.setdefault(row.name, {}).setdefault(row.tag, row)
            if row.is_default:
                defaults.setdefault(row.name, row)
        else:
            names.setdefault(row.name, row)
    return AliasIndex(names, runtime, defaults)


def name_lookup(key: str, index: AliasIndex) -> AliasRow | None:
    """The sibling / provider-id row of a lower-case name, with or without router / org prefixes."""
    parts = key.strip().lower().split("/")
    for i in range(len(parts)):
        row = index.names.get("/".join(parts[i:]))
        if row is not None:
            return row
    return None


# ---------------------------------------------------------------- runtime tags (Ollama name:tag)
_RUNTIME_PREFIX = re.compile(r"^(?:(?:https?://)?(?:registry\.ollama\.ai|ollama\.com)/)?(?:ollama_chat/|ollama/)?"
                             r"(?:library/)?")
_TAG_QUANT = re.compile(r"(?:^|-)(i?q[1-8]_[a-z0-9_]+|q[1-8]|fp16|fp32|bf16|f16|f32|qat|mxfp4|fp8|int4|int8)$")
_TAG_WORDS = {"instruct", "text", "chat", "it", "code", "base", "latest", "vision", "thinking"}
_SIZE_TOKEN = re.compile(r"^(?:\d+(?:\.\d+)?[bm]|\d+x\d+(?:\.\d+)?b|e\d+b)$")


class RuntimeHit(NamedTuple):
    row: AliasRow | None       # None: a size tag the table lacks (sized from the name)
    default: bool              # the default tag's size was assumed
    tag: str                   # the tag matched (the default row's tag when default)
    precision: str | None      # the tag's own quantisation, else the table's


def runtime_lookup(name: str, index: AliasIndex) -> RuntimeHit | None:
    """``name[:tag]`` of a local runtime's library (Ollama; ``ollama/`` / ``ollama_chat/`` LiteLLM prefixes and
    ``library/`` accepted). The tag's size words (``8b``, ``30b-a3b``, ``mini``) pick the row, its quantisation
    (``q4_K_M``, ``fp16``) the precision; no tag, ``latest`` or a tag with no size gives the default tag's row.
    Names with another org prefix (``deepseek/deepseek-r1``) are not runtime names."""
    key = _RUNTIME_PREFIX.sub("", name.strip().lower(), count=1)
    if "/" in key:
        return None
    base, _, tag = key.partition(":")
    tags = index.runtime.get(base)
    if not tags:
        return None
    m = _TAG_QUANT.search(tag)
    quant = canonical_precision(m.group(1)) if m else None
    if m:
        tag = tag[: m.start()]
    words = [w for w in tag.split("-") if w]
    for n in range(len(words), 0, -1):   # longest run of leading words the table knows: 30b-a3b before 30b
        row = tags.get("-".join(words[:n]))
        if row is not None:
            return RuntimeHit(row, False, row.tag, quant or row.quant)
    if words and _SIZE_TOKEN.match(words[0]):
        return RuntimeHit(None, False, words[0], quant)   # a size the table lacks: sized from the tag itself
    if all(w in _TAG_WORDS or re.match(r"^v\d", w) or re.match(r"^\d{4}$", w) for w in words):
        row = index.defaults.get(base)
        if row is not None:
            return RuntimeHit(row, True, row.tag, quant or row.quant)
    return None


# ---------------------------------------------------------------- the user's model map
MAP_FIELDS = ("model", "params_b", "active_params_b", "precision")
_ACCEPTED = ("a JSON object {log_model: catalogue model name, or {model, params_b, active_params_b, precision}}, or "
             "a CSV with a log_model column and model and/or params_b, active_params_b, precision columns")


def _size(value: Any, field: str, log_name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SealError(f"Model map entry {log_name!r}: {field} {value!r} is not a number; give billions of "
                        "parameters (e.g. 8 or 0.5).") from None
    if not number > 0 or number != number or number == float("inf"):
        raise SealError(f"Model map entry {log_name!r}: {field} must be a positive number of billions, not {value!r}.")
    return number


def normalise_model_map(model_map: Any) -> dict[str, dict[str, Any]]:
    """``{log_name (lower case, stripped): {model, params_b, active_params_b, precision}}`` from a user mapping
    (values a catalogue name or such a dict). Raises SealError naming a bad entry and what is accepted."""
    if model_map is None:
        return {}
    if not isinstance(model_map, dict):
        raise SealError(f"The model map must be {_ACCEPTED}; got {type(model_map).__name__}.")
    out: dict[str, dict[str, Any]] = {}
    for raw_name, value in model_map.items():
        log_name = str(raw_name).strip()
        if not log_name:
            raise SealError(f"The model map has an entry with an empty log model name; accepted: {_ACCEPTED}.")
        if isinstance(value, str):
            value = {"model": value}
        if not isinstance(value, dict):
            raise SealError(f"Model map entry {log_name!r} must be a model name or an object with "
                            f"{', '.join(MAP_FIELDS)}; got {value!r}.")
        unknown = sorted(set(value) - set(MAP_FIELDS))
        if unknown:
            raise SealError(f"Model map entry {log_name!r} has unknown field(s) {', '.join(map(repr, unknown))}; "
                            f"accepted: {', '.join(MAP_FIELDS)}.")
        model = value.get("model")
        model = str(model).strip() if model is not None and str(model).strip() else None
        params = _size(value.get("params_b"), "params_b", log_name)
        active = _size(value.get("active_params_b"), "active_params_b", log_name)
        if params is not None and active is not None and active > params:
            raise SealError(f"Model map entry {log_name!r}: active_params_b ({active:g}) exceeds params_b ({params:g}).")
        precision = value.get("precision")
        if precision is not None and str(precision).strip():
            canon = canonical_precision(precision)
            if canon is None:
                from seal.estimator import defaults as D

                raise SealError(f"Model map entry {log_name!r}: unknown precision {precision!r}; accepted: "
                                f"{', '.join(D.PRECISIONS)}.")
            precision = canon
        else:
            precision = None
        if model is None and params is None:
            raise SealError(f"Model map entry {log_name!r} gives neither a model nor params_b; give a catalogue model "
                            "name or the size in billions.")
        key = log_name.lower()
        if key in out:
            raise SealError(f"The model map lists {log_name!r} twice; give each log model once.")
        out[key] = {"model": model, "params_b": params, "active_params_b": active, "precision": precision}
    return out


def model_map_key(model_map: Any) -> tuple:
    """A hashable, order-free form of a model map (part of the resolver's cache key)."""
    norm = normalise_model_map(model_map)
    return tuple(sorted((k, tuple(v[f] for f in MAP_FIELDS)) for k, v in norm.items()))


def model_map_from_key(key: tuple) -> dict[str, dict[str, Any]]:
    return {k: dict(zip(MAP_FIELDS, v)) for k, v in key}


def read_model_map(path: str | Path) -> dict[str, dict[str, Any]]:
    """A model map file: a JSON object (``{"my-llama": "meta-llama/Llama-3.1-8B-Instruct", "tuned": {"params_b": 7}}``)
    or a CSV with a ``log_model`` column and ``model`` and/or ``params_b``, ``active_params_b``, ``precision``
    columns. Returns :func:`normalise_model_map`'s dict; raises SealError naming the problem and what is accepted."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SealError(f"Cannot read the model map {str(path)!r} ({exc.strerror or exc}); give {_ACCEPTED}.") from None
    except UnicodeDecodeError:
        raise SealError(f"The model map {str(path)!r} is not UTF-8 text; give {_ACCEPTED}.") from None
    stripped = text.strip()
    if not stripped:
        raise SealError(f"The model map {str(path)!r} is empty; give {_ACCEPTED}.")
    if path.suffix.lower() == ".json" or (path.suffix.lower() != ".csv" and stripped[0] in "{["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise SealError(f"The model map {str(path)!r} is not valid JSON (line {exc.lineno}: {exc.msg}); "
                            f"give {_ACCEPTED}.") from None
        if not isinstance(data, dict):
            raise SealError(f"The model map {str(path)!r} must hold a JSON object, not a {type(data).__name__}; "
                            f"give {_ACCEPTED}.")
        return normalise_model_map(data)
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    unknown = [c for c in columns if c not in ("log_model", *MAP_FIELDS)]
    if unknown or "log_model" not in columns or not set(columns) & {"model", "params_b"}:
        what = (f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else
                "no log_model column" if "log_model" not in columns else "neither a model nor a params_b column")
        raise SealError(f"The model map {str(path)!r} has {what}; give {_ACCEPTED}.")
    mapping: dict[str, Any] = {}
    for i, rec in enumerate(reader, start=2):
        rec = {(k or "").strip(): (v or "").strip() for k, v in rec.items() if k is not None}
        name = rec.get("log_model", "")
        if not name:
            raise SealError(f"The model map {str(path)!r} has no log_model on line {i}; give {_ACCEPTED}.")
        if name.lower() in {k.lower() for k in mapping}:
            raise SealError(f"The model map {str(path)!r} lists {name!r} twice; give each log model once.")
        mapping[name] = {f: (rec.get(f) or None) for f in MAP_FIELDS}
    if not mapping:
        raise SealError(f"The model map {str(path)!r} has no rows; give {_ACCEPTED}.")
    return normalise_model_map(mapping)
