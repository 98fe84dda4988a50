"""Static SVG drawings of the Plotly figures of :mod:`seal.ui.charts`, for reports that must stay small and open
at once without JavaScript (plotly.js alone is 4.8 MB).

:func:`figure_svg` draws the trace types the charts use — bars (vertical or horizontal; grouped, stacked or overlaid;
with interval whiskers), waterfalls, scatter markers and lines — on linear, log, category or date axes, with the
figure's axis titles, legend and reference lines. It is a faithful sketch, not a Plotly clone: no hover, no
annotations beyond reference-line labels.
"""
from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

WIDTH = 860                  # px, every drawing
MAX_POINTS = 4_000           # scatter points drawn per figure (an even subsample beyond)
FONT = "font-family='system-ui,sans-serif' font-size='12'"
DEFAULT_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")


def _t(value: object) -> str:
    """A label for SVG: the charts' HTML escaping undone, then XML-escaped (never markup)."""
    return html.escape(html.unescape(str(value)), quote=True)


def _arr(values: Any) -> list:
    """A trace's coordinates as a list (Plotly's JSON stores numpy arrays as base64 ``{"dtype", "bdata"}``)."""
    if values is None:
        return []
    if isinstance(values, dict) and "bdata" in values:
        import base64

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values.get("dtype", "f8")).tolist()
    if isinstance(values, str):
        return [values]
    if isinstance(values, np.ndarray):
        return values.tolist() if values.dtype.kind != "M" else list(values)
    return list(values)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _is_date(v: object) -> bool:
    if isinstance(v, str):
        return bool(_ISO_DATE.match(v))
    return isinstance(v, (dt.datetime, dt.date, np.datetime64)) or type(v).__name__ == "Timestamp"


def _num(v: object) -> float:
    """A coordinate as a float: dates as epoch seconds, None/NaN as NaN."""
    if v is None:
        return math.nan
    if _is_date(v):
        import pandas as pd

        ts = pd.Timestamp(v)
        ts = ts.tz_convert("UTC") if ts.tzinfo else ts.tz_localize("UTC")
        return ts.timestamp()
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


class _Axis:
    """One axis: category (ordered labels), or numeric (linear / log / date) with a range."""

    def __init__(self, kind: str, log: bool = False, reverse: bool = False) -> None:
        self.kind, self.log, self.reverse = kind, log, reverse
        self.cats: list[str] = []
        self.lo, self.hi = math.inf, -math.inf
        self.start = self.end = 0.0              # pixels

    def add_cats(self, values: Sequence) -> None:
        for v in values:
            if str(v) not in self.cats:
                self.cats.append(str(v))

    def add(self, *values: float) -> None:
        for v in values:
            if v is None or not math.isfinite(v) or (self.log and v <= 0):
                continue
            self.lo, self.hi = min(self.lo, v), max(self.hi, v)

    def finish(self, include_zero: bool) -> None:
        if self.kind == "category":
            return
        if not math.isfinite(self.lo):
            self.lo, self.hi = (1.0, 10.0) if self.log else (0.0, 1.0)
        if self.log:
            self.lo, self.hi = math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi))
            if self.hi <= self.lo:
                self.hi = self.lo + 1
            return
        if include_zero:
            self.lo, self.hi = min(self.lo, 0.0), max(self.hi, 0.0)
        span = self.hi - self.lo or (abs(self.hi) or 1.0)
        if self.kind != "date":
            self.lo -= 0.0 if self.lo == 0 else 0.04 * span
            self.hi += 0.06 * span
        else:
            self.lo, self.hi = self.lo - 0.02 * span, self.hi + 0.02 * span
        if self.hi == self.lo:
            self.hi = self.lo + 1

    def pos(self, v: float) -> float:
        """Pixel of a numeric value."""
        if self.log:
            v = math.log10(v) if v and v > 0 else self.lo
        frac = (v - self.lo) / (self.hi - self.lo)
        frac = 1 - frac if self.reverse else frac
        return self.start + frac * (self.end - self.start)

    def band(self, cat: str) -> tuple[float, float]:
        """Pixels of a category's band (start, end)."""
        i = self.cats.index(str(cat))
        n = max(1, len(self.cats))
        i = n - 1 - i if self.reverse else i
        w = (self.end - self.start) / n
        a, b = self.start + i * w, self.start + (i + 1) * w
        return min(a, b), max(a, b)

    def ticks(self) -> list[tuple[float, str]]:
        if self.kind == "category":
            return [((a + b) / 2, c) for c in self.cats for a, b in [self.band(c)]]
        if self.log:
            return [(self.pos(10.0 ** e), _exp_label(e)) for e in range(int(self.lo), int(self.hi) + 1)]
        if self.kind == "date":
            span = self.hi - self.lo
            fmt = "%Y-%m-%d" if span > 3 * 86_400 else "%m-%d %H:%M"
            return [(self.pos(v), dt.datetime.fromtimestamp(v, dt.timezone.utc).strftime(fmt))
                    for v in np.linspace(self.lo, self.hi, 6)[1:-1]]
        step = _nice_step((self.hi - self.lo) / 5)
        first = math.ceil(self.lo / step) * step
        return [(self.pos(v), _tick_label(v)) for v in np.arange(first, self.hi + step * 1e-9, step)]


