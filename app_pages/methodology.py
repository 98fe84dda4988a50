"""Methodology: the pipeline and its formulas with units, every default and its source, data sources, limits."""
from __future__ import annotations

import inspect
import re

import pandas as pd
import streamlit as st

from seal.ui import loaders
from seal.ui.format import plain

DOC = "methodology.md"     # package data of seal.ui (read with importlib.resources: works from an installed wheel)


@st.cache_data(show_spinner=False)
def _sections(text: str) -> dict[str, str]:
    """``## Heading`` -> body of seal/ui/methodology.md (HTML comments dropped)."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    parts = re.split(r"^## +(.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _functions(module_name: str) -> list[tuple[str, str, str]]:
    """(name, signature, docstring) of the public functions of a module, in source order."""
    import importlib

    module = importlib.import_module(module_name)
    out = []
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if fn.__module__ == module.__name__ and not name.startswith("_"):
            try:
                line = inspect.getsourcelines(fn)[1]
            except (OSError, TypeError):
                line = 0
            out.append((line, name, str(inspect.signature(fn)), inspect.getdoc(fn) or ""))
    return [(n, s, d) for _, n, s, d in sorted(out)]


def _formulas(module_name: str, title: str) -> None:
    with st.expander(f"{title} — `{module_name}`, function by function"):
        try:
            import importlib

            doc = inspect.getdoc(importlib.import_module(module_name)) or ""
            if doc:
                st.markdown(doc.split("\n\n")[0])
                code = [b for b in doc.split("\n\n") if b.startswith("    ")]
                for block in code:
                    st.code(inspect.cleandoc(block), language=None)
            for name, _signature, docstring in _functions(module_name):
                st.markdown(f"**`{name}`**")
                st.caption(docstring.split("\n\n")[0] if docstring else "(no docstring)")
        except Exception as exc:  # noqa: BLE001 - one module failing to import must not break the page
            st.info(f"{module_name} is not available ({exc.__class__.__name__}: {plain(exc)}).")


def _table(title: str, load, columns: list[str] | None = None, key: str = "") -> None:
    st.markdown(f"**{title}**")
    try:
        frame = pd.DataFrame(load())
    except Exception as exc:  # noqa: BLE001
        st.info(f"Not available ({exc.__class__.__name__}: {plain(exc)}).")
        return
    if columns:
        frame = frame[[c for c in columns if c in frame]]
    st.dataframe(frame, hide_index=True, key=key)


st.title("Methodology")
try:
    from importlib import resources

    sections = _sections(resources.files("seal.ui").joinpath(DOC).read_text(encoding="utf-8"))
except OSError:
    sections = {}
    st.error(f"{DOC} is missing from this installation; the tables below still come from the code.")

for heading in ("Pipeline", "GPU energy: physics first, learned corrections second", "Uncertainty"):
    if heading in sections:
        st.header(heading)
        st.markdown(sections[heading])
_formulas("seal.estimator.physics", "Energy formulas")

heading = "From GPU energy to CO2e"
if heading in sections:
    st.header(heading)
    st.markdown(sections[heading])
_formulas("seal.carbon.impacts", "Carbon formulas")

st.header("Defaults and their sources")


def _carbon_defaults():
    from seal.carbon import defaults_table

    return defaults_table()


def _estimator_defaults():
    """Every constant of the estimator with its unit and source (seal.estimator.defaults.defaults_table)."""
    from seal.estimator.defaults import defaults_table

    return defaults_table()


def _fitted_constants():
    """The shipped artifact's fitted physics constants (engines, power curve, MoE and precision costs)."""
    from seal.estimator.artifact import read_artifact

    params = read_artifact()["model"]["params"]
    return pd.DataFrame({"constant": list(params), "fitted value": [f"{v:.4g}" for v in params.values()]})


def _shapes():
    from seal.estimator.shapes import load_architectures

    return load_architectures()


def _request_defaults():
    """What a request that says nothing gets: the same on the Estimate page, in the CLI and in the API."""
    from seal.ui.words import request_defaults_table

    return request_defaults_table()


def _example_lengths():
    from seal.ui.examples import EXAMPLES

    return pd.DataFrame({"task": [e.name for e in EXAMPLES], "typical output tokens": [e.output_tokens for e in EXAMPLES],
                         "source": [e.source for e in EXAMPLES]})


_table("A request that says nothing (the Estimate page, `seal estimate` and `seal.estimate` alike)", _request_defaults,
       key="meth_request_defaults")
_table("Typical output lengths of the Estimate page's example tasks", _example_lengths, key="meth_example_lengths")
_table("Carbon stage", _carbon_defaults, key="meth_carbon_defaults")
_table("Estimator constants and the default serving set-up (when the request does not say)", _estimator_defaults,
       key="meth_est_defaults")
_table("Fitted physics constants (shipped artifact)", _fitted_constants, key="meth_fitted")
_table("Published model shapes (seal/data/facts/model_architectures.csv)", _shapes,
       ["model_id", "family", "params_b", "active_params_b", "layers", "hidden_size", "attention_heads", "kv_heads",
        "experts_total", "experts_per_token", "sliding_window_layers", "kv_lora_rank", "native_precision", "source"],
       key="meth_shapes")
_table("GPUs (datasheet facts, seal/data/facts/gpus.csv)", loaders.gpus,
       ["gpu", "vendor", "architecture", "memory_gb", "memory_bandwidth_gb_s", "interconnect_gb_s",
        "bf16_dense_tflops", "fp8_dense_tflops", "fp4_dense_tflops", "tdp_w", "release_year",
        "embodied_kg_co2e", "source"], key="meth_gpus")


def _cloud():
    from seal.carbon import load_cloud_regions

    return load_cloud_regions()


_table("Cloud regions (seal/data/facts/cloud_regions.csv)", _cloud,
       ["provider", "region", "location", "grid_zone", "pue", "pue_low", "pue_high", "wue_l_per_kwh", "source"],
       key="meth_cloud")


def _warnings():
    from seal.errors import WARNINGS

    return pd.DataFrame({"code": list(WARNINGS), "meaning": list(WARNINGS.values())})


_table("Warnings an estimate can carry", _warnings, key="meth_warnings")

st.header("Data sources")


def _sources():
    from seal.data.sources import SOURCES

    return pd.DataFrame([{"source": s.name, "version": s.version, "licence": s.licence, "url": s.base_url,
                          "what it holds": s.description, "how it arrives": "package / repository (offline)"
                          if s.offline else "`seal data pull`"} for s in SOURCES.values()])


_table("Sources, versions and licences", _sources, key="meth_sources")
st.caption("Raw benchmark files are never shipped with SEAL: `seal data pull` downloads them from their public "
           "locations (with sha256 recorded). The fitted model in seal/estimator/artifacts is SEAL's own artifact.")

if "Limits" in sections:
    st.header("Limits")
    st.markdown(sections["Limits"])
