"""What does one LSTM cell track?  Views in the manner of Karpathy, Johnson & Fei-Fei (2015).

"Visualizing and Understanding Recurrent Networks" colours a character-level model's
input text by one cell's activation, character by character, and finds cells that
follow quotes, line length or nesting depth. This module provides:

- `cell_activation_html` / `write_cell_html`: a self-contained HTML page (no scripts,
  no external resources) with the text coloured by each chosen cell;
- `predicate_values`: per-character features of the text ("inside quotes", ...);
- `correlated_cells`: the cells whose activations correlate best with such a feature.

Everything works on numpy arrays; a torch tensor is accepted and converted without
importing torch. Only `lstmkit.files` (the ground floor) is used from the package.
"""

from __future__ import annotations

import html
import operator
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..files import write_new_text

PREDICATES = ("inside-quotes", "inside-parentheses", "line-position", "vowel", "whitespace")
NEWLINE_MARK = "\u21b5"  # "↵", shown in place of a newline, followed by a line break
_STYLE = """body { font-family: sans-serif; margin: 1.5em; }
.text { font-family: monospace; white-space: pre-wrap; line-height: 1.6; border: 1px solid #ccc;
        padding: 0.5em; }
.nl { color: #999; }
.legend span { display: inline-block; padding: 0 0.6em; font-family: monospace; }"""


def _as_array(values, name: str) -> np.ndarray:
    """``values`` as a finite float64 array; torch tensors are detached and moved to the CPU."""
    if hasattr(values, "detach"):
        values = values.detach().cpu()
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers: {error}") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite values only (found NaN or inf)")
    return array


def _check_text(text) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")


def cell_colour(value: float, value_range: tuple[float, float] = (-1.0, 1.0)) -> str:
    """The inline CSS for one activation: a diverging blue-white-red scale.

    With ``(lo, hi) = value_range``, ``m = (lo + hi) / 2`` and ``h = (hi - lo) / 2``:
    ``s = (clip(value, lo, hi) - m) / h`` in [-1, 1] and ``k = round(255 (1 - |s|))``;
    the background is ``rgb(255,k,k)`` (red) for ``s >= 0`` and ``rgb(k,k,255)`` (blue)
    for ``s < 0``, so the default range maps 0 to white and +-1 (or beyond) to full
    colour. Where ``|s| > 0.6`` the text turns white to stay legible.
    """
    low, high = value_range
    s = (min(max(value, low), high) - (low + high) / 2) / ((high - low) / 2)
    k = round(255 * (1 - abs(s)))
    style = f"background-color:rgb(255,{k},{k})" if s >= 0 else f"background-color:rgb({k},{k},255)"
    return style + (";color:#fff" if abs(s) > 0.6 else "")


def _char_span(char: str, value: float, value_range: tuple[float, float]) -> str:
    attributes = f'style="{cell_colour(value, value_range)}" title="{value:.3f}"'
    if char == "\n":
        # A bare newline would vanish inside its coloured box; show a mark, then break.
        return f'<span class="c nl" {attributes}>{NEWLINE_MARK}</span><br>'
    return f'<span class="c" {attributes}>{html.escape(char, quote=True)}</span>'


def _shown_cells(activations: np.ndarray, cells, labels) -> tuple[list[int], list[str]]:
    width = activations.shape[1]
    if cells is None:
        chosen = list(range(width))
    else:
        try:
            chosen = [operator.index(cell) for cell in cells]
        except TypeError:
            raise TypeError(f"cells must be a sequence of integers, got {cells!r}") from None
        if not chosen:
            raise ValueError("cells must name at least one cell")
        bad = [cell for cell in chosen if not 0 <= cell < width]
        if bad:
            raise ValueError(f"cells {bad} out of range for {width} cell(s) (valid: 0..{width - 1})")
    if labels is None:
        return chosen, [f"cell {cell}" for cell in chosen]
    labels = [str(label) for label in labels]
    if len(labels) != len(chosen):
        raise ValueError(f"labels has {len(labels)} entries but {len(chosen)} cell(s) are shown")
    return chosen, labels