def _nice_step(raw: float) -> float:
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def _tick_label(v: float) -> str:
    if abs(v) < 1e-12:
        return "0"
    return f"{v:,.6g}" if abs(v) < 1e6 else f"{v:.3g}"


def _exp_label(e: int) -> str:
    return _tick_label(10.0 ** e) if -3 <= e <= 5 else f"1e{e}"


def _get(obj: Any, *path: str, default: Any = None) -> Any:
    for p in path:
        if obj is None:
            return default
        obj = obj.get(p) if isinstance(obj, dict) else getattr(obj, p, None)
    return default if obj is None else obj


def figure_svg(fig: Any, width: int = WIDTH) -> str:
    """An ``<svg>`` element drawing ``fig`` (a ``plotly.graph_objects.Figure`` or its dict)."""
    doc = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else dict(fig)
    layout = doc.get("layout") or {}
    traces = [t for t in doc.get("data") or [] if t.get("type", "scatter") in ("bar", "scatter", "waterfall")]
    height = int(layout.get("height") or 380)
    colours = list(layout.get("colorway") or DEFAULT_COLOURS)
    barmode = layout.get("barmode") or "group"
    x, y = _axes(traces, layout)
    _fit_axes(traces, layout, x, y, barmode)
    legend = _legend_entries(traces, colours)
    _place_axes(x, y, width, height, legend=len(legend) > 1)
    out = [_frame_svg(x, y, width, height)]
    out += _ticks_svg(x, y)
    out += _traces_svg(traces, x, y, colours, barmode)
    out += _reference_lines_svg(layout, x, y)
    out += _labels_svg(layout, x, y)
    out += _titles_svg(layout, x, y, height)
    if len(legend) > 1:
        out += _legend_svg(legend, x.start)
    out.append("</svg>")
    return "".join(out)


def _axis_kind(traces: list[dict], key: str) -> str:
    """What the traces' values on axis ``key`` ("x" or "y") are: "date", "category" or "linear" (first 50 each)."""
    values = [v for t in traces for v in _arr(t.get(key))[:50]]
    if values and all(_is_date(v) for v in values):
        return "date"
    if any(isinstance(v, str) for v in values):
        return "category"
    return "linear"


def _axes(traces: list[dict], layout: dict) -> tuple[_Axis, _Axis]:
    """The x and y axes, empty: their kind from the traces, log and reversed from the layout."""
    xa, ya = layout.get("xaxis") or {}, layout.get("yaxis") or {}
    x = _Axis(_axis_kind(traces, "x"), log=xa.get("type") == "log", reverse=xa.get("autorange") == "reversed")
    y = _Axis(_axis_kind(traces, "y"), log=ya.get("type") == "log", reverse=ya.get("autorange") == "reversed")
    return x, y


def _sides(t: dict, x: _Axis, y: _Axis) -> tuple[bool, _Axis, _Axis, list, list]:
    """A trace as (horizontal, position axis, value axis, positions, values): a horizontal one's positions are y."""
    xs, ys = _arr(t.get("x")), _arr(t.get("y"))
    h = t.get("orientation") == "h"
    return (h, y, x, ys, xs) if h else (h, x, y, xs, ys)


def _error_arrays(t: dict, h: bool) -> tuple[list, list]:
    """A trace's whisker lengths (plus, minus) along its value axis; minus defaults to plus."""
    err = t.get("error_x" if h else "error_y") or {}
    return _arr(err.get("array")), _arr(err.get("arrayminus") or err.get("array"))


