"""Registry of the data sources: name, version, licence, and per file its canonical URL and its path in a mirror.

A mirror (``SEAL_DATA_MIRROR`` or ``seal data pull --mirror``) is a URL or a directory laid out like
``../shared/data``: ``llm-perf-leaderboard/perf-df-*.csv``, ``llm-perf-leaderboard/open-llm-leaderboard-llm-df.csv``,
``mlenergy-v2/raw/<task>/<GPU>/<org>/<model>/bs*+tp*+pp*.json``.

Offline sources (the EcoLogits package, the project's own fact tables) are read from the installed package or the
repository, never downloaded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import importlib.resources
from pathlib import Path
from urllib.parse import quote

from seal.data.catalogue import ecologits_version

HF_DATASET = "https://huggingface.co/datasets/optimum-benchmark/llm-perf-leaderboard/resolve/main"
MLENERGY_REPO = "ml-energy/leaderboard-v2"
MLENERGY_COMMIT = "c3af7f31e231a2a7021c5f8e2a54dd712d02e6e2"
MLENERGY_RAW = f"https://raw.githubusercontent.com/{MLENERGY_REPO}/{MLENERGY_COMMIT}/data"
# ML.ENERGY leaderboard v3 (2025-26 vLLM on H100 / B200): the compiled data of the web app, pinned to a commit.
MLENERGY_V3_REPO = "ml-energy/leaderboard"
MLENERGY_V3_COMMIT = "0cd52dab897c5d91a45f4d413038f3b8b4251b0f"
MLENERGY_V3_RAW = f"https://raw.githubusercontent.com/{MLENERGY_V3_REPO}/{MLENERGY_V3_COMMIT}/public/data"
# the manifests ship as package data (read with importlib.resources: a real file for a regular install)
MANIFEST_DIR = Path(str(importlib.resources.files("seal.data").joinpath("manifests")))


@dataclass(frozen=True)
class SourceFile:
    """One file of a source."""

    mirror_path: str            # path relative to a mirror's root (layout of ../shared/data)
    url: str                    # canonical public URL
    kind: str                   # parser: perf-df | llm-df | mlenergy-run | mlenergy-models | mlenergy-v3-index | mlenergy-v3-model
    sha256: str | None = None   # pinned content hash, where the upstream is immutable (a pinned commit)
    optional: bool = False      # may be absent from a mirror (HTTP 404 / missing file): skipped, not an error


@dataclass(frozen=True)
class Source:
    name: str
    version: str
    licence: str
    base_url: str
    description: str
    files: tuple[SourceFile, ...] = field(default_factory=tuple)
    offline: bool = False       # built from the installed package / repository by `seal data init`


# ------------------------------------------------------------------ LLM-Perf (HF dataset)
# mirror file name -> upstream path in the HF dataset (see ../shared/data/llm-perf-leaderboard/PROVENANCE.md)
LLM_PERF_FILES: dict[str, str] = {
    "perf-df-pytorch-cuda-unquantized-1xA100.csv": "data/perf-df-pytorch-cuda-unquantized-1xA100.csv",
    "perf-df-pytorch-cuda-bnb-1xA100.csv": "data/perf-df-pytorch-cuda-bnb-1xA100.csv",
    "perf-df-pytorch-cuda-gptq-1xA100.csv": "data/perf-df-pytorch-cuda-gptq-1xA100.csv",
    "perf-df-pytorch-cuda-torchao-1xA10.csv": "data/perf-df-pytorch-cuda-torchao-1xA10.csv",
    "perf-df-pytorch-cuda-torchao-1xT4.csv": "data/perf-df-pytorch-cuda-torchao-1xT4.csv",
    "perf-df-onnxruntime-cpu-unquantized-32vCPU-C7i.csv": "data/perf-df-onnxruntime-cpu-unquantized-32vCPU-C7i.csv",
    "perf-df-pytorch-cpu-unquantized-32vCPU-C7i.csv": "perf-df-unquantized-c7i.csv",
}
# Upstream files the reference mirror lacks (>4 MiB); pulled from the canonical location when present there.
LLM_PERF_OPTIONAL: tuple[str, ...] = tuple(
    f"perf-df-pytorch-cuda-{q}-1x{g}.csv" for q in ("unquantized", "awq", "bnb", "gptq") for g in ("A10", "T4"))


def _llm_perf_files() -> tuple[SourceFile, ...]:
    files = [SourceFile(f"llm-perf-leaderboard/{name}", f"{HF_DATASET}/{up}", "perf-df")
             for name, up in LLM_PERF_FILES.items()]
    files += [SourceFile(f"llm-perf-leaderboard/{name}", f"{HF_DATASET}/data/{name}", "perf-df", optional=True)
              for name in LLM_PERF_OPTIONAL]
    return tuple(files)


# ------------------------------------------------------------------ ML.ENERGY v2 (GitHub, pinned commit)
def read_manifest(path: Path = MANIFEST_DIR / "mlenergy_v2_files.txt") -> list[tuple[str, str]]:
    """(sha256, relative path) pairs of the committed ML.ENERGY file list."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            sha, rel = line.split("  ", 1)
            pairs.append((sha.strip(), rel.strip()))
    return pairs


