"""Parsers from the public sources' bytes to frames in the store's schemas (pure: no network, no store).

- :func:`read_llm_perf`: an LLM-Perf leaderboard ``perf-df-*.csv`` (full upstream layout with ``.values``
  columns or the trimmed one) -> ``benchmark_runs`` rows. Energies upstream are kWh **per call**; prefill is one
  forward pass over 256 input tokens, decode is a 64-token ``generate`` minus the prefill, i.e. 63 new tokens.
- :func:`read_mlenergy_run`: one ML.ENERGY leaderboard v2 JSON file -> one ``benchmark_runs`` row
  (``Energy/req (J)`` is the GPU energy of the whole request, summed over the ``TP`` GPUs).
- :func:`read_mlenergy_models`: an ML.ENERGY ``models.json`` -> nominal params per model id.
- :func:`read_open_llm_leaderboard`: the Open LLM Leaderboard ``llm-df.csv`` -> one row per model
  (params, architecture, MoE flag, scores).
- :func:`fill_params`: parameter counts, MoE flag and family for benchmark rows, from the best source known.

Any problem in a file raises :class:`seal.errors.DataSourceError` with one sentence naming the file.
"""
from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from seal.data.names import is_moe_architecture, model_family, params_from_name
from seal.data.schema import BENCHMARK_RUNS
from seal.errors import DataSourceError, SealError
from seal.units import J_PER_KWH
from seal.frames import numeric_series

LLM_PERF_INPUT_TOKENS = 256       # tokens, input sequence length of every LLM-Perf run
LLM_PERF_DECODE_TOKENS = 63       # tokens covered by LLM-Perf decode energy (64 generated - 1 from prefill)
BYTES_PER_WEIGHT_16BIT = 2.0      # bytes, for the weights-memory fallback of the parameter count

_PRECISION_BITS = {"float32": 32.0, "float16": 16.0, "bfloat16": 16.0}

# Columns an LLM-Perf file must have (both layouts); the rest are optional.
LLM_PERF_REQUIRED = (
    "config.backend.model",
    "config.backend.device",
    "report.prefill.energy.gpu",
    "report.decode.energy.gpu",
    "report.prefill.latency.mean",
    "report.decode.latency.mean",
)
MLENERGY_V3_REQUIRED = ("model_id", "task", "total_params_billions", "weight_precision", "configurations")
MLENERGY_V3_CONFIG_REQUIRED = ("gpu_model", "num_gpus", "avg_batch_size", "avg_output_len",
                               "energy_per_request_joules", "avg_power_watts", "output_throughput_tokens_per_sec")
_V3_BITS = {"bfloat16": 16.0, "float16": 16.0, "fp8": 8.0, "mxfp4": 4.25, "nvfp4": 4.5}
MLENERGY_REQUIRED = ("Model", "GPU", "TP", "Energy/req (J)", "Avg Output Tokens", "Avg BS (reqs)")
OPEN_LLM_REQUIRED = ("fullname", "#Params (B)", "Architecture", "Average ⬆️")
OPEN_LLM_SCORES = {  # upstream column -> our column (normalised 0-100 leaderboard scores)
    "Average ⬆️": "quality_score",
    "IFEval": "ifeval",
    "BBH": "bbh",
    "MATH Lvl 5": "math_lvl5",
    "GPQA": "gpqa",
    "MUSR": "musr",
    "MMLU-PRO": "mmlu_pro",
}
MODELS_OLL_COLUMNS = ("model_id", "architecture", "params_b", "is_moe", "precision", "hub_license",
                      *OPEN_LLM_SCORES.values())


# ------------------------------------------------------------------ helpers
def _read_bytes(data: bytes | str | Path) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return Path(data).read_bytes()


def _check_complete_csv(raw: bytes, source: str, name: str) -> None:
    """A CSV cut off mid-way (no final newline) is truncated; pandas would silently pad its last row."""
    if not raw.strip():
        raise DataSourceError(f"Source {source}: file {name} is empty.")
    if not raw.endswith(b"\n"):
        raise DataSourceError(f"Source {source}: file {name} is truncated (it does not end with a complete line).")


