"""Cell views (Karpathy et al. 2015): HTML pages, text predicates, correlated cells."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest

from lstmkit.inspect.cells_view import (
    PREDICATES,
    cell_activation_html,
    correlated_cells,
    predicate_values,
    write_cell_html,
)

TRICKY = 'a<b>&"c\'\té漢\n x\n'
VOID = {"meta", "br", "hr", "img", "input", "link"}


class _Page(HTMLParser):
    """Collects, per section, the characters and attributes of the character spans."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.unbalanced: list[str] = []
        self.sections: list[dict] = []
        self.span: dict | None = None
        self.heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "section":
            self.sections.append({"heading": "", "chars": [], "titles": [], "styles": []})
        if tag == "h2":
            self.heading = []
        if tag == "span" and "c" in attrs.get("class", "").split():
            newline = "nl" in attrs["class"].split()
            self.span = {"text": [], "newline": newline, "title": attrs["title"], "style": attrs["style"]}

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.unbalanced.append(tag)
        if tag == "h2":
            self.sections[-1]["heading"] = "".join(self.heading)
            self.heading = None
        if tag == "span" and self.span is not None:
            section = self.sections[-1]
            section["chars"].append("\n" if self.span["newline"] else "".join(self.span["text"]))
            section["titles"].append(self.span["title"])
            section["styles"].append(self.span["style"])
            self.span = None

    def handle_data(self, data):
        if self.span is not None:
            self.span["text"].append(data)
        if self.heading is not None:
            self.heading.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def test_page_round_trips_every_character_and_is_balanced():
    values = np.linspace(-1.0, 1.0, len(TRICKY))
    page = cell_activation_html(TRICKY, values, title='a <"title">')
    assert page.startswith("<!DOCTYPE html>")
    for piece in ('<html lang="en">', '<meta charset="utf-8">', "<title>a &lt;&quot;title&quot;&gt;</title>"):
        assert piece in page
    assert "<script" not in page and "http" not in page
    parsed = _parse(page)
    assert parsed.unbalanced == [] and parsed.stack == []
    (section,) = parsed.sections
    assert section["heading"] == "cell 0"
    assert len(section["chars"]) == len(TRICKY)  # one span per character
    assert "".join(section["chars"]) == TRICKY
    assert section["titles"] == [f"{v:.3f}" for v in values]
    # Newlines are visible marks followed by a line break; raw markup never leaks.
    assert page.count("\u21b5</span><br>") == 2
    assert "<b>" not in page
    # Each special character sits escaped in its own span (html.escape, quotes included).
    for escaped in ("&lt;", "&gt;", "&amp;", "&quot;", "&#x27;"):
        assert f">{escaped}</span>" in page


def test_colours_follow_the_documented_formula():
    text = "abcdefg"
    values = np.array([0.0, 0.5, -0.25, 1.0, -1.0, 3.0, -7.0])
    page = cell_activation_html(text, values)
    styles = _parse(page).sections[0]["styles"]
    assert styles == [
        "background-color:rgb(255,255,255)",  # 0 -> white
        "background-color:rgb(255,128,128)",  # +0.5 -> half red, round(127.5) = 128
        "background-color:rgb(191,191,255)",  # -0.25 -> light blue, round(191.25)
        "background-color:rgb(255,0,0);color:#fff",
        "background-color:rgb(0,0,255);color:#fff",
        "background-color:rgb(255,0,0);color:#fff",  # clipped: full red
        "background-color:rgb(0,0,255);color:#fff",  # clipped: full blue
    ]
    # The title keeps the exact (unclipped) value.
    assert _parse(page).sections[0]["titles"][5:] == ["3.000", "-7.000"]


def test_value_range_moves_the_scale():
    # Range (0, 2): midpoint 1 is white, 0 full blue, 1.5 half red.
    page = cell_activation_html("abc", [1.0, 0.0, 1.5], value_range=(0, 2))
    assert _parse(page).sections[0]["styles"] == [
        "background-color:rgb(255,255,255)",
        "background-color:rgb(0,0,255);color:#fff",
        "background-color:rgb(255,128,128)",
    ]


