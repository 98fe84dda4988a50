"""CodeCarbon emissions.csv import (seal.data.codecarbon): files written here in CodeCarbon's real header orders
(read from the codecarbon wheels' ``EmissionsData`` dataclasses) with made-up values, checked against hand-computed
numbers."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seal.data import codecarbon as cc
from seal.errors import SealError

# Headers exactly as each version writes them (EmissionsData field order).
HEADER_3_3_2 = ("timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
                "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,"
                "country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,"
                "cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,"
                "cpu_utilization_percent,gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,"
                "wue")
HEADER_3_0_9 = ("timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
                "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,"
                "country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,"
                "cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,on_cloud,pue,wue")
HEADER_2_8_4 = ("timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
                "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,"
                "cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,"
                "gpu_model,longitude,latitude,ram_total_size,tracking_mode,on_cloud,pue")
HEADER_2_5_1 = ("timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,"
                "cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,"
                "cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,"
                "latitude,ram_total_size,tracking_mode,on_cloud,pue")
HEADER_2_1_4 = ("timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,"
                "cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,"
                "cloud_region,os,python_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
                "ram_total_size,tracking_mode,on_cloud")
HEADER_1_2_0 = ("timestamp,experiment_id,project_name,duration,emissions,energy_consumed,country_name,"
                "country_iso_code,region,on_cloud,cloud_provider,cloud_region")
# A task file (TaskEmissionsData, all-empty columns dropped: cloud_provider, cloud_region are empty here).
HEADER_TASK_3_3_2 = ("task_name,timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
                     "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,"
                     "country_iso_code,region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,"
                     "gpu_model,longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,"
                     "gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud")

RUN_A = "7f3e2b1c-0a4d-4e5f-9b8a-1c2d3e4f5a6b"
RUN_B = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"


def _row(timestamp: str, run_id: str, duration: float, cpu: float, gpu: float, ram: float, *, pue: float = 1.0,
         version: str = "3.3.2", task_name: str = "") -> dict:
    """Every column any version writes, made-up values; energies in kWh (running totals for emissions.csv)."""
    energy = cpu + gpu + ram
    return {
        "task_name": task_name, "timestamp": timestamp, "project_name": "chat-serving", "run_id": run_id,
        "experiment_id": "5b0fa12a-3dd7-45bb-9766-cc326314d9f1", "duration": duration,
        "emissions": energy * 0.056, "emissions_rate": energy * 0.056 / duration if duration else 0.0,
        "cpu_power": 112.5, "gpu_power": 2810.25, "ram_power": 70.0, "cpu_energy": cpu, "gpu_energy": gpu,
        "ram_energy": ram, "energy_consumed": energy, "water_consumed": 0.0, "country_name": "France",
        "country_iso_code": "FRA", "region": "île-de-france", "cloud_provider": "", "cloud_region": "",
        "os": "Linux-6.8.0-51-generic-x86_64-with-glibc2.39", "python_version": "3.12.3", "codecarbon_version": version,
        "cpu_count": 64, "cpu_model": "AMD EPYC 9354 32-Core Processor", "gpu_count": 8,
        "gpu_model": "8 x NVIDIA H100 80GB HBM3", "longitude": 2.3488, "latitude": 48.8534, "ram_total_size": 1007.7,
        "tracking_mode": "machine", "cpu_utilization_percent": 12.5, "gpu_utilization_percent": 81.0,
        "ram_utilization_percent": 30.5, "ram_used_gb": 307.2, "on_cloud": "N", "pue": pue, "wue": 0.0,
    }


def _write(path: Path, header: str, rows: list[dict], *, extra_lines: dict[int, str] | None = None) -> Path:
    """A CSV in ``header``'s column order; ``extra_lines`` {data row index: raw line} replaces rows verbatim."""
    cols = header.split(",")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for i, row in enumerate(rows):
        if extra_lines and i in extra_lines:
            buf.write(extra_lines[i] + "\n")
        else:
            writer.writerow([row[c] for c in cols])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _three_rows(run_id: str = RUN_A, version: str = "3.3.2", pue: float = 1.0) -> list[dict]:
    """One run flushed twice then stopped ("append" mode): running totals since the tracker started."""
    return [
        _row("2026-03-01T12:00:00", run_id, 10.5, 0.125, 0.25, 0.0625, pue=pue, version=version),
        _row("2026-03-01T12:00:30", run_id, 40.25, 0.25, 0.75, 0.125, pue=pue, version=version),
        _row("2026-03-01T12:01:00", run_id, 70.75, 0.5, 1.0, 0.1875, pue=pue, version=version),
    ]


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture
def three(tmp_path: Path) -> Path:
    return _write(tmp_path / "emissions.csv", HEADER_3_3_2, _three_rows())


