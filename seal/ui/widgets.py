"""Streamlit building blocks shared by the pages: errors, warning banners, export buttons, metrics."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from seal.ui import export
from seal.ui.format import plain


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "seal"


def show_error(exc: BaseException) -> None:
    """One clear sentence for the user: a SealError's own message, otherwise the error's type and text.

    The message often quotes the input (a model name from a log or a scenario file): it is shown literally
    (:func:`seal.ui.format.plain`), never as Markdown or HTML.
    """
    from seal.errors import SealError

    if isinstance(exc, SealError):
        from seal.ui.fleet import page_words     # the measurement / calibration CLI steps said as page controls

        st.error(plain(page_words(exc)))
    else:
        st.error(f"Unexpected {exc.__class__.__name__}: {plain(exc)}")


def bold(text: object) -> None:
    """``text`` (for instance "Request " + a log's request id) as one bold line, shown literally."""
    st.markdown(f"**{plain(text)}**")


def labelled(label: str, text: object) -> None:
    """A "- **label:** text" line: ``label`` is the page's own Markdown, ``text`` (log or user data) is literal."""
    st.markdown(f"- **{label}:** {plain(text)}")


def impact_tiles(tot: dict[str, float], where: str = "") -> None:
    """The five impacts life-cycle assessments report (:data:`seal.ui.format.IMPACTS`: facility energy, CO2e,
    ADPe, primary energy, water) as tiles with their 80 % ranges; ``tot``: sums of the scored columns (e.g.
    :func:`seal.ui.aggregate.totals`); ``where`` ("all prompts", "for the log") is added to the captions."""
    from seal.ui.format import IMPACTS, fmt_interval

    for col, (label, key, fmt, units, low, high, what) in zip(st.columns(len(IMPACTS)), IMPACTS):
        col.metric(label, fmt(tot.get(key)), help=what)
        caption = (f"80 %: {fmt_interval(tot.get(low), tot.get(high), units)}" if low and tot.get(low) is not None
                   else "no interval modelled" if not low else "")
        if caption:
            col.caption(caption + (f" · {where}" if where else ""))


def warning_banners(codes: pd.Series | Sequence[str] | str | None, counts: bool = False,
                    words: dict[str, str] | None = None) -> None:
    """One ``st.warning`` per distinct coded warning (``seal.errors.WARNINGS``), with how many rows it hit."""
    if codes is None:
        return
    series = pd.Series([codes]) if isinstance(codes, str) else pd.Series(list(codes) if not isinstance(codes, pd.Series) else codes)
    exploded = series.dropna().astype(str).str.split(";").explode().str.strip()
    exploded = exploded[exploded != ""]
    if exploded.empty:
        return
    warning_counts_banners(exploded.value_counts(sort=True).to_dict(), len(series) if counts else 1, words)


def warning_counts_banners(counts: dict[str, int], total: int, words: dict[str, str] | None = None) -> None:
    """One ``st.warning`` per code of ``counts`` (code -> rows it hit), saying "(n of total rows)" when
    ``total`` > 1 — for a summary that kept the counts rather than every row's codes. The banner is the code's
    sentence (:data:`seal.errors.WARNINGS`, or ``words`` for a page that knows better), never the code itself."""
    from seal.errors import WARNINGS

    known = {**WARNINGS, **(words or {})}
    for code, n in counts.items():
        # a known code's message is SEAL's own Markdown; anything else came with the data and is shown literally
        message = known[code] if code in known else plain(code)
        suffix = f" ({n:,} of {total:,} rows)".replace(",", "\u2009") if total > 1 else ""
        st.warning(f"{message}{suffix}", icon="⚠️")


def export_buttons(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str, page: str,
                   scenario: dict[str, Any] | None, report: Callable[[], bytes] | None, key: str) -> None:
    """Download buttons: CSV, Parquet, JSON of the results, the scenario file, and the HTML report.

    Data are produced when a button is clicked (callables), so large results cost nothing until asked for.
    """
    get = frame if callable(frame) else (lambda: frame)
    base = slug(name)
    cols = st.columns(5)
    cols[0].download_button("CSV", lambda: export.to_csv(get()), file_name=f"{base}.csv", mime="text/csv",
                            key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    cols[1].download_button("Parquet", lambda: export.to_parquet(get()), file_name=f"{base}.parquet",
                            mime="application/vnd.apache.parquet", key=f"{key}_parquet",
                            icon=":material/download:", on_click="ignore")
    cols[2].download_button("JSON", lambda: export.to_json(get()), file_name=f"{base}.json",
                            mime="application/json", key=f"{key}_json", icon=":material/download:", on_click="ignore")
    if scenario is not None:
        cols[3].download_button("Scenario (JSON)", export.scenario_to_json(page, scenario),
                                file_name=f"{base}-scenario.json", mime="application/json", key=f"{key}_scenario",
                                icon=":material/save:", on_click="ignore",
                                help="Load it back on this page to reproduce the run.")
    if report is not None:
        cols[4].download_button("HTML report", report, file_name=f"{base}-report.html", mime="text/html",
                                key=f"{key}_html", icon=":material/description:", on_click="ignore",
                                help="One self-contained file with the charts; opens offline.")


def scenario_loader(page: str, key: str, apply: Callable[[dict[str, Any]], None]) -> None:
    """An uploader for scenario files; a new file's inputs are passed to ``apply`` once (before widgets)."""
    import hashlib

    with st.expander("Load a scenario file"):
        up = st.file_uploader("Scenario file (JSON)", type=["json"], key=f"{key}_file")
    if up is None:
        return
    data = up.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    if st.session_state.get(f"{key}_applied") == digest:
        return
    st.session_state[f"{key}_applied"] = digest
    try:
        inputs = export.scenario_from_json(data, page=page)
        apply(inputs)
    except Exception as exc:  # noqa: BLE001 - shown to the user, nothing else changes
        show_error(exc)
        return
    st.rerun()


def preload_charts(key: str) -> None:
    """Draw an invisible 10-px Plotly figure so the browser loads the chart renderer with the page, not after
    the first click (the renderer is loaded lazily and takes a second or two on a cold browser)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(height=10, margin=dict(l=0, r=0, t=0, b=0), paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="rgba(0,0,0,0)", xaxis=dict(visible=False), yaxis=dict(visible=False))
    st.plotly_chart(fig, key=key, config={"staticPlot": True, "displayModeBar": False}, height=10)


def initial(key: str, **default: Any) -> dict[str, Any]:
    """The widget's default (``index=`` / ``value=``), always passed.

    Streamlit's browser side falls back to a widget's *declared* default when it re-creates the widget (for
    instance when content above it changes), so the declared default must be the intended one; a value in
    Session State (the user's choice, or a loaded scenario's, applied before an ``st.rerun()``) still wins.
    ``key`` documents which widget the default belongs to.
    """
    return default


def impact_tiles_in(tot: dict[str, float], units: dict[str, tuple[str, float]], where: str = "") -> None:
    """The five impacts as tiles, each with its 80 % range: facility energy, CO2e and water in the page's ``units``
    (:func:`seal.ui.units.page_units`), ADPe and primary energy in their own; ``tot``:
    :func:`seal.ui.units.page_totals`."""
    from seal.ui.format import IMPACTS, fmt_interval
    from seal.ui.units import fmt_in, fmt_range_in

    fixed = {"facility_energy_j": "energy", "total_g_co2e": "co2e", "water_ml": "water"}
    lows = {"water_ml": ("water_low_ml", "water_high_ml")}
    for col, (label, key, fmt, units_table, low, high, what) in zip(st.columns(len(IMPACTS)), IMPACTS):
        low, high = lows.get(key, (low, high))
        if key in fixed:
            unit = units[fixed[key]]
            col.metric(label, fmt_in(tot.get(key), unit), help=what)
            rng = fmt_range_in(tot.get(low), tot.get(high), unit) if low and tot.get(low) is not None else None
        else:
            col.metric(label, fmt(tot.get(key)), help=what)
            rng = fmt_interval(tot.get(low), tot.get(high), units_table) if low and tot.get(low) is not None else None
        col.caption((f"80 %: {rng}" if rng else "no interval") + (f" · {where}" if where else ""))


NO_DEPLOYMENT = "None (public benchmarks only)"


def deployment_choice(key: str, default: str | None = None, help_suffix: str = "") -> str | None:
    """The "Deployment" selectbox of the Estimate, Logs and What-if pages: "None (public benchmarks only)" and each
    calibrated deployment of the store (:func:`seal.ui.loaders.calibrations`); drawn only when there is at least
    one. Returns the chosen ``user:NAME`` (passed as ``deployment=`` to the page's seal calls) or ``None``.

    ``default`` is the first choice (e.g. the deployment a run on another page used); a choice kept in Session
    State that is no longer calibrated (removed meanwhile) falls back to none.
    """
    from seal.ui import loaders

    calibrated = sorted(loaders.usable_calibrations())
    if not calibrated:
        return None
    options = [NO_DEPLOYMENT, *calibrated]
    if key in st.session_state and st.session_state[key] not in options:
        st.session_state[key] = NO_DEPLOYMENT
    chosen = st.selectbox(
        "Deployment", options, key=key,
        **initial(key, index=options.index(default) if default in options else 0),
        help="A deployment calibrated on the Your fleet page: SEAL's estimate is corrected by what your own "
             "measurements of it showed, with the interval of that correction's errors." + help_suffix)
    return None if chosen == NO_DEPLOYMENT else str(chosen)


def calibration_report(payload: dict[str, Any], key: str) -> None:
    """One calibrated deployment: the correction in words, its agreement with the team's measurements before and
    after (each measurement predicted by a calibration fitted without it) and the parity plot."""
    from seal.estimator.calibrate import parity_frame
    from seal.ui import charts, fleet

    st.markdown(plain(fleet.correction_words(payload)))
    table = fleet.agreement_display(payload)
    config = {c: st.column_config.NumberColumn(c, format="%.1f") for c in fleet.AGREEMENT_WORDS.values()}
    config["Measurements"] = st.column_config.NumberColumn("Measurements", format="%d")
    st.dataframe(table, hide_index=True, column_config=config, key=f"{key}_agreement")
    st.caption("Typical error: the median of |estimate ÷ measured − 1|. After calibration every measurement is "
               "predicted by a correction fitted on the others only, so these errors are what a new request of the "
               "deployment can expect, not how well the correction fits its own data.")
    groups = fleet.agreement_display(payload, by_group=True)
    if groups["GPU and engine"].nunique() > 1:
        with st.expander("Per GPU and engine"):
            st.dataframe(groups, hide_index=True, column_config=config, key=f"{key}_by_group")
    parity = parity_frame(payload)
    if len(parity):
        per = "measurement window" if payload.get("interval_basis") == "window totals" else "request"
        st.plotly_chart(charts.calibration_parity(parity, per=per), key=f"{key}_parity")
        st.caption("Each point is one measurement (a request, or a measurement window): on the dashed line the "
                   "estimate equals what was measured; a factor of 10 off is one grid step.")