def test_sections_per_cell_and_chosen_columns():
    rng = np.random.default_rng(0)
    values = rng.uniform(-1, 1, size=(5, 4))
    both = _parse(cell_activation_html("hello", values[:, :2]))
    assert [s["heading"] for s in both.sections] == ["cell 0", "cell 1"]
    assert all("".join(s["chars"]) == "hello" for s in both.sections)
    assert both.sections[1]["titles"] == [f"{v:.3f}" for v in values[:, 1]]
    only = _parse(cell_activation_html("hello", values, cells=[2], labels=["quote <cell>"]))
    (section,) = only.sections
    assert section["heading"] == "quote <cell>"
    assert section["titles"] == [f"{v:.3f}" for v in values[:, 2]]


def test_tensor_like_input_is_detached():
    class FakeTensor:
        def __init__(self, array):
            self.array = array

        def detach(self):
            return self

        def cpu(self):
            return self.array

    page = cell_activation_html("ab", FakeTensor(np.array([0.25, -0.5])))
    assert _parse(page).sections[0]["titles"] == ["0.250", "-0.500"]


def test_write_cell_html_never_overwrites(tmp_path):
    path = tmp_path / "view" / "cells.html"
    written = write_cell_html(path, "ab", [0.1, 0.2], title="first")
    assert written == path
    first = path.read_text(encoding="utf-8")
    assert first == cell_activation_html("ab", [0.1, 0.2], title="first")
    with pytest.raises(FileExistsError, match="already exists"):
        write_cell_html(path, "cd", [0.3, 0.4], title="second")
    assert path.read_text(encoding="utf-8") == first
    assert sorted(p.name for p in path.parent.iterdir()) == ["cells.html"]  # no temporary left


@pytest.mark.parametrize(
    ("text", "activations", "kwargs", "error", "match"),
    [
        (b"ab", [0.0, 0.0], {}, TypeError, "text must be a str"),
        ("", [], {}, ValueError, "text must be non-empty"),
        ("abc", [0.0, 0.0], {}, ValueError, r"activations must have shape .* = 3, got shape \(2,\)"),
        ("ab", np.zeros((2, 2, 2)), {}, ValueError, "activations must have shape"),
        ("ab", [0.0, np.nan], {}, ValueError, "activations must hold finite values"),
        ("ab", [0.0, np.inf], {}, ValueError, "activations must hold finite values"),
        ("ab", ["x", "y"], {}, TypeError, "activations must be an array of numbers"),
        ("ab", np.zeros((2, 3)), {"cells": [3]}, ValueError, r"cells \[3\] out of range for 3"),
        ("ab", np.zeros((2, 3)), {"cells": [-1]}, ValueError, r"cells \[-1\] out of range"),
        ("ab", np.zeros((2, 3)), {"cells": []}, ValueError, "cells must name at least one"),
        ("ab", np.zeros((2, 3)), {"cells": [0.5]}, TypeError, "cells must be a sequence of integers"),
        ("ab", [0.0, 0.0], {"cells": [1]}, ValueError, r"cells \[1\] out of range for 1"),
        ("ab", np.zeros((2, 3)), {"labels": ["a"]}, ValueError, "labels has 1 entries but 3 cell"),
        ("ab", [0.0, 0.0], {"value_range": (1.0, 1.0)}, ValueError, "value_range must be finite with low < high"),
        ("ab", [0.0, 0.0], {"value_range": (1.0, -1.0)}, ValueError, "value_range must be finite"),
        ("ab", [0.0, 0.0], {"value_range": (0.0,)}, ValueError, "value_range must be two numbers"),
    ],
)
def test_page_validation(text, activations, kwargs, error, match):
    with pytest.raises(error, match=match):
        cell_activation_html(text, activations, **kwargs)


