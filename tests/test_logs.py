"""Request logs in: every format round-trips to the normalised frame with exact token sums; bad input is named."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seal.errors import SealError
from seal.logs.normalize import NORMALIZED_COLUMNS, prepare_requests
from seal.logs.read import iter_request_batches, read_requests

LOGS = Path(__file__).parent / "data" / "logs"


def _sum(frame: pd.DataFrame, col: str) -> float:
    return float(frame[col].sum(skipna=True))


# file -> (source_format, rows, input sum, output sum, cached sum, reasoning sum)
EXPECTED = {
    "openai_chat.jsonl": ("openai-chat+openai-responses", 3, 19 + 2048 + 36, 10 + 1536 + 87, 0 + 1024 + 12, 0 + 1280 + 40),
    "openai_chat_single.json": ("openai-chat", 1, 12, 3, 0, 0),
    "openai_batch_output.jsonl": ("openai-batch", 3, 24 + 31 + 18, 15 + 2 + 21, 0, 0),
    "otlp_genai.json": ("otlp", 2, 512 + 2000, 128 + 300, 1500, 0),
    "litellm_spend_logs.json": ("litellm", 2, 1000 + 300, 150 + 120, 0, 0),
    "litellm_spend_logs.csv": ("litellm", 3, 600 + 2400 + 50, 100 + 200 + 0, 0, 0),
    # Langfuse usageDetails: input 600 + 200 cached; output 150 + 50 reasoning; second row from `usage`
    "langfuse_observations.json": ("langfuse", 2, 800 + 120, 200 + 60, 200, 50),
    "plain_tokens.csv": ("table", 3, 1200 + 80 + 400, 300 + 20 + 0, 0, 0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_format_round_trips_with_exact_token_sums(name):
    fmt, rows, inp, out, cached, reasoning = EXPECTED[name]
    frame, report = read_requests(LOGS / name)
    assert list(frame.columns) == list(NORMALIZED_COLUMNS)
    assert report.source_format == fmt and report.rows == rows == len(frame) and report.skipped == 0
    assert _sum(frame, "input_tokens") == inp
    assert _sum(frame, "output_tokens") == out
    assert _sum(frame, "cached_input_tokens") == cached
    assert _sum(frame, "reasoning_tokens") == reasoning
    assert (frame["token_source"] == "log").all()
    assert frame["model"].notna().all()
    assert str(frame["timestamp"].dtype) .endswith("UTC]")
    prepared = prepare_requests(frame)
    assert prepared["input_tokens"].sum() == inp and prepared["output_tokens"].sum() == out


def test_openai_chat_and_responses_fields():
    frame, _ = read_requests(LOGS / "openai_chat.jsonl")
    assert list(frame.index) == [1, 2, 4]          # line numbers (line 3 is blank)
    assert frame.index.name == "line"
    assert list(frame["source_format"]) == ["openai-chat", "openai-chat", "openai-responses"]
    o3 = frame.loc[2]
    assert o3["output_tokens"] == 1536 and o3["reasoning_tokens"] == 1280   # reasoning counted inside decode
    assert o3["cached_input_tokens"] == 1024
    assert frame.loc[4, "user"] == "user-42"
    assert frame.loc[1, "timestamp"] == pd.Timestamp("2025-03-10T01:25:52Z")


def test_otlp_spans_attributes_latency_and_app():
    frame, report = read_requests(LOGS / "otlp_genai.json")
    assert report.ignored == 1 and "GenAI" in report.ignored_what     # the HTTP span, counted, not silently dropped
    first = frame.iloc[0]
    assert first["model"] == "gpt-4o-mini-2024-07-18"                   # response model wins over request model
    assert first["request_id"] == "chatcmpl-AaBbCc"
    assert first["app"] == "support-bot" and first["user"] == "u-7"
    assert first["latency_s"] == pytest.approx(1.25)
    assert first["timestamp"] == pd.Timestamp("2025-01-01T12:00:00Z")
    second = frame.iloc[1]
    assert second["app"] == "summarizer" and second["latency_s"] == pytest.approx(3.5)
    assert second["request_id"] == "b7ad6b7169203331"                  # span id when no response id


def test_litellm_times_ttft_and_no_api_key():
    frame, _ = read_requests(LOGS / "litellm_spend_logs.json")
    assert "api_key" not in frame.columns
    assert not frame.astype(str).apply(lambda c: c.str.contains("88dc28d0")).any().any()
    a, b = frame.iloc[0], frame.iloc[1]
    assert a["latency_s"] == pytest.approx(2.5) and a["ttft_s"] == pytest.approx(0.4)
    assert a["user"] == "alice@example.com" and a["app"] == "team-search"
    # non-streaming: completionStartTime == endTime is not a time to first token
    assert pd.isna(b["ttft_s"]) and b["latency_s"] == pytest.approx(4.0)
    assert b["timestamp"] == pd.Timestamp("2025-03-01T09:00:00Z")      # +01:00 converted to UTC
    assert b["user"] == "customer-9"                                    # end_user preferred over the key owner


def test_litellm_csv_detected_by_header():
    frame, report = read_requests(LOGS / "litellm_spend_logs.csv")
    assert report.source_format == "litellm" and report.container == "csv"
    assert list(frame.index) == [2, 3, 4]                              # CSV line numbers (header is line 1)
    assert frame["ttft_s"].iloc[0] == pytest.approx(0.3) and pd.isna(frame["ttft_s"].iloc[1])


def test_langfuse_generations_only():
    frame, report = read_requests(LOGS / "langfuse_observations.json")
    assert report.ignored == 1                                          # the SPAN observation
    assert list(frame["request_id"]) == ["obs-1f2e3d", "obs-3b"]
    assert frame["ttft_s"].iloc[0] == pytest.approx(0.6)
    assert frame["timestamp"].iloc[1] == pd.Timestamp("2025-02-10T14:30:00Z")  # +02:00 -> UTC
    assert frame["user"].iloc[0] == "user-3" and frame["app"].iloc[0] == "proj-support"


def test_plain_csv_aliases_and_timezones():
    frame, _ = read_requests(LOGS / "plain_tokens.csv")
    assert list(frame["timestamp"]) == [pd.Timestamp("2025-01-15T02:30:00Z"),   # +05:30
                                        pd.Timestamp("2025-01-15T09:00:00Z"),   # Z
                                        pd.Timestamp("2025-01-15T09:00:00Z")]   # epoch seconds
    assert list(frame["latency_s"]) == pytest.approx([4.2, 0.6, 0.35])          # latency_ms / 1000
    assert list(frame["user"]) == ["u1", "u2", "u1"] and list(frame["app"]) == ["search", "search", "chat"]


def test_plain_text_jsonl_is_counted_by_the_tokenizer():
    from seal.logs.tokens import get_encoding

    frame, _ = read_requests(LOGS / "plain_text.jsonl")
    prepared = prepare_requests(frame)
    enc = get_encoding("tekken")
    first = frame.iloc[0]
    assert prepared["input_tokens"].iloc[0] == len(enc.encode_ordinary(first["prompt"]))
    assert prepared["output_tokens"].iloc[0] == len(enc.encode_ordinary(first["response"]))
    assert prepared["token_source"].iloc[0] == "tokenizer:tekken"
    # no response, no output length: the stated default, flagged
    from seal.logs.normalize import DEFAULT_OUTPUT_TOKENS

    assert prepared["output_tokens"].iloc[1] == DEFAULT_OUTPUT_TOKENS
    assert "default-output-tokens" in prepared["warnings"].iloc[1]
    assert prepared["timestamp"].iloc[0] == pd.Timestamp("2025-04-01T16:00:00Z")   # -04:00


def test_parquet_table_and_batches(tmp_path):
    n = 1000
    df = pd.DataFrame({"model": ["llama-3.1-8b"] * n, "tokens_in": np.arange(n), "tokens_out": np.arange(n) * 2,
                       "created_at": pd.date_range("2025-01-01", periods=n, freq="s", tz="Europe/Paris")})
    path = tmp_path / "x.parquet"
    df.to_parquet(path)
    batches = iter_request_batches(path, batch_rows=300)
    frames = list(batches)
    assert len(frames) >= 4 and sum(len(f) for f in frames) == n
    whole = pd.concat(frames)
    assert whole["input_tokens"].sum() == df["tokens_in"].sum()
    assert whole["output_tokens"].sum() == df["tokens_out"].sum()
    assert whole.index.name == "row" and whole.index[0] == 1 and whole.index[-1] == n
    assert whole["timestamp"].iloc[0] == pd.Timestamp("2024-12-31T23:00:00Z")
    assert batches.report.rows == n


def test_upload_buffer():
    data = (LOGS / "openai_batch_output.jsonl").read_bytes()
    buf = io.BytesIO(data)
    buf.name = "upload.jsonl"
    frame, report = read_requests(buf)
    assert len(frame) == 3 and report.path == "upload.jsonl"


# ------------------------------------------------------------------ bad input
def _write(tmp_path, name, data: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


CHAT = json.dumps({"id": "c1", "object": "chat.completion", "created": 1735689600, "model": "gpt-4o",
                   "usage": {"prompt_tokens": 10, "completion_tokens": 5}})


def test_empty_file(tmp_path):
    with pytest.raises(SealError, match=r"is empty"):
        read_requests(_write(tmp_path, "e.jsonl", "  \n"))


def test_missing_file(tmp_path):
    with pytest.raises(SealError, match=r"No such file"):
        read_requests(tmp_path / "nope.jsonl")


def test_unknown_format(tmp_path):
    with pytest.raises(SealError, match=r"Unknown format"):
        read_requests(_write(tmp_path, "u.json", '{"hello": "world"}\n'))
    with pytest.raises(SealError, match=r"Unknown format.*token or text columns"):
        read_requests(_write(tmp_path, "u.csv", "a,b\n1,2\n"))


def test_mixed_formats_in_first_records(tmp_path):
    batch = (LOGS / "openai_batch_output.jsonl").read_text().splitlines()[0]
    p = _write(tmp_path, "m.jsonl", CHAT + "\n" + batch + "\n")
    with pytest.raises(SealError, match=r"Mixed formats.*line 2 is an OpenAI Batch API output line"):
        read_requests(p)
    frame, report = read_requests(p, skip_bad=True)
    assert list(frame.index) == [1] and report.skipped == 1 and "mixed formats" in report.examples[0]


def test_mixed_formats_after_the_sample_are_bad_rows(tmp_path):
    from seal.logs import detect as det

    lines = [CHAT] * (det.SAMPLE_RECORDS + 5) + ['{"custom_id": "x", "response": {"status_code": 200}}']
    p = _write(tmp_path, "m.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(SealError, match=rf"line {len(lines)} is not an OpenAI Chat Completions.*mixed formats"):
        read_requests(p)
    frame, report = read_requests(p, skip_bad=True)
    assert len(frame) == len(lines) - 1 and report.skipped == 1


def test_truncated_json_line(tmp_path):
    p = _write(tmp_path, "t.jsonl", CHAT + "\n" + CHAT[:40] + "\n" + CHAT + "\n")
    with pytest.raises(SealError, match=r"line 2 is not valid JSON \(a truncated or malformed line\)"):
        read_requests(p)
    frame, report = read_requests(p, skip_bad=True)
    assert list(frame.index) == [1, 3] and report.skipped == 1
    assert report.examples == ["line 2: is not valid JSON (a truncated or malformed line)"]
    assert "1 bad rows skipped" in report.summary()


def test_non_utf8_bytes(tmp_path):
    bad = CHAT.replace("gpt-4o", "gpt-4o\xff").encode("latin-1")
    p = _write(tmp_path, "n.jsonl", CHAT.encode() + b"\n" + bad + b"\n" + CHAT.encode() + b"\n")
    with pytest.raises(SealError, match=r"line 2 is not valid UTF-8"):
        read_requests(p)
    frame, report = read_requests(p, skip_bad=True)
    assert len(frame) == 2 and report.skipped == 1 and "UTF-8" in report.examples[0]


def test_negative_absurd_and_non_numeric_tokens(tmp_path):
    rows = "model,input_tokens,output_tokens\nm,10,5\nm,-3,5\nm,10,99999999999\nm,ten,5\nm,7,1\n"
    p = _write(tmp_path, "v.csv", rows)
    with pytest.raises(SealError, match=r"line 3 has a bad value: input_tokens is negative \(-3\) \(2 more bad rows"):
        read_requests(p)
    frame, report = read_requests(p, skip_bad=True)
    assert list(frame.index) == [2, 6] and report.skipped == 3
    assert report.examples == [
        "line 3: input_tokens is negative (-3)",
        "line 4: output_tokens is 99999999999, more than 10,000,000 tokens per request",
        "line 5: input_tokens is not a number (ten)",
    ]


def test_failed_batch_request_is_a_bad_row(tmp_path):
    ok = (LOGS / "openai_batch_output.jsonl").read_text().splitlines()[0]
    failed = json.dumps({"id": "batch_req_1", "custom_id": "request-9", "response": {"status_code": 500, "body": {}},
                         "error": None})
    p = _write(tmp_path, "b.jsonl", ok + "\n" + failed + "\n")
    with pytest.raises(SealError, match=r"line 2 has a bad value: the batch request failed \(status_code 500\)"):
        read_requests(p)
    assert read_requests(p, skip_bad=True)[1].skipped == 1


def test_bad_timestamp(tmp_path):
    p = _write(tmp_path, "ts.csv", "model,input_tokens,output_tokens,timestamp\nm,1,1,yesterday-ish\n")
    with pytest.raises(SealError, match=r"line 2 has a bad value: timestamp is not a date-time \(yesterday-ish\)"):
        read_requests(p)


def test_missing_model_named_by_line(tmp_path):
    p = _write(tmp_path, "mm.csv", "model,input_tokens,output_tokens\nm,1,1\n,2,2\n")
    frame, _ = read_requests(p)
    with pytest.raises(SealError, match=r"line 3: no model"):
        prepare_requests(frame)
    assert prepare_requests(frame, model="llama")["model"].tolist() == ["m", "llama"]


def test_file_with_only_bad_rows(tmp_path):
    p = _write(tmp_path, "allbad.jsonl", CHAT[:30] + "\n")
    with pytest.raises(SealError):
        read_requests(p, skip_bad=True)


def test_ragged_csv_rows_named_and_skipped_with_exact_lines(tmp_path):
    p = _write(tmp_path, "r.csv", "model,input_tokens,output_tokens\nm,1,2\nm,3,4,5\nm,5,6\nm,3,4,5,6\nm,7,7\n")
    with pytest.raises(SealError, match=r"line 3 cannot be read as CSV \(Expected Number of Columns: 3 Found: 4\)"):
        read_requests(p)
    frame, report = read_requests(p, skip_bad=True)
    assert list(frame.index) == [2, 4, 6] and frame["input_tokens"].tolist() == [1, 5, 7]
    assert report.skipped == 2 and report.examples[1].startswith("line 5: cannot be read as CSV")


def test_non_utf8_skip_keeps_following_line_numbers(tmp_path):
    p = _write(tmp_path, "n.jsonl", CHAT.encode() + b"\n" + b'{"model": "\xff"}\n\n' + CHAT.encode() + b"\n")
    frame, report = read_requests(p, skip_bad=True)
    assert list(frame.index) == [1, 4] and report.examples == ["line 2: is not valid UTF-8 text"]


def test_csv_dialects(tmp_path):
    semi = _write(tmp_path, "s.csv", 'model;prompt_tokens;completion_tokens;note\nm;1;2;"a; b"\nm;3;4;"say ""hi"""\n')
    crlf = _write(tmp_path, "c.csv", "\ufeffmodel,tokens_in,tokens_out\r\nm,1,2\r\nm,3,4\r\n")
    for p in (semi, crlf):
        frame, _ = read_requests(p)
        assert frame["input_tokens"].tolist() == [1, 3] and frame["output_tokens"].tolist() == [2, 4]


