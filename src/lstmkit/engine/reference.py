"""The reference engine: autograd through the cell step functions, one step at a time.

Readable, slow and always available; every faster engine is tested against it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..cells import NO_MASKS, CellSpec, LayerParams, Masks, input_projection, step
from .observe import StepCallback

NAME = "reference"


def unsupported_reason(spec: CellSpec, x: Tensor, masks: Masks = NO_MASKS) -> str | None:
    """The reference engine serves every configuration."""
    return None


def run_layer(
    x: Tensor,
    state0: tuple[Tensor, ...],
    params: LayerParams,
    spec: CellSpec,
    *,
    lengths: Tensor | None = None,
    reverse: bool = False,
    masks: Masks = NO_MASKS,
    on_step: StepCallback | None = None,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run one layer in one direction over a whole (padded) sequence.

    Args:
        x: ``(L, N, H_in)`` time-major input.
        state0: initial state, ``(h (N, H_out), c (N, H_cell)[, q (N, S*H_cell)])`` for
            an LSTM, ``(h (N, H),)`` otherwise.
        params: the layer's tensors.
        spec: the variant.
        lengths: ``(N,)`` int64 on ``x.device``, ``1 <= lengths <= L``; steps
            ``t >= lengths[n]`` leave sequence ``n``'s state untouched and output zeros,
            so a reverse pass starts at each sequence's own last step.
        reverse: run from ``t = L-1`` down to ``0``.
        masks: regularisation noise (see `Masks`).
        on_step: called after every step with ``(t, state, gates, computed)``
            (see `lstmkit.engine.observe`).

    Returns:
        ``y (L, N, H_out)`` and the final state (each sequence's state after its last
        real step).
    """
    length = x.shape[0]
    x_proj = input_projection(x, params, spec)  # (L, N, G*H_cell)
    outputs: list[Tensor | None] = [None] * length
    state = state0
    times = range(length - 1, -1, -1) if reverse else range(length)
    for t in times:
        gates: dict[str, Tensor] | None = {} if on_step is not None else None
        new_state = step(x_proj[t], state, params, spec, masks.at(t), gates)
        computed = new_state
        if lengths is None:
            out = new_state[0]
        else:
            active = (t < lengths).unsqueeze(1)  # (N, 1)
            new_state = tuple(
                torch.where(active, new, old) for new, old in zip(new_state, state)
            )
            out = torch.where(active, new_state[0], torch.zeros_like(new_state[0]))
        outputs[t] = out
        state = new_state
        if on_step is not None:
            on_step(t, state, gates, computed)
    return torch.stack(outputs), state  # type: ignore[arg-type]
