"""Where the checkout under test and the shared data beside it are (the one place tests locate files)."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent          # the checkout whose tests/ this is
APP = REPO / "app.py"
SHARED_DATA = Path(os.environ.get("SEAL_SHARED_DATA", REPO.parent / "shared" / "data"))
REAL_LOGS = SHARED_DATA / "real-logs"