def _read_csv(raw: bytes, source: str, name: str, required: tuple[str, ...]) -> pd.DataFrame:
    _check_complete_csv(raw, source, name)
    try:
        frame = pd.read_csv(io.BytesIO(raw), low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataSourceError(f"Source {source}: file {name} is corrupt and could not be read as CSV ({exc}).") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataSourceError(f"Source {source}: file {name} lacks the column(s) {', '.join(missing)}.")
    return frame


def _col(frame: pd.DataFrame, name: str, default=np.nan) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series(default, index=frame.index)


def resolve_gpu_names(raw: pd.Series) -> pd.Series:
    """Canonical GPU names through ``seal.data.gpus.resolve_gpu``; a name it does not know stays as written."""
    try:
        from seal.data.gpus import resolve_gpu
    except ImportError:  # the GPU table is not there yet: keep the raw name
        return raw.astype("object")
    mapping: dict[str, object] = {}
    for name in pd.unique(raw.dropna().astype(str)):
        try:
            mapping[name] = resolve_gpu(name)
        except SealError:
            mapping[name] = name
    return raw.astype("object").map(lambda v: mapping.get(v, v) if isinstance(v, str) else None)


def conform(frame: pd.DataFrame, schema: Mapping[str, str] = BENCHMARK_RUNS) -> pd.DataFrame:
    """Columns of ``schema`` in order (missing ones NULL), with pandas dtypes matching the DuckDB types;
    extra columns are kept after them."""
    out = pd.DataFrame(index=frame.index)
    for col, sql in schema.items():
        values = frame[col] if col in frame.columns else pd.Series(None, index=frame.index, dtype="object")
        if sql == "DOUBLE":
            out[col] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif sql in ("INTEGER", "BIGINT"):
            out[col] = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif sql == "BOOLEAN":
            out[col] = values.astype("boolean")
        else:
            out[col] = values.astype("object").where(values.notna(), None)
    extra = [c for c in frame.columns if c not in schema]
    return pd.concat([out, frame[extra]], axis=1) if extra else out


# ------------------------------------------------------------------ LLM-Perf
def _gpu_from_list(text: pd.Series) -> pd.Series:
    """``"['NVIDIA A100-SXM4-80GB']"`` -> ``NVIDIA A100-SXM4-80GB`` (first GPU of the list)."""
    s = text.astype("object").where(text.notna(), None)
    cleaned = s.dropna().astype(str).str.strip("[] ").str.split(",").str[0].str.strip(" '\"")
    return cleaned.reindex(s.index).where(lambda x: x.notna() & (x != ""), None)


def _name_part(config_name: pd.Series, options: tuple[str, ...]) -> pd.Series:
    """The first of ``options`` found in ``config.name`` (e.g. ``float16-sdpa-onnxruntime``)."""
    s = config_name.astype("object").fillna("").astype(str)
    out = pd.Series(None, index=s.index, dtype="object")
    for opt in options:
        out = out.where(out.notna() | ~s.str.contains(opt, regex=False), opt)
    return out


def read_llm_perf(data: bytes | str | Path, source_file: str, source_version: str | None = None,
                  source: str = "llm-perf") -> pd.DataFrame:
    """One LLM-Perf ``perf-df-*.csv`` as ``benchmark_runs`` rows (failed runs skipped).

    GPU energy of prefill/decode is ``report.*.energy.gpu`` × 3.6e6 (kWh -> J per call). On CPU runs
    (``device='cpu'``, ``gpu`` NULL) the device doing the work is the CPU, so ``prefill_energy_j`` /
    ``decode_energy_j`` hold ``report.*.energy.cpu`` instead. Host CPU and RAM energy are CodeCarbon
    estimates (``host_energy_measured`` False).
    """
    frame = _read_csv(_read_bytes(data), source, source_file, LLM_PERF_REQUIRED)
    device = _col(frame, "config.backend.device").astype("object").fillna("cuda").astype(str)
    is_cpu = device.eq("cpu")
    energy = _llm_perf_energies_j(frame, is_cpu)
    ok = ~_col(frame, "report.traceback").notna() & pd.notna(energy["prefill"]) & pd.notna(energy["decode"])
    if not ok.any():
        return conform(pd.DataFrame(columns=list(BENCHMARK_RUNS)))

    config_name = _col(frame, "config.name")
    precision, attn, quant = _llm_perf_backend(frame, config_name)
    version = _col(frame, "config.environment.optimum_benchmark_version").astype("object")
    out = pd.DataFrame({
        "source": source,
        "source_version": source_version,
        "source_file": source_file,
        "task": "llm-perf",
        "model_id": _col(frame, "config.backend.model").astype("object"),
        "precision": precision,
        "quantization": quant,
        "weight_bits": _llm_perf_weight_bits(frame, config_name, precision, quant),
        "attn_implementation": attn,
        "backend": _col(frame, "config.backend.name").astype("object"),
        "engine": _col(frame, "config.backend.name").astype("object").replace({"pytorch": "transformers"}),
        "device": device,
        "gpu_raw": _gpu_from_list(_col(frame, "config.environment.gpu")).where(~is_cpu, None),
        "gpu_count": numeric_series(frame, "config.environment.gpu_count").where(~is_cpu, np.nan),
        **_llm_perf_workload(frame),
        "prefill_energy_j": energy["prefill"],
        "decode_energy_j": energy["decode"],
        "host_cpu_energy_j": energy["host_cpu"],
        "host_ram_energy_j": energy["host_ram"],
        "host_energy_measured": False,
        "tool_version": version.where(version.notna(), None),
        "weights_memory_mb": numeric_series(frame, "report.prefill.memory.max_allocated"),
        "config_name": config_name.astype("object"),
    }, index=frame.index)[ok].reset_index(drop=True)
    out["request_energy_j"] = out["prefill_energy_j"] + out["decode_energy_j"]
    out["gpu"] = resolve_gpu_names(out["gpu_raw"])
    return conform(out)


def _llm_perf_workload(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Batch size, input / output tokens per request and the latencies (s) of prefill, decode and a token."""
    batch = numeric_series(frame, "config.scenario.input_shapes.batch_size")
    input_tokens = numeric_series(frame, "config.scenario.input_shapes.sequence_length").fillna(LLM_PERF_INPUT_TOKENS)
    new_tokens = numeric_series(frame, "config.scenario.generate_kwargs.max_new_tokens")
    return {
        "batch_size": batch,
        "max_batch_size": batch,
        "input_tokens": input_tokens,
        "output_tokens": (new_tokens - 1).fillna(LLM_PERF_DECODE_TOKENS),
        "prefill_latency_s": numeric_series(frame, "report.prefill.latency.mean"),
        "decode_latency_s": numeric_series(frame, "report.decode.latency.mean"),
        "tpot_s": numeric_series(frame, "report.per_token.latency.mean"),
    }


def _llm_perf_energies_j(frame: pd.DataFrame, is_cpu: pd.Series) -> dict[str, np.ndarray | pd.Series]:
    """Per call (J, from kWh): ``prefill`` / ``decode`` of the device doing the work (the CPU on CPU runs, else the
    GPU), ``host_cpu`` (NaN on CPU runs, where the CPU is the device) and ``host_ram``."""
    energies = {f"{p}_{k}": numeric_series(frame, f"report.{p}.energy.{k}") * J_PER_KWH
                for p in ("prefill", "decode") for k in ("gpu", "cpu", "ram")}
    return {"prefill": np.where(is_cpu, energies["prefill_cpu"], energies["prefill_gpu"]),
            "decode": np.where(is_cpu, energies["decode_cpu"], energies["decode_gpu"]),
            "host_cpu": np.where(is_cpu, np.nan, energies["prefill_cpu"] + energies["decode_cpu"]),
            "host_ram": energies["prefill_ram"] + energies["decode_ram"]}


def _llm_perf_backend(frame: pd.DataFrame, config_name: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(precision, attention implementation, quantization scheme): the config columns, else read from
    ``config.name``; quantization "none" when not given."""
    precision = _col(frame, "config.backend.torch_dtype").astype("object")
    precision = precision.where(precision.notna(), _name_part(config_name, ("bfloat16", "float16", "float32")))
    attn = _col(frame, "config.backend.attn_implementation").astype("object")
    attn = attn.where(attn.notna(), _name_part(config_name, ("flash_attention_2", "sdpa", "eager")))
    quant = _col(frame, "config.backend.quantization_scheme").astype("object")
    return precision, attn, quant.where(quant.notna(), "none")


def _llm_perf_weight_bits(frame: pd.DataFrame, config_name: pd.Series, precision: pd.Series, quant: pd.Series
                          ) -> pd.Series:
    """Bits per weight: the precision's when not quantized, else the GPTQ bits, the name's ``<n>bit``, 4 for int4,
    or bitsandbytes' 4 / 8 bit loading."""
    bits = precision.map(_PRECISION_BITS).astype("float64")
    name = config_name.astype("object").fillna("").astype(str)
    name_bits = pd.to_numeric(name.str.extract(r"(\d+)bit")[0], errors="coerce")
    gptq_bits = numeric_series(frame, "config.backend.quantization_config.bits")
    int4 = name.str.contains("int4", regex=False)
    bits = bits.where(quant.eq("none"), gptq_bits.fillna(name_bits).where(~int4, 4.0))
    bits = bits.where(~(_col(frame, "config.backend.quantization_config.load_in_4bit") == True), 4.0)  # noqa: E712
    return bits.where(~(_col(frame, "config.backend.quantization_config.load_in_8bit") == True), 8.0)  # noqa: E712


# ------------------------------------------------------------------ ML.ENERGY v2
_MLENERGY_TASKS = {("llm_text_generation", "chat"): "chat", ("llm_text_generation", "code"): "code",
                   ("mllm_text_generation", "chat"): "mllm-chat"}


def _load_json(raw: bytes, source: str, name: str):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataSourceError(f"Source {source}: file {name} is truncated or corrupt JSON ({exc}).") from exc


def _json_object(data: bytes | str | Path, source: str, name: str, required: tuple[str, ...]) -> dict:
    """The file's JSON object, checked to be an object holding every ``required`` field."""
    rec = _load_json(_read_bytes(data), source, name)
    if not isinstance(rec, dict):
        raise DataSourceError(f"Source {source}: file {name} is not a JSON object.")
    missing = [k for k in required if k not in rec]
    if missing:
        raise DataSourceError(f"Source {source}: file {name} lacks the field(s) {', '.join(missing)}.")
    return rec


def mlenergy_task(rel_path: str) -> str:
    """``llm_text_generation/chat/<GPU>/<org>/<model>/bs*.json`` -> ``chat`` (``code``, ``mllm-chat``)."""
    parts = Path(rel_path).parts
    for i in range(len(parts) - 1):
        task = _MLENERGY_TASKS.get((parts[i], parts[i + 1]))
        if task:
            return task
    return "unknown"


def read_mlenergy_run(data: bytes | str | Path, source_file: str, source_version: str | None = None,
                      source: str = "mlenergy-v2") -> dict:
    """One ML.ENERGY v2 result JSON -> one ``benchmark_runs`` row as a dict (not yet conformed).

    ``Energy/req (J)`` is the GPU energy of the whole request (prefill and decode, all ``TP`` GPUs), so it goes
    to ``request_energy_j``; ``input_tokens`` is unknown (ShareGPT prompts, not reported per file) and stays NULL.
    """
    rec = _json_object(data, source, source_file, MLENERGY_REQUIRED)
    tp = rec.get("TP") or 1
    pp = rec.get("PP") or 1
    return {
        "source": source, "source_version": source_version, "source_file": source_file,
        "task": mlenergy_task(source_file), "model_id": rec["Model"],
        "precision": None, "quantization": "none", "weight_bits": 16.0,  # vLLM dtype=auto: checkpoint's 16-bit
        "attn_implementation": None, "backend": "vllm", "device": "cuda",
        "gpu_raw": rec["GPU"], "gpu_count": int(tp) * int(pp),
        "tensor_parallel": int(tp), "pipeline_parallel": int(pp),
        "batch_size": rec["Avg BS (reqs)"], "max_batch_size": rec.get("Max BS (reqs)"),
        "input_tokens": None, "output_tokens": rec["Avg Output Tokens"],
        "tpot_s": rec.get("Avg TPOT (s)"), "throughput_tok_s": rec.get("Token tput (tok/s)"),
        "request_energy_j": rec["Energy/req (J)"], "host_energy_measured": None, "engine": "vllm-2024",
    }


def read_mlenergy_runs(files: Mapping[str, bytes | str | Path], source_version: str | None = None,
                       source: str = "mlenergy-v2") -> pd.DataFrame:
    """Many ML.ENERGY v2 result JSONs (relative path -> bytes or path) -> ``benchmark_runs`` rows."""
    rows = [read_mlenergy_run(data, rel, source_version, source) for rel, data in files.items()]
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else list(BENCHMARK_RUNS))
    if rows:
        frame["gpu"] = resolve_gpu_names(frame["gpu_raw"])
    return conform(frame)


def read_mlenergy_models(data: bytes | str | Path, source_file: str = "models.json",
                         source: str = "mlenergy-v2") -> dict[str, float]:
    """An ML.ENERGY ``models.json`` -> {model id: nominal params in billions (rounded upstream)}."""
    rec = _load_json(_read_bytes(data), source, source_file)
    if not isinstance(rec, dict):
        raise DataSourceError(f"Source {source}: file {source_file} is not a JSON object of models.")
    return {k: float(v["params"]) for k, v in rec.items() if isinstance(v, dict) and v.get("params") is not None}


# ------------------------------------------------------------------ ML.ENERGY v3
def read_mlenergy_v3_index(data: bytes | str | Path, source_file: str = "index.json",
                           source: str = "mlenergy-v3") -> dict[str, dict]:
    """The v3 ``index.json`` -> {model id: its facts (params, architecture, precision)}; used to check that
    every model file is listed and agrees with it."""
    rec = _load_json(_read_bytes(data), source, source_file)
    models = rec.get("models") if isinstance(rec, dict) else None
    if not isinstance(models, dict):
        raise DataSourceError(f"Source {source}: file {source_file} has no \"models\" object.")
    return models


def read_mlenergy_v3_model(data: bytes | str | Path, source_file: str, source_version: str | None = None,
                           source: str = "mlenergy-v3") -> pd.DataFrame:
    """One v3 ``models/<org>__<model>__<task>.json`` -> one ``benchmark_runs`` row per configuration.

    Measured (steady-state window, Zeus): ``energy_per_request_joules`` (GPU energy of all GPUs of the set-up
    per request: prefill and decode), ``energy_per_token_joules``, ``avg_power_watts`` (all GPUs),
    ``output_throughput_tokens_per_sec``, ITL percentiles. ``avg_batch_size`` is the mean number of running
    requests (fractional), ``max_num_seqs`` vLLM's cap. Prompt lengths are not published: ``input_tokens`` stays
    NULL (an assumption per task is made at training time).
    """
    rec = _json_object(data, source, source_file, MLENERGY_V3_REQUIRED)
    configs = rec["configurations"]
    if not isinstance(configs, list):
        raise DataSourceError(f"Source {source}: file {source_file} has no list of configurations.")
    precision = str(rec["weight_precision"]).strip().lower()
    bits = _V3_BITS.get(precision)
    if bits is None:
        raise DataSourceError(f"Source {source}: file {source_file} has an unknown weight_precision {precision!r}.")
    rows = []
    for i, c in enumerate(configs, start=1):
        lacks = [k for k in MLENERGY_V3_CONFIG_REQUIRED if not isinstance(c, dict) or c.get(k) is None]
        if lacks:
            raise DataSourceError(f"Source {source}: file {source_file}, configuration {i} lacks "
                                  f"{', '.join(lacks)}.")
        par = c.get("parallelization") or {}
        rows.append({
            "source": source, "source_version": source_version, "source_file": source_file,
            "task": rec["task"], "model_id": rec["model_id"],
            "params_b": rec["total_params_billions"],
            "active_params_b": rec.get("activated_params_billions", rec["total_params_billions"]),
            "architecture": rec.get("architecture"),
            "precision": precision, "quantization": "none" if bits >= 16 else precision, "weight_bits": bits,
            "attn_implementation": None, "backend": "vllm", "engine": "vllm", "device": "cuda",
            "gpu_raw": c["gpu_model"], "gpu_count": int(c["num_gpus"]),
            "tensor_parallel": par.get("tensor_parallel"), "expert_parallel": par.get("expert_parallel"),
            "data_parallel": par.get("data_parallel"), "pipeline_parallel": 1,
            "batch_size": float(c["avg_batch_size"]), "max_batch_size": c.get("max_num_seqs"),
            "input_tokens": None, "output_tokens": float(c["avg_output_len"]),
            "request_energy_j": float(c["energy_per_request_joules"]),
            "energy_per_token_j": c.get("energy_per_token_joules"),
            "power_w": float(c["avg_power_watts"]),
            "throughput_tok_s": float(c["output_throughput_tokens_per_sec"]),
            "itl_median_s": _ms(c.get("median_itl_ms")), "itl_p90_s": _ms(c.get("p90_itl_ms")),
            "itl_p95_s": _ms(c.get("p95_itl_ms")), "itl_p99_s": _ms(c.get("p99_itl_ms")),
            "host_energy_measured": None,
        })
    frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else list(BENCHMARK_RUNS))
    if rows:
        frame["gpu"] = resolve_gpu_names(frame["gpu_raw"])
    return conform(frame)


