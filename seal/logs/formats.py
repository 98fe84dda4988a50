"""Request-log formats: how each one maps onto the normalised request frame, as DuckDB SQL.

A :class:`Format` names, for every normalised column, a SQL expression over one record. JSON records are parsed
once with ``json_transform`` into the struct ``r`` (only the fields listed in the format's ``schema`` are kept, so
prompts, messages and API keys are never read into memory); tabular files (CSV / Parquet) expose their columns
directly. ``{r}`` in an expression is the record prefix (``r.`` for JSON, empty for tables).

Numbers are read as text and cast in SQL, so a non-numeric token count becomes a bad row with its line number
instead of a crash or a silent NULL.
"""
from __future__ import annotations

import dataclasses

import json
from dataclasses import dataclass, field

# Columns a reader produces, with their SQL type (order = output order).
STRING_COLUMNS = ("request_id", "model", "precision", "gpu", "engine", "region", "prompt", "response", "app", "user",
                  "call_type", "deployment")
NUMBER_COLUMNS = ("params_b", "active_params_b", "gpus", "batch_size", "input_tokens", "output_tokens",
                  "cached_input_tokens", "reasoning_tokens", "latency_s", "ttft_s")


@dataclass(frozen=True)
class Format:
    """One log format: detection label, the JSON fields it reads, and the SQL for each normalised column."""

    name: str                      # source_format value (may be overridden per row by ``source_format`` field)
    label: str                     # for messages: "an OpenAI Chat Completions / Responses object"
    fields: dict[str, str]         # normalised column -> SQL over the record ({r} = record prefix)
    schema: dict | None = None     # json_transform structure (JSON formats)
    shape: str = "TRUE"            # SQL: the record is of this format (else: a mixed-format bad row)
    keep: str = "TRUE"             # SQL: the record is a model request (else ignored and counted, e.g. tool spans)
    ignored_what: str = ""         # what ignored records are, for the report
    bad: str | None = None         # SQL: format-specific reason the row is bad, or NULL
    token_source: str = "log"

    def json_schema(self) -> str:
        return json.dumps(self.schema)


def _num_schema(*names: str) -> dict:
    return {n: "VARCHAR" for n in names}


# ---------------------------------------------------------------- OpenAI Chat Completions / Responses
_OPENAI_USAGE = {
    **_num_schema("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens"),
    "prompt_tokens_details": _num_schema("cached_tokens"),
    "completion_tokens_details": _num_schema("reasoning_tokens"),
    "input_tokens_details": _num_schema("cached_tokens"),
    "output_tokens_details": _num_schema("reasoning_tokens"),
}
_OPENAI_OBJECT = {
    "id": "VARCHAR", "object": "VARCHAR", "model": "VARCHAR", "created": "VARCHAR", "created_at": "VARCHAR",
    "user": "VARCHAR", "usage": _OPENAI_USAGE,
    "data": [{"object": "VARCHAR"}],          # an embeddings response: {"object": "list", "data": [embedding ...]}
}


def _openai_fields(*prefixes: str) -> dict[str, str]:
    """Fields of an OpenAI response object at the first of ``prefixes`` that has it (``{r}``; or, for batch
    output, ``{r}response.body.`` as OpenAI writes it, then ``{r}response.`` as vLLM's ``run_batch`` does)."""
    def first(*paths: str) -> str:
        found = [p.format(b=b) for p in paths for b in prefixes]
        return found[0] if len(found) == 1 else f"coalesce({', '.join(found)})"

    embedding = " OR ".join(f"({b}object = 'list' AND {b}data[1].object = 'embedding')" for b in prefixes)
    return {
        "request_id": first("{b}id"),
        "model": first("{b}model"),
        "input_tokens": first("{b}usage.prompt_tokens", "{b}usage.input_tokens"),
        "output_tokens": first("{b}usage.completion_tokens", "{b}usage.output_tokens"),
        "cached_input_tokens": first("{b}usage.prompt_tokens_details.cached_tokens",
                                     "{b}usage.input_tokens_details.cached_tokens"),
        "reasoning_tokens": first("{b}usage.completion_tokens_details.reasoning_tokens",
                                  "{b}usage.output_tokens_details.reasoning_tokens"),
        "timestamp": first("{b}created", "{b}created_at"),
        "user": first("{b}\"user\""),
        "call_type": f"CASE WHEN {embedding} THEN 'embedding' ELSE 'chat' END",
    }


OPENAI = Format(
    name="openai-chat",
    label="an OpenAI Chat Completions / Responses object",
    schema=_OPENAI_OBJECT,
    fields={**_openai_fields("{r}"),
            "source_format": ("CASE WHEN {r}object = 'response' THEN 'openai-responses' WHEN {r}object = 'list' "
                              "AND {r}data[1].object = 'embedding' THEN 'openai-embeddings' ELSE 'openai-chat' END")},
    shape="({r}usage IS NOT NULL OR {r}object IN ('chat.completion', 'response', 'text_completion'))",
)