def test_otlp_as_jsonl_and_openai_as_json_array(tmp_path):
    doc = json.loads((LOGS / "otlp_genai.json").read_text())
    p = _write(tmp_path, "o.jsonl", json.dumps(doc) + "\n" + json.dumps(doc) + "\n")
    frame, report = read_requests(p)
    assert list(frame.index) == [1, 1, 2, 2] and report.ignored == 2
    assert frame["input_tokens"].sum() == 2 * (512 + 2000)
    records = [json.loads(line) for line in (LOGS / "openai_chat.jsonl").read_text().splitlines() if line.strip()]
    p = _write(tmp_path, "a.json", json.dumps(records, indent=2))
    frame, report = read_requests(p)
    assert report.container == "json-array" and frame["output_tokens"].sum() == 10 + 1536 + 87


def test_compressed_file_is_refused(tmp_path):
    import gzip

    p = tmp_path / "x.jsonl.gz"
    p.write_bytes(gzip.compress(CHAT.encode()))
    with pytest.raises(SealError, match="compressed"):
        read_requests(p)


def test_every_table_alias_reaches_the_frame_engine_and_deployment_included(tmp_path):
    from seal.logs.formats import NUMBER_COLUMNS, STRING_COLUMNS, TABLE_ALIASES
    from seal.logs.read import read_requests

    read_by_sql = set(STRING_COLUMNS) | set(NUMBER_COLUMNS) | {"timestamp", "token_source", "source_format"}
    assert set(TABLE_ALIASES) <= read_by_sql          # an alias the reader then drops would be a silent loss
    log = tmp_path / "t.csv"
    log.write_text("params_b,input_tokens,output_tokens,engine,deployment\n8,10,20,vllm-2024,user:x\n")
    frame, _ = read_requests(log)
    assert frame[["engine", "deployment"]].iloc[0].tolist() == ["vllm-2024", "user:x"]
