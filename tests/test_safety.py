"""Nothing lost, nothing silently wrong (issue 12): outputs never clobber inputs, paths are read literally, every
bad value is a counted bad row or one sentence, CSV cells cannot run as spreadsheet formulas."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from seal.cli import main

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
HEADER = "model,input_tokens,output_tokens\n"


def run(argv: list[str], tmp_path: Path, capsys) -> tuple[int, str, str]:
    code = main(["--db", str(tmp_path / "none.duckdb"), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def one_sentence(err: str, *fragments: str) -> None:
    assert err.startswith("seal: error: "), err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err


def csv_log(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


# ------------------------------------------------------------------ 2, 3: never lose or clobber data
def test_out_that_is_the_input_is_refused_and_the_input_kept(tmp_path, capsys):
    log = csv_log(tmp_path / "x.csv", [f"{MODEL},100,50"])
    before = log.read_bytes()
    (tmp_path / "link.csv").symlink_to(log)
    os.link(log, tmp_path / "hard.csv")
    for out in (log, tmp_path / "link.csv", tmp_path / "hard.csv"):
        code, _, err = run(["estimate", "--file", str(log), "--out", str(out), "--quiet"], tmp_path, capsys)
        assert code == 2
        one_sentence(err, "which this run reads", "never overwrites its inputs")
    code, _, err = run(["estimate", "--file", str(tmp_path / "link.csv"), "--out", str(log), "--quiet"],
                       tmp_path, capsys)
    assert code == 2
    assert log.read_bytes() == before


def test_out_through_a_symlink_writes_the_link_target(tmp_path, capsys):
    log = csv_log(tmp_path / "x.csv", [f"{MODEL},100,50"])
    real = tmp_path / "results" / "real.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    (tmp_path / "out.csv").symlink_to(real)
    code, _, _ = run(["estimate", "--file", str(log), "--out", str(tmp_path / "out.csv"), "--quiet"],
                     tmp_path, capsys)
    assert code == 0
    assert (tmp_path / "out.csv").is_symlink()                        # the link stays a link ...
    assert len(pd.read_csv(real)) == 1                                # ... and its target has the results
    assert not [p for p in real.parent.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize("out, fragment", [
    ("/dev/full", "is a device, pipe or socket"),
    ("/dev/null", "is a device, pipe or socket"),
    ("{tmp}", "is a folder"),
    ("{tmp}/x.csv/y.csv", "which is a file, not a folder"),
    ("/proc/nope/x.csv", "Cannot create the folder /proc/nope"),
])
def test_unwritable_outputs_are_one_sentence(out, fragment, tmp_path, capsys):
    csv_log(tmp_path / "x.csv", [f"{MODEL},100,50"])
    out = out.replace("{tmp}", str(tmp_path))
    for argv in (["estimate", "Hello", "--model", MODEL, "--out", out],
                 ["estimate", "--file", str(tmp_path / "x.csv"), "--out", out, "--quiet"]):
        code, _, err = run(argv, tmp_path, capsys)
        assert code == 2
        one_sentence(err, fragment)


def test_a_failed_run_names_the_output_it_kept(tmp_path, capsys):
    log = csv_log(tmp_path / "x.csv", [f"{MODEL},100,50", f"{MODEL},-3,50"])
    out = tmp_path / "out.csv"
    out.write_text("precious\n")
    code, _, err = run(["estimate", "--file", str(log), "--out", str(out), "--quiet"], tmp_path, capsys)
    assert code == 2
    one_sentence(err, "line 3", f"the existing {out} is unchanged")
    assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["none.duckdb", "out.csv", "x.csv"] or \
        not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def _big_log(path: Path, n: int) -> Path:
    pd.DataFrame({"model": [MODEL] * n, "input_tokens": range(1, n + 1), "output_tokens": [50] * n}
                 ).to_csv(path, index=False)
    return path


def _seal(*argv: str, db: Path) -> list[str]:
    return [sys.executable, "-m", "seal.cli", "--db", str(db), *argv]


def test_sigterm_removes_the_partial_output_and_keeps_the_old_one(tmp_path):
    log = _big_log(tmp_path / "big.csv", 400_000)
    out = tmp_path / "out.parquet"
    out.write_bytes(b"old")
    proc = subprocess.Popen(_seal("estimate", "--file", str(log), "--out", str(out), "--quiet",
                                  db=tmp_path / "none.duckdb"), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]:
        assert time.monotonic() < deadline, "no partial file appeared"
        try:                                    # wait on the child itself: an early exit fails at once
            proc.wait(timeout=0.02)
            pytest.fail(f"the run ended before it was signalled: {proc.stderr.read()}")
        except subprocess.TimeoutExpired:
            pass
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err
    assert out.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_two_runs_with_one_out_never_share_a_partial(tmp_path):
    log = _big_log(tmp_path / "big.csv", 60_000)
    out = tmp_path / "out.csv"
    procs = [subprocess.Popen(_seal("estimate", "--file", str(log), "--out", str(out), "--quiet",
                                    db=tmp_path / "none.duckdb"), stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert len(pd.read_csv(out)) == 60_000                     # one complete output, not a mix of two
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_partials_of_killed_runs_are_cleaned_but_live_ones_kept(tmp_path, capsys):
    from seal.outfile import _host

    log = csv_log(tmp_path / "x.csv", [f"{MODEL},100,50"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = time.time() - 2 * 3600
    stale = tmp_path / f".out.csv.{_host()}-{dead.pid}.abcd1234.partial"          # dead, this host, old: removed
    live = tmp_path / f".out.csv.{_host()}-{os.getppid()}.efgh5678.partial"        # its process runs: kept
    recent = tmp_path / f".out.csv.{_host()}-{dead.pid}.ijkl9012.partial"         # dead but fresh: kept
    other_host = tmp_path / f".out.csv.elsewhere-{dead.pid}.mnop3456.partial"      # another machine's: kept
    for path in (stale, live, recent, other_host):
        path.write_text("partial")
    for path in (stale, live, other_host):
        os.utime(path, (old, old))
    code, _, _ = run(["estimate", "--file", str(log), "--out", str(tmp_path / "out.csv"), "--quiet"],
                     tmp_path, capsys)
    assert code == 0
    assert not stale.exists() and live.exists() and recent.exists() and other_host.exists()


def test_out_never_replaces_the_store_or_a_protected_file(tmp_path, capsys):
    log = csv_log(tmp_path / "x.csv", [f"{MODEL},100,50"])
    store = tmp_path / "none.duckdb"
    store.write_bytes(b"the store")
    code, _, err = run(["estimate", "--file", str(log), "--out", str(store), "--format", "csv", "--quiet"],
                       tmp_path, capsys)
    assert code == 2
    one_sentence(err, "which this run reads", "(logs, the store)")
    assert store.read_bytes() == b"the store"
    code, _, err = run(["estimate", "Hi", "--model", MODEL, "--out", str(store), "--format", "csv"], tmp_path, capsys)
    assert code == 2 and store.read_bytes() == b"the store"
    if os.geteuid() != 0:                                  # root may write anything: nothing to refuse there
        locked = tmp_path / "locked.csv"
        locked.write_text("keep")
        locked.chmod(0o444)
        code, _, err = run(["estimate", "--file", str(log), "--out", str(locked), "--quiet"], tmp_path, capsys)
        assert code == 2
        one_sentence(err, "is write-protected")


def test_out_dash_is_stdout_and_a_trailing_slash_is_refused(tmp_path, capsys):
    log = csv_log(tmp_path / "x.csv", [f"{MODEL},100,50"])
    code, out, _ = run(["estimate", "--file", str(log), "--out", "-", "--format", "csv", "--quiet"], tmp_path, capsys)
    assert code == 0 and out.startswith('"line"') and not (tmp_path / "-").exists()
    code, _, err = run(["estimate", "--file", str(log), "--out", str(tmp_path / "newdir") + "/", "--quiet"],
                       tmp_path, capsys)
    assert code == 2
    one_sentence(err, "ends with a slash")


def test_one_file_named_twice_is_read_once(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    csv_log(tmp_path / "a.csv", [f"{MODEL},100,50"])
    code, _, err = run(["estimate", "--file", "a.csv", "--file", "./a.csv", "--glob", "a.*", "--quiet"],
                       tmp_path, capsys)
    assert code == 0 and "1 requests scored from a.csv" in err


# ------------------------------------------------------------------ 4: paths are paths
def test_glob_characters_in_file_are_literal(tmp_path, capsys):
    csv_log(tmp_path / "a[1].csv", [f"{MODEL},100,50"])
    csv_log(tmp_path / "a1.csv", [f"{MODEL},999,50"])
    code, out, _ = run(["estimate", "--file", str(tmp_path / "a[1].csv"), "--format", "csv", "--quiet"],
                       tmp_path, capsys)
    assert code == 0
    assert pd.read_csv(pd.io.common.StringIO(out))["input_tokens"].tolist() == [100]   # not a1.csv's 999


def test_a_star_in_file_is_not_a_glob_but_glob_is_explicit(tmp_path, capsys):
    csv_log(tmp_path / "logsA.csv", [f"{MODEL},100,50"])
    csv_log(tmp_path / "logsB.csv", [f"{MODEL},200,50", f"{MODEL},300,50"])
    code, _, err = run(["estimate", "--file", str(tmp_path / "logs*.csv"), "--quiet"], tmp_path, capsys)
    assert code == 2
    one_sentence(err, "No such file")
    out = tmp_path / "all.csv"
    code, _, err = run(["estimate", "--glob", str(tmp_path / "logs*.csv"), "--out", str(out), "--quiet"],
                       tmp_path, capsys)
    assert code == 0
    result = pd.read_csv(out)
    assert sorted(result["input_tokens"]) == [100, 200, 300]
    assert set(result["file"].map(lambda p: Path(p).name)) == {"logsA.csv", "logsB.csv"}
    assert "logsA.csv" in err and "logsB.csv" in err and "3 requests scored from 2 files" in err
    code, _, err = run(["estimate", "--glob", str(tmp_path / "zz*.csv")], tmp_path, capsys)
    assert code == 2
    one_sentence(err, "matches no file")


def test_tilde_and_compression_suffixes_are_literal(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "~").mkdir()
    csv_log(tmp_path / "~" / "log.csv", [f"{MODEL},111,11"])
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    csv_log(tmp_path / "home" / "log.csv", [f"{MODEL},999,99"])
    code, out, _ = run(["estimate", "--file", "~/log.csv", "--format", "csv", "--quiet"], tmp_path, capsys)
    assert code == 0
    assert pd.read_csv(pd.io.common.StringIO(out))["input_tokens"].tolist() == [111]   # ./~/log.csv, not $HOME's
    for name in ("plain.gz", "plain.zst"):
        csv_log(tmp_path / name, [f"{MODEL},5,6"])
        code, out, err = run(["estimate", "--file", name, "--format", "csv", "--quiet"], tmp_path, capsys)
        assert code == 0, err
        assert pd.read_csv(pd.io.common.StringIO(out))["input_tokens"].tolist() == [5]


@pytest.mark.parametrize("name", ["http://example.invalid/x.csv", "s3://bucket/x.csv"])
def test_url_schemes_are_not_fetched(name, tmp_path, capsys):
    code, _, err = run(["estimate", "--file", name, "--quiet"], tmp_path, capsys)
    assert code == 2
    one_sentence(err, "No such file")


# ------------------------------------------------------------------ 5: NaN / inf are bad values, never defaults
@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_nan_and_inf_tokens_are_counted_bad_rows(ext, tmp_path, capsys):
    path = tmp_path / f"n.{ext}"
    rows = [("100", "50"), ("nan", "50"), ("NaN", "50"), ("100", "inf"), ("120", "60")]
    if ext == "csv":
        csv_log(path, [f"{MODEL},{a},{b}" for a, b in rows])
    elif ext == "jsonl":
        path.write_text("".join(json.dumps({"model": MODEL, "input_tokens": a, "output_tokens": b}) + "\n"
                                for a, b in rows))
    else:
        pd.DataFrame({"model": [MODEL] * 5, "input_tokens": [float(a) for a, _ in rows],
                      "output_tokens": [float(b) for _, b in rows]}).to_parquet(path)
        import pyarrow as pa
        import pyarrow.parquet as pq

        # pandas writes NaN as null (missing): write real NaN values with Arrow
        pq.write_table(pa.table({"model": [MODEL] * 5,
                                 "input_tokens": pa.array([float(a) for a, _ in rows], from_pandas=False),
                                 "output_tokens": pa.array([float(b) for _, b in rows], from_pandas=False)}), path)
    code, _, err = run(["estimate", "--file", str(path), "--quiet"], tmp_path, capsys)
    assert code == 2
    one_sentence(err, "is not a finite number")
    code, out, err = run(["estimate", "--file", str(path), "--quiet", "--skip-bad", "--format", "csv"],
                         tmp_path, capsys)
    assert code == 0
    assert pd.read_csv(pd.io.common.StringIO(out))["input_tokens"].tolist() == [100, 120]
    assert "3 bad rows skipped" in err and "5 records read = 2 scored + 3 skipped + 0 ignored" in err


@pytest.mark.parametrize("flag", ["--params-b", "--active-params-b", "--pue", "--batch-size", "--market-g-per-kwh"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_flags_are_refused(flag, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["estimate", "Hello", "--model", MODEL, f"{flag}={value}"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "is not a finite number" in err and "Traceback" not in err


def test_api_refuses_non_finite_defaults_and_nan_text():
    import seal

    with pytest.raises(seal.SealError, match="input_tokens must be a finite number"):
        seal.estimate({"prompt": "hi", "model": MODEL}, input_tokens=float("nan"))
    with pytest.raises(seal.SealError, match=r"input_tokens is not a number \('nan'\)"):
        seal.estimate(pd.DataFrame({"model": [MODEL], "input_tokens": ["nan"], "output_tokens": [5]}))


# ------------------------------------------------------------------ 6: every bad row counted, lines exact
def test_non_utf8_rows_are_counted_and_later_lines_exact(tmp_path, capsys):
    path = tmp_path / "u.csv"
    path.write_bytes(HEADER.encode() + f"{MODEL},100,50\n".encode() + b"llama\xff\xfe,100,50\n"
                     + f"{MODEL},10x,50\n{MODEL},7,50\n".encode())
    code, out, err = run(["estimate", "--file", str(path), "--skip-bad", "--format", "csv", "--quiet"],
                         tmp_path, capsys)
    assert code == 0
    assert pd.read_csv(pd.io.common.StringIO(out))["line"].tolist() == [2, 5]
    assert "4 records read = 2 scored + 2 skipped + 0 ignored" in err
    assert "line 3: is not valid UTF-8 text" in err
    jsonl = tmp_path / "u.jsonl"                                   # the same bad bytes in JSONL: same counts
    jsonl.write_bytes(b"".join(
        [json.dumps({"model": MODEL, "input_tokens": 100, "output_tokens": 50}).encode() + b"\n",
         b'{"model": "llama\xff\xfe", "input_tokens": 100, "output_tokens": 50}\n',
         json.dumps({"model": MODEL, "input_tokens": "10x", "output_tokens": 50}).encode() + b"\n",
         json.dumps({"model": MODEL, "input_tokens": 7, "output_tokens": 50}).encode() + b"\n"]))
    code, out, err = run(["estimate", "--file", str(jsonl), "--skip-bad", "--quiet", "--format", "csv"],
                         tmp_path, capsys)
    assert code == 0
    assert pd.read_csv(pd.io.common.StringIO(out))["line"].tolist() == [1, 4]
    assert "4 records read = 2 scored + 2 skipped + 0 ignored" in err


@pytest.mark.parametrize("bad_row", [b"llama\xff,100,50", b"MODEL,\xff\xfe,20", b"MODEL,100,5\xff"])
def test_non_utf8_in_any_column_is_counted(bad_row, tmp_path, capsys):
    path = tmp_path / "u.csv"
    path.write_bytes(HEADER.encode() + f"{MODEL},100,50\n".encode() + bad_row.replace(b"MODEL", MODEL.encode())
                     + b"\n" + f"{MODEL},7,7\n{MODEL},8,8\n".encode())
    code, out, err = run(["estimate", "--file", str(path), "--skip-bad", "--format", "csv", "--quiet"],
                         tmp_path, capsys)
    assert code == 0
    assert pd.read_csv(pd.io.common.StringIO(out))["line"].tolist() == [2, 4, 5]
    assert "4 records read = 3 scored + 1 skipped + 0 ignored" in err


def test_multi_line_cells_before_an_unterminated_quote_are_not_miscounted(tmp_path, capsys):
    path = tmp_path / "ml.csv"
    path.write_text("model,input_tokens,output_tokens,prompt\n"
                    f'{MODEL},1,1,"multi\nline\ncell"\n{MODEL},2,2,ok\n\n{MODEL},3,3,"unterminated\n{MODEL},4,4,x\n')
    code, _, err = run(["estimate", "--file", str(path), "--skip-bad", "--format", "csv", "--quiet"],
                       tmp_path, capsys)
    assert code == 0
    assert "4 records read = 2 scored + 2 skipped + 0 ignored" in err


def test_an_unterminated_quote_counts_the_lines_it_swallows(tmp_path, capsys):
    path = csv_log(tmp_path / "q.csv", [f"{MODEL},100,50", f'"{MODEL},100,50', f"{MODEL},100,50", f"{MODEL},1,5"])
    code, _, err = run(["estimate", "--file", str(path), "--skip-bad", "--quiet", "--format", "csv"],
                       tmp_path, capsys)
    assert code == 0
    assert "4 records read = 1 scored + 3 skipped + 0 ignored" in err
    code, _, err = run(["estimate", "--file", str(path), "--quiet"], tmp_path, capsys)
    assert code == 2
    one_sentence(err, "line 3")


# ------------------------------------------------------------------ 7: CSV cells cannot run as formulas
def test_csv_output_neutralises_formula_cells(tmp_path, capsys):
    path = tmp_path / "f.csv"
    path.write_text("model,input_tokens,output_tokens,app,user,request_id\n"
                    f'{MODEL},100,50,"=HYPERLINK(""http://x"")",+cmd|x,@SUM(A1)\n'
                    f"{MODEL},100,50,-2+3,\tx,plain\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _, _ = run(["estimate", "--file", str(path), "--out", str(out), "--quiet"], tmp_path, capsys)
    assert code == 0
    result = pd.read_csv(out, keep_default_na=False)
    assert result["app"].tolist() == ["'=HYPERLINK(\"http://x\")", "'-2+3"]
    assert result["user"].tolist() == ["'+cmd|x", "'\tx"]
    assert result["request_id"].tolist() == ["'@SUM(A1)", "plain"]
    assert (result["total_g_co2e"] > 0).all()                  # numbers are untouched


def test_neutralise_helpers_agree():
    import pyarrow as pa

    from seal.frames import neutralise_csv_frame, neutralise_csv_table

    frame = pd.DataFrame({"t": ["=1+1", "ok", "-x", "@a", "\tb", "\rc", None], "n": [-1.0, 2, 3, 4, 5, 6, 7]})
    expected = ["'=1+1", "ok", "'-x", "'@a", "'\tb", "'\rc", None]
    assert neutralise_csv_frame(frame)["t"].tolist()[:6] == expected[:6]
    table = neutralise_csv_table(pa.Table.from_pandas(frame, preserve_index=False))
    assert table["t"].to_pylist() == expected and table["n"].to_pylist() == frame["n"].tolist()
    dictionary = pa.table({"t": pa.array(["=a", "b", "=a"]).dictionary_encode()})
    assert neutralise_csv_table(dictionary)["t"].to_pylist() == ["'=a", "b", "'=a"]


# ------------------------------------------------------------------ 11: one sentence, never a traceback
def _deep(path: Path) -> Path:
    path.write_text("[" * 10_000 + "]" * 10_000)
    return path


def _dup(path: Path) -> Path:
    path.write_text(f"model,input_tokens,input_tokens,output_tokens\n{MODEL},100,5,50\n")
    return path


def _epoch(path: Path) -> Path:
    path.write_text(json.dumps({"model": MODEL, "input_tokens": 10, "output_tokens": 5, "timestamp": 1e30}) + "\n")
    return path


def _listy(path: Path) -> Path:
    pd.DataFrame({"model": [MODEL], "input_tokens": [[1, 2]], "output_tokens": [5]}).to_parquet(path)
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("make, name, fragment", [
    (_deep, "deep.json", "nests JSON too deeply"),
    (_dup, "dup.csv", "has two columns named 'input_tokens' (columns 2 and 3)"),
    (_epoch, "epoch.jsonl", "line 1 has a bad value: timestamp is not a date-time (1e+30)"),
    (_listy, "listy.parquet", "column 'input_tokens' holds lists or records"),
    (_fifo, "pipe.csv", "is not a regular file (a device, pipe or socket)"),
    (lambda p: Path("/dev/zero"), "zero", "/dev/zero is not a regular file"),
])
def test_hostile_files_get_one_sentence(make, name, fragment, tmp_path, capsys):
    path = make(tmp_path / name)
    code, _, err = run(["estimate", "--file", str(path), "--quiet"], tmp_path, capsys)
    assert code == 2
    one_sentence(err, fragment)


def _dup_case(path: Path) -> Path:
    path.write_text(f"model,input_tokens,Input_Tokens,output_tokens\n{MODEL},100,5,50\n")
    return path


def _dup_key(path: Path) -> Path:
    path.write_text(f'{{"model": "{MODEL}", "input_tokens": 1, "INPUT_TOKENS": 2, "output_tokens": 3}}\n')
    return path


@pytest.mark.parametrize("make, name, fragment", [
    (_dup_case, "dupc.csv", "names differ only in case"),
    (_dup_key, "dupk.jsonl", "has a record with the same key twice"),
])
def test_duplicate_names_in_any_case_are_one_sentence(make, name, fragment, tmp_path, capsys):
    code, _, err = run(["estimate", "--file", str(make(tmp_path / name)), "--quiet"], tmp_path, capsys)
    assert code == 2
    one_sentence(err, fragment)


def test_langfuse_usage_that_is_not_a_number_is_a_bad_row_not_a_default(tmp_path, capsys):
    rec = {"id": "o1", "traceId": "t", "type": "GENERATION", "startTime": "2025-02-10T14:00:00Z", "model": MODEL}
    path = tmp_path / "lf.jsonl"
    path.write_text(json.dumps({**rec, "usage": {"input": 10, "output": 5}}) + "\n"
                    + json.dumps({**rec, "id": "o2", "usage": {"input": "abc", "output": 5}}) + "\n")
    code, _, err = run(["estimate", "--file", str(path), "--input-tokens", "500", "--quiet"], tmp_path, capsys)
    assert code == 2
    one_sentence(err, "line 2", "usage.input is not a number (abc)")
    code, out, err = run(["estimate", "--file", str(path), "--input-tokens", "500", "--skip-bad", "--format", "csv",
                          "--quiet"], tmp_path, capsys)
    assert code == 0
    assert pd.read_csv(pd.io.common.StringIO(out))["input_tokens"].tolist() == [10]
    assert "2 records read = 1 scored + 1 skipped + 0 ignored" in err


def test_compact_langfuse_export_reads_like_the_pretty_one(tmp_path, capsys):
    records = [{"id": f"g{i}", "traceId": "t", "type": "GENERATION", "model": "gpt-4o-mini",
                "startTime": "2025-09-30T09:03:59.962Z", "endTime": "2025-09-30T09:04:01.000Z",
                "usageDetails": {"input": 100 + i, "output": 20}, "usage": {"input": 100 + i, "output": 20}}
               for i in range(3)]
    results = []
    for name, text in (("pretty.json", json.dumps({"data": records}, indent=2)),
                       ("compact.json", json.dumps({"data": records}, separators=(",", ":")))):
        (tmp_path / name).write_text(text)
        code, out, err = run(["estimate", "--file", str(tmp_path / name), "--format", "csv", "--quiet"],
                             tmp_path, capsys)
        assert code == 0, err
        results.append(pd.read_csv(pd.io.common.StringIO(out)))
    assert results[0]["input_tokens"].tolist() == [100, 101, 102]
    pd.testing.assert_frame_equal(results[0], results[1])