OPENAI_BATCH = Format(
    name="openai-batch",
    label="an OpenAI Batch API output line",
    schema={"id": "VARCHAR", "custom_id": "VARCHAR", "error": "VARCHAR",
            "response": {"status_code": "VARCHAR", "request_id": "VARCHAR", "body": _OPENAI_OBJECT,
                         **_OPENAI_OBJECT}},
    fields={**_openai_fields("{r}response.body.", "{r}response."),
            "request_id": "coalesce({r}custom_id, {r}response.body.id, {r}response.id)"},
    shape="({r}custom_id IS NOT NULL AND ({r}response IS NOT NULL OR {r}error IS NOT NULL))",
    bad=("CASE WHEN {r}error IS NOT NULL AND {r}error <> 'null' THEN 'the batch request failed (' || {r}error || ')' "
         "WHEN {r}response.status_code IS NOT NULL AND {r}response.status_code <> '200' "
         "THEN 'the batch request failed (status_code ' || {r}response.status_code || ')' END"),
)

# ---------------------------------------------------------------- OpenAI streams (chat.completion.chunk)
# A streamed completion is logged as its chunks, one per line (JSONL, or the raw server-sent events "data: {...}"):
# the reader groups them by completion id (:data:`STREAM_GROUP_SQL`) into one record per completion: model and
# time of the first chunk, usage of the last chunk that has one (``stream_options.include_usage``), the deltas'
# text joined as the response (counted with a tokenizer, and labelled so, when the stream logged no usage).
STREAM_CHUNK_SCHEMA = {**_OPENAI_OBJECT, "prompt_filter_results": "VARCHAR",
                       "choices": [{"delta": {"content": "VARCHAR"}, "finish_reason": "VARCHAR"}]}
# Chunks of one completion share its id; a server that reuses ids (Ollama's OpenAI layer draws them from 999) starts
# a new completion after a chunk with usage, or after a finished choice when content follows. Azure OpenAI's
# prompt-filter chunks (object "", prompt_filter_results) carry no tokens: ignored and counted.
STREAM_GROUP_SQL = """
WITH c AS (
    SELECT _line, r, coalesce(len(r.choices) > 0, FALSE) AS has_choices,
           coalesce(list_bool_or(list_transform(r.choices, lambda x: x.finish_reason IS NOT NULL)), FALSE) AS finished
    FROM seal_stream WHERE _state IS NULL AND r.object = 'chat.completion.chunk'),
b AS (
    SELECT *, CASE WHEN coalesce(lag(r.usage IS NOT NULL) OVER w, FALSE)
                        OR (coalesce(lag(finished) OVER w, FALSE) AND has_choices) THEN 1 ELSE 0 END AS starts
    FROM c WINDOW w AS (PARTITION BY r.id ORDER BY _line)),
s AS (SELECT *, sum(starts) OVER (PARTITION BY r.id ORDER BY _line ROWS UNBOUNDED PRECEDING) AS seg FROM b)
SELECT min(_line) AS _line, NULL::VARCHAR AS _state, struct_pack(
    id := r.id, object := 'chat.completion.chunk', model := arg_min(r.model, _line) FILTER (WHERE r.model IS NOT NULL),
    created := min(r.created), created_at := min(r.created_at), "user" := arg_min(r."user", _line) FILTER (WHERE r."user" IS NOT NULL),
    usage := arg_max(r.usage, _line) FILTER (WHERE r.usage IS NOT NULL),
    response := nullif(string_agg(array_to_string(list_transform(r.choices, lambda x: x.delta.content), ''), '' ORDER BY _line), ''),
    filter := FALSE) AS r
FROM s GROUP BY r.id, seg
UNION ALL
SELECT _line, NULL::VARCHAR AS _state, struct_pack(
    id := NULL::VARCHAR, object := 'chat.completion.chunk', model := NULL::VARCHAR, created := NULL::VARCHAR,
    created_at := NULL::VARCHAR, "user" := NULL::VARCHAR, usage := NULL, response := NULL::VARCHAR, filter := TRUE) AS r
FROM seal_stream WHERE _state IS NULL AND coalesce(r.object, '') = '' AND r.prompt_filter_results IS NOT NULL
UNION ALL
SELECT _line, _state, NULL AS r FROM seal_stream
WHERE _state IS NOT NULL OR (r.object IS DISTINCT FROM 'chat.completion.chunk'
                             AND NOT (coalesce(r.object, '') = '' AND r.prompt_filter_results IS NOT NULL))
"""
OPENAI_STREAM = Format(
    name="openai-stream",
    label="an OpenAI chat.completion.chunk (streamed completion)",
    schema=STREAM_CHUNK_SCHEMA,
    fields={**{k: v for k, v in _openai_fields("{r}").items() if k != "call_type"}, "response": "{r}response"},
    shape="({r}object = 'chat.completion.chunk')",
    keep="(NOT coalesce({r}filter, FALSE))",
    ignored_what="prompt-filter chunks (Azure OpenAI), which carry no tokens",
)

# ---------------------------------------------------------------- OpenTelemetry GenAI spans (OTLP JSON)
_OTLP_ATTRS = [{"key": "VARCHAR", "value": {"stringValue": "VARCHAR", "intValue": "VARCHAR",
                                             "doubleValue": "VARCHAR", "boolValue": "VARCHAR"}}]
OTLP_SPAN_SCHEMA = {
    "traceId": "VARCHAR", "spanId": "VARCHAR", "name": "VARCHAR",
    "startTimeUnixNano": "VARCHAR", "endTimeUnixNano": "VARCHAR", "attributes": _OTLP_ATTRS,
}
OTLP_RESOURCE_SCHEMA = _OTLP_ATTRS


def _attr(key: str, where: str = "{r}span.attributes") -> str:
    return f"seal_attr({where}, '{key}')"


