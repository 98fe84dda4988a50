"""Comparing scored frames that went through an engine (Spark, Dask) with one ``seal.estimate`` call."""
from __future__ import annotations

import numpy as np
import pandas as pd


def _text(series: pd.Series) -> list:
    return [None if pd.isna(v) else str(v) for v in series]


def assert_same_scores(result: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same rows, same columns in the same order; floats to 1e-9, integers, text and times exactly."""
    assert list(result.columns) == list(expected.columns)
    result = result.sort_values("request_id").reset_index(drop=True)
    expected = expected.sort_values("request_id").reset_index(drop=True)
    assert len(result) == len(expected)
    for column in expected.columns:
        want, got = expected[column], result[column]
        if pd.api.types.is_datetime64_any_dtype(want):
            got = pd.to_datetime(got)
            got = got.dt.tz_localize("UTC") if got.dt.tz is None else got.dt.tz_convert("UTC")
            assert got.equals(want.dt.tz_convert("UTC").astype(got.dtype)), column
        elif pd.api.types.is_float_dtype(want):
            np.testing.assert_allclose(got.to_numpy(float), want.to_numpy(float), rtol=1e-9, equal_nan=True,
                                       err_msg=column)
        elif pd.api.types.is_integer_dtype(want):
            np.testing.assert_array_equal(got.to_numpy("int64"), want.to_numpy("int64"), err_msg=column)
        else:
            assert _text(got) == _text(want), column
    # the numbers that matter were really computed, not left empty
    for column in ("gpu_energy_j", "total_g_co2e", "water_ml"):
        assert (result[column] > 0).all(), column
