"""The "Your fleet" page and the deployment choice on Estimate, Logs and What-if (Streamlit's AppTest, no browser).

A team's fleet is synthetic: 30 measured requests of an 8 B model (its size given, so no catalogue is needed) on
H100 whose measured GPU energy is twice SEAL's own estimate, times 5 % meter noise. Calibrating on it must find the
factor 2, and choosing the deployment must double the Estimate page's energy.
"""
from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from seal.errors import WARNINGS  # noqa: E402

from _paths import REPO  # noqa: E402
APP = REPO / "app.py"
TIMEOUT = 120          # s per script run: generous for a shared 2-core machine
FACTOR = 2.0           # measured / SEAL in the synthetic fleet
ROWS = 30
SOURCE = "user:my-fleet"
NONE = "None (public benchmarks only)"
LLAMA = "meta-llama/Meta-Llama-3.1-8B-Instruct"


@functools.lru_cache(maxsize=1)
def _fleet_csv() -> bytes:
    """30 measured requests: 2 x SEAL's estimate x log-normal noise (sd 0.05)."""
    import seal

    rng = np.random.default_rng(7)
    req = pd.DataFrame({"model": "fleet-llama-8b", "params_b": 8.0, "gpu": "H100", "engine": "vllm",
                        "batch_size": 16.0, "input_tokens": rng.integers(100, 3000, ROWS),
                        "output_tokens": rng.integers(30, 900, ROWS)})
    est = seal.estimate(req)
    req["measured_gpu_energy_j"] = FACTOR * est["gpu_energy_j"].to_numpy() * np.exp(rng.normal(0, 0.05, ROWS))
    return req.to_csv(index=False).encode()


@pytest.fixture()
def store(clean_app, tmp_path, monkeypatch) -> Path:
    """An offline store (``seal data init``) that the app reads (``SEAL_DB``)."""
    from seal.data.pull import init

    db = tmp_path / "store" / "seal.duckdb"
    db.parent.mkdir()
    init(db)
    monkeypatch.setenv("SEAL_DB", str(db))
    return db


def _imported(store: Path, tmp_path: Path) -> Path:
    from seal.data.measured import import_measurements

    path = tmp_path / "fleet.csv"
    path.write_bytes(_fleet_csv())
    import_measurements(path, "my-fleet", db_path=store)
    return path


def _calibrated(store: Path, tmp_path: Path) -> dict:
    from seal.estimator.calibrate import calibrate

    _imported(store, tmp_path)
    return calibrate(SOURCE, db_path=store)


