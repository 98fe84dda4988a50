"""``make bench``: how fast SEAL scores requests, how much memory it needs, and how that compares to EcoLogits.

Run as ``python bench/run.py`` (``--quick`` or ``--sizes 1000,10000`` for a short run). It prints ONE markdown
table headed by the machine and date, and writes it to ``bench/out/bench-<date>.md`` (plus the raw numbers as
JSON beside it). What each row measures:

* **CLI file → file**: ``seal estimate --file requests.<fmt> --out scored.parquet --quiet`` run as a child
  process on synthetic requests the bench writes itself (Parquet, and JSONL written from it by DuckDB). Wall
  time is taken around the whole child (interpreter start-up, imports, read, estimate, carbon, write); peak RSS
  is the child's own high-water mark (``VmHWM`` polled from ``/proc`` while it runs; ``ru_maxrss`` would also count
  this process's memory at the fork). The output's row count is checked.
* **EcoLogits**: the first 10 k of the same requests through ``ecologits.impacts.llm.compute_llm_impacts`` one
  call per request (model and electricity-mix look-ups per request, as ``ecologits.tracers.utils.llm_impacts``
  does), in this process. The speed-up compares SEAL's end-to-end CLI rate on the largest Parquet run with it.
* **In-process**: ``seal.estimate`` on the same 10 k-row frame (after a warm-up call), for a like-for-like ratio.
* **App**: ``streamlit run app.py`` headless on a free loopback port, time until ``/_stcore/health`` answers
  200; then, in a fresh interpreter, ``AppTest.from_file("app.py").run()`` (imports + the landing page's first
  full script run, which is what a browser's first render waits for).
* **App memory and load** (``--upload-mb``, ``--concurrent-uploads``, ``--load-sessions`` ... set the sizes;
  ``--app-memory-only`` runs just these): a fresh ``streamlit run app.py`` per part, driven over Streamlit's own
  websocket protocol by browser-like sessions (:class:`AppSession`). Baseline = the server's settled RSS after one
  session has rendered the Estimate and Logs pages and left. (1) one ~200 MiB CSV log uploaded on the Logs page:
  peak RSS over the baseline (kernel ``VmHWM`` after a reset through ``/proc/PID/clear_refs``), then the settled
  RSS once the session has closed and expired; (2) five different 22 MiB logs uploaded at once: peak RSS; (3) load:
  10 sessions clicking "Estimate" on 20 pasted prompts while 3 upload a 22 MiB log, all at once: peak RSS and each
  kind's per-session seconds (median, max in the note). Synthetic CSV logs as below, plus timestamp, app and user.
* **100 pasted prompts**: ``seal.estimate`` on 100 prompt texts (tokenize + estimate + carbon) in a fresh
  interpreter: the first call (loads tokenizer, artifact, tables) and a second call on 100 other prompts.

Synthetic requests: a fixed mix of EcoLogits catalogue models, GPUs and regions, input/output token counts drawn
from log-normal distributions (seeded, so every run scores the same requests).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

# `make bench` runs in the checkout: the app (app.py) and bench/out are found from the working folder, not by
# walking up from this file (which, installed, lives in site-packages)
REPO = Path.cwd()
# the server helpers the browser test uses too live with the tests (tests/_server.py)
sys.path.insert(0, str(REPO / "tests"))
from _server import free_port, start_streamlit, stop_process, wait_healthy  # noqa: E402

DEFAULT_SIZES = (10_000, 1_000_000, 10_000_000)
QUICK_SIZES = (1_000, 10_000)
FORMATS = ("parquet", "jsonl")
ECOLOGITS_REQUESTS = 10_000
CHUNK_ROWS = 1_000_000          # rows per generated chunk / Parquet row group
SEED = 20_260_302

# (EcoLogits provider, model name, share of requests). Open-weight, MoE and closed (size range) models.
BENCH_MODELS: tuple[tuple[str, str, float], ...] = (
    ("huggingface_hub", "meta-llama/Meta-Llama-3.1-8B-Instruct", 0.25),
    ("huggingface_hub", "meta-llama/Meta-Llama-3.1-70B-Instruct", 0.15),
    ("huggingface_hub", "mistralai/Mistral-7B-Instruct-v0.3", 0.10),
    ("huggingface_hub", "mistralai/Mixtral-8x7B-Instruct-v0.1", 0.10),
    ("huggingface_hub", "google/gemma-2-9b-it", 0.05),
    ("openai", "gpt-4o-mini", 0.20),
    ("openai", "gpt-4o", 0.10),
    ("mistralai", "mistral-small-latest", 0.05),
)
BENCH_GPUS: tuple[str, ...] = ("H100", "A100", "L40S", "H200")
# SEAL region -> EcoLogits electricity-mix zone (ISO 3166-1 alpha-3 or WOR).
BENCH_REGIONS: dict[str, str] = {
    "USA": "USA", "FRA": "FRA", "DEU": "DEU", "SWE": "SWE", "IND": "IND", "WOR": "WOR",
    "aws:us-east-1": "USA", "gcp:europe-west1": "BEL", "azure:westeurope": "NLD",
}
INPUT_TOKENS_MEDIAN = 400       # tokens, log-normal median
INPUT_TOKENS_SIGMA = 1.1        # log-space standard deviation
OUTPUT_TOKENS_MEDIAN = 250      # tokens
OUTPUT_TOKENS_SIGMA = 0.8
MAX_TOKENS = 128_000

PROMPT_MODEL = "mistralai/Mistral-7B-Instruct-v0.3"  # its tokenizer ships with mistral-common (offline)
PROMPT_GPU = "H100"
PROMPT_REGION = "FRA"
PROMPT_COUNT = 100

TARGET_1M_WALL_S = 3.0          # s, 1 M rows Parquet -> Parquet through the CLI, start-up included
TARGET_SPEEDUP = 100.0          # x EcoLogits' per-request rate
TARGET_10M_RSS_GIB = 1.5        # GiB peak RSS for 10 M rows
TARGET_PROMPTS_S = 1.0          # s for 100 pasted prompts in seal.estimate
CHILD_TIMEOUT_S = 900           # s, one CLI run
APP_TIMEOUT_S = 120             # s, app start-up / first render


@dataclass
class Row:
    """One line of the result table."""

    measurement: str
    rows: int | None = None
    wall_s: float | None = None
    rate_per_s: float | None = None
    peak_rss_mib: float | None = None
    cpu_s: float | None = None
    target: str = ""
    result: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- machine
def machine_info() -> dict[str, Any]:
    """CPU model, usable cores, RAM (GiB), OS and versions of the things measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {}
    for pkg in ("seal", "ecologits", "pandas", "pyarrow", "numpy", "streamlit"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {
        "cpu": cpu, "cores": cores, "load_1min": load, "ram_gib": ram_gib, "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "versions": versions,
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---------------------------------------------------------------- synthetic data
def bench_models() -> list[tuple[str, str, float]]:
    """The benchmark's model mix, restricted to models the installed EcoLogits catalogue knows."""
    from ecologits.model_repository import models

    known = [(p, m, w) for p, m, w in BENCH_MODELS if models.find_model(provider=p, model_name=m) is not None]
    if not known:
        raise RuntimeError("none of the benchmark models is in the installed EcoLogits catalogue")
    return known


def synthetic_chunk(n: int, start: int, rng) -> "pa.Table":  # noqa: F821
    """``n`` synthetic requests with ids ``start..start+n-1`` as an Arrow table (columns of the request contract)."""
    import numpy as np
    import pyarrow as pa

    mix = bench_models()
    weights = np.array([w for _, _, w in mix], dtype=float)
    model_idx = rng.choice(len(mix), size=n, p=weights / weights.sum()).astype(np.int32)
    gpu_idx = rng.integers(0, len(BENCH_GPUS), size=n, dtype=np.int32)
    regions = list(BENCH_REGIONS)
    region_idx = rng.integers(0, len(regions), size=n, dtype=np.int32)
    input_tokens = np.clip(rng.lognormal(np.log(INPUT_TOKENS_MEDIAN), INPUT_TOKENS_SIGMA, n), 1, MAX_TOKENS)
    output_tokens = np.clip(rng.lognormal(np.log(OUTPUT_TOKENS_MEDIAN), OUTPUT_TOKENS_SIGMA, n), 1, MAX_TOKENS)

    def strings(idx, values):
        return pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(values, pa.string())).dictionary_decode()

    return pa.table({
        "request_id": pa.array(np.arange(start, start + n, dtype=np.int64)),
        "model": strings(model_idx, [m for _, m, _ in mix]),
        "gpu": strings(gpu_idx, list(BENCH_GPUS)),
        "region": strings(region_idx, regions),
        "input_tokens": pa.array(input_tokens.astype(np.int64)),
        "output_tokens": pa.array(output_tokens.astype(np.int64)),
    })


def write_synthetic(n: int, folder: Path, formats: Sequence[str] = FORMATS) -> dict[str, Path]:
    """Write ``n`` synthetic requests as ``requests-<n>.parquet`` (and ``.jsonl``) in ``folder``; reuse existing ones."""
    import numpy as np
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    parquet = folder / f"requests-{n}.parquet"
    if not (parquet.exists() and pq.read_metadata(parquet).num_rows == n):
        rng = np.random.default_rng(SEED)
        tmp = parquet.with_suffix(".parquet.tmp")
        writer = None
        try:
            for start in range(0, n, CHUNK_ROWS):
                chunk = synthetic_chunk(min(CHUNK_ROWS, n - start), start, rng)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, chunk.schema)
                writer.write_table(chunk, row_group_size=CHUNK_ROWS)
        finally:
            if writer is not None:
                writer.close()
        tmp.replace(parquet)
        (folder / f"requests-{n}.jsonl.done").unlink(missing_ok=True)  # the JSONL copy is stale now
    paths = {"parquet": parquet}
    if "jsonl" in formats:
        jsonl = folder / f"requests-{n}.jsonl"
        marker = folder / f"requests-{n}.jsonl.done"
        if not (jsonl.exists() and marker.exists()):
            import duckdb

            con = duckdb.connect()
            try:
                con.execute(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{jsonl}' (FORMAT json)")
            finally:
                con.close()
            marker.touch()
        paths["jsonl"] = jsonl
    return paths


def synthetic_prompts(count: int, seed: int) -> list[str]:
    """``count`` English-like prompt texts of log-normally distributed length (5 to 800 words)."""
    import numpy as np

    words = ("the energy of a model depends on how many tokens it reads and writes on which accelerator and "
             "where the data centre draws its power please summarise explain compare translate write code for "
             "this function review my essay about climate policy in europe list three reasons why a transformer "
             "uses attention over long contexts and what batching changes").split()
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(40), 1.0, count), 5, 800).astype(int)
    return [" ".join(rng.choice(words, size=k)) + "?" for k in lengths]