def _bar_start(t: dict, i: int, c: object, v: float, barmode: str, stacks: dict) -> float:
    """Where value ``v`` (index ``i``, position ``c``) starts: on the earlier bars of its sign at ``c`` for a bar in
    stack/relative mode (``stacks`` updated), else at the trace's base (0 when none or not finite)."""
    base = t.get("base")
    b = _num(base[i] if isinstance(base, (list, tuple, np.ndarray)) else base) if base is not None else 0.0
    b = 0.0 if not math.isfinite(b) else b
    if t.get("type") == "bar" and barmode in ("stack", "relative"):
        key = (str(c), 1.0 if v >= 0 else -1.0)
        b = stacks.get(key, 0.0)
        stacks[key] = b + v
    return b


def _fit_positions(t: dict, cat_axis: _Axis, cats: list) -> None:
    """Widens the position axis to a trace's positions: its category labels, or each position plus/minus half its
    bar width."""
    if cat_axis.kind == "category":
        cat_axis.add_cats(cats)
        return
    widths = _widths(t)
    for i, c in enumerate(cats):
        w = widths[i] if i < len(widths) else 0.0
        cat_axis.add(_num(c) - w / 2, _num(c) + w / 2)


def _fit_waterfall(t: dict, val_axis: _Axis, vals: list) -> None:
    """Widens the value axis to a waterfall's running totals."""
    run = 0.0
    for m, v in zip(_arr(t.get("measure")) or ["relative"] * len(vals), vals):
        run = run if m == "total" else run + _num(v)
        val_axis.add(run)


def _fit_values(t: dict, h: bool, cats: list, vals: list, val_axis: _Axis, barmode: str, stacks: dict) -> None:
    """Widens the value axis to a trace's value ends, its bars' starts (not on a log axis) and whisker ends."""
    plus, minus = _error_arrays(t, h)
    for i, (c, v) in enumerate(zip(cats, vals)):
        v = _num(v)
        b = _bar_start(t, i, c, v, barmode, stacks)
        val_axis.add(b + v)
        if t.get("type") == "bar" and not val_axis.log:
            val_axis.add(b)
        if i < len(plus) and plus[i] is not None:
            val_axis.add(b + v + _num(plus[i]))
        if i < len(minus) and minus[i] is not None:
            val_axis.add(b + v - _num(minus[i]))


def _fit_axes(traces: list[dict], layout: dict, x: _Axis, y: _Axis, barmode: str) -> None:
    """Sets both axes' categories and ranges from the traces and reference lines (zero included on a bar chart's
    value axis)."""
    stacks: dict[tuple[str, float], float] = {}
    for t in traces:
        h, cat_axis, val_axis, cats, vals = _sides(t, x, y)
        _fit_positions(t, cat_axis, cats)
        if t.get("type") == "waterfall":
            _fit_waterfall(t, val_axis, vals)
        else:
            _fit_values(t, h, cats, vals, val_axis, barmode, stacks)
    for shape in layout.get("shapes") or []:
        if shape.get("xref", "x") == "x" and shape.get("yref") == "paper":
            x.add(_num(shape.get("x0")))
        if shape.get("yref", "y") == "y" and shape.get("xref") == "paper":
            y.add(_num(shape.get("y0")))
    bars = any(t.get("type") in ("bar", "waterfall") for t in traces)
    horizontal = any(t.get("orientation") == "h" for t in traces)
    x.finish(include_zero=bars and horizontal)
    y.finish(include_zero=bars and not horizontal)


def _legend_entries(traces: list[dict], colours: list[str]) -> list[tuple[str, str]]:
    """(name, colour) of each trace shown in the legend."""
    return [(t.get("name"), _colour(t, colours[ti % len(colours)])) for ti, t in enumerate(traces)
            if t.get("name") and t.get("showlegend", True) is not False]


def _place_axes(x: _Axis, y: _Axis, width: int, height: int, legend: bool) -> None:
    """Sets the axes' pixel ends: the plot area, inside margins for tick labels, titles and the legend."""
    longest = max((len(c) for c in y.cats), default=0) if y.kind == "category" else 8
    left = min(300, 60 + 6.4 * longest) if y.kind == "category" else 70
    top = 34 if legend else 14
    bottom = 64 if x.kind == "category" else 48
    x.start, x.end = left, width - 20
    y.start, y.end = height - bottom, top       # y grows upwards


