"""The request-frame contract shared by logs, estimator, carbon, CLI and UI.

Every part of SEAL passes pandas DataFrames with these column names. Units live in the names.
"""
from __future__ import annotations

# Input columns a user (or a log parser) may give. All optional except that each row must end up with a
# model (or params_b) and token counts (or text to count).
INPUT_COLUMNS: tuple[str, ...] = (
    "request_id",
    "model",            # model id or name, resolved through the catalogue (EcoLogits + Open LLM Leaderboard)
    "params_b",         # total parameters, billions (overrides the catalogue)
    "active_params_b",  # active parameters per token, billions (MoE; defaults to params_b)
    "precision",        # float32 | bfloat16 | float16 | fp8 | int8 | int4 ...
    "gpu",              # GPU type, any alias in seal/data/facts/gpus.csv
    "gpus",             # GPU count serving the model (default: fewest that hold weights + KV headroom)
    "engine",           # serving stack: transformers | vllm-2024 | vllm (default vllm; transformers at batch 1)
    "batch_size",       # mean number of requests served concurrently (a float >= 1, as vLLM reports it)
    "input_tokens",
    "output_tokens",
    "latency_s",        # end-to-end request latency, seconds
    "ttft_s",           # time to first token, seconds
    "region",           # ISO country code/name, WOR, or cloud region "aws:us-east-1"
    "prompt",
    "response",
    "timestamp",        # timezone-aware UTC
    "call_type",        # chat (default: prefill + decode) | embedding (a forward pass over the input: prefill only)
    "deployment",       # a calibrated deployment (user:NAME, from `seal calibrate`): its correction applies
)

# Extra columns the log parsers keep when present.
LOG_COLUMNS: tuple[str, ...] = (
    "cached_input_tokens",
    "reasoning_tokens",   # already included in output_tokens (reasoning counts as decode)
    "token_source",       # log | user | tokenizer:<name>
    "app",
    "user",
    "source_format",
)

# Columns the estimator adds (seal.estimator).
ENERGY_COLUMNS: tuple[str, ...] = (
    "prefill_energy_j",
    "decode_energy_j",
    "gpu_energy_j",        # prefill + decode, accelerators only
    "gpu_energy_low_j",    # 80 % interval
    "gpu_energy_high_j",
    "gpu_time_s",          # the request's share of GPU time, GPU-seconds (gpus x wall time / batch)
    "estimate_basis",      # measured-profile | regression | transferred-gpu | extrapolated-size | latency ...
    "sources",             # benchmark sources supporting the estimate, ';'-separated
    "warnings",            # coded warnings, ';'-separated (seal.errors.WARNINGS)
)

# Column the calibration stage adds (seal.estimator.calibrate.apply_calibration, in seal.estimate).
CALIBRATION_COLUMNS: tuple[str, ...] = (
    "calibration_factor",  # calibrated / SEAL's own GPU energy (1: no calibrated deployment)
)

# Columns the carbon stage adds (seal.carbon).
CARBON_COLUMNS: tuple[str, ...] = (
    "host_energy_j",
    "idle_energy_j",
    "it_energy_j",
    "pue",
    "facility_energy_j",
    "facility_energy_low_j",
    "facility_energy_high_j",
    "grid_intensity_g_per_kwh",
    "grid_intensity_source",
    "operational_g_co2e",
    "embodied_g_co2e",
    "total_g_co2e",
    "total_low_g_co2e",
    "total_high_g_co2e",
    "water_ml",
    "water_low_ml",        # 80 % interval of water_ml (from the facility energy's: both terms scale with it)
    "water_high_ml",
    "adpe_usage_kg_sbeq",
    "adpe_usage_low_kg_sbeq",
    "adpe_usage_high_kg_sbeq",
    "adpe_embodied_kg_sbeq",
    "adpe_kg_sbeq",
    "adpe_low_kg_sbeq",
    "adpe_high_kg_sbeq",
    "primary_energy_usage_mj",
    "primary_energy_usage_low_mj",
    "primary_energy_usage_high_mj",
    "primary_energy_embodied_mj",
    "primary_energy_mj",
    "primary_energy_low_mj",
    "primary_energy_high_mj",
)

# The CSV download's columns, in this order (those a result has; the full set stays in Parquet and JSON). ``gpu`` is
# the GPU the estimate used (the log's, else the default serving set-up's: ``gpu_model``), never empty beside it.
CSV_COLUMNS: tuple[str, ...] = (
    "request_id", "timestamp", "file", "app", "user", "call_type",
    "model", "model_resolved", "params_b", "active_params_b", "precision",
    "gpu", "gpus", "engine", "batch_size", "region", "region_zone",
    "input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens", "token_source", "latency_s",
    "prefill_energy_j", "prefill_energy_low_j", "prefill_energy_high_j",
    "decode_energy_j", "decode_energy_low_j", "decode_energy_high_j",
    "gpu_energy_j", "gpu_energy_low_j", "gpu_energy_high_j", "gpu_time_s",
    "facility_energy_j", "facility_energy_low_j", "facility_energy_high_j", "pue",
    "grid_intensity_g_per_kwh", "grid_intensity_source",
    "operational_g_co2e", "embodied_g_co2e", "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e",
    "water_ml", "water_low_ml", "water_high_ml",
    "estimate_basis", "sources", "warnings", "deployment", "calibration_factor", "prompt",
)
