"""A team's own measurements: ``seal data import``, ``seal data remove``, and the ``user_runs`` they become.

Three kinds of file are accepted (``kind`` is detected when not given):

- ``table``: a CSV / Parquet / JSON / JSONL of requests or runs with SEAL's own request columns (``model`` or
  ``params_b``, ``gpu``, ``gpus``, ``engine``, ``precision``, ``batch_size``, ``input_tokens``, ``output_tokens``,
  optional ``latency_s`` / ``ttft_s`` / ``timestamp`` / ``request_id``; the log aliases of
  :data:`seal.logs.formats.TABLE_ALIASES` work too) plus the measured GPU energy per request,
  ``measured_gpu_energy_j`` (or ``measured_prefill_energy_j`` + ``measured_decode_energy_j``), and optionally
  ``measured_prefill_energy_j``, ``measured_decode_energy_j``, ``measured_power_w`` (mean power of all the
  replica's GPUs, W), ``measured_server_energy_j`` with ``server_energy_covers`` (what the meter covers, e.g.
  ``gpu+cpu+ram`` or ``wall``) and ``measure_group`` (rows measured together).
- ``codecarbon``: CodeCarbon's ``emissions.csv`` with the request log it measured (``requests=``): each
  measurement window's GPU energy is shared among the requests whose timestamp falls in it
  (:mod:`seal.data.codecarbon`, the method stated in the import's ``method``).
- ``mlenergy``: ML.ENERGY-benchmark result JSON of one's own set-up: a v3 ``models/...json`` with
  ``configurations`` or a v2 result file (``Energy/req (J)``); one row per configuration, energy per request as
  the benchmark measured it (``measured_basis`` ``benchmark-mean``).

Every row is resolved as an estimate would resolve it (catalogue size, canonical GPU, engine, precision, GPU
count), so ``seal calibrate`` and ``seal train --with`` see the same set-up as ``seal estimate``. A row that cannot be
used is one sentence naming its line and what is accepted, or, with ``skip_bad``, a counted skip.
Rows are stored with the source ``user:NAME`` in their own tables (:data:`seal.data.schema.USER_TABLES`): never
mixed with the public benchmark runs, kept by ``seal data pull``, removed by :func:`remove_source`.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from seal.data.schema import USER_RUNS, USER_TABLES
from seal.errors import SealError

USER_PREFIX = "user:"
KINDS = ("table", "codecarbon", "mlenergy")
APPORTION_METHODS = ("tokens", "output", "estimate")
MAX_IMPORT_ROWS = 5_000_000            # rows; a measurement file larger than this is not a measurement file
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

MEASURED_COLUMNS: tuple[str, ...] = (
    "measured_gpu_energy_j", "measured_prefill_energy_j", "measured_decode_energy_j", "measured_power_w",
    "measured_server_energy_j", "server_energy_covers", "measure_group",
)
# loose spellings accepted for the measured columns (matched like log columns: case, _ - . and spaces ignored)
MEASURED_ALIASES: dict[str, tuple[str, ...]] = {
    "measured_gpu_energy_j": ("measured_gpu_energy_j", "gpu_energy_j", "measured_energy_j", "energy_j"),
    "measured_prefill_energy_j": ("measured_prefill_energy_j", "prefill_energy_j"),
    "measured_decode_energy_j": ("measured_decode_energy_j", "decode_energy_j"),
    "measured_power_w": ("measured_power_w", "gpu_power_w", "power_w"),
    "measured_server_energy_j": ("measured_server_energy_j", "server_energy_j"),
    "server_energy_covers": ("server_energy_covers", "server_covers"),
    "measure_group": ("measure_group", "run_id", "window_id"),
}
REQUEST_FIELDS = ("request_id", "model", "params_b", "active_params_b", "precision", "gpu", "gpus", "engine",
                  "batch_size", "input_tokens", "output_tokens", "latency_s", "ttft_s", "timestamp")


def source_name(name: str) -> str:
    """``my-fleet`` or ``user:my-fleet`` -> ``user:my-fleet`` (letters, digits, ``.``, ``_``, ``-``; 64 at most)."""
    text = str(name or "").strip()
    bare = text[len(USER_PREFIX):] if text.startswith(USER_PREFIX) else text
    if not _NAME.match(bare):
        raise SealError(f"{text!r} is not a usable source name; give 1-64 letters, digits, '.', '_' or '-' "
                        "(e.g. --name my-fleet, stored as user:my-fleet).")
    return USER_PREFIX + bare


@dataclass
class ImportReport:
    """What an import read, kept, and skipped (reason -> rows), and how energy per request was obtained."""

    source: str
    kind: str
    file: str
    rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    method: str = ""
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        skipped = sum(self.skipped.values())
        why = "; ".join(f"{n} {r}" for r, n in sorted(self.skipped.items(), key=lambda kv: -kv[1])[:5])
        lines = [f"Imported {self.rows:,} measured row{'s' if self.rows != 1 else ''} from {self.file} as "
                 f"{self.source} ({self.kind}; {self.method})."]
        if skipped:
            lines.append(f"Skipped {skipped:,} row{'s' if skipped != 1 else ''}: {why}.")
        lines += self.notes
        return "\n".join(lines)


# ---------------------------------------------------------------- reading the three kinds
def _read_frame(path: Path) -> pd.DataFrame:
    """A measurement table as a frame (CSV, TSV, Parquet, JSON array / object of columns, JSONL)."""
    suffix = path.suffix.lower()
    header_names = None
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix in (".jsonl", ".ndjson"):
            frame = pd.read_json(path, lines=True, dtype=False)
        elif suffix == ".json":
            text = path.read_text(encoding="utf-8")
            try:
                rec = json.loads(text)
            except json.JSONDecodeError:
                frame = pd.read_json(path, lines=True, dtype=False)      # JSONL named .json
            else:
                if isinstance(rec, dict):
                    rec = next((rec[k] for k in ("runs", "rows", "data", "requests") if isinstance(rec.get(k), list)),
                               rec)
                if not isinstance(rec, (list, dict)):
                    raise ValueError("not an array of rows")
                frame = pd.DataFrame(rec)
        else:
            with path.open("r", encoding="utf-8", errors="replace") as fh:
                header = fh.readline()
            sep = max((",", "\t", ";"), key=header.count)       # the delimiter the header uses most
            header_names = [h.strip().strip('"') for h in header.rstrip("\r\n").split(sep)]
            # every cell as text ("nan" stays a word, reported as not a number); no implicit index column
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)   # a row longer than the header
                frame = pd.read_csv(path, sep=sep, dtype=object, skipinitialspace=True, keep_default_na=False,
                                    na_values=[""], index_col=False)
    except pd.errors.ParserWarning:
        raise SealError(f"{path.name} has rows with more fields than its header; quote cells that hold the "
                        "delimiter, or add the missing column names.") from None
    except (ValueError, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SealError(f"{path.name} could not be read as a table of measured runs ({first}); give a CSV, "
                        "Parquet, JSON or JSONL file with one row per request or run.") from None
    except Exception as exc:  # pyarrow / parser errors of many kinds: one sentence, never a traceback
        raise SealError(f"{path.name} could not be read as a table of measured runs ({type(exc).__name__}); give a "
                        "CSV, Parquet, JSON or JSONL file with one row per request or run.") from None
    names = [str(c) for c in header_names] if header_names is not None else [str(c) for c in frame.columns]
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise SealError(f"{path.name} has the column {twice[0]!r} twice; give each column once.")
    if len(frame) > MAX_IMPORT_ROWS:
        raise SealError(f"{path.name} has {len(frame):,} rows, more than {MAX_IMPORT_ROWS:,}; import a sample or "
                        "aggregate windows first.")
    return frame


def _by_alias(frame: pd.DataFrame) -> pd.DataFrame:
    """The file's columns renamed to SEAL's (request columns by the log aliases, measured ones by
    :data:`MEASURED_ALIASES`); columns SEAL does not know are dropped."""
    from seal.logs.formats import TABLE_ALIASES, TABLE_MS_ALIASES, column_key

    by_key: dict[str, str] = {}
    for c in frame.columns:
        by_key.setdefault(column_key(c), c)
    out = pd.DataFrame(index=frame.index)
    used: set[str] = set()

    def take(col: str, aliases, scale: float = 1.0) -> None:
        if col in out:
            return
        for a in (col, *aliases):
            hit = by_key.get(column_key(a))
            if hit is not None and hit not in used:
                used.add(hit)
                out[col] = frame[hit] if scale == 1.0 else pd.to_numeric(frame[hit], errors="coerce") * scale
                return

    for col, aliases in MEASURED_ALIASES.items():       # first: "prefill_energy_j" is a measurement here
        take(col, aliases)
    for col in REQUEST_FIELDS:
        take(col, TABLE_ALIASES.get(col, ()))
        if col in TABLE_MS_ALIASES:
            take(col, TABLE_MS_ALIASES[col], 1e-3)
    return out


def read_table(path: str | Path) -> pd.DataFrame:
    """A ``table`` measurement file -> request columns + :data:`MEASURED_COLUMNS` (``file_line`` = its line).

    Raises:
        SealError: the file is unreadable or lacks the energy / token / GPU / model columns (names the accepted).
    """
    path = Path(path)
    frame = _by_alias(_read_frame(path))
    lacks = []
    if "measured_gpu_energy_j" not in frame and not {"measured_prefill_energy_j", "measured_decode_energy_j"} <= set(frame):
        lacks.append("measured_gpu_energy_j (or measured_prefill_energy_j + measured_decode_energy_j)")
    for col in ("input_tokens", "output_tokens", "gpu"):
        if col not in frame:
            lacks.append(col)
    if "model" not in frame and "params_b" not in frame:
        lacks.append("model (or params_b)")
    if lacks:
        raise SealError(f"{path.name} lacks the column(s) {', '.join(lacks)}; a measurement table has one row per "
                        "request with model (or params_b), gpu, input_tokens, output_tokens and "
                        "measured_gpu_energy_j (optional: gpus, engine, precision, batch_size, latency_s, "
                        "measured_prefill_energy_j, measured_decode_energy_j, measured_power_w, "
                        "measured_server_energy_j).")
    offset = 2 if path.suffix.lower() not in (".parquet", ".pq", ".json", ".jsonl", ".ndjson") else 1
    frame["file_line"] = np.arange(len(frame)) + offset      # CSV: line 1 is the header
    frame["measured_basis"] = "per-request"
    return frame


def read_mlenergy(path: str | Path) -> pd.DataFrame:
    """ML.ENERGY-benchmark result JSON of one's own runs -> request columns + measured energy, one row per
    configuration (v3 ``configurations`` list, or a v2 result with ``Energy/req (J)``)."""
    from seal.data import ingest

    path = Path(path)
    raw = path.read_bytes()
    try:
        rec = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SealError(f"{path.name} is not JSON; an ML.ENERGY-benchmark result is a JSON object.") from None
    if isinstance(rec, dict) and "configurations" in rec:
        runs = ingest.read_mlenergy_v3_model(raw, path.name, source="ML.ENERGY-benchmark import")
        basis = "ML.ENERGY-benchmark v3 steady-state energy per request"
    elif isinstance(rec, dict) and "Energy/req (J)" in rec:
        runs = ingest.read_mlenergy_runs({path.name: raw}, source="ML.ENERGY-benchmark import")
        basis = "ML.ENERGY-benchmark v2 energy per request"
    else:
        raise SealError(f"{path.name} is not an ML.ENERGY-benchmark result: it has neither \"configurations\" "
                        "(v3 model file) nor \"Energy/req (J)\" (v2 result).")
    in_tokens = runs["input_tokens"].astype(float)
    if in_tokens.isna().any():
        from seal.estimator.defaults import MLENERGY_V2_INPUT_TOKENS, TASK_INPUT_TOKENS

        in_tokens = in_tokens.fillna(runs["task"].map(TASK_INPUT_TOKENS).astype(float)).fillna(MLENERGY_V2_INPUT_TOKENS)
    out = pd.DataFrame({
        "model": runs["model_id"], "params_b": runs["params_b"], "active_params_b": runs["active_params_b"],
        "precision": runs["precision"], "gpu": runs["gpu_raw"], "gpus": runs["gpu_count"],
        "engine": runs["engine"].where(runs["engine"] != "vllm-2024", "vllm-2024"),
        "batch_size": runs["batch_size"], "input_tokens": in_tokens.round(),
        "output_tokens": runs["output_tokens"].astype(float).round(),
        "measured_gpu_energy_j": runs["request_energy_j"], "measured_power_w": runs["power_w"],
        "measure_group": [f"configuration {i + 1}" for i in range(len(runs))],
        "file_line": np.arange(1, len(runs) + 1), "measured_basis": "benchmark-mean",
    })
    out.attrs["method"] = basis + " (prompt lengths the benchmark does not publish are SEAL's task assumption)"
    return out


def _local_times(timestamps: pd.Series, tz: str) -> pd.Series:
    """A log's timestamps written without an offset, read as wall-clock times in ``tz`` (the readers took them as
    UTC), back to UTC."""
    try:
        wall = timestamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    except Exception:  # noqa: BLE001 - an unknown zone name, whatever zoneinfo raises
        raise SealError(f"Unknown time zone {tz!r} for the request log; give an IANA name such as Europe/Paris "
                        "or UTC.") from None


def read_codecarbon(path: str | Path, requests: str | Path, *, tz: str = "UTC", apportion: str = "tokens",
                    skip_bad: bool = False, requests_tz: str | None = None) -> tuple[pd.DataFrame, dict]:
    """CodeCarbon ``emissions.csv`` + the request log it measured -> request columns + apportioned energy.

    ``tz``: the zone of CodeCarbon's timestamps (it writes local time without an offset); ``requests_tz``: the
    zone of the log's timestamps when they carry no offset either (default: as the log says, else UTC)."""
    from seal.data import codecarbon
    from seal.logs.read import read_requests

    if apportion not in APPORTION_METHODS:
        raise SealError(f"Unknown apportionment {apportion!r}; accepted: {', '.join(APPORTION_METHODS)}.")
    windows, w_report = codecarbon.read_emissions(path, tz=tz, skip_bad=skip_bad)
    if len(windows) and not (windows["gpu_energy_j"].astype(float) > 0).any():
        raise SealError(f"{Path(str(path)).name}: CodeCarbon recorded no GPU energy (gpu_energy is 0 in every "
                        "window), so it tracked no GPU; SEAL calibrates GPU energy: run CodeCarbon where it sees "
                        "the GPUs (NVIDIA's NVML).")
    reqs, _ = read_requests(requests, skip_bad=skip_bad)
    if requests_tz:
        reqs = reqs.assign(timestamp=_local_times(reqs["timestamp"], requests_tz))
    weights = None
    if apportion == "estimate":      # SEAL's own GPU energy per request (the estimator alone: no carbon needed)
        from seal.estimator import estimate_energy
        from seal.logs.normalize import prepare_requests

        weights = estimate_energy(prepare_requests(reqs))["gpu_energy_j"].to_numpy(dtype=float)
    matched, report = codecarbon.apportion(reqs, windows, method=apportion, weights=weights)
    out = matched.copy()
    if "gpu" not in out or out["gpu"].isna().all():   # the log does not say: the GPU CodeCarbon saw
        models = pd.unique(windows["gpu_model"].dropna().astype(str)) if "gpu_model" in windows else []
        if len(models) == 1:
            out["gpu"] = re.sub(r"^\s*\d+\s*x\s*", "", models[0])     # "8 x NVIDIA H100 80GB HBM3"
    out["file_line"] = out.index.to_numpy() if out.index.name == "line" else np.arange(1, len(out) + 1)
    out.attrs["rows_file"] = Path(str(getattr(requests, "name", requests))).name   # errors name the log's lines
    out["measured_basis"] = "window-apportioned"
    out["server_energy_covers"] = "gpu+cpu+ram (CodeCarbon)"
    out.attrs["method"] = str(matched["apportion_method"].iloc[0]) if len(matched) else apportion
    gpus_tracked = pd.to_numeric(windows["gpu_count"], errors="coerce").max() if "gpu_count" in windows else np.nan
    return out, {**w_report, **report, "gpus_tracked": gpus_tracked}


