"""Run :func:`seal.estimate` as a stage of a distributed engine (Dask, Spark), unchanged.

The estimate is a pure function of a batch of rows: each partition is scored on its own, with no shuffle and no
shared state beyond the read-only artifact and fact tables every worker loads once. So the adapters are thin:

* Dask: ``estimate_dask(ddf, **defaults)`` is ``ddf.map_partitions(estimate_partition, ...)`` with the output
  schema (``meta``) taken from a one-row estimate. Needs the optional extra ``pip install seal[dask]``.
* Spark: ``arrow_schema = output_schema(sample, **defaults)`` is the Arrow schema to declare
  (``pyspark.sql.pandas.types.from_arrow_schema(arrow_schema)`` turns it into a Spark one), then
  ``df.mapInArrow(lambda it: estimate_arrow_batches(it, schema=arrow_schema, **defaults), spark_schema)`` or
  ``df.mapInPandas(lambda it: estimate_pandas_batches(it, **defaults), spark_schema)``. The Python workers must
  run an interpreter that has SEAL installed (``PYSPARK_PYTHON``, e.g. ``sys.executable`` in local mode).

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


def _portable_type(arrow_type: "pa.DataType") -> "pa.DataType":
    """The Arrow type to declare to an engine for a column that ``pa.Table.from_pandas`` typed ``arrow_type``.

    What a one-row sample infers is not always what Spark's JVM side can read back from ``mapInArrow``
    (checked on Spark 3.5 and 4.3; ``from_arrow_schema`` accepts all of these, the failures come at run time):

    * ``dictionary`` (a categorical column): the JVM cannot read dictionary-encoded batches
      (``UnsupportedOperationException``, e.g. ``getUTF8String``), so the value type is declared.
    * ``null`` (a column empty in the sample row, e.g. ``app`` as object ``None``): declared as Spark's
      ``NullType``, any later batch with a value in it fails (``Unsupported cast from string to null``), so it
      is declared as nullable ``string`` (numeric columns of the pipeline are float, never null-typed).
    * timestamps in ``ns``/``ms``/``s`` (pandas < 3, or a nanosecond log): the JVM reads only microseconds
      (``UNSUPPORTED_ARROWTYPE`` or ``getLong`` unsupported), so ``us`` is declared, time zone kept (zone-aware: ``TimestampType``;
      naive: ``TimestampNTZType``).
    * ``large_string``/``large_binary``/view types (pandas >= 3 text is ``large_string``): declared as plain
      ``string``/``binary``, what Spark itself exchanges unless ``useLargeVarTypes`` is set.

    Lists and structs are converted element by element; other types are kept.
    """
    import pyarrow as pa

    t = pa.types
    string_view = getattr(t, "is_string_view", lambda _: False)  # view types: absent from older pyarrow
    binary_view = getattr(t, "is_binary_view", lambda _: False)
    if t.is_dictionary(arrow_type):
        return _portable_type(arrow_type.value_type)
    if t.is_large_string(arrow_type) or string_view(arrow_type) or t.is_null(arrow_type):
        return pa.string()
    if t.is_large_binary(arrow_type) or binary_view(arrow_type):
        return pa.binary()
    if t.is_timestamp(arrow_type) and arrow_type.unit != "us":
        return pa.timestamp("us", tz=arrow_type.tz)
    if t.is_list(arrow_type) or t.is_large_list(arrow_type):
        return pa.list_(_portable_type(arrow_type.value_type))
    if t.is_struct(arrow_type):
        return pa.struct([pa.field(f.name, _portable_type(f.type), f.nullable) for f in arrow_type])
    return arrow_type


def _arrow_table_from_pandas(frame: pd.DataFrame, schema: "pa.Schema | None") -> "pa.Table":
    """``frame`` as an Arrow table, conformed to ``schema`` when given (its columns, order and types).

    The direct conversion is tried first; where it refuses (a nanosecond timestamp that ``us`` would truncate,
    a number column declared as text because it was empty in the sample) each column is converted on its own
    and cast to the declared type, sub-microsecond time truncated. A real clash (text that is not a number in
    a number column) still raises ``pyarrow.ArrowInvalid``, which the engine reports.
    """
    import pyarrow as pa

    if schema is None:
        return pa.Table.from_pandas(frame, preserve_index=False)
    frame = frame.reindex(columns=schema.names)
    try:
        return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    import pyarrow.compute as pc

    arrays = []
    for field in schema:
        array = pa.array(frame[field.name], from_pandas=True)
        if array.type != field.type:
            array = pc.cast(array, options=pc.CastOptions(target_type=field.type, allow_time_truncate=True))
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)


def output_schema(sample: pd.DataFrame, **defaults: Any) -> "pa.Schema":
    """Arrow schema of the scored rows for requests like ``sample`` (what Spark's ``mapInArrow`` must be told).

    Inferred from a one-row estimate and made portable across engines and pandas versions (see
    :func:`_portable_type`): text is ``string``, never ``large_string``/``dictionary``/``null``; timestamps
    are ``us`` with their zone. ``pyspark.sql.pandas.types.from_arrow_schema`` accepts it on Spark >= 3.5, and
    :func:`estimate_arrow_batches` casts every batch to it, so the declared and returned types always match.
    """
    import pyarrow as pa

    inferred = _arrow_table_from_pandas(estimate_partition(sample.head(1), **defaults), None).schema
    return pa.schema([pa.field(f.name, _portable_type(f.type)) for f in inferred])


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