# ------------------------------------------------------------------------------------------------ detection
def test_header_detection():
    for header in (HEADER_3_3_2, HEADER_3_0_9, HEADER_2_8_4, HEADER_2_5_1, HEADER_2_1_4, HEADER_1_2_0,
                   HEADER_TASK_3_3_2):
        assert cc.is_emissions_csv(header.split(",")) is True, header
    assert cc.is_emissions_csv(["\ufefftimestamp", " project_name", "run_id ", "duration", "emissions",
                                "energy_consumed"]) is True
    assert cc.is_emissions_csv(["timestamp", "model", "input_tokens", "output_tokens", "latency_s"]) is False
    assert cc.is_emissions_csv(["timestamp", "run_id", "duration", "gpu_energy"]) is False  # no emissions column
    assert cc.is_emissions_csv(["timestamp", "duration", "emissions", "energy_consumed"]) is False  # no run/project
    assert cc.is_emissions_csv([]) is False


def test_module_columns_are_codecarbon_3_3_2_order():
    assert ",".join(cc.CODECARBON_COLUMNS) == HEADER_3_3_2
    assert cc.REQUIRED_COLUMNS == ("timestamp", "run_id", "duration", "gpu_energy")


# ------------------------------------------------------------------------------------------------ read_emissions
def test_cumulative_rows_are_differenced(three: Path):
    windows, report = cc.read_emissions(three)
    assert windows["window_id"].tolist() == [f"{RUN_A}#0", f"{RUN_A}#1", f"{RUN_A}#2"]
    assert windows["run_id"].tolist() == [RUN_A] * 3
    assert windows["start_utc"].tolist() == [_ts("2026-03-01 11:59:49.5"), _ts("2026-03-01 12:00:00"),
                                             _ts("2026-03-01 12:00:30")]
    assert windows["end_utc"].tolist() == [_ts("2026-03-01 12:00:00"), _ts("2026-03-01 12:00:30"),
                                           _ts("2026-03-01 12:01:00")]
    assert str(windows["start_utc"].dtype) == "datetime64[ns, UTC]"
    assert windows["duration_s"].tolist() == [10.5, 30.0, 30.0]
    # kWh deltas 0.25, 0.5, 0.25 (GPU), 0.125, 0.125, 0.25 (CPU), 0.0625 x3 (RAM); x 3.6e6 J/kWh
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 1_800_000.0, 900_000.0]
    assert windows["cpu_energy_j"].tolist() == [450_000.0, 450_000.0, 900_000.0]
    assert windows["ram_energy_j"].tolist() == [225_000.0, 225_000.0, 225_000.0]
    assert windows["energy_j"].tolist() == [1_575_000.0, 2_475_000.0, 2_025_000.0]
    assert windows["gpu_count"].tolist() == [8.0] * 3
    assert windows["gpu_model"].tolist() == ["8 x NVIDIA H100 80GB HBM3"] * 3
    assert windows["codecarbon_version"].tolist() == ["3.3.2"] * 3
    assert windows["source_line"].tolist() == [2, 3, 4]
    assert report == {"file": "emissions.csv", "kind": "cumulative", "tz": "UTC", "rows_read": 3, "rows_skipped": 0,
                      "skipped": {}, "examples": [], "duplicate_rows": 0, "duration_resets": 0, "runs": 1,
                      "windows": 3, "codecarbon_versions": ["3.3.2"]}


def test_two_runs_appending_to_one_file_and_update_mode(tmp_path: Path):
    # two trackers (one per process) appending to the same file, rows interleaved; run B was written in "update"
    # mode, so it has one row: its latest totals
    a = _three_rows(RUN_A)
    b = _row("2026-03-01T12:00:45", RUN_B, 20.0, 0.0, 0.5, 0.0)
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, [a[0], a[1], b, a[2]])
    windows, report = cc.read_emissions(path)
    assert windows["window_id"].tolist() == [f"{RUN_A}#0", f"{RUN_A}#1", f"{RUN_B}#0", f"{RUN_A}#2"]
    assert windows["start_utc"].tolist()[2] == _ts("2026-03-01 12:00:25")
    assert windows["end_utc"].tolist()[2] == _ts("2026-03-01 12:00:45")
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 1_800_000.0, 1_800_000.0, 900_000.0]
    assert windows["source_line"].tolist() == [2, 3, 4, 5]
    assert (report["runs"], report["windows"]) == (2, 4)


