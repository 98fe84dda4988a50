"""Live grid intensity against loopback servers answering in each API's documented shape.

Electricity Maps v3 (``/carbon-intensity/latest``, ``/carbon-intensity/past-range``, ``auth-token`` header) and the
UK Carbon Intensity API (``/intensity``, ``/intensity/{from}/{to}``, half-hourly ``forecast`` / ``actual``), served on
127.0.0.1. Covers hourly scoring of timestamped logs, caching (memory and store), timeouts and errors falling back to
annual averages, and the token never reaching the output frame or the store.
"""
from __future__ import annotations

import http.server
import json
import threading
from urllib.parse import parse_qs, urlparse

import duckdb
import numpy as np
import pandas as pd
import pytest
from _http import serve

from seal.carbon import add_carbon
from seal.carbon import defaults as D
from seal.carbon import live

TOKEN = "sk-test-Secret-Token-12345"


def em_value(zone: str, hour: pd.Timestamp) -> float:
    """What the fake Electricity Maps answers: depends on zone and hour, so a wrong hour is caught."""
    return 100.0 + 10.0 * hour.hour + (7.0 if zone.startswith("SE") else 0.0)


def uk_value(half_hour: pd.Timestamp) -> float:
    return 200.0 + half_hour.hour + (0.5 if half_hour.minute else 0.0)


