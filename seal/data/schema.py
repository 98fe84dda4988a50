"""Schemas of the store's tables (column -> DuckDB type). Units live in the names.

``benchmark_runs``: one row per measured configuration, GPU energy in joules **per request** (per call at
batch 1; a request's share at batch > 1). ML.ENERGY v2 reports energy per request only (prefill and decode
together), so its ``prefill_energy_j`` / ``decode_energy_j`` are NULL and ``request_energy_j`` is set.
LLM-Perf CPU runs (``device='cpu'``, ``gpu`` NULL) hold the CPU's energy in ``prefill_energy_j`` /
``decode_energy_j`` (the CPU is the device doing the work there); filter on ``device='cuda'`` for GPU energy.
"""
from __future__ import annotations

BENCHMARK_RUNS: dict[str, str] = {
    "source": "VARCHAR",               # llm-perf | mlenergy-v2 | mlenergy-v3
    "source_version": "VARCHAR",       # upstream commit / snapshot / tool version
    "source_file": "VARCHAR",
    "task": "VARCHAR",                 # llm-perf | chat | code | mllm-chat | lm-arena-chat | gpqa | sourcegraph-fim
    "model_id": "VARCHAR",             # Hugging Face id
    "model_family": "VARCHAR",         # e.g. llama, qwen2, gemma (for leave-one-family-out)
    "params_b": "DOUBLE",              # total parameters, billions
    "active_params_b": "DOUBLE",       # active parameters, billions (== params_b for dense)
    "params_source": "VARCHAR",        # catalogue | name | memory
    "is_moe": "BOOLEAN",
    "precision": "VARCHAR",            # float32 | float16 | bfloat16
    "quantization": "VARCHAR",         # none | bnb | gptq | awq | torchao ...
    "weight_bits": "DOUBLE",           # bits per weight as served (16, 8, 4 ...)
    "attn_implementation": "VARCHAR",
    "backend": "VARCHAR",              # pytorch | onnxruntime | vllm
    "device": "VARCHAR",               # cuda | cpu
    "gpu": "VARCHAR",                  # canonical GPU name from seal/data/facts/gpus.csv (NULL for CPU runs)
    "gpu_raw": "VARCHAR",              # as written by the source
    "gpu_count": "INTEGER",
    "batch_size": "DOUBLE",            # mean concurrent requests (ML.ENERGY: Avg BS)
    "max_batch_size": "INTEGER",
    "input_tokens": "DOUBLE",          # per request (NULL when the source does not say)
    "output_tokens": "DOUBLE",         # per request (LLM-Perf decode covers 63 new tokens)
    "prefill_latency_s": "DOUBLE",
    "decode_latency_s": "DOUBLE",
    "tpot_s": "DOUBLE",                # time per output token, seconds
    "prefill_energy_j": "DOUBLE",      # GPU energy, J per request
    "decode_energy_j": "DOUBLE",       # GPU energy, J per request
    "request_energy_j": "DOUBLE",      # GPU energy of the whole request, J
    "host_cpu_energy_j": "DOUBLE",
    "host_ram_energy_j": "DOUBLE",
    "host_energy_measured": "BOOLEAN", # False: CodeCarbon estimate (LLM-Perf), NULL: not reported
    # added by the data layer (extra detail, never needed by the contract above)
    "tool_version": "VARCHAR",         # optimum-benchmark version of the run (LLM-Perf)
    "config_name": "VARCHAR",          # LLM-Perf config name, e.g. float16-flash_attention_2
    "weights_memory_mb": "DOUBLE",     # LLM-Perf prefill max allocated GPU memory, MB
    "tensor_parallel": "INTEGER",      # ML.ENERGY TP
    "pipeline_parallel": "INTEGER",    # ML.ENERGY PP
    "throughput_tok_s": "DOUBLE",      # ML.ENERGY output-token throughput of the whole server, tokens/s
    # serving stack and the ML.ENERGY v3 fields
    "engine": "VARCHAR",               # transformers (LLM-Perf) | vllm-2024 (ML.ENERGY v2) | vllm (ML.ENERGY v3)
    "architecture": "VARCHAR",         # as the source says (ML.ENERGY v3: Dense Transformer | MoE | ...)
    "expert_parallel": "INTEGER",      # ML.ENERGY v3 EP degree
    "data_parallel": "INTEGER",        # ML.ENERGY v3 DP degree
    "power_w": "DOUBLE",               # measured mean GPU power of the whole set-up (all GPUs), W
    "energy_per_token_j": "DOUBLE",    # measured GPU energy per output token, J
    "itl_median_s": "DOUBLE",          # inter-token latency percentiles, s
    "itl_p90_s": "DOUBLE",
    "itl_p95_s": "DOUBLE",
    "itl_p99_s": "DOUBLE",
}