# ---------------------------------------------------------------- child processes
def seal_command() -> list[str]:
    """The real CLI: the ``seal`` console script beside this interpreter, else ``python -m seal.cli``."""
    script = Path(sys.executable).with_name("seal")
    return [str(script)] if script.exists() else [sys.executable, "-m", "seal.cli"]


def _vm_hwm_kib(pid: int) -> int:
    """Peak resident set size (KiB) of a running process since its exec, from ``/proc/<pid>/status`` (0 if unknown)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_child(cmd: Sequence[str], timeout_s: float = CHILD_TIMEOUT_S, cwd: Path = REPO) -> dict[str, Any]:
    """Run ``cmd``; return wall seconds (start to exit), the child's own peak RSS (MiB), CPU seconds (user + system),
    exit code and output tails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd)
        deadline = start + timeout_s
        timed_out = False
        hwm_kib = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            hwm_kib = max(hwm_kib, _vm_hwm_kib(proc.pid))
            if time.perf_counter() > deadline:
                proc.kill()
                timed_out = True
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # ru_maxrss of a child started by (v)fork + exec also counts the parent's memory at the fork (Linux keeps the
        # high-water mark across exec), so it overstates a small child of a big parent; VmHWM is the child's own.
        peak_kib = hwm_kib or usage.ru_maxrss
        return {
            "wall_s": wall, "peak_rss_mib": peak_kib / 1024, "cpu_s": usage.ru_utime + usage.ru_stime,
            "returncode": proc.returncode,
            "timed_out": timed_out, "stdout": out.read().decode(errors="replace")[-4000:],
            "stderr": err.read().decode(errors="replace")[-4000:],
        }


def bench_cli(path: Path, fmt: str, n: int, folder: Path) -> Row:
    """Score ``path`` through ``seal estimate --file ... --out ....parquet`` in a child process."""
    import pyarrow.parquet as pq

    out = folder / f"scored-{n}-{fmt}.parquet"
    out.unlink(missing_ok=True)
    cmd = [*seal_command(), "estimate", "--file", str(path), "--out", str(out), "--quiet"]
    res = run_child(cmd)
    row = Row(f"CLI {fmt} → parquet", rows=n, wall_s=res["wall_s"], peak_rss_mib=res["peak_rss_mib"],
              cpu_s=res["cpu_s"],
              extra={"command": " ".join(cmd[-6:]), "stderr": res["stderr"][-600:]})
    if res["timed_out"]:
        row.result, row.note = "ERROR", f"timed out after {CHILD_TIMEOUT_S} s"
    elif res["returncode"] != 0:
        row.result = "ERROR"
        row.note = f"exit {res['returncode']}: " + (res["stderr"].strip().splitlines() or ["(no stderr)"])[-1][:200]
    elif not out.exists():
        row.result, row.note = "ERROR", "no output file written"
    else:
        written = pq.read_metadata(out).num_rows
        row.rate_per_s = n / res["wall_s"]
        if written != n:
            row.result, row.note = "ERROR", f"output has {written} rows, expected {n}"
    out.unlink(missing_ok=True)
    return row


# ---------------------------------------------------------------- EcoLogits and in-process SEAL
def bench_ecologits(frame) -> Row:
    """Time EcoLogits' ``compute_llm_impacts`` one request at a time over ``frame`` (in this process)."""
    from ecologits.electricity_mix_repository import electricity_mixes
    from ecologits.impacts.llm import compute_llm_impacts
    from ecologits.model_repository import ParametersMoE, models
    from ecologits.tracers.utils import PROVIDER_CONFIG_MAP

    provider_of = {m: p for p, m, _ in BENCH_MODELS}
    records = list(zip(frame["model"].tolist(), frame["region"].tolist(), frame["output_tokens"].tolist()))
    gwp_total = 0.0
    cpu = time.process_time()
    start = time.perf_counter()
    for model_name, region, output_tokens in records:
        provider = provider_of[model_name]
        model = models.find_model(provider=provider, model_name=model_name)
        params = model.architecture.parameters
        if isinstance(params, ParametersMoE):
            total, active = params.total, params.active
        else:
            total = active = params
        mix = electricity_mixes.find_electricity_mix(zone=BENCH_REGIONS[region])
        config = PROVIDER_CONFIG_MAP[provider]
        impacts = compute_llm_impacts(
            model_active_parameter_count=active, model_total_parameter_count=total,
            output_token_count=output_tokens,
            request_latency=None,  # no measured latency: EcoLogits' own latency model decides
            if_electricity_mix_adpe=mix.adpe, if_electricity_mix_pe=mix.pe, if_electricity_mix_gwp=mix.gwp,
            if_electricity_mix_wue=mix.wue, datacenter_pue=config.datacenter_pue,
            datacenter_wue=config.datacenter_wue,
            tps=model.deployment.tps if model.deployment else None,
            ttft=model.deployment.ttft if model.deployment else None,
        )
        value = impacts.gwp.value
        gwp_total += value.mean if hasattr(value, "mean") else float(value)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    n = len(records)
    return Row("EcoLogits compute_llm_impacts, one call per request", rows=n, wall_s=wall, cpu_s=cpu,
               rate_per_s=n / wall,
               note="in-process; model + mix look-up per request", extra={"gwp_total_kg": gwp_total})


