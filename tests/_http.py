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


class QuietServer(http.server.ThreadingHTTPServer):
    """A threading server whose handler errors stay silent: a test's deliberately slow or broken handler may still
    be running (and fail on a closed socket) after its test ended, and must not print into a later test's stderr."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


@contextlib.contextmanager
def serve(handler):
    """Run ``handler`` on 127.0.0.1 in a thread; yields the base URL, e.g. ``http://127.0.0.1:41234``."""
    server = QuietServer(("127.0.0.1", 0), handler)
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