def _ms(value) -> float:
    return float(value) / 1000.0 if value is not None else float("nan")


# ------------------------------------------------------------------ Open LLM Leaderboard
def read_open_llm_leaderboard(data: bytes | str | Path, source_file: str = "llm-df.csv",
                              source: str = "open-llm-leaderboard") -> pd.DataFrame:
    """The Open LLM Leaderboard table -> one row per model id (the best-scoring submission kept).

    ``#Params (B)`` upstream is rounded to whole billions (0 for models under 0.5 B, kept as NaN). The upstream
    ``MoE`` flag is unreliable (False on most Mixtral models, True on most dense ones), so ``is_moe`` comes
    from the architecture class and the id instead.
    """
    frame = _read_csv(_read_bytes(data), source, source_file, OPEN_LLM_REQUIRED)
    out = pd.DataFrame({
        "model_id": frame["fullname"].astype("object"),
        "architecture": frame["Architecture"].astype("object").replace({"?": None}),
        "params_b": pd.to_numeric(frame["#Params (B)"], errors="coerce").where(lambda p: p > 0),
        "precision": _col(frame, "Precision").astype("object"),
        "hub_license": _col(frame, "Hub License").astype("object"),
    })
    for up, ours in OPEN_LLM_SCORES.items():
        out[ours] = numeric_series(frame, up)
    out["is_moe"] = (is_moe_architecture(out["architecture"].fillna(""))
                     | params_from_name(out["model_id"])["is_moe"])
    out = out[out["model_id"].notna()]
    out = (out.sort_values("quality_score", ascending=False, na_position="last")
              .drop_duplicates(subset="model_id", keep="first").reset_index(drop=True))
    return out[list(MODELS_OLL_COLUMNS)]