def test_rows_out_of_order_are_sorted_per_run(tmp_path: Path):
    rows = _three_rows()
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, [rows[2], rows[0], rows[1]])
    windows, _ = cc.read_emissions(path)
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 1_800_000.0, 900_000.0]
    assert windows["source_line"].tolist() == [3, 4, 2]


def test_naive_timestamps_read_in_tz(three: Path):
    paris, _ = cc.read_emissions(three, tz="Europe/Paris")  # 1 March: CET, UTC+1
    assert paris["end_utc"].tolist() == [_ts("2026-03-01 11:00:00"), _ts("2026-03-01 11:00:30"),
                                         _ts("2026-03-01 11:01:00")]
    assert paris["start_utc"].tolist()[0] == _ts("2026-03-01 10:59:49.5")
    ny, report = cc.read_emissions(three, tz="America/New_York")  # EST, UTC-5
    assert ny["end_utc"].tolist()[0] == _ts("2026-03-01 17:00:00")
    assert report["tz"] == "America/New_York"


def test_summer_time_and_offsets(tmp_path: Path):
    rows = [_row("2026-07-01T12:00:00", RUN_A, 60.0, 0.0, 0.25, 0.0),      # CEST, UTC+2
            _row("2026-07-01T10:01:00Z", RUN_A, 120.0, 0.0, 0.5, 0.0),     # offsets win over tz
            _row("2026-07-01T12:02:00+02:00", RUN_A, 180.0, 0.0, 0.75, 0.0)]
    windows, _ = cc.read_emissions(_write(tmp_path / "emissions.csv", HEADER_3_3_2, rows), tz="Europe/Paris")
    assert windows["end_utc"].tolist() == [_ts("2026-07-01 10:00:00"), _ts("2026-07-01 10:01:00"),
                                           _ts("2026-07-01 10:02:00")]
    assert windows["start_utc"].tolist()[0] == _ts("2026-07-01 09:59:00")


def test_unknown_tz():
    with pytest.raises(SealError) as err:
        cc.read_emissions("unused.csv", tz="Mars/Olympus")
    assert str(err.value) == ("unknown time zone 'Mars/Olympus'; give an IANA name such as UTC, Europe/Paris or "
                              "America/New_York (--tz)")


def test_daylight_saving_ambiguous_time(tmp_path: Path):
    rows = [_row("2026-10-25T01:50:00", RUN_A, 10.0, 0.0, 0.25, 0.0),
            _row("2026-10-25T02:30:00", RUN_A, 2410.0, 0.0, 0.5, 0.0),  # 02:00-03:00 happens twice in Paris
            _row("2026-10-25T03:10:00", RUN_A, 8410.0, 0.0, 1.0, 0.0)]
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, rows)
    with pytest.raises(SealError) as err:
        cc.read_emissions(path, tz="Europe/Paris")
    assert str(err.value).startswith("line 3 of emissions.csv has a timestamp (2026-10-25T02:30:00) that does not "
                                     "exist or is ambiguous in Europe/Paris (a daylight-saving change); ")
    windows, report = cc.read_emissions(path, tz="Europe/Paris", skip_bad=True)
    # the skipped running total's energy falls into the next window: 1.0 - 0.25 kWh
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 2_700_000.0]
    assert windows["end_utc"].tolist() == [_ts("2026-10-24 23:50:00"), _ts("2026-10-25 02:10:00")]
    assert report["skipped"] == {"dst timestamp": 1}
    assert cc.read_emissions(path)[0]["gpu_energy_j"].tolist() == [900_000.0, 900_000.0, 1_800_000.0]  # UTC: fine


@pytest.mark.parametrize("header, version, has_version, pue", [
    (HEADER_3_0_9, "3.0.9", True, 1.0),
    (HEADER_2_8_4, "2.8.4", True, 1.25),
    (HEADER_2_5_1, "2.5.1", True, 2.0),
    (HEADER_2_1_4, "2.1.4", False, 1.0),  # no pue column: energies taken as written
])
def test_older_headers(tmp_path: Path, header: str, version: str, has_version: bool, pue: float):
    # CodeCarbon multiplies energies by pue: the file holds pue x the values given here
    rows = [_row(r["timestamp"], r["run_id"], r["duration"], r["cpu_energy"] * pue, r["gpu_energy"] * pue,
                 r["ram_energy"] * pue, pue=pue, version=version) for r in _three_rows()]
    windows, report = cc.read_emissions(_write(tmp_path / "emissions.csv", header, rows))
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 1_800_000.0, 900_000.0]
    assert windows["energy_j"].tolist() == [1_575_000.0, 2_475_000.0, 2_025_000.0]
    assert windows["start_utc"].tolist()[0] == _ts("2026-03-01 11:59:49.5")
    assert ("codecarbon_version" in windows) is has_version
    assert report["codecarbon_versions"] == ([version] if has_version else [])
    assert windows["pue"].tolist() == [pue] * 3


