"""A non-editable install works from any folder: package data (fact tables, the fitted artifact) is read with
importlib.resources, not from the source tree."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_install_estimates_and_builds_a_store(tmp_path):
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO),
                    "-w", str(wheels)], check=True, capture_output=True)
    wheel = next(wheels.glob("seal-*.whl"))
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
