"""Property-based fuzzing of the log readers (Hypothesis): generated malformed records of every format.

For any file, reading it either raises one :class:`seal.SealError` sentence or yields rows such that
rows read = kept + skipped + ignored; a kept row's token count is the number written (never a silent default
for a bad number); and scoring the kept rows never raises anything but a ``SealError``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from seal.errors import SealError  # noqa: E402
from seal.logs.read import iter_request_batches  # noqa: E402

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
ENGINE_WORDS = ("Binder Error", "Conversion Error", "Invalid Input Error", "Parser Error", "Traceback",
                "RecursionError", "KeyError", "TypeError", "ArrowInvalid", "Catalog Error", "Out of Range", "IO Error")

# what may still stop a read with skip_bad=True: every row bad, or a first record that says what the file is not
SKIP_BAD_VERDICTS = ("holds no model requests", "Unknown format")
GOOD_TOKENS = st.integers(min_value=0, max_value=200_000)
BAD_TOKENS = st.sampled_from(["nan", "NaN", "inf", "-inf", "-1", "-7", "abc", "1e30", "10x", "0x10", "1,000",
                              "\u0661\u0662", "true", "[1]", "{}", " "])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
HOSTILE_TEXT = st.sampled_from(["![p](http://127.0.0.1:9/x.png)", "<a href='http://x'>m</a>", "=HYPERLINK(1)",
                                "+cmd|' /C calc'!A0", "a\rb", "a\nb", "\x00", "'", '"', "\\", "💥"])
MODEL_NAME = st.one_of(st.just(MODEL), HOSTILE_TEXT, TEXT)

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def rows(draw) -> list[dict]:
    """Table rows: each cell good, bad or missing; the model sometimes hostile text."""
    n = draw(st.integers(min_value=1, max_value=12))
    out = []
    for _ in range(n):
        row = {"model": draw(st.one_of(st.just(MODEL), MODEL_NAME))}
        for col in ("input_tokens", "output_tokens"):
            row[col] = draw(st.one_of(GOOD_TOKENS.map(str), BAD_TOKENS, st.just("")))
        if draw(st.booleans()):
            row["app"] = draw(st.one_of(HOSTILE_TEXT, TEXT))
        out.append(row)
    return out


def _is_good(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and number >= 0 and number == int(number) and number < 10_000_000


def _read(path: Path, skip_bad: bool):
    batches = iter_request_batches(path, skip_bad=skip_bad)
    frames = list(batches)
    return (pd.concat(frames) if frames else pd.DataFrame()), batches.report


def _check(path: Path, written: list[dict], skip_bad: bool, label: str) -> None:
    try:
        kept, report = _read(path, skip_bad)
    except SealError as exc:
        text = str(exc)
        assert "\n" not in text.strip() and not any(w in text for w in ENGINE_WORDS), text
        if skip_bad:   # bad rows are skipped, not fatal: only a whole-file verdict may stop a --skip-bad read
            assert any(w in text for w in SKIP_BAD_VERDICTS), text
        return
    except Exception as exc:  # noqa: BLE001 - the property: nothing but a SealError escapes
        pytest.fail(f"{type(exc).__name__} reading {path.name}: {exc}")
    assert report.rows == len(kept)
    assert report.rows + report.skipped + report.ignored == len(written), report
    for line, row in kept.iterrows():
        source = written[int(line) - (2 if label == "csv" else 1)]
        given_tokens = source.get("input_tokens", "")
        if str(given_tokens).strip() == "":
            assert pd.isna(row["input_tokens"])        # missing stays missing (a default comes later, flagged)
        else:
            assert _is_good(str(given_tokens)) or _is_float_like(given_tokens), (given_tokens, row["input_tokens"])
            assert row["input_tokens"] == float(given_tokens)   # never a silent default for a bad number
    from seal import api

    if len(kept):
        try:
            api.estimate(kept.head(50), input_tokens=None)
        except SealError:
            pass


def _is_float_like(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _csv_text(written: list[dict]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["model", "input_tokens", "output_tokens", "app"], lineterminator="\n")
    writer.writeheader()
    for row in written:
        writer.writerow({**{"app": ""}, **row})
    return buf.getvalue()


@FUZZ
@given(written=rows(), skip_bad=st.booleans())
def test_fuzz_csv(tmp_path_factory, written, skip_bad):
    written = [{k: v.replace("\r", "").replace("\n", "") if isinstance(v, str) else v for k, v in r.items()}
               for r in written]                                  # one physical line per record here
    written = [r for r in written if "\x00" not in "".join(map(str, r.values()))]
    if not written:
        return
    path = tmp_path_factory.mktemp("fz") / "log.csv"
    path.write_text(_csv_text(written), encoding="utf-8")
    _check(path, written, skip_bad, "csv")


def _typed(value: str):
    """The token cell as a JSON value: numbers as numbers, the rest as strings, blanks as null."""
    if value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    if not math.isfinite(number):
        return value
    return int(number) if number == int(number) and abs(number) < 1e15 else number


@FUZZ
@given(written=rows(), skip_bad=st.booleans(), typed=st.booleans(), junk=st.lists(
    st.sampled_from(["{", "[1,2]", "not json", '{"model": ', "\ufeff{}", '"text"', "null", "{}" + "]" * 3]),
    max_size=3))
def test_fuzz_jsonl(tmp_path_factory, written, skip_bad, typed, junk):
    lines = []
    for row in written:
        rec = {k: (_typed(v) if typed and k.endswith("_tokens") else v) for k, v in row.items()}
        lines.append(json.dumps(rec))
    records = list(written)
    for i, bad in enumerate(junk):                                 # malformed lines after the first record
        lines.insert(1 + i, bad)
        records.insert(1 + i, {"model": None, "input_tokens": "junk"})
    path = tmp_path_factory.mktemp("fz") / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _check(path, records, skip_bad, "jsonl")


@FUZZ
@given(written=rows(), skip_bad=st.booleans())
def test_fuzz_openai_chat(tmp_path_factory, written, skip_bad):
    lines = []
    for i, row in enumerate(written):
        lines.append(json.dumps({"id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1732000000 + i,
                                 "model": row["model"], "choices": [{"index": 0, "message": {"role": "assistant",
                                                                                            "content": "hi"}}],
                                 "usage": {"prompt_tokens": _typed(row["input_tokens"]),
                                           "completion_tokens": _typed(row["output_tokens"])}}))
    path = tmp_path_factory.mktemp("fz") / "chat.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _check(path, written, skip_bad, "jsonl")


@FUZZ
@given(written=rows(), skip_bad=st.booleans())
def test_fuzz_parquet(tmp_path_factory, written, skip_bad):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path_factory.mktemp("fz") / "log.parquet"
    pq.write_table(pa.table({
        "model": [r["model"].replace("\x00", "") for r in written],
        "input_tokens": [r["input_tokens"] for r in written],
        "output_tokens": [r["output_tokens"] for r in written],
    }), path)
    written = [{**r, "model": r["model"].replace("\x00", "")} for r in written]
    _check(path, written, skip_bad, "parquet")


@FUZZ
@given(data=st.binary(min_size=1, max_size=400), suffix=st.sampled_from([".csv", ".jsonl", ".json", ".parquet"]))
def test_fuzz_arbitrary_bytes_never_traceback(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fz") / f"blob{suffix}"
    path.write_bytes(data)
    for skip_bad in (False, True):
        try:
            _read(path, skip_bad)
        except SealError as exc:
            assert not any(w in str(exc) for w in ENGINE_WORDS), str(exc)
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{type(exc).__name__} on {data!r}: {exc}")


@FUZZ
@given(written=rows(), skip_bad=st.booleans())
def test_fuzz_langfuse(tmp_path_factory, written, skip_bad):
    lines = []
    for i, row in enumerate(written):
        usage = {"input": _typed(row["input_tokens"]), "output": _typed(row["output_tokens"]), "unit": "TOKENS"}
        lines.append(json.dumps({"id": f"o{i}", "traceId": "t", "type": "GENERATION", "model": row["model"],
                                 "startTime": "2025-02-10T14:00:00Z", "usage": usage}))
    path = tmp_path_factory.mktemp("fz") / "lf.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _check(path, written, skip_bad, "jsonl")


@FUZZ
@given(written=rows(), where=st.integers(min_value=0, max_value=11), col=st.integers(min_value=0, max_value=2))
def test_fuzz_csv_bad_bytes_in_any_column_are_counted(tmp_path_factory, written, where, col):
    """One row gets bytes that are not UTF-8 in one of its columns: with --skip-bad it is one counted bad row."""
    written = [{k: v.replace("\r", "").replace("\n", "").replace("\x00", "") for k, v in r.items()} for r in written]
    text = _csv_text(written).encode("utf-8").split(b"\n")
    i = 1 + where % len(written)
    cells = text[i].split(b",")
    cells[col % len(cells)] += b"\xff\xfe"
    text[i] = b",".join(cells)
    path = tmp_path_factory.mktemp("fz") / "bytes.csv"
    path.write_bytes(b"\n".join(text))
    try:
        kept, report = _read(path, True)
    except SealError as exc:
        assert not any(w in str(exc) for w in ENGINE_WORDS), str(exc)
        return
    assert report.rows + report.skipped + report.ignored == len(written), report
    assert i + 1 not in set(kept.index)
