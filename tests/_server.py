"""Start and stop a headless Streamlit server of the app: used by the browser test and by ``make bench``."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

APP_TIMEOUT_S = 120.0   # s: a server that is not healthy by then is reported, not waited for


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(app: Path, port: int, *, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    env: dict | None = None, extra_args: Sequence[str] = ()) -> subprocess.Popen:
    """``streamlit run app`` headless on 127.0.0.1:``port`` (the venv's streamlit next to this interpreter), no
    file watcher, then ``extra_args`` (more ``--section.option value`` pairs). Shared by the browser test and the bench."""
    streamlit = Path(sys.executable).with_name("streamlit")
    base = [str(streamlit)] if streamlit.exists() else [sys.executable, "-m", "streamlit"]
    cmd = [*base, "run", str(app), "--server.headless", "true", "--server.address", "127.0.0.1",
           "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           *extra_args]
    return subprocess.Popen(cmd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, cwd=app.parent, env=env)


def wait_healthy(proc: subprocess.Popen, port: int, start: float, timeout_s: float = APP_TIMEOUT_S) -> str | None:
    """Poll ``/_stcore/health`` until it answers 200; ``None`` then, else why not (exited / timed out)."""
    import urllib.request

    while time.perf_counter() - start < timeout_s:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace").strip().splitlines() if proc.stderr else []
            return f"streamlit exited {proc.returncode}: {(err or [''])[-1][:200]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as resp:
                if resp.status == 200:
                    return None
        except OSError:
            pass
        try:                                   # until the next poll: returns at once if the server exits
            proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            pass
    return f"no 200 within {timeout_s:g} s"


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate ``proc``; kill it if it has not exited after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