def _frame_svg(x: _Axis, y: _Axis, width: int, height: int) -> str:
    """The ``<svg>`` opening tag and the plot area's white, outlined background."""
    return (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
            f"style='max-width:{width}px' role='img' {FONT}>"
            f"<rect x='{x.start}' y='{y.end}' width='{x.end - x.start:.0f}' height='{y.start - y.end:.0f}' "
            "fill='#fff' stroke='#ccc'/>")


def _ticks_svg(x: _Axis, y: _Axis) -> list[str]:
    """Grid lines and tick labels of both axes (category labels on x slanted, cut to 28 characters)."""
    top, left, out = y.end, x.start, []
    for px, label in x.ticks():
        out.append(f"<line x1='{px:.1f}' x2='{px:.1f}' y1='{top}' y2='{y.start}' stroke='#eee'/>")
        if x.kind == "category":
            out.append(f"<text x='{px:.1f}' y='{y.start + 14}' text-anchor='end' "
                       f"transform='rotate(-30 {px:.1f} {y.start + 14})'>{_t(label[:28])}</text>")
        else:
            out.append(f"<text x='{px:.1f}' y='{y.start + 16}' text-anchor='middle'>{_t(label)}</text>")
    for py, label in y.ticks():
        if y.kind != "category":
            out.append(f"<line x1='{left}' x2='{x.end}' y1='{py:.1f}' y2='{py:.1f}' stroke='#eee'/>")
        out.append(f"<text x='{left - 6}' y='{py + 4:.1f}' text-anchor='end'>{_t(label[:48])}</text>")
    return out


def _traces_svg(traces: list[dict], x: _Axis, y: _Axis, colours: list[str], barmode: str) -> list[str]:
    """Every trace's marks, in order: bars and waterfalls (side by side in group mode), scatter markers and lines."""
    n_group = max(1, len([t for t in traces if t.get("type") == "bar"])) if barmode == "group" else 1
    out: list[str] = []
    stacks: dict[tuple[str, float], float] = {}
    bar_i = 0
    for ti, t in enumerate(traces):
        colour = _colour(t, colours[ti % len(colours)])
        if t.get("type") in ("bar", "waterfall"):
            slot = bar_i if barmode == "group" else 0
            bar_i += 1 if t.get("type") == "bar" else 0
            out += _bars(t, x, y, colour, slot, n_group, barmode, stacks)
        else:
            out += _scatter(t, _arr(t.get("x")), _arr(t.get("y")), x, y, colour)
    return out


def _reference_lines_svg(layout: dict, x: _Axis, y: _Axis) -> list[str]:
    """The layout's vertical and horizontal reference lines (shapes spanning the plot area)."""
    out = []
    for shape in layout.get("shapes") or []:
        line = shape.get("line") or {}
        dash = " stroke-dasharray='5,4'" if line.get("dash") else ""
        stroke = line.get("color") or "#222"
        if shape.get("yref") == "paper" and math.isfinite(_num(shape.get("x0"))):
            px = x.pos(_num(shape.get("x0")))
            out.append(f"<line x1='{px:.1f}' x2='{px:.1f}' y1='{y.end}' y2='{y.start}' stroke='{stroke}'{dash}/>")
        elif shape.get("xref") == "paper" and math.isfinite(_num(shape.get("y0"))):
            py = y.pos(_num(shape.get("y0")))
            out.append(f"<line x1='{x.start}' x2='{x.end}' y1='{py:.1f}' y2='{py:.1f}' stroke='{stroke}'{dash}/>")
    return out


def _labels_svg(layout: dict, x: _Axis, y: _Axis) -> list[str]:
    """The layout's annotations placed in data coordinates on x or y (the reference lines' labels)."""
    out = []
    for note in layout.get("annotations") or []:
        if note.get("text") and (note.get("xref") == "x" or note.get("yref") == "y"):
            px = x.pos(_num(note.get("x"))) if note.get("xref") == "x" else x.end - 4
            py = y.pos(_num(note.get("y"))) - 4 if note.get("yref") == "y" else y.end + 12
            out.append(f"<text x='{px:.1f}' y='{py:.1f}' text-anchor='end' fill='#444'>{_t(note['text'])}</text>")
    return out


