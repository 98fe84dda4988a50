"""CodeCarbon ``emissions.csv`` -> measured energy windows, and each window's energy shared among the requests of a
log that fall inside it ("calibrate to your own fleet").

What CodeCarbon writes (read in the codecarbon 3.3.2 wheel, checked against 1.2.0, 2.1.4, 2.3.5, 2.5.1, 2.8.4, 3.0.9):

- **Columns.** ``codecarbon/output_methods/emissions_data.py``, dataclass ``EmissionsData``: its field order is the CSV
  header (``FileOutput`` writes ``pd.DataFrame.from_records([dict(total.values)])``, ``values`` = ``__dict__`` in field
  order). 3.3.2 has the 38 columns of :data:`CODECARBON_COLUMNS`. Older headers (``output.py`` before 2.5, then
  ``output_methods/emissions_data.py``):

  - 1.2.0 (12): timestamp, experiment_id, project_name, duration, emissions, energy_consumed, country_name,
    country_iso_code, region, on_cloud, cloud_provider, cloud_region: no run_id, no gpu_energy (not readable here);
  - 2.1.4 (29): timestamp, project_name, run_id, duration, emissions, emissions_rate, cpu_power, gpu_power,
    ram_power, cpu_energy, gpu_energy, ram_energy, energy_consumed, country_name, country_iso_code, region,
    cloud_provider, cloud_region, os, python_version, cpu_count, cpu_model, gpu_count, gpu_model, longitude,
    latitude, ram_total_size, tracking_mode, on_cloud;
  - 2.3.5 and 2.5.1 (31): 2.1.4 + codecarbon_version (after python_version) + pue (last);
  - 2.8.4 (32): + experiment_id after run_id;
  - 3.0.9 (34): + water_consumed after energy_consumed, + wue last;
  - 3.3.2 (38): + cpu_utilization_percent, gpu_utilization_percent, ram_utilization_percent, ram_used_gb after
    tracking_mode (on_cloud, pue, wue are now the last three).

- **Units.** ``duration`` s (``time.perf_counter() - _start_time``; ``time.time()`` before 2.5), ``emissions``
  kg CO2eq, ``emissions_rate`` kg/s (g/s in 2.1.4), ``cpu_power`` / ``gpu_power`` / ``ram_power`` W (3.3.2: mean over
  the run's measurements), ``cpu_energy`` / ``gpu_energy`` / ``ram_energy`` / ``energy_consumed`` kWh
  (``energy_consumed`` = the sum over all tracked hardware), ``water_consumed`` L, ``ram_total_size`` GB, ``gpu_count``
  the number of GPUs tracked, ``gpu_model`` e.g. ``"8 x NVIDIA H100 80GB HBM3"``. Since 2.3 every energy is
  **multiplied by** ``pue`` when measured (``emissions_tracker.py`` ``_do_measurements``: ``energy *= self._pue``;
  default 1): :func:`read_emissions` divides by ``pue`` so the energies are the hardware's own (IT) energy.

- **Timestamp.** ``emissions_tracker.py`` ``_prepare_emissions_data``:
  ``timestamp=datetime.now().strftime("%Y-%m-%dT%H:%M:%S")``, the machine's **local wall-clock time, naive (no
  offset) and truncated to whole seconds**, taken when the row is written: it is the *end* of what the row covers.
  Hence ``tz``: naive timestamps are read in the time zone the tracker ran in (UTC on most servers and containers).

- **Rows.** ``output_methods/file.py`` ``FileOutput.out(total, delta)`` writes ``total``: the **running totals since
  the tracker started** (``delta`` is ignored by the file output). ``out`` is called only by ``flush()`` and
  ``stop()`` (through ``_persist_data``); the periodic measurement (every ``measure_power_secs``, default 15 s) calls
  ``live_out`` every ``api_call_interval`` measurements (default 8), which is a no-op for the file (it feeds the API,
  logger and Prometheus outputs). With ``on_csv_write="append"`` (the default) each flush/stop adds a row, so one
  ``run_id`` (``uuid4()`` per tracker, or the API's run id) has several **cumulative** rows; with ``"update"`` the
  run's single row is replaced by the latest totals (unless the file already holds more than one row of that run,
  then it appends). A file whose header differs from the tracker's is backed up and a new file started, so a file
  has one header (3.3.2 matches header names as a set and appends in the file's column order: read by name).
  ``start_task()`` (and a ``start()`` after ``stop()``) restarts ``duration`` from 0 while the energies keep running.

- **Task files.** ``task_out`` writes ``emissions_<experiment>_<run_id>.csv`` from ``TaskEmissionsData``
  (``task_name`` first, then the ``EmissionsData`` columns up to on_cloud, all-empty columns dropped): one row per
  task with the task's own energy (a delta, ``compute_delta_emission``) and duration, stamped at ``stop_task()``.

How this module reads it:

- :func:`read_emissions`: rows of one ``run_id`` are sorted by timestamp and differenced: window ``k`` runs from the
  previous row's timestamp to this row's, with this row's totals minus the previous row's; the first window of a run
  starts at its first ``timestamp - duration`` (the run start). An "update"-mode file gives one window per run. A task
  file's rows are taken as they are (``[timestamp - duration, timestamp)``). Window edges carry CodeCarbon's
  whole-second truncation (up to 1 s early). Where ``duration`` drops inside a run (``start_task`` / restart) the
  window still starts at the previous row (counted as ``duration_resets``): energy between a ``stop()`` and the next
  ``start()`` was never measured, so such a window under-counts.
- :func:`apportion`: each window's energy is shared among the requests whose ``timestamp`` lies in
  ``[start_utc, end_utc)``, by tokens or by given weights; all of it, idle power included (windows without requests
  are reported as unassigned). Windows of different runs may overlap (several trackers on one server, e.g. one per GPU
  or per process): a request inside windows of two runs takes a share of each, so its measured energy is the sum.
  ``measure_group`` names the windows whose total the group's requests share (the window, or windows linked through
  shared requests): sums over a group are measured, the split inside a group is the chosen method's.
"""
from __future__ import annotations

