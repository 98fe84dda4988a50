"""Output files that never clobber data: checked targets, unique temporary files, atomic replacement.

``seal estimate --out PATH`` (and :func:`seal.stream.estimate_file`) write through :class:`AtomicOutput`:

* the target is resolved first (a symlink is written *through*: its target file is replaced, the link stays);
* a target that is one of the inputs (also through links or hard links), a folder, a device, a pipe or a socket
  is refused with one sentence, before anything is read;
* rows go to a unique temporary file beside the target (``.NAME.HOST-PID.RANDOM.partial``, so two runs with the
  same ``--out`` never share one), which replaces the target atomically (``os.replace``) only when the run finished;
* on failure or interruption the temporary file is removed and an existing target is left as it was;
  temporary files left by a run killed with SIGKILL are removed by the next run writing to that folder.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Iterable

from seal.errors import SealError

# What an output file can be, and the format a suffix implies (seal.stream writes them).
OUTPUT_FORMATS = ("csv", "json", "jsonl", "parquet")
SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
                   ".pq": "parquet"}

_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)\.[^.]+\.partial$")
STALE_AFTER_S = 3600.0   # s: a dead run's partial file is removed only once it is this old (and of this host)


def check_output(out: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """The file ``out`` will replace (symlinks followed), after refusing targets that would lose data.

    Raises:
        seal.errors.SealError: ``out`` is an input, a folder, a device / pipe / socket, or sits below a file.
    """
    if str(out).endswith(("/", os.sep)):
        raise SealError(f"--out {out} ends with a slash; give a file path such as {Path(out) / 'results.csv'}.")
    given = Path(out)
    target = Path(os.path.realpath(given))
    if target.exists() or target.is_symlink():
        mode = target.stat().st_mode if target.exists() else 0
        if stat.S_ISDIR(mode):
            raise SealError(f"--out {out} is a folder; give a file path such as {given / 'results.csv'}.")
        if target.exists() and not stat.S_ISREG(mode):
            raise SealError(f"--out {out} is a device, pipe or socket, not a regular file; give a file path "
                            "(or leave --out out to write to standard output).")
        if target.exists() and not os.access(target, os.W_OK):
            raise SealError(f"--out {out} is write-protected; SEAL does not replace it: choose another path or "
                            "change its permissions.")
    for source in inputs:
        src = Path(source)
        same = Path(os.path.realpath(src)) == target
        if not same and src.exists() and target.exists():
            same = os.path.samefile(src, target)
        if same:
            raise SealError(f"--out {out} is {source}, which this run reads; SEAL never overwrites its inputs "
                            "(logs, the store): choose another output path.")
    parent = target.parent
    for folder in (parent, *parent.parents):
        if folder.exists():
            if not folder.is_dir():
                raise SealError(f"--out {out} is inside {folder}, which is a file, not a folder.")
            break
    return target


class AtomicOutput:
    """A unique temporary file beside ``target`` that becomes ``target`` on :meth:`commit` (atomic rename).

    Use as a context manager: leaving the block without :meth:`commit` (an error, Ctrl-C, SIGTERM turned into an
    exception by the CLI) removes the temporary file and leaves ``target`` as it was.
    """

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        folder = self.target.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SealError(f"Cannot create the folder {folder} for the output: {exc.strerror or exc}.") from None
        remove_stale_partials(folder, self.target.name)
        try:
            fd, name = tempfile.mkstemp(dir=folder, prefix=f".{self.target.name}.{_host()}-{os.getpid()}.",
                                        suffix=".partial")
        except OSError as exc:
            raise SealError(f"Cannot write in {folder}: {exc.strerror or exc}.") from None
        os.close(fd)
        self.path = Path(name)
        self.existed = self.target.exists()
        self.committed = False

    def commit(self) -> None:
        """Give the temporary file the target's permissions (or the umask's for a new file) and move it there."""
        try:
            if self.existed:
                os.chmod(self.path, stat.S_IMODE(self.target.stat().st_mode))
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self.path, 0o666 & ~umask)
            os.replace(self.path, self.target)
        except OSError as exc:
            raise SealError(f"Could not replace {self.target}: {exc.strerror or exc}; it is unchanged.") from None
        self.committed = True

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def kept_note(self) -> str:
        """What happened to the target when the run did not finish: one clause for the error message."""
        return f"the existing {self.target} is unchanged" if self.existed else f"{self.target} was not written"

    def __enter__(self) -> "AtomicOutput":
        return self

    def __exit__(self, *exc) -> None:
        if not self.committed:
            self.discard()


def remove_stale_partials(folder: Path, name: str, stale_after_s: float = STALE_AFTER_S) -> int:
    """Remove ``.NAME.HOST-PID.*.partial`` files in ``folder`` left by a run killed with SIGKILL: written on this
    host, by a process that is gone, and untouched for ``stale_after_s`` seconds (so a run on another machine
    sharing the folder, or in another PID namespace, is never cut off).

    Returns how many were removed.
    """
    import time

    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for entry in entries:
        m = _PARTIAL.match(entry.name)
        if not m or m.group("name") != name or m.group("host") != _host() or _alive(int(m.group("pid"))):
            continue
        try:
            if time.time() - entry.stat().st_mtime < stale_after_s:
                continue
        except OSError:
            continue
        try:
            entry.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def _host() -> str:
    """This machine's name as it appears in partial-file names (letters, digits and ``-`` only)."""
    import socket

    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
