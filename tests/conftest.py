"""Shared fixtures.

``mirror_url`` serves ``../shared/data`` (the public sources' bytes) on 127.0.0.1, so tests run the real
download code path against it. ``pulled_store`` is a DuckDB store built by a real ``pull`` from that mirror,
once per test session. Outside CI a missing ``../shared`` skips those tests; under ``CI=true`` it fails.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from _http import serve_dir
from _paths import REPO, SHARED_DATA

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _require_shared() -> Path:
    if not SHARED_DATA.is_dir():
        msg = f"shared benchmark data not found at {SHARED_DATA}"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _require_shared()


@pytest.fixture(scope="session")
def mirror_url(shared_data: Path):
    """Base URL of an HTTP server on 127.0.0.1 serving ../shared/data (the mirror layout)."""
    with serve_dir(shared_data) as url:
        yield url


@pytest.fixture(scope="session")
def pulled_store(mirror_url: str, tmp_path_factory) -> Path:
    """A store built by the real pull against the loopback mirror (session-wide, read-only for tests)."""
    from seal.data.pull import pull

    tmp = tmp_path_factory.mktemp("store")
    db = tmp / "seal.duckdb"
    pull(db_path=db, mirror=mirror_url, cache_dir=tmp / "cache", progress=False)
    return db


@pytest.fixture
def clean_app(monkeypatch, tmp_path):
    """Empty Streamlit caches, no warm-up thread, and (unless a test sets SEAL_DB itself) an absent store: the
    offline path a fresh install has before `seal data pull`. Page-test modules make it autouse."""
    import streamlit as st

    monkeypatch.setenv("SEAL_UI_WARM_UP", "0")
    monkeypatch.setenv("SEAL_DB", str(tmp_path / "no-store" / "seal.duckdb"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture()
def logs_page(clean_app):
    """The app's Logs page in Streamlit's AppTest, on a fresh install (no store), rendered once without error."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/logs.py").run()
    assert not at.exception
    return at
