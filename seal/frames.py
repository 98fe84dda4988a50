"""Frame helpers shared by the pipeline's stages (logs, estimator, carbon): label columns built in Arrow, columns
set in one concat, coded warnings appended per row. A neutral module, so no stage imports another for them."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seal.errors import join_codes


def numeric_column(frame: pd.DataFrame, col: str, default: float = np.nan) -> np.ndarray:
    """``frame[col]`` as floats (NaN where missing or not a number; all ``default`` when the column is absent)."""
    if col not in frame:
        return np.full(len(frame), default, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def numeric_series(frame: pd.DataFrame, col: str, default: float = np.nan) -> pd.Series:
    """:func:`numeric_column` as a Series on ``frame.index``."""
    return pd.Series(numeric_column(frame, col, default), index=frame.index)


def object_column(frame: pd.DataFrame, col: str, fill: Any = None) -> pd.Series:
    """``frame[col]``, or an object column of ``fill`` (None; ``""`` for ``warnings``) where ``frame`` has none."""
    return frame[col] if col in frame else pd.Series([fill] * len(frame), index=frame.index, dtype=object)


def blank(s: pd.Series) -> np.ndarray:
    """True where a text cell is missing or empty (decided once per distinct value: logs repeat a few)."""
    if s.isna().all():
        return np.ones(len(s), dtype=bool)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    empty = np.array([str(u).strip() == "" for u in uniques] + [True], dtype=bool)
    return empty[np.where(codes >= 0, codes, len(uniques))]


def labels_column(labels: Any, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """``labels[codes]`` as a ``str`` column (missing labels stay missing), built in Arrow.

    For text that is a property of a configuration or region (``gpu_model``, ``estimate_basis``, ``region_zone`` ...):
    a C++ take from the few distinct labels. A per-row object array of Python strings would be converted to Arrow again
    by the writer for every batch (``make bench`` profile); this column is Arrow already.
    """
    import pyarrow as pa

    texts = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in labels]
    taken = pa.array(texts, type=pa.string()).take(pa.array(np.asarray(codes, dtype=np.int64)))
    return pd.Series(pd.array(taken, dtype="str"), index=index, copy=False)


def with_columns(frame: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` (arrays or Series on ``frame.index``) set: columns it has already are
    replaced in place, new ones are appended in order — like ``frame[name] = values`` for each, but new columns join
    in one concat (a ``__setitem__`` per column costs more per batch; see ``make bench``)."""
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    columns = {name: (values.array if isinstance(values, pd.Series) else values) for name, values in columns.items()}
    for name, values in columns.items():
        if name in out:
            out[name] = values
    new = {name: values for name, values in columns.items() if name not in frame}
    if not new:
        return out
    return pd.concat([out, pd.DataFrame(new, index=out.index, copy=False)], axis=1)


def add_codes(existing: pd.Series, masks: dict[str, np.ndarray]) -> pd.Series:
    """Append coded warnings (``;``-joined, no duplicates, order kept) per row, vectorised: rows are keyed by
    (existing text, bitmask of new codes) and each distinct key is joined once (a ``str`` column on
    ``existing.index``)."""
    codes = list(masks)
    bits = np.zeros(len(existing), dtype=np.int64)
    for i, code in enumerate(codes):
        bits |= np.asarray(masks[code], dtype=bool).astype(np.int64) << i
    ex_codes, ex_uniques = pd.factorize(existing, use_na_sentinel=True)
    ex_texts = [*map(str, ex_uniques), ""]  # last: missing warnings
    ex_codes = np.where(ex_codes < 0, len(ex_uniques), ex_codes)
    key = ex_codes.astype(np.int64) * (1 << len(codes)) + bits
    kcodes, kuniques = pd.factorize(key)
    joined = np.empty(len(kuniques), dtype=object)
    for j, k in enumerate(kuniques):
        ex, b = divmod(int(k), 1 << len(codes))
        joined[j] = join_codes(ex_texts[ex], *[c for i, c in enumerate(codes) if b >> i & 1])
    return labels_column(joined, kcodes, existing.index)




# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection": =, +, -, @, tab, CR).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^[=+\-@\t\r]"


def neutralise_csv_table(table: "Any") -> "Any":
    """An Arrow table whose text cells cannot run as spreadsheet formulas, as OWASP recommends.

    A text cell starting with one of :data:`FORMULA_PREFIXES` gets a leading apostrophe (``=HYPERLINK(…)`` becomes
    ``'=HYPERLINK(…)``), which spreadsheets show as text; numbers (negative ones included) are untouched, since only
    text columns are looked at. CR and LF inside a cell are kept: the CSV writer quotes such cells.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for name, col in zip(table.column_names, table.columns):
        kind = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            original = col.type
            text = col.cast(kind) if pa.types.is_dictionary(original) else col
            # first byte in the set: cheaper than a regex match (all six prefixes are one ASCII byte)
            hit = pc.is_in(pc.binary_slice(text.cast(pa.large_binary() if pa.types.is_large_string(kind)
                                                     else pa.binary()), 0, 1),
                           value_set=pa.array([c.encode() for c in FORMULA_PREFIXES], type=pa.binary()))
            if pc.any(hit).as_py():
                text = pc.if_else(hit, pc.binary_join_element_wise(pa.scalar("'", kind), text, pa.scalar("", kind)),
                                  text)
                col = text.cast(original) if pa.types.is_dictionary(original) else text
        columns.append(col)
    return pa.Table.from_arrays(columns, names=table.column_names)


def neutralise_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas (see :func:`neutralise_csv_table`)."""
    out = frame.copy(deep=False)
    for name in out.columns:
        col = out[name]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            text = col.astype("string")
            hit = text.str.match(_FORMULA_PATTERN).fillna(False).to_numpy(dtype=bool)
            if hit.any():
                values = col.astype(object).to_numpy(copy=True)
                values[hit] = ["'" + str(v) for v in values[hit]]
                out[name] = values
    return out