def bench_in_process(frame) -> Row:
    """Time ``seal.estimate`` on ``frame`` in this process after a small warm-up call."""
    from seal.api import estimate

    estimate(frame.head(100))  # load artifact, catalogue and grid tables once
    cpu = time.process_time()
    start = time.perf_counter()
    out = estimate(frame)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    if len(out) != len(frame):
        raise RuntimeError(f"seal.estimate returned {len(out)} rows for {len(frame)}")
    return Row("seal.estimate in-process (same requests, warm)", rows=len(frame), wall_s=wall, cpu_s=cpu,
               rate_per_s=len(frame) / wall, note="no file I/O, no start-up")


_PROMPTS_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
import pandas as pd
from seal.api import estimate
spec = json.load(open(sys.argv[1]))
t_import = time.perf_counter() - t0
kw = dict(model=spec["model"], gpu=spec["gpu"], region=spec["region"])
t = time.perf_counter(); a = estimate(pd.DataFrame({"prompt": spec["first"]}), **kw); first = time.perf_counter() - t
t = time.perf_counter(); b = estimate(pd.DataFrame({"prompt": spec["second"]}), **kw); second = time.perf_counter() - t
ok = len(a) == len(spec["first"]) and len(b) == len(spec["second"]) and bool((a["input_tokens"] > 0).all())
print(json.dumps({"import_s": t_import, "first_s": first, "second_s": second, "ok": ok,
                  "total_g_co2e": float(a["total_g_co2e"].sum())}))
"""


def bench_prompts(folder: Path) -> list[Row]:
    """100 pasted prompts through ``seal.estimate`` in a fresh interpreter: first call and a second call."""
    spec = folder / "prompts.json"
    spec.write_text(json.dumps({
        "model": PROMPT_MODEL, "gpu": PROMPT_GPU, "region": PROMPT_REGION,
        "first": synthetic_prompts(PROMPT_COUNT, 1), "second": synthetic_prompts(PROMPT_COUNT, 2),
    }))
    res = run_child([sys.executable, "-c", _PROMPTS_SCRIPT, str(spec)], timeout_s=APP_TIMEOUT_S)
    if res["returncode"] != 0:
        msg = (res["stderr"].strip().splitlines() or ["(no stderr)"])[-1][:200]
        return [Row(f"seal.estimate, {PROMPT_COUNT} pasted prompts", rows=PROMPT_COUNT, result="ERROR", note=msg)]
    data = json.loads(res["stdout"].strip().splitlines()[-1])
    note = "" if data["ok"] else "row count or token counts wrong"
    return [
        Row(f"seal.estimate, {PROMPT_COUNT} pasted prompts, first call", rows=PROMPT_COUNT, wall_s=data["first_s"],
            rate_per_s=PROMPT_COUNT / data["first_s"], peak_rss_mib=res["peak_rss_mib"],
            target=f"≤ {TARGET_PROMPTS_S:g} s",
            result=("PASS" if data["first_s"] <= TARGET_PROMPTS_S else "FAIL") if data["ok"] else "ERROR",
            note=f"fresh interpreter; loads tokenizer, artifact, tables (imports before it: {data['import_s']:.2f} s)"
            + (f"; {note}" if note else "")),
        Row(f"seal.estimate, {PROMPT_COUNT} pasted prompts, next call", rows=PROMPT_COUNT, wall_s=data["second_s"],
            rate_per_s=PROMPT_COUNT / data["second_s"], target=f"≤ {TARGET_PROMPTS_S:g} s",
            result=("PASS" if data["second_s"] <= TARGET_PROMPTS_S else "FAIL") if data["ok"] else "ERROR",
            note="100 other prompts, same process (what a running app sees)" + (f"; {note}" if note else "")),
    ]


# ---------------------------------------------------------------- app
def bench_app_health(app: Path) -> Row:
    """Start ``streamlit run app`` headless; seconds until ``/_stcore/health`` answers 200."""
    name = "App cold start → /_stcore/health 200"
    port = free_port()
    start = time.perf_counter()
    proc = start_streamlit(app, port, stderr=subprocess.PIPE)
    try:
        problem = wait_healthy(proc, port, start)
        if problem:
            return Row(name, result="ERROR", note=problem)
        return Row(name, wall_s=time.perf_counter() - start,
                   note="`streamlit run app.py` headless on loopback; server up, no page rendered yet")
    finally:
        stop_process(proc)


CHROMIUM = os.environ.get("SEAL_CHROMIUM", "/usr/bin/chromium")
RENDERED_SELECTOR = '[data-testid="stApp"][data-test-script-state="notRunning"]'  # first script run finished


def bench_app_browser(app: Path) -> Row:
    """Seconds from ``streamlit run`` to the landing page fully rendered in headless Chromium (Playwright).

    The browser is launched before the clock starts; the page counts as rendered when Streamlit marks the
    first script run finished (``data-test-script-state="notRunning"`` on the app root) with elements on it.
    """
    import shutil

    name = "App cold start → first render in headless Chromium"
    browser_path = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return Row(name, note="skipped: playwright not installed")
    if not browser_path:
        return Row(name, note="skipped: chromium not found")
    port = free_port()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                           "--disable-background-networking", "--disable-component-update",
                                           "--disable-sync"])
        proc = None
        try:
            page = browser.new_page()
            start = time.perf_counter()
            proc = start_streamlit(app, port)
            problem = wait_healthy(proc, port, start)
            if problem:
                return Row(name, result="ERROR", note=problem)
            page.goto(f"http://127.0.0.1:{port}", timeout=APP_TIMEOUT_S * 1000)
            page.wait_for_selector(RENDERED_SELECTOR, timeout=APP_TIMEOUT_S * 1000)
            wall = time.perf_counter() - start
            elements = page.locator('[data-testid="stElementContainer"]').count()
            exceptions = page.locator('[data-testid="stException"]').count()
        finally:
            if proc is not None:
                stop_process(proc)
            browser.close()
    row = Row(name, wall_s=wall, note=f"`streamlit run` start → first script run finished in the page "
                                      f"({elements} elements); browser launched beforehand")
    if exceptions or not elements:
        row.result = "ERROR"
        row.note = "the landing page showed an exception" if exceptions else "the landing page is empty"
    return row


_APPTEST_SCRIPT = r"""
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=float(sys.argv[2]))
at.run()
print(json.dumps({"exceptions": [str(e.value)[:200] for e in at.exception], "elements": len(list(at.main))}))
"""


def bench_app_render(app: Path) -> Row:
    """Fresh interpreter: import Streamlit and run the landing page once through AppTest (cold first render)."""
    res = run_child([sys.executable, "-c", _APPTEST_SCRIPT, str(app), str(APP_TIMEOUT_S)],
                    timeout_s=APP_TIMEOUT_S + 30, cwd=app.parent)
    row = Row("App cold start → landing page rendered (AppTest)", wall_s=res["wall_s"], cpu_s=res["cpu_s"],
              peak_rss_mib=res["peak_rss_mib"], note="fresh interpreter: imports + first full script run")
    if res["returncode"] != 0:
        row.result = "ERROR"
        row.note = (res["stderr"].strip().splitlines() or ["(no stderr)"])[-1][:200]
        return row
    data = json.loads(res["stdout"].strip().splitlines()[-1])
    if data["exceptions"]:
        row.result, row.note = "ERROR", "page raised: " + data["exceptions"][0]
    return row


# ---------------------------------------------------------------- app memory and load (Streamlit's own protocol)
# The sessions below are driven over Streamlit's own protocol, as its frontend does: a websocket to
# /_stcore/stream carrying BackMsg / ForwardMsg protobufs (rerun with widget states, file URL requests) and an HTTP
# PUT of the file to /_stcore/upload_file. No browser: thirteen headless Chromiums would need more CPU than the two
# cores the server is measured on, and the server does the same work either way (it never renders).
UPLOAD_MB = 200                 # MiB, the large upload (issue 12: a 203 MB CSV of 2.9 M rows)
CONCURRENT_UPLOADS = 5          # uploads at once, each a different file
CONCURRENT_UPLOAD_MB = 22       # MiB each
LOAD_SESSIONS = 10              # sessions clicking "Estimate" at once ...
LOAD_UPLOADS = 3                # ... while these upload a log on the Logs page
LOAD_UPLOAD_MB = 22             # MiB each
LOAD_PROMPTS = 20               # prompts pasted per Estimate click
TARGET_UPLOAD_ADDED_GIB = 1.5   # GiB the large upload may add to the server's peak RSS
TARGET_UPLOAD_IDLE_MIB = 300    # MiB above the baseline the server may keep once the session has ended
TARGET_CONCURRENT_GIB = 3.0     # GiB server peak RSS with the concurrent uploads
APP_MEMORY: dict[str, float] = {     # run_app_memory's sizes: the targets' scale ...
    "upload_mb": UPLOAD_MB, "concurrent_uploads": CONCURRENT_UPLOADS, "concurrent_upload_mb": CONCURRENT_UPLOAD_MB,
    "load_sessions": LOAD_SESSIONS, "load_uploads": LOAD_UPLOADS, "load_upload_mb": LOAD_UPLOAD_MB}
QUICK_APP_MEMORY: dict[str, float] = {  # ... and --quick's (a couple of minutes on 2 cores)
    "upload_mb": 20, "concurrent_uploads": 2, "concurrent_upload_mb": 5, "load_sessions": 3, "load_uploads": 1,
    "load_upload_mb": 5}
SESSION_TTL_S = 2               # server.disconnectedSessionTTL in these runs (Streamlit's default is 120 s)
TRIM_S = 10.0                   # s, SEAL_UI_TRIM_S for these runs (the app's default interval of its memory trimmer)
SESSION_TIMEOUT_S = 900         # s, one script run of one session
UPLOAD_APPS = ("chat", "search", "agent", "summarise", "code", "batch")
UPLOAD_USERS = 5_000


def write_upload_log(mib: float, folder: Path, variant: int = 0) -> tuple[Path, int]:
    """A CSV request log of about ``mib`` MiB as a user would upload it (request_id, timestamp, model, gpu, region,
    input/output tokens, app, user; the synthetic mix of :func:`synthetic_chunk`, one request per second from
    2026-03-01), written once into ``folder`` and reused: ``(path, rows)``. ``variant`` makes a different file."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload-{mib:g}mib-{variant}.csv"
    done = path.with_suffix(".rows")
    if path.exists() and done.exists():
        return path, int(done.read_text())
    rng = np.random.default_rng(SEED + 1 + variant)
    start_s = int(dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc).timestamp())

    def chunk(n: int, first: int) -> "pa.Table":
        t = synthetic_chunk(n, first, rng)
        ts = (np.datetime64(start_s, "s") + np.arange(first, first + n)).astype("datetime64[s]").astype(str)
        return (t.append_column("timestamp", pa.array(np.char.add(ts, "Z")))
                .append_column("app", pa.array(rng.choice(UPLOAD_APPS, n)))
                .append_column("user", pa.array(np.char.add("u", rng.integers(0, UPLOAD_USERS, n).astype(str)))))

    probe = pa.BufferOutputStream()
    pacsv.write_csv(chunk(10_000, 0), probe)
    rows = max(1, int(mib * 2**20 / (probe.getvalue().size / 10_000)))
    tmp = path.with_suffix(".csv.tmp")
    with pacsv.CSVWriter(str(tmp), chunk(1, 0).schema) as writer:
        for first in range(0, rows, 200_000):
            writer.write_table(chunk(min(200_000, rows - first), first))
    tmp.replace(path)
    done.write_text(str(rows))
    return path, rows


