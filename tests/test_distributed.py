"""The distributed adapters score partitions exactly as one ``seal.estimate`` call would: Dask with its local
scheduler and a fake pipeline, then the shipped pipeline on a real ``distributed.LocalCluster`` of worker
processes (``distributed`` absent: skipped, except under ``CI=true`` where it fails). Spark: tests/test_spark.py.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _compare import assert_same_scores

from seal import api, distributed

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _fake_estimate(requests: pd.DataFrame, **defaults):
    """A vectorised stand-in for the pipeline: row-wise, depends on inputs and defaults, adds typed columns."""
    out = requests.copy()
    scale = float(defaults.get("pue", 1.0))
    out["gpu_energy_j"] = (out["input_tokens"] * 0.5 + out["output_tokens"] * 2.0) * scale
    out["total_g_co2e"] = out["gpu_energy_j"] / 3.6e6 * 400.0
    out["region"] = defaults.get("region", "WOR")
    out["warnings"] = np.where(out["output_tokens"] > 100, "default-serving-setup", "")
    return out


@pytest.fixture
def fake_pipeline(monkeypatch):
    calls = []

    def fake(requests=None, **defaults):
        calls.append((len(requests), defaults))
        return _fake_estimate(requests, **defaults)

    monkeypatch.setattr(api, "estimate", fake)
    return calls


def _requests(n: int = 57) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "request_id": np.arange(n),
        "model": rng.choice(["meta-llama/Meta-Llama-3.1-8B-Instruct", "gpt-4o-mini"], n),
        "input_tokens": rng.integers(1, 2000, n),
        "output_tokens": rng.integers(1, 500, n),
    })


def test_dask_partitions_match_one_call(fake_pipeline):
    dd = pytest.importorskip("dask.dataframe")
    frame = _requests()
    ddf = dd.from_pandas(frame, npartitions=4)
    scored = distributed.estimate_dask(ddf, pue=1.2, region="FRA")
    assert list(scored.columns) == list(_fake_estimate(frame.head(1)).columns)
    result = scored.compute().sort_values("request_id").reset_index(drop=True)
    expected = _fake_estimate(frame, pue=1.2, region="FRA")
    pd.testing.assert_frame_equal(result, expected, check_dtype=False)
    # one call for the meta, then one per partition, each with the defaults forwarded
    sizes = [n for n, _ in fake_pipeline]
    assert sizes[0] == 1 and len(sizes) == 1 + ddf.npartitions and sum(sizes[1:]) == len(frame)
    assert all(d == {"pue": 1.2, "region": "FRA"} for _, d in fake_pipeline)


def test_dask_empty_partition_keeps_schema(fake_pipeline):
    dd = pytest.importorskip("dask.dataframe")
    frame = _requests(20)
    ddf = dd.from_pandas(frame, npartitions=2)
    ddf = ddf[ddf["request_id"] >= 10]  # first partition becomes empty
    scored = distributed.estimate_dask(ddf, meta=distributed.output_meta(frame))
    parts = [scored.get_partition(i).compute() for i in range(scored.npartitions)]
    assert any(len(p) == 0 for p in parts)
    assert all(list(p.columns) == list(scored.columns) for p in parts)
    assert len(scored.compute()) == 10


def test_arrow_batches_match_one_call(fake_pipeline):
    frame = _requests()
    batches = pa.Table.from_pandas(frame, preserve_index=False).to_batches(max_chunksize=10)
    schema = distributed.output_schema(frame, pue=1.1)
    out = list(distributed.estimate_arrow_batches(iter(batches), schema=schema, pue=1.1))
    assert len(out) == 6 and all(b.schema == schema for b in out)
    result = pa.Table.from_batches(out).to_pandas()
    pd.testing.assert_frame_equal(result, _fake_estimate(frame, pue=1.1), check_dtype=False)


def test_pandas_batches_skip_empty(fake_pipeline):
    frame = _requests(30)
    chunks = [frame.iloc[:10], frame.iloc[10:10], frame.iloc[10:]]
    out = list(distributed.estimate_pandas_batches(chunks, pue=1.0))
    assert [len(o) for o in out] == [10, 20]
    pd.testing.assert_frame_equal(pd.concat(out), _fake_estimate(frame), check_dtype=False)


def test_real_pipeline_through_dask(tmp_path):
    """The shipped pipeline gives the same numbers partition by partition as in one call, and writes Parquet."""
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame({
        "model": ["meta-llama/Meta-Llama-3.1-8B-Instruct"] * 6 + ["mistralai/Mistral-7B-Instruct-v0.3"] * 6,
        "gpu": ["H100", "A100"] * 6,
        "region": ["FRA", "USA", "DEU"] * 4,
        "input_tokens": np.arange(1, 13) * 100,
        "output_tokens": np.arange(12, 0, -1) * 20,
    })
    expected = api.estimate(frame)
    result = distributed.estimate_dask(dd.from_pandas(frame, npartitions=3)).compute()
    result = result.reset_index(drop=True)
    for column in ("gpu_energy_j", "total_g_co2e"):
        np.testing.assert_allclose(result[column].to_numpy(float), expected[column].to_numpy(float), rtol=1e-9)
    assert list(result.columns) == list(expected.columns)
    # the declared schema is concrete enough for a Parquet dataset (text columns typed, not "object")
    scored = distributed.estimate_dask(dd.from_pandas(frame, npartitions=2))
    scored.to_parquet(tmp_path / "scored", write_index=False)
    back = pd.read_parquet(tmp_path / "scored")
    assert len(back) == len(frame)
    np.testing.assert_allclose(np.sort(back["total_g_co2e"].to_numpy(float)),
                               np.sort(expected["total_g_co2e"].to_numpy(float)), rtol=1e-9)


def _require_dask_cluster() -> None:
    missing = [name for name in ("dask.dataframe", "distributed") if importlib.util.find_spec(name) is None]
    if missing:
        msg = f"{' and '.join(missing)} not installed (install the test extras: pip install -e '.[test]')"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.mark.slow
def test_real_pipeline_on_a_local_cluster(tmp_path):
    """Worker processes of a real ``distributed.LocalCluster`` run the shipped pipeline partition by partition
    (from memory and from a Parquet folder) and give what one ``seal.estimate`` call gives."""
    _require_dask_cluster()
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    n = 240
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "request_id": np.arange(n, dtype="int64"),
        "model": rng.choice(["meta-llama/Meta-Llama-3.1-8B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3",
                             "Qwen/Qwen2.5-7B-Instruct", "gpt-4o-mini"], n),
        "input_tokens": rng.integers(1, 4000, n),
        "output_tokens": rng.integers(1, 800, n),
        "gpu": rng.choice(["H100", "A100", "L4"], n),
        "region": rng.choice(["FRA", "USA", "DEU", "aws:us-east-1", "WOR"], n),
        "timestamp": pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 86_400, n), "s"),
    })
    defaults = {"pue": 1.2, "batch_size": 32}
    expected = api.estimate(frame, **defaults)
    folder = tmp_path / "requests"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(n), 3)):
        frame.iloc[part].to_parquet(folder / f"part-{i}.parquet", index=False)

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                      host="127.0.0.1", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        assert len(set(client.run(os.getpid).values())) == 2  # two worker processes, not threads of this one
        in_memory = distributed.estimate_dask(dd.from_pandas(frame, npartitions=4), **defaults)
        assert in_memory.npartitions == 4
        assert_same_scores(in_memory.compute(), expected)
        from_files = distributed.estimate_dask(dd.read_parquet(str(folder)), **defaults)
        assert_same_scores(from_files.compute(), expected)
        # the estimates were computed in the workers (the pipeline was imported there), not in this process
        assert any(client.run(lambda: "seal.estimator" in sys.modules).values())
