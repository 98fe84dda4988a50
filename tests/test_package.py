"""A non-editable install works from any folder: package data (fact tables, the fitted artifact) is read with
importlib.resources, not from the source tree."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from _paths import REPO


def test_wheel_install_estimates_and_builds_a_store(tmp_path):
    import shutil

    wheels, target = tmp_path / "wheels", tmp_path / "site"
    # setuptools builds in the checkout's build/ (git-ignored) and keeps files of modules deleted since: start clean
    shutil.rmtree(REPO / "build", ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO),
                    "-w", str(wheels)], check=True, capture_output=True)
    wheel = next(wheels.glob("seal-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith(("bench/", "tests/")) or n == "seal/bench.py"]   # tooling stays out
    assert {"seal/data/facts/gpus.csv", "seal/estimator/artifacts/energy_model.json", "seal/ui/methodology.md"} <= set(names)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import seal, pandas as pd\n"
            "from seal.data import store\n"
            "from seal.data.pull import init\n"
            "assert seal.__file__.startswith(%r), seal.__file__\n"
            "r = seal.estimate(pd.DataFrame({'model': ['gpt-oss-120b'], 'input_tokens': [100], 'output_tokens': [100]}))\n"
            "assert r['gpu_energy_j'].iloc[0] > 0\n"
            "db = init(%r)\n"
            "print(len(store.read_table('gpus', db)), len(store.read_table('cloud_regions', db)))\n"
            % (str(target), str(tmp_path / "s.duckdb")))
    env = {**os.environ, "PYTHONPATH": str(target), "SEAL_DB": str(tmp_path / "s.duckdb")}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    gpus, regions = map(int, out.stdout.split())
    assert gpus >= 19 and regions >= 80


def _cli(seal: list[str], *argv: str, cwd: Path, env: dict) -> str:
    out = subprocess.run([*seal, *argv], cwd=cwd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, (argv, out.stderr[-2000:])
    return out.stdout


def test_wheel_in_a_fresh_virtualenv_runs_the_cli_like_the_checkout(tmp_path):
    """``pip install`` of the wheel into a new virtualenv (dependencies seen through a plain path entry, so the
    checkout's editable install is not), then ``seal data init``, ``seal data status`` and ``seal estimate`` from
    another folder: the store goes to the user's data folder (not site-packages) and the numbers equal the checkout's."""
    import pandas as pd

    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(wheels)],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    vpy = venv / "bin" / "python"
    site = subprocess.run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    deps = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "seal-test-deps.pth").write_text(deps + "\n")       # a path line: the editable finder stays off
    subprocess.run([sys.executable, "-m", "pip", "--python", str(vpy), "install", "-q", "--no-deps",
                    str(next(wheels.glob("seal-*.whl")))], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("SEAL_DB", "SEAL_HOME", "XDG_DATA_HOME", "PYTHONPATH")}
    env["HOME"] = str(home)
    where = subprocess.run([str(vpy), "-c", "import seal; print(seal.__file__)"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(site), where                                  # the wheel, not the checkout
    seal = [str(venv / "bin" / "seal")]
    init = _cli(seal, "data", "init", cwd=elsewhere, env=env)
    store = home / ".local" / "share" / "seal" / "seal.duckdb"
    assert str(store) in init and store.is_file()
    assert not any(Path(site).glob("data/*.duckdb"))
    status = _cli(seal, "data", "status", cwd=elsewhere, env=env)
    assert "seal-gpus" in status and " 19 " in status and "seal-cloud-regions" in status
    args = ("estimate", "Explain PUE in one line.", "--model", "meta-llama/Meta-Llama-3.1-8B-Instruct",
            "--gpu", "H100", "--region", "FR", "--output-tokens", "120", "--format", "csv")
    installed = pd.read_csv(pd.io.common.StringIO(_cli(seal, *args, cwd=elsewhere, env=env)))
    checkout_env = {**env, "SEAL_DB": str(tmp_path / "checkout.duckdb")}
    checkout_seal = [sys.executable, "-m", "seal.cli"]
    _cli(checkout_seal, "data", "init", cwd=REPO, env=checkout_env)
    checkout_status = _cli(checkout_seal, "data", "status", cwd=REPO, env=checkout_env)
    same = [ln.rsplit(None, 3)[0] for ln in status.splitlines()]     # all but the "pulled at" minute
    assert same == [ln.rsplit(None, 3)[0] for ln in checkout_status.splitlines()]
    checkout = pd.read_csv(pd.io.common.StringIO(_cli(checkout_seal, *args, cwd=REPO, env=checkout_env)))
    pd.testing.assert_frame_equal(installed, checkout)