def _proc_status_kib(pid: int, field: bytes) -> int:
    """A ``/proc/<pid>/status`` field in KiB (``VmRSS``, ``VmHWM``), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(field + b":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class RssWatch:
    """Resident memory of a running process (MiB): ``now()``, and the peak since ``reset()``: the kernel's own
    high-water mark (``VmHWM``, reset by writing 5 to ``/proc/PID/clear_refs``) where that works, else the maximum
    of ``VmRSS`` polled every 10 ms."""

    def __init__(self, pid: int, poll_s: float = 0.01) -> None:
        import threading

        self.pid, self.poll_s = pid, poll_s
        self._polled = 0
        self._exact = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="seal-bench-rss", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._polled = max(self._polled, _proc_status_kib(self.pid, b"VmRSS"))

    def now(self) -> float:
        return _proc_status_kib(self.pid, b"VmRSS") / 1024

    def reset(self) -> None:
        self._polled = _proc_status_kib(self.pid, b"VmRSS")
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self._exact = True
        except OSError:
            self._exact = False

    def peak(self) -> float:
        hwm = _proc_status_kib(self.pid, b"VmHWM") if self._exact else 0
        return max(hwm, self._polled) / 1024

    def settle(self, timeout_s: float = 30.0, window_s: float = 3.0, tolerance_mib: float = 8.0) -> float:
        """RSS once it has changed by less than ``tolerance_mib`` over ``window_s`` (or after ``timeout_s``)."""
        start = time.perf_counter()
        history: list[tuple[float, float]] = []
        while True:
            t, rss = time.perf_counter(), self.now()
            history.append((t, rss))
            recent = [r for s, r in history if s >= t - window_s]
            if t - start >= window_s and max(recent) - min(recent) < tolerance_mib:
                return rss
            if t - start > timeout_s:
                return rss
            time.sleep(0.25)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class AppSession:
    """One browser-like session of a running Streamlit app over its own protocol (see the section comment).

    ``run(page, widgets)`` reruns the script as the frontend does after a click (the widget states it sends) and
    returns the elements drawn; ``upload(path)`` puts a file into a file uploader like a drag-and-drop.
    """

    def __init__(self, port: int, timeout_s: float = SESSION_TIMEOUT_S) -> None:
        import urllib.request

        from websockets.sync.client import connect

        self.base = f"http://127.0.0.1:{port}"
        self.timeout_s = timeout_s
        # the frontend polls /_stcore/health before it connects; that answer sets the XSRF cookie
        with urllib.request.urlopen(self.base + "/_stcore/health", timeout=30) as resp:
            cookies = resp.headers.get_all("Set-Cookie") or []
        self.xsrf = next((c.split(";", 1)[0].split("=", 1)[1] for c in cookies
                          if c.startswith("_streamlit_xsrf=")), "")
        headers = {"Origin": self.base, **({"Cookie": f"_streamlit_xsrf={self.xsrf}"} if self.xsrf else {})}
        # no client pings: a server busy scoring may answer late, and a browser does not close on that either
        protocols = ["streamlit", self.xsrf] if self.xsrf else ["streamlit"]
        # entered as a context manager (websockets >= 17.1 warns otherwise) and left in close()
        self.ws = connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=protocols,
                          additional_headers=headers, max_size=None, ping_interval=None,
                          open_timeout=60).__enter__()
        self.session_id = ""
        self.pages: dict[str, str] = {}
        self.page_hash = ""
        self.elements: list = []
        self._responses: dict[str, Any] = {}

    def close(self) -> None:
        self.ws.__exit__(None, None, None)

    def _recv(self, deadline: float):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError(f"no answer from the app within {self.timeout_s:g} s")
        msg = ForwardMsg.FromString(self.ws.recv(timeout=remaining))
        kind = msg.WhichOneof("type")
        if kind in ("new_session", "navigation"):   # st.navigation apps list their pages in "navigation"
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id
            body = getattr(msg, kind)
            for p in body.app_pages:
                self.pages[(p.url_pathname or p.page_name).lower()] = p.page_script_hash
                self.pages.setdefault(p.page_name.lower(), p.page_script_hash)
        elif kind == "file_urls_response":
            self._responses[msg.file_urls_response.response_id] = msg.file_urls_response
        return kind, msg

    def run(self, page: str | None = None, widgets: Sequence[Any] = ()) -> list:
        """Rerun the script on ``page`` (its URL path, e.g. ``"logs"``; default the current page) with these
        ``WidgetState`` protobufs; returns the elements of that run once it has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if page is not None:
            self.page_hash = self.pages[page.lower()]
        back = BackMsg()
        back.rerun_script.query_string = ""
        back.rerun_script.page_script_hash = self.page_hash
        back.rerun_script.widget_states.widgets.extend(widgets)
        self.ws.send(back.SerializeToString())
        deadline = time.perf_counter() + self.timeout_s
        elements: list = []
        while True:
            kind, msg = self._recv(deadline)
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                elements.append(msg.delta.new_element)
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    elements = []
                    continue
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise RuntimeError("the page did not compile")
                break
        self.elements = elements
        return elements

    def widget_id(self, kind: str, label: str) -> str:
        """The id of the ``kind`` widget (``"file_uploader"``, ``"button"``, ``"text_area"``) labelled ``label``."""
        for el in self.elements:
            if el.WhichOneof("type") == kind and getattr(el, kind).label == label:
                return getattr(el, kind).id
        raise KeyError(f"no {kind} labelled {label!r} on the page")

    def upload(self, path: Path, label: str = "Upload logs") -> list:
        """Drop ``path`` on the file uploader ``label`` (file URL request, multipart PUT, rerun with the file);
        returns the elements of the run that reads it."""
        import requests
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        uploader = self.widget_id("file_uploader", label)
        back = BackMsg()
        back.file_urls_request.request_id = f"bench-{path.name}"
        back.file_urls_request.file_names.append(path.name)
        back.file_urls_request.session_id = self.session_id
        self.ws.send(back.SerializeToString())
        deadline = time.perf_counter() + self.timeout_s
        while back.file_urls_request.request_id not in self._responses:
            self._recv(deadline)
        urls = self._responses.pop(back.file_urls_request.request_id).file_urls[0]
        with open(path, "rb") as fh:
            resp = requests.put(self.base + urls.upload_url, files={"file": (path.name, fh, "text/csv")},
                                headers={"X-Xsrftoken": self.xsrf}, cookies={"_streamlit_xsrf": self.xsrf},
                                timeout=self.timeout_s)
        resp.raise_for_status()
        state = WidgetState(id=uploader)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = path.name, path.stat().st_size, urls.file_id
        info.file_urls.CopyFrom(urls)
        return self.run(widgets=[state])

    def estimate(self, prompts: Sequence[str]) -> list:
        """On the Estimate page: paste ``prompts`` (one per line) and click "Estimate"."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        text = WidgetState(id=self.widget_id("text_area", "Prompts"), string_value="\n".join(prompts))
        click = WidgetState(id=self.widget_id("button", "Estimate"), trigger_value=True)
        return self.run(widgets=[text, click])


def page_problems(elements: Sequence[Any]) -> list[str]:
    """Error alerts and exceptions among a run's elements (their text, cut to 200 characters)."""
    out = []
    for el in elements:
        kind = el.WhichOneof("type")
        if kind == "alert" and el.alert.format == 1:      # Alert.Format.ERROR
            out.append(el.alert.body[:200])
        elif kind == "exception":
            out.append(f"{el.exception.type}: {el.exception.message}"[:200])
    return out


