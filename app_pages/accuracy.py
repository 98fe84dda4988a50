"""Accuracy: how well the estimator predicts measurements it was not trained on, and how often the interval holds."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from seal.ui import aggregate, charts, loaders
from seal.ui.export import html_report
from seal.ui.format import plain
from seal.ui.widgets import calibration_report, export_buttons, show_error

PAGE = "Accuracy"
NO_STORE = ("There is no data store yet, so the validation cannot be re-run here and there are no parity plots: "
            "run `seal data pull` (downloads the benchmarks), then come back.")
NOT_PULLED = ("The benchmark sources are not pulled yet: this store holds only the offline sources that "
              "`seal data init` adds, and no benchmark runs, so the validation cannot be re-run here and there "
              "are no parity plots. Run `seal data pull` to download them (LLM-Perf, ML.ENERGY), then come back.")
SHIPPED = " Below: the validation shipped with the fitted model."


FRACTION_COLUMNS = ("mape", "median_ape", "bias", "coverage_80")  # fractions in seal.estimator.validate


# the validation's columns in words (the CSV of `seal validate --out` keeps the short names)
COLUMN_WORDS = {"mape": "Mean error", "median_ape": "Median error", "bias": "Bias",
                "coverage_80": "Inside the 80 % interval"}


def _percent_config(table: pd.DataFrame) -> dict:
    """Show the validation's fraction columns as percentages, labelled in words (the table is changed in place)."""
    config = {}
    for col in FRACTION_COLUMNS:
        if col in table:
            table[col] = 100.0 * pd.to_numeric(table[col], errors="coerce")
            config[col] = st.column_config.NumberColumn(COLUMN_WORDS.get(col, col) + " (%)", format="%.1f")
    if "n" in table:
        config["n"] = st.column_config.NumberColumn("Held-out runs", format="%d")
    if "note" in table:
        config["note"] = st.column_config.TextColumn("note", width="large")
    return config


def _has_benchmark_runs(stamp: tuple[str, float]) -> bool:
    """Whether the store holds benchmark runs to validate on (a store made by ``seal data init`` alone has none)."""
    if stamp[1] == 0.0:
        return False
    try:
        return not loaders.store_table("benchmark_runs").empty
    except loaders.Unavailable:
        return False


def _shipped_family() -> str | None:
    try:
        from seal.estimator.artifact import read_artifact

        return str(read_artifact().get("family"))
    except Exception:  # noqa: BLE001
        return None


def _headline(table: pd.DataFrame) -> pd.DataFrame:
    """The split rows over all sources (no per-GPU or sensitivity rows): what the charts draw."""
    t = table
    if "source" in t:
        t = t[t["source"].isin(["all", "paper"])]
    return t[~t["split"].astype(str).str.contains("[", regex=False) & ~t["split"].astype(str).str.contains("(", regex=False)]


def _source_pivot(table: pd.DataFrame, family: str | None, source: str) -> pd.DataFrame:
    """Median error (and coverage) per split and target for one source, the shipped family."""
    if "source" not in table or family is None:
        return table.head(0)
    t = table[(table["family"] == family) & (table["source"] == source)]
    t = t[~t["split"].astype(str).str.contains("(", regex=False)]
    return t[["split", "target", "n", "median_ape", "bias", "coverage_80"]]


def _coverage_chart(table: pd.DataFrame, family: str | None) -> go.Figure | None:
    """Share of held-out measurements inside the 80 % interval, per split and target, for the shipped family."""
    if not {"split", "target", "coverage_80"} <= set(table.columns):
        return None
    t = _headline(table)
    t = t[t["coverage_80"].notna() & t["target"].isin(["prefill", "decode", "request"])]
    if family and "family" in t and (t["family"] == family).any():
        t = t[t["family"] == family]
    if t.empty:
        return None
    t = t.assign(coverage_pct=100.0 * t["coverage_80"])
    return charts.grouped_bars(t, "split", "coverage_pct", "target", "Validation split",
                               "Held-out runs inside the 80 % interval (%)", reference=80.0,
                               reference_label="target 80 %")


