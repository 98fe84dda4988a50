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


def _pull_action(missing: list[str]) -> None:
    """The one action a fresh install needs: the exact command that downloads the benchmark sources."""
    st.info(f"The benchmark sources are not pulled yet ({plain(', '.join(map(str, missing)))}). Estimates work "
            "offline with the shipped fitted model; to explore the measurements (and re-run the validation on the "
            "Accuracy page), run `seal data pull` once in the SEAL folder, then reload this page. It downloads LLM-Perf, "
            "ML.ENERGY and the Open LLM Leaderboard table from their public locations (`--mirror` for a mirror).",
            icon=":material/download:")
    st.code(loaders.PULL_COMMAND, language="bash")


def _shipped_facts() -> None:
    """What ships with SEAL and needs no download: the GPU table, the regions, the validation."""
    st.subheader("Shipped with SEAL (no download needed)")
    tabs = st.tabs(["GPUs", "Regions", "Validation"])
    with tabs[0]:
        try:
            gpus = loaders.gpus()
            st.dataframe(gpus, hide_index=True, key="bench_gpus", column_config=number_format(gpus))
            st.caption(f"{len(gpus)} GPUs: memory, bandwidth, power and manufacturing footprint, each with its source.")
        except loaders.Unavailable as exc:
            st.error(plain(exc))
    with tabs[1]:
        try:
            regions = loaders.regions()[["region", "label", "grid_intensity_g_per_kwh"]]
            st.dataframe(regions, hide_index=True, key="bench_regions",
                         column_config={"grid_intensity_g_per_kwh": st.column_config.NumberColumn(
                             "grid intensity (g CO2e/kWh)", format="%.0f")})
            st.caption(f"{len(regions)} regions: countries' annual grid intensity and cloud regions (with their PUE).")
        except loaders.Unavailable as exc:
            st.error(plain(exc))
    with tabs[2]:
        table = loaders.shipped_validation()
        if table is None:
            st.info("This installation has no shipped validation table.")
        else:
            st.dataframe(table, hide_index=True, key="bench_validation", column_config=number_format(table))
            st.caption("Errors on held-out benchmark runs, stored with the fitted model; the Accuracy page explains "
                       "them.")


def _sources() -> list[str]:
    """The sources table; returns the benchmark sources with no rows (not pulled yet)."""
    st.subheader("Sources")
    try:
        status = loaders.store_status()
    except loaders.Unavailable as exc:
        st.error(plain(exc))
        return []
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
    if "downloaded" in status:    # the offline sources `seal data init` adds are not what is missing
        downloaded = status["downloaded"].astype("boolean").fillna(True).astype(bool)
        missing = status[(status["rows"] == 0) & downloaded]["source"].tolist()
    if not missing:
        st.caption("Every downloaded source is loaded. `seal data pull` refreshes them; `seal data status` prints "
                   "this table.")
    return missing


def _runs() -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """``(runs, yours)``: the store's public benchmark runs with your imported measurements (``user:NAME``
    sources, Your fleet page) after them, or None when there is neither (the page shows the pull action instead);
    ``yours``: the imported rows alone."""
    try:
        public = loaders.store_table("benchmark_runs")
    except loaders.Unavailable:
        public = pd.DataFrame()
    try:
        yours = loaders.user_table("user_runs")
    except loaders.Unavailable as exc:
        st.error(plain(exc))
        yours = pd.DataFrame()
    parts = [f for f in (public, yours) if len(f)]
    if not parts:
        return None, yours
    runs = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return aggregate.energy_per_token(runs), yours


def _yours_line(yours: pd.DataFrame) -> str:
    """ "30 of them are your own measurements (user:my-fleet: 30 rows), ..." or ""."""
    if not len(yours):
        return ""
    per = yours["source"].astype(str).value_counts().sort_index()
    listed = ", ".join(f"{s}: {n:,} row{'s' if n != 1 else ''}" for s, n in per.items())
    return (f"{len(yours):,} of them are your own imported measurements ({listed}; Your fleet page): they calibrate "
            "your deployments and are not part of what SEAL learns from.")


st.title("Benchmarks")
st.markdown("The public measurements SEAL learns from, as loaded in the local DuckDB store, beside the ones you "
            "imported on the Your fleet page. Energies are GPU energy per request (per call at batch 1; a request's "
            "share of the batch in batched serving).")
missing = _sources()
runs, yours = _runs()
if runs is None or missing or len(runs) == len(yours):
    _pull_action(missing or ["benchmark runs"])
if runs is None:
    _shipped_facts()
else:
    st.subheader("Benchmark runs")
    cols = st.columns(len(FILTERS))
    filtered = runs
    for col, (field, label) in zip(cols, FILTERS):
        options = sorted(runs[field].dropna().astype(str).unique().tolist())
        chosen = col.multiselect(label, options, key=f"bench_{field}", placeholder="All")
        if chosen:
            filtered = filtered[filtered[field].astype(str).isin(chosen)]
    st.caption(f"{len(filtered)} of {len(runs)} runs.")
    if len(yours):
        st.caption(plain(_yours_line(yours)))
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