def _titles_svg(layout: dict, x: _Axis, y: _Axis, height: int) -> list[str]:
    """The axis titles: x's under the plot, y's rotated on the left (none beside category labels)."""
    xt = _get(layout.get("xaxis") or {}, "title", "text")
    yt = _get(layout.get("yaxis") or {}, "title", "text")
    out = []
    if xt:
        out.append(f"<text x='{(x.start + x.end) / 2:.0f}' y='{height - 6}' text-anchor='middle'>{_t(xt)}</text>")
    if yt and y.kind != "category":
        mid = f"{(y.end + y.start) / 2:.0f}"
        out.append(f"<text x='14' y='{mid}' text-anchor='middle' transform='rotate(-90 14 {mid})'>{_t(yt)}</text>")
    return out


def _legend_svg(entries: list[tuple[str, str]], left: float) -> list[str]:
    """A legend row above the plot from ``left``: a colour swatch and the name of each entry."""
    out, px = [], left
    for name, colour in entries:
        out.append(f"<rect x='{px}' y='10' width='12' height='12' fill='{colour}'/>"
                   f"<text x='{px + 16}' y='20'>{_t(name)}</text>")
        px += 30 + 7 * len(html.unescape(str(name)))
    return out


def _widths(trace: dict) -> list[float]:
    """Per-bar widths in data units (a scalar width repeated; none: empty)."""
    w = trace.get("width")
    if w is None:
        return []
    if isinstance(w, (int, float)):
        return [float(w)] * len(_arr(trace.get("x")))
    return [_num(v) for v in _arr(w)]


def _colour(trace: dict, default: str) -> str:
    marker = trace.get("marker") or {}
    colour = marker.get("color")
    if trace.get("type") == "scatter" and (trace.get("line") or {}).get("color") and not colour:
        colour = trace["line"]["color"]
    return colour if isinstance(colour, str) else default


def _bars(t: dict, x: _Axis, y: _Axis, colour: str, slot: int, n_group: int, barmode: str,
          stacks: dict) -> list[str]:
    """One bar or waterfall trace: a rect per finite value, with its interval whisker where it has both ends."""
    h, cat_axis, val_axis, cats, vals = _sides(t, x, y)
    plus, minus = _error_arrays(t, h)
    widths = _bar_widths(t, cat_axis, cats)
    out = []
    for i, c, b, v, fill in _bar_spans(t, cats, vals, colour, barmode, stacks):
        a0, a1 = _across_px(cat_axis, c, widths[i], slot, n_group)
        v0, v1 = _along_px(val_axis, b, v)
        out.append(_rect_svg(h, a0, a1, v0, v1, fill))
        if i < len(plus) and plus[i] is not None and i < len(minus) and minus[i] is not None:
            hi, lo = val_axis.pos(b + v + _num(plus[i])), val_axis.pos(b + v - _num(minus[i]))
            out.append(_whisker_svg(h, (a0 + a1) / 2, lo, hi))
    return out


def _waterfall_step(t: dict, measure: str, v: float, run: float, colour: str) -> tuple[float, float, str, float]:
    """A waterfall bar as (start, value, fill, running total after it): a total spans 0 to the running total, a
    step starts at it and adds ``v``."""
    if measure == "total":
        return 0.0, run, _get(t, "totals", "marker", "color", default=colour), run
    fill = _get(t, "increasing" if v >= 0 else "decreasing", "marker", "color", default=colour)
    return run, v, fill, run + v


def _bar_spans(t: dict, cats: list, vals: list, colour: str, barmode: str, stacks: dict):
    """Each finite value of a bar or waterfall trace as (index, position, start, value, fill)."""
    measures = _arr(t.get("measure")) or ["relative"] * len(vals)
    run = 0.0
    for i, (c, v) in enumerate(zip(cats, vals)):
        v = _num(v)
        if not math.isfinite(v):
            continue
        if t.get("type") == "waterfall":
            m = measures[i] if i < len(measures) else "relative"
            b, v, fill, run = _waterfall_step(t, m, v, run, colour)
            yield i, c, b, v, fill
        else:
            yield i, c, _bar_start(t, i, c, v, barmode, stacks), v, colour


