"""The DuckDB store: where it lives, atomic writes, read-only reads (cached), and ``status``.

A store is written whole into a temporary file next to the target and renamed into place with
:func:`os.replace`, so a reader sees either the old store or the new one, never half of one, and a failed build
leaves the old store untouched. Readers open read-only connections, so many (Streamlit sessions, processes)
can read at once.
"""
from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd

from seal.errors import SealError

DB_ENV = "SEAL_DB"
HOME_ENV = "SEAL_HOME"


def data_home() -> Path:
    """Where the store and the download cache live, in this order:

    1. ``$SEAL_HOME``;
    2. ``./data`` when the working folder is a SEAL checkout (``pyproject.toml`` beside a ``seal/`` package):
       what ``make run`` / ``make test`` use;
    3. the user's data folder, ``$XDG_DATA_HOME/seal`` (default ``~/.local/share/seal``): an installed package
       never writes into ``site-packages``.
    """
    env = os.environ.get(HOME_ENV, "").strip()
    if env:
        return Path(env)
    cwd = Path.cwd()
    if (cwd / "pyproject.toml").is_file() and (cwd / "seal" / "__init__.py").is_file():
        return cwd / "data"
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "seal"


def default_db_path() -> Path:
    """``$SEAL_DB``, else ``seal.duckdb`` in :func:`data_home`."""
    env = os.environ.get(DB_ENV, "").strip()
    return Path(env) if env else data_home() / "seal.duckdb"


def _path(db_path: str | Path | None) -> Path:
    return Path(db_path) if db_path is not None else default_db_path()


