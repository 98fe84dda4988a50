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
STRING_COLUMNS = ("request_id", "model", "precision", "gpu", "region", "prompt", "response", "app", "user")
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
}


def _openai_fields(b: str) -> dict[str, str]:
    """Fields of an OpenAI response object at prefix ``b`` (``{r}`` or ``{r}response.body.``)."""
    return {
        "request_id": f"{b}id",
        "model": f"{b}model",
        "input_tokens": f"coalesce({b}usage.prompt_tokens, {b}usage.input_tokens)",
        "output_tokens": f"coalesce({b}usage.completion_tokens, {b}usage.output_tokens)",
        "cached_input_tokens": (f"coalesce({b}usage.prompt_tokens_details.cached_tokens, "
                                f"{b}usage.input_tokens_details.cached_tokens)"),
        "reasoning_tokens": (f"coalesce({b}usage.completion_tokens_details.reasoning_tokens, "
                             f"{b}usage.output_tokens_details.reasoning_tokens)"),
        "timestamp": f"coalesce({b}created, {b}created_at)",
        "user": f"{b}\"user\"",
    }


OPENAI = Format(
    name="openai-chat",
    label="an OpenAI Chat Completions / Responses object",
    schema=_OPENAI_OBJECT,
    fields={**_openai_fields("{r}"),
            "source_format": "CASE WHEN {r}object = 'response' THEN 'openai-responses' ELSE 'openai-chat' END"},
    shape="({r}usage IS NOT NULL OR {r}object IN ('chat.completion', 'response', 'text_completion'))",
)

OPENAI_BATCH = Format(
    name="openai-batch",
    label="an OpenAI Batch API output line",
    schema={"id": "VARCHAR", "custom_id": "VARCHAR", "error": "VARCHAR",
            "response": {"status_code": "VARCHAR", "request_id": "VARCHAR", "body": _OPENAI_OBJECT}},
    fields={**_openai_fields("{r}response.body."), "request_id": "coalesce({r}custom_id, {r}response.body.id)"},
    shape="({r}custom_id IS NOT NULL AND ({r}response IS NOT NULL OR {r}error IS NOT NULL))",
    bad=("CASE WHEN {r}error IS NOT NULL AND {r}error <> 'null' THEN 'the batch request failed (' || {r}error || ')' "
         "WHEN {r}response.status_code IS NOT NULL AND {r}response.status_code <> '200' "
         "THEN 'the batch request failed (status_code ' || {r}response.status_code || ')' END"),
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
    },
    shape="({r}span IS NOT NULL)",
    keep=(f"(({_attr('gen_ai.request.model')} IS NOT NULL OR {_attr('gen_ai.response.model')} IS NOT NULL "
          f"OR {_attr('gen_ai.usage.input_tokens')} IS NOT NULL) "
          f"AND coalesce({_attr('gen_ai.operation.name')}, '') NOT IN ('invoke_agent', 'create_agent', 'execute_tool'))"),
    ignored_what="spans that are not GenAI model calls (HTTP, tool, agent spans)",
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
    },
    shape="({r}\"startTime\" IS NOT NULL OR {r}request_id IS NOT NULL)",
)
LITELLM_COLUMNS = {"request_id", "starttime", "prompt_tokens", "completion_tokens"}

# ---------------------------------------------------------------- Langfuse observations
_LF_USAGE = _num_schema("input", "output", "total", "unit", "promptTokens", "completionTokens")
_LF_DETAILS = _num_schema("input", "output", "input_cached_tokens", "cache_read_input_tokens",
                          "cache_creation_input_tokens", "input_cache_read", "output_reasoning_tokens",
                          "output_reasoning")
