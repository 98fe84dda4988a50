"""The CLI turns every user-caused problem into one sentence on stderr and exit code 2 (never a traceback)."""
from __future__ import annotations

import pytest

from seal.cli import main


@pytest.mark.parametrize("argv, message", [
    (["validate"], "has no benchmark runs; run `seal data pull` first."),
    (["train"], "No store at"),
    (["estimate"], "Give a prompt text or --file PATH"),
    (["estimate", "hi", "--model", "gpt-4o", "--out", "{tmp}/x.xlsx"], "Cannot tell the output format"),
    (["estimate", "hi", "--model", "gpt-4o", "--gpu", "Z9000"], "Unknown GPU 'Z9000'; accepted: T4"),
    (["estimate", "hi", "--model", "gpt-4o", "--region", "Atlantis"], "Unknown region 'Atlantis'; accepted:"),
    (["estimate", "hi", "--model", "gpt-4o", "--pue", "0.5"], "pue must be a number at least 1"),
    (["estimate", "hi", "--model", "acme/no-size"], "Unknown model 'acme/no-size'"),
    (["estimate", "--file", "{tmp}/missing.csv"], "No such file"),
    (["estimate", "--file", "{tmp}"], "is a folder; give one log file"),
    (["estimate", "  "], "Give a prompt text or --file PATH"),
])
def test_user_errors_exit_2_with_one_sentence(argv, message, tmp_path, capsys):
    argv = ["--db", str(tmp_path / "none.duckdb")] + [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("seal: error: ") and message in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_prompt_output_format_follows_the_out_suffix(tmp_path):
    out = tmp_path / "one.csv"
    assert main(["estimate", "Hello there", "--model", "meta-llama/Meta-Llama-3.1-8B-Instruct",
                 "--output-tokens", "50", "--out", str(out)]) == 0
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert "total_g_co2e" in header and header.startswith('"prompt"')