def _error_chart(table: pd.DataFrame, family: str | None) -> go.Figure | None:
    """Median absolute percentage error per split: SEAL's families against EcoLogits' formula (request energy)."""
    if not {"split", "target", "median_ape", "family"} <= set(table.columns):
        return None
    t = _headline(table)
    t = t[(t["target"] == "request") & t["median_ape"].notna()]
    if t.empty:
        return None
    t = t.assign(median_ape_pct=100.0 * t["median_ape"])
    return charts.grouped_bars(t, "split", "median_ape_pct", "family", "Validation split",
                               "Median absolute error, request energy (%)", horizontal=True)


def _your_deployments() -> None:
    """Each calibrated deployment (Your fleet page): its agreement with the team's own measurements, before and
    after calibration (each measurement predicted without it), and its parity plot."""
    calibrated = loaders.calibrations()
    if not calibrated:
        return
    st.subheader("Your deployments")
    st.caption("Deployments calibrated on your own measurements (Your fleet page): how far SEAL from public "
               "benchmarks was from what you measured, and how far the calibrated estimate is on measurements it "
               "was not fitted on.")
    for deployment, payload in sorted(calibrated.items()):
        with st.container(border=True):
            st.markdown(f"**{plain(deployment)}**")
            calibration_report(payload, key=f"acc_cal_{deployment.removeprefix('user:')}")


st.title("Accuracy")
st.markdown(
    "SEAL is judged on measurements it has not seen. Each **split** holds out part of the benchmark runs, fits on "
    "the rest and predicts the held-out ones: *random K-fold* (interpolation), *leave one model family out*, "
    "*leave one GPU out* and *train on small models, test on larger ones* (extrapolation). For each: MAPE, median "
    "absolute percentage error, bias, and how many held-out measurements fall inside the 80 % interval. Beside "
    "them: the SEAL paper's published errors and EcoLogits' formula on the same rows.")

stamp = loaders.store_stamp()
table = loaders.shipped_validation()
has_runs = _has_benchmark_runs(stamp)
source_note = "stored in the shipped model artifact by `seal train`"
if not has_runs:
    st.info((NO_STORE if stamp[1] == 0.0 else NOT_PULLED) + (SHIPPED if table is not None else ""))
    if table is None:
        _your_deployments()
        st.stop()
else:
    label = "Run the validation" if table is None else "Re-run the validation on this store"
    if st.button(label, type="primary" if table is None else "secondary", key="acc_run",
                 help="Fits the model on each split's training part; takes a little while, then stays cached.") \
            or st.session_state.get("acc_ran"):
        try:
            with st.spinner("Cross-validating on the store's benchmark runs…"):
                fresh = loaders.validation(stamp)
            st.session_state["acc_ran"] = True
            if loaders.validation_usable(fresh):
                table, source_note = fresh, "computed now on this store's benchmark runs"
            else:   # too few runs: the shipped results stay
                st.error("The store has too few benchmark runs for a validation, so the shipped results are shown; "
                         "run `seal data pull` to download them all.")
        except Exception as exc:  # noqa: BLE001
            show_error(exc)