LANGFUSE = Format(
    name="langfuse",
    label="a Langfuse observation",
    schema={**_num_schema("id", "traceId", "type", "model", "startTime", "endTime", "completionStartTime",
                          "userId", "projectId", "promptTokens", "completionTokens"),
            "usage": _LF_USAGE, "usageDetails": _LF_DETAILS},
    fields={
        "request_id": "{r}id",
        "model": "{r}model",
        # Langfuse's usageDetails keep cache reads and reasoning apart from "input" / "output": add them back.
        "input_tokens": ("coalesce(TRY_CAST({r}\"usageDetails\".input AS DOUBLE) "
                         "+ coalesce(TRY_CAST(coalesce({r}\"usageDetails\".input_cached_tokens, "
                         "{r}\"usageDetails\".cache_read_input_tokens, {r}\"usageDetails\".input_cache_read) AS DOUBLE), 0) "
                         "+ coalesce(TRY_CAST({r}\"usageDetails\".cache_creation_input_tokens AS DOUBLE), 0), "
                         "TRY_CAST(coalesce({r}usage.input, {r}usage.\"promptTokens\", {r}\"promptTokens\") AS DOUBLE))"),
        "output_tokens": ("coalesce(TRY_CAST({r}\"usageDetails\".output AS DOUBLE) "
                          "+ coalesce(TRY_CAST(coalesce({r}\"usageDetails\".output_reasoning_tokens, "
                          "{r}\"usageDetails\".output_reasoning) AS DOUBLE), 0), "
                          "TRY_CAST(coalesce({r}usage.output, {r}usage.\"completionTokens\", {r}\"completionTokens\") AS DOUBLE))"),
        "cached_input_tokens": ("coalesce({r}\"usageDetails\".input_cached_tokens, "
                                "{r}\"usageDetails\".cache_read_input_tokens, {r}\"usageDetails\".input_cache_read)"),
        "reasoning_tokens": "coalesce({r}\"usageDetails\".output_reasoning_tokens, {r}\"usageDetails\".output_reasoning)",
        "timestamp": "{r}\"startTime\"",
        "latency_s": "seal_seconds({r}\"startTime\", {r}\"endTime\")",
        "ttft_s": "seal_seconds({r}\"startTime\", {r}\"completionStartTime\")",
        "user": "{r}\"userId\"",
        "app": "{r}\"projectId\"",
    },
    shape="({r}type IS NOT NULL AND {r}\"traceId\" IS NOT NULL)",
    keep="({r}type = 'GENERATION')",
    ignored_what="Langfuse observations that are not GENERATIONs (SPAN, EVENT ...)",
    bad=("CASE WHEN upper({r}usage.unit) NOT IN ('TOKENS') "
         "THEN 'usage is counted in ' || {r}usage.unit || ', not TOKENS' END"),
)
# token fields the mapping above TRY_CASTs (so a text value there would read as "missing"): each present value must
# be a finite number, else the record is a bad row naming the field
_LF_TOKEN_FIELDS = ('"usageDetails".input', '"usageDetails".output', '"usageDetails".input_cached_tokens',
                    '"usageDetails".cache_read_input_tokens', '"usageDetails".input_cache_read',
                    '"usageDetails".cache_creation_input_tokens', '"usageDetails".output_reasoning_tokens',
                    '"usageDetails".output_reasoning', 'usage.input', 'usage.output', 'usage."promptTokens"',
                    'usage."completionTokens"', '"promptTokens"', '"completionTokens"')
LANGFUSE = dataclasses.replace(LANGFUSE, bad="coalesce(" + ", ".join(
    f"CASE WHEN {{r}}{f} IS NOT NULL AND trim({{r}}{f}::VARCHAR) <> '' AND NOT coalesce(isfinite(TRY_CAST({{r}}{f} "
    f"AS DOUBLE)), FALSE) THEN '{f.replace(chr(34), '')} is not a number (' || left({{r}}{f}::VARCHAR, 40) || ')' END"
    for f in _LF_TOKEN_FIELDS) + ", " + LANGFUSE.bad + ")")