OTLP = Format(
    name="otlp",
    label="an OpenTelemetry OTLP JSON trace export",
    fields={
        "request_id": f"coalesce({_attr('gen_ai.response.id')}, {{r}}span.spanId)",
        "model": f"coalesce({_attr('gen_ai.response.model')}, {_attr('gen_ai.request.model')})",
        "input_tokens": f"coalesce({_attr('gen_ai.usage.input_tokens')}, {_attr('gen_ai.usage.prompt_tokens')})",
        "output_tokens": f"coalesce({_attr('gen_ai.usage.output_tokens')}, {_attr('gen_ai.usage.completion_tokens')})",
        "cached_input_tokens": (f"coalesce({_attr('gen_ai.usage.cache_read.input_tokens')}, "
                                f"{_attr('gen_ai.usage.cache_read_input_tokens')})"),
        "reasoning_tokens": (f"coalesce({_attr('gen_ai.usage.reasoning.output_tokens')}, "
                             f"{_attr('gen_ai.usage.reasoning_tokens')})"),
        "timestamp": "seal_ns_ts({r}span.startTimeUnixNano)",
        "latency_s": "(TRY_CAST({r}span.endTimeUnixNano AS HUGEINT) - TRY_CAST({r}span.startTimeUnixNano AS HUGEINT)) / 1e9",
        "app": _attr("service.name", "{r}resource"),
        "user": f"coalesce({_attr('user.id')}, {_attr('enduser.id')})",
        "call_type": f"CASE WHEN lower({_attr('gen_ai.operation.name')}) IN ('embeddings', 'embedding') "
                     "THEN 'embedding' ELSE 'chat' END",
    },
    shape="({r}span IS NOT NULL)",
    keep=(f"(({_attr('gen_ai.request.model')} IS NOT NULL OR {_attr('gen_ai.response.model')} IS NOT NULL "
          f"OR {_attr('gen_ai.usage.input_tokens')} IS NOT NULL) "
          f"AND coalesce({_attr('gen_ai.operation.name')}, '') NOT IN ('invoke_agent', 'create_agent', 'execute_tool'))"),
    ignored_what="spans that are not GenAI model calls (HTTP, tool, agent spans)",
)

# ---------------------------------------------------------------- Anthropic Messages (and Message Batches results)
# https://docs.anthropic.com/en/api/messages: usage.input_tokens counts only the tokens after the last cache
# breakpoint; cache reads and cache writes are counted apart and are prefilled too (a read is cheaper: SEAL counts
# it as cached input).
_ANTHROPIC_MESSAGE = {"id": "VARCHAR", "type": "VARCHAR", "model": "VARCHAR",
                      "usage": _num_schema("input_tokens", "output_tokens", "cache_read_input_tokens",
                                           "cache_creation_input_tokens")}


def _anthropic_fields(b: str) -> dict[str, str]:
    return {
        "request_id": f"{b}id",
        "model": f"{b}model",
        "input_tokens": (f"TRY_CAST({b}usage.input_tokens AS DOUBLE) + coalesce(TRY_CAST("
                         f"{b}usage.cache_read_input_tokens AS DOUBLE), 0) + coalesce(TRY_CAST("
                         f"{b}usage.cache_creation_input_tokens AS DOUBLE), 0)"),
        "output_tokens": f"{b}usage.output_tokens",
        "cached_input_tokens": f"{b}usage.cache_read_input_tokens",
    }


ANTHROPIC = Format(
    name="anthropic",
    label="an Anthropic Messages response",
    schema=_ANTHROPIC_MESSAGE,
    fields=_anthropic_fields("{r}"),
    shape="({r}type = 'message' AND {r}usage IS NOT NULL)",
)
ANTHROPIC_BATCH = Format(
    name="anthropic-batch",
    label="an Anthropic Message Batches result line",
    schema={"custom_id": "VARCHAR", "result": {"type": "VARCHAR", "message": _ANTHROPIC_MESSAGE, "error": "VARCHAR"}},
    fields={**_anthropic_fields("{r}result.message."), "request_id": "coalesce({r}custom_id, {r}result.message.id)"},
    shape="({r}custom_id IS NOT NULL AND {r}result IS NOT NULL)",
    bad=("CASE WHEN {r}result.type IS DISTINCT FROM 'succeeded' THEN 'the batch request did not succeed (' || "
         "coalesce({r}result.type, 'no result type') || ')' END"),
)

# ---------------------------------------------------------------- Gemini generateContent (and Vertex AI batch output)
# https://ai.google.dev/api/generate-content#UsageMetadata: thoughts (thinking tokens) are decoded like the
# candidates' tokens and billed as output; cached content is part of the prompt count.
_GEMINI_RESPONSE = {"responseId": "VARCHAR", "modelVersion": "VARCHAR", "createTime": "VARCHAR",
                    "usageMetadata": _num_schema("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
                                                 "cachedContentTokenCount", "totalTokenCount")}


def _gemini_fields(b: str) -> dict[str, str]:
    u = f"{b}\"usageMetadata\""
    return {
        "request_id": f"{b}\"responseId\"",
        "model": f"{b}\"modelVersion\"",
        "input_tokens": f"{u}.\"promptTokenCount\"",
        "output_tokens": (f"TRY_CAST({u}.\"candidatesTokenCount\" AS DOUBLE) + "
                          f"coalesce(TRY_CAST({u}.\"thoughtsTokenCount\" AS DOUBLE), 0)"),
        "cached_input_tokens": f"{u}.\"cachedContentTokenCount\"",
        "reasoning_tokens": f"{u}.\"thoughtsTokenCount\"",
        "timestamp": f"{b}\"createTime\"",
    }


