"""Plotly figures for the pages: Okabe–Ito colour-blind-safe palette, units on every axis, SI prefixes.

Each function takes a plain frame (result rows or an aggregate from :mod:`seal.ui.aggregate`) and returns a
``plotly.graph_objects.Figure``; axis units are chosen from the data's magnitude (:mod:`seal.ui.format`).

Plotly renders a subset of HTML (``<a href>``, ``<b>``, ``<br>``, entities) in every text it draws, so each label
that comes from the data (model, app, user, prompt, source names) goes through :func:`texts` / :func:`text` first.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from seal.ui.format import ENERGY_UNITS, MASS_UNITS, axis_unit, fmt_quantity

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000",
}
PALETTE: tuple[str, ...] = (
    OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"], OKABE_ITO["vermillion"],
    OKABE_ITO["sky_blue"], OKABE_ITO["reddish_purple"], OKABE_ITO["yellow"], OKABE_ITO["black"],
)
PHASE_COLOURS: dict[str, str] = {
    "Prefill": OKABE_ITO["blue"], "Decode": OKABE_ITO["orange"], "Embodied": OKABE_ITO["bluish_green"],
}
INCREASE, DECREASE, TOTAL = OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"], OKABE_ITO["blue"]


def style(fig: go.Figure, x_title: str | None = None, y_title: str | None = None,
          title: str | None = None, height: int | None = None) -> go.Figure:
    """The common look: white template, the palette, axis titles (with units), compact margins."""
    fig.update_layout(
        template="plotly_white", colorway=list(PALETTE), margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        font=dict(size=13),
    )
    if title:
        fig.update_layout(title=dict(text=title, x=0, xanchor="left"))
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    if height:
        fig.update_layout(height=height)
    return fig


def text(value: object) -> str:
    """A data label as Plotly should show it: ``<``, ``>`` and ``&`` escaped, so it is never markup."""
    return html.escape(str(value), quote=False)


def texts(values: Iterable[object]) -> list[str]:
    """:func:`text` of each value (category labels, tick texts, hover texts)."""
    return [text(v) for v in values]


def _short(labels: Sequence[str], width: int = 40) -> list[str]:
    """Numbered one-line labels cut to ``width`` characters, then escaped (never cut inside an entity)."""
    out = []
    for i, s in enumerate(labels, start=1):
        s = " ".join(str(s).split())
        out.append(f"{i}. " + text(s if len(s) <= width else s[: width - 1] + "…"))
    return out


def phase_bars(split: pd.DataFrame, labels: Sequence[str]) -> go.Figure:
    """One horizontal bar per prompt, stacked prefill / decode / embodied CO2e.

    ``split`` has ``prefill_g_co2e``, ``decode_g_co2e``, ``embodied_g_co2e`` (g) in the order of ``labels``.
    """
    totals = split[["prefill_g_co2e", "decode_g_co2e", "embodied_g_co2e"]].sum(axis=1)
    unit, size = axis_unit(totals, MASS_UNITS)
    y = _short(labels)
    fig = go.Figure()
    for name, col in (("Prefill", "prefill_g_co2e"), ("Decode", "decode_g_co2e"), ("Embodied", "embodied_g_co2e")):
        values = split[col].to_numpy(dtype=float)
        fig.add_bar(
            y=y, x=values / size, name=name, orientation="h", marker_color=PHASE_COLOURS[name],
            hovertemplate=f"{name}: %{{x:.3g}} {unit} CO2e<extra>%{{y}}</extra>",
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    return style(fig, x_title=f"CO2e per prompt ({unit})", y_title="Prompt",
                 height=max(220, 80 + 42 * len(y)))


def waterfall(layers: pd.DataFrame, label: str = "layer", value: str = "g_co2e",
              measure: str | None = "measure", unit_kind: str = "mass") -> go.Figure:
    """Boundary waterfall: each layer's increment, then the total.

    ``layers`` has one row per step with ``label`` and ``value`` columns (base unit: g CO2e, or J with
    ``unit_kind="energy"``), and optionally ``measure`` ("relative" / "total").
    """
    units = MASS_UNITS if unit_kind == "mass" else ENERGY_UNITS
    values = pd.to_numeric(layers[value], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    measures = (layers[measure].astype(str).tolist() if measure and measure in layers
                else ["relative"] * (len(layers) - 1) + ["total"])
    running = np.cumsum([0.0 if m == "total" else v for m, v in zip(measures, values)])
    unit, size = axis_unit(np.r_[values, running], units)
    fig = go.Figure(go.Waterfall(
        x=texts(layers[label]), y=values / size, measure=measures,
        text=[fmt_quantity(v, units) for v in values], textposition="outside",
        increasing=dict(marker=dict(color=INCREASE)), decreasing=dict(marker=dict(color=DECREASE)),
        totals=dict(marker=dict(color=TOTAL)), connector=dict(line=dict(color="#888", width=1)),
        hovertemplate=f"%{{x}}: %{{y:.3g}} {unit}<extra></extra>",
    ))
    quantity = "CO2e" if unit_kind == "mass" else "Energy"
    return style(fig, x_title="Boundary layer", y_title=f"{quantity} ({unit})", height=380)


def bars(frame: pd.DataFrame, x: str, y: str, x_title: str, units=MASS_UNITS, quantity: str = "CO2e",
         low: str | None = None, high: str | None = None, horizontal: bool = False,
         colour: str | None = None) -> go.Figure:
    """Bars of ``y`` (base unit) per ``x``, with optional interval whiskers from ``low`` / ``high``."""
    vals = pd.to_numeric(frame[y], errors="coerce").to_numpy(dtype=float)
    hi_vals = pd.to_numeric(frame[high], errors="coerce").to_numpy(dtype=float) if high else vals
    unit, size = axis_unit(np.r_[vals, hi_vals], units)
    error = None
    if low and high:
        lo = pd.to_numeric(frame[low], errors="coerce").to_numpy(dtype=float)
        error = dict(type="data", symmetric=False, array=(hi_vals - vals) / size,
                     arrayminus=(vals - lo) / size, color="#444", thickness=1.2)
    cats = texts(frame[x])
    kwargs = dict(marker_color=colour or PALETTE[0], name=quantity)
    if horizontal:
        fig = go.Figure(go.Bar(y=cats, x=vals / size, orientation="h", error_x=error,
                               hovertemplate=f"%{{y}}: %{{x:.3g}} {unit}<extra></extra>", **kwargs))
        fig.update_yaxes(autorange="reversed")
        return style(fig, x_title=f"{quantity} ({unit})", y_title=x_title,
                     height=max(240, 80 + 28 * len(cats)))
    fig = go.Figure(go.Bar(x=cats, y=vals / size, error_y=error,
                           hovertemplate=f"%{{x}}: %{{y:.3g}} {unit}<extra></extra>", **kwargs))
    return style(fig, x_title=x_title, y_title=f"{quantity} ({unit})", height=360)


def time_bars(frame: pd.DataFrame, time: str = "timestamp", y: str = "total_g_co2e",
              low: str = "total_low_g_co2e", high: str = "total_high_g_co2e", freq_label: str = "hour") -> go.Figure:
    """CO2e per time bucket, with the 80 % interval as a shaded band."""
    vals = pd.to_numeric(frame[y], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(frame[high], errors="coerce").to_numpy(dtype=float) if high in frame else vals
    lo = pd.to_numeric(frame[low], errors="coerce").to_numpy(dtype=float) if low in frame else vals
    unit, size = axis_unit(np.r_[vals, hi], MASS_UNITS)
    t = pd.to_datetime(frame[time], utc=True)
    fig = go.Figure(go.Bar(
        x=t, y=vals / size, name="CO2e", marker_color=PALETTE[0],
        error_y=dict(type="data", symmetric=False, array=(hi - vals) / size, arrayminus=(vals - lo) / size,
                     color="#444", thickness=1.2),
        customdata=np.c_[lo / size, hi / size],
        hovertemplate=f"%{{x}}: %{{y:.3g}} {unit} (80 %: %{{customdata[0]:.3g}}–%{{customdata[1]:.3g}})<extra></extra>"))
    return style(fig, x_title=f"Time (UTC, per {freq_label})", y_title=f"CO2e per {freq_label} ({unit})", height=360)


def histogram(values_g: pd.Series, title_quantity: str = "CO2e per request", bins: int = 50) -> go.Figure:
    """Distribution of per-request CO2e (values in g) on log-spaced bins, binned here so that a million
    requests send only ``bins`` bars to the browser."""
    v = pd.to_numeric(values_g, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    table = pd.DataFrame({"low_g": [], "high_g": [], "requests": []})
    if v.size:
        lo, hi = np.log10(v.min()), np.log10(v.max())
        edges = np.logspace(lo, hi if hi > lo else lo + 1e-3, bins + 1)
        counts, edges = np.histogram(v, bins=edges)
        table = pd.DataFrame({"low_g": edges[:-1], "high_g": edges[1:], "requests": counts})
    return histogram_bins(table, title_quantity)


def histogram_bins(hist: pd.DataFrame, title_quantity: str = "CO2e per request") -> go.Figure:
    """Requests per CO2e bin as log-x bars: ``hist`` has ``low_g``, ``high_g`` (bin edges, g) and ``requests``
    (e.g. :meth:`seal.summary.LogSummary.histogram`, which counts bins batch by batch)."""
    counts = hist["requests"].to_numpy(dtype=float)
    lo, hi = hist["low_g"].to_numpy(dtype=float), hist["high_g"].to_numpy(dtype=float)
    centres = np.sqrt(lo * hi)
    median = centres[np.searchsorted(np.cumsum(counts), counts.sum() / 2)] if counts.sum() else 0.0
    unit, size = axis_unit([median], MASS_UNITS)
    fig = go.Figure()
    if len(hist):
        fig.add_bar(x=centres / size, y=counts, width=(hi - lo) / size, marker_color=PALETTE[0],
                    customdata=np.c_[lo / size, hi / size], name="requests",
                    hovertemplate=f"%{{customdata[0]:.3g}}–%{{customdata[1]:.3g}} {unit}: "
                                  "%{y} requests<extra></extra>")
    fig.update_xaxes(type="log")
    return style(fig, x_title=f"{title_quantity} ({unit}, log scale)", y_title="Requests (count)", height=340)


def tornado(sens: pd.DataFrame, base_g: float) -> go.Figure:
    """Sensitivity: per assumption, the total at its low and high setting around the base (g CO2e), on a log
    axis (a ×10 change and a ÷10 change are bars of the same length, so one large swing does not flatten the
    rest), each bar labelled outside its end with the setting and its total.

    ``sens`` columns: ``parameter``, ``low_label``, ``high_label``, ``low_total_g_co2e``, ``high_total_g_co2e``.
    """
    s = sens.copy()
    s = s[(s["low_total_g_co2e"] > 0) & (s["high_total_g_co2e"] > 0)]
    s["span"] = (np.log(s["high_total_g_co2e"]) - np.log(s["low_total_g_co2e"])).abs()
    s = s.sort_values("span", ascending=True)
    values = np.r_[s["low_total_g_co2e"], s["high_total_g_co2e"], [base_g]].astype(float)
    values = values[np.isfinite(values) & (values > 0)]
    unit, size = axis_unit([base_g] if base_g > 0 else values, MASS_UNITS)
    fig = go.Figure()
    for side, colour in (("low", OKABE_ITO["bluish_green"]), ("high", OKABE_ITO["vermillion"])):
        vals = s[f"{side}_total_g_co2e"].to_numpy(dtype=float)
        labels = [f"{text(lab)} · {fmt_quantity(v, MASS_UNITS)}" for lab, v in zip(s[f"{side}_label"], vals)]
        # a bar ending left of the base puts its label on the left, one ending right on the right
        position = ["outside" for _ in vals]
        fig.add_bar(
            y=texts(s["parameter"]), x=(vals - base_g) / size, base=base_g / size, orientation="h",
            name=f"{side} setting", marker_color=colour, text=labels, textposition=position,
            cliponaxis=False, textfont=dict(size=12), customdata=vals / size,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    if len(values):
        lo, hi = np.log10(values.min() / size), np.log10(values.max() / size)
        pad = max(0.6, 0.45 * (hi - lo))       # room for the labels outside the bars' ends (log decades)
        fig.update_xaxes(type="log", range=[lo - pad, hi + pad])
    else:
        fig.update_xaxes(type="log")
    fig.add_vline(x=base_g / size, line=dict(color="#222", dash="dot"),
                  annotation_text="scenario 1", annotation_position="top")
    fig.update_layout(barmode="overlay", uniformtext=dict(minsize=11, mode="show"))
    fig.update_yaxes(automargin=True)
    fig = style(fig, x_title=f"Total CO2e ({unit}, log scale)", y_title="Assumption",
                height=max(280, 100 + 56 * len(s)))
    fig.update_layout(margin=dict(l=10, r=30, t=40, b=10))
    return fig


def pareto(points: pd.DataFrame, x: str = "total_g_co2e", y: str = "quality", label: str = "label",
           front: str = "pareto", y_title: str = "Open LLM Leaderboard average score (%)") -> go.Figure:
    """Carbon (x, g CO2e, log) against quality (y), the Pareto-optimal points joined by a line."""
    p = points.dropna(subset=[x, y])
    p = p[p[x] > 0]
    unit, size = axis_unit([p[x].min()] if len(p) else [0.0], MASS_UNITS)  # log axis: every value >= 1 unit
    short = p[label].astype(str).str.split("/").str[-1].str.slice(0, 28)
    fig = go.Figure()
    fig.add_scatter(x=p[x] / size, y=p[y], mode="markers", name="configuration",
                    marker=dict(color=OKABE_ITO["sky_blue"], size=9, line=dict(color="#333", width=0.5)),
                    text=texts(p[label]),
                    hovertemplate=f"%{{text}}<br>%{{x:.3g}} {unit}, quality %{{y:.1f}}<extra></extra>")
    if front in p:
        f = p[p[front].astype(bool)].sort_values(x)
        fig.add_scatter(x=f[x] / size, y=f[y], mode="lines+markers+text", name="Pareto front",
                        line=dict(color=OKABE_ITO["vermillion"]), marker=dict(size=11, color=OKABE_ITO["vermillion"]),
                        text=texts(short[f.index]), textposition=["top right"] + ["top left"] * (len(f) - 1),
                        hovertemplate=f"%{{text}}<br>%{{x:.3g}} {unit}, quality %{{y:.1f}}<extra></extra>")
    fig.update_xaxes(type="log", dtick="D2")
    return style(fig, x_title=f"Total CO2e ({unit}, log scale)", y_title=y_title, height=440)


def parity(frame: pd.DataFrame, measured: str, predicted: str, colour: str | None = None,
           low: str | None = None, high: str | None = None) -> go.Figure:
    """Predicted against measured energy (J, log–log), with the y = x line; ``colour`` groups points."""
    f = frame.dropna(subset=[measured, predicted])
    f = f[(f[measured] > 0) & (f[predicted] > 0)]
    unit, size = axis_unit([np.median(f[measured])] if len(f) else [0.0], ENERGY_UNITS)  # log axes: the median's unit
    fig = go.Figure()
    groups = [(None, f)] if not colour or colour not in f else list(f.groupby(colour, sort=True))
    for i, (name, g) in enumerate(groups):
        err = None
        if low and high and low in g and high in g:
            err = dict(type="data", symmetric=False, array=(g[high] - g[predicted]) / size,
                       arrayminus=(g[predicted] - g[low]) / size, thickness=0.6, width=0,
                       color=PALETTE[i % len(PALETTE)])
        fig.add_scatter(x=g[measured] / size, y=g[predicted] / size, mode="markers", error_y=err,
                        name=text(name) if name is not None else "runs",
                        marker=dict(color=PALETTE[i % len(PALETTE)], size=6, opacity=0.75),
                        hovertemplate=f"measured %{{x:.3g}} {unit}<br>predicted %{{y:.3g}} {unit}<extra></extra>")
    _identity(fig, min(f[measured].min(), f[predicted].min()) / size if len(f) else None,
              max(f[measured].max(), f[predicted].max()) / size if len(f) else None, "y = x")
    return style(fig, x_title=f"Measured GPU energy per request ({unit})",
                 y_title=f"Predicted GPU energy per request ({unit})", height=460)


def _identity(fig: go.Figure, lo: float | None, hi: float | None, name: str) -> None:
    """A parity plot's y = x line from ``lo`` to ``hi`` (none when None) and its log-log axes."""
    if lo is not None:
        fig.add_scatter(x=[lo, hi], y=[lo, hi], mode="lines", name=name, line=dict(color="#222", dash="dash", width=1))
    fig.update_xaxes(type="log", dtick=1)
    fig.update_yaxes(type="log", dtick=1)