INGEST_LOG: dict[str, str] = {
    "source": "VARCHAR",
    "url": "VARCHAR",
    "sha256": "VARCHAR",
    "bytes": "BIGINT",
    "rows": "BIGINT",
    "version": "VARCHAR",
    "pulled_at": "TIMESTAMP WITH TIME ZONE",
    "file": "VARCHAR",                 # mirror-relative path of the file (one log row per file)
}

GRID_ZONES: dict[str, str] = {
    "zone": "VARCHAR",                 # ISO 3166-1 alpha-3, or WOR (world)
    "gwp_g_per_kwh": "DOUBLE",         # location-based grid intensity, gCO2e/kWh
    "wue_l_per_kwh": "DOUBLE",         # water consumed per kWh generated, L/kWh
    "adpe_kg_sb_per_kwh": "DOUBLE",    # abiotic depletion, kgSbeq/kWh
    "pe_mj_per_kwh": "DOUBLE",         # primary energy, MJ/kWh
    "year": "INTEGER",                 # NULL: EcoLogits does not state the year
    "warnings": "VARCHAR",
    "source": "VARCHAR",
}

# ---------------------------------------------------------------- a team's own measurements (seal data import)
# Imported rows live apart from the public benchmark runs, in ``user_runs``: the ``benchmark_runs`` columns (so
# ``seal train --with`` can fit on them) plus what a measured request log has and a benchmark lacks. Their
# ``source`` is ``user:NAME``; ``seal data pull`` / ``init`` carry these tables over unchanged.
USER_RUNS: dict[str, str] = {
    **BENCHMARK_RUNS,
    "model": "VARCHAR",                # the model as the file names it (model_id: as SEAL resolved it)
    "request_id": "VARCHAR",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "latency_s": "DOUBLE",             # end-to-end latency of the request, s (when the file gives it)
    "ttft_s": "DOUBLE",
    "measure_group": "VARCHAR",        # rows measured together (a CodeCarbon window, a benchmark configuration)
    "measured_basis": "VARCHAR",       # per-request | window-apportioned | benchmark-mean
    "server_energy_j": "DOUBLE",       # measured whole-server energy per request, J (what it covers: next column)
    "server_energy_covers": "VARCHAR", # e.g. gpu+cpu+ram (CodeCarbon), wall (a PDU / IPMI reading)
    "file_line": "BIGINT",             # line / record of the imported file
}

USER_SOURCES: dict[str, str] = {
    "source": "VARCHAR",               # user:NAME
    "kind": "VARCHAR",                 # table | codecarbon | mlenergy
    "file": "VARCHAR",                 # file name as imported (no folder)
    "sha256": "VARCHAR",
    "bytes": "BIGINT",
    "rows": "BIGINT",                  # rows imported
    "skipped": "BIGINT",               # rows skipped (--skip-bad), reasons in `note`
    "method": "VARCHAR",               # how energy per request was obtained (apportionment stated)
    "note": "VARCHAR",
    "imported_at": "TIMESTAMP WITH TIME ZONE",
}

CALIBRATIONS: dict[str, str] = {
    "deployment": "VARCHAR",           # user:NAME
    "payload": "VARCHAR",              # JSON of seal.estimator.calibrate.DeploymentCalibration.to_dict()
    "created_at": "TIMESTAMP WITH TIME ZONE",
}

USER_TABLES: dict[str, dict[str, str]] = {"user_runs": USER_RUNS, "user_sources": USER_SOURCES,
                                          "calibrations": CALIBRATIONS}
