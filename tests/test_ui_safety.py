"""Log text is shown as text (issue 12): never as Markdown or HTML in the pages, never as markup in the charts,
never as a formula in the CSV download; and every page works on a store made by ``seal data init`` alone.

Payloads are what a log can carry in a model, app or user name, a request id, a prompt or an error message.
"""
from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402
from _paths import REPO

APP = REPO / "app.py"
TIMEOUT = 120
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
IMAGE = "![p](http://evil.example/x.png)"                     # every viewer's browser would fetch it
LINK = '<a href="http://evil.example/">click</a>'              # a live link in Plotly text, raw HTML in Markdown
PAYLOADS = [
    IMAGE, LINK, "<img src=x onerror=alert(1)>", "&lt;b&gt; &amp; &#60;", "**bold** _it_ `code` ~~del~~",
    "[text](http://evil.example) [ref][1]\n\n[1]: http://evil.example", "# heading\n> quote\n- item\n+ item\n1. one",
    "text\n===\nmore\n---", "| a | b |\n|---|---|\n| 1 | 2 |", "$x^2$ and $$y$$", ":red[alert] :smile: :material/bolt:",
    "https://evil.example/x www.evil.example alice@example.com", "    indented code\n\tand a tab",
    "a\\b\\", "line one\rline two\r\n- three", "The scenario's model 'no-such/model-9000' is not available here.",
]
SPECIALS = set("\\`*_{}[]()<>#|~$!&:")


@pytest.fixture(autouse=True)
def _clean_app(clean_app):
    """Every page test starts clean (conftest.clean_app)."""
    yield


@pytest.fixture(scope="module")
def init_store(tmp_path_factory) -> Path:
    """A store built by ``seal data init`` only: the offline sources, no benchmark runs."""
    from seal.data.pull import init

    return init(tmp_path_factory.mktemp("init-store") / "seal.duckdb")