def calibration_parity(frame: pd.DataFrame, per: str = "request") -> go.Figure:
    """A deployment's calibration on its own measurements (:func:`seal.estimator.calibrate.parity_frame`): measured
    GPU energy per request (``measured_j``) on x, SEAL from public benchmarks (``seal_j``, before) and the
    calibrated estimate (``calibrated_cv_j``, each measurement predicted by a calibration fitted without it) on y,
    log-log, with the y = x line."""
    cols = [c for c in ("measured_j", "seal_j", "calibrated_cv_j") if c in frame]
    f = frame[cols].apply(pd.to_numeric, errors="coerce") if cols else pd.DataFrame()
    values = f.to_numpy(dtype=float).ravel() if len(f) else np.array([])
    values = values[np.isfinite(values) & (values > 0)]
    unit, size = axis_unit([np.median(values)] if len(values) else [0.0], ENERGY_UNITS)
    fig = go.Figure()
    series = (("seal_j", "Before: SEAL from public benchmarks", OKABE_ITO["orange"], "circle-open"),
              ("calibrated_cv_j", "After calibration (predicted without the point)", OKABE_ITO["blue"], "circle"))
    for col, name, colour, symbol in series:
        if col not in f or "measured_j" not in f:
            continue
        g = f[(f["measured_j"] > 0) & (f[col] > 0)]
        fig.add_scatter(x=g["measured_j"] / size, y=g[col] / size, mode="markers", name=name,
                        marker=dict(color=colour, size=7, opacity=0.8, symbol=symbol),
                        hovertemplate=f"measured %{{x:.3g}} {unit}<br>estimated %{{y:.3g}} {unit}<extra></extra>")
    _identity(fig, values.min() / size if len(values) else None, values.max() / size if len(values) else None,
              "y = x (estimate = measurement)")
    return style(fig, x_title=f"Measured GPU energy per {per} ({unit}, log scale)",
                 y_title=f"Estimated GPU energy per {per} ({unit}, log scale)", height=440)