import csv
import heapq
import io
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from seal.errors import SealError
from seal.units import J_PER_KWH
from seal.frames import labels_column, numeric_column, with_columns


# codecarbon 3.3.2 EmissionsData field order (= emissions.csv header), for reference and for writing test files.
CODECARBON_COLUMNS: tuple[str, ...] = (
    "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate",
    "cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed",
    "water_consumed", "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os",
    "python_version", "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude",
    "latitude", "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
    "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue",
)
# The columns read_emissions needs (CodeCarbon >= 2.0 has them all); cpu_energy, ram_energy, energy_consumed, pue,
# gpu_count, gpu_model are read when present.
REQUIRED_COLUMNS: tuple[str, ...] = ("timestamp", "run_id", "duration", "gpu_energy")
ENERGY_COLUMNS: tuple[str, ...] = ("gpu_energy", "cpu_energy", "ram_energy", "energy_consumed")  # kWh
_SIGNATURE = ("timestamp", "duration", "emissions", "energy_consumed")  # in every CodeCarbon header since 1.x
_PASSTHROUGH = ("project_name", "experiment_id", "codecarbon_version", "tracking_mode")  # kept when present
_HAS = ("timestamp, project_name, run_id, duration, emissions, cpu_energy, gpu_energy, ram_energy, energy_consumed "
        "(kWh), gpu_count, gpu_model ...")
_SKIP_HINT = "fix the row, or pass skip_bad=True (--skip-bad) to skip bad rows and count them"
_EXAMPLES_KEPT = 5
_MONOTONE_RTOL = 1e-9   # a running total may dip this much (relative) from float rounding and still count as equal

_ACCEPTED = {  # reason key prefix -> what is accepted
    "fields": "each row has one value per header column",
    "run_id": "each CodeCarbon row names its run_id",
    "timestamp": "timestamps are ISO dates such as 2026-03-01T12:00:00 (CodeCarbon's local time, read in --tz)",
    "dst": "give the time zone the file was written in (--tz) or UTC timestamps",
    "duration": "duration is seconds >= 0",
    "energy": "CodeCarbon energies are kWh >= 0",
    "pue": "pue is a number > 0",
    "decrease": "rows of one run_id are CodeCarbon's running totals since the run started, so they never decrease",
}

_METHODS = {
    "tokens": "codecarbon window energy shared by input+output tokens",
    "output": "codecarbon window energy shared by output tokens",
    "estimate": "codecarbon window energy shared by estimated energy (given weights)",
}
_EQUAL_NOTE = "; equal shares (no request of the window has weight)"
_AWARE = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def _names(header: list[str]) -> list[str]:
    return [str(c).strip().lstrip("\ufeff").strip().lower() for c in header]


def is_emissions_csv(header: list[str]) -> bool:
    """True when a CSV header is CodeCarbon's (any version since 1.x, task files included): it has timestamp, duration,
    emissions and energy_consumed, and run_id or project_name. Used to auto-detect the import kind."""
    names = set(_names(header))
    return set(_SIGNATURE) <= names and bool({"run_id", "project_name"} & names)


# --------------------------------------------------------------------------------------------------- reading
def _zone(tz: str) -> str:
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise SealError(f"unknown time zone {tz!r}; give an IANA name such as UTC, Europe/Paris or "
                        "America/New_York (--tz)") from None
    return str(tz)


def _text(path: Any, name: str) -> str:
    try:
        if hasattr(path, "read"):
            data = path.read()
        else:
            data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SealError(f"{path} does not exist; give the path of a CodeCarbon emissions.csv") from None
    except OSError as exc:
        raise SealError(f"cannot read {path} ({exc.strerror or exc}); give the path of a CodeCarbon "
                        "emissions.csv") from None
    if isinstance(data, str):
        text = data.lstrip("\ufeff")
    else:
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SealError(f"{name} is not a CSV text file (its bytes are not UTF-8); a CodeCarbon "
                            f"emissions.csv is a comma-separated file with the header {_HAS}") from None
    if "\x00" in text:
        raise SealError(f"{name} is not a CSV text file (it holds binary data); a CodeCarbon emissions.csv is a "
                        f"comma-separated file with the header {_HAS}")
    return text


