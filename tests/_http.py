"""A loopback HTTP server for tests (127.0.0.1 only, a free port, stopped on exit)."""
from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request to stderr."""

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(handler):
    """Run ``handler`` on 127.0.0.1 in a thread; yields the base URL, e.g. ``http://127.0.0.1:41234``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def serve_dir(directory: Path):
    """Serve the files under ``directory`` (the mirror layout of ../shared/data)."""
    return serve(functools.partial(QuietHandler, directory=str(directory)))