def page_metrics(elements: Sequence[Any]) -> dict[str, str]:
    """``st.metric`` label -> value among a run's elements."""
    return {el.metric.label: el.metric.body for el in elements if el.WhichOneof("type") == "metric"}


class AppServer:
    """``streamlit run app`` on a free loopback port for the memory runs (closed sessions dropped after
    ``session_ttl_s``, the app's memory trimmer every ``trim_s``), with an :class:`RssWatch` on it:
    ``with AppServer(app) as server: ...``."""

    def __init__(self, app: Path, session_ttl_s: int = SESSION_TTL_S, trim_s: float = TRIM_S) -> None:
        self.app, self.session_ttl_s, self.trim_s = app, session_ttl_s, trim_s
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.rss: RssWatch | None = None
        self.log = tempfile.TemporaryFile()        # the server's output (a pipe nobody reads could block it)

    def __enter__(self) -> "AppServer":
        start = time.perf_counter()
        env = {**os.environ, "SEAL_UI_TRIM_S": f"{self.trim_s:g}"}
        self.proc = start_streamlit(self.app, self.port, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                    extra_args=("--server.disconnectedSessionTTL", str(self.session_ttl_s)))
        problem = wait_healthy(self.proc, self.port, start)
        if problem:
            stop_process(self.proc)
            raise RuntimeError(f"{problem}; {self.output_tail()}")
        self.rss = RssWatch(self.proc.pid)
        return self

    def __exit__(self, *exc) -> None:
        if self.rss is not None:
            self.rss.close()
        if self.proc is not None:
            stop_process(self.proc)
        self.log.close()

    def output_tail(self, chars: int = 300) -> str:
        """The end of the server's output (for error notes)."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-chars:].strip()

    def session(self) -> AppSession:
        return AppSession(self.port)

    def warm(self, pages: Sequence[str] = ("logs",)) -> float:
        """One session renders the landing page and ``pages`` and leaves; returns the settled RSS (MiB): the
        baseline of a server that has imported everything and has no session."""
        s = self.session()
        try:
            s.run()
            for page in pages:
                s.run(page)
        finally:
            s.close()
        return self.forget_sessions()

    def forget_sessions(self) -> float:
        """Wait until closed sessions have expired, make the server drop them, and return the settled RSS (MiB).

        Streamlit's session store removes expired entries when it is next written to, so one short session
        connects and leaves after the TTL; then the app's memory trimmer (``seal.ui.loaders.MemoryTrimmer``) gets
        one interval to hand the freed memory back."""
        time.sleep(self.session_ttl_s + 1)
        poke = self.session()
        try:
            poke.run()
        finally:
            poke.close()
        time.sleep(max(self.session_ttl_s, self.trim_s) + 1)
        return self.rss.settle()


def _upload_session(server: AppServer, path: Path, rows: int, barrier=None) -> dict[str, Any]:
    """Open the Logs page, (wait at ``barrier``), upload ``path``; seconds from the upload to the rendered result."""
    s = server.session()
    try:
        s.run()
        s.run("logs")
        if barrier is not None:
            barrier.wait()
        t0 = time.perf_counter()
        elements = s.upload(path)
        seconds = time.perf_counter() - t0
    finally:
        s.close()
    problems = page_problems(elements)
    shown = page_metrics(elements).get("Requests", "")
    scored = any(f"{rows:,} requests scored" in el.markdown.body
                 for el in elements if el.WhichOneof("type") == "markdown")
    if not problems and (shown != f"{rows:,}" or not scored):      # the page's exact count, thousands separated
        problems.append(f"the page shows {shown or 'no'} requests, expected {rows:,}")
    return {"seconds": seconds, "problems": problems}


def _estimate_session(server: AppServer, prompts: Sequence[str], barrier=None) -> dict[str, Any]:
    """Open the Estimate page, (wait at ``barrier``), paste ``prompts`` and click Estimate; seconds to the result."""
    s = server.session()
    try:
        s.run()
        if barrier is not None:
            barrier.wait()
        t0 = time.perf_counter()
        elements = s.estimate(prompts)
        seconds = time.perf_counter() - t0
    finally:
        s.close()
    problems = page_problems(elements)
    if not problems and "CO2e" not in page_metrics(elements):
        problems.append("no CO2e metric on the page")
    return {"seconds": seconds, "problems": problems}


def _in_threads(jobs: Sequence[Any]) -> list[dict[str, Any]]:
    """Run the zero-argument callables ``jobs`` at once, one thread each; their results (or the error) in order."""
    from concurrent.futures import ThreadPoolExecutor

    def guard(job):
        try:
            return job()
        except Exception as exc:  # noqa: BLE001 - one failed session is a result, not a crash of the bench
            return {"seconds": None, "problems": [f"{type(exc).__name__}: {str(exc)[:200]}"]}

    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        return list(pool.map(guard, jobs))


def _times_note(results: Sequence[dict[str, Any]]) -> tuple[float | None, str]:
    """Median seconds and a "median / max" note of the sessions' times."""
    import statistics

    times = [r["seconds"] for r in results if r["seconds"] is not None]
    if not times:
        return None, "no session finished"
    return statistics.median(times), f"per session median {statistics.median(times):.1f} s / max {max(times):.1f} s"


def _problems(results: Sequence[dict[str, Any]]) -> str:
    found = [p for r in results for p in r["problems"]]
    return f"{len(found)} session problem(s), e.g. {found[0]}" if found else ""


