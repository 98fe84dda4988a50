"""SEAL dashboard — `streamlit run app.py` (or `make run`).

A multipage app: each page is one module in ``app_pages/`` that reads top to bottom and calls :mod:`seal`;
shared display helpers live in :mod:`seal.ui`. (The folder is not called ``pages/`` on purpose: Streamlit
treats a ``pages/`` folder next to the entry point as a legacy multipage app until ``st.navigation`` has run
once, so a first visit straight to ``/logs`` after a server start would show the wrong navigation.)
"""
from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="SEAL — energy and CO2e of LLM prompts", page_icon="🌱", layout="wide")

PAGES = [
    st.Page("app_pages/estimate.py", title="Estimate", icon=":material/bolt:", default=True),
    st.Page("app_pages/logs.py", title="Logs", icon=":material/description:"),
    st.Page("app_pages/whatif.py", title="What-if", icon=":material/compare_arrows:", url_path="what-if"),
    st.Page("app_pages/fleet.py", title="Your fleet", icon=":material/tune:", url_path="fleet"),
    st.Page("app_pages/benchmarks.py", title="Benchmarks", icon=":material/monitoring:"),
    st.Page("app_pages/accuracy.py", title="Accuracy", icon=":material/target:"),
    st.Page("app_pages/methodology.py", title="Methodology", icon=":material/menu_book:"),
]

from seal.ui.loaders import warm_up  # noqa: E402

warm_up()  # background, once per process: the first "Estimate" click does not pay for loading the model
page = st.navigation(PAGES)
with st.sidebar:
    st.caption("SEAL estimates the GPU energy of each prompt (prefill and decode) from models learned on public "
               "benchmarks, then its CO2e. Every figure comes with an 80 % interval.")
page.run()
