"""Watching the recurrence one step at a time, for `lstmkit.inspect`.

While an observer is active (``with observing(observer): ...``), every recurrent layer
runs on the reference engine — the step functions, one step at a time, with autograd —
and reports each step: its time index, the state after the step, the gate activations
and the state tensors the step computed — autograd nodes every later use derives from,
so that after ``backward`` (with ``retain_grad``) their ``.grad`` is the total
``∂loss/∂state(t)``. No fused backend runs while observing, because a fused kernel never
materialises per-step states as autograd nodes.

An observer has one method, ``layer(index, params, spec, *, reverse, lengths,
streaming)``, called before a layer runs: ``index`` is its stack index ``layer * D +
direction``, ``params`` its `LayerParams` (whose ``weight_ih`` is the module's parameter
itself, so an observer can tell modules apart) and ``spec`` its `CellSpec`. It returns
the callback ``on_step(t, state, gates, computed)`` for that layer's steps:

- ``t``: the time index (descending for ``reverse``), or 0 for a streamed step
  (``module.step()``), where each call is the next step;
- ``state``: the step's state tuple, ``(h (N, H_out), c (N, H_cell)[, q])`` for an LSTM,
  ``(h (N, H),)`` otherwise (after the length masking: padded steps repeat the state);
- ``gates``: name -> ``(N, H_cell)`` activations (``i f g o`` / ``r z n``; empty for a
  plain RNN);
- ``computed``: the state the step function returned, before the length masking. On a
  sequence's real steps its tensors are the ones every later use derives from (the
  masked ``c`` feeds the next step, but ``h(t)`` was computed from the unmasked one), so
  gradients are read from these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from torch import Tensor

from ..cells import CellSpec, LayerParams

StepCallback = Callable[[int, tuple[Tensor, ...], dict[str, Tensor], tuple[Tensor, ...]], None]


class Observer(Protocol):
    """Receives every step of every recurrent layer run while it is active."""

    def layer(
        self, index: int, params: LayerParams, spec: CellSpec, *, reverse: bool,
        lengths: Tensor | None, streaming: bool,
    ) -> StepCallback:
        """Called before stack index ``index`` runs; returns its per-step callback."""
        ...


_CURRENT: ContextVar[Observer | None] = ContextVar("lstmkit_step_observer", default=None)


@contextmanager
def observing(observer: Observer) -> Iterator[Observer]:
    """Report every recurrent step to ``observer`` inside the ``with`` block."""
    token = _CURRENT.set(observer)
    try:
        yield observer
    finally:
        _CURRENT.reset(token)


def current_observer() -> Observer | None:
    """The active observer, or None (the normal, fused path)."""
    return _CURRENT.get()
