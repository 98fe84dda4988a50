"""The request logs people really have (``../shared/data/real-logs``: recorded API responses, documented examples,
real Langfuse trace downloads, vLLM batch output, a production trace) are read with the model calls and token sums
their own usage fields give (``expected.json``), and the shapes around them (streams, roll-ups, column mapping,
embeddings, unknown models) behave as documented."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from seal.errors import SealError, UnmappedTable
from seal.logs import read_requests
from _paths import REPO

# every file of ../shared/data/real-logs (PROVENANCE.md names each one's origin and licence)
REAL_LOGS = (
    "azure_llm_trace_conv.csv", "batch_openai_guide.jsonl", "batch_openai_reference.jsonl",
    "batch_vllm_results.jsonl", "chat_cassettes.jsonl", "chat_cassettes_array.json", "chat_openapi_default.json",
    "chat_openrouter_reasoning.json", "chat_single.json", "chat_stored_list.json", "chat_stream_chunks.jsonl",
    "embeddings_cassettes.jsonl", "langfuse_api_data_openai_agents.json", "langfuse_api_trace_xinference.json",
    "langfuse_obs_claude_agent.jsonl", "langfuse_obs_openai_agents.json", "langfuse_trace_claude_agent.json",
    "langfuse_trace_openai_agents.json", "langfuse_trace_pydantic_ai.json", "litellm_gcs_doc.json",
    "litellm_spend_logs_as_array.json", "litellm_spend_logs_payload.json", "ollama_generate.json",
    "otlp_langsmith_doc.json", "otlp_spec_example.jsonl", "responses_cassettes.jsonl",
    "responses_openapi_reasoning.json", "responses_openapi_text.json",
)
# the format each file is read as (the summary line names it)
FORMATS = {
    "azure_llm_trace_conv.csv": "table", "batch_vllm_results.jsonl": "openai-batch",
    "chat_stream_chunks.jsonl": "openai-stream", "embeddings_cassettes.jsonl": "openai-embeddings",
    "responses_cassettes.jsonl": "openai-responses", "responses_openapi_text.json": "openai-responses",
    "langfuse_trace_claude_agent.json": "langfuse", "langfuse_api_trace_xinference.json": "langfuse",
    "langfuse_obs_openai_agents.json": "langfuse", "ollama_generate.json": "ollama",
    "chat_openrouter_reasoning.json": "openai-chat",
}


@pytest.fixture(scope="module")
def real_logs(shared_data):
    return shared_data / "real-logs"


@pytest.fixture(scope="module")
def expected(real_logs):
    return json.loads((real_logs / "expected.json").read_text())


def test_every_real_log_is_covered(real_logs, expected):
    assert len(REAL_LOGS) == 28
    assert set(expected) == set(REAL_LOGS)
    assert {p.name for p in real_logs.iterdir()} - {"PROVENANCE.md", "expected.json"} == set(REAL_LOGS)


@pytest.mark.parametrize("name", REAL_LOGS)
def test_real_log_calls_and_token_sums(real_logs, expected, name):
    want = expected[name]
    if want["calls"] == 0:        # the OTLP specification's example holds no GenAI span: a clear refusal
        with pytest.raises(SealError, match=r"holds no model requests \(8 spans that are not GenAI model calls"):
            read_requests(real_logs / name)
        return
    frame, report = read_requests(real_logs / name)
    assert (len(frame), int(frame["input_tokens"].sum()), int(frame["output_tokens"].sum())) == \
        (want["calls"], want["in"], want["out"])
    assert report.rows == want["calls"] and report.skipped == 0
    models = sorted({"None" if pd.isna(m) else str(m) for m in frame["model"]})
    assert models == sorted(want["models"])
    assert (frame["token_source"] == "log").all()
    if name in FORMATS:
        assert report.source_format == FORMATS[name]


def test_langfuse_agent_traces_count_model_calls_once_and_ignore_the_rest(real_logs):
    frame, report = read_requests(real_logs / "langfuse_trace_openai_agents.json")
    # AGENT, AGENT, TOOL ignored; the two GENERATIONs are the calls, each with its own usage
    assert report.ignored == 3 and "not model calls" in report.summary()
    assert frame["input_tokens"].tolist() == [85, 55] and frame["output_tokens"].tolist() == [29, 15]
    assert (frame["call_type"] == "chat").all()
    # the observations list inside "trace" repeats the top-level one: read once, not twice
    assert report.rows == 2


def test_langfuse_parent_generation_that_rolls_up_its_children_is_not_counted_twice(tmp_path):
    def obs(i, parent, kind, usage=None, model="gpt-4o"):
        return {"id": i, "traceId": "t", "parentObservationId": parent, "type": kind, "model": model,
                "startTime": "2025-01-01T00:00:00Z", "usageDetails": usage or {}}

    rows = [obs("root", None, "AGENT", model=None),
            obs("chain", "root", "GENERATION", {"input": 30, "output": 12}),      # a framework's roll-up
            obs("step", "chain", "SPAN", model=None),
            obs("g1", "step", "GENERATION", {"input": 10, "output": 5}),
            obs("g2", "chain", "GENERATION", {"input": 20, "output": 7}),
            obs("emb", "root", "EMBEDDING", {"input": 9}, model="text-embedding-3-small"),
            obs("g3", "root", "GENERATION", {"input": 4, "output": 4})]
    path = tmp_path / "obs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    frame, report = read_requests(path)
    assert sorted(frame["request_id"]) == ["emb", "g1", "g2", "g3"]
    assert int(frame["input_tokens"].sum()) == 10 + 20 + 9 + 4
    assert report.ignored == 3                              # AGENT, SPAN and the roll-up
    assert frame.set_index("request_id").loc["emb", "call_type"] == "embedding"


def test_langfuse_v2_observations_name_the_model_in_provided_model_name(tmp_path):
    rec = {"id": "o1", "traceId": "t1", "type": "GENERATION", "providedModelName": "gpt-4o-mini",
           "startTime": "2025-01-01T00:00:00Z", "usageDetails": {"input": 7, "output": 3}}
    path = tmp_path / "v2.json"
    path.write_text(json.dumps({"data": [rec], "meta": {"cursor": None}}))
    frame, _ = read_requests(path)
    assert frame["model"].tolist() == ["gpt-4o-mini"] and frame["input_tokens"].tolist() == [7]


def test_streams_as_server_sent_events_group_by_completion(tmp_path):
    chunk = lambda i, text=None, usage=None: "data: " + json.dumps(  # noqa: E731
        {"id": i, "object": "chat.completion.chunk", "created": 1731368639, "model": "gpt-4o",
         "choices": [] if text is None else [{"index": 0, "delta": {"content": text}}], "usage": usage})
    lines = ["event: message", chunk("a", "Hello"), "", chunk("b", "Hi"), chunk("a", " there, friend"),
             chunk("a", usage={"prompt_tokens": 11, "completion_tokens": 4}), ": keep-alive",
             chunk("b", " you"), "data: [DONE]"]
    path = tmp_path / "stream.txt"
    path.write_text("\n".join(lines) + "\n")
    frame, report = read_requests(path)
    assert report.source_format == "openai-stream" and report.container == "sse"
    assert frame["request_id"].tolist() == ["a", "b"]
    assert frame.index.tolist() == [2, 4]                   # each completion at its first chunk's line
    a, b = frame.iloc[0], frame.iloc[1]
    assert (a["input_tokens"], a["output_tokens"], a["token_source"]) == (11, 4, "log")
    assert a["response"] == "Hello there, friend"
    # no usage logged: the deltas' text is the response, counted with a tokenizer (labelled) when estimated
    assert pd.isna(b["input_tokens"]) and pd.isna(b["output_tokens"]) and b["response"] == "Hi you"
    from seal.logs import prepare_requests

    prepared = prepare_requests(frame.iloc[[1]], input_tokens=5)
    assert prepared["output_tokens"].iloc[0] == 2
    assert prepared["token_source"].iloc[0].startswith("user+tokenizer:")
    assert "estimated-tokens" in prepared["warnings"].iloc[0]


def test_vllm_batch_output_reads_the_completion_in_response(real_logs):
    frame, _ = read_requests(real_logs / "batch_vllm_results.jsonl")
    assert frame["request_id"].tolist() == ["request-1", "request-2"]
    assert frame["input_tokens"].tolist() == [25, 27] and frame["output_tokens"].tolist() == [31, 5]


def test_azure_trace_columns_are_recognised_and_the_whole_trace_scores(real_logs, tmp_path):
    from seal.stream import estimate_file

    out = tmp_path / "azure.parquet"
    summary = estimate_file(real_logs / "azure_llm_trace_conv.csv", out=out, progress=False,
                            defaults={"model": "meta-llama/Meta-Llama-3.1-70B-Instruct", "gpu": "H100", "region": "US"})
    assert summary.startswith("19,366 requests scored from azure_llm_trace_conv.csv (table)") and not summary.partial
    res = pd.read_parquet(out)
    assert len(res) == 19366 and int(res["input_tokens"].sum()) == 22361870
    assert int(res["output_tokens"].sum()) == 4088665
    assert res["timestamp"].min() == pd.Timestamp("2023-11-16 18:15:46.680590", tz="UTC")
    assert (res["gpu_energy_j"] > 0).all() and np.isfinite(res["total_g_co2e"]).all()
    # energy grows with the tokens a request carries
    big = res["input_tokens"] + res["output_tokens"] > (res["input_tokens"] + res["output_tokens"]).median()
    assert res.loc[big, "gpu_energy_j"].mean() > 2 * res.loc[~big, "gpu_energy_j"].mean()


def test_explicit_column_mapping(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("when,Ctx,Gen,who\n2025-01-01T00:00:00Z,100,20,ana\n2025-01-01T00:01:00Z,50,5,bo\n")
    with pytest.raises(UnmappedTable) as info:
        read_requests(path)
    assert info.value.columns == ["when", "Ctx", "Gen", "who"] and "--columns" in str(info.value)
    frame, _ = read_requests(path, columns="input_tokens=Ctx,output_tokens=Gen,timestamp=when,user=who")
    assert frame["input_tokens"].tolist() == [100, 50] and frame["user"].tolist() == ["ana", "bo"]
    assert frame["timestamp"].iloc[1] == pd.Timestamp("2025-01-01T00:01:00Z")
    # a mapping overrides an alias of the same column
    path2 = tmp_path / "t2.csv"
    path2.write_text("input_tokens,real_in,output_tokens\n1,100,3\n")
    frame, _ = read_requests(path2, columns={"input_tokens": "real_in"})
    assert frame["input_tokens"].tolist() == [100] and frame["output_tokens"].tolist() == [3]
    with pytest.raises(SealError, match=r"no such column; its columns are when, Ctx, Gen, who"):
        read_requests(path, columns="input_tokens=Context")
    with pytest.raises(SealError, match=r"Unknown column 'tokens' in the column mapping; accepted: request_id"):
        read_requests(path, columns="tokens=Ctx")
    with pytest.raises(SealError, match=r"has no file column"):
        read_requests(path, columns="input_tokens")


def test_column_mapping_is_refused_for_a_log_of_a_known_format(real_logs):
    with pytest.raises(SealError, match=r"A column mapping applies to tables of requests, but .* holds an OpenAI"):
        read_requests(real_logs / "chat_single.json", columns="input_tokens=x")


@pytest.mark.parametrize("header", ["ContextTokens,GeneratedTokens", "prompt_eval_count,eval_count",
                                    "Prompt Tokens,Completion Tokens", "promptTokens,completionTokens",
                                    "n_input_tokens,n_output_tokens", "native_tokens_prompt,native_tokens_completion"])
def test_column_aliases_in_any_spelling(tmp_path, header):
    path = tmp_path / "a.csv"
    path.write_text(f"model,{header}\ngpt-4o,12,34\n")
    frame, _ = read_requests(path)
    assert (frame["input_tokens"].iloc[0], frame["output_tokens"].iloc[0]) == (12, 34)


def test_ollama_response_durations(real_logs):
    frame, report = read_requests(real_logs / "ollama_generate.json")
    assert report.source_format == "ollama"
    assert frame["latency_s"].iloc[0] == pytest.approx(5.0435, abs=1e-4)          # total_duration, ns
    assert frame["ttft_s"].iloc[0] == pytest.approx(0.3310, abs=1e-4)             # load + prompt eval, ns


def test_embeddings_are_prefill_only_and_labelled(real_logs):
    import seal

    frame, _ = read_requests(real_logs / "embeddings_cassettes.jsonl")
    assert (frame["call_type"] == "embedding").all()
    res = seal.estimate(frame, params_b=0.3)
    assert (res["output_tokens"] == 0).all() and (res["decode_energy_j"] == 0).all()
    assert (res["prefill_energy_j"] > 0).all()
    assert res["warnings"].str.contains("embedding-call").all()
    assert not res["warnings"].str.contains("default-output-tokens").any()
    with pytest.raises(SealError, match=r"an embedding call has no output tokens \(got 215\)"):
        seal.estimate(pd.DataFrame({"model": ["gpt-4o"], "input_tokens": [5], "output_tokens": [215],
                                    "call_type": ["embeddings"]}))
    with pytest.raises(SealError, match=r"unknown call_type 'image'; accepted: chat, embedding"):
        seal.estimate(pd.DataFrame({"model": ["gpt-4o"], "input_tokens": [5], "call_type": ["image"]}))


def test_an_unknown_model_never_stops_a_file(tmp_path, capsys):
    from seal.cli import EXIT_PARTIAL, main

    path = tmp_path / "mixed.csv"
    path.write_text("model,input_tokens,output_tokens\ngpt-4o,10,20\nmy-finetune,5,5\ngpt-4o,1,2\n"
                    "my-finetune,3,3\nother-thing,1,1\n")
    out = tmp_path / "o.csv"
    assert main(["estimate", "--file", str(path), "--out", str(out), "--quiet"]) == EXIT_PARTIAL == 3
    err = capsys.readouterr().err
    assert "PARTIAL: 3 rows of 2 unknown models not estimated: 'my-finetune' (2 rows), 'other-thing' (1 row)" in err
    assert "--model-map FILE" in err
    assert "5 records read = 2 scored + 0 skipped + 0 ignored + 3 not estimated" in err
    assert pd.read_csv(out)["line"].tolist() == [2, 4]
    # a size for the unknown ones: everything is estimated, exit 0
    assert main(["estimate", "--file", str(path), "--out", str(out), "--quiet", "--params-b", "8"]) == 0
    assert len(pd.read_csv(out)) == 5
    # nothing estimable at all: an error naming the models, nothing written
    only = tmp_path / "only.csv"
    only.write_text("model,input_tokens,output_tokens\nmy-finetune,5,5\n")
    assert main(["estimate", "--file", str(only), "--out", str(tmp_path / "x.csv"), "--quiet"]) == 2
    assert "no row could be estimated: 1 row of 1 unknown model not estimated: 'my-finetune'" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_model_map_dict_fills_sizes_and_renames(tmp_path):
    import seal

    frame = pd.DataFrame({"model": ["my-finetune", "My-Finetune ", "house-model", "gpt-4o"],
                          "input_tokens": [10, 10, 10, 10], "output_tokens": [5, 5, 5, 5]})
    res = seal.estimate(frame, model_map={"my-finetune": {"params_b": 8.0}, "house-model": "gpt-4o"})
    assert res["params_b"].tolist()[:2] == [8.0, 8.0]
    assert res["model"].tolist()[2] == "gpt-4o" and res["model_as_logged"].tolist()[2] == "house-model"
    assert res["gpu_energy_j"].iloc[2] == pytest.approx(res["gpu_energy_j"].iloc[3])


# documented response shapes of other providers (https://docs.anthropic.com/en/api/messages,
# https://docs.anthropic.com/en/api/retrieving-message-batch-results, https://ai.google.dev/api/generate-content,
# Vertex AI batch prediction output), written here with made-up values
PROVIDER_SHAPES = {
    "anthropic": ({"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
                   "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn",
                   "usage": {"input_tokens": 10, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 1000,
                             "output_tokens": 25}}, (1210, 25, 1000)),
    "anthropic-batch": ({"custom_id": "req-1", "result": {"type": "succeeded", "message": {
        "id": "msg_1", "type": "message", "model": "claude-haiku-4-5-20251001",
        "usage": {"input_tokens": 5, "output_tokens": 7}}}}, (5, 7, None)),
    "gemini": ({"candidates": [{"content": {"parts": [{"text": "x"}]}}], "modelVersion": "gemini-2.5-flash",
                "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 30, "thoughtsTokenCount": 100,
                                  "totalTokenCount": 142}, "responseId": "abc"}, (12, 130, None)),
    "gemini-batch": ({"status": "", "request": {"contents": []}, "response": {
        "candidates": [], "modelVersion": "gemini-2.0-flash-001",
        "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 9, "totalTokenCount": 17}}}, (8, 9, None)),
}


@pytest.mark.parametrize("fmt", sorted(PROVIDER_SHAPES))
def test_other_providers_responses(tmp_path, fmt):
    record, (inp, out, cached) = PROVIDER_SHAPES[fmt]
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    frame, report = read_requests(path)
    assert report.source_format == fmt and len(frame) == 2
    assert frame["input_tokens"].tolist() == [inp, inp] and frame["output_tokens"].tolist() == [out, out]
    if cached is not None:
        assert frame["cached_input_tokens"].tolist() == [cached, cached]


def test_failed_anthropic_batch_results_are_bad_rows(tmp_path):
    ok, _ = PROVIDER_SHAPES["anthropic-batch"]
    failed = {"custom_id": "req-2", "result": {"type": "errored", "error": {"type": "invalid_request_error"}}}
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(ok) + "\n" + json.dumps(failed) + "\n")
    with pytest.raises(SealError, match=r"line 2 has a bad value: the batch request did not succeed \(errored\)"):
        read_requests(path)
    frame, report = read_requests(path, skip_bad=True)
    assert len(frame) == 1 and report.skipped == 1


def test_readme_lists_every_column_alias_and_format():
    from seal.logs.formats import FORMATS, TABLE_ALIASES, TABLE_END_ALIASES, TABLE_MS_ALIASES

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Column names and `--columns`"):readme.index("### Embeddings")]
    for aliases in (*TABLE_ALIASES.values(), *TABLE_MS_ALIASES.values(), TABLE_END_ALIASES):
        for alias in aliases:
            assert f"`{alias}`" in section, alias
    for name in (*FORMATS, "openai-responses", "openai-embeddings", "ollama", "table"):
        assert f"`{name}`" in readme, name


def test_model_map_file_from_the_cli_and_from_the_app(tmp_path, capsys):
    from seal.cli import main
    from seal.data.aliases import read_model_map
    from seal.ui.loaders import model_map_csv

    log = tmp_path / "mixed.csv"
    log.write_text("model,input_tokens,output_tokens\ngpt-4o,10,20\nmy-finetune,5,5\nhouse-gpt,1,2\n")
    mapping = tmp_path / "models.csv"
    mapping.write_text("log_model,model,params_b\nmy-finetune,,8\nhouse-gpt,gpt-4o,\n")
    out = tmp_path / "o.csv"
    assert main(["estimate", "--file", str(log), "--out", str(out), "--quiet", "--model-map", str(mapping)]) == 0
    res = pd.read_csv(out)
    assert res["params_b"].tolist()[1] == 8 and res["model"].tolist()[2] == "gpt-4o"
    assert res["model_as_logged"].tolist()[2] == "house-gpt" and "model-map" in res["warnings"].iloc[2]
    assert res["resolution"].tolist() == ["exact", "params_b", "exact"]
    # the file the app's Logs page offers for download reads back as the same map
    app_csv = tmp_path / "app-map.csv"
    app_csv.write_bytes(model_map_csv({"my-finetune": {"params_b": 8.0}, "house-gpt": "gpt-4o"}))
    assert read_model_map(app_csv) == read_model_map(mapping)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,size\nx,8\n")
    assert main(["estimate", "--file", str(log), "--quiet", "--model-map", str(bad)]) == 2
    assert "has unknown column(s) 'name', 'size'" in capsys.readouterr().err


# ---------------------------------------------------------------- shapes an independent review tried
def _jsonl(tmp_path, name, records):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_langfuse_details_that_are_parts_of_input_are_not_added_twice(tmp_path):
    # OpenInference keys (the OpenAI Agents SDK): cache reads and reasoning are parts of input / output, total says so
    parts = {"id": "g1", "traceId": "t", "type": "GENERATION", "model": "gpt-4.1",
             "usageDetails": {"input": 1000, "output": 300, "total": 1300, "prompt_details.cache_read": 800,
                              "completion_details.reasoning": 250}}
    # Langfuse's own keys are kept apart from input / output (its SDK subtracts them): added back
    apart = {"id": "g2", "traceId": "t", "type": "GENERATION", "model": "gpt-4.1",
             "usageDetails": {"input": 200, "output": 50, "input_cached_tokens": 800, "output_reasoning_tokens": 250,
                              "total": 1300}}
    frame, _ = read_requests(_jsonl(tmp_path, "lf.jsonl", [parts, apart]))
    assert frame["input_tokens"].tolist() == [1000, 1000] and frame["output_tokens"].tolist() == [300, 300]
    assert frame["cached_input_tokens"].tolist() == [800, 800] and frame["reasoning_tokens"].tolist() == [250, 250]


def test_langfuse_parent_with_usage_of_its_own_is_a_call(tmp_path):
    rows = [{"id": "g1", "traceId": "t", "type": "GENERATION", "model": "gpt-4o",
             "usageDetails": {"input": 500, "output": 200}},
            {"id": "e1", "traceId": "t", "type": "EMBEDDING", "model": "text-embedding-3-small",
             "parentObservationId": "g1", "usageDetails": {"input": 30}},
            {"id": "g2", "traceId": "t", "type": "GENERATION", "model": "gpt-4o", "parentObservationId": "g1",
             "usageDetails": {"input": 10, "output": 5}}]
    frame, report = read_requests(_jsonl(tmp_path, "lf.jsonl", rows))
    assert sorted(frame["request_id"]) == ["e1", "g1", "g2"] and report.ignored == 0


def test_streams_that_reuse_ids_and_azure_filter_chunks(tmp_path):
    chunk = lambda text=None, usage=None, created=1700000000: {  # noqa: E731
        "id": "chatcmpl-42", "object": "chat.completion.chunk", "created": created, "model": "llama3.2",
        "choices": [] if text is None else [{"index": 0, "delta": {"content": text}}], "usage": usage}
    path = _jsonl(tmp_path, "ollama.jsonl", [chunk("A"), chunk(usage={"prompt_tokens": 500, "completion_tokens": 100}),
                                             chunk("B", created=1700000900),
                                             chunk(usage={"prompt_tokens": 20, "completion_tokens": 5})])
    frame, _ = read_requests(path)
    assert frame["input_tokens"].tolist() == [500, 20] and frame["response"].tolist() == ["A", "B"]
    azure = tmp_path / "azure.sse"
    azure.write_text(
        'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0}]}'
        '\n\ndata: {"choices":[{"delta":{"content":"Hi"},"index":0}],"created":1700000000,"id":"c1",'
        '"model":"gpt-4o-2024-08-06","object":"chat.completion.chunk"}\n\ndata: {"choices":[],"created":1700000000,'
        '"id":"c1","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","usage":{"completion_tokens":1,'
        '"prompt_tokens":9}}\n\ndata: [DONE]\n')
    frame, report = read_requests(azure)
    assert frame["input_tokens"].tolist() == [9] and report.ignored == 1 and "prompt-filter" in report.summary()


def test_tables_are_not_taken_for_batch_or_langfuse_records(tmp_path):
    table = _jsonl(tmp_path, "t.jsonl", [{"custom_id": "q1", "model": "gpt-4o", "prompt": "Hello",
                                          "response": "Hi there", "input_tokens": 12, "output_tokens": 4}])
    frame, report = read_requests(table)
    assert report.source_format == "table" and frame["input_tokens"].tolist() == [12]
    typed = _jsonl(tmp_path, "u.jsonl", [{"id": "r1", "traceId": "abc", "type": "LLM", "model": "gpt-4o",
                                          "input_tokens": 100, "output_tokens": 20}])
    frame, report = read_requests(typed)
    assert report.source_format == "table" and frame["output_tokens"].tolist() == [20]


def test_embeddings_by_litellm_csv_ollama_embed_and_model_name(tmp_path):
    import seal

    csv = tmp_path / "spend.csv"
    csv.write_text("request_id,call_type,model,prompt_tokens,completion_tokens,startTime\n"
                   "r1,aembedding,text-embedding-3-small,40,,2025-01-01T00:00:00Z\n"
                   "r2,acompletion,gpt-4o,40,12,2025-01-01T00:00:01Z\n")
    frame, report = read_requests(csv)
    assert report.source_format == "litellm" and frame["call_type"].tolist() == ["embedding", "chat"]
    embed = tmp_path / "embed.json"
    embed.write_text(json.dumps({"model": "all-minilm", "embeddings": [[0.01, 0.02]], "total_duration": 14143917,
                                 "load_duration": 1019500, "prompt_eval_count": 8}))
    frame, report = read_requests(embed)
    assert report.source_format == "ollama" and frame["call_type"].tolist() == ["embedding"]
    named = seal.estimate(pd.DataFrame({"model": ["text-embedding-3-small", "nomic-embed-text", "gpt-4o"],
                                        "input_tokens": [40, 10, 5]}), params_b=0.3)
    assert named["call_type"].tolist() == ["embedding", "embedding", "chat"]
    assert named["output_tokens"].tolist() == [0, 0, 215]


def test_call_type_problems_are_bad_rows_that_skip_bad_skips(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("model,call_type,input_tokens,output_tokens\ngpt-4o,chat,100,50\ngpt-4o,embedding,100,5\n"
                    "gpt-4o,rerank,1,1\n")
    with pytest.raises(SealError, match=r"line 3 has a bad value: an embedding call has no output tokens \(got 5\)"):
        read_requests(path)
    frame, report = read_requests(path, skip_bad=True)
    assert len(frame) == 1 and report.skipped == 2
    assert "unknown call_type 'rerank' (accepted: chat, embedding)" in " ".join(report.examples)


def test_flat_json_records_with_unknown_names_offer_the_mapping(tmp_path):
    path = _jsonl(tmp_path, "e.jsonl", [{"when": "2024-01-01T00:00:00Z", "ctx": 100, "gen": 20, "deployment": "gpt-4o"}])
    with pytest.raises(UnmappedTable) as info:
        read_requests(path)
    assert info.value.columns == ["when", "ctx", "gen", "deployment"]
    frame, _ = read_requests(path, columns="input_tokens=ctx,output_tokens=gen,model=deployment")
    assert frame["model"].tolist() == ["gpt-4o"]


def test_column_mapping_edges(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('"Tokens, in","Ctx ""in""",out\n7,8,9\n')
    frame, _ = read_requests(path, columns='input_tokens="Tokens, in",output_tokens=out')
    assert frame["input_tokens"].tolist() == [7]
    frame, _ = read_requests(path, columns={"input_tokens": 'Ctx "in"', "output_tokens": "out"})
    assert frame["input_tokens"].tolist() == [8]
    with pytest.raises(SealError, match=r"reads the file column 'out' as both input_tokens and output_tokens"):
        read_requests(path, columns="input_tokens=out,output_tokens=out")
    with pytest.raises(SealError, match=r"names input_tokens twice"):
        read_requests(path, columns="input_tokens=out,input_tokens=x")


