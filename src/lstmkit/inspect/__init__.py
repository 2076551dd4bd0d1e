"""Seeing inside trained (or fresh) recurrent models: gradient flow, gates, cells.

- `record` runs any model while recording every step of its lstmkit recurrent layers
  (states, gate activations, and their gradients after a backward pass);
- `gradient_flow` / `plot_gradient_flow`: ``||∂loss/∂h(t)||`` and ``||∂loss/∂c(t)||``
  against the lag — the vanishing gradient made visible;
- `gate_statistics`, `memory_spans`, `plot_gate_histograms`: saturation of every gate
  and the forget gate's effective memory span;
- `cell_activation_html`, `predicate_values`, `correlated_cells`: a character-by-character
  view of one cell's activation over a text, and the cells that track a property of it.

This floor knows nothing of tasks: callers hand it a model and a function computing a
loss (``lstmkit inspect`` does that for any checkpoint).
"""

from .cells_view import (
    PREDICATES,
    cell_activation_html,
    correlated_cells,
    predicate_values,
    write_cell_html,
)
from .gates import gate_statistics, memory_spans, plot_gate_histograms, unit_spans
from .gradients import GradientFlow, flows_csv, gradient_flow, norms_by_lag, plot_gradient_flow
from .recording import LayerTrace, Recording, record

__all__ = [
    "PREDICATES", "GradientFlow", "LayerTrace", "Recording", "cell_activation_html",
    "correlated_cells", "flows_csv", "gate_statistics", "gradient_flow", "memory_spans",
    "norms_by_lag", "plot_gate_histograms", "plot_gradient_flow", "predicate_values", "record",
    "unit_spans", "write_cell_html",
]
