r"""Gate statistics: how saturated the gates are, and how long the cells remember.

**Saturation** (Karpathy, Johnson & Fei-Fei 2015): a sigmoid gate is *left-saturated*
at a step when its activation is below ``low`` (0.1: nearly closed) and
*right-saturated* above ``high`` (0.9: nearly open). The tanh candidates (``g`` of an
LSTM, ``n`` of a GRU) live in ``[-1, 1]`` and are mapped to ``[0, 1]`` by
:math:`(a + 1) / 2` first, so the same thresholds mean below -0.8 and above 0.8.

**Memory span** of the forget gate: a cell that keeps the fraction :math:`f_t` of its
content each step retains :math:`\prod_t f_t` after a stretch of steps; with
:math:`\overline{\ln f} = \mathrm{mean}_t \ln f_t` over the real steps, the content
falls to :math:`1/e` after

.. math::  \tau = -1 / \overline{\ln f}

steps (``inf`` when the cell never forgets: ``f = 1``, as in the NFG variant). For a GRU
the keep gate is ``z`` (:math:`h_t = (1 - z_t) n_t + z_t h_{t-1}`); a plain RNN has no
gate and no span. Spans are per unit; the table gives their quantiles.

Statistics are over the real steps of every sequence (padding excluded), pooled over
all forward calls of the same layer.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..files import write_atomic
from .recording import Recording

TANH_GATES = {"lstm": ("g",), "gru": ("n",)}
KEEP_GATE = {"lstm": "f", "gru": "z"}


def _pooled(recording: Recording) -> dict[str, tuple[str, dict[str, np.ndarray]]]:
    """Layer name -> (kind, gate -> ``(steps, H)`` activations on real steps)."""
    pooled: dict[str, tuple[str, dict[str, list[np.ndarray]]]] = {}
    for trace in recording.traces:
        _, gates = pooled.setdefault(trace.name, (trace.kind, defaultdict(list)))
        valid = trace.valid()
        for name in trace.gate_names():
            gates[name].append(trace.gate(name)[valid].double().cpu().numpy())  # (steps, H)
    return {
        layer: (kind, {name: np.concatenate(parts) for name, parts in gates.items()})
        for layer, (kind, gates) in pooled.items()
    }


def _unit_interval(kind: str, gate: str, values: np.ndarray) -> np.ndarray:
    return (values + 1) / 2 if gate in TANH_GATES.get(kind, ()) else values


def gate_statistics(recording: Recording, *, low: float = 0.1, high: float = 0.9) -> pd.DataFrame:
    """One row per layer and gate: ``layer, kind, gate, activation, mean, std,
    left_saturated, right_saturated, saturated`` (fractions of unit-steps)."""
    if not 0 < low < high < 1:
        raise ValueError(f"low and high must satisfy 0 < low < high < 1, got low={low}, high={high}")
    rows = []
    for layer, (kind, gates) in _pooled(recording).items():
        for gate, values in gates.items():
            unit = _unit_interval(kind, gate, values)
            left, right = float((unit < low).mean()), float((unit > high).mean())
            rows.append({
                "layer": layer, "kind": kind, "gate": gate,
                "activation": "tanh" if gate in TANH_GATES.get(kind, ()) else "sigmoid",
                "mean": float(values.mean()), "std": float(values.std()),
                "left_saturated": left, "right_saturated": right, "saturated": left + right,
            })
    columns = ["layer", "kind", "gate", "activation", "mean", "std", "left_saturated",
               "right_saturated", "saturated"]
    return pd.DataFrame(rows, columns=columns)


def unit_spans(keep: np.ndarray) -> np.ndarray:
    """``τ = -1 / mean(ln keep)`` per unit from ``keep (steps, H)`` activations, ``(H,)``."""
    mean_log = np.log(np.clip(keep.astype(np.float64), 1e-300, 1.0)).mean(axis=0)  # (H,)
    with np.errstate(divide="ignore"):
        return np.where(mean_log < 0, -1.0 / np.minimum(mean_log, -1e-300), np.inf)


def memory_spans(recording: Recording) -> pd.DataFrame:
    """One row per layer with a keep gate: the quantiles of its units' spans (steps) and
    the fraction of units whose span exceeds the longest recorded sequence."""
    rows = []
    longest: dict[str, int] = {}
    for trace in recording.traces:
        longest[trace.name] = max(longest.get(trace.name, 0), int(trace.valid().sum(1).max()))
    for layer, (kind, gates) in _pooled(recording).items():
        keep_name = KEEP_GATE.get(kind)
        if keep_name is None:
            continue
        if keep_name in gates:
            spans = unit_spans(gates[keep_name])
        else:  # an LSTM without a forget gate (NFG) never forgets
            spans = np.full(next(iter(gates.values())).shape[1], np.inf)
        rows.append({
            "layer": layer, "kind": kind, "gate": keep_name, "units": spans.size,
            # method="lower": an actual unit's span (interpolating between inf spans gives NaN)
            "span_p10": float(np.quantile(spans, 0.1, method="lower")),
            "span_median": float(np.quantile(spans, 0.5, method="lower")),
            "span_p90": float(np.quantile(spans, 0.9, method="lower")),
            "longer_than_sequence": float((spans > longest[layer]).mean()),
            "sequence_length": longest[layer],
        })
    columns = ["layer", "kind", "gate", "units", "span_p10", "span_median", "span_p90",
               "longer_than_sequence", "sequence_length"]
    return pd.DataFrame(rows, columns=columns)


def plot_gate_histograms(recording: Recording, path: str | Path, *, low: float = 0.1,
                         high: float = 0.9, title: str = "") -> Path:
    """Per layer (rows) and gate (columns): a histogram of the activations with the
    saturated regions shaded, and beneath the grid a per-unit scatter of the fraction of
    time left- vs right-saturated (Karpathy et al. 2015, fig. 4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists; lstmkit never overwrites it")
    pooled = {k: v for k, v in _pooled(recording).items() if v[1]}
    if not pooled:
        raise ValueError("recording: no layer with gates (a plain RNN has none to plot)")
    columns = max(len(gates) for _, gates in pooled.values())
    rows = len(pooled)
    figure, axes = plt.subplots(2 * rows, columns, figsize=(3.0 * columns, 2.6 * 2 * rows), squeeze=False)
    for r, (layer, (kind, gates)) in enumerate(pooled.items()):
        for c in range(columns):
            hist_axis, scatter_axis = axes[2 * r, c], axes[2 * r + 1, c]
            if c >= len(gates):
                hist_axis.axis("off")
                scatter_axis.axis("off")
                continue
            gate, values = list(gates.items())[c]
            tanh = gate in TANH_GATES.get(kind, ())
            lo, hi = (-1.0, 1.0) if tanh else (0.0, 1.0)
            hist_axis.hist(values.ravel(), bins=50, range=(lo, hi), color="C0")
            cut_low, cut_high = (2 * low - 1, 2 * high - 1) if tanh else (low, high)
            hist_axis.axvspan(lo, cut_low, color="C3", alpha=0.15)
            hist_axis.axvspan(cut_high, hi, color="C3", alpha=0.15)
            hist_axis.set_title(f"{layer}: {gate}", fontsize=9)
            unit = _unit_interval(kind, gate, values)
            scatter_axis.scatter((unit < low).mean(0), (unit > high).mean(0), s=6, alpha=0.6)
            scatter_axis.plot([0, 1], [1, 0], color="grey", linewidth=0.5)
            scatter_axis.set_xlim(-0.03, 1.03)  # room for the markers of units at 0 or 1
            scatter_axis.set_ylim(-0.03, 1.03)
            scatter_axis.set_xlabel("fraction left-saturated", fontsize=8)
            scatter_axis.set_ylabel("fraction right-saturated", fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    write_atomic(path, lambda handle: figure.savefig(handle, format="png", dpi=90))
    plt.close(figure)
    return path

