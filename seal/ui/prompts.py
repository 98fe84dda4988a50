"""The Estimate page's prompts as requests: one output length per prompt (an example's typical length, the user's
edit, or counted from a pasted response), the frame passed to :func:`seal.estimate`, and the per-prompt result table
in the page's units with an 80 % interval for each figure. No estimation happens here."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from seal.ui.examples import example_for
from seal.ui.units import Unit, with_water_interval

PROMPT, OUTPUT, RESPONSE, FROM = "Prompt", "Output tokens", "Response (optional: paste it to count its tokens)", \
    "Output length from"


def prompt_rows(prompts: Sequence[str], default_tokens: int, overrides: Mapping[str, Any] | None = None,
                responses: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per prompt for the page's editable table: ``Prompt``, ``Output tokens`` (``<NA>`` where a response
    is pasted: it is counted), the response and where the output length comes from, in words.

    Args:
        prompts: the prompts as split on the page.
        default_tokens: the page's "Expected output tokens" (prompts with no other length).
        overrides: prompt -> output tokens the user typed (or a loaded scenario set).
        responses: prompt -> pasted response text.
    """
    overrides, responses = dict(overrides or {}), dict(responses or {})
    tokens, sources, texts = [], [], []
    for p in prompts:
        response = str(responses.get(p) or "").strip()
        example = example_for(p)
        if response:
            tokens.append(pd.NA)
            sources.append("counted from the pasted response")
        elif p in overrides and overrides[p] is not None:
            tokens.append(int(overrides[p]))
            sources.append("typed in this table")
        elif example is not None:
            tokens.append(example.output_tokens)
            sources.append(f"typical {example.name.lower()}: {example.source}")
        else:
            tokens.append(int(default_tokens))
            sources.append("“Expected output tokens” below")
        texts.append(response)
    return pd.DataFrame({PROMPT: list(prompts), OUTPUT: pd.array(tokens, dtype="Int64"), RESPONSE: texts,
                         FROM: sources})


def read_edits(shown: pd.DataFrame, edited: pd.DataFrame, overrides: Mapping[str, Any],
               responses: Mapping[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """The overrides and responses after the user edited the table ``shown`` into ``edited`` (same rows)."""
    overrides, responses = dict(overrides), dict(responses)
    for (_, before), (_, after) in zip(shown.iterrows(), edited.iterrows()):
        prompt = str(before[PROMPT])
        text = "" if pd.isna(after[RESPONSE]) else str(after[RESPONSE]).strip()
        if text:
            responses[prompt] = text
        else:
            responses.pop(prompt, None)
        new, old = after[OUTPUT], before[OUTPUT]
        if not pd.isna(new) and (pd.isna(old) or int(new) != int(old)) and int(new) >= 0:
            overrides[prompt] = int(new)
    return overrides, responses


def request_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The requests for :func:`seal.estimate`: ``request_id``, ``prompt``, ``output_tokens`` (NaN where a response
    is given) and ``response``."""
    n = len(rows)
    out = pd.DataFrame({"request_id": [f"p{i + 1}" for i in range(n)], "prompt": rows[PROMPT].astype(str).tolist(),
                        "output_tokens": pd.to_numeric(rows[OUTPUT], errors="coerce").astype(float).to_numpy()})
    response = rows[RESPONSE].astype(str).str.strip()
    if (response != "").any():
        out["response"] = response.where(response != "", None).to_numpy(dtype=object)
    return out


def _range(low: pd.Series, high: pd.Series, unit: Unit) -> list[str]:
    from seal.ui.format import sig_figures

    return [f"{sig_figures(lo / unit[1], 2)}–{sig_figures(hi / unit[1], 2)}" if np.isfinite(lo) and np.isfinite(hi) else "–"
            for lo, hi in zip(low.to_numpy(dtype=float), high.to_numpy(dtype=float))]


def result_table(result: pd.DataFrame, units: Mapping[str, Unit], width: int = 80,
                 output_from: Sequence[str] | None = None) -> pd.DataFrame:
    """Per prompt: prompt, tokens, where the output length came from (``output_from``, the page's words per row,
    else ``token_source`` in words), then facility energy, CO2e and water in the page's ``units``
    (:func:`seal.ui.units.page_units`), each with its 80 % interval."""
    from seal.ui.words import output_source_words

    frame = with_water_interval(result)
    out = pd.DataFrame(index=frame.index)
    if "prompt" in frame:
        text = frame["prompt"].astype("string").fillna("").str.replace(r"\s+", " ", regex=True)
        out["Prompt"] = text.where(text.str.len() <= width, text.str.slice(0, width - 1) + "…")
    out["Input tokens"] = pd.to_numeric(frame["input_tokens"], errors="coerce").astype("Int64")
    out["Output tokens"] = pd.to_numeric(frame["output_tokens"], errors="coerce").astype("Int64")
    if output_from is not None and len(output_from) == len(frame):
        out["Output tokens from"] = list(output_from)
    elif "token_source" in frame:
        out["Output tokens from"] = [output_source_words(s) for s in frame["token_source"]]
    for label, col, low, high, key in (
            ("Facility energy", "facility_energy_j", "facility_energy_low_j", "facility_energy_high_j", "energy"),
            ("CO2e", "total_g_co2e", "total_low_g_co2e", "total_high_g_co2e", "co2e"),
            ("Water", "water_ml", "water_low_ml", "water_high_ml", "water")):
        if col not in frame:
            continue
        unit = units[key]
        num = {c: pd.to_numeric(frame[c], errors="coerce").astype(float) for c in (col, low, high) if c in frame}
        out[f"{label} ({unit[0]})"] = num[col] / unit[1]
        if low in num and high in num:
            out[f"{label} 80 % ({unit[0]})"] = _range(num[low], num[high], unit)
    return out