def _page(page: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _text(element) -> str:
    return str(element.value).replace("\\", "").replace("\u2060", "")    # shown literally: Markdown escaped


def _errors(at: AppTest) -> list[str]:
    return [_text(e) for e in at.error]


def _success(at: AppTest) -> list[str]:
    return [_text(s) for s in at.success]


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    for d in at.dataframe:
        value = d.value
        if column in value.columns:
            return value
    raise AssertionError(f"no table with a column {column!r}: {[list(d.value.columns) for d in at.dataframe]}")


def _selectboxes(at: AppTest, label: str) -> list:
    return [s for s in at.selectbox if s.label == label]


def _button(at: AppTest, label: str):
    hits = [b for b in at.button if b.label == label]
    assert len(hits) == 1, [b.label for b in at.button]
    return hits[0]


def _upload(at: AppTest, key: str, name: str, data: bytes) -> AppTest:
    at.file_uploader(key=key).set_value((name, data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---------------------------------------------------------------- helpers of seal.ui.fleet (no script run)
def test_template_is_two_labelled_example_rows_that_import_as_they_are(store, tmp_path):
    from seal.ui import fleet

    data = fleet.template_csv()
    table = pd.read_csv(io.BytesIO(data))
    assert list(table.columns) == list(fleet.TEMPLATE_COLUMNS) and len(table) == 2
    assert table["request_id"].str.startswith("EXAMPLE").all()
    assert "EXAMPLE" in fleet.TEMPLATE_NAME
    path = tmp_path / "template.csv"
    path.write_bytes(data)
    pre = fleet.preview(path, "template.csv", "table", db_path=store)   # every accepted column reads, no row fails
    assert len(pre.rows) == 2 and not pre.skipped
    assert pre.rows["gpu"].tolist() == ["H100-SXM", "A100-SXM4-80GB"]
    assert pre.rows["request_energy_j"].tolist() == [95.0, 220.0]       # the second: prefill + decode


def test_preview_names_the_upload_and_says_the_page_controls_never_the_cli(store, tmp_path):
    from seal.errors import SealError
    from seal.ui import fleet

    frame = pd.read_csv(io.BytesIO(_fleet_csv()))
    frame.loc[4, "gpu"] = ""                       # line 6 of the file: no GPU
    path = tmp_path / "seal-upload-abc123.csv"     # a temporary file's name, never shown
    frame.to_csv(path, index=False)
    with pytest.raises(SealError) as err:
        fleet.preview(path, "fleet.csv", "table", db_path=store)
    message = str(err.value)
    assert message.startswith("fleet.csv, line 6: no gpu") and "seal-upload" not in message
    assert "--skip-bad" not in message and "“Skip unusable rows”" in message
    pre = fleet.preview(path, "fleet.csv", "table", db_path=store, skip_bad=True)
    assert len(pre.rows) == ROWS - 1 and sum(pre.skipped.values()) == 1
    assert pre.skipped_line().startswith("1 row would be skipped: 1 no gpu")
    cov = pre.coverage()
    assert cov[["Model", "GPU", "Rows"]].values.tolist() == [["fleet-llama-8b", "H100-SXM", ROWS - 1]]
    from seal.data.measured import user_runs

    assert len(user_runs(store)) == 0              # a preview writes nothing


def test_correction_in_words_and_agreement_in_percent(store, tmp_path):
    from seal.ui import fleet

    payload = _calibrated(store, tmp_path)
    words = fleet.correction_words(payload)
    import re

    hit = re.match(rf"On a typical request of {SOURCE} you measured ×([0-9.]+) the GPU energy SEAL estimates from "
                   "public benchmarks: estimates for this deployment are corrected by it\\.", words)
    assert hit and hit.group(1) == f"{payload['factor']['request']:.3g}" and 1.85 < float(hit.group(1)) < 2.15, words
    assert "30 measured requests: H100-SXM with vllm (30)" in words
    table = fleet.agreement_display(payload)
    assert table["When"].tolist() == ["Before: SEAL from public benchmarks only",
                                      "After calibration (each measurement predicted without it)"]
    before, after = table["Typical error (%)"].tolist()
    assert 40 < before < 60 and after < 10                 # SEAL is half the measurement; calibrated within noise
    assert table["Measurements"].tolist() == [ROWS, ROWS]


def test_calibration_words_of_a_result():
    from seal.ui.words import calibration_words

    result = pd.DataFrame({"deployment": [SOURCE, SOURCE, None], "calibration_factor": [2.0, 2.5, 1.0]})
    assert calibration_words(result) == (f"{SOURCE}: SEAL's GPU energy from public benchmarks ×2 to ×2.5, as your "
                                         "own measurements showed (2 of 3 rows)")
    assert calibration_words(pd.DataFrame({"gpu_energy_j": [1.0]})) == ""


# ---------------------------------------------------------------- the Your fleet page
def test_fleet_page_on_a_fresh_install_says_how_to_create_the_store_and_creates_it(clean_app):
    from seal.data.store import default_db_path

    at = _page("app_pages/fleet.py")
    assert at.title[0].value == "Your fleet" and not _errors(at)
    assert any("seal data init" in i.value for i in at.info)
    assert "seal data import FILE --name my-fleet" in at.code[0].value
    assert not default_db_path().exists()
    _button(at, "Create the local store").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    assert default_db_path().exists()
    assert [u.label for u in at.file_uploader] == ["Measurement file"]
    assert _success(at) == ["Created the local store: you can import measurements now."]


def test_import_through_the_page_previews_then_stores_and_lists_the_source(store):
    from seal.data.measured import user_runs, user_sources

    at = _page("app_pages/fleet.py")
    assert not _errors(at) and "Nothing imported yet." in [c.value for c in at.caption]
    _upload(at, "fleet_upload_0", "fleet.csv", _fleet_csv())
    assert not _errors(at), _errors(at)
    assert [s.value for s in _selectboxes(at, "Kind of file")] == ["table"]        # detected
    first = _frame_with(at, "Line")
    assert len(first) == 10 and first["GPU"].eq("H100-SXM").all() and first["Line"].tolist()[:2] == [2, 3]
    cov = _frame_with(at, "Batch sizes")
    assert cov[["Model", "GPU", "Rows", "Batch sizes"]].values.tolist() == [["fleet-llama-8b", "H100-SXM", ROWS, "16"]]
    assert len(user_runs(store)) == 0                                               # nothing imported yet
    _button(at, "Import").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    assert _success(at)[0].startswith(f"Imported {ROWS} measured rows from fleet.csv as {SOURCE} (table;")
    assert len(user_runs(store)) == ROWS and user_sources(store)["file"].tolist() == ["fleet.csv"]
    table = _frame_with(at, "File")
    assert table[["Source", "File", "Rows"]].values.tolist() == [[SOURCE, "fleet.csv", ROWS]]
    assert [u.label for u in at.file_uploader] == ["Measurement file"] and at.file_uploader[0].value is None
    # the same file again is refused in one sentence, and the source stays listed
    _upload(at, "fleet_upload_1", "fleet.csv", _fleet_csv())
    _button(at, "Import").click().run()
    assert not at.exception
    assert _errors(at) == [f"fleet.csv is already imported as {SOURCE}; tick “Replace its earlier rows” to import "
                           "it again."]
    assert len(user_runs(store)) == ROWS and _frame_with(at, "File")["Source"].tolist() == [SOURCE]


def test_calibrate_button_stores_the_calibration_and_shows_the_agreement_and_parity(store, tmp_path):
    from seal.estimator.calibrate import load_calibrations

    _imported(store, tmp_path)
    at = _page("app_pages/fleet.py")
    assert not at.get("plotly_chart") and not load_calibrations(store)
    _button(at, "Calibrate").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    payload = load_calibrations(store)[SOURCE]
    assert 1.85 < payload["factor"]["request"] < 2.15
    assert _success(at) == [f"Calibrated {SOURCE} on {ROWS} measurements: choose it as “Deployment” on the "
                            "Estimate, Logs or What-if page."]
    table = _frame_with(at, "Typical error (%)")
    assert table["When"].tolist()[1] == "After calibration (each measurement predicted without it)"
    assert table["Typical error (%)"].iloc[1] < 10 < table["Typical error (%)"].iloc[0]
    assert any(_text(m).startswith(f"On a typical request of {SOURCE} you measured") for m in at.markdown)
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    import plotly.io as pio

    fig = pio.from_json(charts[0].proto.spec)
    assert [t.name for t in fig.data] == ["Before: SEAL from public benchmarks",
                                          "After calibration (predicted without the point)",
                                          "y = x (estimate = measurement)"]
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    (bx, by), (ax, ay) = [(_array(t.x), _array(t.y)) for t in fig.data[:2]]
    assert len(bx) == len(ax) == ROWS
    assert np.median(ay / ax) == pytest.approx(1.0, abs=0.05)                 # calibrated: on y = x
    assert np.median(by / bx) == pytest.approx(1 / FACTOR, rel=0.05)          # SEAL alone: half the measurement


def _array(values) -> np.ndarray:
    """A Plotly trace's coordinates (sent as base64 ``bdata`` + ``dtype``, or as a list)."""
    import base64

    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype=float)


def test_a_bad_file_gives_one_sentence_and_keeps_what_was_imported(store, tmp_path):
    _imported(store, tmp_path)
    at = _page("app_pages/fleet.py")
    no_energy = b"model,params_b,gpu,input_tokens,output_tokens\nfleet-llama-8b,8,H100,100,50\n"
    _upload(at, "fleet_upload_0", "bad.csv", no_energy)
    errors = _errors(at)
    assert len(errors) == 1 and errors[0].startswith("bad.csv lacks the column(s) measured_gpu_energy_j")
    assert "\n" not in errors[0] and "seal-upload" not in errors[0] and "Traceback" not in errors[0]
    assert not [b for b in at.button if b.label == "Import"]                  # nothing to import
    assert _frame_with(at, "File")["Source"].tolist() == [SOURCE]             # the imported source stays listed
    _upload(at, "fleet_upload_0", "garbage.parquet", b"\x00\x01 not parquet")
    errors = _errors(at)
    assert len(errors) == 1 and errors[0].startswith("garbage.parquet could not be read as a table of measured runs")


def test_a_bad_row_is_skipped_when_asked_and_counted(store):
    at = _page("app_pages/fleet.py")
    frame = pd.read_csv(io.BytesIO(_fleet_csv()))
    frame.loc[0, "measured_gpu_energy_j"] = -5.0
    _upload(at, "fleet_upload_0", "fleet.csv", frame.to_csv(index=False).encode())
    assert _errors(at) == ["fleet.csv, line 2: measured_gpu_energy_j must be positive (tick “Skip unusable rows” "
                           "to skip and count such rows)."]
    at.checkbox(key="fleet_skip_bad").check().run()
    assert not _errors(at) and [_text(w) for w in at.warning] == [
        "1 row would be skipped: 1 measured_gpu_energy_j must be positive."]
    _button(at, "Import").click().run()
    assert _success(at)[0].startswith(f"Imported {ROWS - 1} measured rows")
    assert "Skipped 1 row: 1 measured_gpu_energy_j must be positive." in _success(at)[0]


def test_an_invalid_name_is_one_error_and_disables_import(store):
    at = _page("app_pages/fleet.py")
    at.text_input(key="fleet_name").set_value("my fleet!").run()
    _upload(at, "fleet_upload_0", "fleet.csv", _fleet_csv())
    assert _errors(at) == ["'my fleet!' is not a usable source name; give 1-64 letters, digits, '.', '_' or '-' "
                           "(e.g. my-fleet, stored as user:my-fleet)."]
    assert _button(at, "Import").disabled


def test_remove_drops_the_source_and_its_calibration_after_a_confirmation(store, tmp_path):
    from seal.data.measured import user_runs, user_sources
    from seal.estimator.calibrate import load_calibrations

    _calibrated(store, tmp_path)
    at = _page("app_pages/fleet.py")
    assert at.get("plotly_chart")
    _button(at, "Remove").click().run()
    assert any(_text(w).startswith(f"Remove {SOURCE}: its {ROWS} rows and its calibration?") for w in at.warning)
    assert len(user_runs(store)) == ROWS                                     # not before "Yes, remove"
    _button(at, "Yes, remove").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    assert _success(at) == [f"Removed {SOURCE}: {ROWS} rows and its calibration."]
    assert len(user_runs(store)) == 0 and len(user_sources(store)) == 0 and load_calibrations(store) == {}
    assert "Nothing imported yet." in [c.value for c in at.caption] and not at.get("plotly_chart")
    at.switch_page("app_pages/estimate.py").run()
    assert not _selectboxes(at, "Deployment")                                # the other pages see it at once


# ---------------------------------------------------------------- the deployment on Estimate, Logs and What-if
def _estimate(at: AppTest, deployment: str | None) -> pd.DataFrame:
    at.text_area(key="est_prompts").set_value("Explain prefill and decode.\nWrite a haiku about data centres.")
    at.selectbox(key="est_model").set_value(LLAMA)
    at.selectbox(key="est_gpu").set_value("H100-SXM")
    if deployment is not None:
        at.selectbox(key="est_deployment").set_value(deployment)
    at.button(key="est_go").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    return at.session_state["estimate_run"]["result"]


def test_estimate_offers_the_deployment_only_once_calibrated_and_it_changes_the_result(store, tmp_path):
    _imported(store, tmp_path)
    at = _page("app_pages/estimate.py")
    assert not _selectboxes(at, "Deployment")                        # imported, not calibrated yet
    public = _estimate(at, None)
    from seal.estimator.calibrate import calibrate

    calibrate(SOURCE, db_path=store)
    at = _page("app_pages/estimate.py")
    [box] = _selectboxes(at, "Deployment")
    assert list(box.options) == [NONE, SOURCE] and box.value == NONE
    assert _estimate(at, NONE)["gpu_energy_j"].tolist() == public["gpu_energy_j"].tolist()
    assert not any("Calibrated to your deployment" in _text(i) for i in at.info)
    calibrated = _estimate(at, SOURCE)
    ratio = calibrated["gpu_energy_j"].to_numpy() / public["gpu_energy_j"].to_numpy()
    assert ((ratio > 1.85) & (ratio < 2.15)).all(), ratio
    assert (calibrated["deployment"] == SOURCE).all()
    assert any(_text(w).startswith(_text_of(WARNINGS["calibrated-deployment"])) for w in at.warning)
    assert any(_text(i).startswith(f"Calibrated to your deployment {SOURCE}: SEAL's GPU energy from public "
                                   "benchmarks ×") for i in at.info)
    assert at.session_state["estimate_run"]["inputs"]["deployment"] == SOURCE      # in the scenario file


def _text_of(markdown: str) -> str:
    return markdown.replace("\\", "")


def test_a_new_calibration_is_never_served_from_an_older_cached_estimate(store, tmp_path):
    from seal.data.measured import import_measurements
    from seal.estimator.calibrate import calibrate

    _calibrated(store, tmp_path)
    at = _page("app_pages/estimate.py")
    first = _estimate(at, SOURCE)["gpu_energy_j"].sum()
    frame = pd.read_csv(io.BytesIO(_fleet_csv()))
    frame["measured_gpu_energy_j"] *= 3                               # the meter now reads 3 x more: factor ~6
    path = tmp_path / "fleet-3x.csv"
    frame.to_csv(path, index=False)
    import_measurements(path, "my-fleet", db_path=store, replace=True)
    calibrate(SOURCE, db_path=store)
    at.run()
    again = _estimate(at, SOURCE)["gpu_energy_j"].sum()
    assert 2.8 < again / first < 3.2


def test_logs_page_scores_the_log_with_the_chosen_deployment(store, tmp_path):
    _calibrated(store, tmp_path)
    at = _page("app_pages/logs.py")
    log = "\n".join(["timestamp,model,input_tokens,output_tokens,gpu"] +
                    [f"2026-03-01T{i:02d}:00:00Z,{LLAMA},{200 + 10 * i},{40 + i},H100" for i in range(12)]) + "\n"
    _upload(at, "logs_file", "requests.csv", log.encode())
    assert not _errors(at), _errors(at)
    public = at.session_state["logs_run"]["log"].totals()["gpu_energy_j"]
    at.selectbox(key="logs_deployment").set_value(SOURCE).run()
    assert not at.exception and not _errors(at), _errors(at)
    run = at.session_state["logs_run"]
    assert 1.85 < run["log"].totals()["gpu_energy_j"] / public < 2.15
    assert run["inputs"]["defaults"]["deployment"] == SOURCE
    assert any(_text(w).startswith(_text_of(WARNINGS["calibrated-deployment"])) and "(12 of 12 rows)" in _text(w)
               for w in at.warning)
    assert any(_text(i).startswith(f"Calibrated to your deployment {SOURCE}") for i in at.info)


def test_whatif_compares_with_the_chosen_deployment(store, tmp_path):
    _calibrated(store, tmp_path)
    at = _page("app_pages/whatif.py")
    at.selectbox(key="wi_0_model").set_value(LLAMA)
    at.button(key="wi_go").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    public = at.session_state["whatif_run"]["results"]["compare"]["gpu_energy_j"].to_numpy()
    at.selectbox(key="wi_deployment").set_value(SOURCE)
    at.button(key="wi_go").click().run()
    assert not at.exception and not _errors(at), _errors(at)
    run = at.session_state["whatif_run"]
    ratio = run["results"]["compare"]["gpu_energy_j"].to_numpy() / public
    assert ratio[0] > 1.85 and ratio[0] < 2.15, ratio
    assert run["inputs"]["deployment"] == SOURCE
    assert any(_text(i).startswith(f"Calibrated to your deployment {SOURCE}") for i in at.info)


# ---------------------------------------------------------------- Accuracy and Benchmarks
def test_accuracy_lists_each_calibrated_deployment_with_its_agreement_and_parity(store, tmp_path):
    at = _page("app_pages/accuracy.py")
    assert "Your deployments" not in [s.value for s in at.subheader]
    _calibrated(store, tmp_path)
    at = _page("app_pages/accuracy.py")
    assert "Your deployments" in [s.value for s in at.subheader] and not _errors(at), _errors(at)
    table = _frame_with(at, "Typical error (%)")
    assert table["Measurements"].tolist() == [ROWS, ROWS]
    assert any("After calibration (predicted without the point)" in c.proto.spec for c in at.get("plotly_chart"))


def test_benchmarks_shows_the_imported_rows_beside_the_public_ones(store, tmp_path):
    at = _page("app_pages/benchmarks.py")
    assert not any("your own imported measurements" in _text(c) for c in at.caption)
    _imported(store, tmp_path)
    at = _page("app_pages/benchmarks.py")
    assert not _errors(at), _errors(at)
    assert any(_text(c).startswith(f"{ROWS} of them are your own imported measurements ({SOURCE}: {ROWS} rows")
               for c in at.caption)
    table = _frame_with(at, "energy_per_output_token_j")
    assert (table["source"] == SOURCE).sum() == ROWS
    assert SOURCE in at.multiselect(key="bench_source").options


# ---------------------------------------------------------------- CodeCarbon, and importing after a calibration
EMISSIONS = ("timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,"
             "cpu_energy,gpu_energy,ram_energy,energy_consumed\n"
             "2026-03-01T00:01:00,p,run-1,60,0.001,0.0,10,700,5,0.0002,0.01,0.0001,0.0103\n"
             "2026-03-01T00:02:00,p,run-1,120,0.002,0.0,10,700,5,0.0004,0.02,0.0002,0.0206\n"
             "2026-03-01T00:03:00,p,run-1,180,0.003,0.0,10,700,5,0.0006,0.03,0.0003,0.0309\n").encode()


def _request_log() -> bytes:
    """18 requests, six in each of the three one-minute CodeCarbon windows above."""
    lines = ["timestamp,model,params_b,gpu,input_tokens,output_tokens"]
    lines += [f"2026-03-01T00:{i // 6:02d}:{5 + (i % 6) * 9:02d}Z,fleet-llama-8b,8,H100,{100 + 10 * i},{50 + 5 * i}"
              for i in range(18)]
    return ("\n".join(lines) + "\n").encode()


def test_a_codecarbon_file_asks_for_its_request_log_then_shares_each_window(store):
    from seal.data.measured import user_runs

    at = _page("app_pages/fleet.py")
    _upload(at, "fleet_upload_0", "emissions.csv", EMISSIONS)
    assert [s.value for s in _selectboxes(at, "Kind of file")] == ["codecarbon"]
    assert [u.label for u in at.file_uploader][1].startswith("The request log CodeCarbon measured")
    assert any("Upload the request log" in i.value for i in at.info) and not [b for b in at.button
                                                                             if b.label == "Import"]
    _upload(at, "fleet_requests_0", "requests.csv", _request_log())
    assert not _errors(at), _errors(at)
    first = _frame_with(at, "Measured together")
    assert first["How measured"].eq("shared out from a window").all()
    cov = _frame_with(at, "Batch sizes")
    assert cov["Rows"].tolist() == [18] and cov["Measured GPU energy"].tolist() == ["30.0 Wh"]   # 0.03 kWh, all of it
    at.text_input(key="fleet_tz").set_value("Mars/Base").run()
    assert _errors(at) and "the time zone box" in _errors(at)[0] and "--tz" not in _errors(at)[0]
    at.text_input(key="fleet_tz").set_value("UTC").run()
    _button(at, "Import").click().run()
    assert not _errors(at), _errors(at)
    assert _success(at)[0].startswith(f"Imported 18 measured rows from emissions.csv as {SOURCE} (codecarbon;")
    runs = user_runs(store)
    assert len(runs) == 18 and runs["request_energy_j"].sum() == pytest.approx(0.03 * 3.6e6)


def test_importing_after_a_calibration_says_to_calibrate_again(store, tmp_path):
    _calibrated(store, tmp_path)
    at = _page("app_pages/fleet.py")
    more = pd.read_csv(io.BytesIO(_fleet_csv())).head(5)
    _upload(at, "fleet_upload_0", "more.csv", more.to_csv(index=False).encode())
    _button(at, "Import").click().run()
    assert not _errors(at), _errors(at)
    assert f"press “Calibrate” for {SOURCE} again (the Your fleet page) to use the new rows." in _success(at)[0]
    assert "seal calibrate" not in _success(at)[0]
    assert any("changed since it was calibrated (5 rows added)" in _text(w) for w in at.warning)


def test_a_calibration_of_another_energy_model_is_not_offered_and_the_fleet_page_says_why(store, tmp_path):
    import json

    import duckdb

    _calibrated(store, tmp_path)
    con = duckdb.connect(str(store))            # as if SEAL's shipped energy model had been refit since
    payload = json.loads(con.execute("SELECT payload FROM calibrations").fetchone()[0])
    payload["energy_model"]["fingerprint"] = "0" * 16
    con.execute("UPDATE calibrations SET payload = ?", [json.dumps(payload)])
    con.close()
    at = _page("app_pages/estimate.py")
    assert not _selectboxes(at, "Deployment")                # nothing an estimate could apply
    at = _page("app_pages/fleet.py")
    assert any("fitted on another version of SEAL's energy model" in _text(w) for w in at.warning)
