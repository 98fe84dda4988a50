"""Result codes in words for the pages: token sources, warnings, the assumed serving set-up, and why SEAL's figures
differ from EcoLogits' and from operators' disclosures. Nothing here estimates anything."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

TOKENIZER_WORDS: dict[str, str] = {
    "tekken": "counted with Mistral's Tekken tokenizer",
    "tekken-240718": "counted with Mistral's Tekken tokenizer (NeMo)",
    "o200k_base": "counted with OpenAI's o200k tokenizer",
    "cl100k_base": "counted with OpenAI's cl100k tokenizer",
    "llama3": "counted with Meta's Llama 3 tokenizer",
    "qwen": "counted with Qwen's tokenizer",
}
SOURCE_WORDS: dict[str, str] = {"log": "from the log", "user": "given on this page", "default": "SEAL's default"}
ENGINE_WORDS: dict[str, str] = {"vllm": "current vLLM (2025-26)", "vllm-2024": "vLLM 2024 (0.4-0.5)",
                                "transformers": "eager Hugging Face transformers"}
BASIS_WORDS: dict[str, str] = {
    "regression": "fitted on measurements of this GPU",
    "interpolation": "fitted on measurements of this GPU",
    "transferred-gpu": "transferred from other GPUs' measurements through datasheet specs",
    "extrapolated-size": "extrapolated beyond the largest measured model",
    "latency": "power draw times the measured latency",
}
# Codes whose generic sentence (seal.errors.WARNINGS) does not fit what the Estimate page passes: the page always
# gives a batch size, so only the GPU can be a default there.
PAGE_WARNINGS: dict[str, str] = {
    "default-serving-setup": "No GPU chosen: the documented default GPU and GPU count were assumed (see the "
                             "assumptions above).",
}


def _one_source(code: str) -> str:
    code = str(code).strip()
    if code.startswith("tokenizer:"):
        name = code.split(":", 1)[1]
        return TOKENIZER_WORDS.get(name, f"counted with the {name} tokenizer")
    return SOURCE_WORDS.get(code, code)


def token_source_words(code: object) -> str:
    """``token_source`` in words: "tokenizer:tekken+user" -> "input counted with Mistral's Tekken tokenizer, output
    given on this page"; one source for both -> "both …"."""
    text = "" if code is None or (isinstance(code, float) and pd.isna(code)) else str(code)
    if not text:
        return "–"
    parts = text.split("+")
    if len(parts) == 2 and parts[0] != parts[1]:
        return f"input {_one_source(parts[0])}, output {_one_source(parts[1])}"
    return f"input and output {_one_source(parts[0])}"


def output_source_words(code: object) -> str:
    """Where the output count of a row came from, in words (the part after "+" of ``token_source``)."""
    text = "" if code is None or (isinstance(code, float) and pd.isna(code)) else str(code)
    part = text.split("+")[-1] if text else ""
    return _one_source(part) if part else "–"


def warning_sentences(codes: pd.Series | list | str | None, page: Mapping[str, str] | None = None) -> list[tuple[str, int]]:
    """Distinct warning codes of a result as ``(sentence, rows)``, most rows first: each code's sentence from
    :data:`seal.errors.WARNINGS` (``page`` replaces some for the page's context); an unknown code is returned as
    it came (the caller shows it literally)."""
    from seal.errors import WARNINGS

    if codes is None:
        return []
    series = pd.Series([codes]) if isinstance(codes, str) else pd.Series(list(codes))
    exploded = series.dropna().astype(str).str.split(";").explode().str.strip()
    exploded = exploded[exploded != ""]
    words = {**WARNINGS, **(page or {})}
    return [(words.get(code, code), int(n)) for code, n in exploded.value_counts(sort=True).items()]


def _distinct(values: pd.Series) -> list:
    return [v for v in pd.unique(values.dropna()) if str(v) not in ("", "nan", "<NA>")]


def _num(x: float, digits: int = 3) -> str:
    from seal.ui.format import sig_figures

    return sig_figures(float(x), digits)


