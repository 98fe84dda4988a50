"""The Logs page with a table SEAL cannot map by itself and with models no catalogue knows (issue 16): an unmapped
table gets one error and a column mapping step, an unknown model's rows are set apart (a warning names it) and a
model mapping scores them too, and what was loaded before stays shown until a new read succeeds."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from seal.errors import SealError, UnmappedTable
from seal.ui import loaders
from seal.ui.format import fmt_count, fmt_mass

KNOWN = "gpt-4o"
UNKNOWN = "my-finetune"
LLAMA = "meta-llama/Meta-Llama-3.1-8B-Instruct"

UNMAPPED_CSV = (b"TIMESTAMP,Ctx,Gen,Model\n"
                b"2026-03-01T00:00:00Z,100,50,gpt-4o\n"
                b"2026-03-01T01:00:00Z,200,60,gpt-4o\n"
                b"2026-03-01T02:00:00Z,300,70,gpt-4o\n")
PARTIAL_CSV = (b"timestamp,model,input_tokens,output_tokens\n"
               b"2026-03-01T00:00:00Z,gpt-4o,100,50\n"
               b"2026-03-01T01:00:00Z,gpt-4o,200,60\n"
               b"2026-03-01T02:00:00Z,my-finetune,300,70\n")
ALL_UNKNOWN_CSV = (b"model,input_tokens,output_tokens\n"
                   b"my-finetune,100,50\n"
                   b"my-finetune,200,60\n")


def _good_csv(n: int) -> bytes:
    lines = ["timestamp,model,input_tokens,output_tokens"]
    lines += [f"2026-03-01T{i % 24:02d}:00:00Z,{LLAMA},{100 + i},{20 + i}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- loaders (no script run)
def test_summarize_log_reads_an_unmapped_table_with_a_column_mapping(tmp_path, clean_app):
    path = _write(tmp_path, "seal-upload-1.csv", UNMAPPED_CSV)
    with pytest.raises(UnmappedTable) as err:
        loaders.summarize_log(path, "calls.csv", {})
    assert err.value.columns == ["TIMESTAMP", "Ctx", "Gen", "Model"]
    assert str(path) not in str(err.value)
    columns = {"input_tokens": "Ctx", "output_tokens": "Gen"}
    log, line = loaders.summarize_log(path, "calls.csv", {}, columns=columns)
    assert log.requests == 3 and "3 requests scored from calls.csv" in line
    tot = log.totals()
    assert (tot["input_tokens"], tot["output_tokens"]) == (600, 180)
    assert log.column_mapping == columns and log.unknown_models == {} and not log.partial
    assert log.timestamps == 3                       # TIMESTAMP is still found by name
    assert log.grouped("model", top=None)["model"].tolist() == [KNOWN]


def test_summarize_log_sets_unknown_models_apart_and_a_model_map_scores_them(tmp_path, clean_app):
    path = _write(tmp_path, "seal-upload-2.csv", PARTIAL_CSV)
    log, line = loaders.summarize_log(path, "mixed.csv", {})
    assert log.requests == 2 and log.unknown_models == {UNKNOWN: 1} and log.partial and log.not_estimated == 1
    assert log.totals()["input_tokens"] == 300 and "PARTIAL" in line and UNKNOWN in line
    sized, line = loaders.summarize_log(path, "mixed.csv", {}, model_map={UNKNOWN: {"params_b": 8.0}})
    assert sized.requests == 3 and sized.unknown_models == {} and not sized.partial and "PARTIAL" not in line
    assert sized.model_map == {UNKNOWN: {"params_b": 8.0}} and sized.totals()["input_tokens"] == 600
    heavy = sized.heaviest()
    assert heavy.loc[heavy["input_tokens"] == 300, "params_b"].tolist() == [8.0]
    # the 8 B row adds CO2e to the two gpt-4o rows, which are unchanged
    assert sized.totals()["total_g_co2e"] > log.totals()["total_g_co2e"]
    by_model = sized.grouped("model", top=None).set_index("model")
    assert by_model.loc[KNOWN, "total_g_co2e"] == pytest.approx(log.totals()["total_g_co2e"], rel=1e-12)
    mapped, _ = loaders.summarize_log(path, "mixed.csv", {}, model_map={UNKNOWN: LLAMA})
    assert mapped.requests == 3 and mapped.unknown_models == {}
    assert set(mapped.grouped("model", top=None)["model"]) == {KNOWN, LLAMA}


def test_summarize_log_with_no_known_model_raises_with_the_unknown_models(tmp_path, clean_app):
    path = _write(tmp_path, "seal-upload-3.csv", ALL_UNKNOWN_CSV)
    with pytest.raises(loaders.NothingEstimated) as err:
        loaders.summarize_log(path, "only-mine.csv", {})
    assert isinstance(err.value, SealError) and err.value.unknown_models == {UNKNOWN: 2}
    assert "only-mine.csv" in str(err.value) and str(path) not in str(err.value)
    log, _ = loaders.summarize_log(path, "only-mine.csv", {}, model_map={UNKNOWN: {"params_b": 8.0}})
    assert log.requests == 2


def test_summarize_upload_caches_per_mapping(tmp_path, clean_app, monkeypatch):
    path = _write(tmp_path, "seal-upload-4.csv", PARTIAL_CSV)
    calls = []
    real = loaders.summarize_log
    monkeypatch.setattr(loaders, "summarize_log", lambda *a, **k: calls.append(k) or real(*a, **k))
    limits = loaders.UploadLimits()
    plain_read = loaders.summarize_upload("d1", "mixed.csv", (), limits, path)
    again = loaders.summarize_upload("d1", "mixed.csv", (), limits, path)
    mapped = loaders.summarize_upload("d1", "mixed.csv", (), limits, path, (),
                                      loaders.mapping_key({UNKNOWN: {"params_b": 8.0}}))
    assert len(calls) == 2 and again[0].requests == plain_read[0].requests == 2 and mapped[0].requests == 3
    assert calls[1]["model_map"] == {UNKNOWN: {"params_b": 8.0}}


def test_mapping_keys_are_hashable_order_free_and_round_trip():
    a = loaders.mapping_key({"b": {"params_b": 8.0, "precision": "fp8"}, "a": "gpt-4o"})
    b = loaders.mapping_key({"a": "gpt-4o", "b": {"precision": "fp8", "params_b": 8.0}})
    assert a == b and hash(a) == hash(b)
    assert a == (("a", "gpt-4o"), ("b", (("params_b", 8.0), ("precision", "fp8"))))
    assert loaders.mapping_from_key(a) == {"a": "gpt-4o", "b": {"params_b": 8.0, "precision": "fp8"}}
    assert loaders.mapping_key(None) == loaders.mapping_key({}) == ()


def test_cli_line_model_map_csv_and_the_other_mapping_helpers():
    line = loaders.cli_line("my calls.csv", {"region": "FRA", "batch_size": 64, "gpu": None},
                            {"input_tokens": "Ctx", "output_tokens": "Gen"}, "my-calls-model-map.csv")
    assert line == ("seal estimate --file 'my calls.csv' --region FRA --batch-size 64 "
                    "--columns input_tokens=Ctx,output_tokens=Gen --model-map my-calls-model-map.csv "
                    "--out scored.parquet")
    assert loaders.model_map_csv({UNKNOWN: {"params_b": 8.0}}) == b"log_model,params_b\nmy-finetune,8\n"
    assert loaders.model_map_csv({UNKNOWN: LLAMA}) == f"log_model,model\nmy-finetune,{LLAMA}\n".encode()
    assert loaders.model_map_csv({"a": "gpt-4o", "b,c": {"params_b": 1.5}}) == \
        b'log_model,model,params_b\na,gpt-4o,\n"b,c",,1.5\n'
    assert loaders.guess_column_mapping(["TIMESTAMP", "Ctx", "Gen", "Model"]) == {"model": "Model",
                                                                                  "timestamp": "TIMESTAMP"}
    assert not loaders.column_mapping_ready({"model": "Model"})
    assert loaders.column_mapping_ready({"output_tokens": "Gen"}) and loaders.column_mapping_ready({"prompt": "q"})
    many = {f"m{i}": i for i in range(1, 31)}
    offered = loaders.unknown_models_to_map({**many, "z": 30})
    assert len(offered) == 20 and offered[:3] == [("m30", 30), ("z", 30), ("m29", 29)]
    message = loaders.unmapped_message("calls.csv", ["TIMESTAMP", "Ctx", "Gen"])
    assert message == ("calls.csv is a table without a column SEAL recognises as token counts or prompt text (its "
                       "columns: TIMESTAMP, Ctx, Gen), so nothing was loaded from it: map its columns below.")
    assert [c for c, _l, _m in loaders.MAPPING_FIELDS] == ["input_tokens", "output_tokens", "model", "timestamp",
                                                          "prompt", "response", "user", "app", "latency_s"]


# ---------------------------------------------------------------- the Logs page (AppTest)
@pytest.fixture()
def app(logs_page):
    return logs_page


def _upload(at, name: str, data: bytes):
    at.file_uploader(key="logs_file").set_value((name, data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _errors(at) -> list[str]:
    return [e.value.replace("\\", "") for e in at.error]      # shown literally: Markdown characters escaped


def _warnings(at) -> list[str]:
    return [w.value.replace("\\", "") for w in at.warning]


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _selectbox(at, label: str):
    hits = [s for s in at.selectbox if s.label.replace("\\", "") == label]
    assert len(hits) == 1, [s.label for s in at.selectbox]
    return hits[0]


def _selectbox_starting(at, text: str):
    hits = [s for s in at.selectbox if s.label.replace("\\", "").startswith(text)]
    assert len(hits) == 1, [s.label for s in at.selectbox]
    return hits[0]


def _button(at, label: str):
    hits = [b for b in at.button if b.label == label]
    assert len(hits) == 1, [b.label for b in at.button]
    return hits[0]


def _code(at) -> list[str]:
    return [c.value for c in at.code]


def test_unmapped_table_shows_one_error_and_the_mapping_step_then_reads_with_the_mapping(app):
    _upload(app, "calls.csv", UNMAPPED_CSV)
    assert _errors(app) == [loaders.unmapped_message("calls.csv", ["TIMESTAMP", "Ctx", "Gen", "Model"])]
    assert "Requests" not in _metrics(app)                       # nothing loaded
    assert any(m.value == "**Map the file's columns**" for m in app.markdown)
    for label in ("Input tokens", "Output tokens", "Model", "Timestamp", "Prompt text", "Response text", "User",
                  "App", "Latency (s)"):
        assert list(_selectbox(app, label).options) == ["(none)", "TIMESTAMP", "Ctx", "Gen", "Model"], label
    assert _selectbox(app, "Input tokens").value == "(none)"
    assert _selectbox(app, "Timestamp").value == "TIMESTAMP" and _selectbox(app, "Model").value == "Model"
    assert any("Prompt (prefill) tokens per request" in c.value for c in app.caption)
    assert _button(app, "Read with this mapping").disabled      # no token or text column chosen yet

    _selectbox(app, "Input tokens").set_value("Ctx")
    _selectbox(app, "Output tokens").set_value("Gen")
    app.run()
    assert _errors(app) == [loaders.unmapped_message("calls.csv", ["TIMESTAMP", "Ctx", "Gen", "Model"])]
    assert not _button(app, "Read with this mapping").disabled
    assert ("seal estimate --file calls.csv --region WOR --batch-size 64 "
            "--columns input_tokens=Ctx,output_tokens=Gen,model=Model,timestamp=TIMESTAMP --out scored.parquet"
            ) in _code(app)

    _button(app, "Read with this mapping").click().run()
    assert not app.exception and _errors(app) == []
    metrics = _metrics(app)
    assert metrics["Requests"] == "3"
    assert metrics["Tokens"] == fmt_count(600 + 180)
    digest = hashlib.sha256(UNMAPPED_CSV).hexdigest()
    columns = {"input_tokens": "Ctx", "output_tokens": "Gen", "model": "Model", "timestamp": "TIMESTAMP"}
    assert app.session_state["logs_columns"] == {digest: columns}
    run = app.session_state["logs_run"]
    assert run["log"].column_mapping == columns and run["inputs"]["columns"] == columns
    assert "Columns read as: input_tokens ← Ctx, output_tokens ← Gen, model ← Model, timestamp ← TIMESTAMP." in \
        [c.value.replace("\\", "") for c in app.caption]
    assert list(run["log"].column_mapping) == ["input_tokens", "output_tokens", "model", "timestamp"]
    app.run()                                                    # a rerun keeps the log and the mapping
    assert _metrics(app)["Requests"] == "3" and _errors(app) == []
    assert _selectbox(app, "Input tokens").value == "Ctx"       # the mapping step stays, folded, to change it


def test_unknown_model_rows_are_set_apart_then_estimated_with_a_size(app, tmp_path):
    _upload(app, "mixed.csv", PARTIAL_CSV)
    assert _errors(app) == []
    assert _metrics(app)["Requests"] == "2"
    assert _metrics(app)["Tokens"] == fmt_count(300 + 110)     # the two gpt-4o rows only
    warnings = [w for w in _warnings(app) if UNKNOWN in w]
    assert len(warnings) == 1 and warnings[0].startswith("1 row of 1 unknown model not estimated: 'my-finetune'")
    assert "the figures below cover the 2 rows that were estimated" in warnings[0]
    model = _selectbox_starting(app, f"{UNKNOWN} (1 row)")
    assert model.value == loaders.SIZE_CHOICE and model.options[0] == loaders.SIZE_CHOICE
    assert len(model.options) > 100 and any(o.startswith(f"{LLAMA} · open · ") for o in model.options)
    assert _button(app, "Estimate these rows too").disabled

    size = [n for n in app.number_input if n.label == "Size (billions)"]
    assert len(size) == 1
    size[0].set_value(8.0).run()
    assert not _button(app, "Estimate these rows too").disabled
    assert [b.proto.label for b in app.get("download_button")].count("Model map (CSV)") == 1
    assert any("--model-map mixed-model-map.csv" in c for c in _code(app))

    _button(app, "Estimate these rows too").click().run()
    assert not app.exception and _errors(app) == []
    assert _metrics(app)["Requests"] == "3"
    assert _metrics(app)["Tokens"] == fmt_count(600 + 180)
    assert not [w for w in _warnings(app) if UNKNOWN in w]
    digest = hashlib.sha256(PARTIAL_CSV).hexdigest()
    assert app.session_state["logs_model_maps"] == {digest: {UNKNOWN: {"params_b": 8.0}}}
    expected, _ = loaders.summarize_log(_write(tmp_path, "x.csv", PARTIAL_CSV), "mixed.csv",
                                        {"region": "WOR", "batch_size": 64}, model_map={UNKNOWN: {"params_b": 8.0}})
    assert _metrics(app)["CO2e"] == fmt_mass(expected.totals()["total_g_co2e"])
    assert any(c.value.replace("\\", "") == "Models mapped: my-finetune → 8 B." for c in app.caption)
    assert app.session_state["logs_run"]["inputs"]["model_map"] == {UNKNOWN: {"params_b": 8.0}}


def test_unknown_model_mapped_to_a_catalogue_model(app):
    _upload(app, "mixed.csv", PARTIAL_CSV)
    _selectbox_starting(app, f"{UNKNOWN} (1 row)").set_value(LLAMA).run()
    _button(app, "Estimate these rows too").click().run()
    assert _errors(app) == [] and _metrics(app)["Requests"] == "3"
    by_model = app.session_state["logs_run"]["log"].grouped("model", top=None)
    assert dict(zip(by_model["model"], by_model["requests"])) == {KNOWN: 2, LLAMA: 1}


def test_a_log_of_unknown_models_only_is_an_error_with_the_model_mapping(app):
    _upload(app, "good.csv", _good_csv(4))
    assert _metrics(app)["Requests"] == "4"
    _upload(app, "only-mine.csv", ALL_UNKNOWN_CSV)
    errors = _errors(app)
    assert len(errors) == 1 and "no row could be estimated" in errors[0] and "'my-finetune' (2 rows)" in errors[0]
    assert _metrics(app)["Requests"] == "4"                      # still the previous log
    [size] = [n for n in app.number_input if n.label == "Size (billions)"]
    size.set_value(8.0).run()
    _button(app, "Estimate these rows too").click().run()
    assert _errors(app) == [] and _metrics(app)["Requests"] == "2"


def test_a_loaded_log_stays_while_a_later_upload_fails_and_a_rerun_does_not_read_it_again(app, monkeypatch):
    _upload(app, "good.csv", _good_csv(12))
    assert _metrics(app)["Requests"] == "12"
    calls = []
    real = loaders.summarize_log
    monkeypatch.setattr(loaders, "summarize_log", lambda *a, **k: calls.append(k) or real(*a, **k))
    _upload(app, "calls.csv", UNMAPPED_CSV)
    assert len(_errors(app)) == 1 and _metrics(app)["Requests"] == "12"
    assert any(c.value.replace("\\", "") == "Still showing the previously loaded log: good.csv." for c in app.caption)
    assert len(calls) == 1
    _selectbox(app, "Input tokens").set_value("Model").run()    # a rerun: the failure is shown, not read again
    assert len(calls) == 1 and len(_errors(app)) == 1 and _metrics(app)["Requests"] == "12"
    _button(app, "Read with this mapping").click().run()         # a text column as token counts: a bad row
    assert len(calls) == 2
    errors = _errors(app)
    assert len(errors) == 1 and "calls.csv" in errors[0] and "map its columns below" not in errors[0]
    assert _metrics(app)["Requests"] == "12"                     # still the previous log
    assert _selectbox(app, "Input tokens").value == "Model"      # the mapping step stays, with the mapping
    _selectbox(app, "Input tokens").set_value("Ctx")
    _selectbox(app, "Output tokens").set_value("Gen")
    app.run()
    _button(app, "Read with this mapping").click().run()
    assert _errors(app) == [] and _metrics(app)["Requests"] == "3" and len(calls) == 3


def test_a_scenario_file_brings_back_the_mappings_for_the_same_file(app):
    from seal.ui.export import scenario_to_json

    digest = hashlib.sha256(UNMAPPED_CSV).hexdigest()
    inputs = {"file": "calls.csv", "sha256": digest, "defaults": {"region": "FRA", "batch_size": 64},
              "columns": {"input_tokens": "Ctx", "output_tokens": "Gen"}, "model_map": {KNOWN: LLAMA}}
    app.file_uploader(key="logs_scenario_file").set_value(
        ("scenario.json", scenario_to_json("Logs", inputs), "application/json")).run()
    assert not app.exception and _errors(app) == []
    _upload(app, "calls.csv", UNMAPPED_CSV)
    assert _errors(app) == [] and _metrics(app)["Requests"] == "3"
    run = app.session_state["logs_run"]
    assert run["inputs"] == {"file": "calls.csv", "sha256": digest,
                             "defaults": {"model": None, "gpu": None, "region": "FRA", "batch_size": 64,
                                          "engine": None},
                             "columns": {"input_tokens": "Ctx", "output_tokens": "Gen"}, "model_map": {KNOWN: LLAMA}}
    assert run["log"].grouped("model", top=None)["model"].tolist() == [LLAMA]
