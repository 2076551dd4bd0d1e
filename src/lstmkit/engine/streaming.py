"""Streaming inference: one time step through a unidirectional stack, state carried.

`run_step` is what ``LSTM.step`` / ``GRU.step`` / ``RNN.step`` call. Without autograd
(under ``torch.no_grad()`` or ``torch.inference_mode()``) the native kernel runs the
whole stack in one call; with autograd on, the step functions of `lstmkit.cells` run
instead, so a streamed step can be differentiated. Regularisation noise is never
sampled here: zoneout enters as its eval-time expectation.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..cells import CellSpec, LayerParams, Masks, input_projection, step
from . import native, vendor
from .dispatch import check_backend
from .observe import current_observer


def run_step(
    x: Tensor,
    states: tuple[Tensor, ...],
    params: list[LayerParams],
    spec: CellSpec,
    *,
    zoneout: tuple[float, float] = (0.0, 0.0),
    backend: str = "auto",
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Advance a stack one step.

    Args:
        x: ``(N, H_in)``.
        states: ``(h (layers, N, H_out), c (layers, N, H_cell))`` for an LSTM, ``(h,)``
            otherwise.
        params: one `LayerParams` per layer.
        zoneout: the (hidden, cell) zoneout rates, applied as their expectation.
        backend: ``"auto"`` and ``"native"`` use the native kernel when no gradient is
            needed; ``"vendor"`` runs torch's fused op on a length-1 sequence;
            ``"reference"`` the step functions.

    Returns:
        ``y (N, H_out)`` and the new states, shaped like ``states``.
    """
    check_backend(backend)
    if spec.gate_recurrence:
        raise ValueError("step() does not carry the FGR gate state; run forward() instead")
    if current_observer() is not None:  # an observer sees the step functions run
        return _reference_step(x, states, params, spec, zoneout)
    if backend == "vendor":
        reason = vendor.unsupported_reason(spec, x, _eval_masks(x, zoneout))
        if reason is not None:
            raise ValueError(f"backend='vendor' cannot run this configuration: {reason}")
        y, finals = vendor.run_stack(
            x.unsqueeze(0), [tuple(s[k] for s in states) for k in range(len(params))], params,
            spec, num_layers=len(params), bidirectional=False, dropout=0.0, training=False,
            lengths=None,
        )
        return y[0], tuple(torch.stack([f[i] for f in finals]) for i in range(len(states)))
    if backend in ("auto", "native"):
        reason = native.unsupported_reason(spec, x)
        if reason is None and not torch.is_grad_enabled():
            return native.stack_step(x, states, params, spec, zoneout)
        if backend == "native":
            reason = reason or "autograd is on; step() runs the native kernel without it"
            raise ValueError(f"backend='native' cannot run this step: {reason}")
    return _reference_step(x, states, params, spec, zoneout)


def _eval_masks(x: Tensor, zoneout: tuple[float, float]) -> Masks:
    rate_h, rate_c = zoneout
    return Masks(
        zoneout_h=x.new_tensor(rate_h) if rate_h > 0 else None,
        zoneout_c=x.new_tensor(rate_c) if rate_c > 0 else None,
    )


def _reference_step(
    x: Tensor,
    states: tuple[Tensor, ...],
    params: list[LayerParams],
    spec: CellSpec,
    zoneout: tuple[float, float],
) -> tuple[Tensor, tuple[Tensor, ...]]:
    masks = _eval_masks(x, zoneout).at(0)
    observer = current_observer()
    layer_input = x
    new_states = []
    for layer, layer_params in enumerate(params):
        state = tuple(s[layer] for s in states)
        gates: dict[str, Tensor] | None = {} if observer is not None else None
        state = step(input_projection(layer_input, layer_params, spec), state, layer_params, spec, masks, gates)
        if observer is not None:
            observer.layer(layer, layer_params, spec, reverse=False, lengths=None, streaming=True)(0, state, gates, state)
        new_states.append(state)
        layer_input = state[0]
    stacked = tuple(torch.stack([s[k] for s in new_states]) for k in range(len(states)))
    return layer_input, stacked