def _mlenergy_files() -> tuple[SourceFile, ...]:
    return tuple(
        SourceFile(f"mlenergy-v2/raw/{rel}", f"{MLENERGY_RAW}/{quote(rel)}",
                   "mlenergy-models" if rel.endswith("models.json") else "mlenergy-run", sha256=sha)
        for sha, rel in read_manifest())


def _mlenergy_v3_files() -> tuple[SourceFile, ...]:
    return tuple(
        SourceFile(f"mlenergy-v3/public/data/{rel}", f"{MLENERGY_V3_RAW}/{quote(rel)}",
                   "mlenergy-v3-index" if rel == "index.json" else "mlenergy-v3-model", sha256=sha)
        for sha, rel in read_manifest(MANIFEST_DIR / "mlenergy_v3_files.txt"))


SOURCES: dict[str, Source] = {
    s.name: s for s in (
        Source(
            name="llm-perf", version="HF dataset main (snapshot ~2024-12; optimum-benchmark 0.2-0.5)",
            licence="none declared (measuring code optimum-benchmark: Apache-2.0)",
            base_url="https://huggingface.co/datasets/optimum-benchmark/llm-perf-leaderboard",
            description="Measured prefill (256 tokens) and decode (63 tokens) GPU energy and latency per call, "
                        "batch 1, A100/A10G/T4 and CPU; host CPU/RAM energy are CodeCarbon estimates.",
            files=_llm_perf_files()),
        Source(
            name="open-llm-leaderboard", version="llm-df.csv of the LLM-Perf dataset (Open LLM Leaderboard v2)",
            licence="none declared",
            base_url="https://huggingface.co/datasets/optimum-benchmark/llm-perf-leaderboard",
            description="Model catalogue: #Params (B) (whole billions), architecture, benchmark scores.",
            files=(SourceFile("llm-perf-leaderboard/open-llm-leaderboard-llm-df.csv", f"{HF_DATASET}/llm-df.csv",
                              "llm-df"),)),
        Source(
            name="mlenergy-v2", version=f"{MLENERGY_REPO}@{MLENERGY_COMMIT[:12]}", licence="Apache-2.0",
            base_url=f"https://github.com/{MLENERGY_REPO}/tree/{MLENERGY_COMMIT}/data",
            description="Measured GPU energy per request (Zeus), vLLM batched serving on A100-40GB / H100, "
                        "chat, code and multimodal chat; input tokens not reported.",
            files=_mlenergy_files()),
        Source(
            name="mlenergy-v3", version=f"{MLENERGY_V3_REPO}@{MLENERGY_V3_COMMIT[:12]}", licence="Apache-2.0",
            base_url=f"https://github.com/{MLENERGY_V3_REPO}/tree/{MLENERGY_V3_COMMIT}/public/data",
            description="Measured GPU energy per request and per output token, mean GPU power, throughput and "
                        "inter-token latency (Zeus), current vLLM on H100 / B200 with TP / EP layouts, "
                        "bf16 and fp8, dense and MoE (Qwen3, Llama-3.1/3.3 subset); prompt lengths not published.",
            files=_mlenergy_v3_files()),
        Source(
            name="ecologits", version=ecologits_version(), licence="MPL-2.0",
            base_url="https://pypi.org/project/ecologits/",
            description="Installed package: model catalogue (open and closed models; closed sizes are EcoLogits "
                        "estimates) and electricity mixes per country.",
            offline=True),
        Source(
            name="seal-gpus", version="seal/data/facts/gpus.csv", licence="project (sourced per row)",
            base_url="seal/data/facts/gpus.csv", description="GPU datasheet facts written by the project.", offline=True),
        Source(
            name="seal-cloud-regions", version="seal/data/facts/cloud_regions.csv", licence="project (sourced per row)",
            base_url="seal/data/facts/cloud_regions.csv", description="Cloud regions -> grid zone, PUE, WUE.", offline=True),
    )
}

DOWNLOADED = tuple(name for name, s in SOURCES.items() if not s.offline)


def select(names: list[str] | tuple[str, ...] | None) -> list[Source]:
    """The downloadable sources named (all when ``names`` is empty)."""
    from seal.errors import SealError

    if not names:
        return [SOURCES[n] for n in DOWNLOADED]
    unknown = [n for n in names if n not in DOWNLOADED]
    if unknown:
        raise SealError(f"Unknown source {unknown[0]!r}; accepted: {', '.join(DOWNLOADED)}.")
    return [SOURCES[n] for n in DOWNLOADED if n in names]