def detect_kind(path: str | Path) -> str:
    """``codecarbon`` for an emissions.csv header, ``mlenergy`` for a benchmark result JSON, else ``table``."""
    path = Path(path)
    try:
        head = path.open("rb").read(65536)
    except OSError as exc:
        raise SealError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    text = head.decode("utf-8", errors="replace")
    if path.suffix.lower() == ".csv" or "," in text.split("\n", 1)[0]:
        from seal.data import codecarbon

        header = [h.strip() for h in text.split("\n", 1)[0].strip().split(",")]
        if codecarbon.is_emissions_csv(header):
            return "codecarbon"
    if path.suffix.lower() == ".json" and ('"configurations"' in text or '"Energy/req (J)"' in text):
        return "mlenergy"
    return "table"


# ---------------------------------------------------------------- rows -> user_runs
def _bad_energy(frame: pd.DataFrame) -> pd.Series:
    reasons = pd.Series(None, index=frame.index, dtype=object)
    for col in ("measured_gpu_energy_j", "measured_prefill_energy_j", "measured_decode_energy_j", "measured_power_w",
                "measured_server_energy_j"):
        if col not in frame:
            continue
        raw = frame[col]
        v = pd.to_numeric(raw, errors="coerce")
        text_given = raw.notna() & raw.astype(str).str.strip().ne("")
        reasons = reasons.where(reasons.notna(), pd.Series(np.where(
            text_given & v.isna(), f"{col} is not a number", np.where(
                ~np.isfinite(v.fillna(1.0)), f"{col} is not finite", np.where(
                    v <= 0, f"{col} must be positive", None))), index=frame.index, dtype=object))
        frame[col] = v
    if "measured_gpu_energy_j" not in frame:
        frame["measured_gpu_energy_j"] = np.nan
    phases = frame.get("measured_prefill_energy_j", np.nan) + frame.get("measured_decode_energy_j", np.nan)
    frame["measured_gpu_energy_j"] = frame["measured_gpu_energy_j"].fillna(phases)
    none = frame["measured_gpu_energy_j"].isna()
    return reasons.where(reasons.notna() | ~none, "no measured GPU energy (measured_gpu_energy_j)")