# ---------------------------------------------------------------- plain tables (CSV / JSONL / Parquet / JSON array)
# normalised column -> accepted column names (case-insensitive), first present wins
TABLE_ALIASES: dict[str, tuple[str, ...]] = {
    "request_id": ("request_id", "id", "requestid", "custom_id", "call_id"),
    "model": ("model", "model_name", "model_id", "llm"),
    "engine": ("engine", "serving_engine", "inference_engine"),   # the serving stack (vllm, transformers ...)
    "params_b": ("params_b",),
    "active_params_b": ("active_params_b",),
    "precision": ("precision", "dtype"),
    "gpu": ("gpu", "gpu_type", "accelerator"),
    "gpus": ("gpus", "gpu_count", "num_gpus", "n_gpus"),
    "batch_size": ("batch_size",),
    "input_tokens": ("input_tokens", "prompt_tokens", "tokens_in", "input_token_count", "prompt_token_count",
                     "num_input_tokens", "n_input_tokens", "prompt_eval_count"),
    "output_tokens": ("output_tokens", "completion_tokens", "tokens_out", "output_token_count",
                      "completion_token_count", "generated_tokens", "num_output_tokens", "n_output_tokens",
                      "eval_count"),
    "cached_input_tokens": ("cached_input_tokens", "cached_tokens", "cache_read_input_tokens"),
    "reasoning_tokens": ("reasoning_tokens",),
    "latency_s": ("latency_s", "latency", "duration_s", "elapsed_s", "response_time_s"),
    "ttft_s": ("ttft_s", "ttft", "time_to_first_token_s"),
    "region": ("region", "cloud_region", "location"),
    "prompt": ("prompt", "prompt_text", "input_text", "input", "question", "query"),
    "response": ("response", "response_text", "completion", "output_text", "output", "answer"),
    "timestamp": ("timestamp", "time", "created_at", "created", "start_time", "starttime", "ts", "datetime",
                  "request_time"),
    "app": ("app", "application", "app_name", "service", "service_name", "project"),
    "user": ("user", "user_id", "userid", "end_user", "customer"),
    "token_source": ("token_source",),
    "source_format": ("source_format",),
}
# columns in milliseconds, converted to seconds
TABLE_MS_ALIASES: dict[str, tuple[str, ...]] = {
    "latency_s": ("latency_ms", "duration_ms", "elapsed_ms", "response_time_ms"),
    "ttft_s": ("ttft_ms", "time_to_first_token_ms"),
}
TABLE_END_ALIASES = ("end_time", "endtime", "finished_at")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_format(columns: list[str], *, name: str = "table") -> Format:
    """A :class:`Format` for a flat table with ``columns`` (aliases resolved case-insensitively).

    Raises:
        seal.errors.SealError: the table has neither a token column nor prompt text.
    """
    from seal.errors import SealError

    lower = {c.lower(): c for c in reversed(columns)}
    fields: dict[str, str] = {}
    for col, aliases in TABLE_ALIASES.items():
        hit = next((lower[a] for a in aliases if a in lower), None)
        if hit is not None:
            fields[col] = "{r}" + _quote(hit)
    for col, aliases in TABLE_MS_ALIASES.items():
        hit = next((lower[a] for a in aliases if a in lower), None)
        if hit is not None and col not in fields:
            fields[col] = f"TRY_CAST({{r}}{_quote(hit)} AS DOUBLE) / 1000.0"
    end = next((lower[a] for a in TABLE_END_ALIASES if a in lower), None)
    if end is not None and "latency_s" not in fields and "timestamp" in fields:
        fields["latency_s"] = f"seal_seconds({fields['timestamp']}, {{r}}{_quote(end)})"
    if not ({"input_tokens", "output_tokens", "prompt"} & set(fields)):
        raise SealError(
            "Unknown format: the table has none of the accepted token or text columns "
            f"(found {', '.join(columns[:12])}); give input_tokens/output_tokens (or prompt_tokens/completion_tokens, "
            "tokens_in/tokens_out) or a prompt column."
        )
    schema = {c: "VARCHAR" for c in columns if c.lower() in {a for al in (*TABLE_ALIASES.values(),
                                                                            *TABLE_MS_ALIASES.values()) for a in al}
              or c.lower() in TABLE_END_ALIASES}
    return Format(name=name, label="a table of requests", fields=fields, schema=schema,
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
    }
    return Format(name="litellm", label=LITELLM.label, fields=fields)


FORMATS: dict[str, Format] = {f.name: f for f in (OPENAI, OPENAI_BATCH, OTLP, LITELLM, LANGFUSE)}


def classify_record(rec: object) -> str | None:
    """The format name of one parsed JSON record (``table`` for a flat record), or ``None`` when unknown."""
    if not isinstance(rec, dict):
        return None
    if "resourceSpans" in rec:
        return "otlp"
    if "custom_id" in rec and ("response" in rec or "error" in rec):
        return "openai-batch"
    if rec.get("type") in ("GENERATION", "SPAN", "EVENT") and "traceId" in rec:
        return "langfuse"
    usage = rec.get("usage")
    if rec.get("object") in ("chat.completion", "response", "text_completion") or (
            isinstance(usage, dict) and ("choices" in rec or "output" in rec
                                         or {"prompt_tokens", "input_tokens"} & set(usage))):
        return "openai-chat"
    if "startTime" in rec and "request_id" in rec and ("prompt_tokens" in rec or "spend" in rec):
        return "litellm"
    keys = {k.lower() for k in rec}
    known = {a for al in TABLE_ALIASES.values() for a in al}
    if keys & {"input_tokens", "output_tokens", "prompt"} or keys & set(TABLE_ALIASES["input_tokens"]) or \
            keys & set(TABLE_ALIASES["prompt"]) & known:
        return "table"
    return None


@dataclass
class Detected:
    """What :func:`seal.logs.detect.detect` found: the container and the record format."""

    container: str                 # jsonl | json-array | json-object | json-data | csv | parquet
    fmt: Format
    columns: list[str] = field(default_factory=list)   # tables: the file's columns
    delimiter: str | None = None                        # CSV: the header's delimiter
