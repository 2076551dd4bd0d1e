r"""Gradient flow through time: how much of the loss's gradient reaches each step.

For a loss :math:`\mathcal{L}` and a recurrent layer's states, the flow at step
:math:`t` is the norm of the *total* derivative :math:`\partial\mathcal{L}/\partial h_t`
(every path through later steps and through the outputs), and for an LSTM also
:math:`\partial\mathcal{L}/\partial c_t`. Plotted against the lag — the distance from a
sequence's last step, ``lag = length - 1 - t`` — it shows the vanishing gradient: a tanh
RNN's norms fall off geometrically with the lag (products of Jacobians
:math:`\mathrm{diag}(1 - h_t^2) W_{hh}`), while the LSTM's cell path
:math:`\partial c_t / \partial c_{t-1} = \mathrm{diag}(f_t)` carries it far further.

Norms are averaged over the sequences of the batch: ``flow[lag] = mean over n of
||∂L/∂h_n(T_n - 1 - lag)||₂``, over the sequences long enough to have that lag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..files import write_atomic, write_new_text
from .recording import LayerTrace, record


@dataclass
class GradientFlow:
    """The gradient norms of one layer (one direction) against the lag.

    Attributes:
        label: what the user called the model (a file name, a cell name).
        layer: the trace's name (``module/layer k[ reverse]``).
        kind: the cell kind.
        h_norm: ``(T,)`` mean ``||∂L/∂h||`` at lag ``0 .. T-1``.
        c_norm: ``(T,)`` mean ``||∂L/∂c||`` (LSTM), else None.
    """

    label: str
    layer: str
    kind: str
    h_norm: np.ndarray
    c_norm: np.ndarray | None

    def decay(self) -> float:
        """``h_norm`` at the largest lag over ``h_norm`` at lag 0 (1: no decay)."""
        finite = self.h_norm[np.isfinite(self.h_norm)]
        return float(finite[-1] / finite[0]) if finite.size and finite[0] > 0 else float("nan")


def norms_by_lag(gradient: Tensor, valid: Tensor, *, reverse: bool = False) -> np.ndarray:
    """Mean per-sequence L2 norm of ``gradient (N, T, H)`` at each lag, ``(T,)``.

    The lag of step ``t`` is ``length - 1 - t`` (``t`` for a layer that runs backwards,
    whose last step is ``t = 0``); ``valid (N, T)`` marks the real steps. Lags no
    sequence reaches are NaN.
    """
    norms = gradient.double().norm(dim=-1)  # (N, T)
    lengths = valid.sum(dim=1)  # (N,)
    steps = torch.arange(gradient.shape[1])
    lag = steps[None, :].expand_as(norms) if reverse else lengths[:, None] - 1 - steps[None, :]  # (N, T)
    total = torch.zeros(gradient.shape[1], dtype=torch.float64)
    count = torch.zeros(gradient.shape[1], dtype=torch.float64)
    keep = valid & (lag >= 0)
    total.index_add_(0, lag[keep], norms[keep])
    count.index_add_(0, lag[keep], torch.ones_like(norms[keep]))
    flow = (total / count).numpy()
    flow[count.numpy() == 0] = np.nan
    return flow


def gradient_flow(model: torch.nn.Module, loss: Callable[[], Tensor], *, label: str = "model") -> list[GradientFlow]:
    """Run ``loss()`` (a scalar computed with ``model``), backpropagate, and measure.

    Returns one `GradientFlow` per recorded layer and direction (streamed ``step()``
    traces included). The model's parameter gradients are cleared before and after.
    """
    model.zero_grad(set_to_none=True)
    value, recording = record(model, loss, keep_grad=True)
    if not isinstance(value, Tensor) or value.dim() != 0:
        raise ValueError(f"loss must return a scalar tensor, got {type(value).__name__}")
    if not value.requires_grad:
        raise ValueError("loss: the returned value does not depend on any parameter (no graph)")
    value.backward()
    flows = [_flow(label, trace) for trace in recording.traces]
    model.zero_grad(set_to_none=True)
    return flows


def _flow(label: str, trace: LayerTrace) -> GradientFlow:
    valid = trace.valid()
    reverse = trace.direction == 1
    h = norms_by_lag(trace.gradient("h"), valid, reverse=reverse)
    c = norms_by_lag(trace.gradient("c"), valid, reverse=reverse) if trace.kind == "lstm" else None
    return GradientFlow(label, trace.name, trace.kind, h, c)


def flows_csv(flows: list[GradientFlow]) -> str:
    """One row per (model, layer, lag): ``label,layer,kind,lag,h_norm,c_norm``."""
    lines = ["label,layer,kind,lag,h_norm,c_norm"]
    for flow in flows:
        for lag, h in enumerate(flow.h_norm):
            c = "" if flow.c_norm is None else f"{flow.c_norm[lag]:.6g}"
            lines.append(f"{_csv(flow.label)},{_csv(flow.layer)},{flow.kind},{lag},{h:.6g},{c}")
    return "\n".join(lines) + "\n"


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n') else text


def plot_gradient_flow(flows: list[GradientFlow], path: str | Path, *, title: str = "") -> Path:
    """``||∂L/∂h(t)||`` (solid) and ``||∂L/∂c(t)||`` (dashed) against the lag, log scale,
    every model and layer on one plot; written atomically, never over an existing file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists; lstmkit never overwrites it")
    figure, axis = plt.subplots(figsize=(7.5, 4.5))
    for index, flow in enumerate(flows):
        colour = f"C{index % 10}"
        name = flow.label if len({f.layer for f in flows}) == 1 else f"{flow.label} {flow.layer}"
        lags = np.arange(flow.h_norm.size)
        axis.semilogy(lags, flow.h_norm, color=colour, label=f"{name}: ∂L/∂h")
        if flow.c_norm is not None:
            axis.semilogy(lags, flow.c_norm, color=colour, linestyle="--", label=f"{name}: ∂L/∂c")
    axis.set_xlabel("lag (steps before the sequence's last step)")
    axis.set_ylabel("mean gradient norm")
    axis.set_title(title or "gradient flow back through time")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8, loc="best")
    figure.tight_layout()
    write_atomic(path, lambda handle: figure.savefig(handle, format="png", dpi=110))
    plt.close(figure)
    return path


def write_flows_csv(flows: list[GradientFlow], path: str | Path) -> Path:
    """`flows_csv` into a new file."""
    return write_new_text(path, flows_csv(flows))
