"""Build the store: ``init`` from offline sources only, ``pull`` from everything.

``pull`` downloads each selected source (:mod:`seal.data.download`), parses it (:mod:`seal.data.ingest`), and
only when every selected source succeeded writes a new store atomically (:func:`seal.data.store.write_store`).
Sources not selected keep their rows from the previous store. Any failure raises one
:class:`seal.errors.DataSourceError` and leaves the previous store as it was.
"""
from __future__ import annotations

import hashlib
import importlib.resources
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from seal.data import catalogue, facts, ingest, store
from seal.data.download import BACKOFF_S, RETRIES, Fetched, fetch_source, resolve_mirror
from seal.data.schema import BENCHMARK_RUNS, GRID_ZONES, INGEST_LOG, USER_TABLES
from seal.data.sources import SOURCES, Source, select
from seal.errors import DataSourceError

GPUS_CSV = facts.path("gpus.csv")
CLOUD_REGIONS_CSV = facts.path("cloud_regions.csv")
OPEN_LLM_TABLE = "open_llm_leaderboard"  # parsed leaderboard rows, kept so later pulls can rebuild `models`


# ------------------------------------------------------------------ offline tables
def grid_zones_table() -> tuple[pd.DataFrame, bytes]:
    """EcoLogits' electricity mixes (installed package) -> ``grid_zones`` (gCO2e/kWh = kgCO2e/kWh × 1000)."""
    raw = importlib.resources.files("ecologits").joinpath("data/electricity_mixes.json").read_bytes()
    mixes = json.loads(raw)["electricity_mixes"]
    src = f"EcoLogits {catalogue.ecologits_version()} electricity_mixes.json (https://github.com/mlco2/ecologits)"
    frame = pd.DataFrame({
        "zone": [m["name"] for m in mixes],
        "gwp_g_per_kwh": [m.get("gwp", float("nan")) * 1000.0 for m in mixes],
        "wue_l_per_kwh": [m.get("wue") for m in mixes],
        "adpe_kg_sb_per_kwh": [m.get("adpe") for m in mixes],
        "pe_mj_per_kwh": [m.get("pe") for m in mixes],
        "year": None,
        "warnings": [";".join(m.get("warnings") or []) for m in mixes],
        "source": src,
    })
    return frame, raw