def _resolve(frame: pd.DataFrame, db_path) -> tuple[pd.DataFrame, pd.Series]:
    """Each row as the estimator resolves it (SEAL's estimate of the row comes with it), and why rows fail."""
    from seal.data.gpus import resolve_gpu
    from seal.estimator import estimate_energy
    from seal.estimator.estimate import resolve_engine, resolve_precision, unknown_models
    from seal.logs.normalize import NUMERIC_COLUMNS, check_rows, prepare_requests

    reasons = _bad_energy(frame)
    for col in NUMERIC_COLUMNS:
        if col in frame:
            raw = frame[col]
            v = pd.to_numeric(raw, errors="coerce")
            given = raw.notna() & raw.astype(str).str.strip().ne("")
            reasons = reasons.where(reasons.notna() | ~(given & (v.isna() | ~np.isfinite(v.fillna(0)))),
                                    f"{col} is not a finite number")
            frame[col] = v
    for col in ("input_tokens", "output_tokens"):
        reasons = reasons.where(reasons.notna() | frame[col].notna(), f"no {col}")
    reasons = reasons.where(reasons.notna(), check_rows(frame, require_model=True))

    def per_value(col: str, resolve, what: str) -> None:
        nonlocal reasons
        if col not in frame:
            return
        for value in pd.unique(frame[col].dropna().astype(str)):
            if not value.strip():
                continue
            try:
                resolve(value)
            except SealError as exc:
                hit = frame[col].astype(str).eq(value) & reasons.isna()
                reasons = reasons.where(~hit, str(exc).rstrip("."))
    per_value("gpu", resolve_gpu, "GPU")
    reasons = reasons.where(reasons.notna() | (frame["gpu"].notna() & frame["gpu"].astype(str).str.strip().ne("")),
                            "no gpu (the GPU the request ran on)")
    per_value("precision", lambda v: resolve_precision(pd.Series([v])), "precision")
    per_value("engine", lambda v: resolve_engine(pd.Series([v]), np.array([8.0]), np.array([True])), "engine")
    ok = reasons.isna().to_numpy()
    if ok.any():
        unknown = unknown_models(frame[ok], db_path)
        idx = frame.index[ok][unknown]
        if len(idx):
            reasons.loc[idx] = [f"unknown model {m!r} (give params_b, or a model the catalogue knows)"
                                for m in frame.loc[idx, "model"]]
    good = frame[reasons.isna().to_numpy()]
    if not len(good):
        return good, reasons
    requests = good[[c for c in REQUEST_FIELDS if c in good and c != "timestamp"]]
    est = estimate_energy(prepare_requests(requests), db_path=db_path)
    good = good.assign(**{f"seal_{c}": est[c].to_numpy() for c in (
        "params_b", "active_params_b", "gpus", "engine", "precision", "batch_size", "model_resolved",
        "gpu_energy_j")})
    implausible = _implausible(good)
    if implausible.notna().any():
        reasons.loc[implausible.index[implausible.notna()]] = implausible.dropna()
        good = good[implausible.isna().to_numpy()]
    return good, reasons


