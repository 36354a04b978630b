"""The report's words: Markdown and HTML rendered from the same blocks, escaped, self-contained."""

import html
import re

import numpy as np

from sklearn_lambda3._report import SeriesTable, analyze
from sklearn_lambda3._report._render import render_html, render_report, report_blocks


def small_summary(tmp_path, names=("a<b", "c&d")):
    rng = np.random.default_rng(0)
    values = rng.standard_normal((120, 2)).cumsum(axis=0)
    return analyze(SeriesTable.from_values(names, values), out_dir=tmp_path, max_pairs=0, progress=False)


def test_markdown_and_html_hold_the_same_sections_and_figures(tmp_path):
    summary = small_summary(tmp_path)
    markdown = render_report(summary)
    page = render_html(summary, tmp_path)
    md_sections = re.findall(r"^## (.+)$", markdown, flags=re.M)
    html_sections = re.findall(r"<h2 id=\"[^\"]+\">(.+?)</h2>", page)
    assert md_sections == [html.unescape(section) for section in html_sections]
    assert len(md_sections) == 4  # no target, no interaction pairs: four sections
    figures = summary["figures"]
    assert figures and all(markdown.count(f"]({name})") == 1 for name in figures)  # each in its section
    assert page.count('src="data:image/png;base64,') == len(figures)
    assert (tmp_path / "report.html").read_text() == page


def test_series_names_are_escaped_in_html(tmp_path):
    page = render_html(small_summary(tmp_path), tmp_path)
    assert "a&lt;b" in page and "c&amp;d" in page
    assert "<b" not in page.replace("<body", "").replace("<br", "")  # no stray tag from a name


def test_bold_markup_becomes_strong(tmp_path):
    summary = small_summary(tmp_path, names=("x", "y"))
    blocks = report_blocks(summary)
    assert blocks[0] == ("h1", "Lambda³ analysis")
    page = render_html(summary, tmp_path)
    assert "**" not in page and "<strong>" in page