if table is not None:
    st.subheader("Validation splits")
    st.caption(f"Errors on held-out runs, {source_note}. \"Inside the 80 % interval\": the share of held-out runs "
               "inside the estimate's 80 % interval (target 80 %; see the note under the coverage chart for the splits "
               "below it).")
    shown = table.copy()
    st.dataframe(shown, hide_index=True, column_config=_percent_config(shown), key="acc_table")
    family = _shipped_family()
    fig_err = _error_chart(table, family)
    if fig_err is not None:
        st.markdown("**Error on held-out runs: SEAL's model families against EcoLogits' formula**")
        st.plotly_chart(fig_err, key="acc_errors")
        paper = table[table["family"] == "seal-paper"] if "family" in table else table.head(0)
        if len(paper):
            st.caption("SEAL paper (arXiv 2603.02949, published figures, MAPE): " + "; ".join(
                f"{r.split.replace('paper: ', '')} {r.target} {100 * r.mape:.0f} %" for r in paper.itertuples()))
    for source, title in (("mlenergy-v3", "Today's serving: current vLLM on H100 / B200 (ML.ENERGY v3 rows)"),
                          ("mlenergy-v2", "vLLM 2024 (ML.ENERGY v2 rows)"),
                          ("llm-perf", "Batch 1, eager transformers (LLM-Perf rows)")):
        pivot = _source_pivot(table, family, source)
        if len(pivot):
            st.markdown(f"**{title}** — energy per request, GPU power and GPU time, each predicted apart")
            shown_p = pivot.copy()
            st.dataframe(shown_p, hide_index=True, column_config=_percent_config(shown_p), key=f"acc_src_{source}")
    gpu_rows = table[table["split"].astype(str).str.startswith("leave-one-gpu-out[") & (table["target"] == "request")]
    if family is not None and len(gpu_rows):
        st.markdown("**Leave one GPU out** (H100 ↔ B200 for current vLLM): request energy per held-out GPU")
        shown_g = gpu_rows[gpu_rows["family"] == family][["split", "source", "n", "median_ape", "bias"]].copy()
        st.dataframe(shown_g, hide_index=True, column_config=_percent_config(shown_g), key="acc_gpu")
    fig_cov = _coverage_chart(table, family)
    coverage_note = aggregate.coverage_note(aggregate.coverage_shortfalls(table, family))
    if fig_cov is not None:
        st.markdown(f"**Interval coverage** (shipped model: {plain(family or 'unknown')})")
        st.plotly_chart(fig_cov, key="acc_coverage")
    if coverage_note:
        st.info(coverage_note, icon=":material/info:")

    st.subheader("Against what operators disclose")
    st.caption("Not a validation (operators publish neither model sizes nor batch sizes): SEAL's estimate for a "
               "stated stand-in request beside each published per-prompt figure. Every assumption is listed.")
    try:
        disc = loaders.disclosures()
        shown_d = disc[["disclosure", "quantity", "unit", "disclosed", "seal", "seal_low", "seal_high", "ratio",
                        "boundary", "assumptions"]]
        st.dataframe(shown_d, hide_index=True, key="acc_disclosures",
                     column_config={c: st.column_config.NumberColumn(c, format="%.3g")
                                    for c in ("disclosed", "seal", "seal_low", "seal_high", "ratio")})
    except Exception as exc:  # noqa: BLE001
        show_error(exc)

    st.subheader("Parity: predicted against measured")
    fig_parity = None
    splits = [s for s in table.get("split", pd.Series(dtype=str)).astype(str).unique() if not s.startswith("paper")]
    if splits and has_runs:
        chosen = st.selectbox("Split", splits, key="acc_split")
        try:
            with st.spinner("Held-out predictions for this split…"):
                par = loaders.parity(stamp, chosen)
        except Exception as exc:  # noqa: BLE001
            par = None
            show_error(exc)
        if par is not None and len(par):
            colour = st.radio("Colour by", [c for c in ("target", "source", "gpu") if c in par], horizontal=True,
                              key="acc_colour")
            fig_parity = charts.parity(par, "measured_j", "predicted_j", colour=colour)
            st.plotly_chart(fig_parity, key="acc_parity")
            st.caption(f"{len(par)} held-out predictions ({plain(par['family'].iloc[0]) if 'family' in par else ''}). "
                       "Points on the dashed line are exact; a factor of 2 off is one grid step on these log axes.")
    else:
        st.info("Parity plots need the store's benchmark runs: run `seal data pull`.")

    _your_deployments()

    st.markdown("**Export**")
    figures = [(n, f) for n, f in (("Errors by split", fig_err), ("Interval coverage", fig_cov),
                                   ("Parity", fig_parity)) if f is not None]
    export_buttons(table, "seal-validation", PAGE, None,
                   lambda: html_report("SEAL validation", figures=figures, tables=[("Splits", table)],
                                       notes=[coverage_note] if coverage_note else ()),
                   key="acc_export")
else:     # no validation table yet (the store's runs, before "Run the validation"): the team's deployments still show
    _your_deployments()