def _check_range(value_range) -> tuple[float, float]:
    try:
        low, high = (float(bound) for bound in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"value_range must be two numbers (low, high), got {value_range!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"value_range must be finite with low < high, got {value_range!r}")
    return low, high


def _legend(value_range: tuple[float, float]) -> str:
    low, high = value_range
    stops = np.linspace(low, high, 5)
    swatches = "".join(f'<span style="{cell_colour(v, value_range)}">{v:.3g}</span>' for v in stops)
    return f'<p class="legend">Activation: {swatches} (values beyond the ends get full colour)</p>'


def cell_activation_html(
    text: str,
    activations,
    *,
    title: str = "",
    cells: Sequence[int] | None = None,
    labels: Sequence[str] | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> str:
    """A self-contained HTML5 page showing ``text`` coloured by each chosen cell.

    Args:
        text: the characters the model read (non-empty).
        activations: ``(T,)`` for one cell or ``(T, H)`` for ``H`` cells, ``T = len(text)``;
            row ``t`` is the activation after reading ``text[t]``.
        cells: columns to show (default: all; a 1-D array is the single cell 0).
        labels: one heading per shown cell (default ``"cell {index}"``).
        value_range: the values that get full blue and full red (see `cell_colour`);
            the span's ``title`` (hover text) holds the exact value to 3 decimals.
    """
    _check_text(text)
    if not text:
        raise ValueError("text must be non-empty")
    values = _as_array(activations, "activations")
    if values.ndim not in (1, 2) or values.shape[0] != len(text):
        raise ValueError(
            f"activations must have shape (len(text),) or (len(text), H) with len(text) = {len(text)},"
            f" got shape {values.shape}"
        )
    values = values.reshape(len(text), -1)
    chosen, names = _shown_cells(values, cells, labels)
    value_range = _check_range(value_range)
    heading = html.escape(title or "LSTM cell activations", quote=True)
    sections = []
    for cell, name in zip(chosen, names):
        spans = "".join(_char_span(c, v, value_range) for c, v in zip(text, values[:, cell].tolist()))
        sections.append(
            f'<section class="cell">\n<h2>{html.escape(name, quote=True)}</h2>\n'
            f'<div class="text">{spans}</div>\n</section>'
        )
    body = "\n".join(sections)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{heading}</title>\n'
        f"<style>\n{_STYLE}\n</style>\n</head>\n<body>\n<h1>{heading}</h1>\n{_legend(value_range)}\n"
        f"{body}\n</body>\n</html>\n"
    )


def write_cell_html(path: str | os.PathLike, text: str, activations, **kwargs) -> Path:
    """Write `cell_activation_html` to a new file ``path``; FileExistsError if it exists.

    The page is built completely before anything is written, and written atomically.
    """
    return write_new_text(path, cell_activation_html(text, activations, **kwargs))


def _toggle_feature(text: str, opens: str, closes: str, toggles: str, counts: bool) -> np.ndarray:
    """1.0 where the state after reading the character is "inside" (depth > 0).

    ``toggles`` flip the state (straight quotes); ``counts`` makes opens/closes nest.
    """
    out = np.zeros(len(text))
    depth = 0
    for index, char in enumerate(text):
        if char in toggles:
            depth = 0 if depth else 1
        elif char in opens:
            depth = depth + 1 if counts else 1
        elif char in closes:
            depth = max(depth - 1, 0) if counts else 0
        out[index] = depth > 0
    return out


def _line_position(text: str) -> np.ndarray:
    out = np.zeros(len(text))
    column = 0
    for index, char in enumerate(text):
        out[index] = column
        column = 0 if char == "\n" else column + 1
    return out


def _regex_feature(text: str, pattern: str) -> np.ndarray:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"predicate regex {pattern!r} is invalid: {error}") from None
    out = np.zeros(len(text))
    for match in compiled.finditer(text):
        out[match.start():match.end()] = 1.0  # a zero-width match marks nothing
    return out