def test_minimal_columns_only(tmp_path: Path):
    path = tmp_path / "emissions.csv"
    path.write_text("timestamp,run_id,duration,gpu_energy\n2026-03-01T12:00:00,r1,100,0.5\n"
                    "2026-03-01T12:10:00,r1,700,1.5\n", encoding="utf-8")
    windows, _ = cc.read_emissions(path)
    assert windows["gpu_energy_j"].tolist() == [1_800_000.0, 3_600_000.0]
    assert windows["cpu_energy_j"].isna().all() and windows["energy_j"].isna().all()
    assert windows["gpu_count"].isna().all()
    assert windows["window_id"].tolist() == ["r1#0", "r1#1"]


def test_kwh_to_joules():
    assert cc.J_PER_KWH == 3.6e6


def test_one_kwh_is_3_6_megajoules_and_pue_divided(tmp_path: Path):
    rows = [_row("2026-03-01T12:00:00", RUN_A, 3600.0, 0.75, 1.5, 0.375, pue=1.5)]
    windows, _ = cc.read_emissions(_write(tmp_path / "emissions.csv", HEADER_3_3_2, rows))
    assert windows["gpu_energy_j"].tolist() == [3_600_000.0]   # 1.5 kWh / pue 1.5 = 1 kWh
    assert windows["cpu_energy_j"].tolist() == [1_800_000.0]
    assert windows["ram_energy_j"].tolist() == [900_000.0]
    assert windows["energy_j"].tolist() == [6_300_000.0]


def test_task_file_rows_taken_as_they_are(tmp_path: Path):
    rows = [_row("2026-03-01T12:00:10", RUN_A, 10.0, 0.0, 0.25, 0.0, task_name="warmup"),
            _row("2026-03-01T12:00:40", RUN_A, 30.0, 0.0, 0.5, 0.0, task_name="serve")]
    windows, report = cc.read_emissions(_write(tmp_path / "emissions_exp_run.csv", HEADER_TASK_3_3_2, rows))
    assert windows["window_id"].tolist() == [f"{RUN_A}#warmup", f"{RUN_A}#serve"]
    assert windows["start_utc"].tolist() == [_ts("2026-03-01 12:00:00"), _ts("2026-03-01 12:00:10")]
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 1_800_000.0]  # deltas, not differenced
    assert report["kind"] == "task"


def test_duplicates_and_duration_resets(tmp_path: Path):
    rows = _three_rows()
    rows[2]["duration"] = 15.0  # start_task() restarted duration; the running totals carry on
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, [rows[0], rows[1], rows[1], rows[2]])
    windows, report = cc.read_emissions(path)
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 1_800_000.0, 900_000.0]
    assert windows["start_utc"].tolist()[2] == _ts("2026-03-01 12:00:30")
    assert (report["duplicate_rows"], report["duration_resets"], report["rows_read"]) == (1, 1, 4)


def test_file_like_input(three: Path):
    windows, report = cc.read_emissions(io.BytesIO(three.read_bytes()))
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 1_800_000.0, 900_000.0]
    assert report["file"] == "emissions.csv"


# ------------------------------------------------------------------------------------------------ bad files
HINT = " (fix the row, or pass skip_bad=True (--skip-bad) to skip bad rows and count them)"


def _error(path) -> str:
    with pytest.raises(SealError) as err:
        cc.read_emissions(path)
    text = str(err.value)
    assert "\n" not in text
    return text


def test_not_csv(tmp_path: Path):
    binary = tmp_path / "emissions.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary")
    assert _error(binary).startswith("emissions.csv is not a CSV text file (it holds binary data); ")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("timestamp,run_id\n\xe9t\xe9,1\n".encode("latin-1"))
    assert _error(latin).startswith("latin.csv is not a CSV text file (its bytes are not UTF-8); ")
    js = tmp_path / "emissions.json"
    js.write_text('{"timestamp": "2026-03-01T12:00:00"}\n', encoding="utf-8")
    assert _error(js).startswith("emissions.json is not a CSV file with a CodeCarbon header (its first line is ")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert _error(empty).startswith("empty.csv is empty; ")
    assert _error(tmp_path / "missing.csv") == (f"{tmp_path / 'missing.csv'} does not exist; give the path of a "
                                                "CodeCarbon emissions.csv")