def _rows(text: str, name: str) -> tuple[list[str], list[list[str]], list[int], list[tuple[int, str, str]]]:
    """Header, the rows with as many fields as it (and their line numbers), and the ragged rows as bad rows."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    ragged: list[tuple[int, str, str]] = []
    try:
        for row in reader:
            if not row or all(not f.strip() for f in row):
                continue  # blank line
            if header is None:
                header = row
                continue
            if len(row) != len(header):
                ragged.append((reader.line_num, "fields",
                               f"has {len(row)} fields where the header has {len(header)}"))
                continue
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise SealError(f"{name} cannot be read as CSV near line {reader.line_num} ({exc}); a CodeCarbon "
                        f"emissions.csv is a comma-separated file with the header {_HAS}") from None
    if header is None:
        raise SealError(f"{name} is empty; a CodeCarbon emissions.csv has a header ({_HAS}) and a row per flush() "
                        "or stop()")
    return header, rows, lines, ragged


def _check_header(header: list[str], name: str) -> list[str]:
    cols = _names(header)
    missing = [c for c in REQUIRED_COLUMNS if c not in cols]
    if not missing:
        return cols
    if len(cols) == 1:
        first = header[0][:60]
        raise SealError(f"{name} is not a CSV file with a CodeCarbon header (its first line is {first!r}); a "
                        f"CodeCarbon emissions.csv is comma-separated with the header {_HAS}")
    if is_emissions_csv(cols) and "run_id" in missing and "gpu_energy" in missing:
        raise SealError(f"{name} was written by CodeCarbon 1.x, which records neither run_id nor gpu_energy; "
                        "measure with CodeCarbon 2.0 or later, whose emissions.csv has " + _HAS)
    raise SealError(f"{name} lacks the column(s) {', '.join(missing)}; a CodeCarbon emissions.csv has {_HAS}")


class _Bad:
    """Bad rows found so far: one reason per row (the first found), by position in the parsed rows."""

    def __init__(self, n: int) -> None:
        self.mask = np.zeros(n, dtype=bool)
        self.key = np.empty(n, dtype=object)
        self.what = np.empty(n, dtype=object)

    def mark(self, mask: np.ndarray, key: str, what: np.ndarray | str) -> None:
        new = np.asarray(mask, dtype=bool) & ~self.mask
        if not new.any():
            return
        self.mask |= new
        self.key[new] = key
        self.what[new] = what[new] if isinstance(what, np.ndarray) else what


def _accepted_key(key: str) -> str:
    """The _ACCEPTED entry for a bad-row reason key."""
    words = key.split(" ")
    if words[0] == "decreasing":
        return "decrease"
    if words[0] == "dst":
        return "dst"
    if words[-1] in ENERGY_COLUMNS:
        return "energy"
    if "timestamp" in words:
        return "timestamp"
    return words[-1]  # fields, run_id, duration, pue


def _fail(bad: list[tuple[int, str, str]], name: str) -> None:
    line, key, what = min(bad)
    raise SealError(f"line {line} of {name} {what}; {_ACCEPTED[_accepted_key(key)]} ({_SKIP_HINT})")


def _parse_times(raw: np.ndarray, zone: str, bad: _Bad) -> np.ndarray:
    """ISO timestamps -> int64 ns UTC; naive ones in ``zone``, ones with an offset converted. Bad ones marked."""
    text = pd.Series(raw, dtype=object).astype(str).str.strip()
    empty = (text == "").to_numpy()
    aware = text.str.contains(_AWARE).to_numpy() & ~empty
    out = np.full(len(text), np.iinfo(np.int64).min, dtype=np.int64)
    dst = np.zeros(len(text), dtype=bool)
    if (~aware & ~empty).any():
        naive = pd.to_datetime(text[~aware & ~empty], format="ISO8601", errors="coerce")
        ok = naive.notna().to_numpy()
        local = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        dst[np.flatnonzero(~aware & ~empty)[ok & local.isna().to_numpy()]] = True
        valid = local.notna().to_numpy()
        idx = np.flatnonzero(~aware & ~empty)[valid]
        out[idx] = pd.DatetimeIndex(local[valid]).tz_convert("UTC").as_unit("ns").asi8
    if aware.any():
        parsed = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
        valid = parsed.notna().to_numpy()
        out[np.flatnonzero(aware)[valid]] = pd.DatetimeIndex(parsed[valid]).as_unit("ns").asi8
    bad.mark(empty, "no timestamp", "has no timestamp")
    bad.mark(dst, "dst timestamp",
             np.array([f"has a timestamp ({t}) that does not exist or is ambiguous in {zone} (a daylight-saving "
                       "change)" for t in text], dtype=object))
    unparsed = (out == np.iinfo(np.int64).min) & ~empty & ~dst
    bad.mark(unparsed, "timestamp not a date",
             np.array([f"has a timestamp that is not a date ({t!r})" for t in text], dtype=object))
    return out


def _parse_number(raw: np.ndarray, col: str, bad: _Bad, *, required: bool, minimum: float = 0.0,
                  strict_min: bool = False, key_word: str = "") -> np.ndarray:
    text = pd.Series(raw, dtype=object).astype(str).str.strip()
    empty = (text == "").to_numpy()
    values = pd.to_numeric(text.where(~empty, None), errors="coerce").astype(float).to_numpy()
    if required:
        bad.mark(empty, f"no {col}", f"has no {col}")
    nonnum = ~empty & ~np.isfinite(values)
    bad.mark(nonnum, f"non-numeric {col}",
             np.array([f"has a non-numeric {col} ({t!r})" for t in text], dtype=object))
    below = np.isfinite(values) & ((values <= minimum) if strict_min else (values < minimum))
    bad.mark(below, f"{key_word or 'negative'} {col}",
             np.array([f"has a {key_word or 'negative'} {col} ({v:g})" for v in values], dtype=object))
    return values


def read_emissions(path: Any, *, tz: str = "UTC", skip_bad: bool = False) -> tuple[pd.DataFrame, dict]:
    """CodeCarbon ``emissions.csv`` (or a task file ``emissions_<experiment>_<run_id>.csv``) -> one row per
    measurement window.

    Columns: ``window_id`` (``f"{run_id}#{k}"``, k = 0, 1 ... in time order; ``f"{run_id}#{task_name}"`` for a task
    file), ``run_id``, ``start_utc``, ``end_utc`` (tz-aware UTC), ``duration_s`` (end - start), ``gpu_energy_j``,
    ``cpu_energy_j``, ``ram_energy_j``, ``energy_j`` (CodeCarbon's ``energy_consumed``: all three; the sum of the
    three where the column is absent), all divided by the row's ``pue`` (CodeCarbon multiplies by it), NaN where the
    file lacks the column; ``gpu_count``, ``gpu_model``; ``project_name``, ``experiment_id``, ``codecarbon_version``,
    ``tracking_mode``, ``pue`` when the file has them; ``source_line`` (the line of the row that closes the window).
    Windows are sorted by start, then run.

    Cumulative rows of one run are differenced into consecutive windows (the first starts at the run start, its
    ``timestamp - duration``); see the module docstring for what CodeCarbon writes. Naive timestamps are read in
    ``tz`` (an IANA name), ones with an offset are converted. A bad row (ragged, no run_id, timestamp not a date or
    inside a daylight-saving change, duration or energy missing / not a number / negative, pue not > 0, a running
    total below the run's previous row) raises a :class:`SealError` naming its line; with ``skip_bad`` it is left
    out and counted (a left-out cumulative row's energy falls into the run's next window). Exact duplicate rows are
    dropped and counted.

    Returns ``(windows, report)``; report: ``file``, ``kind`` ("cumulative" or "task"), ``tz``, ``rows_read``,
    ``rows_skipped``, ``skipped`` (reason -> count), ``examples`` (a few "line N: ..."), ``duplicate_rows``,
    ``duration_resets``, ``runs``, ``windows``, ``codecarbon_versions``.
    """
    zone = _zone(tz)
    name = _file_name(path)
    header, rows, lines, ragged = _rows(_text(path, name), name)
    grid, first = _grid(header, rows, name)
    line_no = np.asarray(lines, dtype=np.int64)
    bad = _Bad(len(rows))
    frame = _parsed_frame(grid, first, line_no, zone, bad)
    bad_rows = ragged + [(int(line_no[i]), bad.key[i], bad.what[i]) for i in np.flatnonzero(bad.mask)]
    if bad_rows and not skip_bad:
        _fail(bad_rows, name)
    rows_read = len(rows) + len(ragged)
    frame, duplicate_rows = _drop_duplicates(frame[~bad.mask], grid[~bad.mask])
    task = "task_name" in frame
    frame, decreasing = _ordered_rows(frame, task, name, skip_bad)
    bad_rows += decreasing
    if frame.empty:
        _fail_empty(name, rows_read, bad_rows)

    windows, resets = (_task_windows(frame) if task else _cumulative_windows(frame))
    windows = windows.sort_values(["start_utc", "run_id", "end_utc"], kind="stable").reset_index(drop=True)
    return windows, {
        "file": name,
        "kind": "task" if task else "cumulative",
        "tz": zone,
        "rows_read": rows_read,
        **_skip_report(bad_rows),
        "duplicate_rows": duplicate_rows,
        "duration_resets": resets,
        "runs": int(windows["run_id"].nunique()),
        "windows": len(windows),
        "codecarbon_versions": sorted({v for v in frame.get("codecarbon_version", pd.Series(dtype=object)) if v}),
    }


def _file_name(path: Any) -> str:
    """The file's name (no folder) for messages: a path's name, a file object's ``name``, else "emissions.csv"."""
    name = Path(path).name if isinstance(path, (str, Path)) else str(getattr(path, "name", "") or "emissions.csv")
    return Path(name).name


def _grid(header: list[str], rows: list[list[str]], name: str) -> tuple[np.ndarray, dict[str, int]]:
    """(the rows' fields as a 2-D object array, each column name's first position); the header checked."""
    cols = _check_header(header, name)
    first = {c: cols.index(c) for c in dict.fromkeys(cols)}
    return np.array(rows, dtype=object).reshape(len(rows), len(cols)), first


def _stripped(raw: np.ndarray) -> np.ndarray:
    """Raw CSV fields -> stripped text (object array)."""
    return pd.Series(raw, dtype=object).astype(str).str.strip().to_numpy(dtype=object)


def _parsed_frame(grid: np.ndarray, first: dict[str, int], line_no: np.ndarray, zone: str, bad: _Bad
                  ) -> pd.DataFrame:
    """One row per parsed CSV row: line, run_id, ts (ns UTC), duration (s), pue, energies (kWh, divided by pue),
    gpu_model / task_name / passthrough text when present, gpu_count. Bad rows are marked in ``bad``, not dropped."""
    def raw(col: str) -> np.ndarray:
        return grid[:, first[col]]

    run_id = _stripped(raw("run_id"))
    bad.mark(run_id == "", "no run_id", "has no run_id")
    ts = _parse_times(raw("timestamp"), zone, bad)
    duration = _parse_number(raw("duration"), "duration", bad, required=True)
    energy = {c: _parse_number(raw(c), c, bad, required=True) for c in ENERGY_COLUMNS if c in first}
    if "pue" in first:
        pue_raw = _stripped(raw("pue"))
        pue = _parse_number(pue_raw, "pue", bad, required=False, strict_min=True, key_word="non-positive")
        pue = np.where(pue_raw == "", 1.0, pue)
    else:
        pue = np.ones(len(grid))

    frame = pd.DataFrame({"line": line_no, "run_id": run_id, "ts": ts, "duration": duration, "pue": pue})
    ok_pue = pue > 0   # a non-positive pue is a bad row (marked above): no division by it
    for c, v in energy.items():
        frame[c] = np.divide(v, pue, out=np.full(len(v), np.nan), where=ok_pue)  # CodeCarbon's energies: IT x pue
    for c in ("gpu_model", "task_name", *_PASSTHROUGH):
        if c in first:
            frame[c] = _stripped(raw(c))
    frame["gpu_count"] = (pd.to_numeric(pd.Series(_stripped(raw("gpu_count"))), errors="coerce").astype(float)
                          .to_numpy() if "gpu_count" in first else np.nan)
    return frame


def _drop_duplicates(frame: pd.DataFrame, grid: np.ndarray) -> tuple[pd.DataFrame, int]:
    """(frame without exact duplicate rows of ``grid``, the number dropped): a file concatenated twice, a row
    re-sent; one of each kept."""
    dup = pd.DataFrame(grid).astype(str).duplicated().to_numpy()
    return frame[~dup], int(dup.sum())


def _ordered_rows(frame: pd.DataFrame, task: bool, name: str, skip_bad: bool
                  ) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """(rows sorted by run then time, the bad rows left out): cumulative rows whose running total dips are left out
    with ``skip_bad``, else raise."""
    frame = frame.sort_values(["run_id", "ts", "duration", "line"], kind="stable").reset_index(drop=True)
    if task:
        return frame, []
    frame, decreasing = _drop_decreasing(frame)
    if decreasing and not skip_bad:
        _fail(decreasing, name)
    return frame, decreasing


def _skip_report(bad_rows: list[tuple[int, str, str]]) -> dict[str, Any]:
    """The report's ``rows_skipped``, ``skipped`` (reason key -> count) and ``examples`` ("line N: ...")."""
    skipped: dict[str, int] = {}
    for _, key, _ in bad_rows:
        skipped[key] = skipped.get(key, 0) + 1
    examples = [f"line {ln}: {what}" for ln, _, what in sorted(bad_rows)[:_EXAMPLES_KEPT]]
    return {"rows_skipped": len(bad_rows), "skipped": skipped, "examples": examples}


def _fail_empty(name: str, rows_read: int, bad_rows: list[tuple[int, str, str]]) -> None:
    """Raise for a file with no usable row: no rows at all, or every row bad."""
    if rows_read == 0:
        raise SealError(f"{name} has a header but no measurement rows; CodeCarbon writes a row at each flush() "
                        "and at stop()")
    ln, _, what = min(bad_rows)
    raise SealError(f"every row of {name} is bad (e.g. line {ln} {what}); a CodeCarbon emissions.csv has "
                    f"{_HAS}")


def _drop_decreasing(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """Rows whose running total is below the run's previous kept row, in any energy column: left out (until none)."""
    found: list[tuple[int, str, str]] = []
    cols = [c for c in ENERGY_COLUMNS if c in frame]
    while True:
        flag = np.zeros(len(frame), dtype=bool)
        key = np.empty(len(frame), dtype=object)
        what = np.empty(len(frame), dtype=object)
        group = frame.groupby("run_id", sort=False)
        for c in cols:
            prev = group[c].cummax().groupby(frame["run_id"], sort=False).shift().to_numpy()
            cur = frame[c].to_numpy()
            dips = np.isfinite(prev) & (cur < prev * (1 - _MONOTONE_RTOL)) & ~flag
            for i in np.flatnonzero(dips):
                pue = frame["pue"].iat[i]
                key[i] = f"decreasing {c}"
                what[i] = (f"has a running total {c} ({cur[i] * pue:g} kWh) below the previous row of run "
                           f"{frame['run_id'].iat[i]} ({prev[i] * pue:g} kWh)")
            flag |= dips
        if not flag.any():
            return frame, found
        found += [(int(frame["line"].iat[i]), key[i], what[i]) for i in np.flatnonzero(flag)]
        frame = frame[~flag].reset_index(drop=True)


def _window_frame(frame: pd.DataFrame, window_id: np.ndarray, start: np.ndarray, end: np.ndarray,
                  energy: dict[str, np.ndarray]) -> pd.DataFrame:
    n = len(frame)
    nan = np.full(n, np.nan)
    gpu = energy["gpu_energy"] * J_PER_KWH
    cpu = energy.get("cpu_energy", nan) * J_PER_KWH
    ram = energy.get("ram_energy", nan) * J_PER_KWH
    total = energy["energy_consumed"] * J_PER_KWH if "energy_consumed" in energy else gpu + cpu + ram
    out = {
        "window_id": pd.array(window_id.astype(str), dtype="str"),
        "run_id": pd.array(frame["run_id"].to_numpy(dtype=str), dtype="str"),
        "start_utc": pd.to_datetime(start, utc=True).as_unit("ns"),
        "end_utc": pd.to_datetime(end, utc=True).as_unit("ns"),
        "duration_s": (end - start) / 1e9,
        "gpu_energy_j": gpu,
        "cpu_energy_j": cpu,
        "ram_energy_j": ram,
        "energy_j": total,
        "gpu_count": frame["gpu_count"].to_numpy(dtype=float),
        "gpu_model": pd.array(frame["gpu_model"].to_numpy(dtype=object) if "gpu_model" in frame
                              else np.full(n, None, dtype=object), dtype="str"),
    }
    for c in _PASSTHROUGH:
        if c in frame:
            out[c] = pd.array(frame[c].to_numpy(dtype=object), dtype="str")
    out["pue"] = frame["pue"].to_numpy(dtype=float)
    out["source_line"] = frame["line"].to_numpy(dtype=np.int64)
    return pd.DataFrame(out)


def _cumulative_windows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows sorted by run then time: running totals -> consecutive windows."""
    run = frame["run_id"].to_numpy(dtype=object)
    first = np.ones(len(frame), dtype=bool)
    first[1:] = run[1:] != run[:-1]
    ts = frame["ts"].to_numpy(dtype=np.int64)
    dur = frame["duration"].to_numpy(dtype=float)
    prev_ts = np.roll(ts, 1)
    start = np.where(first, ts - np.round(dur * 1e9).astype(np.int64), prev_ts)
    energy = {}
    for c in ENERGY_COLUMNS:
        if c in frame:
            v = frame[c].to_numpy(dtype=float)
            energy[c] = np.maximum(np.where(first, v, v - np.roll(v, 1)), 0.0)  # rounding dips (< 1e-9) -> 0
    resets = int(((dur < np.roll(dur, 1)) & ~first).sum())
    k = frame.groupby("run_id", sort=False).cumcount().to_numpy()
    window_id = np.char.add(np.char.add(run.astype(str), "#"), k.astype(str))
    return _window_frame(frame, window_id, start, ts, energy), resets


def _task_windows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Task rows (each its own delta): [timestamp - duration, timestamp), clipped so tasks of a run do not overlap
    through the timestamps' truncation to seconds."""
    frame = frame.sort_values(["run_id", "ts", "line"], kind="stable").reset_index(drop=True)
    run = frame["run_id"].to_numpy(dtype=object)
    first = np.ones(len(frame), dtype=bool)
    first[1:] = run[1:] != run[:-1]
    ts = frame["ts"].to_numpy(dtype=np.int64)
    start = ts - np.round(frame["duration"].to_numpy(dtype=float) * 1e9).astype(np.int64)
    start = np.where(first, start, np.maximum(start, np.roll(ts, 1)))
    energy = {c: frame[c].to_numpy(dtype=float) for c in ENERGY_COLUMNS if c in frame}
    window_id = np.char.add(np.char.add(run.astype(str), "#"), frame["task_name"].to_numpy(dtype=str))
    return _window_frame(frame, window_id, start, ts, energy), 0


# --------------------------------------------------------------------------------------------------- apportion
def _request_times(requests: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``timestamp`` -> (int64 ns UTC, valid mask). Naive datetimes are UTC (SEAL's frames carry UTC)."""
    col = requests["timestamp"]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        t = col.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(col.dtype):
        t = col.dt.tz_localize("UTC")
    else:
        t = pd.to_datetime(col, utc=True, errors="coerce", format="mixed")
    valid = t.notna().to_numpy()
    ns = pd.DatetimeIndex(t).as_unit("ns").asi8.copy()
    return ns, valid


def _utc_text(ns: int) -> str:
    return pd.Timestamp(int(ns), tz="UTC").strftime("%Y-%m-%d %H:%M:%S")


def _lanes(run_codes: np.ndarray, start: np.ndarray, end: np.ndarray, window_id: np.ndarray) -> np.ndarray:
    """A lane per window such that the windows of a lane never overlap: a run's windows share its lane (they must
    follow each other), runs that do not overlap in time may share one (greedy interval partitioning of runs)."""
    order = np.lexsort((end, start, run_codes))  # a zero-length window before the one starting at its instant
    r, s, e = run_codes[order], start[order], end[order]
    same = r[1:] == r[:-1]
    clash = np.flatnonzero(same & (s[1:] < e[:-1]))
    if clash.size:
        i = clash[0]
        raise SealError(f"windows {window_id[order[i]]} and {window_id[order[i + 1]]} of one run overlap; the "
                        "windows of a run_id must follow each other, as read_emissions builds them from CodeCarbon's "
                        "rows")
    n_runs = int(run_codes.max()) + 1 if len(run_codes) else 0
    run_start = np.full(n_runs, np.iinfo(np.int64).max)
    run_end = np.full(n_runs, np.iinfo(np.int64).min)
    np.minimum.at(run_start, run_codes, start)
    np.maximum.at(run_end, run_codes, end)
    lane_of_run = np.zeros(n_runs, dtype=np.int64)
    free: list[tuple[int, int]] = []  # (end of the lane's last run, lane)
    lanes = 0
    for rc in np.lexsort((np.arange(n_runs), run_start)):
        if free and free[0][0] <= run_start[rc]:
            _, lane = heapq.heappop(free)
        else:
            lane, lanes = lanes, lanes + 1
        lane_of_run[rc] = lane
        heapq.heappush(free, (int(run_end[rc]), lane))
    return lane_of_run[run_codes]


def _components(n_windows: int, edges: np.ndarray) -> np.ndarray:
    """Windows linked through requests inside both (``edges`` = a * n_windows + b, distinct) -> the smallest window
    number of each window's component: min-label hooking with pointer jumping, vectorised (O(log n) rounds)."""
    lab = np.arange(n_windows)
    if edges.size == 0:
        return lab
    a, b = edges // n_windows, edges % n_windows
    while True:
        la, lb = lab[a], lab[b]
        if (la == lb).all():
            return lab
        low = np.minimum(la, lb)
        np.minimum.at(lab, la, low)   # la, lb are roots: hook the larger onto the smaller
        np.minimum.at(lab, lb, low)
        while True:
            nxt = lab[lab]
            if (nxt == lab).all():
                break
            lab = nxt


def _group_labels(comp: np.ndarray, wid: np.ndarray, ws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(component code per window, label per code): a lone window's label is its window_id; linked windows (in
    start order) read "a+b+c", or "first+...+last (n windows)" beyond three."""
    codes, uniques = pd.factorize(comp)
    labels = np.empty(len(uniques), dtype=object)
    labels[codes] = wid
    sizes = np.bincount(codes)
    if (sizes > 1).any():
        order = np.lexsort((wid.astype(str), ws, codes))
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        for c in np.flatnonzero(sizes > 1):
            ids = wid[order[starts[c]:starts[c] + sizes[c]]]
            labels[c] = ("+".join(map(str, ids)) if len(ids) <= 3
                         else f"{ids[0]}+...+{ids[-1]} ({len(ids)} windows)")
    return codes, labels


def _request_weights(requests: pd.DataFrame, method: str, weights: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Per request: its time (ns), whether it can be used, its weight under ``method``, and the skips by reason."""
    n = len(requests)
    reason = np.empty(n, dtype=object)
    ok = np.ones(n, dtype=bool)

    def skip(mask: np.ndarray, why: str) -> None:
        new = np.asarray(mask, dtype=bool) & ok
        reason[new] = why
        ok[new] = False

    ts, valid_ts = _request_times(requests)
    skip(~valid_ts, "no timestamp")
    if method == "estimate":
        if weights is None:
            raise SealError("method 'estimate' needs weights (one per request, e.g. SEAL's estimated energy); "
                            "pass weights=..., or use method tokens or output")
        w = np.asarray(weights, dtype=float).reshape(-1)
        if len(w) != n:
            raise SealError(f"weights has {len(w)} values for {n} requests; give one weight per request")
        skip(~np.isfinite(w), "no weight")
        skip(np.isfinite(w) & (w < 0), "negative weight")
    else:
        need = ("input_tokens", "output_tokens") if method == "tokens" else ("output_tokens",)
        absent = [c for c in need if c not in requests]
        if absent:
            raise SealError(f"the request log has no {' or '.join(absent)} column; method {method!r} shares energy "
                            f"by {' + '.join(need)} (or use method estimate with weights)")
        parts = [numeric_column(requests, c) for c in need]
        for c, p in zip(need, parts):
            skip(~np.isfinite(p), f"no {c}")
            skip(np.isfinite(p) & (p < 0), f"negative {c}")
        w = np.sum(parts, axis=0) if len(parts) > 1 else parts[0]
    skipped: dict[str, int] = {}
    for why in reason[~ok]:
        skipped[why] = skipped.get(why, 0) + 1
    if n == 0:
        raise SealError("the request log has no requests; give the log of the period CodeCarbon measured")
    if not ok.any():
        top = max(skipped, key=skipped.get)
        raise SealError(f"none of the {n:,} requests can be used (most have {top}); each request needs a timestamp "
                        f"and {'a weight' if method == 'estimate' else ' + '.join(need)}")

    return ts, ok, w, skipped


def _window_arrays(windows: pd.DataFrame) -> dict[str, np.ndarray]:
    """The windows as arrays: id, start / end (ns), GPU and server energy (J), and the lane of each (overlapping
    runs in separate lanes)."""
    m = len(windows)
    wid = windows["window_id"].astype(str).to_numpy(dtype=object)
    ws = pd.DatetimeIndex(pd.to_datetime(windows["start_utc"], utc=True)).as_unit("ns").asi8
    we = pd.DatetimeIndex(pd.to_datetime(windows["end_utc"], utc=True)).as_unit("ns").asi8
    gpu_j = numeric_column(windows, "gpu_energy_j")
    server_j = numeric_column(windows, "energy_j")
    if m == 0:
        raise SealError("there are no CodeCarbon windows; read them from an emissions.csv with read_emissions")
    if pd.isna(windows["start_utc"]).any() or pd.isna(windows["end_utc"]).any() or (we < ws).any():
        raise SealError("a window has no start_utc or end_utc, or ends before it starts; give the windows "
                        "read_emissions returns")
    run_codes = pd.factorize(windows["run_id"].astype(str))[0].astype(np.int64)
    lane = _lanes(run_codes, ws, we, wid)

    return {"m": m, "wid": wid, "ws": ws, "we": we, "gpu_j": gpu_j, "server_j": server_j, "lane": lane}


def _matches(ts: np.ndarray, ok: np.ndarray, win: dict[str, np.ndarray]):
    """(usable request positions, per lane (request index into them, window), flat request / window pairs)."""
    ws, we, lane = win["ws"], win["we"], win["lane"]
    pos = np.flatnonzero(ok)
    t = ts[pos]
    per_lane: list[tuple[np.ndarray, np.ndarray]] = []  # (request index into pos, window) per lane
    for ln in range(int(lane.max()) + 1):
        idx = np.flatnonzero(lane == ln)
        idx = idx[np.lexsort((we[idx], ws[idx]))]  # [t, t) before [t, t2): searchsorted finds the latter
        k = np.searchsorted(ws[idx], t, side="right") - 1
        kk = np.clip(k, 0, len(idx) - 1)
        inside = (k >= 0) & (t < we[idx][kk])
        per_lane.append((np.flatnonzero(inside), idx[kk[inside]]))
    pr = np.concatenate([r for r, _ in per_lane])
    pw = np.concatenate([x for _, x in per_lane])
    if len(pr) == 0:
        raise SealError(f"no request of the log falls inside any CodeCarbon window (windows "
                        f"{_utc_text(ws.min())}–{_utc_text(we.max())} UTC; requests {_utc_text(t.min())}–"
                        f"{_utc_text(t.max())} UTC): check "
                        "the time zone the emissions.csv was read in (--tz) and that the log covers the measured "
                        "period")

    return pos, per_lane, pr, pw


def _measure_groups(per_lane, n_ok: int, m: int, wid: np.ndarray, ws: np.ndarray):
    """Each request's window in its lowest lane, and the measurement group of each window: windows that share a
    request (overlapping runs) are one group, so a group's total is a measured amount."""
    first_win = np.full(n_ok, -1, dtype=np.int64)
    for r_l, w_l in reversed(per_lane):
        first_win[r_l] = w_l
    edges = [np.unique(first_win[r_l][link] * m + w_l[link])
             for r_l, w_l in per_lane[1:] for link in [first_win[r_l] != w_l] if link.any()]
    comp = _components(m, np.unique(np.concatenate(edges)) if edges else np.empty(0, dtype=np.int64))
    comp_codes, labels = _group_labels(comp, wid, ws)
    return first_win, comp_codes, labels


def apportion(requests: pd.DataFrame, windows: pd.DataFrame, *, method: str = "tokens",
              weights: np.ndarray | None = None) -> tuple[pd.DataFrame, dict]:
    """Share each CodeCarbon window's energy among the requests whose ``timestamp`` (tz-aware UTC) falls in
    ``[start_utc, end_utc)``.

    ``method``: "tokens" weighs a request by ``input_tokens + output_tokens``, "output" by ``output_tokens``,
    "estimate" by the given ``weights`` (one per row of ``requests``, e.g. SEAL's estimated energy, so prefill and
    decode costs are respected). A window whose requests all weigh 0 is shared equally. Each window's energy is
    shared out exactly (sum conservation), idle power included. A request inside windows of several runs (several
    trackers, e.g. one per GPU) takes a share of each: its energies are the sums.

    Returns ``(matched, report)``: the requests inside at least one window (a copy, original columns and index kept,
    original order) plus ``measured_gpu_energy_j``, ``measured_server_energy_j`` (the share of CodeCarbon's
    ``energy_consumed``: GPU + CPU + RAM), ``measure_group`` (the window_id; windows linked by shared requests are
    one group, named ``"a+b"``, or ``"first+...+last (n windows)"`` beyond three) and ``apportion_method`` (text).
    A request without a timestamp or weight (tokens missing or negative, weight not a number >= 0) is skipped and
    counted. Report: ``method``, ``requests``, ``requests_skipped``, ``skipped`` (reason -> count),
    ``requests_in_windows``, ``requests_outside`` (dropped), ``requests_in_several_windows``, ``windows``,
    ``windows_with_requests``, ``windows_without_requests``, ``windows_equal_split``, ``measure_groups``,
    ``assigned_gpu_energy_j``, ``unassigned_gpu_energy_j`` / ``unassigned_server_energy_j`` (the energy of windows
    without requests: idle energy that no request carries).
    """
    _check_apportion_inputs(requests, windows, method)
    ts, ok, w, skipped = _request_weights(requests, method, weights)
    win = _window_arrays(windows)
    pos, per_lane, pr, pw = _matches(ts, ok, win)
    share = _shares(w[pos][pr], pr, pw, win, len(pos))
    first_win, comp_codes, labels = _measure_groups(per_lane, len(pos), win["m"], win["wid"], win["ws"])

    matched = share["hits"] > 0
    out = requests.iloc[pos[matched]]
    base = _METHODS[method]
    method_codes = share["equal_req"][matched].astype(np.int64)
    out = with_columns(out, {
        "measured_gpu_energy_j": share["gpu_j"][matched],
        "measured_server_energy_j": share["server_j"][matched],
        "measure_group": labels_column(labels, comp_codes[first_win[matched]], out.index),
        "apportion_method": labels_column([base, base + _EQUAL_NOTE], method_codes, out.index),
    })
    return out, {
        "method": base,
        "requests": len(requests),
        "requests_skipped": int((~ok).sum()),
        "skipped": skipped,
        "requests_in_windows": int(matched.sum()),
        "requests_outside": int((~matched).sum()),
        "requests_in_several_windows": int((share["hits"] > 1).sum()),
        **_window_report(share, comp_codes, win),
    }


def _check_apportion_inputs(requests: pd.DataFrame, windows: pd.DataFrame, method: str) -> None:
    """Raise unless ``method`` is known, the windows have read_emissions' columns and the requests a timestamp."""
    if method not in _METHODS:
        raise SealError(f"unknown apportion method {method!r}; use tokens (input+output tokens), output (output "
                        "tokens) or estimate (given weights, e.g. SEAL's estimated energy)")
    missing = [c for c in ("window_id", "run_id", "start_utc", "end_utc", "gpu_energy_j") if c not in windows]
    if missing:
        raise SealError(f"the windows lack the column(s) {', '.join(missing)}; give the windows read_emissions "
                        "returns (window_id, run_id, start_utc, end_utc, gpu_energy_j, energy_j)")
    if "timestamp" not in requests:
        raise SealError("the request log has no timestamp column; sharing CodeCarbon energy among requests needs "
                        "each request's time (a timestamp column)")


def _shares(wt: np.ndarray, pr: np.ndarray, pw: np.ndarray, win: dict[str, np.ndarray], n_ok: int
            ) -> dict[str, np.ndarray]:
    """Each window's energy shared among its request / window pairs (``pr``, ``pw``) by weight ``wt`` (equal shares
    where no request of the window weighs): per request ``gpu_j`` / ``server_j`` (J, summed over its windows),
    ``hits`` (windows it is in), ``equal_req`` (in an equal-split window); per window ``cnt`` (requests), ``equal``."""
    m = win["m"]
    wsum = np.bincount(pw, weights=wt, minlength=m)
    cnt = np.bincount(pw, minlength=m)
    equal = (cnt > 0) & ~(wsum > 0)
    frac = np.where(equal[pw], 1.0 / np.maximum(cnt[pw], 1), wt / np.where(wsum > 0, wsum, 1.0)[pw])
    return {"gpu_j": np.bincount(pr, weights=win["gpu_j"][pw] * frac, minlength=n_ok),
            "server_j": np.bincount(pr, weights=win["server_j"][pw] * frac, minlength=n_ok),
            "hits": np.bincount(pr, minlength=n_ok),
            "equal_req": np.bincount(pr, weights=equal[pw], minlength=n_ok) > 0, "cnt": cnt, "equal": equal}


def _window_report(share: dict[str, np.ndarray], comp_codes: np.ndarray, win: dict[str, np.ndarray]
                   ) -> dict[str, Any]:
    """The apportion report's window counts, measure groups and assigned / unassigned energies (J)."""
    used = share["cnt"] > 0
    gpu_j, server_j = win["gpu_j"], win["server_j"]
    return {
        "windows": win["m"],
        "windows_with_requests": int(used.sum()),
        "windows_without_requests": int((~used).sum()),
        "windows_equal_split": int(share["equal"].sum()),
        "measure_groups": int(len(np.unique(comp_codes[used]))),
        "assigned_gpu_energy_j": float(gpu_j[used].sum()),
        "unassigned_gpu_energy_j": float(gpu_j[~used].sum()),
        "unassigned_server_energy_j": float(np.nansum(server_j[~used])),
    }
