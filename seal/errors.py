"""Errors a user can cause, and coded warnings.

A :class:`SealError` carries one clear sentence naming the problem and what is accepted; the CLI prints it
and exits non-zero, the UI shows it with ``st.error``. Warnings are short codes (``transferred-gpu``) with a
message, so a UI can turn them into banners; in result frames they are joined with ``;`` in ``warnings``.
"""
from __future__ import annotations


class SealError(ValueError):
    """A problem with the user's input or data, with a message meant for the user."""


class UnmappedTable(SealError):
    """A table whose token columns SEAL could not recognise; ``columns`` lists the file's columns, so a user (or
    the app's mapping step) can map them (``--columns input_tokens=...``)."""

    def __init__(self, message: str, columns: list[str] | None = None) -> None:
        super().__init__(message)
        self.columns = list(columns or [])


class DataSourceError(SealError):
    """A source could not be downloaded or parsed; the previous store stays usable."""


# Coded warnings: code -> message. Modules add their own codes here so the UI has one catalogue.
WARNINGS: dict[str, str] = {
    "transferred-gpu": "No benchmark rows for this GPU: the estimate is transferred from other GPUs through their datasheet specs.",
    "extrapolated-size": "The model is larger than any benchmarked model: the estimate is extrapolated.",
    "model-arch-not-released": "The model's size is not published: the estimate uses a range of plausible sizes.",
    "params-from-name": "The model is not in the catalogue: its size was read from its name (e.g. 8B, 8x7B, 30B-A3B) and given a ±10 % range.",
    "default-serving-setup": "No GPU or batch size given: a documented default serving set-up was assumed.",
    "latency-driven": "A measured latency was given: energy is power draw times the request's share of GPU time.",
    "annual-intensity-fallback": "Live grid intensity was unavailable: the annual average was used.",
    "market-based-factor": "A user-given market-based emission factor was used instead of the location-based grid intensity.",
    "gpu-time-unknown": "The request's GPU time was unknown: host energy used Google's measured host share and embodied carbon was left out.",
    "estimated-tokens": "Token counts were not in the input and were counted with a tokenizer.",
    "gpus-below-memory": "The GPU count given cannot hold the model's weights in GPU memory: the estimate runs the physics at that count, but a real deployment would need more GPUs (or offloading).",
    "adpe-pe-world-mix": "This region's grid has no abiotic-depletion (ADPe) or primary-energy factor of its own in EcoLogits' electricity mixes: the world value was used for those two impacts.",
    "default-embodied": "No published manufacturing footprint for this GPU: EcoLogits' generic 273 kg CO2e per GPU was used.",
    "embedding-call": "An embedding call: costed as one forward pass over its input tokens (prefill), with no output tokens and no decode.",
    "default-output-tokens": "No output length was given: a stated default number of output tokens was assumed.",
    "default-engine": "No serving engine given: current vLLM was assumed (eager transformers where batch_size is 1).",
    "engine-approximated": "This serving engine has no benchmark measurements: it was costed as current vLLM.",
    "native-precision": "No precision given: the model's weights were costed in the low-precision format they are published in (e.g. MXFP4, FP8).",
    "model-alias": "The model name is not in the catalogue as written: it was matched through an alias or a rewrite "
                   "of its spelling (provider or router prefix, date or version suffix, runtime tag, quantisation "
                   "suffix); check that the matched model is the one that ran.",
    "model-default-tag-size": "The model name gives no size: the local runtime's default tag was assumed (Ollama's "
                              "'latest', e.g. llama3.2 = 3 B in 4-bit Q4_K_M); give the tag (llama3.2:1b) or a "
                              "model map if another size ran.",
    "model-sibling-estimate": "This retired or renamed model is not in the EcoLogits catalogue: it was sized as its "
                              "sibling of the same line, to which EcoLogits gives the same estimated architecture.",
    "precision-from-name": "No precision given: the weights' format the model name states (a GGUF quantisation such as Q4_K_M, -FP8, -AWQ) or its runtime tag's default was used.",
    "model-map": "The model name was mapped by the user's model map (--model-map) to a catalogue model or a size.",
    "calibrated-deployment": "Calibrated to the deployment's own measurements (seal calibrate): SEAL's estimate times "
                             "the deployment's fitted correction, with the interval of its cross-validated errors.",
    "calibration-outside-coverage": "The deployment's calibration never measured this engine and GPU (or a batch "
                                    "size, length or model size this far out): its overall correction was used and "
                                    "the interval widened.",
    "shape-from-size": "The model's layer shape is not in SEAL's architecture table: layers, width and KV heads were inferred from its size.",
}


def join_codes(*codes: str) -> str:
    """Join warning codes into the ``warnings`` column format (``;``-separated, no empties, order kept)."""
    seen: list[str] = []
    for group in codes:
        for c in (group or "").split(";"):
            c = c.strip()
            if c and c not in seen:
                seen.append(c)
    return ";".join(seen)