def upload_rows(file_mib: float, rows: int, seconds: float | None, baseline: float, peak: float, idle: float,
                problems: Sequence[str] = ()) -> list[Row]:
    """The two rows of one large upload (MiB figures): peak RSS against :data:`TARGET_UPLOAD_ADDED_GIB` over the
    baseline, settled RSS after the session against :data:`TARGET_UPLOAD_IDLE_MIB` over it."""
    name = f"App: one {file_mib:.0f} MiB log uploaded (Logs page)"
    added = peak - baseline
    peak_row = Row(f"{name} → server peak RSS", rows=rows, wall_s=seconds, peak_rss_mib=peak,
                   rate_per_s=rows / seconds if seconds else None,
                   target=f"≤ +{TARGET_UPLOAD_ADDED_GIB:g} GiB over baseline",
                   result="PASS" if added <= TARGET_UPLOAD_ADDED_GIB * 1024 else "FAIL",
                   note=f"baseline {baseline:,.0f} MiB, +{added:,.0f} MiB; wall = upload → page rendered",
                   extra={"baseline_mib": baseline, "added_mib": added, "file_mib": file_mib})
    idle_row = Row(f"{name} → server RSS after the session ended", rows=rows, peak_rss_mib=idle,
                   target=f"≤ +{TARGET_UPLOAD_IDLE_MIB:g} MiB over baseline",
                   result="PASS" if idle - baseline <= TARGET_UPLOAD_IDLE_MIB else "FAIL",
                   note=f"settled RSS {idle - baseline:+,.0f} MiB vs baseline (the log's summary stays cached)",
                   extra={"baseline_mib": baseline, "idle_added_mib": idle - baseline})
    for row in (peak_row, idle_row):
        if problems:
            row.result, row.note = "ERROR", f"{len(problems)} session problem(s), e.g. {problems[0]}"
    return [peak_row, idle_row]


def concurrent_upload_row(file_mib: float, results: Sequence[dict[str, Any]], rows: int, baseline: float,
                          peak: float) -> Row:
    """The row of ``len(results)`` concurrent uploads: peak RSS against :data:`TARGET_CONCURRENT_GIB`."""
    median, note = _times_note(results)
    row = Row(f"App: {len(results)} concurrent {file_mib:.0f} MiB uploads → server peak RSS", rows=rows,
              wall_s=median, peak_rss_mib=peak, target=f"≤ {TARGET_CONCURRENT_GIB:g} GiB",
              result="PASS" if peak <= TARGET_CONCURRENT_GIB * 1024 else "FAIL",
              note=f"baseline {baseline:,.0f} MiB; {note}", extra={"baseline_mib": baseline, "sessions": list(results)})
    if _problems(results):
        row.result, row.note = "ERROR", _problems(results)
    return row


def load_rows(estimates: Sequence[dict[str, Any]], uploads: Sequence[dict[str, Any]], file_mib: float,
              prompts: int, wall: float, baseline: float, peak: float) -> list[Row]:
    """The load test's rows: server peak RSS, then per kind of session (Estimate click, Logs upload) the median
    seconds (max in the note)."""
    what = f"{len(estimates)} sessions estimating + {len(uploads)} uploading {file_mib:.0f} MiB"
    rows = [Row(f"App load: {what} → server peak RSS", wall_s=wall, peak_rss_mib=peak,
                note=f"baseline {baseline:,.0f} MiB, +{peak - baseline:,.0f} MiB; wall = all sessions done",
                extra={"baseline_mib": baseline})]
    for kind, group, count in (("Estimate click", estimates, prompts), ("Logs upload", uploads, None)):
        if not group:
            continue
        median, note = _times_note(group)
        row = Row(f"App load: {what} → {kind}, per session", rows=count, wall_s=median, note=note,
                  extra={"seconds": [r["seconds"] for r in group]})
        if _problems(group):
            row.result, row.note = "ERROR", _problems(group)
        rows.append(row)
    if any(r.result == "ERROR" for r in rows[1:]):
        rows[0].result = "ERROR"
    return rows


def _mib(path: Path) -> float:
    return path.stat().st_size / 2**20


def bench_app_upload(app: Path, log: Path, rows: int) -> list[Row]:
    """One session uploads ``log`` on the Logs page: the server's peak RSS over its baseline, then its RSS once
    the session has ended and expired (:func:`upload_rows`)."""
    with AppServer(app) as server:
        baseline = server.warm()
        server.rss.reset()
        result = _upload_session(server, log, rows)
        peak = server.rss.peak()
        idle = server.forget_sessions()
    return upload_rows(_mib(log), rows, result["seconds"], baseline, peak, idle, result["problems"])


def bench_app_concurrent_uploads(app: Path, logs: Sequence[tuple[Path, int]]) -> Row:
    """``len(logs)`` sessions upload a different log each at the same moment (:func:`concurrent_upload_row`)."""
    import threading

    with AppServer(app) as server:
        baseline = server.warm()
        barrier = threading.Barrier(len(logs))
        server.rss.reset()
        results = _in_threads([lambda p=p, n=n: _upload_session(server, p, n, barrier) for p, n in logs])
        peak = server.rss.peak()
    return concurrent_upload_row(sum(_mib(p) for p, _ in logs) / len(logs), results, sum(n for _, n in logs),
                                 baseline, peak)


def bench_app_load(app: Path, sessions: int, logs: Sequence[tuple[Path, int]],
                   prompts: int = LOAD_PROMPTS) -> list[Row]:
    """``sessions`` sessions click "Estimate" (``prompts`` pasted prompts each, different per session) while
    ``len(logs)`` others upload a log, all at once (:func:`load_rows`)."""
    import threading

    with AppServer(app) as server:
        baseline = server.warm()
        barrier = threading.Barrier(sessions + len(logs))
        jobs = [lambda i=i: _estimate_session(server, synthetic_prompts(prompts, 100 + i), barrier)
                for i in range(sessions)]
        jobs += [lambda p=p, n=n: _upload_session(server, p, n, barrier) for p, n in logs]
        server.rss.reset()
        t0 = time.perf_counter()
        results = _in_threads(jobs)
        wall = time.perf_counter() - t0
        peak = server.rss.peak()
    file_mib = sum(_mib(p) for p, _ in logs) / len(logs) if logs else 0.0
    return load_rows(results[:sessions], results[sessions:], file_mib, prompts, wall, baseline, peak)


def run_app_memory(app: Path, data_dir: Path, *, upload_mb: float = UPLOAD_MB,
                   concurrent_uploads: int = CONCURRENT_UPLOADS, concurrent_upload_mb: float = CONCURRENT_UPLOAD_MB,
                   load_sessions: int = LOAD_SESSIONS, load_uploads: int = LOAD_UPLOADS,
                   load_upload_mb: float = LOAD_UPLOAD_MB, say=lambda msg: None) -> list[Row]:
    """The app's memory and load rows: one large upload, concurrent uploads, and the mixed load test (each on a
    fresh server; a count of 0 or a size of 0 skips that part)."""
    rows: list[Row] = []
    parts = []
    if upload_mb:
        parts.append((f"one {upload_mb:g} MiB upload", lambda: bench_app_upload(
            app, *write_upload_log(upload_mb, data_dir))))
    if concurrent_uploads and concurrent_upload_mb:
        parts.append((f"{concurrent_uploads} concurrent {concurrent_upload_mb:g} MiB uploads", lambda: [
            bench_app_concurrent_uploads(app, [write_upload_log(concurrent_upload_mb, data_dir, v)
                                               for v in range(concurrent_uploads)])]))
    if load_sessions or load_uploads:
        parts.append((f"load: {load_sessions} estimating + {load_uploads} uploading", lambda: bench_app_load(
            app, load_sessions, [write_upload_log(load_upload_mb, data_dir, 100 + v) for v in range(load_uploads)])))
    for what, part in parts:
        say(f"app memory: {what}")
        try:
            rows.extend(part())
        except Exception as exc:  # noqa: BLE001 - one failed measurement must not hide the others
            rows.append(_error_row(f"App: {what}", exc))
    return rows


WHATIF_ROWS = 1_000_000          # requests in the What-if measurement
TARGET_WHATIF_S = 5.0            # s: 3 scenarios + the sensitivity chart on a 1 M-row log
WHATIF_BATCH_ROWS = 131_072      # rows per batch folded into the grouped requests (the Logs page's batches)