def _implausible(good: pd.DataFrame) -> pd.Series:
    """Rows whose measured energy is more than :data:`~seal.estimator.calibrate.PLAUSIBLE_RATIO` times SEAL's
    estimate, or less than its inverse: a reading in Wh, kWh or mJ, not a fleet (window shares are checked as
    windows by the calibration, not here)."""
    from seal.estimator.calibrate import PLAUSIBLE_RATIO

    ratio = good["measured_gpu_energy_j"].astype(float) / good["seal_gpu_energy_j"].astype(float)
    per_request = good["measured_basis"].astype(str).ne("window-apportioned") if "measured_basis" in good else True
    bad = per_request & ((ratio > PLAUSIBLE_RATIO) | (ratio < 1 / PLAUSIBLE_RATIO))
    text = [f"measured_gpu_energy_j is {r:.3g} x SEAL's estimate ({e:.3g} J): check its unit (joules, not Wh, kWh "
            "or mJ)" for r, e in zip(ratio[bad], good.loc[bad, "seal_gpu_energy_j"].astype(float))]
    out = pd.Series(None, index=good.index, dtype=object)
    out[bad] = text
    return out


def _user_rows(good: pd.DataFrame, source: str, file: str, sha: str) -> pd.DataFrame:
    """Resolved measured rows in the :data:`USER_RUNS` layout (``benchmark_runs`` columns first)."""
    from seal.data.gpus import resolve_gpu
    from seal.data.ingest import conform
    from seal.data.names import model_family
    from seal.estimator.defaults import PRECISIONS

    precision = good["seal_precision"].astype(str)
    bits = precision.map(lambda p: PRECISIONS[p].bytes_per_weight * 8 if p in PRECISIONS else 16.0).astype(float)
    model_id = good["seal_model_resolved"].astype(object).where(good["seal_model_resolved"].notna(),
                                                                good.get("model"))
    model_id = model_id.where(pd.notna(model_id) & (model_id.astype(str).str.strip() != ""),
                              "user-model-" + good["seal_params_b"].round(2).astype(str) + "B")
    g = lambda c: good[c] if c in good else pd.Series(np.nan, index=good.index)  # noqa: E731
    pf, dc = g("measured_prefill_energy_j").astype(float), g("measured_decode_energy_j").astype(float)
    both = pf.notna() & dc.notna()
    timestamps = g("timestamp")
    rows = pd.DataFrame({
        "source": source, "source_version": sha[:12], "source_file": file, "task": "user",
        "model_id": model_id.astype(str), "model_family": model_family(model_id.astype(str)).to_numpy(),
        "params_b": good["seal_params_b"].astype(float), "active_params_b": good["seal_active_params_b"].astype(float),
        "params_source": np.where(g("params_b").notna(), "user", "catalogue"),
        "is_moe": good["seal_active_params_b"].astype(float) < good["seal_params_b"].astype(float) * 0.999,
        "precision": precision, "quantization": np.where(bits >= 16, "none", precision), "weight_bits": bits,
        "backend": good["seal_engine"].astype(str), "device": "cuda",
        "gpu": resolve_gpu(good["gpu"].astype(str)), "gpu_raw": good["gpu"].astype(str),
        "gpu_count": good["seal_gpus"].astype(int), "batch_size": good["seal_batch_size"].astype(float),
        "input_tokens": good["input_tokens"].astype(float), "output_tokens": good["output_tokens"].astype(float),
        # both phases measured: prefill / decode rows (as LLM-Perf); otherwise the whole request (as ML.ENERGY)
        "prefill_energy_j": pf.where(both), "decode_energy_j": dc.where(both),
        "request_energy_j": good["measured_gpu_energy_j"].astype(float).where(~both, pf + dc),
        "power_w": g("measured_power_w").astype(float), "engine": good["seal_engine"].astype(str),
        "model": g("model").astype(object), "request_id": g("request_id").astype(object),
        "timestamp": pd.to_datetime(timestamps, utc=True, errors="coerce") if timestamps.notna().any() else pd.NaT,
        "latency_s": g("latency_s").astype(float), "ttft_s": g("ttft_s").astype(float),
        "measure_group": g("measure_group").astype(object), "measured_basis": good["measured_basis"],
        "server_energy_j": g("measured_server_energy_j").astype(float),
        "server_energy_covers": g("server_energy_covers").astype(object),
        "file_line": good["file_line"].astype("int64"),
    }, index=good.index)
    return conform(rows, USER_RUNS)[list(USER_RUNS)].reset_index(drop=True)


