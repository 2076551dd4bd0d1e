"""A PNG heat map of a classifier's confusion matrix.

Cell ``(i, j)`` shows the count ``n_{ij}`` of sequences of true class ``i`` (rows) predicted
as ``j`` (columns). Its colour is the row-normalised ``n_{ij} / sum_k n_{ik}`` (the share
of class ``i`` that went to ``j``; the diagonal is each class's recall), so a rare class's
mistakes are as visible as a frequent one's. A class with no sequences gets a blank row.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ...files import write_atomic
from .metrics import check_matrix

__all__ = ["plot_confusion"]

# Past this many classes the numbers no longer fit in the cells; the colours still tell.
_MAX_ANNOTATED_CLASSES = 30


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend, imported when a plot is drawn
    (importing it costs about 0.3 s, which every lstmkit command would otherwise pay)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(path, matrix, classes, *, title: str) -> Path:
    """Draw the ``(C, C)`` confusion ``matrix`` (rows true, columns predicted) to ``path``.

    Colours are row-normalised (see the module doc), each cell carries its count (up to 30
    classes), and the axes carry the ``C`` class names. The PNG is rendered in memory and
    then written atomically, so ``path`` is never left half-written. Returns ``path``.
    """
    m, names = check_matrix(matrix, classes)
    path = Path(path)
    c = len(names)
    totals = m.sum(axis=1, keepdims=True)  # (C, 1)
    shares = np.divide(m, totals, out=np.zeros(m.shape), where=totals > 0)  # (C, C)

    plt = _pyplot()
    side = min(4.0 + 0.55 * c, 24.0)
    figure, axes = plt.subplots(figsize=(side + 1.2, side))
    try:
        image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
        colorbar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
        colorbar.set_label("share of the true class")
        axes.set_xticks(np.arange(c), labels=names, rotation=45, ha="right",
                        rotation_mode="anchor")
        axes.set_yticks(np.arange(c), labels=names)
        axes.set_xlabel("predicted class")
        axes.set_ylabel("true class")
        axes.set_title(title)
        if c <= _MAX_ANNOTATED_CLASSES:
            size = 9 if c <= 12 else 7
            for i in range(c):
                for j in range(c):
                    # White text on dark cells, black on light ones, so every count reads.
                    colour = "white" if shares[i, j] > 0.5 else "black"
                    axes.text(j, i, str(int(m[i, j])), ha="center", va="center",
                              color=colour, fontsize=size)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110)
    finally:
        plt.close(figure)
    png = buffer.getvalue()
    return write_atomic(path, lambda handle: handle.write(png))