class FakeApis(http.server.BaseHTTPRequestHandler):
    mode = "ok"          # ok | slow | error
    hang = threading.Event()
    seen: list[dict] = []

    def log_message(self, *args):
        pass

    def _send(self, status: int, body) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):  # noqa: N802 - http.server API
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        FakeApis.seen.append({"path": url.path, "query": query, "token": self.headers.get("auth-token"),
                              "raw": self.path})
        if FakeApis.mode == "slow":
            FakeApis.hang.wait(1.0)     # answers only after the client's 0.3 s timeout (released at teardown)
        if FakeApis.mode == "error":
            return self._send(500, {"error": "boom"})
        if url.path.startswith("/em/v3/"):
            if self.headers.get("auth-token") != TOKEN:
                return self._send(401, {"message": "Unauthorized"})
            zone = query["zone"]
            if url.path == "/em/v3/carbon-intensity/latest":
                hour = pd.Timestamp("2026-11-29T10:00:00")
                return self._send(200, {"zone": zone, "carbonIntensity": em_value(zone, hour),
                                        "datetime": "2026-11-29T10:00:00.000Z", "updatedAt": "2026-11-29T10:05:00Z",
                                        "createdAt": "2026-11-26T10:00:00Z", "emissionFactorType": "lifecycle",
                                        "isEstimated": True, "estimationMethod": "TIME_SLICER_AVERAGE"})
            if url.path == "/em/v3/carbon-intensity/past-range":
                start = pd.Timestamp(query["start"]).tz_localize(None)
                end = pd.Timestamp(query["end"]).tz_localize(None)
                hours = pd.date_range(start, end, freq="h", inclusive="left")
                data = [{"zone": zone, "carbonIntensity": em_value(zone, h),
                         "datetime": h.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "updatedAt": "2026-01-01T00:00:00Z",
                         "createdAt": "2026-01-01T00:00:00Z", "emissionFactorType": "lifecycle",
                         "isEstimated": False, "estimationMethod": None} for h in hours]
                return self._send(200, {"zone": zone, "data": data})
        if url.path.startswith("/uk/intensity"):
            parts = url.path.split("/")[3:]
            if not parts:
                half = pd.Timestamp("2026-11-29T10:30:00")
                halves = [half]
            else:
                start = pd.Timestamp(parts[0].replace("Z", "")).tz_localize(None)
                end = pd.Timestamp(parts[1].replace("Z", "")).tz_localize(None)
                halves = list(pd.date_range(start, end, freq="30min", inclusive="left"))
            data = [{"from": h.strftime("%Y-%m-%dT%H:%MZ"),
                     "to": (h + pd.Timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%MZ"),
                     "intensity": {"forecast": uk_value(h) + 3, "actual": uk_value(h), "index": "moderate"}}
                    for h in halves]
            return self._send(200, {"data": data})
        return self._send(404, {"error": "not found"})


@pytest.fixture()
def apis(monkeypatch, tmp_path):
    with serve(FakeApis) as base:
        monkeypatch.setenv(live.ENV_ELECTRICITYMAPS_URL, f"{base}/em/v3")
        monkeypatch.setenv(live.ENV_UK_URL, f"{base}/uk")
        monkeypatch.delenv(live.ENV_TOKEN, raising=False)
        db = tmp_path / "seal.duckdb"
        duckdb.connect(str(db)).close()
        monkeypatch.setenv("SEAL_DB", str(db))
        monkeypatch.setattr(D, "LIVE_TIMEOUT_S", 0.3)
        FakeApis.mode = "ok"
        FakeApis.seen = []
        live.clear_memory_cache()
        try:
            yield {"base": base, "db": db}
        finally:
            FakeApis.hang.set()
            FakeApis.hang = threading.Event()
            live.clear_memory_cache()


def log_frame(regions, timestamps) -> pd.DataFrame:
    n = len(regions)
    return pd.DataFrame({"gpu_energy_j": [1000.0] * n, "gpu_energy_low_j": [800.0] * n,
                         "gpu_energy_high_j": [1300.0] * n, "gpu_time_s": [2.0] * n, "gpus": [1] * n,
                         "region": regions, "timestamp": pd.to_datetime(timestamps, utc=True), "warnings": [""] * n})


def test_electricitymaps_hourly_values_score_each_request_at_its_hour(apis):
    f = log_frame(["azure:swedencentral", "azure:swedencentral", "aws:us-east-1"],
                  ["2026-11-20T03:15:00Z", "2026-11-20T05:59:00Z", "2026-11-20T03:00:00Z"])
    out = add_carbon(f, live_intensity=True, electricitymaps_token=TOKEN)
    assert out["grid_intensity_g_per_kwh"].tolist() == [137.0, 157.0, 130.0]
    assert out["grid_intensity_source"].tolist() == [
        "live electricitymaps SE-SE3 hourly 2026-11-20T03:00Z", "live electricitymaps SE-SE3 hourly 2026-11-20T05:00Z",
        "live electricitymaps US-MIDA-PJM hourly 2026-11-20T03:00Z"]
    assert out["warnings"].tolist() == ["", "", ""]
    # operational scales with the live value exactly
    assert out["operational_g_co2e"].iloc[1] / out["operational_g_co2e"].iloc[0] == pytest.approx(157 / 137)
    calls = [c for c in FakeApis.seen if c["path"].endswith("past-range")]
    assert {c["query"]["zone"] for c in calls} == {"SE-SE3", "US-MIDA-PJM"}
    assert all(c["token"] == TOKEN for c in FakeApis.seen)


def test_token_from_environment_and_latest_without_timestamp(apis, monkeypatch):
    monkeypatch.setenv(live.ENV_TOKEN, TOKEN)
    f = log_frame(["FR"], [None])
    out = add_carbon(f, live_intensity=True).iloc[0]
    assert out["grid_intensity_g_per_kwh"] == 200.0
    assert out["grid_intensity_source"] == "live electricitymaps FR latest 2026-11-29T10:00Z"
    assert FakeApis.seen[0]["path"] == "/em/v3/carbon-intensity/latest"


def test_token_never_in_output_store_or_url(apis):
    f = log_frame(["azure:swedencentral", "FR"], ["2026-11-20T03:15:00Z", None])
    out = add_carbon(f, live_intensity=True, electricitymaps_token=TOKEN)
    assert TOKEN not in out.to_csv()
    assert TOKEN not in out.to_json(date_format="iso")
    assert all(TOKEN not in c["raw"] for c in FakeApis.seen)  # header only, never in the URL
    con = duckdb.connect(str(apis["db"]), read_only=True)
    rows = con.execute("SELECT * FROM live_intensity").fetchall()
    con.close()
    assert rows and TOKEN not in repr(rows)
    assert TOKEN.encode() not in apis["db"].read_bytes()


def test_cache_memory_then_store(apis):
    f = log_frame(["azure:swedencentral"], ["2026-11-20T08:10:00Z"])
    first = add_carbon(f, live_intensity=True, electricitymaps_token=TOKEN)
    n_calls = len(FakeApis.seen)
    second = add_carbon(f, live_intensity=True, electricitymaps_token=TOKEN)
    assert len(FakeApis.seen) == n_calls  # memory cache
    live.clear_memory_cache()
    FakeApis.mode = "error"  # the API is now down: the store answers
    third = add_carbon(f, live_intensity=True, electricitymaps_token=TOKEN)
    assert len(FakeApis.seen) == n_calls
    assert first["grid_intensity_g_per_kwh"].iloc[0] == second["grid_intensity_g_per_kwh"].iloc[0] \
        == third["grid_intensity_g_per_kwh"].iloc[0] == 187.0
    con = duckdb.connect(str(apis["db"]), read_only=True)
    cols = [r[0] for r in con.execute("DESCRIBE live_intensity").fetchall()]
    con.close()
    assert cols == ["provider", "zone", "hour_utc", "carbon_intensity_g_per_kwh", "fetched_at"]


def test_uk_api_without_token_for_great_britain(apis):
    f = log_frame(["GB", "aws:eu-west-2"], ["2026-11-20T03:40:00Z", None])
    out = add_carbon(f, live_intensity=True)
    # hour 03:00 = mean of the two half-hours' actual values (203.0, 203.5)
    assert out["grid_intensity_g_per_kwh"].tolist() == [203.25, 210.5]
    assert out["grid_intensity_source"].tolist() == ["live carbonintensity.org.uk GB hourly 2026-11-20T03:00Z",
                                                     "live carbonintensity.org.uk GB latest 2026-11-29T10:00Z"]
    assert all(c["token"] is None for c in FakeApis.seen)


def test_no_token_outside_great_britain_falls_back_and_says_so(apis):
    out = add_carbon(log_frame(["FR"], ["2026-11-20T03:40:00Z"]), live_intensity=True).iloc[0]
    assert FakeApis.seen == []
    assert out["grid_intensity_source"].startswith("annual FRA 2024")
    assert out["warnings"] == "annual-intensity-fallback"


@pytest.mark.parametrize("mode", ["slow", "error"])
def test_timeout_or_error_falls_back_to_annual(apis, mode):
    FakeApis.mode = mode
    f = log_frame(["azure:swedencentral", "GB"], ["2026-11-20T03:15:00Z", None])
    out = add_carbon(f, live_intensity=True, electricitymaps_token=TOKEN)   # a late answer would be used
    assert out["warnings"].tolist() == ["annual-intensity-fallback"] * 2
    assert out["grid_intensity_source"].str.startswith("annual ").all()
    annual = add_carbon(f)
    assert out["grid_intensity_g_per_kwh"].tolist() == annual["grid_intensity_g_per_kwh"].tolist()


def test_wrong_token_falls_back(apis):
    out = add_carbon(log_frame(["FR"], [None]), live_intensity=True, electricitymaps_token="wrong").iloc[0]
    assert out["warnings"] == "annual-intensity-fallback"


def test_unreachable_host_falls_back(monkeypatch):
    monkeypatch.setenv(live.ENV_ELECTRICITYMAPS_URL, "http://127.0.0.1:9/v3")  # discard port: refused
    monkeypatch.setenv("SEAL_DB", "/nonexistent/seal.duckdb")
    live.clear_memory_cache()
    out = add_carbon(log_frame(["FR"], [None]), live_intensity=True, electricitymaps_token=TOKEN).iloc[0]
    assert out["warnings"] == "annual-intensity-fallback"
    assert np.isfinite(out["grid_intensity_g_per_kwh"])


def test_long_log_is_fetched_in_chunks(apis):
    hours = pd.date_range("2026-10-01T00:30:00Z", periods=25, freq="1D")  # 25 days -> 3 requests of <= 10 days
    out = add_carbon(log_frame(["FR"] * len(hours), hours), live_intensity=True, electricitymaps_token=TOKEN)
    assert (out["grid_intensity_g_per_kwh"] == 100.0).all()
    calls = [c for c in FakeApis.seen if c["path"].endswith("past-range")]
    assert len(calls) == 3


def test_market_factor_wins_over_live(apis):
    out = add_carbon(log_frame(["FR"], [None]), live_intensity=True, electricitymaps_token=TOKEN,
                     market_g_per_kwh=12.0).iloc[0]
    assert FakeApis.seen == []
    assert out["grid_intensity_g_per_kwh"] == 12.0 and out["warnings"] == "market-based-factor"


class Elsewhere(http.server.BaseHTTPRequestHandler):
    """Another host: records every header it is sent (what a redirect target would learn)."""

    seen: list[dict] = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server API
        Elsewhere.seen.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"zone": "FR", "carbonIntensity": 1.0, "datetime": "2026-11-29T10:00:00.000Z"}')


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_never_forwards_the_token_to_another_host(apis, monkeypatch, status):
    """The API answers with a redirect to another host: the client does not follow it (the token stays home) and the
    estimate falls back to annual averages."""
    Elsewhere.seen = []
    with serve(Elsewhere) as other:
        class Redirecting(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                FakeApis.seen.append({"token": self.headers.get("auth-token"), "raw": self.path})
                self.send_response(status)
                self.send_header("Location", f"{other.replace('127.0.0.1', 'localhost')}/steal{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()

        with serve(Redirecting) as redirecting:
            monkeypatch.setenv(live.ENV_ELECTRICITYMAPS_URL, f"{redirecting}/em/v3")
            live.clear_memory_cache()
            out = add_carbon(log_frame(["FR"], [None]), live_intensity=True, electricitymaps_token=TOKEN).iloc[0]
    assert FakeApis.seen and FakeApis.seen[0]["token"] == TOKEN       # sent to the API's own host only
    assert Elsewhere.seen == []                                       # the redirect target never heard from us
    assert not str(out["grid_intensity_source"]).startswith("live")   # fell back to the annual average