# ------------------------------------------------------------------ parameters of benchmark models
class _FirstFound:
    """Per run the sizes of the first source that has them: ``total`` / ``active`` params (B), ``moe``, and
    ``src`` (the source's label)."""

    def __init__(self, index: pd.Index) -> None:
        self.total = pd.Series(np.nan, index=index)
        self.active = pd.Series(np.nan, index=index)
        self.moe = pd.Series(False, index=index)
        self.src = pd.Series(None, index=index, dtype="object")

    def take(self, values: pd.Series, act: pd.Series | None, label: str, moe_flag: pd.Series | None = None) -> None:
        """Fill the runs that have no total yet and a value in ``values`` from this source."""
        hit = self.total.isna() & values.notna()
        self.total = self.total.where(~hit, values)
        if act is not None:
            self.active = self.active.where(~hit, act)
        if moe_flag is not None:
            self.moe = self.moe.where(~hit, moe_flag.fillna(False).astype(bool))
        self.src[hit] = label


def fill_params(runs: pd.DataFrame, catalogue: pd.DataFrame | None = None,
                open_llm: pd.DataFrame | None = None,
                mlenergy_params: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Set ``params_b``, ``active_params_b``, ``is_moe``, ``params_source`` and ``model_family`` per run.

    Sources in order of trust: ``catalogue`` (EcoLogits, from :func:`seal.data.catalogue.resolve_models` over
    ``runs.model_id``, same index; exact counts incl. MoE active params), the id itself (``6.9b``: exact where
    written), the Open LLM Leaderboard ``#Params (B)`` (whole billions), ML.ENERGY ``models.json`` (whole
    billions), and last the weights memory of the run (``weights_memory_mb`` / bytes per weight).
    """
    runs = runs.copy()
    ids = runs["model_id"].astype("object")
    sizes = _FirstFound(runs.index)
    named = params_from_name(ids)
    if "params_b" in runs.columns:  # the source states the sizes itself (ML.ENERGY v3): trust it first
        stated = pd.to_numeric(runs["params_b"], errors="coerce")
        stated_act = pd.to_numeric(runs.get("active_params_b", stated), errors="coerce")
        stated_moe = stated_act < stated
        sizes.take(stated, stated_act.fillna(stated), "source", stated_moe)
    if catalogue is not None and len(catalogue):
        cat = catalogue.reindex(runs.index)
        found = cat["found"].fillna(False).astype(bool)
        sizes.take(cat["params_b"].where(found), cat["active_params_b"].where(found), "catalogue",
                   cat["is_moe"].where(found))
    sizes.take(named["params_b"], named["active_params_b"], "name", named["is_moe"])
    if open_llm is not None and len(open_llm):
        oll = open_llm.assign(key=open_llm["model_id"].str.lower()).drop_duplicates("key").set_index("key")
        key = ids.astype(str).str.lower()
        sizes.take(key.map(oll["params_b"]), None, "open-llm-leaderboard", key.map(oll["is_moe"]))
    if mlenergy_params:
        sizes.take(ids.map(dict(mlenergy_params)).astype("float64"), None, "mlenergy-models")
    if "weights_memory_mb" in runs.columns:
        bytes_per = (runs["weight_bits"].fillna(16.0) / 8.0) if "weight_bits" in runs else BYTES_PER_WEIGHT_16BIT
        sizes.take(pd.to_numeric(runs["weights_memory_mb"], errors="coerce") * 1e6 / bytes_per / 1e9, None, "memory")

    moe = sizes.moe | named["is_moe"]
    # Dense models (or MoE with no active count): active = total; a MoE named "NxMb" gets top-2 share.
    active = sizes.active.where(sizes.active.notna(), named["active_params_b"].where(moe))
    active = active.where(active.notna(), sizes.total)
    runs["params_b"] = sizes.total
    runs["active_params_b"] = active
    runs["is_moe"] = moe.astype(bool)
    runs["params_source"] = sizes.src
    runs["model_family"] = model_family(ids)
    return runs