def test_missing_columns(tmp_path: Path):
    header = HEADER_3_3_2.replace(",gpu_energy,", ",")
    path = _write(tmp_path / "emissions.csv", header, _three_rows())
    assert _error(path) == ("emissions.csv lacks the column(s) gpu_energy; a CodeCarbon emissions.csv has timestamp, "
                            "project_name, run_id, duration, emissions, cpu_energy, gpu_energy, ram_energy, "
                            "energy_consumed (kWh), gpu_count, gpu_model ...")
    old = _write(tmp_path / "old.csv", HEADER_1_2_0, [_row("2026-03-01T12:00:00", "", 1.0, 0.0, 0.0, 0.0)])
    assert _error(old).startswith("old.csv was written by CodeCarbon 1.x, which records neither run_id nor "
                                  "gpu_energy; measure with CodeCarbon 2.0 or later")


def test_header_only(tmp_path: Path):
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, [])
    assert _error(path) == ("emissions.csv has a header but no measurement rows; CodeCarbon writes a row at each "
                            "flush() and at stop()")


def test_negative_energy(tmp_path: Path):
    rows = _three_rows()
    rows[1]["gpu_energy"] = -0.1
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, rows)
    assert _error(path) == ("line 3 of emissions.csv has a negative gpu_energy (-0.1); CodeCarbon energies are "
                            "kWh >= 0" + HINT)


def test_non_numeric_and_ragged(tmp_path: Path):
    rows = _three_rows()
    rows[2]["duration"] = "abc"
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, rows)
    assert _error(path) == "line 4 of emissions.csv has a non-numeric duration ('abc'); duration is seconds >= 0" + HINT
    ragged = _write(tmp_path / "ragged.csv", HEADER_3_3_2, rows, extra_lines={0: "2026-03-01T12:00:00,x,y"})
    assert _error(ragged) == ("line 2 of ragged.csv has 3 fields where the header has 38; each row has one value per "
                              "header column" + HINT)


def test_bad_timestamp_and_run_id(tmp_path: Path):
    rows = _three_rows()
    rows[0]["timestamp"] = "yesterday"
    rows[1]["run_id"] = ""
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, rows)
    assert _error(path) == ("line 2 of emissions.csv has a timestamp that is not a date ('yesterday'); timestamps are "
                            "ISO dates such as 2026-03-01T12:00:00 (CodeCarbon's local time, read in --tz)" + HINT)


def test_running_total_that_decreases(tmp_path: Path):
    rows = _three_rows()
    rows[2]["gpu_energy"] = 0.5  # below the previous row's 0.75 kWh
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, rows)
    assert _error(path) == (f"line 4 of emissions.csv has a running total gpu_energy (0.5 kWh) below the previous row "
                            f"of run {RUN_A} (0.75 kWh); rows of one run_id are CodeCarbon's running totals since the "
                            "run started, so they never decrease" + HINT)


def test_skip_bad_counts(tmp_path: Path):
    rows = _three_rows() + [_row("2026-03-01T12:01:30", RUN_A, 100.75, 0.5, 1.25, 0.25),
                            _row("2026-03-01T12:02:00", RUN_A, 130.75, 0.5, 1.5, 0.25),
                            _row("2026-03-01T12:02:30", RUN_A, 160.75, 0.5, 1.75, 0.25)]
    rows[1]["gpu_energy"] = -0.1       # line 3
    rows[3]["cpu_energy"] = "n/a"      # line 5
    rows[4]["gpu_energy"] = 0.25       # line 6: running total below 1.0
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, rows, extra_lines={5: "only,three,fields"})  # line 7
    windows, report = cc.read_emissions(path, skip_bad=True)
    assert report["skipped"] == {"negative gpu_energy": 1, "non-numeric cpu_energy": 1, "fields": 1,
                                 "decreasing gpu_energy": 1}
    assert (report["rows_read"], report["rows_skipped"], report["windows"]) == (6, 4, 2)
    assert report["examples"][0] == "line 3: has a negative gpu_energy (-0.1)"
    # kept: lines 2 and 4; line 3's energy falls into the window closed by line 4
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 2_700_000.0]
    assert windows["start_utc"].tolist()[1] == _ts("2026-03-01 12:00:00")
    assert windows["source_line"].tolist() == [2, 4]


def test_skip_bad_every_row_bad(tmp_path: Path):
    rows = _three_rows()
    for r in rows:
        r["gpu_energy"] = "x"
    path = _write(tmp_path / "emissions.csv", HEADER_3_3_2, rows)
    with pytest.raises(SealError) as err:
        cc.read_emissions(path, skip_bad=True)
    assert str(err.value).startswith("every row of emissions.csv is bad (e.g. line 2 has a non-numeric gpu_energy "
                                     "('x')); ")