def connect(db_path: str | Path | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to the store (read-only by default; close it when done)."""
    path = _path(db_path)
    if read_only and not path.exists():
        raise SealError(f"No store at {path}; run `seal data init` (offline sources) or `seal data pull`.")
    try:
        if not read_only:
            return duckdb.connect(str(path))
        # A fresh in-memory database that ATTACHes the file: unlike duckdb.connect(path), this never re-uses a
        # database instance cached for the same path in this process, so a store replaced by a pull is seen at
        # once while older connections keep reading the file they opened.
        con = duckdb.connect(":memory:")
        quoted = str(path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS store (READ_ONLY)")
        con.execute("USE store")
        return con
    except duckdb.Error as exc:
        raise SealError(f"The store at {path} could not be opened ({exc}); close any other program that has it "
                        "open, or, if the file is damaged, move it away and run `seal data pull` to build a new one "
                        "(measurements imported into it would need importing again).") from exc


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SealError(f"No store at {path}; run `seal data init` (offline sources) or `seal data pull`.") from None
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _read_cached(stamp: tuple[str, int, int], name: str) -> pd.DataFrame:
    con = connect(stamp[0])
    try:
        if name not in _tables(con):
            raise SealError(f"The store at {stamp[0]} has no table {name!r}; run `seal data pull` to rebuild it.")
        return con.execute(f'SELECT * FROM "{name}"').df()
    finally:
        con.close()


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                      "WHERE table_catalog = current_database()").fetchall()}


def read_table(name: str, db_path: str | Path | None = None) -> pd.DataFrame:
    """A whole table as a DataFrame, cached per store path and modification time (a copy is returned)."""
    return _read_cached(_stamp(_path(db_path)), name).copy()


def table_names(db_path: str | Path | None = None) -> set[str]:
    """Tables in the store (empty when there is no store)."""
    path = _path(db_path)
    if not path.exists():
        return set()
    con = connect(path)
    try:
        return _tables(con)
    finally:
        con.close()


def _create(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, schema: Mapping[str, str] | None) -> None:
    """Table ``name`` from ``frame``: with ``schema``'s columns and types (column -> DuckDB type) when given, else
    the frame's own."""
    con.register("_frame", frame)
    try:
        if schema:
            cols = ", ".join(f'"{c}" {t}' for c, t in schema.items())
            con.execute(f'CREATE TABLE "{name}" ({cols})')
            picked = ", ".join(f'"{c}"' for c in schema if c in frame.columns)
            if picked and len(frame):
                con.execute(f'INSERT INTO "{name}" BY NAME SELECT {picked} FROM _frame')
        else:
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
    finally:
        con.unregister("_frame")


@contextlib.contextmanager
def _new_version(path: Path):
    """A connection to a fresh DuckDB file beside ``path``; when the block ends without error the file replaces
    ``path`` (:func:`os.replace`: a reader sees the old store or the new one, never half of one); a failure
    leaves ``path`` as it was. The temporary file is always removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        con = duckdb.connect(str(tmp))
        try:
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
        _read_cached.cache_clear()


def write_store(db_path: str | Path | None, tables: Mapping[str, pd.DataFrame],
                schemas: Mapping[str, Mapping[str, str]] | None = None) -> Path:
    """Write ``tables`` as a new store at ``db_path``, atomically (temp file + ``os.replace``).

    ``schemas`` gives column -> DuckDB type for tables that have a contract; the others take the frame's types.
    """
    path = _path(db_path)
    with _new_version(path) as con:
        for name, frame in tables.items():
            _create(con, name, frame, (schemas or {}).get(name))
    return path


@contextlib.contextmanager
def write_lock(db_path: str | Path | None = None, timeout_s: float = 60.0):
    """An exclusive lock on the store for a read-modify-write (an import, a removal, a calibration): two of them at
    once would otherwise each rewrite the store from what they read, and one's rows would be lost. Readers never
    wait (they read whole files). POSIX advisory lock on ``NAME.lock`` beside the store; elsewhere a no-op."""
    path = _path(db_path)
    try:
        import fcntl
    except ImportError:          # not POSIX: no lock (documented)
        yield
        return
    import time

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SealError(f"The store at {path} is being changed by another SEAL command; try again when "
                                    "it has finished.") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def replace_tables(db_path: str | Path | None, tables: Mapping[str, pd.DataFrame | None],
                   schemas: Mapping[str, Mapping[str, str]] | None = None) -> Path:
    """Rewrite the store with ``tables`` replaced (a frame) or dropped (``None``), every other table copied as it
    is; atomic like :func:`write_store` (a reader sees the old store or the new one)."""
    path = _path(db_path)
    if not path.exists():
        raise SealError(f"No store at {path}; run `seal data init` (offline sources) or `seal data pull`.")
    try:
        with _new_version(path) as con:
            quoted = str(path).replace("'", "''")
            con.execute(f"ATTACH '{quoted}' AS old (READ_ONLY)")
            kept = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                              "WHERE table_catalog = 'old'").fetchall()]
            for name in kept:
                if name not in tables:
                    con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM old."{name}"')
            con.execute("DETACH old")
            for name, frame in tables.items():
                if frame is not None:
                    _create(con, name, frame, (schemas or {}).get(name))
    except duckdb.Error as exc:
        raise SealError(f"The store at {path} could not be updated ({exc}); nothing was changed.") from exc
    return path


def status(db_path: str | Path | None = None) -> pd.DataFrame:
    """Per source: ``source, version, rows, url, sha256`` (short), ``pulled_at``; a source not in the store yet
    says how to get it."""
    from seal.data.sources import SOURCES

    path = _path(db_path)
    log = pd.DataFrame()
    if path.exists() and "ingest_log" in table_names(path):
        log = read_table("ingest_log", path)
    rows = []
    for src in SOURCES.values():
        part = log[log["source"] == src.name] if len(log) else log
        if len(part):
            files = part.sort_values("file") if "file" in part else part
            sha = files["sha256"].iloc[0] if len(files) == 1 else _combined_sha(files)
            pulled = pd.to_datetime(part["pulled_at"], utc=True).max()
            rows.append({"source": src.name, "version": str(part["version"].iloc[0]),
                         "rows": int(part["rows"].sum()), "url": src.base_url,
                         "sha256": (sha or "")[:12], "pulled_at": pulled.strftime("%Y-%m-%d %H:%M UTC")})
        else:
            how = ("run `seal data init`" if src.offline
                   else f"not pulled: run `seal data pull --source {src.name}`")
            rows.append({"source": src.name, "version": src.version, "rows": 0, "url": src.base_url,
                         "sha256": "", "pulled_at": how})
    return pd.DataFrame(rows, columns=["source", "version", "rows", "url", "sha256", "pulled_at"])


def _combined_sha(files: pd.DataFrame) -> str:
    import hashlib

    text = "\n".join(f"{f}:{s}" for f, s in zip(files.get("file", files["url"]), files["sha256"]))
    return hashlib.sha256(text.encode()).hexdigest()
