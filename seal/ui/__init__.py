"""Display helpers shared by the Streamlit pages (``app.py``, ``pages/``).

The pages compute nothing themselves: estimates come from :mod:`seal`, and this package only formats
(``format``: SI prefixes), aggregates for display (``aggregate``: sums and groupings of result
columns), draws (``charts``: Plotly, Okabe–Ito palette, units on every axis) and exports (``export``:
CSV / Parquet / JSON, scenario files, self-contained HTML reports). ``widgets`` and ``loaders`` are the
only modules that import Streamlit.
"""
