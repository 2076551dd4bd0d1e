"""Initial states in (``hx``) and final states out (``h_n`` / ``(h_n, c_n)``).

Layers hold states as ``(D*num_layers, N, size)`` stacks, like ``torch.nn``; the
engine wants one tuple per (layer, direction). Unbatched inputs drop the ``N`` axis.
"""

from __future__ import annotations

import torch
from torch import Tensor

STATE_NAMES = ("h_0", "c_0")


def initial_state_stacks(
    module_name: str,
    hx: object,
    sizes: tuple[int, ...],
    *,
    num_stacks: int,
    batch: int,
    batched: bool,
    like: Tensor,
) -> list[Tensor]:
    """Validate ``hx`` and return each state tensor as a ``(D*num_layers, N, size)`` stack.

    Args:
        hx: ``None``, a Tensor (one state) or a tuple of Tensors (LSTM: ``(h_0, c_0)``).
        sizes: feature size of each state tensor, e.g. ``(H_out, H_cell)``.
        num_stacks: ``D * num_layers``.
        like: a tensor of the expected dtype and device (the input).
    """
    if hx is None:
        return [like.new_zeros(num_stacks, batch, size) for size in sizes]
    tensors = _as_tuple(module_name, hx, len(sizes))
    result = []
    for name, tensor, size in zip(STATE_NAMES, tensors, sizes):
        expected = (num_stacks, batch, size) if batched else (num_stacks, size)
        if tuple(tensor.shape) != expected:
            raise ValueError(
                f"{module_name}: hx {name} should have shape {expected}"
                f"{'' if batched else ' for unbatched input'}, got {tuple(tensor.shape)}"
            )
        _check_like(module_name, f"hx {name}", tensor, like)
        result.append(tensor if batched else tensor.unsqueeze(1))  # (D*num_layers, N, size)
    return result


def split_initial_state(
    module_name: str,
    hx: object,
    sizes: tuple[int, ...],
    *,
    num_stacks: int,
    batch: int,
    batched: bool,
    like: Tensor,
) -> list[list[Tensor]]:
    """`initial_state_stacks`, then per state tensor a list over (layer, direction)."""
    stacks = initial_state_stacks(
        module_name, hx, sizes, num_stacks=num_stacks, batch=batch, batched=batched, like=like
    )
    return [list(stack.unbind(0)) for stack in stacks]


def _as_tuple(module_name: str, hx: object, count: int) -> tuple[Tensor, ...]:
    if count == 1:
        if not isinstance(hx, Tensor):
            raise TypeError(f"{module_name}: hx should be a Tensor, got {type(hx).__name__}")
        return (hx,)
    if not isinstance(hx, tuple | list) or len(hx) != count:
        raise TypeError(
            f"{module_name}: hx should be a tuple of {count} Tensors (h_0, c_0), got "
            f"{type(hx).__name__}{'' if not isinstance(hx, tuple | list) else f' of length {len(hx)}'}"
        )
    for name, tensor in zip(STATE_NAMES, hx):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{module_name}: hx {name} should be a Tensor, got {type(tensor).__name__}")
    return tuple(hx)


def _check_like(module_name: str, what: str, tensor: Tensor, like: Tensor) -> None:
    if tensor.dtype != like.dtype:
        raise TypeError(
            f"{module_name}: {what} dtype should match the input's ({like.dtype}), got {tensor.dtype}"
        )
    if tensor.device != like.device:
        raise ValueError(
            f"{module_name}: {what} should be on the input's device ({like.device}), got {tensor.device}"
        )


def stack_final_state(finals: list[Tensor], batched: bool) -> Tensor:
    """Per (layer, direction) ``(N, size)`` → ``(D*num_layers, N, size)`` (or unbatched)."""
    stacked = torch.stack(finals)
    return stacked if batched else stacked.squeeze(1)