def bench_whatif(n: int = WHATIF_ROWS) -> Row:
    """What-if on an ``n``-row synthetic log: the scored rows folded batch by batch into
    :class:`seal.whatif.GroupedRequests` (what the Logs page's summary does while reading), then 3 scenarios and
    the sensitivity (the tornado's 14 variations) from the groups, timed; the note gives the grouping time and the
    error of scenario 1's grouped total against the log's row-by-row total."""
    import numpy as np
    import pandas as pd

    from seal import whatif
    from seal.api import estimate
    from seal.columns import INPUT_COLUMNS, LOG_COLUMNS

    rng = np.random.default_rng(SEED)
    frames = [synthetic_chunk(min(CHUNK_ROWS, n - start), start, rng).to_pandas() for start in range(0, n, CHUNK_ROWS)]
    scored = estimate(pd.concat(frames, ignore_index=True))
    requests = scored[[c for c in INPUT_COLUMNS + LOG_COLUMNS if c in scored]]
    exact = float(scored["total_g_co2e"].sum())
    del scored, frames
    t0 = time.perf_counter()
    grouped = whatif.GroupedRequests()
    for start in range(0, n, WHATIF_BATCH_ROWS):
        grouped.add(requests.iloc[start:start + WHATIF_BATCH_ROWS])
    group_s = time.perf_counter() - t0
    cpu = time.process_time()
    start = time.perf_counter()
    table = whatif.compare(grouped, [{}, {"region": "SWE"}, {"gpu": "H100-SXM"}])
    sens, _, skipped = whatif.sensitivity(grouped, {})
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    error = float(table["total_g_co2e"].iloc[0]) / exact - 1.0
    return Row("What-if: 1 log, 3 scenarios + sensitivity from grouped requests", rows=n, wall_s=wall, cpu_s=cpu,
               rate_per_s=n / wall, target=f"≤ {TARGET_WHATIF_S:g} s",
               result="PASS" if wall <= TARGET_WHATIF_S and not skipped else "FAIL",
               note=f"{len(grouped):,} groups ({grouped.resolution} buckets/decade), grouping {group_s:.2f} s "
                    f"while reading; scenario 1 vs row-by-row {error:+.3%}; {len(sens)} sensitivity rows",
               extra={"groups": len(grouped), "resolution": grouped.resolution, "grouping_s": group_s,
                      "scenario1_error": error})