def test_several_files_one_without_any_known_model_is_partial(tmp_path, capsys):
    from seal.cli import main

    good, unknown = tmp_path / "a.csv", tmp_path / "b.csv"
    good.write_text("model,input_tokens,output_tokens\ngpt-4o,10,20\n")
    unknown.write_text("model,input_tokens,output_tokens\nmy-x,10,20\n")
    out = tmp_path / "o.csv"
    assert main(["estimate", "--file", str(good), "--file", str(unknown), "--out", str(out), "--quiet"]) == 3
    assert len(pd.read_csv(out)) == 1 and "'my-x' (1 row)" in capsys.readouterr().err
    assert main(["estimate", "--file", str(unknown), "--file", str(unknown.with_name("c.csv")), "--quiet"]) == 2
    unknown.with_name("c.csv").write_text(unknown.read_text())
    assert main(["estimate", "--file", str(unknown), "--file", str(unknown.with_name("c.csv")),
                 "--out", str(tmp_path / "none.csv"), "--quiet"]) == 2
    assert "No row of the 2 files could be estimated" in capsys.readouterr().err
    assert not (tmp_path / "none.csv").exists()


def test_a_model_map_target_that_is_unknown_is_named_as_logged(tmp_path, capsys):
    from seal.cli import main

    log = tmp_path / "c.csv"
    log.write_text("model,input_tokens,output_tokens\nmy-custom-ft,1,1\ngpt-4o,1,1\n")
    mapping = tmp_path / "m.csv"
    mapping.write_text("log_model,model\nmy-custom-ft,not-a-model-xyz\n")
    assert main(["estimate", "--file", str(log), "--model-map", str(mapping), "--quiet",
                 "--out", str(tmp_path / "o.csv")]) == 3
    assert "'my-custom-ft (mapped to not-a-model-xyz)' (1 row)" in capsys.readouterr().err


@pytest.mark.parametrize("name, size", [("DeepSeek-R1", 671.0), ("deepseek-ai/DeepSeek-R1", 671.0),
                                        ("deepseek-r1", 8.19), ("deepseek/deepseek-r1:free", 671.0),
                                        ("mistral-medium-2505", 128.0), ("deepseek-v3", 671.0)])
def test_names_the_review_found_mis_sized(name, size):
    from seal.data.catalogue import resolve_models

    assert resolve_models(pd.Series([name]))["params_b"].iloc[0] == pytest.approx(size)