# ---------------------------------------------------------------- helpers
def _unescape(text: str) -> str:
    """What CommonMark shows for :func:`seal.ui.format.plain`'s output (escapes dropped, invisible joiners too)."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.S).replace("\u2060", "").replace("\u00a0", " ")


def _shown(payload: str) -> str:
    """How a payload should read once rendered: line breaks as LF, leading indentation as spaces."""
    text = payload.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"^[ \t]+", lambda m: " " * len(m.group()), text, flags=re.M)


def _literal(markdown: str) -> bool:
    """True when no Markdown/HTML syntax character is left unescaped, no line starts a list, heading or code
    block, and no autolink or shortcode survives (the checks mirror what the renderer acts on)."""
    if SPECIALS & set(re.sub(r"\\.", "", markdown, flags=re.S)) or "\r" in markdown:
        return False
    if re.search(r"^[ \t]*([-+=]|\d+\.)", markdown, flags=re.M) or re.search(r"^( {4}|\t)", markdown, flags=re.M):
        return False
    read = re.sub(r"\\(.)", r"\1", markdown, flags=re.S)  # what the autolink and shortcode finders see
    return not re.search(r"https?://|www\.|@[-\w]|:[A-Za-z+\-][\w+\-/]*:", read, flags=re.I)


def _no_markup(value: str) -> bool:
    """No image, link, HTML tag or entity left unescaped in a Markdown body (SEAL's own ``**`` aside)."""
    bare = re.sub(r"\\.", "", value, flags=re.S)
    return not any(mark in bare for mark in ("![", "](", "<", ">", "&"))


def _markdown_values(at: AppTest) -> list[str]:
    """The bodies of every element Streamlit renders as Markdown."""
    kinds = ("markdown", "caption", "info", "warning", "error", "success")
    return [e.value for kind in kinds for e in getattr(at, kind)]


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---------------------------------------------------------------- (a) Markdown: the plain() helper
@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_leaves_no_markdown_or_html_syntax_and_reads_the_same(payload):
    """Every payload comes out with each syntax character escaped, and reads exactly as typed once rendered."""
    from seal.ui.format import plain

    out = plain(payload)
    assert _literal(out), out
    assert _unescape(out) == _shown(payload)


def test_plain_keeps_ordinary_text_unchanged():
    """Sentences, model ids and numbers stay as they are (the existing error texts keep reading the same)."""
    from seal.ui.format import plain

    for text in ("The scenario's model 'no-such/model-9000' is not available here; pick one from the model list.",
                 "meta-llama/Meta-Llama-3.1-8B-Instruct", "llama3-8b, batch 64, 1.5 g"):
        assert plain(text) == text
    assert plain(None) == ""


@settings(max_examples=300, deadline=None)
@given(hs.lists(hs.sampled_from(list("ab1 \n\r\t.-+=@/") + sorted(SPECIALS)
                                + ["http://", "www.", ":smile:", "&amp;", "![a](b)", "    "]),
                max_size=40).map("".join))
def test_plain_is_literal_for_any_text(text):
    """A property over punctuation-heavy text: nothing is left for the Markdown renderer to interpret."""
    from seal.ui.format import plain

    out = plain(text)
    assert _literal(out), (text, out)
    assert _unescape(out) == _shown(text)


# ---------------------------------------------------------------- (a) Markdown: the widgets
def _widgets_script(message: str) -> None:
    import streamlit as st

    from seal.errors import SealError
    from seal.ui.widgets import bold, labelled, show_error, warning_banners

    show_error(SealError(f"The scenario's model {message!r} is not available here."))
    show_error(ValueError(message))
    warning_banners([message.replace(";", ","), "estimated-tokens"])  # ";" separates codes
    bold(f"Request {message}")
    labelled("Model", message)
    st.caption("done")


@pytest.mark.parametrize("payload", [IMAGE, LINK, "&lt;img src=x&gt; https://evil.example"])
def test_widgets_show_log_text_literally(payload):
    """show_error (SealError and any other error), warning_banners with a code the data brought, and the bold /
    labelled lines for the Logs page: the text is escaped, SEAL's own wording and known codes are not."""
    from seal.ui.format import plain

    at = AppTest.from_function(_widgets_script, args=(payload,), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert errors == [f"The scenario's model {plain(repr(payload))} is not available here.",
                      f"Unexpected ValueError: {plain(payload)}"]
    warnings = sorted(w.value for w in at.warning)
    code = plain(payload.replace(";", ","))
    assert [code in w for w in warnings].count(True) == 1                  # an unknown code: its text, escaped
    from seal.errors import WARNINGS

    assert any(w.startswith(plain(WARNINGS["estimated-tokens"])[:40]) for w in warnings)  # a known code: its sentence
    assert not any("estimated-tokens" in w for w in warnings)             # never the raw code
    assert [m.value for m in at.markdown] == [f"**Request {plain(payload)}**", f"- **Model:** {plain(payload)}"]
    assert all(_no_markup(v) for v in errors + warnings + [m.value for m in at.markdown])


# ---------------------------------------------------------------- (a) Plotly text
def _strings(node, skip=("hovertemplate", "texttemplate")):
    """Every string in a figure's data (labels, tick texts, hover texts, trace names), templates aside."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in skip:
                yield from _strings(value, skip)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _strings(value, skip)
    elif isinstance(node, str):
        yield node


def _templates(fig) -> list[str]:
    return [t.get("hovertemplate", "") or "" for t in fig.to_plotly_json()["data"]]


def _chart_texts(at: AppTest) -> list[str]:
    """Every data string of every chart on the page, decoded from the spec Streamlit sends (where ``<`` is
    written ``\\u003c``)."""
    return [t for c in at.get("plotly_chart") for t in _strings(json.loads(c.proto.spec)["data"])]


def _figures():
    """Every chart of seal.ui.charts, fed labels that carry markup."""
    from seal.ui import charts

    names = [LINK, "<b>x</b> & y", "plain"]
    frame = pd.DataFrame({"label": names, "g": [1.0, 2.0, 3.0], "lo": [0.5, 1.5, 2.5], "hi": [2.0, 3.0, 4.0]})
    split = pd.DataFrame({"prefill_g_co2e": [1.0, 2.0, 3.0], "decode_g_co2e": [1.0, 1.0, 1.0],
                          "embodied_g_co2e": [0.1, 0.1, 0.1]})
    points = pd.DataFrame({"total_g_co2e": [1.0, 2.0, 3.0], "quality": [50.0, 60.0, 70.0], "label": names,
                           "pareto": [True, True, True]})
    runs = pd.DataFrame({"m": [1.0, 2.0, 3.0], "p": [1.1, 1.9, 3.2], "source": names, "hover": names,
                         "size": [1.0, 8.0, 70.0], "ept": [0.1, 0.2, 0.9]})
    sens = pd.DataFrame({"parameter": names, "low_label": names, "high_label": names,
                         "low_total_g_co2e": [1.0, 1.5, 2.0], "high_total_g_co2e": [3.0, 2.5, 2.2]})
    grouped = pd.DataFrame({"split": names * 2, "v": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "family": [LINK] * 3 + ["b"] * 3})
    return {
        "phase_bars": charts.phase_bars(split, names),
        "waterfall": charts.waterfall(frame.assign(measure=["relative", "relative", "total"]), label="label",
                                      value="g"),
        "bars": charts.bars(frame, "label", "g", "Model", low="lo", high="hi"),
        "bars_horizontal": charts.bars(frame, "label", "g", "Model", low="lo", high="hi", horizontal=True),
        "tornado": charts.tornado(sens, 2.0),
        "pareto": charts.pareto(points),
        "parity": charts.parity(runs, "m", "p", colour="source"),
        "scatter_size": charts.scatter_size(runs, "size", "ept", "source", "x", "y", hover="hover"),
        "grouped_bars": charts.grouped_bars(grouped, "split", "v", "family", "x", "y"),
        "grouped_bars_horizontal": charts.grouped_bars(grouped, "split", "v", "family", "x", "y", horizontal=True),
    }


CHARTS = ["phase_bars", "waterfall", "bars", "bars_horizontal", "tornado", "pareto", "parity", "scatter_size",
          "grouped_bars", "grouped_bars_horizontal"]


@pytest.mark.parametrize("name", CHARTS)
def test_charts_escape_markup_in_labels_ticks_hover_and_legend(name):
    """Category labels, tick and hover texts and trace names carry ``&lt;``/``&amp;`` instead of markup, and no
    hover template has data pasted into it (Plotly would read it as template and HTML)."""
    fig = _figures()[name]
    texts = list(_strings(fig.to_plotly_json()["data"]))
    assert not [t for t in texts if "<" in t or ">" in t], texts
    assert any("&lt;" in t for t in texts)  # the labels are there, escaped
    assert all(re.sub(r"&(lt|gt|amp);", "", t).count("&") == 0 for t in texts), texts
    for template in _templates(fig):
        assert "evil" not in template and "<b>x" not in template, template


# ---------------------------------------------------------------- (a) the pages
def _hostile_log() -> bytes:
    """A CSV log whose app, user and request id fields carry an image and a link."""
    cell = '"' + LINK.replace('"', '""') + '"'
    lines = ["timestamp,model,input_tokens,output_tokens,app,user,request_id"]
    for i in range(6):
        lines.append(f"2026-03-01T0{i}:15:00Z,{MODEL},{100 + i},{50 + i},{IMAGE},{cell},{IMAGE}")
    return ("\n".join(lines) + "\n").encode()


def test_logs_page_error_for_a_model_named_like_an_image_is_literal():
    """A log whose model is ``![p](http://…)`` is refused with one error naming it, and the name is not Markdown."""
    at = _app("app_pages/logs.py")
    log = _hostile_log().replace(MODEL.encode(), IMAGE.encode())
    at.file_uploader(key="logs_file").set_value(("requests.csv", log, "text/csv")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "evil.example" in errors[0]
    assert _no_markup(errors[0]), errors[0]


def test_logs_page_charts_show_app_and_user_names_as_text():
    """App and user names with HTML reach the By app / By user charts escaped, and no Markdown element on the
    page carries them raw."""
    at = _app("app_pages/logs.py")
    at.file_uploader(key="logs_file").set_value(("requests.csv", _hostile_log(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    texts = _chart_texts(at)
    assert not [t for t in texts if "<" in t], [t for t in texts if "<" in t]
    assert any(html.escape(LINK, quote=False) in t for t in texts)  # the user chart's label, escaped
    assert all(_no_markup(v) for v in _markdown_values(at)), _markdown_values(at)


def test_estimate_page_prompt_with_markup_is_text_in_the_chart():
    """A pasted prompt carrying a link is a label of the phase chart, escaped."""
    at = _app()
    at.text_area(key="est_prompts").set_value(f"{LINK} {IMAGE}\nWrite a haiku.")
    at.button(key="est_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    texts = _chart_texts(at)
    assert not [t for t in texts if "<" in t], [t for t in texts if "<" in t]
    assert any("&lt;a href" in t for t in texts)
    assert all(_no_markup(v) for v in _markdown_values(at)), _markdown_values(at)


def test_pages_never_opt_into_html_or_markdown_cells():
    """Table cells are literal in st.dataframe (drawn as text on a canvas) unless a column is configured as
    Markdown, image or link: no page does that with data, and none allows raw HTML."""
    for page in sorted((REPO / "app_pages").glob("*.py")):
        source = page.read_text()
        for needle in ("unsafe_allow_html", "MarkdownColumn", "ImageColumn", "st.html(", "components.html"):
            assert needle not in source, (page.name, needle)
        links = re.findall(r"LinkColumn\(([^)]*)\)", source)
        assert all(arg.strip() == '"url"' for arg in links), (page.name, links)  # the registry's own URLs


# ---------------------------------------------------------------- (b) CSV downloads
def test_csv_download_neutralises_formulas_and_keeps_numbers():
    """Cells starting with = + - @ tab or CR get an apostrophe (text columns, categorical ones and the header
    included); negative numbers stay numbers."""
    from seal.ui.export import to_csv

    frame = pd.DataFrame({
        "model": ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "ok"],
        "app": pd.Categorical(["=1+1"] * 6 + ["chat"]),
        "total_g_co2e": [-1.5, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        "=cmd|' /C calc'!A0": ["x"] * 7,
    })
    back = pd.read_csv(io.BytesIO(to_csv(frame)), keep_default_na=False)
    assert len(back) == len(frame)
    assert back["model"].tolist() == ["'" + v for v in frame["model"][:6]] + ["ok"]
    assert back["app"].tolist() == ["'=1+1"] * 6 + ["chat"]
    assert back["total_g_co2e"].tolist() == [-1.5, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert back.columns[-1] == "'=cmd|' /C calc'!A0"
    assert frame["model"][0].startswith("=")  # the caller's frame is not changed


def test_csv_download_keeps_a_carriage_return_inside_its_cell():
    """A CR (or LF) inside a model name is quoted, so the file has as many rows as the table."""
    from seal.ui.export import to_csv

    frame = pd.DataFrame({"model": ["llama\rinjected", "a\nb", "c\r\nd", "plain"], "n": [1, 2, 3, 4]})
    data = to_csv(frame)
    back = pd.read_csv(io.BytesIO(data))
    assert len(back) == 4
    assert back["model"].tolist() == frame["model"].tolist() and back["n"].tolist() == [1, 2, 3, 4]


# ---------------------------------------------------------------- (c) a store made by `seal data init` only
def test_accuracy_on_an_init_only_store_explains_what_to_pull(init_store, monkeypatch):
    """No KeyError: one info naming the missing benchmark sources and `seal data pull`, the shipped validation
    still shown, and neither a re-run button nor a parity attempt on a store without runs."""
    monkeypatch.setenv("SEAL_DB", str(init_store))
    at = _app("app_pages/accuracy.py")
    assert not at.error, [e.value for e in at.error]
    infos = [i.value for i in at.info]
    assert any("not pulled yet" in i and "`seal data pull`" in i for i in infos), infos
    assert [b.label for b in at.button] == []
    table = next(f.value for f in at.dataframe if "coverage_80" in f.value.columns)
    assert len(table) > 0  # the validation shipped with the fitted model


@pytest.mark.parametrize("page", ["app_pages/benchmarks.py", "app_pages/methodology.py", "app_pages/estimate.py",
                                  "app_pages/whatif.py", "app_pages/logs.py"])
def test_other_pages_on_an_init_only_store(init_store, monkeypatch, page):
    """Every other page renders on the same store without an exception or an error."""
    monkeypatch.setenv("SEAL_DB", str(init_store))
    at = _app(page)
    assert not at.error, [e.value for e in at.error]


def test_benchmarks_on_an_init_only_store_says_to_pull(init_store, monkeypatch):
    monkeypatch.setenv("SEAL_DB", str(init_store))
    at = _app("app_pages/benchmarks.py")
    assert any("seal data pull" in i.value for i in at.info)