# ---------------------------------------------------------------- targets and table
def apply_targets(rows: list[Row], ecologits: Row | None) -> list[Row]:
    """Mark the target rows PASS/FAIL and add the speed-up rows; returns the extra rows."""
    extra: list[Row] = []
    cli = [r for r in rows if r.measurement.startswith("CLI") and r.result != "ERROR"]
    for r in cli:
        if r.rows == 1_000_000 and "parquet →" in r.measurement:
            r.target = f"≤ {TARGET_1M_WALL_S:g} s wall"
            r.result = "PASS" if r.wall_s <= TARGET_1M_WALL_S else "FAIL"
        if r.rows == 10_000_000:
            r.target = f"peak RSS ≤ {TARGET_10M_RSS_GIB:g} GiB"
            r.result = "PASS" if r.peak_rss_mib <= TARGET_10M_RSS_GIB * 1024 else "FAIL"
    if ecologits is not None and ecologits.rate_per_s:
        parquet = [r for r in cli if "parquet →" in r.measurement and r.rate_per_s]
        if parquet:
            best = max(parquet, key=lambda r: r.rows)
            ratio = best.rate_per_s / ecologits.rate_per_s
            extra.append(Row(f"Speed-up: CLI parquet {best.rows:,} rows (end to end) ÷ EcoLogits",
                             note=f"{ratio:,.0f}×", target=f"≥ {TARGET_SPEEDUP:g}×",
                             result="PASS" if ratio >= TARGET_SPEEDUP else "FAIL", extra={"ratio": ratio}))
            one_m = [r for r in parquet if r.rows == 1_000_000 and r is not best]
            if one_m:   # the same comparison with the interpreter's start-up (~0.35 s of imports) in the time
                ratio = one_m[0].rate_per_s / ecologits.rate_per_s
                extra.append(Row("Speed-up: CLI parquet 1,000,000 rows (start-up included) ÷ EcoLogits",
                                 note=f"{ratio:,.0f}×", extra={"ratio": ratio}))
        inproc = [r for r in rows if r.measurement.startswith("seal.estimate in-process") and r.rate_per_s]
        if inproc:
            ratio = inproc[0].rate_per_s / ecologits.rate_per_s
            extra.append(Row("Speed-up: seal.estimate in-process ÷ EcoLogits (same requests)",
                             note=f"{ratio:,.0f}×", extra={"ratio": ratio}))
    return extra


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def format_table(machine: dict[str, Any], rows: list[Row]) -> str:
    """The one markdown table, headed by the machine and date."""
    ram = f"{machine['ram_gib']:.1f} GiB RAM" if machine.get("ram_gib") else "RAM unknown"
    vers = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    lines = [
        f"SEAL benchmark, {machine['date_utc']} — {machine['cpu']}, {machine['cores']} cores, {ram}, "
        f"{machine['os']}, Python {machine['python']} ({vers})"
        + (f"; 1-min load average at start {machine['load_1min']:.1f}" if machine.get("load_1min") is not None else "")
        + (f", at end {machine['load_1min_end']:.1f}" if machine.get("load_1min_end") is not None else ""),
        "",
        "| Measurement | Requests | Wall (s) | CPU (s) | Requests/s | Peak RSS (MiB) | Target | Result | Note |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.measurement} | {_fmt(r.rows, ',d')} | {_fmt(r.wall_s, '.3f')} | {_fmt(r.cpu_s, '.2f')} "
            f"| {_fmt(r.rate_per_s, ',.0f')} "
            f"| {_fmt(r.peak_rss_mib, ',.0f')} | {r.target} | {r.result} | {r.note.replace('|', '/')} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- profile
def profile_cli(n: int, data_dir: Path, out_path: Path, top: int = 30) -> Path:
    """Run the Parquet → Parquet CLI on ``n`` synthetic requests under cProfile; write where the time goes.

    The report lists SEAL's own functions by cumulative time (which stage), then every function by self time
    (which library call), so an optimisation starts from a measurement.
    """
    import io
    import pstats

    paths = write_synthetic(n, data_dir, ())
    prof = data_dir / f"cli-{n}.prof"
    scored = data_dir / f"profiled-{n}.parquet"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "seal.cli", "estimate", "--file",
           str(paths["parquet"]), "--out", str(scored), "--quiet"]
    res = run_child(cmd)
    scored.unlink(missing_ok=True)
    if res["returncode"] != 0:
        raise RuntimeError(f"profiled CLI run failed: {res['stderr'][-300:]}")
    buf = io.StringIO()
    buf.write(f"cProfile of `seal estimate --file requests-{n}.parquet --out x.parquet` — wall {res['wall_s']:.2f} s "
              f"(profiler overhead included), CPU {res['cpu_s']:.2f} s, peak RSS {res['peak_rss_mib']:.0f} MiB\n\n")
    stats = pstats.Stats(str(prof), stream=buf)
    buf.write("== SEAL functions by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(r"/seal/", top)
    buf.write("== all functions by self time ==\n")
    stats.sort_stats("tottime").print_stats(top)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(buf.getvalue())
    return out_path


# ---------------------------------------------------------------- main
def _error_row(name: str, exc: BaseException, rows: int | None = None) -> Row:
    return Row(name, rows=rows, result="ERROR", note=f"{type(exc).__name__}: {str(exc)[:200]}")


def run(sizes: Sequence[int], formats: Sequence[str], data_dir: Path, ecologits_n: int = ECOLOGITS_REQUESTS,
        app: Path | None = REPO / "app.py", prompts: bool = True, progress: bool = True,
        app_memory: dict[str, Any] | None = None) -> tuple[dict, list[Row]]:
    """Run every measurement; returns the machine description and the table rows (targets applied).

    ``app_memory``: keyword arguments of :func:`run_app_memory` (sizes and session counts) for the app's memory and
    load rows, ``None`` to skip them; they need ``app``."""
    import pyarrow.parquet as pq

    def say(msg: str) -> None:
        if progress:
            print(f"[bench] {msg}", file=sys.stderr, flush=True)

    machine = machine_info()
    rows: list[Row] = []
    for n in sorted(sizes):
        say(f"writing {n:,} synthetic requests")
        paths = write_synthetic(n, data_dir, formats)
        for fmt in formats:
            say(f"CLI {fmt}, {n:,} rows")
            try:
                rows.append(bench_cli(paths[fmt], fmt, n, data_dir))
            except Exception as exc:  # noqa: BLE001 - one failed measurement must not hide the others
                rows.append(_error_row(f"CLI {fmt} → parquet", exc, n))

    ecologits_row = None
    if ecologits_n:
        paths = write_synthetic(ecologits_n, data_dir, ())
        frame = pq.read_table(paths["parquet"]).to_pandas()
        say(f"EcoLogits, {ecologits_n:,} requests one by one")
        try:
            ecologits_row = bench_ecologits(frame)
            rows.append(ecologits_row)
        except Exception as exc:  # noqa: BLE001
            rows.append(_error_row("EcoLogits compute_llm_impacts", exc, ecologits_n))
        say(f"seal.estimate in-process, {ecologits_n:,} requests")
        try:
            rows.append(bench_in_process(frame))
        except Exception as exc:  # noqa: BLE001
            rows.append(_error_row("seal.estimate in-process", exc, ecologits_n))
    rows.extend(apply_targets(rows, ecologits_row))
    if max(sizes) >= WHATIF_ROWS:
        say(f"What-if on {WHATIF_ROWS:,} requests")
        try:
            rows.append(bench_whatif())
        except Exception as exc:  # noqa: BLE001
            rows.append(_error_row("What-if: 3 scenarios + sensitivity", exc, WHATIF_ROWS))

    if app is not None:
        if app.exists():
            say("app cold start")
            for name, bench in (("App cold start → /_stcore/health 200", bench_app_health),
                                ("App cold start → first render in headless Chromium", bench_app_browser),
                                ("App cold start → landing page rendered (AppTest)", bench_app_render)):
                try:
                    rows.append(bench(app))
                except Exception as exc:  # noqa: BLE001
                    rows.append(_error_row(name, exc))
        else:
            rows.append(Row("App cold start", result="ERROR", note=f"{app.name} not found"))
    if app is not None and app.exists() and app_memory is not None:
        rows.extend(run_app_memory(app, data_dir, say=say, **app_memory))
    if prompts:
        say(f"{PROMPT_COUNT} pasted prompts")
        try:
            rows.extend(bench_prompts(data_dir))
        except Exception as exc:  # noqa: BLE001
            rows.append(_error_row(f"seal.estimate, {PROMPT_COUNT} pasted prompts", exc, PROMPT_COUNT))
    try:
        machine["load_1min_end"] = os.getloadavg()[0]
    except OSError:
        pass
    return machine, rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="comma-separated request counts (default 10000,1000000,10000000)")
    parser.add_argument("--quick", action="store_true",
                        help=f"sizes {','.join(map(str, QUICK_SIZES))}, and small app-memory runs "
                             f"({', '.join(f'{k}={v:g}' for k, v in QUICK_APP_MEMORY.items())})")
    parser.add_argument("--formats", default=",".join(FORMATS), help="parquet,jsonl (default both)")
    parser.add_argument("--ecologits-requests", type=int, default=None,
                        help=f"requests through EcoLogits (default {ECOLOGITS_REQUESTS:,}, capped at the smallest size "
                             "in --quick; 0 to skip)")
    parser.add_argument("--no-app", action="store_true", help="skip every app measurement (cold start, memory, load)")
    parser.add_argument("--no-app-memory", action="store_true", help="skip the app's upload-memory and load rows")
    parser.add_argument("--app-memory-only", action="store_true",
                        help="only the app's upload-memory and load rows (no CLI, EcoLogits, cold start, prompts)")
    parser.add_argument("--upload-mb", type=float, default=None,
                        help=f"MiB of the single large upload (default {UPLOAD_MB:g}; 0 skips it)")
    parser.add_argument("--concurrent-uploads", type=int, default=None,
                        help=f"uploads at once (default {CONCURRENT_UPLOADS}; 0 skips them)")
    parser.add_argument("--concurrent-upload-mb", type=float, default=None,
                        help=f"MiB of each concurrent upload (default {CONCURRENT_UPLOAD_MB:g})")
    parser.add_argument("--load-sessions", type=int, default=None,
                        help=f"sessions estimating in the load test (default {LOAD_SESSIONS})")
    parser.add_argument("--load-uploads", type=int, default=None,
                        help=f"sessions uploading in the load test (default {LOAD_UPLOADS}; with 0 sessions too: "
                             "no load test)")
    parser.add_argument("--load-upload-mb", type=float, default=None,
                        help=f"MiB of each load-test upload (default {LOAD_UPLOAD_MB:g})")
    parser.add_argument("--no-prompts", action="store_true", help="skip the 100-prompt measurement")
    parser.add_argument("--data-dir", help="where synthetic inputs go (kept and reused; default a temp dir)")
    parser.add_argument("--out-dir", default=str(REPO / "bench" / "out"), help="where the table is written")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="instead of the table: profile the Parquet CLI on N requests (cProfile) into --out-dir")
    args = parser.parse_args(argv)

    if args.sizes:
        try:
            sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
        except ValueError:
            parser.error("--sizes takes comma-separated integers, e.g. 10000,1000000")
    else:
        sizes = list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if any(n <= 0 for n in sizes):
        parser.error("--sizes must be positive")
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not set(formats) <= set(FORMATS):
        parser.error(f"--formats accepts {', '.join(FORMATS)}")
    ecologits_n = args.ecologits_requests
    if ecologits_n is None:
        ecologits_n = min(ECOLOGITS_REQUESTS, min(sizes)) if (args.quick or args.sizes) else ECOLOGITS_REQUESTS

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    out_dir = Path(args.out_dir)
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="seal-bench-") as tmp:
            path = profile_cli(args.profile, Path(args.data_dir) if args.data_dir else Path(tmp),
                               out_dir / f"profile-{args.profile}-{stamp}.txt")
        print(path.read_text())
        return 0

    app_memory = dict(QUICK_APP_MEMORY if args.quick else APP_MEMORY)
    for flag in APP_MEMORY:
        if getattr(args, flag) is not None:
            if getattr(args, flag) < 0:
                parser.error(f"--{flag.replace('_', '-')} must be >= 0")
            app_memory[flag] = getattr(args, flag)
    if args.no_app or args.no_app_memory:
        app_memory = None
    if not args.no_app and not (REPO / "app.py").is_file():
        parser.error(f"no app.py in {REPO}: run `make bench` in a SEAL checkout, or pass --no-app")
    with tempfile.TemporaryDirectory(prefix="seal-bench-") as tmp:
        data_dir = Path(args.data_dir) if args.data_dir else Path(tmp)
        if args.app_memory_only:
            if app_memory is None:
                parser.error("--app-memory-only contradicts --no-app / --no-app-memory")
            machine = machine_info()
            rows = run_app_memory(REPO / "app.py", data_dir, say=(lambda m: None) if args.quiet else
                                  (lambda m: print(f"[bench] {m}", file=sys.stderr, flush=True)), **app_memory)
        else:
            machine, rows = run(sizes, formats, data_dir, ecologits_n=ecologits_n,
                                app=None if args.no_app else REPO / "app.py", prompts=not args.no_prompts,
                                progress=not args.quiet, app_memory=app_memory)
    table = format_table(machine, rows)
    print(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"bench-{stamp}.md").write_text(table + "\n")
    (out_dir / f"bench-{stamp}.json").write_text(
        json.dumps({"machine": machine, "rows": [asdict(r) for r in rows]}, indent=1, default=str) + "\n")
    print(f"\nWritten to {out_dir / f'bench-{stamp}.md'}", file=sys.stderr)
    return 1 if any(r.result == "ERROR" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
