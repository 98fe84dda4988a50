"""Benchmarks: what the store holds, where it comes from, and the measured energy per token against model size."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from seal.ui import aggregate, charts, loaders
from seal.ui.export import html_report
from seal.ui.format import plain
from seal.ui.tables import number_format
from seal.ui.widgets import export_buttons

PAGE = "Benchmarks"
RUN_COLUMNS = ("source", "model_id", "params_b", "active_params_b", "precision", "quantization", "backend", "gpu",
               "gpu_count", "batch_size", "input_tokens", "output_tokens", "prefill_energy_j", "decode_energy_j",
               "request_energy_j", "energy_per_output_token_j", "energy_per_token_basis", "prefill_latency_s",
               "decode_latency_s", "task", "source_file")
FILTERS = (("source", "Source"), ("gpu", "GPU"), ("model_id", "Model"), ("precision", "Precision"))


def _sources() -> None:
    st.subheader("Sources")
    try:
        status = loaders.store_status()
    except loaders.Unavailable as exc:
        st.error(plain(exc))
        return
    try:
        from seal.data.sources import SOURCES

        about = pd.DataFrame([{"source": s.name, "licence": s.licence, "what it measured and how": s.description,
                               "downloaded": not s.offline} for s in SOURCES.values()])
        status = status.merge(about, on="source", how="left")
        order = ["source", "rows", "what it measured and how", "version", "licence", "pulled_at", "url", "sha256"]
        status = status[[c for c in order if c in status] + [c for c in status if c not in order]]
    except Exception:  # noqa: BLE001 - the registry only adds descriptions
        pass
    st.dataframe(status, hide_index=True, key="bench_status",
                 column_config={"url": st.column_config.LinkColumn("url"),
                                "what it measured and how": st.column_config.TextColumn(width="large"),
                                "rows": st.column_config.NumberColumn("rows", format="%d")})
    missing = status[(status["rows"] == 0)]["source"].tolist() if "rows" in status else []
    if missing:
        st.info(f"Not loaded yet: {plain(', '.join(map(str, missing)))}. The app works offline with the shipped "
                "fitted model; to explore the measurements, run `seal data pull` (downloads LLM-Perf, ML.ENERGY v2 "
                "and the Open LLM Leaderboard table from their public locations, or from a mirror with `--mirror`).")
    else:
        st.caption("Every downloaded source is loaded. `seal data pull` refreshes them; `seal data status` prints "
                   "this table.")


def _runs() -> pd.DataFrame | None:
    try:
        runs = loaders.store_table("benchmark_runs")
    except loaders.Unavailable as exc:
        st.info(f"{plain(exc)} Run `seal data pull` to download the benchmark runs.")
        return None
    if runs.empty:
        st.info("The store has no benchmark runs yet: run `seal data pull`.")
        return None
    return aggregate.energy_per_token(runs)


st.title("Benchmarks")
st.markdown("The public measurements SEAL learns from, as loaded in the local DuckDB store. Energies are GPU "
            "energy per request (per call at batch 1; a request's share of the batch in batched serving).")
_sources()

runs = _runs()
if runs is not None:
    st.subheader("Benchmark runs")
    cols = st.columns(len(FILTERS))
    filtered = runs
    for col, (field, label) in zip(cols, FILTERS):
        options = sorted(runs[field].dropna().astype(str).unique().tolist())
        chosen = col.multiselect(label, options, key=f"bench_{field}", placeholder="All")
        if chosen:
            filtered = filtered[filtered[field].astype(str).isin(chosen)]
    st.caption(f"{len(filtered)} of {len(runs)} runs.")
    if filtered.empty:
        st.warning("No run matches these filters; clear one of them.")
    else:
        colour = st.radio("Colour by", ["source", "gpu", "precision", "model_family"], horizontal=True,
                          key="bench_colour")
        plot = filtered.assign(hover=filtered["model_id"].astype(str) + " · " + filtered["gpu"].astype(str)
                               + " · batch " + filtered["batch_size"].round(1).astype(str))
        fig = charts.scatter_size(plot, "params_b", "energy_per_output_token_j", colour,
                                  x_title="Model size (billion parameters, log scale)",
                                  y_title="GPU energy per output token (J/token, log scale)", hover="hover")
        st.plotly_chart(fig, key="bench_scatter")
        st.caption("LLM-Perf splits prefill and decode: its points are decode energy per generated token (batch 1). "
                   "ML.ENERGY reports the whole request: its points include prefill, shared across the batch.")
        shown = filtered[[c for c in RUN_COLUMNS if c in filtered]]
        st.dataframe(shown, hide_index=True, column_config=number_format(shown), key="bench_table")
        st.markdown("**Export**")
        export_buttons(shown, "seal-benchmark-runs", PAGE, None,
                       lambda: html_report("SEAL benchmark runs", figures=[("Energy per token", fig)],
                                           tables=[("Runs (first 500)", shown.head(500))]),
                       key="bench_export")