# ------------------------------------------------------------------------------------------------ apportion
def _requests() -> pd.DataFrame:
    return pd.DataFrame({
        "request_id": ["r1", "r2", "r3", "r4", "r5", "r6"],
        "timestamp": pd.to_datetime(["2026-03-01 11:59:55", "2026-03-01 11:59:59.999", "2026-03-01 12:00:00",
                                     "2026-03-01 12:00:29", "2026-03-01 12:01:00", "2026-03-01 11:59:49"], utc=True,
                                   format="ISO8601"),
        "input_tokens": [100, 50, 1000, 150, 10, 10],
        "output_tokens": [300, 50, 800, 50, 10, 10],
    }, index=[10, 11, 12, 13, 14, 15])


def test_apportion_by_tokens_hand_computed(three: Path):
    windows, _ = cc.read_emissions(three)
    out, report = cc.apportion(_requests(), windows)
    # r5 at the end of the last window (end excluded) and r6 before the first are outside; #2 has no request
    assert out["request_id"].tolist() == ["r1", "r2", "r3", "r4"]
    assert out.index.tolist() == [10, 11, 12, 13]
    assert list(out.columns[:4]) == ["request_id", "timestamp", "input_tokens", "output_tokens"]
    # #0: 900 kJ GPU, 1575 kJ server over 400 + 100 tokens; #1: 1800 kJ, 2475 kJ over 1800 + 200 tokens
    assert out["measured_gpu_energy_j"].tolist() == pytest.approx([720_000.0, 180_000.0, 1_620_000.0, 180_000.0],
                                                                  rel=1e-12)
    assert out["measured_server_energy_j"].tolist() == pytest.approx([1_260_000.0, 315_000.0, 2_227_500.0,
                                                                      247_500.0], rel=1e-12)
    assert out["measure_group"].tolist() == [f"{RUN_A}#0", f"{RUN_A}#0", f"{RUN_A}#1", f"{RUN_A}#1"]
    assert out["apportion_method"].tolist() == ["codecarbon window energy shared by input+output tokens"] * 4
    assert report == {
        "method": "codecarbon window energy shared by input+output tokens", "requests": 6, "requests_skipped": 0,
        "skipped": {}, "requests_in_windows": 4, "requests_outside": 2, "requests_in_several_windows": 0,
        "windows": 3, "windows_with_requests": 2, "windows_without_requests": 1, "windows_equal_split": 0,
        "measure_groups": 2, "assigned_gpu_energy_j": 2_700_000.0, "unassigned_gpu_energy_j": 900_000.0,
        "unassigned_server_energy_j": 2_025_000.0,
    }


def test_apportion_by_output_and_by_estimate(three: Path):
    windows, _ = cc.read_emissions(three)
    out, report = cc.apportion(_requests(), windows, method="output")
    # #0: 300 : 50 of 900 kJ; #1: 800 : 50 of 1800 kJ
    assert out["measured_gpu_energy_j"].tolist() == pytest.approx(
        [900_000 * 300 / 350, 900_000 * 50 / 350, 1_800_000 * 800 / 850, 1_800_000 * 50 / 850], rel=1e-12)
    assert report["method"] == "codecarbon window energy shared by output tokens"
    est = np.array([1.0, 3.0, 2.0, 2.0, 5.0, 5.0])
    out, report = cc.apportion(_requests(), windows, method="estimate", weights=est)
    assert out["measured_gpu_energy_j"].tolist() == pytest.approx([225_000.0, 675_000.0, 900_000.0, 900_000.0],
                                                                  rel=1e-12)
    assert out["apportion_method"].iloc[0] == "codecarbon window energy shared by estimated energy (given weights)"