GEMINI = Format(
    name="gemini",
    label="a Gemini generateContent response",
    schema=_GEMINI_RESPONSE,
    fields=_gemini_fields("{r}"),
    shape="({r}\"usageMetadata\" IS NOT NULL)",
)
GEMINI_BATCH = Format(
    name="gemini-batch",
    label="a Vertex AI / Gemini batch prediction output line",
    schema={"status": "VARCHAR", "response": _GEMINI_RESPONSE},
    fields=_gemini_fields("{r}response."),
    shape="({r}response IS NOT NULL AND {r}response.\"usageMetadata\" IS NOT NULL)",
    bad="CASE WHEN coalesce({r}status, '') <> '' THEN 'the batch request failed (' || {r}status || ')' END",
)

# ---------------------------------------------------------------- LiteLLM spend logs
LITELLM = Format(
    name="litellm",
    label="a LiteLLM spend-log record",
    schema={**_num_schema("request_id", "model", "model_group", "prompt_tokens", "completion_tokens",
                          "startTime", "endTime", "completionStartTime", "user", "end_user", "team_id",
                          "call_type", "spend")},
    fields={
        "request_id": "{r}request_id",
        "model": "coalesce(nullif({r}model, ''), {r}model_group)",
        "input_tokens": "{r}prompt_tokens",
        "output_tokens": "{r}completion_tokens",
        "timestamp": "{r}\"startTime\"",
        "latency_s": "seal_seconds({r}\"startTime\", {r}\"endTime\")",
        # non-streaming calls log completionStartTime = endTime: that is not a time to first token
        "ttft_s": ("CASE WHEN seal_seconds({r}\"completionStartTime\", {r}\"endTime\") > 0 "
                   "THEN seal_seconds({r}\"startTime\", {r}\"completionStartTime\") END"),
        "user": "coalesce(nullif({r}end_user, ''), nullif({r}\"user\", ''))",
        "app": "nullif({r}team_id, '')",
        "call_type": "CASE WHEN lower({r}call_type) IN ('embedding', 'aembedding') THEN 'embedding' ELSE 'chat' END",
    },
    shape="({r}\"startTime\" IS NOT NULL OR {r}request_id IS NOT NULL)",
)
LITELLM_COLUMNS = {"request_id", "starttime", "prompt_tokens", "completion_tokens"}