def measured_rows(frame: pd.DataFrame, source: str, file: str, sha: str = "", *, skip_bad: bool = False,
                  db_path=None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows of a measurement file (:func:`read_table` / :func:`read_mlenergy` / :func:`read_codecarbon`) ->
    ``user_runs`` rows and the skipped rows' reasons (reason -> count).

    Raises:
        SealError: the first bad row (its line and why) unless ``skip_bad``; no usable row at all.
    """
    frame = frame.copy()
    good, reasons = _resolve(frame, db_path)
    bad = reasons.notna()
    if bad.any() and not skip_bad:
        i = int(np.flatnonzero(bad.to_numpy())[0])
        more = int(bad.sum()) - 1
        tail = f" ({more:,} more bad row{'s' if more != 1 else ''}; --skip-bad skips and counts them)" if more else \
            " (--skip-bad skips and counts such rows)"
        where = frame.attrs.get("rows_file", file)
        raise SealError(f"{where}, line {int(frame['file_line'].iloc[i])}: {reasons.iloc[i]}{tail}.")
    skipped = {str(r): int(n) for r, n in reasons[bad].map(_reason_kind).value_counts().items()}
    if not len(good):
        raise SealError(f"{file} has no usable measured row ({sum(skipped.values()):,} skipped); each row needs "
                        "a model (or params_b), a GPU, token counts and a positive measured GPU energy.")
    return _user_rows(good, source, file, sha), skipped


def _reason_kind(reason: str) -> str:
    """A reason without the row's own value, so skips are counted per kind (``unknown model 'x' ...`` stays)."""
    if "x SEAL's estimate" in str(reason):
        return "measured_gpu_energy_j over 100 x (or under 1/100 of) SEAL's estimate: check its unit"
    return re.sub(r" \((?:got )?-?[0-9.e+]+[^)]*\)$", "", str(reason))


# ---------------------------------------------------------------- the store
def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def user_table(name: str, db_path=None) -> pd.DataFrame:
    """One of :data:`USER_TABLES` (``user_runs``, ``user_sources``, ``calibrations``); empty when the store has
    none yet."""
    from seal.data.store import read_table, table_names

    if name in table_names(db_path):
        return read_table(name, db_path)
    return pd.DataFrame({c: pd.Series(dtype=object) for c in USER_TABLES[name]})


def user_sources(db_path=None) -> pd.DataFrame:
    """One row per imported file (:data:`USER_SOURCES`), oldest first."""
    return user_table("user_sources", db_path)


def user_runs(db_path=None, sources: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
    """Imported rows (:data:`USER_RUNS`), of ``sources`` only when given (each must exist)."""
    runs = user_table("user_runs", db_path)
    if sources is not None:
        names = [source_name(s) for s in sources]
        known = set(runs["source"].astype(str)) if len(runs) else set()
        missing = [s for s in names if s not in known]
        if missing:
            have = ", ".join(sorted(known)) or "none yet"
            raise SealError(f"No imported measurements named {', '.join(missing)}; imported: {have} "
                            "(add some with `seal data import FILE --name NAME`).")
        runs = runs[runs["source"].isin(names)].reset_index(drop=True)
    return runs


def import_measurements(path: str | Path, name: str, *, db_path=None, kind: str | None = None,
                        requests: str | Path | None = None, tz: str = "UTC", apportion: str = "tokens",
                        skip_bad: bool = False, replace: bool = False, file_name: str | None = None,
                        requests_tz: str | None = None) -> ImportReport:
    """Read a measurement file and add its rows to the store as ``user:NAME`` (see the module docstring).

    ``replace``: drop the source's earlier rows first (else a new file adds to them; the same file twice is
    refused). ``file_name``: the name to record (an upload's own name). Returns the :class:`ImportReport`.
    """
    from seal.data.store import default_db_path, replace_tables, write_lock

    path = Path(path)
    db = Path(db_path) if db_path is not None else default_db_path()
    if not db.exists():
        raise SealError(f"No store at {db}; run `seal data init` (or `make run` once) before importing.")
    source = source_name(name)
    if not path.is_file():
        raise SealError(f"No file {path}; give the path of a measurement file.")
    kind = kind or detect_kind(path)
    if kind not in KINDS:
        raise SealError(f"Unknown kind {kind!r}; accepted: {', '.join(KINDS)}.")
    if apportion not in APPORTION_METHODS:
        raise SealError(f"Unknown apportionment {apportion!r}; accepted: {', '.join(APPORTION_METHODS)}.")
    shown = file_name or path.name
    sha, size = _sha256(path)
    _refuse_twice(user_sources(db), source, sha, shown, replace)       # before the work; again under the lock
    if requests is not None and kind != "codecarbon":
        raise SealError(f"--requests is for a CodeCarbon emissions.csv; {shown} is a {kind} file, which holds its "
                        "requests itself.")
    frame, extra = read_kind(path, kind, requests=requests, tz=tz, apportion=apportion, skip_bad=skip_bad,
                             requests_tz=requests_tz)
    method = frame.attrs.get("method", "measured GPU energy per request as given")
    rows, skipped = measured_rows(frame, source, shown, sha, skip_bad=skip_bad, db_path=db)
    notes = codecarbon_counts(extra, skipped)
    if source in _calibrated(db):
        notes.append(f"{source} was calibrated before this import: run `seal calibrate {source}` again to use "
                     "the new rows.")
    log_row = pd.DataFrame([{
        "source": source, "kind": kind, "file": shown, "sha256": sha, "bytes": size, "rows": len(rows),
        "skipped": sum(skipped.values()), "method": method, "note": json.dumps(skipped) if skipped else "",
        "imported_at": datetime.now(timezone.utc),
    }])
    with write_lock(db):                 # read-modify-write of the store: one at a time
        sources, runs = user_sources(db), user_runs(db)
        _refuse_twice(sources, source, sha, shown, replace)
        if replace:
            runs = runs[runs["source"] != source] if len(runs) else runs
            sources = sources[sources["source"] != source] if len(sources) else sources
        runs_all = pd.concat([f for f in (runs, rows) if len(f)], ignore_index=True) if len(runs) else rows
        sources_all = pd.concat([f for f in (sources, log_row) if len(f)], ignore_index=True) if len(sources) \
            else log_row
        replace_tables(db, {"user_runs": runs_all, "user_sources": sources_all}, USER_TABLES)
    return ImportReport(source=source, kind=kind, file=shown, rows=len(rows), skipped=skipped, method=method,
                        notes=notes)


def read_kind(path: Path, kind: str, *, requests=None, tz: str = "UTC", apportion: str = "tokens",
              skip_bad: bool = False, requests_tz: str | None = None) -> tuple[pd.DataFrame, dict]:
    """A measurement file of ``kind`` as rows to resolve (:func:`measured_rows`) and the reader's report."""
    if kind == "codecarbon":
        if requests is None:
            raise SealError("A CodeCarbon emissions.csv needs the request log it measured: give --requests LOG "
                            "(its requests' timestamps place them in CodeCarbon's windows).")
        return read_codecarbon(path, requests, tz=tz, apportion=apportion, skip_bad=skip_bad,
                               requests_tz=requests_tz)
    return (read_mlenergy(path) if kind == "mlenergy" else read_table(path)), {}


def codecarbon_counts(extra: dict, skipped: dict[str, int]) -> list[str]:
    """Requests and emissions rows the CodeCarbon join left out, added to ``skipped``; notes on idle windows."""
    for key, reason in (("requests_outside", "request outside every CodeCarbon window"),
                        ("requests_skipped", "request without a timestamp or token counts"),
                        ("rows_skipped", "unusable emissions.csv row")):
        count = int(extra.get(key) or 0)
        if count:
            skipped[reason] = skipped.get(reason, 0) + count
    notes = []
    if extra.get("windows_without_requests"):
        notes.append(f"{extra['windows_without_requests']} CodeCarbon window(s) held no request: their "
                     f"{extra.get('unassigned_gpu_energy_j', 0.0):,.0f} J of GPU energy (idle) is not given to any "
                     "request.")
    tracked = extra.get("gpus_tracked")
    if tracked is not None and np.isfinite(tracked) and tracked > 1:
        notes.append(f"CodeCarbon tracked {int(tracked)} GPUs: all their energy, idle GPUs included, is shared "
                     "among the log's requests; if the model ran on fewer of them, the calibration includes the idle "
                     "ones (track only the serving GPUs, e.g. CUDA_VISIBLE_DEVICES, to leave them out).")
    return notes


def _refuse_twice(sources: pd.DataFrame, source: str, sha: str, shown: str, replace: bool) -> None:
    if not replace and len(sources) and ((sources["source"] == source) & (sources["sha256"] == sha)).any():
        raise SealError(f"{shown} is already imported as {source}; use --replace to import it again.")


def _calibrated(db: Path) -> set[str]:
    cal = user_table("calibrations", db)
    return set(cal["deployment"].astype(str)) if len(cal) else set()


def remove_source(name: str, db_path=None) -> int:
    """Drop an imported source's rows, files and calibration; returns the rows removed."""
    from seal.data.store import default_db_path, write_lock

    db = Path(db_path) if db_path is not None else default_db_path()
    source = source_name(name)
    with write_lock(db):
        return _remove(db, source)


def _remove(db: Path, source: str) -> int:
    from seal.data.store import replace_tables

    runs = user_runs(db)
    n = int((runs["source"] == source).sum()) if len(runs) else 0
    sources = user_sources(db)
    if not n and not (len(sources) and (sources["source"] == source).any()):
        have = ", ".join(sorted(set(sources["source"].astype(str)))) if len(sources) else "none"
        raise SealError(f"No imported measurements named {source}; imported: {have}.")
    cal = user_table("calibrations", db)
    replace_tables(db, {"user_runs": runs[runs["source"] != source],
                        "user_sources": sources[sources["source"] != source],
                        "calibrations": cal[cal["deployment"] != source] if len(cal) else cal}, USER_TABLES)
    return n


def coverage(runs: pd.DataFrame) -> pd.DataFrame:
    """What imported rows cover, per source, model, GPU, engine and precision: rows, batch sizes and token
    ranges (for the preview and ``seal data status``)."""
    if not len(runs):
        return pd.DataFrame(columns=["source", "model", "gpu", "engine", "precision", "rows", "batch_sizes",
                                     "input_tokens", "output_tokens", "measured_j"])
    keys = ["source", "model_id", "gpu", "engine", "precision"]
    g = runs.groupby(keys, dropna=False, sort=True)

    def span(s: pd.Series) -> str:
        lo, hi = float(s.min()), float(s.max())
        return f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"

    out = g.agg(rows=("request_energy_j", "size"), batch_sizes=("batch_size", span),
                input_tokens=("input_tokens", span), output_tokens=("output_tokens", span),
                measured_j=("request_energy_j", "sum")).reset_index()
    return out.rename(columns={"model_id": "model"})
