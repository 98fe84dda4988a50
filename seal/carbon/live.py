"""Live, hourly grid intensity: Electricity Maps (user token) and the UK Carbon Intensity API (no key).

Optional and never required: any failure (no token, no network, timeout, HTTP error, unexpected JSON) leaves the
row's value missing, and the caller falls back to the annual average with the ``annual-intensity-fallback`` warning.
Values are hourly (g CO2e/kWh); a request with a timestamp is scored at its UTC hour, one without at the latest value.
Fetched hours are cached in memory and, when the store exists and is writable, in its ``live_intensity`` table.

The token is sent only as the ``auth-token`` header; it is never logged, put in a result, an error message or the
store. Base URLs are module constants, overridable by environment variables (tests point them at 127.0.0.1).
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from seal.carbon import defaults as D

ELECTRICITYMAPS_URL = "https://api.electricitymaps.com/v3"     # docs: https://docs.electricitymaps.com/
UK_CARBON_INTENSITY_URL = "https://api.carbonintensity.org.uk"  # docs: https://carbon-intensity.github.io/api-definitions/
ENV_TOKEN = "ELECTRICITYMAPS_TOKEN"
ENV_ELECTRICITYMAPS_URL = "SEAL_ELECTRICITYMAPS_URL"
ENV_UK_URL = "SEAL_UK_CARBON_INTENSITY_URL"

EM = "electricitymaps"
UK = "carbonintensity.org.uk"
EM_MAX_HOURS = 10 * 24   # hours per past-range request (Electricity Maps: at most 10 days of hourly data)
UK_MAX_HOURS = 13 * 24   # hours per range request (UK API: at most 14 days)

STORE_TABLE = "live_intensity"
STORE_SCHEMA = ("provider VARCHAR, zone VARCHAR, hour_utc TIMESTAMP, carbon_intensity_g_per_kwh DOUBLE, "
                "fetched_at TIMESTAMP")

_MEMORY: dict[tuple[str, str, pd.Timestamp], float] = {}


def clear_memory_cache() -> None:
    """Forget the in-memory cache (tests)."""
    _MEMORY.clear()


def _base(provider: str) -> str:
    if provider == EM:
        return os.environ.get(ENV_ELECTRICITYMAPS_URL, ELECTRICITYMAPS_URL).rstrip("/")
    return os.environ.get(ENV_UK_URL, UK_CARBON_INTENSITY_URL).rstrip("/")


def _hour(value) -> pd.Timestamp:
    """Naive UTC hour of a timestamp or ISO string."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.floor("h")


def _get_json(url: str, params: dict | None, token: str | None, timeout_s: float):
    import requests

    headers = {"auth-token": token} if token else {}
    # no redirects: requests strips ``Authorization`` on a cross-host redirect but forwards any other header, so
    # following one could hand the token to whatever host the redirect names. A redirect is a failure (annual
    # averages are used instead), as is any other unexpected answer.
    response = requests.get(url, params=params, headers=headers, timeout=timeout_s, allow_redirects=False)
    if response.is_redirect or response.is_permanent_redirect or 300 <= response.status_code < 400:
        raise requests.HTTPError(f"refused redirect ({response.status_code}) from the intensity API")
    response.raise_for_status()
    return response.json()


# --- API shapes ------------------------------------------------------------------------------------------------------

def _em_records(records) -> dict[pd.Timestamp, float]:
    out: dict[pd.Timestamp, float] = {}
    for rec in records:
        value = rec.get("carbonIntensity")
        if value is not None:
            out[_hour(rec["datetime"])] = float(value)
    return out