def test_sum_conservation(tmp_path: Path):
    rng = np.random.default_rng(7)
    t0 = pd.Timestamp("2026-03-01 12:00:00")
    totals = np.cumsum(rng.uniform(0.001, 0.2, 40))
    ends = np.cumsum(rng.uniform(5, 60, 40))
    rows = [_row((t0 + pd.Timedelta(seconds=float(np.floor(e)))).strftime("%Y-%m-%dT%H:%M:%S"), RUN_A,
                 float(e) + 3.25, float(g) / 8, float(g), float(g) / 16) for e, g in zip(ends, totals)]
    windows, _ = cc.read_emissions(_write(tmp_path / "emissions.csv", HEADER_3_3_2, rows))
    n = 20_000
    req = pd.DataFrame({
        "timestamp": pd.to_datetime(t0.value + rng.integers(-10**10, int(ends[-1] * 1e9) + 10**10, n), utc=True),
        "input_tokens": rng.integers(0, 4000, n), "output_tokens": rng.integers(0, 1000, n)})
    out, report = cc.apportion(req, windows)
    by_group = out.groupby("measure_group")["measured_gpu_energy_j"].sum()
    used = windows.set_index("window_id").loc[by_group.index]
    np.testing.assert_allclose(by_group.to_numpy(), used["gpu_energy_j"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(out.groupby("measure_group")["measured_server_energy_j"].sum().to_numpy(),
                               used["energy_j"].to_numpy(), rtol=1e-9)
    total = report["assigned_gpu_energy_j"] + report["unassigned_gpu_energy_j"]
    assert total == pytest.approx(windows["gpu_energy_j"].sum(), rel=1e-12)
    assert out["measured_gpu_energy_j"].sum() == pytest.approx(report["assigned_gpu_energy_j"], rel=1e-9)
    # every request is either in a window or counted outside
    inside = sum(((req["timestamp"] >= s) & (req["timestamp"] < e)).sum()
                 for s, e in zip(windows["start_utc"], windows["end_utc"]))
    assert report["requests_in_windows"] == inside == len(out)
    assert report["requests_outside"] == n - inside


def test_overlapping_runs_share_into_each_request(tmp_path: Path):
    # two trackers (one per GPU process) flushed at the same times: a request takes a share of both windows
    a = _three_rows(RUN_A)
    b = [_row(r["timestamp"], RUN_B, r["duration"], 0.0, r["gpu_energy"] / 2, 0.0) for r in a]
    windows, _ = cc.read_emissions(_write(tmp_path / "emissions.csv", HEADER_3_3_2, a + b))
    out, report = cc.apportion(_requests(), windows)
    # run B's windows hold half of run A's GPU energy: each request gets 1.5 x its run-A share
    assert out["measured_gpu_energy_j"].tolist() == pytest.approx([1_080_000.0, 270_000.0, 2_430_000.0, 270_000.0],
                                                                  rel=1e-12)
    assert out["measured_server_energy_j"].tolist() == pytest.approx(
        [1_260_000.0 + 360_000.0, 315_000.0 + 90_000.0, 2_227_500.0 + 810_000.0, 247_500.0 + 90_000.0], rel=1e-12)
    # a group's windows in start order, ties by window_id
    assert out["measure_group"].tolist() == [f"{RUN_B}#0+{RUN_A}#0"] * 2 + [f"{RUN_B}#1+{RUN_A}#1"] * 2
    assert (report["requests_in_several_windows"], report["measure_groups"], report["windows_without_requests"]) \
        == (4, 2, 2)
    assert report["unassigned_gpu_energy_j"] == pytest.approx(900_000.0 * 1.5, rel=1e-12)


def test_misaligned_runs_link_windows_into_one_group(tmp_path: Path):
    a = _three_rows(RUN_A)
    b = [_row("2026-03-01T12:00:15", RUN_B, 20.0, 0.0, 0.25, 0.0),
         _row("2026-03-01T12:00:45", RUN_B, 50.0, 0.0, 0.5, 0.0)]
    windows, _ = cc.read_emissions(_write(tmp_path / "emissions.csv", HEADER_3_3_2, a + b))
    # A: [11:59:49.5, 12:00), [12:00, 12:00:30), [12:00:30, 12:01); B: [11:59:55, 12:00:15), [12:00:15, 12:00:45)
    req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01 11:59:58", "2026-03-01 12:00:20",
                                                     "2026-03-01 12:00:40"], utc=True),
                        "input_tokens": [1, 1, 1], "output_tokens": [1, 1, 1]})
    out, report = cc.apportion(req, windows)
    # A#0 + B#0 share the first request; B#1 links A#1 (second request) and A#2 (third)
    assert out["measure_group"].tolist() == [f"{RUN_A}#0+{RUN_B}#0", f"{RUN_A}#1+{RUN_B}#1+{RUN_A}#2",
                                             f"{RUN_A}#1+{RUN_B}#1+{RUN_A}#2"]
    assert report["measure_groups"] == 2
    # a request at 12:00:10 (in A#1 and B#0) links all five windows
    req = pd.concat([req, pd.DataFrame({"timestamp": [_ts("2026-03-01 12:00:10")], "input_tokens": [1],
                                        "output_tokens": [1]})], ignore_index=True)
    out, report = cc.apportion(req, windows)
    assert out["measure_group"].tolist() == [f"{RUN_A}#0+...+{RUN_A}#2 (5 windows)"] * 4
    assert report["measure_groups"] == 1
    assert out["measured_gpu_energy_j"].sum() == pytest.approx(3_600_000.0 + 1_800_000.0, rel=1e-12)


