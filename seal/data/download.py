"""Fetch a source's files from a mirror (URL or directory) or the canonical URLs, with ``requests``.

Timeouts, retries with exponential backoff (connection errors, timeouts, HTTP 5xx/429), a tqdm progress bar on
stderr, sha256 of every file, and a cache directory: a cached file whose sha256 matches the pinned hash is not
downloaded again; without a pinned hash a conditional GET (ETag / Last-Modified) re-uses it on HTTP 304.
Every failure is one :class:`seal.errors.DataSourceError` naming the source, the file and the problem.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests

from seal.data.sources import Source, SourceFile
from seal.errors import DataSourceError

MIRROR_ENV = "SEAL_DATA_MIRROR"
TIMEOUT_ENV = "SEAL_HTTP_TIMEOUT"
CONNECT_TIMEOUT_S = 10.0      # s
READ_TIMEOUT_S = 60.0         # s, between bytes
RETRIES = 3                   # extra attempts after the first
BACKOFF_S = 1.0               # s, doubled each retry
WORKERS = 8                   # parallel downloads per source
CHUNK_BYTES = 1 << 16
USER_AGENT = "seal-data-pull (+https://github.com/; requests)"
_RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Fetched:
    """A file ready to parse."""

    file: SourceFile
    path: Path          # local file (in the cache, or in a directory mirror)
    url: str            # where it came from
    sha256: str
    bytes: int
    from_cache: bool


class _Skip(Exception):
    """An optional file absent from the mirror."""


def resolve_mirror(mirror: str | os.PathLike | None) -> str | None:
    """``mirror`` or ``$SEAL_DATA_MIRROR``; None means the canonical locations."""
    value = str(mirror) if mirror else os.environ.get(MIRROR_ENV, "").strip()
    return value or None


def file_location(f: SourceFile, mirror: str | None) -> str:
    """URL or local path of ``f`` in ``mirror`` (or its canonical URL)."""
    if mirror is None:
        return f.url
    if mirror.startswith(("http://", "https://")):
        return mirror.rstrip("/") + "/" + quote(f.mirror_path)
    root = Path(mirror[len("file://"):] if mirror.startswith("file://") else mirror)
    return str(root / f.mirror_path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _timeout(timeout: float | tuple[float, float] | None) -> tuple[float, float]:
    if timeout is None and os.environ.get(TIMEOUT_ENV):
        timeout = float(os.environ[TIMEOUT_ENV])
    if timeout is None:
        return (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
    if isinstance(timeout, tuple):
        return timeout
    return (float(timeout), float(timeout))


_local = threading.local()


def _session() -> requests.Session:
    if getattr(_local, "session", None) is None:
        s = requests.Session()
        s.headers["User-Agent"] = USER_AGENT
        _local.session = s
    return _local.session


def _fail(source: Source, f: SourceFile, where: str, problem: str) -> DataSourceError:
    return DataSourceError(f"Source {source.name}: file {f.mirror_path} from {where} {problem}; "
                           f"the store was left unchanged.")


def _fetch_local(source: Source, f: SourceFile, where: str) -> Fetched:
    path = Path(where)
    if not path.is_file():
        if f.optional:
            raise _Skip(where)
        raise _fail(source, f, where, "is missing")
    sha = sha256_file(path)
    if f.sha256 and sha != f.sha256:
        raise _fail(source, f, where, f"is truncated or corrupt (sha256 {sha[:12]}, expected {f.sha256[:12]})")
    return Fetched(f, path, where, sha, path.stat().st_size, from_cache=False)


def _fetch_http(source: Source, f: SourceFile, url: str, cache_dir: Path, timeout: tuple[float, float],
                retries: int, backoff_s: float) -> Fetched:
    dest = cache_dir / source.name / f.mirror_path
    if dest.is_file() and f.sha256 and sha256_file(dest) == f.sha256:
        return Fetched(f, dest, url, f.sha256, dest.stat().st_size, from_cache=True)
    headers, meta = _conditional_headers(f, url, dest)
    problem = "could not be downloaded"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff_s * 2 ** (attempt - 1))
        try:
            with _session().get(url, headers=headers, timeout=timeout, stream=True) as resp:
                return _take_response(source, f, url, resp, dest, meta)
        except _Retry as exc:
            problem = str(exc)
        except requests.Timeout:
            problem = f"timed out (no answer within {timeout[1]:g} s)"
        except requests.exceptions.ChunkedEncodingError as exc:
            problem = f"is truncated (the connection broke mid-file: {type(exc).__name__})"
        except requests.ConnectionError as exc:
            problem = f"could not be reached ({_short(exc)})"
        except requests.RequestException as exc:
            problem = f"could not be downloaded ({_short(exc)})"
    tries = f" after {retries + 1} attempts" if retries else ""
    raise _fail(source, f, url, f"{problem}{tries}")


class _Retry(Exception):
    """An attempt that failed in a way worth retrying; the message is the problem."""


def _meta_path(dest: Path) -> Path:
    """The JSON file next to a cached file that records its url, sha256, bytes, ETag and Last-Modified."""
    return dest.with_name(dest.name + ".meta.json")


def _conditional_headers(f: SourceFile, url: str, dest: Path) -> tuple[dict[str, str], dict]:
    """(request headers, cached meta): If-None-Match / If-Modified-Since from the meta of a cached copy of ``url``
    that is still intact, for a file without a pinned hash; none otherwise."""
    headers: dict[str, str] = {}
    meta: dict = {}
    meta_path = _meta_path(dest)
    if dest.is_file() and meta_path.is_file() and not f.sha256:
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError):
            meta = {}
        if meta.get("url") == url and meta.get("sha256") == sha256_file(dest):
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
    return headers, meta


def _take_response(source: Source, f: SourceFile, url: str, resp: requests.Response, dest: Path, meta: dict
                   ) -> Fetched:
    """One answer -> the file in the cache (re-used on 304, else written with its meta); raises _Retry for an
    answer worth retrying, _Skip for an optional file not found, DataSourceError otherwise."""
    if resp.status_code == 304 and dest.is_file():
        return Fetched(f, dest, url, meta["sha256"], dest.stat().st_size, from_cache=True)
    if resp.status_code == 404 and f.optional:
        raise _Skip(url)
    if resp.status_code >= 400:
        problem = f"failed with HTTP {resp.status_code} {resp.reason or ''}".rstrip()
        if resp.status_code in _RETRY_STATUS:
            raise _Retry(problem)
        raise _fail(source, f, url, problem)
    part, sha, size = _stream_to_part(resp, dest)
    if f.sha256 and sha != f.sha256:
        part.unlink(missing_ok=True)
        raise _fail(source, f, url, f"is truncated or corrupt (sha256 {sha[:12]}, expected {f.sha256[:12]})")
    os.replace(part, dest)
    _meta_path(dest).write_text(json.dumps({
        "url": url, "sha256": sha, "bytes": size,
        "etag": resp.headers.get("ETag"), "last_modified": resp.headers.get("Last-Modified")}))
    return Fetched(f, dest, url, sha, size, from_cache=False)


def _stream_to_part(resp: requests.Response, dest: Path) -> tuple[Path, str, int]:
    """The body written to ``dest``'s ``.part`` file: (that path, its sha256, its bytes); a body shorter than its
    Content-Length (when not content-encoded) is removed and raises _Retry."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    h = hashlib.sha256()
    size = 0
    with open(part, "wb") as out:
        for chunk in resp.iter_content(CHUNK_BYTES):
            out.write(chunk)
            h.update(chunk)
            size += len(chunk)
    expected = resp.headers.get("Content-Length")
    encoded = resp.headers.get("Content-Encoding", "identity") not in ("", "identity")
    if expected is not None and not encoded and int(expected) != size:
        part.unlink(missing_ok=True)
        raise _Retry(f"is truncated (received {size} of {expected} bytes)")
    return part, h.hexdigest(), size


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."