# ---------------------------------------------------------------- Langfuse observations
# Observation types of the Langfuse data model (https://langfuse.com/docs/observability/features/observation-types):
# model calls are estimated (GENERATION; EMBEDDING as an embedding call, prefill only); the rest are ignored and
# counted. A model call whose descendants are model calls too repeats their usage (a framework's roll-up): it is
# ignored, so a trace's usage is counted once (:data:`LANGFUSE_ROLLUP_SQL`).
LANGFUSE_CALL_TYPES = ("GENERATION", "EMBEDDING")
LANGFUSE_OTHER_TYPES = ("SPAN", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR", "GUARDRAIL")
LANGFUSE_TYPES = LANGFUSE_CALL_TYPES + LANGFUSE_OTHER_TYPES
_LF_USAGE = _num_schema("input", "output", "total", "unit", "promptTokens", "completionTokens")
# usageDetails keys: Langfuse's own (input, output, input_cached_tokens, output_reasoning_tokens), the
# provider's as ingested (cache_read_input_tokens ...) and the OpenAI Agents SDK's dotted ones
# Langfuse's own SDK integrations subtract these from "input" / "output" (so they are added back); OpenInference's
# dotted keys (prompt_details.cache_read, completion_details.reasoning: the OpenAI Agents SDK's traces) are parts of
# input / output already. Where "total" equals input + output, nothing is kept apart and nothing is added.
_LF_CACHED = ("input_cached_tokens", "cache_read_input_tokens", "input_cache_read", "input_cached")
_LF_CACHE_WRITE = ("cache_creation_input_tokens", "input_cache_creation")
_LF_REASONING = ("output_reasoning_tokens", "output_reasoning")
_LF_PART_CACHED = ("prompt_details.cache_read",)
_LF_PART_REASONING = ("completion_details.reasoning",)
_LF_DETAILS = _num_schema("input", "output", "total", *_LF_CACHED, *_LF_CACHE_WRITE, *_LF_REASONING,
                          *_LF_PART_CACHED, *_LF_PART_REASONING)


def _lf_detail(*keys: str) -> str:
    return "coalesce(" + ", ".join(f'{{r}}"usageDetails"."{k}"' for k in keys) + ")"


def _lf_add(*keys: str) -> str:
    return f"coalesce(TRY_CAST({_lf_detail(*keys)} AS DOUBLE), 0)"


# usageDetails.total = input + output: the details are parts of them, not kept apart
_LF_SUMS = ('coalesce(TRY_CAST({r}"usageDetails".total AS DOUBLE) = TRY_CAST({r}"usageDetails".input AS DOUBLE) '
            '+ coalesce(TRY_CAST({r}"usageDetails".output AS DOUBLE), 0), FALSE)')


LANGFUSE = Format(
    name="langfuse",
    label="a Langfuse observation",
    schema={**_num_schema("id", "traceId", "type", "model", "providedModelName", "parentObservationId",
                          "startTime", "endTime", "completionStartTime", "userId", "projectId", "promptTokens",
                          "completionTokens", "inputUsage", "outputUsage"),
            "usage": _LF_USAGE, "usageDetails": _LF_DETAILS},
    fields={
        "request_id": "{r}id",
        # v1 observations carry the name in `model`; v2 (and ingested OTel) in `providedModelName`
        "model": "coalesce(nullif({r}model, ''), nullif({r}\"providedModelName\", ''))",
        # Langfuse's usageDetails keep cache reads and reasoning apart from "input" / "output": add them back.
        "input_tokens": (f"coalesce(TRY_CAST({{r}}\"usageDetails\".input AS DOUBLE) + CASE WHEN {_LF_SUMS} THEN 0 "
                         f"ELSE {_lf_add(*_LF_CACHED)} + {_lf_add(*_LF_CACHE_WRITE)} END, "
                         "TRY_CAST(coalesce({r}usage.input, {r}usage.\"promptTokens\", {r}\"promptTokens\", "
                         "{r}\"inputUsage\") AS DOUBLE))"),
        "output_tokens": (f"coalesce(TRY_CAST({{r}}\"usageDetails\".output AS DOUBLE) + CASE WHEN {_LF_SUMS} THEN 0 "
                          f"ELSE {_lf_add(*_LF_REASONING)} END, "
                          "TRY_CAST(coalesce({r}usage.output, {r}usage.\"completionTokens\", "
                          "{r}\"completionTokens\", {r}\"outputUsage\") AS DOUBLE))"),
        "cached_input_tokens": _lf_detail(*_LF_CACHED, *_LF_PART_CACHED),
        "reasoning_tokens": _lf_detail(*_LF_REASONING, *_LF_PART_REASONING),
        "timestamp": "{r}\"startTime\"",
        "latency_s": "seal_seconds({r}\"startTime\", {r}\"endTime\")",
        "ttft_s": "seal_seconds({r}\"startTime\", {r}\"completionStartTime\")",
        "user": "{r}\"userId\"",
        "app": "{r}\"projectId\"",
        "call_type": "CASE WHEN {r}type = 'EMBEDDING' THEN 'embedding' ELSE 'chat' END",
    },
    shape="({r}type IS NOT NULL AND {r}\"traceId\" IS NOT NULL)",
    keep=("({r}type IN (" + ", ".join(f"'{t}'" for t in LANGFUSE_CALL_TYPES) + ") AND {r}id NOT IN "
          "(SELECT id FROM seal_rollup))"),
    ignored_what=("Langfuse observations that are not model calls (SPAN, AGENT, TOOL, CHAIN, RETRIEVER, EVENT ...) "
                  "or repeat their child generations' usage"),
    bad=("CASE WHEN upper({r}usage.unit) NOT IN ('TOKENS') "
         "THEN 'usage is counted in ' || {r}usage.unit || ', not TOKENS' END"),
)
# ids of GENERATIONs that roll up their descendants' usage, over the whole file (a table ``seal_obs`` of ``id,
# parent, is_gen, tokens``): a GENERATION with GENERATION descendants whose own usage is none, or within 1 % (and 1
# token) of the sum of its leaf GENERATIONs' usage. A parent with usage of its own beyond that is a call of its own.
LANGFUSE_ROLLUP_SQL = """
WITH RECURSIVE up(id, anc) AS (
    SELECT id, parent FROM seal_obs WHERE is_gen AND parent IS NOT NULL
    UNION
    SELECT up.id, o.parent FROM up JOIN seal_obs o ON o.id = up.anc WHERE o.parent IS NOT NULL
),
gen_anc AS (SELECT up.id, up.anc FROM up JOIN seal_obs o ON o.id = up.anc WHERE o.is_gen),
leaf AS (SELECT id FROM seal_obs WHERE is_gen AND id NOT IN (SELECT anc FROM gen_anc)),
sums AS (SELECT g.anc, sum(coalesce(o.tokens, 0)) AS below FROM gen_anc g JOIN leaf USING (id)
         JOIN seal_obs o ON o.id = g.id GROUP BY g.anc)
SELECT s.anc AS id FROM sums s JOIN seal_obs p ON p.id = s.anc
WHERE coalesce(p.tokens, 0) = 0 OR abs(p.tokens - s.below) <= greatest(1, 0.01 * s.below)
"""
# token fields the mapping above TRY_CASTs (so a text value there would read as "missing"): each present value must
# be a finite number, else the record is a bad row naming the field
_LF_TOKEN_FIELDS = tuple(f'"usageDetails"."{k}"' for k in ("input", "output", "total", *_LF_CACHED, *_LF_CACHE_WRITE,
                                                               *_LF_REASONING, *_LF_PART_CACHED,
                                                               *_LF_PART_REASONING)) + (
    'usage.input', 'usage.output', 'usage."promptTokens"', 'usage."completionTokens"', '"promptTokens"',
    '"completionTokens"', '"inputUsage"', '"outputUsage"')
LANGFUSE = dataclasses.replace(LANGFUSE, bad="coalesce(" + ", ".join(
    f"CASE WHEN {{r}}{f} IS NOT NULL AND trim({{r}}{f}::VARCHAR) <> '' AND NOT coalesce(isfinite(TRY_CAST({{r}}{f} "
    f"AS DOUBLE)), FALSE) THEN '{f.replace(chr(34), '')} is not a number (' || left({{r}}{f}::VARCHAR, 40) || ')' END"
    for f in _LF_TOKEN_FIELDS) + ", " + LANGFUSE.bad + ")")

# ---------------------------------------------------------------- plain tables (CSV / JSONL / Parquet / JSON array)
# normalised column -> accepted column names, first present wins. Names match loosely (:func:`column_key`: case,
# "_", "-", ".", spaces ignored), so ContextTokens, context_tokens and "Context Tokens" are one name. Every alias is
# listed in the README ("Column names").
TABLE_ALIASES: dict[str, tuple[str, ...]] = {
    "request_id": ("request_id", "id", "requestid", "custom_id", "call_id", "generation_id"),
    "model": ("model", "model_name", "model_id", "llm", "model_version", "ai_model", "gen_ai_request_model"),
    "engine": ("engine", "serving_engine", "inference_engine"),   # the serving stack (vllm, transformers ...)
    "params_b": ("params_b",),
    "active_params_b": ("active_params_b",),
    "precision": ("precision", "dtype", "quantization"),
    "gpu": ("gpu", "gpu_type", "accelerator"),
    "gpus": ("gpus", "gpu_count", "num_gpus", "n_gpus"),
    "batch_size": ("batch_size",),
    "call_type": ("call_type",),                 # chat | embedding (LiteLLM spend logs name it so)
    "deployment": ("deployment",),               # a calibrated deployment, user:NAME (seal calibrate)
    "input_tokens": ("input_tokens", "prompt_tokens", "tokens_in", "input_token_count", "prompt_token_count",
                     "num_input_tokens", "n_input_tokens", "num_prompt_tokens", "n_prompt_tokens",
                     "prompt_eval_count",                        # Ollama
                     "context_tokens",                           # Azure LLM inference trace (ContextTokens)
                     "native_tokens_prompt", "tokens_prompt",    # OpenRouter generation stats (native first)
                     "request_tokens", "prompt_len", "input_len", "usage_prompt_tokens", "usage_input_tokens",
                     "gen_ai_usage_input_tokens"),
    "output_tokens": ("output_tokens", "completion_tokens", "tokens_out", "output_token_count",
                      "completion_token_count", "generated_tokens", "num_output_tokens", "n_output_tokens",
                      "num_generated_tokens", "n_generated_tokens",
                      "eval_count",                              # Ollama
                      "native_tokens_completion", "tokens_completion",
                      "response_tokens", "completion_len", "output_len", "usage_completion_tokens",
                      "usage_output_tokens", "gen_ai_usage_output_tokens"),
    "cached_input_tokens": ("cached_input_tokens", "cached_tokens", "cache_read_input_tokens",
                            "native_tokens_cached"),
    "reasoning_tokens": ("reasoning_tokens", "native_tokens_reasoning"),
    "latency_s": ("latency_s", "latency", "duration_s", "elapsed_s", "response_time_s"),
    "ttft_s": ("ttft_s", "ttft", "time_to_first_token_s"),
    "region": ("region", "cloud_region", "location"),
    "prompt": ("prompt", "prompt_text", "input_text", "input", "question", "query"),
    "response": ("response", "response_text", "completion", "output_text", "output", "answer"),
    "timestamp": ("timestamp", "time", "created_at", "created", "start_time", "starttime", "ts", "datetime",
                  "request_time", "request_timestamp", "event_time", "@timestamp"),
    "app": ("app", "application", "app_name", "service", "service_name", "project"),
    "user": ("user", "user_id", "userid", "end_user", "customer"),
    "token_source": ("token_source",),
    "source_format": ("source_format",),
}
# columns in milliseconds, converted to seconds
TABLE_MS_ALIASES: dict[str, tuple[str, ...]] = {
    "latency_s": ("latency_ms", "duration_ms", "elapsed_ms", "response_time_ms", "generation_time_ms"),
    "ttft_s": ("ttft_ms", "time_to_first_token_ms"),
}
TABLE_END_ALIASES = ("end_time", "endtime", "finished_at")
# Ollama's /api/generate and /api/chat responses (https://github.com/ollama/ollama/blob/main/docs/api.md): counts in
# prompt_eval_count / eval_count, durations in nanoseconds
OLLAMA_COLUMNS = ("prompt_eval_count", "eval_count")
OLLAMA_NS_FIELDS = {"latency_s": ("total_duration",), "ttft_s": ("load_duration", "prompt_eval_duration")}
MAPPABLE_COLUMNS = tuple(TABLE_ALIASES)            # what --columns may name


def column_key(name: str) -> str:
    """Loose key of a column name: lower case without ``_``, ``-``, ``.``, spaces (``ContextTokens`` =
    ``context_tokens``)."""
    return "".join(ch for ch in str(name).lower() if ch not in "_-. ")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parse_column_mapping(text: str | dict | None) -> dict[str, str]:
    """``input_tokens=ContextTokens,output_tokens=GeneratedTokens`` (or a dict) as ``{column: file column}``.

    Raises:
        seal.errors.SealError: a pair without ``=``, or a SEAL column that cannot be mapped (names the accepted).
    """
    from seal.errors import SealError

    if not text:
        return {}
    if isinstance(text, dict):
        pairs = list(text.items())
    else:   # comma-separated; a file column holding a comma is quoted: input_tokens="Tokens, in"
        import re

        parts = re.findall(r'(?:[^,"]|"[^"]*")+', str(text))
        pairs = [part.split("=", 1) if "=" in part else (part, None) for part in parts if part.strip()]
        pairs = [(k, v.strip()[1:-1] if v is not None and len(v.strip()) > 1 and v.strip()[0] == v.strip()[-1] == '"'
                  else v) for k, v in pairs]
    out: dict[str, str] = {}
    for key, value in pairs:
        key = str(key).strip()
        if value is None or not str(value).strip():
            raise SealError(f"Column mapping {key!r} has no file column; write SEAL_COLUMN=FILE_COLUMN, e.g. "
                            "input_tokens=ContextTokens,output_tokens=GeneratedTokens.")
        if key not in MAPPABLE_COLUMNS:
            raise SealError(f"Unknown column {key!r} in the column mapping; accepted: {', '.join(MAPPABLE_COLUMNS)}.")
        if key in out:
            raise SealError(f"The column mapping names {key} twice; map each SEAL column once.")
        out[key] = str(value).strip()
    return out


def _mapped_fields(columns: list[str], by_key: dict[str, str],
                   mapping: dict[str, str]) -> tuple[dict[str, str], set[str]]:
    """The fields ``mapping`` ({SEAL column: file column}) names, each file column matched exactly, else loosely;
    and the file columns it uses.

    Raises:
        seal.errors.SealError: a file column the table does not have, or one mapped to two SEAL columns.
    """
    from seal.errors import SealError

    fields: dict[str, str] = {}
    used: set[str] = set()
    for col, target in mapping.items():
        hit = target if target in columns else by_key.get(column_key(target))
        if hit is None:
            raise SealError(f"The column mapping names {target!r} for {col}, but the file has no such column; its "
                            f"columns are {', '.join(columns[:30])}.")
        if hit in used:
            other = next(k for k, v in fields.items() if v == "{r}" + _quote(hit))
            raise SealError(f"The column mapping reads the file column {hit!r} as both {other} and {col}; map each "
                            "file column to one SEAL column.")
        fields[col] = "{r}" + _quote(hit)
        used.add(hit)
    return fields, used


def _is_ollama(by_key: dict[str, str]) -> bool:
    """Whether the columns (by :func:`column_key`) are those of Ollama's responses (generate / chat, or embed)."""
    return all(column_key(a) in by_key for a in OLLAMA_COLUMNS) or (
        column_key("embeddings") in by_key and column_key("prompt_eval_count") in by_key)


def _add_ollama_fields(fields: dict[str, str], by_key: dict[str, str]) -> None:
    """Add an Ollama table's call type (``embeddings``: /api/embed) and its durations (ns -> s), where not mapped."""
    if column_key("embeddings") in by_key and "call_type" not in fields:     # /api/embed
        fields["call_type"] = "'embedding'"
    for col, parts in OLLAMA_NS_FIELDS.items():
        hits = [by_key.get(column_key(p)) for p in parts]
        if col not in fields and all(hits):
            fields[col] = "(" + " + ".join(f"TRY_CAST({{r}}{_quote(h)} AS DOUBLE)" for h in hits) + ") / 1e9"


def _add_duration_fields(fields: dict[str, str], find) -> None:
    """Add latency / TTFT from millisecond columns (:data:`TABLE_MS_ALIASES`), else the latency as an end time
    (:data:`TABLE_END_ALIASES`) minus the timestamp; ``find`` gives the unused file column of the first alias."""
    for col, aliases in TABLE_MS_ALIASES.items():
        hit = None if col in fields else find(aliases)
        if hit is not None:
            fields[col] = f"TRY_CAST({{r}}{_quote(hit)} AS DOUBLE) / 1000.0"
    end = find(TABLE_END_ALIASES)
    if end is not None and "latency_s" not in fields and "timestamp" in fields:
        fields["latency_s"] = f"seal_seconds({fields['timestamp']}, {{r}}{_quote(end)})"


def _table_schema(columns: list[str], mapped: set[str]) -> dict[str, str]:
    """The columns a table's reader keeps (as text): those an alias names, Ollama's durations and the ``mapped``."""
    wanted = {column_key(a) for al in (*TABLE_ALIASES.values(), *TABLE_MS_ALIASES.values()) for a in al} | \
        {column_key(a) for a in (*TABLE_END_ALIASES, *(p for ps in OLLAMA_NS_FIELDS.values() for p in ps))}
    return {c: "VARCHAR" for c in columns if column_key(c) in wanted or c in mapped}


def table_format(columns: list[str], *, name: str = "table", mapping: dict[str, str] | None = None) -> Format:
    """A :class:`Format` for a flat table with ``columns``: ``mapping`` ({SEAL column: file column}) first, then
    the aliases of :data:`TABLE_ALIASES` (matched loosely, :func:`column_key`).

    Raises:
        seal.errors.UnmappedTable: the table has neither a token column nor prompt text (lists its columns).
        seal.errors.SealError: ``mapping`` names a column the file does not have.
    """
    from seal.errors import UnmappedTable

    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(column_key(c), c)
    fields, used = _mapped_fields(columns, by_key, mapping or {})

    def find(aliases) -> str | None:
        return next((by_key[column_key(a)] for a in aliases if column_key(a) in by_key
                     and by_key[column_key(a)] not in used), None)

    for col, aliases in TABLE_ALIASES.items():
        hit = None if col in fields else find(aliases)
        if hit is not None:
            fields[col] = "{r}" + _quote(hit)
    if _is_ollama(by_key):
        name = "ollama" if name == "table" else name
        _add_ollama_fields(fields, by_key)
    _add_duration_fields(fields, find)
    if not ({"input_tokens", "output_tokens", "prompt"} & set(fields)):
        raise UnmappedTable(
            "Unknown format: the table has none of the accepted token or text columns "
            f"(found {', '.join(columns[:12])}{' ...' if len(columns) > 12 else ''}); map its columns, e.g. "
            "--columns input_tokens=COLUMN,output_tokens=COLUMN (in the app: the column mapping under the upload), "
            "or name them input_tokens/output_tokens (aliases: prompt_tokens/completion_tokens, tokens_in/tokens_out "
            "...) or give a prompt column.", columns=list(columns))
    return Format(name=name, label="a table of requests", fields=fields, schema=_table_schema(columns, used),
                  token_source="log")


def litellm_table_format(columns: list[str]) -> Format:
    """LiteLLM spend logs exported as CSV/Parquet: the LiteLLM mapping over the table's columns."""
    lower = {c.lower(): c for c in columns}

    def col(name: str) -> str:
        return "{r}" + _quote(lower[name.lower()]) if name.lower() in lower else "NULL"

    fields = {
        "request_id": col("request_id"),
        "model": f"coalesce(nullif({col('model')}, ''), {col('model_group')})",
        "input_tokens": col("prompt_tokens"),
        "output_tokens": col("completion_tokens"),
        "timestamp": col("startTime"),
        "latency_s": f"seal_seconds({col('startTime')}, {col('endTime')})",
        "ttft_s": (f"CASE WHEN seal_seconds({col('completionStartTime')}, {col('endTime')}) > 0 "
                   f"THEN seal_seconds({col('startTime')}, {col('completionStartTime')}) END"),
        "user": f"coalesce(nullif({col('end_user')}, ''), nullif({col('user')}, ''))",
        "app": f"nullif({col('team_id')}, '')",
        "call_type": (f"CASE WHEN lower({col('call_type')}) IN ('embedding', 'aembedding') THEN 'embedding' "
                      "ELSE 'chat' END"),
    }
    return Format(name="litellm", label=LITELLM.label, fields=fields)


FORMATS: dict[str, Format] = {f.name: f for f in (OPENAI, OPENAI_BATCH, OPENAI_STREAM, ANTHROPIC, ANTHROPIC_BATCH,
                                                  GEMINI, GEMINI_BATCH, OTLP, LITELLM, LANGFUSE)}


def classify_record(rec: object, *, mapped: bool = False) -> str | None:
    """The format name of one parsed JSON record (``table`` for a flat record), or ``None`` when unknown.
    ``mapped``: the user maps the columns, so any flat record is a table row."""
    if not isinstance(rec, dict):
        return None
    if "resourceSpans" in rec:
        return "otlp"
    if "custom_id" in rec and (isinstance(rec.get("response"), dict) or
                               (rec.get("response") is None and isinstance(rec.get("error"), (dict, str)))):
        return "openai-batch"
    if "custom_id" in rec and isinstance(rec.get("result"), dict):
        return "anthropic-batch"
    if rec.get("object") == "chat.completion.chunk" or (rec.get("object") == "" and "prompt_filter_results" in rec):
        return "openai-stream"
    if rec.get("type") == "message" and isinstance(rec.get("usage"), dict):
        return "anthropic"
    if isinstance(rec.get("usageMetadata"), dict):
        return "gemini"
    if isinstance(rec.get("response"), dict) and isinstance(rec["response"].get("usageMetadata"), dict):
        return "gemini-batch"
    kind = rec.get("type")
    if "traceId" in rec and isinstance(kind, str) and (kind in LANGFUSE_TYPES or (
            kind.isupper() and "id" in rec and ("usageDetails" in rec or "parentObservationId" in rec))):
        return "langfuse"            # an observation type added after this list is ignored and counted, not an error
    usage = rec.get("usage")
    if rec.get("object") in ("chat.completion", "response", "text_completion") or (
            isinstance(usage, dict) and ("choices" in rec or "output" in rec or "data" in rec
                                         or {"prompt_tokens", "input_tokens"} & set(usage))):
        return "openai-chat"
    if "startTime" in rec and "request_id" in rec and ("prompt_tokens" in rec or "spend" in rec):
        return "litellm"
    keys = {column_key(k) for k in rec}
    wanted = {column_key(a) for col in ("input_tokens", "output_tokens", "prompt") for a in TABLE_ALIASES[col]}
    if mapped or keys & wanted:
        return "table"
    return None


def is_trace_document(doc: object) -> bool:
    """A Langfuse trace with its observations: the UI's "Download trace" ``{trace, observations}``, or the API's
    ``GET /api/public/traces/{id}`` (a trace object with an ``observations`` list of observation objects)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("observations"), list):
        return False
    first = next((o for o in doc["observations"] if isinstance(o, dict)), None)
    return first is not None and classify_record(first) == "langfuse"


@dataclass
class Detected:
    """What :func:`seal.logs.detect.detect` found: the container and the record format."""

    container: str                 # jsonl | json-array | json-object | json-data | csv | parquet
    fmt: Format
    columns: list[str] = field(default_factory=list)   # tables: the file's columns
    delimiter: str | None = None                        # CSV: the header's delimiter