_BUILT_IN: dict[str, Callable[[str], np.ndarray]] = {
    "inside-quotes": lambda text: _toggle_feature(text, "\u201c", "\u201d", '"', counts=False),
    "inside-parentheses": lambda text: _toggle_feature(text, "(", ")", "", counts=True),
    "line-position": _line_position,
    "vowel": lambda text: np.array([c in "aeiouAEIOU" for c in text], dtype=np.float64),
    "whitespace": lambda text: np.array([c.isspace() for c in text], dtype=np.float64),
}


def predicate_values(text: str, predicate: str) -> np.ndarray:
    """A per-character feature of ``text``, shape ``(len(text),)`` float64.

    Built-in predicates (`PREDICATES`), each value belonging to the character itself:

    - ``"inside-quotes"``: 1 inside a double-quoted span. A straight ``"`` toggles;
      curly quotes open (U+201C) and close (U+201D). The opening quote counts as
      inside, the closing quote as outside.
    - ``"inside-parentheses"``: 1 where the nesting depth after the character is > 0,
      so ``(`` is inside and the ``)`` that returns to depth 0 is outside; an
      unmatched ``)`` never makes the depth negative.
    - ``"line-position"``: the index within the line (0 right after a newline); the
      newline itself has the position it takes on the line it ends.
    - ``"vowel"``: 1 for ``aeiouAEIOU``; ``"whitespace"``: 1 where ``str.isspace``.
    - ``"regex:PATTERN"``: 1 for characters inside any ``re.finditer`` match of PATTERN.
    """
    _check_text(text)
    if not isinstance(predicate, str):
        raise TypeError(f"predicate must be a str, got {type(predicate).__name__}")
    if predicate.startswith("regex:"):
        return _regex_feature(text, predicate[len("regex:"):])
    if predicate not in _BUILT_IN:
        known = ", ".join(PREDICATES + ("regex:PATTERN",))
        raise ValueError(f"unknown predicate {predicate!r}; known: {known}")
    return _BUILT_IN[predicate](text)


def correlated_cells(activations, target, *, top: int = 5) -> list[tuple[int, float]]:
    """The ``top`` cells whose activations best follow ``target``, by |Pearson r|.

    ``activations (T, H)``, ``target (T,)``; ``r_h = <a_h - mean, y - mean> /
    (||a_h - mean|| ||y - mean||)``. Returns ``(cell, r)`` pairs sorted by ``|r|``
    descending; |r| equal to 12 decimals count as tied (float noise) and the lower
    index comes first. A constant cell has r = 0; a constant target is an error.
    """
    values = _as_array(activations, "activations")
    goal = _as_array(target, "target")
    if values.ndim != 2 or values.shape[0] < 2:
        raise ValueError(f"activations must have shape (T, H) with T >= 2, got {values.shape}")
    if goal.shape != (values.shape[0],):
        raise ValueError(f"target must have shape ({values.shape[0]},) to match activations, got {goal.shape}")
    if isinstance(top, bool) or not isinstance(top, int):
        raise TypeError(f"top must be an int, got {type(top).__name__}")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    if np.ptp(goal) == 0:
        raise ValueError("target is constant, correlation undefined")
    centred_goal = goal - goal.mean()
    centred_goal /= np.linalg.norm(centred_goal)
    centred = values - values.mean(axis=0)
    norms = np.linalg.norm(centred, axis=0)
    # Exactly constant columns (ptp == 0) get r = 0 rather than 0/0 or rounding noise.
    varying = np.ptp(values, axis=0) > 0
    r = np.zeros(values.shape[1])
    r[varying] = (centred[:, varying] / norms[varying]).T @ centred_goal
    r = np.clip(r, -1.0, 1.0)
    order = sorted(range(r.size), key=lambda cell: (-round(abs(r[cell]), 12), cell))
    return [(cell, float(r[cell])) for cell in order[:top]]