def fetch_source(source: Source, mirror: str | None, cache_dir: Path, *, progress: bool = True,
                 timeout: float | tuple[float, float] | None = None, retries: int = RETRIES,
                 backoff_s: float = BACKOFF_S, files: Iterable[SourceFile] | None = None) -> list[Fetched]:
    """Every file of ``source`` (optional files absent from the mirror are left out), in registry order."""
    from tqdm import tqdm

    files = list(files if files is not None else source.files)
    tmo = _timeout(timeout)
    cache_dir = Path(cache_dir)

    def one(f: SourceFile) -> Fetched | None:
        where = file_location(f, mirror)
        try:
            if where.startswith(("http://", "https://")):
                return _fetch_http(source, f, where, cache_dir, tmo, retries, backoff_s)
            return _fetch_local(source, f, where)
        except _Skip:
            return None

    bar = tqdm(total=len(files), desc=f"{source.name}", unit="file", file=sys.stderr, disable=not progress,
               leave=False)
    results: list[Fetched | None] = [None] * len(files)
    pool = ThreadPoolExecutor(max_workers=min(WORKERS, max(1, len(files))))
    try:
        futures = [pool.submit(one, f) for f in files]
        for i, fut in enumerate(futures):
            results[i] = fut.result()  # raises the first failure (in registry order)
            bar.update(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    skipped = [f.mirror_path for f, r in zip(files, results) if r is None]
    if skipped and progress:
        print(f"{source.name}: {len(skipped)} optional file(s) not found at this location, skipped: "
              + ", ".join(Path(p).name for p in skipped), file=sys.stderr)
    return [r for r in results if r is not None]