def _bar_widths(t: dict, cat_axis: _Axis, cats: list) -> list[float | None]:
    """Each bar's width in data units on a numeric position axis: its own, else 0.8 of the closest gap between
    positions (None on a category axis, where the bands set it)."""
    widths = _widths(t)
    if cat_axis.kind == "category":
        return [None] * len(cats)
    positions = sorted({_num(c) for c in cats})
    gap = min(np.diff(positions)) if len(positions) > 1 else None
    return [widths[i] if i < len(widths) else (gap or 1.0) * 0.8 for i in range(len(cats))]


def _across_px(cat_axis: _Axis, c: object, width: float | None, slot: int, n_group: int) -> tuple[float, float]:
    """Pixels (low, high) a bar spans across its position axis: its slot in the padded category band, or
    ``width`` (data units) around its numeric position."""
    if cat_axis.kind == "category":
        a0, a1 = cat_axis.band(c)
        pad = (a1 - a0) * 0.15
        a0, a1 = a0 + pad, a1 - pad
        w = (a1 - a0) / n_group
        return a0 + slot * w, a0 + (slot + 1) * w
    centre = _num(c)
    p0 = cat_axis.pos(max(centre - width / 2, 1e-300) if cat_axis.log else centre - width / 2)
    p1 = cat_axis.pos(centre + width / 2)
    return min(p0, p1), max(p0, p1)


def _along_px(val_axis: _Axis, b: float, v: float) -> tuple[float, float]:
    """Pixels (low, high) a bar spans along its value axis, from ``b`` to ``b + v`` (on a log axis from the
    axis's bottom when ``b`` <= 0)."""
    lo_v = b if not val_axis.log else (b if b > 0 else 10.0 ** val_axis.lo)
    v0, v1 = val_axis.pos(lo_v), val_axis.pos(b + v)
    return min(v0, v1), max(v0, v1)


def _rect_svg(h: bool, a0: float, a1: float, v0: float, v1: float, fill: str) -> str:
    """A bar's rect from its pixel spans across (a) and along (v) its value axis, at least half a pixel thick."""
    if h:
        return (f"<rect x='{v0:.1f}' y='{a0:.1f}' width='{max(v1 - v0, 0.5):.1f}' "
                f"height='{max(a1 - a0, 0.5):.1f}' fill='{fill}'/>")
    return (f"<rect x='{a0:.1f}' y='{v0:.1f}' width='{max(a1 - a0, 0.5):.1f}' "
            f"height='{max(v1 - v0, 0.5):.1f}' fill='{fill}'/>")


def _whisker_svg(h: bool, mid: float, lo: float, hi: float) -> str:
    """An interval whisker at pixel ``mid`` across the bar, from ``lo`` to ``hi`` along it, with end caps."""
    if h:
        return (f"<path d='M{lo:.1f} {mid:.1f}H{hi:.1f}M{lo:.1f} {mid - 3:.1f}v6M{hi:.1f} {mid - 3:.1f}v6' "
                "stroke='#444' fill='none'/>")
    return (f"<path d='M{mid:.1f} {lo:.1f}V{hi:.1f}M{mid - 3:.1f} {lo:.1f}h6M{mid - 3:.1f} {hi:.1f}h6' "
            "stroke='#444' fill='none'/>")


def _scatter(t: dict, xs: list, ys: list, x: _Axis, y: _Axis, colour: str) -> list[str]:
    mode = t.get("mode") or "markers"
    pts = []
    for a, b in zip(xs, ys):
        px = (sum(x.band(a)) / 2) if x.kind == "category" else x.pos(_num(a))
        py = (sum(y.band(b)) / 2) if y.kind == "category" else y.pos(_num(b))
        if math.isfinite(px) and math.isfinite(py):
            pts.append((px, py))
    out = []
    if "lines" in mode and len(pts) > 1:
        line = t.get("line") or {}
        dash = " stroke-dasharray='5,4'" if line.get("dash") else ""
        out.append("<polyline fill='none' stroke='{}' stroke-width='1.5'{} points='{}'/>".format(
            line.get("color") or colour, dash, " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)))
    if "markers" in mode:
        step = max(1, math.ceil(len(pts) / MAX_POINTS))
        out += [f"<circle cx='{px:.1f}' cy='{py:.1f}' r='3' fill='{colour}' fill-opacity='0.75'/>"
                for px, py in pts[::step]]
    return out