def assumptions(result: pd.DataFrame, inputs: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """The serving set-up and factors behind a result, in words: ``(what, value in words, given or assumed)`` as
    ``(label, text)`` pairs, "(assumed)" on the ones the user did not set. ``inputs``: what the page passed to
    :func:`seal.estimate` (``None`` values were left to SEAL's defaults)."""
    inputs = dict(inputs or {})

    def mark(name: str) -> str:
        return "" if inputs.get(name) is not None else " (SEAL's default)"

    out: list[tuple[str, str]] = []
    if "model" in result:
        out.append(("Model", ", ".join(str(m) for m in _distinct(result.get("model_resolved", result["model"])))))
    if "params_b" in result:
        parts = []
        cols = [c for c in ("params_b", "active_params_b", "params_low_b", "params_high_b") if c in result]
        for row in result[cols].drop_duplicates().to_dict("records"):
            text = f"{_num(row['params_b'])} B parameters"
            act = row.get("active_params_b")
            if act is not None and pd.notna(act) and act < row["params_b"] * 0.99:
                text += f" ({_num(act)} B active per token)"
            lo, hi = row.get("params_low_b"), row.get("params_high_b")
            if lo is not None and hi is not None and pd.notna(lo) and pd.notna(hi) and lo < hi:
                text += f", plausible range {_num(lo, 2)}–{_num(hi, 2)} B (size not published)"
            parts.append(text)
        out.append(("Model size", "; ".join(parts)))
    gpu = result["gpu_model"] if "gpu_model" in result else result.get("gpu", pd.Series(dtype=object))
    gpus = result.get("gpus", pd.Series(dtype=float))
    counts = sorted({int(g) for g in pd.to_numeric(gpus, errors="coerce").dropna()})
    out.append(("GPU", ", ".join(str(g) for g in _distinct(gpu)) + (
        f", {' or '.join(str(c) for c in counts)} per model copy" if counts else "") + mark("gpu")))
    if "batch_size" in result:
        sizes = sorted({float(b) for b in pd.to_numeric(result["batch_size"], errors="coerce").dropna()})
        out.append(("Concurrent requests (batch size)", ", ".join(f"{b:g}" for b in sizes) + mark("batch_size")))
    if "engine" in result:
        out.append(("Serving engine", ", ".join(ENGINE_WORDS.get(str(e), str(e)) for e in _distinct(result["engine"]))
                    + mark("engine")))
    if "precision" in result:
        out.append(("Weights precision", ", ".join(str(p) for p in _distinct(result["precision"])) + mark("precision")))
    if "pue" in result:
        out.append(("PUE (facility overhead)", ", ".join(f"{float(p):.2f}" for p in _distinct(result["pue"]))
                    + ("" if inputs.get("pue") else " (the region's or provider's published value)")))
    if "grid_intensity_g_per_kwh" in result:
        gi = result[["grid_intensity_g_per_kwh", "region"]].drop_duplicates() if "region" in result else None
        if gi is not None:
            out.append(("Grid intensity", "; ".join(f"{g:.0f} g CO2e/kWh in {r} (annual average, location-based)"
                                                    for g, r in gi.itertuples(index=False))))
    if "token_source" in result:
        out.append(("Token counts", "; ".join(token_source_words(s) for s in _distinct(result["token_source"]))))
    calibrated = calibration_words(result)
    if calibrated:
        out.append(("Calibration", calibrated))
    return out


def calibration_words(result: pd.DataFrame) -> str:
    """The calibrated deployments of a result in words: "user:my-fleet: SEAL's GPU energy from public benchmarks
    ×2.03, as your own measurements showed (3 of 5 rows)" (the rows only when not all are); "" when no row is
    calibrated (plain text; escape before Markdown)."""
    if "deployment" not in result or "calibration_factor" not in result:
        return ""
    factor = pd.to_numeric(result["calibration_factor"], errors="coerce")
    calibrated = result["warnings"].astype(str).str.contains("calibrated-deployment", regex=False) \
        if "warnings" in result else factor.ne(1.0)
    dep = result["deployment"].astype(object).where(result["deployment"].notna() & calibrated, None)
    parts = []
    for name in _distinct(dep):
        rows = (dep == name).to_numpy()
        f = factor[rows].dropna()
        if not len(f):
            continue
        lo, hi = float(f.min()), float(f.max())
        times = f"×{lo:.3g}" if f"{hi:.3g}" == f"{lo:.3g}" else f"×{lo:.3g} to ×{hi:.3g}"
        of = f" ({int(rows.sum()):,} of {len(result):,} rows)" if rows.sum() < len(result) else ""
        parts.append(f"{name}: SEAL's GPU energy from public benchmarks {times}, as your own measurements "
                     f"showed{of}")
    return "; ".join(parts)


def assumption_sentence(result: pd.DataFrame, inputs: Mapping[str, Any] | None = None) -> str:
    """One line naming every assumed value: "Assumed: H100-SXM (16 per model copy), 64 concurrent requests, current
    vLLM (2025-26), bfloat16 weights, PUE 1.25, 458 g CO2e/kWh (WOR)." (plain text; escape before Markdown)."""
    inputs = dict(inputs or {})
    parts = []
    gpu = result["gpu_model"] if "gpu_model" in result else result.get("gpu", pd.Series(dtype=object))
    counts = sorted({int(g) for g in pd.to_numeric(result.get("gpus", pd.Series(dtype=float)), errors="coerce").dropna()})
    gpu_text = ", ".join(str(g) for g in _distinct(gpu)) or "–"
    if counts:
        gpu_text += f" GPU ({' or '.join(str(c) for c in counts)} per model copy)"
    parts.append(gpu_text)
    if "batch_size" in result:
        sizes = sorted({float(b) for b in pd.to_numeric(result["batch_size"], errors="coerce").dropna()})
        parts.append(f"{', '.join(f'{b:g}' for b in sizes)} concurrent requests")
    if "engine" in result:
        parts.append(", ".join(ENGINE_WORDS.get(str(e), str(e)) for e in _distinct(result["engine"])))
    if "precision" in result:
        parts.append(", ".join(str(p) for p in _distinct(result["precision"])) + " weights")
    if "pue" in result:
        parts.append("PUE " + ", ".join(f"{float(p):.2f}" for p in _distinct(result["pue"])))
    if {"grid_intensity_g_per_kwh", "region"} <= set(result):
        gi = result[["grid_intensity_g_per_kwh", "region"]].drop_duplicates()
        parts.append("; ".join(f"grid {g:.0f} g CO2e/kWh ({r})" for g, r in gi.itertuples(index=False)))
    if "params_low_b" in result and "params_high_b" in result:
        ranges = result[["params_low_b", "params_high_b"]].dropna().drop_duplicates()
        for lo, hi in ranges.itertuples(index=False):
            if lo < hi:
                parts.append(f"model size {_num(lo, 2)}–{_num(hi, 2)} B (not published)")
    return "Assumed: " + ", ".join(p for p in parts if p) + "."


WHY_DIFFERENT = (
    "**EcoLogits** (0.11, `ecologits/impacts/llm.py`) gives each output token one GPU energy from a single "
    "regression on the model's active parameters and the batch size (64 concurrent requests by default), counts "
    "no prompt (prefill) energy, and gives a range only where a model's size is unknown. **SEAL** fits prefill and decode separately on measured "
    "runs of current serving engines (ML.ENERGY v2 and v3, LLM-Perf) per GPU, engine, precision and batch size, "
    "and its 80 % interval comes from the errors of held-out measurements. Both apply the same kind of boundary "
    "(host, idle, PUE, embodied hardware) and the same grid intensities, so the gap is mostly the GPU energy per "
    "token: SEAL's is what modern batched serving measured.",
    "**Operators' disclosures** (Google's Gemini median prompt, OpenAI's average ChatGPT query, Mistral's Le Chat "
    "life-cycle analysis) describe their own fleets with sizes, batch sizes and token counts they do not publish; "
    "the table below scores SEAL on requests that stand for each of them, with every assumption written out.",
)


def why_different() -> tuple[str, ...]:
    """Paragraphs (SEAL's Markdown) explaining SEAL against EcoLogits and against operators' disclosures."""
    return WHY_DIFFERENT


def request_defaults_table() -> pd.DataFrame:
    """What a request that says nothing gets, the same in the app, ``seal estimate`` and :func:`seal.estimate`:
    ``setting``, ``value``, ``source`` (read from the package's own constants)."""
    from seal.carbon import defaults as C
    from seal.estimator import defaults as E
    from seal.logs.normalize import DEFAULT_OUTPUT_TOKENS

    rows = [
        ("GPU", E.DEFAULT_GPU, "most common 2024-26 inference GPU; EcoLogits' 80 GB GPU"),
        ("Concurrent requests (batch size)", f"{E.DEFAULT_BATCH_SIZE:g}", "EcoLogits BATCH_SIZE"),
        ("Serving engine", f"{ENGINE_WORDS[E.DEFAULT_ENGINE]}; {ENGINE_WORDS[E.DEFAULT_ENGINE_BATCH1]} at batch 1",
         "ML.ENERGY v3 (current vLLM); LLM-Perf (batch-1 runs)"),
        ("Weights precision", f"{E.DEFAULT_PRECISION} ({E.DEFAULT_PRECISION_NO_BF16} on GPUs without bfloat16)",
         "EcoLogits 16-bit weights"),
        ("Output tokens", str(DEFAULT_OUTPUT_TOKENS), "mean response length of LMSYS-Chat-1M (Zheng et al. 2023)"),
        ("Region", "world average" if C.DEFAULT_ZONE == "WOR" else C.DEFAULT_ZONE, "EcoLogits electricity mixes"),
        ("PUE", f"{C.DEFAULT_PUE:g} (a cloud region: its provider's)", "industry average; provider reports"),
    ]
    return pd.DataFrame(rows, columns=["setting", "value", "source"])
