"""Run :func:`seal.estimate` as a stage of a distributed engine (Dask, Spark), unchanged.

The estimate is a pure function of a batch of rows: each partition is scored on its own, with no shuffle and no
shared state beyond the read-only artifact and fact tables every worker loads once. So the adapters are thin:

* Dask: ``estimate_dask(ddf, **defaults)`` is ``ddf.map_partitions(estimate_partition, ...)`` with the output
  schema (``meta``) taken from a one-row estimate. Needs the optional extra ``pip install seal[dask]``.
* Spark: ``df.mapInArrow(lambda it: estimate_arrow_batches(it, **defaults), schema)`` or
  ``df.mapInPandas(lambda it: estimate_pandas_batches(it, **defaults), schema)``; ``output_schema(sample)``
  gives the Arrow schema to declare (``pyspark.sql.pandas.types.from_arrow_schema`` turns it into a Spark one).

Neither engine is imported by this module unless its adapter is called.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd
    import pyarrow as pa


def estimate_partition(frame: pd.DataFrame, dtypes: dict[str, Any] | None = None, **defaults: Any) -> pd.DataFrame:
    """Score one partition with :func:`seal.estimate`, optionally conformed to a declared output schema.

    Args:
        frame: requests of one partition (columns of :data:`seal.columns.INPUT_COLUMNS`).
        dtypes: output column -> dtype the engine was promised (Dask's ``meta``); columns are put in that order,
            missing ones added empty, and a column whose dtype differs (e.g. all-missing in this partition) is
            cast to it. Empty partitions return an empty frame of that schema without calling the pipeline.
        **defaults: forwarded to :func:`seal.estimate` (``model``, ``gpu``, ``region``, ``pue`` ...).

    Returns:
        The scored partition: same rows, same order, same index.
    """
    from seal import api  # looked up at call time so a worker always uses the current pipeline

    if len(frame) == 0 and dtypes is not None:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in dtypes.items()}, index=frame.index)
    out = api.estimate(frame.reset_index(drop=True), **defaults)
    out.index = frame.index
    if dtypes is not None:
        out = out.reindex(columns=list(dtypes))
        for column, dtype in dtypes.items():
            if out[column].dtype != dtype:
                try:
                    out[column] = out[column].astype(dtype)
                except (TypeError, ValueError):
                    pass  # keep the values; the engine reports a real schema clash itself
    return out


def output_meta(sample: pd.DataFrame, **defaults: Any) -> pd.DataFrame:
    """Empty frame with the columns and dtypes :func:`seal.estimate` returns for rows like ``sample``."""
    if len(sample) == 0:
        raise ValueError("output_meta needs at least one sample row to infer the output schema")
    out = estimate_partition(sample.head(1), **defaults)
    for column in out.columns[out.dtypes == object]:
        # text held as Python objects: declare it as text so writers (Parquet, Spark) get a concrete type
        if pd.api.types.infer_dtype(out[column], skipna=True) in ("string", "empty"):
            out[column] = out[column].astype("str")
    return out.iloc[:0]


def estimate_dask(ddf: "dd.DataFrame", meta: pd.DataFrame | None = None, **defaults: Any) -> "dd.DataFrame":
    """Score a Dask DataFrame partition by partition (lazy; call ``.compute()`` or write it out).

    Args:
        ddf: requests as a Dask DataFrame (e.g. ``dd.read_parquet("logs/*.parquet")``).
        meta: output schema; default inferred from a one-row estimate of the first partition's head.
        **defaults: forwarded to :func:`seal.estimate` on every partition.

    Returns:
        A Dask DataFrame with the input columns plus the energy and carbon columns.
    """
    if meta is None:
        import warnings

        with warnings.catch_warnings():  # an empty first partition only means looking further
            warnings.simplefilter("ignore", UserWarning)
            sample = ddf.head(1, npartitions=1)
        if len(sample) == 0:
            sample = ddf.head(1, npartitions=-1)
        meta = output_meta(sample, **defaults)
    return ddf.map_partitions(estimate_partition, dtypes=meta.dtypes.to_dict(), meta=meta, **defaults)


def _arrow_table_from_pandas(frame: pd.DataFrame, schema: "pa.Schema | None") -> "pa.Table":
    import pyarrow as pa

    if schema is None:
        return pa.Table.from_pandas(frame, preserve_index=False)
    return pa.Table.from_pandas(frame.reindex(columns=schema.names), schema=schema, preserve_index=False)


def output_schema(sample: pd.DataFrame, **defaults: Any) -> "pa.Schema":
    """Arrow schema of the scored rows for requests like ``sample`` (what Spark's ``mapInArrow`` must be told)."""
    return _arrow_table_from_pandas(estimate_partition(sample.head(1), **defaults), None).schema


def estimate_arrow_batches(batches: Iterable["pa.RecordBatch"], schema: "pa.Schema | None" = None,
                           **defaults: Any) -> Iterator["pa.RecordBatch"]:
    """Score Arrow record batches one at a time (the function Spark's ``DataFrame.mapInArrow`` takes).

    Args:
        batches: request batches (any of the input columns).
        schema: output schema to cast to (default: whatever :func:`seal.estimate` returns per batch).
        **defaults: forwarded to :func:`seal.estimate`.

    Yields:
        One scored record batch per non-empty input batch, memory bounded by the batch size.
    """
    for batch in batches:
        if batch.num_rows == 0:
            continue
        out = estimate_partition(batch.to_pandas(), **defaults)
        yield from _arrow_table_from_pandas(out, schema).to_batches()


def estimate_pandas_batches(frames: Iterable[pd.DataFrame], **defaults: Any) -> Iterator[pd.DataFrame]:
    """Score pandas frames one at a time (the function Spark's ``DataFrame.mapInPandas`` takes)."""
    for frame in frames:
        if len(frame):
            yield estimate_partition(frame, **defaults)