def test_predicates_by_hand():
    assert PREDICATES == ("inside-quotes", "inside-parentheses", "line-position", "vowel", "whitespace")
    quotes = predicate_values('a"bc"d"e', "inside-quotes")
    np.testing.assert_array_equal(quotes, [0, 1, 1, 1, 0, 0, 1, 1])
    curly = predicate_values("x\u201cab\u201dy", "inside-quotes")
    np.testing.assert_array_equal(curly, [0, 1, 1, 1, 0, 0])
    parens = predicate_values("a(b(c)d))e(", "inside-parentheses")
    np.testing.assert_array_equal(parens, [0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1])
    lines = predicate_values("ab\nc\n\nde", "line-position")
    np.testing.assert_array_equal(lines, [0, 1, 2, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(predicate_values("bAe y", "vowel"), [0, 1, 1, 0, 0])
    np.testing.assert_array_equal(predicate_values("a b\t\nc", "whitespace"), [0, 1, 0, 1, 1, 0])
    for name in PREDICATES:
        out = predicate_values("ab", name)
        assert out.dtype == np.float64 and out.shape == (2,)
    assert predicate_values("", "vowel").shape == (0,)


def test_regex_predicate():
    np.testing.assert_array_equal(
        predicate_values("def f(x): return x", r"regex:\bx\b|def"),
        [1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    )
    # Zero-width matches (here: every position) mark nothing.
    np.testing.assert_array_equal(predicate_values("abc", "regex:z*"), [0, 0, 0])


@pytest.mark.parametrize(
    ("text", "predicate", "error", "match"),
    [
        ("ab", "regex:(", ValueError, r"predicate regex '\(' is invalid: missing \)"),
        ("ab", "vowels", ValueError, r"unknown predicate 'vowels'; known: inside-quotes, .*regex:PATTERN"),
        ("ab", 3, TypeError, "predicate must be a str"),
        (["a"], "vowel", TypeError, "text must be a str"),
    ],
)
def test_predicate_errors(text, predicate, error, match):
    with pytest.raises(error, match=match):
        predicate_values(text, predicate)


def test_correlated_cells_order_ties_and_constant_columns():
    rng = np.random.default_rng(3)
    target = rng.normal(size=50)
    activations = np.stack(
        [rng.normal(size=50), -target, np.full(50, 0.3), target * 2 + 1], axis=1
    )
    result = correlated_cells(activations, target, top=10)  # clipped to H = 4
    assert [cell for cell, _ in result] == [1, 3, 0, 2]
    assert result[0][1] == pytest.approx(-1.0, abs=1e-12)
    assert result[1][1] == pytest.approx(1.0, abs=1e-12)
    assert result[2][1] == pytest.approx(np.corrcoef(activations[:, 0], target)[0, 1], abs=1e-12)
    assert result[3] == (2, 0.0)
    assert correlated_cells(activations, target, top=1) == result[:1]


def test_correlated_cells_matches_corrcoef():
    rng = np.random.default_rng(7)
    activations = rng.normal(size=(40, 6))
    target = activations @ rng.normal(size=6) + rng.normal(size=40)
    expected = [np.corrcoef(activations[:, h], target)[0, 1] for h in range(6)]
    expected_order = sorted(range(6), key=lambda h: -abs(expected[h]))
    result = correlated_cells(activations, target, top=6)
    assert [cell for cell, _ in result] == expected_order
    np.testing.assert_allclose([r for _, r in result], [expected[h] for h in expected_order], atol=1e-12)
    assert correlated_cells(activations, target) == result[:5]  # default top = 5


@pytest.mark.parametrize(
    ("activations", "target", "top", "error", "match"),
    [
        (np.zeros(5), np.arange(5.0), 1, ValueError, r"activations must have shape \(T, H\)"),
        (np.zeros((1, 2)), np.arange(1.0), 1, ValueError, "activations must have shape .* T >= 2"),
        (np.zeros((5, 2)), np.arange(4.0), 1, ValueError, r"target must have shape \(5,\)"),
        (np.zeros((5, 2)), np.ones(5), 1, ValueError, "target is constant, correlation undefined"),
        (np.zeros((5, 2)), np.arange(5.0), 0, ValueError, "top must be at least 1"),
        (np.zeros((5, 2)), np.arange(5.0), 2.0, TypeError, "top must be an int"),
        (np.zeros((5, 2)), np.arange(5.0), True, TypeError, "top must be an int"),
        (np.full((5, 2), np.nan), np.arange(5.0), 1, ValueError, "activations must hold finite"),
        (np.zeros((5, 2)), [0, 1, np.inf, 2, 3], 1, ValueError, "target must hold finite"),
    ],
)
def test_correlated_cells_validation(activations, target, top, error, match):
    with pytest.raises(error, match=match):
        correlated_cells(activations, target, top=top)