def test_two_flushes_in_one_second_make_an_empty_window(tmp_path: Path):
    rows = _three_rows()
    rows.insert(2, _row("2026-03-01T12:00:30", RUN_A, 40.75, 0.25, 0.875, 0.125))  # timestamps are whole seconds
    windows, _ = cc.read_emissions(_write(tmp_path / "emissions.csv", HEADER_3_3_2, rows))
    assert windows["duration_s"].tolist() == [10.5, 30.0, 0.0, 30.0]
    assert windows["gpu_energy_j"].tolist() == [900_000.0, 1_800_000.0, 450_000.0, 450_000.0]
    req = pd.DataFrame({"timestamp": [_ts("2026-03-01 12:00:30")], "input_tokens": [5], "output_tokens": [5]})
    for frame in (windows, windows.iloc[::-1]):
        out, report = cc.apportion(req, frame)
        assert out["measure_group"].tolist() == [f"{RUN_A}#3"]
        assert out["measured_gpu_energy_j"].tolist() == [450_000.0]
        assert report["unassigned_gpu_energy_j"] == 900_000.0 + 1_800_000.0 + 450_000.0


def test_window_whose_requests_weigh_nothing_is_shared_equally(three: Path):
    windows, _ = cc.read_emissions(three)
    req = _requests()
    req["output_tokens"] = [0, 0, 800, 50, 0, 0]
    out, report = cc.apportion(req, windows, method="output")
    assert out["measured_gpu_energy_j"].tolist()[:2] == [450_000.0, 450_000.0]
    assert out["apportion_method"].tolist()[0] == ("codecarbon window energy shared by output tokens; equal shares "
                                                   "(no request of the window has weight)")
    assert report["windows_equal_split"] == 1


def test_requests_without_timestamp_or_tokens_are_counted(three: Path):
    windows, _ = cc.read_emissions(three)
    req = _requests().astype({"input_tokens": "float", "timestamp": "object"})
    req.loc[10, "timestamp"] = None
    req.loc[11, "input_tokens"] = np.nan
    req.loc[13, "output_tokens"] = -5
    out, report = cc.apportion(req, windows)
    assert out["request_id"].tolist() == ["r3"]
    assert out["measured_gpu_energy_j"].tolist() == [1_800_000.0]
    assert report["skipped"] == {"no timestamp": 1, "no input_tokens": 1, "negative output_tokens": 1}
    assert (report["requests_skipped"], report["requests_in_windows"], report["requests_outside"]) == (3, 1, 2)
    assert report["windows_without_requests"] == 2
    assert report["unassigned_gpu_energy_j"] == 1_800_000.0


def test_no_request_inside_names_the_time_zone(three: Path):
    windows, _ = cc.read_emissions(three, tz="Asia/Tokyo")  # the file was written in UTC
    with pytest.raises(SealError) as err:
        cc.apportion(_requests(), windows)
    assert str(err.value) == ("no request of the log falls inside any CodeCarbon window (windows 2026-03-01 "
                              "02:59:49–2026-03-01 03:01:00 UTC; requests 2026-03-01 11:59:49–2026-03-01 12:01:00 "
                              "UTC): check the time zone the emissions.csv was read in (--tz) and that the log covers "
                              "the measured period")


def test_apportion_argument_errors(three: Path):
    windows, _ = cc.read_emissions(three)
    with pytest.raises(SealError, match=r"^unknown apportion method 'latency'; use tokens"):
        cc.apportion(_requests(), windows, method="latency")
    with pytest.raises(SealError, match=r"^method 'estimate' needs weights"):
        cc.apportion(_requests(), windows, method="estimate")
    with pytest.raises(SealError, match=r"^weights has 2 values for 6 requests; give one weight per request$"):
        cc.apportion(_requests(), windows, method="estimate", weights=np.ones(2))
    with pytest.raises(SealError, match=r"^the request log has no timestamp column"):
        cc.apportion(_requests().drop(columns="timestamp"), windows)
    with pytest.raises(SealError, match=r"^the request log has no input_tokens column"):
        cc.apportion(_requests().drop(columns="input_tokens"), windows)
    with pytest.raises(SealError, match=r"^the windows lack the column\(s\) gpu_energy_j"):
        cc.apportion(_requests(), windows.drop(columns="gpu_energy_j"))
    overlapping = windows.copy()
    overlapping.loc[1, "start_utc"] = _ts("2026-03-01 11:59:59")
    with pytest.raises(SealError, match=r"^windows .*#0 and .*#1 of one run overlap"):
        cc.apportion(_requests(), overlapping)