def scatter_size(frame: pd.DataFrame, x: str, y: str, colour: str, x_title: str, y_title: str,
                 hover: str | None = None) -> go.Figure:
    """Log–log scatter (e.g. energy per token against model size), one colour per ``colour`` value."""
    f = frame.dropna(subset=[x, y])
    f = f[(f[x] > 0) & (f[y] > 0)]
    fig = go.Figure()
    for i, (name, g) in enumerate(f.groupby(colour, sort=True, dropna=False)):
        fig.add_scatter(x=g[x], y=g[y], mode="markers", name=text(name),
                        marker=dict(color=PALETTE[i % len(PALETTE)], size=7, opacity=0.8,
                                    symbol=["circle", "square", "diamond", "triangle-up", "x", "cross"][i % 6]),
                        text=texts(g[hover]) if hover and hover in g else None,
                        hovertemplate="%{text}<br>%{x:.3g}, %{y:.3g}<extra></extra>" if hover else None)
    fig.update_xaxes(type="log", dtick=1)
    fig.update_yaxes(type="log", dtick=1)
    return style(fig, x_title=x_title, y_title=y_title, height=460)


def grouped_bars(frame: pd.DataFrame, x: str, y: str, colour: str, x_title: str, y_title: str,
                 reference: float | None = None, reference_label: str = "", horizontal: bool = False) -> go.Figure:
    """Grouped bars of ``y`` per ``x``, one colour per ``colour`` value, with an optional reference line.

    ``horizontal`` puts the categories on the y axis (for many or long category names)."""
    fig = go.Figure()
    for i, (name, g) in enumerate(frame.groupby(colour, sort=False)):
        cats, vals = texts(g[x]), g[y]
        # the trace name is shown through %{fullData.name}: data put into a template would be read as one
        if horizontal:
            fig.add_bar(y=cats, x=vals, orientation="h", name=text(name), marker_color=PALETTE[i % len(PALETTE)],
                        hovertemplate="%{fullData.name} · %{y}: %{x:.3g}<extra></extra>")
        else:
            fig.add_bar(x=cats, y=vals, name=text(name), marker_color=PALETTE[i % len(PALETTE)],
                        hovertemplate="%{fullData.name} · %{x}: %{y:.3g}<extra></extra>")
    line = dict(color=OKABE_ITO["vermillion"], dash="dash")
    if reference is not None and horizontal:
        fig.add_vline(x=reference, line=line, annotation_text=reference_label, annotation_position="top")
    elif reference is not None:
        fig.add_hline(y=reference, line=line, annotation_text=reference_label, annotation_position="top left")
    fig.update_layout(barmode="group")
    if horizontal:
        n = frame[x].nunique()
        fig.update_yaxes(autorange="reversed")
        return style(fig, x_title=y_title, y_title=x_title, height=max(320, 60 + 22 * n * max(1, frame[colour].nunique()) // 2))
    return style(fig, x_title=x_title, y_title=y_title, height=380)


# ---------------------------------------------------------------- charts in a unit fixed for the whole page
def phase_bars_in(split: pd.DataFrame, labels: Sequence[str], unit: tuple[str, float],
                  low: Sequence[float] | None = None, high: Sequence[float] | None = None) -> go.Figure:
    """:func:`phase_bars` in ``unit`` (label, size in g), with each prompt's 80 % interval of its total CO2e as a
    whisker (``low`` / ``high``, g) when given."""
    name_unit, size = unit
    y = _short(labels)
    fig = go.Figure()
    for name, col in (("Prefill", "prefill_g_co2e"), ("Decode", "decode_g_co2e"), ("Embodied", "embodied_g_co2e")):
        fig.add_bar(y=y, x=split[col].to_numpy(dtype=float) / size, name=name, orientation="h",
                    marker_color=PHASE_COLOURS[name],
                    hovertemplate=f"{name}: %{{x:.3g}} {name_unit} CO2e<extra>%{{y}}</extra>")
    if low is not None and high is not None:
        total = split[["prefill_g_co2e", "decode_g_co2e", "embodied_g_co2e"]].sum(axis=1).to_numpy(dtype=float)
        lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
        fig.add_scatter(y=y, x=total / size, mode="markers", name="80 % interval",
                        marker=dict(color=OKABE_ITO["black"], size=5),
                        error_x=dict(type="data", symmetric=False, array=(hi - total) / size,
                                     arrayminus=(total - lo) / size, color="#444", thickness=1.2),
                        customdata=np.c_[lo / size, hi / size],
                        hovertemplate=(f"Total %{{x:.3g}} {name_unit} (80 %: %{{customdata[0]:.2g}}–"
                                       f"%{{customdata[1]:.2g}} {name_unit})<extra>%{{y}}</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    return style(fig, x_title=f"CO2e per prompt ({name_unit})", y_title="Prompt", height=max(220, 80 + 42 * len(y)))


def waterfall_in(layers: pd.DataFrame, unit: tuple[str, float], label: str = "layer", value: str = "g_co2e",
                 measure: str | None = "measure") -> go.Figure:
    """:func:`waterfall` of CO2e layers (g) in ``unit``."""
    name_unit, size = unit
    values = pd.to_numeric(layers[value], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    measures = (layers[measure].astype(str).tolist() if measure and measure in layers
                else ["relative"] * (len(layers) - 1) + ["total"])
    fig = go.Figure(go.Waterfall(
        x=texts(layers[label]), y=values / size, measure=measures,
        text=[fmt_quantity(v, MASS_UNITS, unit=unit) for v in values], textposition="outside",
        increasing=dict(marker=dict(color=INCREASE)), decreasing=dict(marker=dict(color=DECREASE)),
        totals=dict(marker=dict(color=TOTAL)), connector=dict(line=dict(color="#888", width=1)),
        hovertemplate=f"%{{x}}: %{{y:.3g}} {name_unit}<extra></extra>",
    ))
    return style(fig, x_title="Boundary layer", y_title=f"CO2e ({name_unit})", height=380)


def region_bars(frame: pd.DataFrame, unit: tuple[str, float], chosen: str, labels: dict[str, str] | None = None,
                region: str = "region", y: str = "total_g_co2e", low: str = "total_low_g_co2e",
                high: str = "total_high_g_co2e") -> go.Figure:
    """CO2e per region (horizontal bars, lowest first) with 80 % whiskers; the ``chosen`` region highlighted.
    ``frame``: :func:`seal.carbon.compare.compare_regions`; ``labels``: region code -> label shown."""
    name_unit, size = unit
    data = frame.sort_values(y, kind="stable")
    vals = pd.to_numeric(data[y], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(data[low], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(data[high], errors="coerce").to_numpy(dtype=float)
    names = [(labels or {}).get(r, r) for r in data[region]]
    cats = texts(f"{n} (your choice)" if r == chosen else n for n, r in zip(names, data[region]))
    colours = [OKABE_ITO["vermillion"] if r == chosen else PALETTE[0] for r in data[region]]
    fig = go.Figure(go.Bar(
        y=cats, x=vals / size, orientation="h", marker_color=colours, name="CO2e",
        error_x=dict(type="data", symmetric=False, array=(hi - vals) / size, arrayminus=(vals - lo) / size,
                     color="#444", thickness=1.2),
        customdata=np.c_[lo / size, hi / size],
        hovertemplate=(f"%{{y}}: %{{x:.3g}} {name_unit} (80 %: %{{customdata[0]:.2g}}–%{{customdata[1]:.2g}} "
                       f"{name_unit})<extra></extra>")))
    fig.update_yaxes(autorange="reversed", automargin=True)
    return style(fig, x_title=f"CO2e of these prompts ({name_unit})", y_title="Region",
                 height=max(260, 70 + 30 * len(cats)))
