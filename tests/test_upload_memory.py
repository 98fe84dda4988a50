"""Uploads on the Logs page in bounded memory (issue 12): the batch-by-batch :class:`seal.summary.LogSummary` equals
the whole-frame aggregates, its sample stays capped, the deployment's limits stop an upload with one sentence, and
the page keeps only the summary (never the full frame) in the session."""
from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd
import pytest

from seal.errors import SealError
from seal.summary import LogSummary
from seal.ui import aggregate
from _paths import APP

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
MODELS = (MODEL, "gpt-4o-mini", "mistralai/Mistral-7B-Instruct-v0.3")
N_ROWS = 1_500


def _requests(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` requests with timestamps over three days, 3 models, 3 apps, 40 users (tokens given: no tokenizer)."""
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 3 * 86_400, n), unit="s")
    frame = pd.DataFrame({
        "request_id": [f"r{i}" for i in range(n)],
        "timestamp": ts,
        "model": [MODELS[i % 3] for i in range(n)],
        "input_tokens": rng.integers(10, 4_000, n),
        "output_tokens": rng.integers(1, 1_000, n),
        "app": [("chat", "search", "")[i % 3] for i in range(n)],
        "user": [f"u{int(u)}" for u in rng.integers(0, 40, n)],
    })
    frame.loc[frame.index % 50 == 0, "timestamp"] = pd.NaT   # a few requests without a time
    frame.loc[frame.index % 11 == 0, "user"] = None           # and without a user: the "(none)" group
    return frame


@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    from seal.api import estimate

    return estimate(_requests(N_ROWS), region="FRA")


def _batches(frame: pd.DataFrame, sizes=(1, 7, 500)) -> list[pd.DataFrame]:
    """``frame`` cut into batches of ``sizes`` and then the rest (uneven on purpose)."""
    cuts = np.cumsum(sizes)
    return [frame.iloc[a:b] for a, b in zip([0, *cuts], [*cuts, len(frame)])]


def _assert_same_numbers(left: pd.DataFrame, right: pd.DataFrame, key: str) -> None:
    """Same rows (by ``key``) and the same values: integer columns exactly, float sums to rounding."""
    a, b = left.set_index(key).sort_index(), right.set_index(key).sort_index()
    assert list(a.index) == list(b.index)
    assert set(a.columns) == set(b.columns)
    for col in a.columns:
        x, y = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
        if col in ("requests", "input_tokens", "output_tokens"):
            assert np.array_equal(x, y, equal_nan=True), col
        else:
            np.testing.assert_allclose(x, y, rtol=1e-12, equal_nan=True, err_msg=col)


# ---------------------------------------------------------------- LogSummary against the whole frame
def test_summary_of_batches_equals_the_whole_frame_aggregates(scored):
    log = LogSummary.of(_batches(scored))
    whole = aggregate.totals(scored)
    got = log.totals()
    assert got.keys() == whole.keys()
    for col in ("requests", "input_tokens", "output_tokens"):
        assert got[col] == whole[col]               # integer-valued: exact
    for col in whole:
        assert got[col] == pytest.approx(whole[col], rel=1e-12, nan_ok=True), col
    for by in ("model", "app", "user"):
        _assert_same_numbers(log.grouped(by, top=None), aggregate.grouped(scored, by), by)
        _assert_same_numbers(log.grouped(by, top=2), aggregate.grouped(scored, by, top=2), by)
        assert log.has_values(by)
    assert log.grouped("user", top=None)["user"].eq("(none)").any()
    for freq in ("h", "D"):
        _assert_same_numbers(log.over_time(freq), aggregate.over_time(scored, freq), "timestamp")
    assert log.timestamps == int(scored["timestamp"].notna().sum())


def test_heaviest_warnings_and_histogram_match_the_whole_frame(scored):
    log = LogSummary.of(_batches(scored, (3, 40, 41, 900)))
    heavy = log.heaviest(50)
    assert list(heavy.index) == list(aggregate.heaviest(scored, 50).index)
    assert list(heavy.columns) == list(scored.columns)
    codes = scored["warnings"].dropna().astype(str).str.split(";").explode().str.strip()
    assert log.warning_counts() == codes[codes != ""].value_counts().to_dict()
    hist = log.histogram(bins=50)
    values = scored["total_g_co2e"].to_numpy(dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    assert 1 <= len(hist) <= 50 and hist["requests"].sum() == len(values)
    assert hist["low_g"].iloc[0] <= values.min() and hist["high_g"].iloc[-1] > values.max()
    edges = np.r_[hist["low_g"].to_numpy(), hist["high_g"].iloc[-1]]
    np.testing.assert_allclose(hist["high_g"].to_numpy()[:-1], hist["low_g"].to_numpy()[1:])  # contiguous bins
    counts, _ = np.histogram(values, bins=edges)
    assert counts.tolist() == hist["requests"].tolist()


def test_sample_is_capped_uniform_and_independent_of_the_batches(scored):
    one = LogSummary.of([scored], sample_rows=200)
    many = LogSummary.of(_batches(scored, (13, 250, 251)), sample_rows=200)
    assert len(one.sample) == len(many.sample) == 200 and not one.is_complete
    assert list(one.sample.index) == list(many.sample.index)           # same seed: same rows, however it is cut
    assert one.sample.index.is_monotonic_increasing                     # in log order
    assert list(one.sample.columns) == list(scored.columns)
    positions = scored.index.get_indexer(one.sample.index)
    assert 0.4 * N_ROWS < positions.mean() < 0.6 * N_ROWS               # drawn from the whole log, not its start
    small = LogSummary.of(_batches(scored.head(120)), sample_rows=200)
    assert small.is_complete and list(small.sample.index) == list(scored.head(120).index)


def test_sample_shrinks_to_its_byte_budget(scored):
    per_row = scored.memory_usage(deep=True).sum() / len(scored)
    budget = int(per_row * 100)
    log = LogSummary.of(_batches(scored), sample_rows=1_000, sample_max_bytes=budget)
    assert 0 < len(log.sample) <= 100
    assert log.sample.memory_usage(deep=True).sum() <= budget * 1.05
    # besides the What-if page's grouped requests (bounded by their own cap, whatever the log's size) the summary is
    # a fraction of the log
    from seal.whatif import MAX_GROUPS

    assert len(log.grouped_requests) <= MAX_GROUPS
    assert log.nbytes() - log.grouped_requests.nbytes() < scored.memory_usage(deep=True).sum() / 5


def test_many_groups_fold_into_other_and_keep_exact_totals(scored):
    log = LogSummary.of(_batches(scored), max_groups=10)
    table = log.grouped("user", top=5)
    assert "user" in log.folded and len(table) == 6 and table["user"].iloc[-1] == "(other)"
    assert table["requests"].sum() == N_ROWS
    assert table["input_tokens"].sum() == scored["input_tokens"].sum()
    assert table["total_g_co2e"].sum() == pytest.approx(scored["total_g_co2e"].sum(), rel=1e-12)


def test_summary_without_timestamps_or_groups():
    from seal.api import estimate

    scored = estimate(pd.DataFrame({"model": [MODEL] * 3, "input_tokens": [10, 20, 30], "output_tokens": 5}))
    log = LogSummary.of([scored])
    assert log.timestamps == 0 and log.over_time("h").empty
    assert not log.has_values("app") and not log.has_values("user")
    assert log.totals()["requests"] == 3


# ---------------------------------------------------------------- limits, spooling, the batched path
def _csv_log(n: int) -> bytes:
    lines = ["timestamp,model,input_tokens,output_tokens,app,user"]
    for i in range(n):
        lines.append(f"2026-03-0{1 + i % 2}T{i % 24:02d}:15:00Z,{MODEL},{100 + 10 * i},{50 + i},"
                     f"{'chat' if i % 3 else 'search'},u{i % 4}")
    return ("\n".join(lines) + "\n").encode()


def test_upload_limits_from_the_environment():
    from seal.ui.loaders import MAX_UPLOAD_ROWS, UploadLimits, upload_limits

    assert upload_limits({}) == UploadLimits(max_rows=MAX_UPLOAD_ROWS, max_mb=None)
    limits = upload_limits({"SEAL_MAX_UPLOAD_ROWS": "1_000", "SEAL_MAX_UPLOAD_MB": "2.5",
                            "SEAL_UPLOAD_SAMPLE_ROWS": "50"})
    assert (limits.max_rows, limits.max_mb, limits.sample_rows) == (1_000, 2.5, 50)
    with pytest.raises(SealError, match="SEAL_MAX_UPLOAD_ROWS"):
        upload_limits({"SEAL_MAX_UPLOAD_ROWS": "lots"})


def test_spooled_upload_hashes_while_copying_and_always_deletes_the_file():
    from seal.ui.loaders import spooled_upload

    data = _csv_log(500)
    upload = io.BytesIO(data)
    upload.name = "requests.csv"
    with spooled_upload(upload, chunk_bytes=1000) as (path, digest):
        assert path.read_bytes() == data and path.suffix == ".csv"
        assert digest == hashlib.sha256(data).hexdigest()
    assert not path.exists()
    with pytest.raises(RuntimeError), spooled_upload(upload) as (path, _):
        raise RuntimeError("scoring failed")
    assert not path.exists()
    with pytest.raises(SealError) as err:
        with spooled_upload(upload, max_mb=0.01, chunk_bytes=1000):
            pass
    assert "SEAL_MAX_UPLOAD_MB" in str(err.value) and str(err.value).count(". ") == 0


def test_summarize_log_in_small_batches_equals_seal_estimate_of_the_whole_file(tmp_path):
    from seal.api import estimate
    from seal.logs.read import read_requests
    from seal.ui.loaders import summarize_log

    path = tmp_path / "requests.csv"
    path.write_bytes(_csv_log(300))
    log, line = summarize_log(path, "my-log.csv", {"region": "FRA"}, batch_rows=64)
    whole = aggregate.totals(estimate(read_requests(path)[0], region="FRA"))
    assert log.requests == 300 and "300 requests scored from my-log.csv" in line
    for col, value in whole.items():
        assert log.totals()[col] == pytest.approx(value, rel=1e-12, nan_ok=True), col


def test_row_limit_stops_the_read_with_one_sentence(tmp_path):
    from seal.ui.loaders import UploadLimits, row_limit_message, summarize_log

    path = tmp_path / "seal-upload-x1.csv"
    path.write_bytes(_csv_log(300))
    with pytest.raises(SealError) as err:
        summarize_log(path, "big.csv", {}, UploadLimits(max_rows=100), batch_rows=64)
    message = str(err.value)
    assert message == row_limit_message("big.csv", 100)
    assert "100 requests" in message and "SEAL_MAX_UPLOAD_ROWS" in message and "seal estimate --file" in message
    assert message.endswith(".") and message.count(". ") == 0 and len(message) < 400   # one sentence


def test_errors_name_the_upload_not_the_temporary_file(tmp_path):
    from seal.ui.loaders import summarize_log

    path = tmp_path / "seal-upload-abc.csv"
    path.write_bytes(b"timestamp,model,input_tokens,output_tokens\n2026-03-01T00:00:00Z,x,-5,3\n")
    with pytest.raises(SealError) as err:
        summarize_log(path, "mine.csv", {})
    assert "mine.csv" in str(err.value) and str(path) not in str(err.value)


# ---------------------------------------------------------------- the Logs page (AppTest)
@pytest.fixture()
def app(monkeypatch, tmp_path):
    """The Logs page of the app from empty caches, no warm-up, no store (as in tests/test_app.py)."""
    pytest.importorskip("streamlit")
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SEAL_UI_WARM_UP", "0")
    monkeypatch.setenv("SEAL_DB", str(tmp_path / "no-store" / "seal.duckdb"))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("app_pages/logs.py").run()
    assert not at.exception
    yield at
    st.cache_data.clear()
    st.cache_resource.clear()


def _frames(obj, seen=None):
    """Every DataFrame reachable from ``obj`` (dicts, lists, tuples, objects' attributes)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, pd.DataFrame):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _frames(value, seen)
    elif isinstance(obj, (list, tuple, set)):
        for value in obj:
            yield from _frames(value, seen)
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("seal"):
        yield from _frames(vars(obj), seen)


def test_logs_page_keeps_only_the_capped_summary_and_shows_the_whole_file_totals(app, monkeypatch):
    from seal.api import estimate
    from seal.logs.read import read_requests
    from seal.ui.format import fmt_count, fmt_energy, fmt_mass

    monkeypatch.setenv("SEAL_UPLOAD_SAMPLE_ROWS", "100")
    data = _csv_log(300)
    app.file_uploader(key="logs_file").set_value(("requests.csv", data, "text/csv")).run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    buffer = io.BytesIO(data)
    buffer.name = "requests.csv"
    tot = aggregate.totals(estimate(read_requests(buffer)[0], region="WOR", batch_size=64))
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Requests"] == fmt_count(300) == "300"
    assert metrics["Tokens"] == f"{int(tot['input_tokens'] + tot['output_tokens']):,}"   # exact, not "538k"
    assert metrics["Facility energy"] == fmt_energy(tot["facility_energy_j"])
    assert metrics["CO2e"] == fmt_mass(tot["total_g_co2e"])
    state = {key: app.session_state[key] for key in app.session_state._state._state.filtered_state}
    from seal.whatif import MAX_GROUPS

    grouped = app.session_state["logs_run"]["log"].grouped_requests   # What-if's groups: their own cap
    assert len(grouped) <= MAX_GROUPS and grouped.table is not None
    sizes = [len(f) for f in _frames(state) if f is not grouped.table]
    assert sizes and max(sizes) <= 100, sizes               # before issue 12: the 300-row result frame was kept
    assert len(app.session_state["logs_run"]["log"].sample) == 100
    assert any("sample of 100 of the 300 scored rows" in c.value for c in app.caption)
    assert any("seal estimate --file" in c.value for c in app.caption)


def test_logs_page_row_limit_is_one_error_and_keeps_the_loaded_log(app, monkeypatch):
    from seal.ui.loaders import row_limit_message

    app.file_uploader(key="logs_file").set_value(("small.csv", _csv_log(12), "text/csv")).run()
    assert {m.label: m.value for m in app.metric}["Requests"] == "12"
    monkeypatch.setenv("SEAL_MAX_UPLOAD_ROWS", "20")
    app.file_uploader(key="logs_file").set_value(("big.csv", _csv_log(30), "text/csv")).run()
    errors = [e.value.replace("\\", "") for e in app.error]     # shown literally: Markdown characters escaped
    assert errors == [row_limit_message("big.csv", 20)]
    assert {m.label: m.value for m in app.metric}["Requests"] == "12"   # still the previous log
