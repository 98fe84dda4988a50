"""The Spark adapters on a real engine: PySpark in local mode (a JVM, Python worker processes, Arrow batches).

A Parquet folder of requests (three files) is read with ``spark.read.parquet``, scored with ``mapInArrow`` and
``mapInPandas`` through :mod:`seal.distributed` and the shipped pipeline, and compared with one
``seal.estimate`` call on the same rows. PySpark or Java absent: skipped, except under ``CI=true`` where it
fails (``make test`` installs the test extras and Debian's openjdk-17-jre-headless).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
from _compare import assert_same_scores

from seal import api, distributed

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BATCH_ROWS = 64  # spark.sql.execution.arrow.maxRecordsPerBatch: several Arrow batches per partition
FILES, ROWS_PER_FILE = 3, 200
DEFAULTS = {"pue": 1.2, "batch_size": 32}
MODELS = ["meta-llama/Meta-Llama-3.1-8B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3",
          "Qwen/Qwen2.5-7B-Instruct", "gpt-4o-mini"]

pytestmark = [
    pytest.mark.slow,
    # PySpark's own pandas >= 3 deprecation noise on every conversion; the comparisons below are what count
    pytest.mark.filterwarnings("ignore::FutureWarning:pyspark"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark"),
]


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    return shutil.which("java")


def _require_spark() -> None:
    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (install the test extras: pip install -e '.[test]')")
    if _java() is None:
        missing.append("java (make test installs Debian's openjdk-17-jre-headless with apt-get)")
    if missing:
        msg = "Spark local mode needs " + " and ".join(missing)
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def spark():
    """One local-mode session for the module: 2 cores, loopback only, no UI, UTC, small Arrow batches."""
    _require_spark()
    from pyspark.sql import SparkSession

    with pytest.MonkeyPatch.context() as env:
        env.setenv("PYSPARK_PYTHON", sys.executable)  # workers run this venv's Python, where SEAL is installed
        env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        session = (
            SparkSession.builder.master("local[2]").appName("seal-test")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS))
            .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
            .config("spark.python.worker.reuse", "true")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        try:
            yield session
        finally:
            session.stop()


def _requests(n: int) -> pd.DataFrame:
    """Requests of the kinds logs give: catalogue models, GPUs, regions, UTC timestamps, some empty cells."""
    rng = np.random.default_rng(12)
    app = rng.choice(np.array(["chat", "search", None], dtype=object), n)
    return pd.DataFrame({
        "request_id": np.arange(n, dtype="int64"),
        "model": rng.choice(MODELS, n),
        "input_tokens": rng.integers(1, 4000, n),
        "output_tokens": rng.integers(1, 800, n),
        "gpu": rng.choice(["H100", "A100", "L4"], n),
        "region": rng.choice(["FRA", "USA", "DEU", "aws:us-east-1", "WOR"], n),
        "timestamp": pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 86_400, n), "s"),
        "app": pd.Series(app, dtype="str"),
    })


@pytest.fixture(scope="module")
def requests_dir(tmp_path_factory):
    """A Parquet folder of requests in several files, and the same rows as one frame."""
    frame = _requests(FILES * ROWS_PER_FILE)
    folder = tmp_path_factory.mktemp("spark") / "requests"
    folder.mkdir()
    for i in range(FILES):
        part = frame.iloc[i * ROWS_PER_FILE:(i + 1) * ROWS_PER_FILE]
        part.to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder, frame


@pytest.fixture(scope="module")
def expected(requests_dir):
    """What one in-process ``seal.estimate`` call gives for all the rows."""
    _, frame = requests_dir
    return api.estimate(frame, **DEFAULTS)


def _schemas(frame: pd.DataFrame):
    from pyspark.sql.pandas.types import from_arrow_schema

    arrow_schema = distributed.output_schema(frame, **DEFAULTS)
    return arrow_schema, from_arrow_schema(arrow_schema)


def test_map_in_arrow_matches_one_call(spark, requests_dir, expected):
    """Parquet folder -> spark.read.parquet -> mapInArrow over several Arrow batches -> toPandas == one call."""
    folder, frame = requests_dir
    arrow_schema, spark_schema = _schemas(frame)
    seen = spark.sparkContext.accumulator(0)  # batches the workers actually scored

    def score(batches):
        def counted():
            for batch in batches:
                seen.add(1)
                yield batch
        return distributed.estimate_arrow_batches(counted(), schema=arrow_schema, **DEFAULTS)

    df = spark.read.parquet(str(folder))
    assert df.count() == len(frame)
    result = df.mapInArrow(score, spark_schema).toPandas()
    # several Arrow batches were scored independently, yet the result equals one call on all rows
    assert seen.value >= len(frame) // BATCH_ROWS
    assert_same_scores(result, expected)


def test_map_in_pandas_writes_parquet(spark, requests_dir, expected, tmp_path):
    """mapInPandas with the same declared schema, written by Spark as Parquet and read back with pandas."""
    folder, frame = requests_dir
    _, spark_schema = _schemas(frame)
    df = spark.read.parquet(str(folder))
    scored = df.mapInPandas(lambda frames: distributed.estimate_pandas_batches(frames, **DEFAULTS), spark_schema)
    scored.write.parquet(str(tmp_path / "scored"))
    back = pd.read_parquet(tmp_path / "scored")
    assert len(list((tmp_path / "scored").glob("*.parquet"))) >= 2  # written by more than one task
    assert_same_scores(back, expected)


def test_schema_from_an_awkward_pandas_sample(spark, requests_dir, expected):
    """A sample read with pandas (categorical text, an all-empty object column, nanosecond UTC timestamps)
    still declares a schema Spark takes, and batches whose cells are filled in fit it."""
    folder, frame = requests_dir
    sample = frame.head(1).astype({"model": "category"})
    sample["app"] = pd.Series([None], dtype=object, index=sample.index)  # empty in the sample, text later
    sample["timestamp"] = sample["timestamp"].astype("datetime64[ns, UTC]") + pd.Timedelta(1, "ns")
    arrow_schema, spark_schema = _schemas(sample)
    df = spark.read.parquet(str(folder))
    result = df.mapInArrow(
        lambda it: distributed.estimate_arrow_batches(it, schema=arrow_schema, **DEFAULTS), spark_schema
    ).toPandas()
    assert result["app"].notna().any()
    assert_same_scores(result, expected)