def fetch_electricitymaps_range(zone: str, start: pd.Timestamp, end: pd.Timestamp, token: str,
                                timeout_s: float = D.LIVE_TIMEOUT_S) -> dict[pd.Timestamp, float]:
    """Hourly intensity of ``zone`` over [start, end): GET /carbon-intensity/past-range -> {hour: g/kWh}."""
    body = _get_json(f"{_base(EM)}/carbon-intensity/past-range",
                     {"zone": zone, "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "end": end.strftime("%Y-%m-%dT%H:%M:%SZ")}, token, timeout_s)
    return _em_records(body["data"])


def fetch_electricitymaps_latest(zone: str, token: str,
                                 timeout_s: float = D.LIVE_TIMEOUT_S) -> tuple[pd.Timestamp, float]:
    """Latest intensity of ``zone``: GET /carbon-intensity/latest -> (hour, g/kWh)."""
    body = _get_json(f"{_base(EM)}/carbon-intensity/latest", {"zone": zone}, token, timeout_s)
    return _hour(body["datetime"]), float(body["carbonIntensity"])


def _uk_records(records) -> dict[pd.Timestamp, float]:
    sums: dict[pd.Timestamp, list[float]] = {}
    for rec in records:
        intensity = rec.get("intensity") or {}
        value = intensity.get("actual")
        if value is None:
            value = intensity.get("forecast")
        if value is not None:
            sums.setdefault(_hour(rec["from"]), []).append(float(value))
    return {hour: float(np.mean(values)) for hour, values in sums.items()}  # half-hours -> hour


def fetch_uk_range(start: pd.Timestamp, end: pd.Timestamp,
                   timeout_s: float = D.LIVE_TIMEOUT_S) -> dict[pd.Timestamp, float]:
    """Great Britain's half-hourly intensity over [start, end), averaged per hour: GET /intensity/{from}/{to}."""
    fmt = "%Y-%m-%dT%H:%MZ"
    body = _get_json(f"{_base(UK)}/intensity/{start.strftime(fmt)}/{end.strftime(fmt)}", None, None, timeout_s)
    return {h: v for h, v in _uk_records(body["data"]).items() if start <= h < end}


def fetch_uk_latest(timeout_s: float = D.LIVE_TIMEOUT_S) -> tuple[pd.Timestamp, float]:
    """Great Britain's current intensity: GET /intensity -> (hour, g/kWh)."""
    body = _get_json(f"{_base(UK)}/intensity", None, None, timeout_s)
    (hour, value), = _uk_records(body["data"][:1]).items()
    return hour, value


# --- Store cache -----------------------------------------------------------------------------------------------------

def _store_path() -> Path | None:
    path = os.environ.get("SEAL_DB")
    if not path:
        from seal.data.store import default_db_path

        path = str(default_db_path())
    p = Path(path)
    return p if p.is_file() else None


def _store_read(provider: str, zone: str, hours: list[pd.Timestamp]) -> dict[pd.Timestamp, float]:
    path = _store_path()
    if path is None or not hours:
        return {}
    try:
        import duckdb

        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if STORE_TABLE not in tables:
                return {}
            rows = con.execute(
                f"SELECT hour_utc, carbon_intensity_g_per_kwh FROM {STORE_TABLE} WHERE provider = ? AND zone = ? "
                f"AND hour_utc BETWEEN ? AND ?",
                [provider, zone, min(hours).to_pydatetime(), max(hours).to_pydatetime()],
            ).fetchall()
        finally:
            con.close()
    except Exception:
        return {}
    wanted = set(hours)
    return {pd.Timestamp(h): float(v) for h, v in rows if pd.Timestamp(h) in wanted}


def _store_write(provider: str, zone: str, values: dict[pd.Timestamp, float]) -> bool:
    path = _store_path()
    if path is None or not values:
        return False
    try:
        import duckdb

        con = duckdb.connect(str(path))
        try:
            con.execute(f"CREATE TABLE IF NOT EXISTS {STORE_TABLE} ({STORE_SCHEMA})")
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            hours = [h.to_pydatetime() for h in values]
            con.execute(f"DELETE FROM {STORE_TABLE} WHERE provider = ? AND zone = ? AND hour_utc IN "
                        f"(SELECT UNNEST(?::TIMESTAMP[]))", [provider, zone, hours])
            con.executemany(f"INSERT INTO {STORE_TABLE} VALUES (?, ?, ?, ?, ?)",
                            [[provider, zone, h.to_pydatetime(), v, now] for h, v in values.items()])
        finally:
            con.close()
    except Exception:
        return False
    return True


# --- Per-zone lookup -------------------------------------------------------------------------------------------------

def _chunks(hours: list[pd.Timestamp], max_hours: int) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    spans: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for hour in sorted(hours):
        if spans and hour < spans[-1][0] + pd.Timedelta(hours=max_hours):
            spans[-1] = (spans[-1][0], hour + pd.Timedelta(hours=1))
        else:
            spans.append((hour, hour + pd.Timedelta(hours=1)))
    return spans


def _hourly(provider: str, zone: str, hours: list[pd.Timestamp], token: str | None,
            timeout_s: float) -> dict[pd.Timestamp, float]:
    """Values for ``hours`` of one zone from memory, the store, then the API (missing where unavailable)."""
    found = {h: _MEMORY[(provider, zone, h)] for h in hours if (provider, zone, h) in _MEMORY}
    missing = [h for h in hours if h not in found]
    stored = _store_read(provider, zone, missing)
    found.update(stored)
    missing = [h for h in missing if h not in stored]
    spans = _chunks(missing, EM_MAX_HOURS if provider == EM else UK_MAX_HOURS)
    fetched: dict[pd.Timestamp, float] = {}
    if spans and len(spans) <= D.LIVE_MAX_REQUESTS:
        for start, end in spans:
            try:
                if provider == EM:
                    fetched.update(fetch_electricitymaps_range(zone, start, end, token or "", timeout_s))
                else:
                    fetched.update(fetch_uk_range(start, end, timeout_s))
            except Exception:  # network, timeout, HTTP status, JSON shape: fall back, never raise
                break
    for h, v in fetched.items():
        _MEMORY[(provider, zone, h)] = v
    _store_write(provider, zone, fetched)
    wanted = set(missing)
    found.update({h: v for h, v in fetched.items() if h in wanted})
    return found


def _latest(provider: str, zone: str, token: str | None, timeout_s: float) -> tuple[pd.Timestamp, float] | None:
    try:
        if provider == EM:
            hour, value = fetch_electricitymaps_latest(zone, token or "", timeout_s)
        else:
            hour, value = fetch_uk_latest(timeout_s)
    except Exception:
        return None
    _MEMORY[(provider, zone, hour)] = value
    _store_write(provider, zone, {hour: value})
    return hour, value


def live_intensity(electricitymaps_zone: pd.Series, country_iso3: pd.Series, timestamp: pd.Series | None, *,
                   token: str | None = None, timeout_s: float | None = None) -> pd.DataFrame:
    """Hourly grid intensity per row from a live API, where one answers.

    Args:
        electricitymaps_zone: Electricity Maps zone per row (``US-MIDA-PJM``, ``FR`` ...; missing allowed).
        country_iso3: ISO alpha-3 per row; ``GBR`` rows use the UK Carbon Intensity API when no token is given.
        timestamp: request time per row (UTC; NaT -> latest value).
        token: Electricity Maps API token (``auth-token`` header), or ``None``.
        timeout_s: per-request timeout, s (default :data:`seal.carbon.defaults.LIVE_TIMEOUT_S`).

    Returns:
        DataFrame (same index) with ``intensity_g_per_kwh`` (NaN where no live value) and ``source``.
    """
    timeout_s = D.LIVE_TIMEOUT_S if timeout_s is None else timeout_s
    index = electricitymaps_zone.index
    em_zone = electricitymaps_zone.astype("object").where(electricitymaps_zone.notna(), None)
    iso3 = country_iso3.astype("object").where(country_iso3.notna(), None)
    provider = np.full(len(index), None, dtype=object)
    zone = np.full(len(index), None, dtype=object)
    if token:
        has_em = em_zone.notna().to_numpy()
        provider[has_em] = EM
        zone[has_em] = em_zone.to_numpy()[has_em]
    is_gb = (iso3 == "GBR").to_numpy() & (provider == None)  # noqa: E711 - numpy elementwise
    provider[is_gb] = UK
    zone[is_gb] = "GB"

    if timestamp is None:
        ts = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    else:
        ts = pd.to_datetime(timestamp, utc=True, errors="coerce")
    hours = ts.dt.floor("h").dt.tz_localize(None)

    values = np.full(len(index), np.nan)
    sources = np.full(len(index), None, dtype=object)
    keys = pd.DataFrame({"provider": provider, "zone": zone, "hour": hours.to_numpy()})
    for (prov, zn), group in keys[keys["provider"].notna()].groupby(["provider", "zone"], sort=False):
        pos = group.index.to_numpy()  # keys has a RangeIndex: labels are positions
        dated = group["hour"].notna().to_numpy()
        if dated.any():
            wanted = list(pd.unique(group.loc[dated, "hour"]))
            got = _hourly(prov, zn, [pd.Timestamp(h) for h in wanted], token, timeout_s)
            hour_values = group.loc[dated, "hour"].map(lambda h: got.get(pd.Timestamp(h), np.nan)).to_numpy(float)
            values[pos[dated]] = hour_values
            label = group.loc[dated, "hour"].dt.strftime(f"live {prov} {zn} hourly %Y-%m-%dT%H:00Z").to_numpy()
            sources[pos[dated]] = np.where(np.isnan(hour_values), None, label)
        if (~dated).any():
            latest = _latest(prov, zn, token, timeout_s)
            if latest is not None:
                hour, value = latest
                values[pos[~dated]] = value
                sources[pos[~dated]] = f"live {prov} {zn} latest {hour:%Y-%m-%dT%H:00Z}"
    return pd.DataFrame({"intensity_g_per_kwh": values, "source": sources}, index=index)