def _csv_table(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def _log_row(source: str, url: str, raw: bytes | None, rows: int, version: str, file: str,
             sha: str | None = None, size: int | None = None, when: datetime | None = None) -> dict:
    return {"source": source, "url": url,
            "sha256": sha or (hashlib.sha256(raw).hexdigest() if raw is not None else None),
            "bytes": size if size is not None else (len(raw) if raw is not None else None),
            "rows": rows, "version": version, "pulled_at": when or datetime.now(timezone.utc), "file": file}


def _offline(open_llm: pd.DataFrame | None, when: datetime) -> tuple[dict[str, pd.DataFrame], list[dict]]:
    models = catalogue.build_models_table(open_llm)
    zones, zones_raw = grid_zones_table()
    eco = SOURCES["ecologits"]
    models_raw = catalogue.ecologits_models_bytes()
    n_eco = int(models["catalogue_source"].str.startswith("ecologits").sum())
    log = [_log_row("ecologits", "package ecologits: ecologits/data/models.json", models_raw, n_eco, eco.version,
                    "ecologits/data/models.json", when=when),
           _log_row("ecologits", "package ecologits: ecologits/data/electricity_mixes.json", zones_raw,
                    len(zones), eco.version, "ecologits/data/electricity_mixes.json", when=when)]
    tables = {"models": models, "grid_zones": zones}
    for name, path, table in (("seal-gpus", GPUS_CSV, "gpus"), ("seal-cloud-regions", CLOUD_REGIONS_CSV,
                                                                   "cloud_regions")):
        frame = _csv_table(path)
        if frame is not None:
            tables[table] = frame
            raw = path.read_bytes()
            log.append(_log_row(name, f"seal/data/facts/{path.name}", raw, len(frame), SOURCES[name].version,
                                f"seal/data/facts/{path.name}", when=when))
    return tables, log


# ------------------------------------------------------------------ parsing downloaded sources
def _parse(source: Source, fetched: list[Fetched]) -> tuple[dict, list[dict], datetime]:
    """Parse one source's files -> ({'runs'|'open_llm'|'mlenergy_params': ...}, log rows)."""
    when = datetime.now(timezone.utc)
    out: dict = {}
    log: list[dict] = []
    runs: list[pd.DataFrame] = []
    ml_runs: dict[str, Path] = {}
    params: dict[str, float] = {}
    v3_index: dict[str, dict] | None = None
    for item in fetched:
        f = item.file
        name = f.mirror_path.split("/", 1)[-1]
        try:
            if f.kind == "perf-df":
                frame = ingest.read_llm_perf(item.path, name.split("/")[-1], source.version, source.name)
                runs.append(frame)
                n = len(frame)
            elif f.kind == "llm-df":
                out["open_llm"] = ingest.read_open_llm_leaderboard(item.path, name, source.name)
                n = len(out["open_llm"])
            elif f.kind == "mlenergy-models":
                params.update(ingest.read_mlenergy_models(item.path, name, source.name))
                n = 0
            elif f.kind == "mlenergy-v3-index":
                v3_index = ingest.read_mlenergy_v3_index(item.path, name, source.name)
                n = 0   # a list of models, checked against the model files: no benchmark rows of its own
            elif f.kind == "mlenergy-v3-model":
                frame = ingest.read_mlenergy_v3_model(item.path, name, source.version, source.name)
                runs.append(frame)
                n = len(frame)
            elif f.kind == "mlenergy-run":
                ml_runs[f.mirror_path.removeprefix("mlenergy-v2/raw/")] = item.path
                n = 1
            else:  # pragma: no cover - registry and parser out of step
                raise DataSourceError(f"Source {source.name}: file {name} has an unknown kind {f.kind!r}.")
        except DataSourceError as exc:
            raise DataSourceError(f"{str(exc).rstrip('.')}; the store was left unchanged.") from exc
        except Exception as exc:  # a parser surprise is still the file's problem, named as such
            raise DataSourceError(f"Source {source.name}: file {name} could not be parsed "
                                  f"({type(exc).__name__}: {exc}); the store was left unchanged.") from exc
        log.append(_log_row(source.name, item.url, None, n, source.version, f.mirror_path,
                            sha=item.sha256, size=item.bytes, when=when))
    if v3_index is not None and runs:
        listed = set(v3_index)
        unlisted = sorted({m for r in runs for m in r["model_id"].dropna().astype(str)} - listed)
        if unlisted:
            raise DataSourceError(f"Source {source.name}: model file(s) of {', '.join(unlisted[:3])} are not in "
                                  "index.json; the store was left unchanged.")
    if ml_runs:
        runs.append(ingest.read_mlenergy_runs(ml_runs, source.version, source.name))
    if runs:
        out["runs"] = pd.concat(runs, ignore_index=True)
    if params:
        out["mlenergy_params"] = params
    n_rows = len(out.get("runs", ())) + len(out.get("open_llm", ()))
    if n_rows == 0:
        raise DataSourceError(f"Source {source.name}: its files held no usable rows; the store was left unchanged.")
    return out, log, when


def _previous(db_path: Path) -> dict[str, pd.DataFrame]:
    """Tables of the existing store that a partial pull carries over (empty when there is none)."""
    if not db_path.exists():
        return {}
    try:
        names = store.table_names(db_path)
        return {n: store.read_table(n, db_path) for n in ("benchmark_runs", OPEN_LLM_TABLE, "ingest_log", *USER_TABLES)
                if n in names}
    except Exception as exc:  # never rebuild over what could not be read: it may hold a team's own measurements
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise DataSourceError(f"The store at {db_path} could not be read ({first}); nothing was changed: close any "
                              "other program that has it open, or move the file away to build a new store.") from None


def _build(db_path: Path, parsed: dict[str, dict], logs: list[dict], previous: dict[str, pd.DataFrame]) -> Path:
    when = datetime.now(timezone.utc)
    pulled = set(parsed)
    # benchmark runs: new ones, plus old rows of sources not pulled now
    runs = [p["runs"] for p in parsed.values() if "runs" in p]
    new_runs = pd.concat(runs, ignore_index=True) if runs else pd.DataFrame(columns=list(BENCHMARK_RUNS))
    open_llm = next((p["open_llm"] for p in parsed.values() if "open_llm" in p), None)
    if open_llm is None and "open-llm-leaderboard" not in pulled:
        open_llm = previous.get(OPEN_LLM_TABLE)
    ml_params: dict[str, float] = {}
    for p in parsed.values():
        ml_params.update(p.get("mlenergy_params", {}))
    if len(new_runs):
        cat = catalogue.resolve_ecologits(new_runs["model_id"])
        new_runs = ingest.fill_params(new_runs, cat, open_llm, ml_params)
    new_runs = ingest.conform(new_runs)
    old_runs = previous.get("benchmark_runs")
    if old_runs is not None and len(old_runs):
        old_runs = ingest.conform(old_runs[~old_runs["source"].isin(pulled)])
        frames = [f for f in (old_runs, new_runs) if len(f)]
        all_runs = pd.concat(frames, ignore_index=True) if frames else new_runs
    else:
        all_runs = new_runs
    tables, offline_log = _offline(open_llm, when)
    tables["benchmark_runs"] = all_runs
    if open_llm is not None:
        tables[OPEN_LLM_TABLE] = open_llm
    old_log = previous.get("ingest_log")
    log_rows = list(logs) + offline_log
    log = pd.DataFrame(log_rows, columns=list(INGEST_LOG))
    if old_log is not None and len(old_log):
        keep = old_log[~old_log["source"].isin(pulled) & old_log["source"].isin(
            [s.name for s in SOURCES.values() if not s.offline])]
        if len(keep):
            log = pd.concat([keep.reindex(columns=list(INGEST_LOG)), log], ignore_index=True)
    tables["ingest_log"] = log
    schemas = {"benchmark_runs": BENCHMARK_RUNS, "models": catalogue.MODELS, "grid_zones": GRID_ZONES,
               "ingest_log": INGEST_LOG, **USER_TABLES}
    for name in USER_TABLES:             # a team's imported measurements and calibrations survive every rebuild
        if name in previous:
            tables[name] = previous[name]
    return store.write_store(db_path, tables, schemas)


# ------------------------------------------------------------------ entry points
def init(db_path: str | Path | None = None) -> Path:
    """Build the store from offline sources only (EcoLogits package, seal/data/facts/gpus.csv, seal/data/facts/cloud_regions.csv).

    Downloaded tables of an existing store are kept. No network.
    """
    path = Path(db_path) if db_path is not None else store.default_db_path()
    with store.write_lock(path):          # an import running now keeps its rows
        return _build(path, {}, [], _previous(path))


def pull(db_path: str | Path | None = None, mirror: str | Path | None = None, cache_dir: str | Path | None = None,
         sources: list[str] | tuple[str, ...] | None = None, progress: bool = True,
         timeout: float | tuple[float, float] | None = None, retries: int = RETRIES,
         backoff_s: float = BACKOFF_S) -> Path:
    """Download the selected sources (default: all) from ``mirror`` (URL or directory; default
    ``$SEAL_DATA_MIRROR``, else the canonical URLs), parse them, and rebuild the store atomically.

    Raises:
        DataSourceError: a file could not be downloaded or parsed (named with its source); nothing was written.
    """
    path = Path(db_path) if db_path is not None else store.default_db_path()
    where = resolve_mirror(mirror)
    if where and not where.startswith(("http://", "https://")):
        local = Path(where.removeprefix("file://"))
        if not local.is_dir():
            raise DataSourceError(f"The mirror {where} is neither an http(s) URL nor an existing directory; give a "
                                  "URL or a directory laid out like ../shared/data.")
    cache = Path(cache_dir) if cache_dir is not None else store.data_home() / "cache"
    parsed: dict[str, dict] = {}
    logs: list[dict] = []
    for source in select(sources):
        fetched = fetch_source(source, where, cache, progress=progress, timeout=timeout, retries=retries,
                               backoff_s=backoff_s)
        parsed[source.name], log, _ = _parse(source, fetched)
        logs += log
    with store.write_lock(path):          # an import running now keeps its rows
        return _build(path, parsed, logs, _previous(path))
