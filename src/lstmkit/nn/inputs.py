"""Turning what a user passes (padded, packed, unbatched, batch-first, lengths) into the
engine's time-major padded form, and the result back into the user's form."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


@dataclass(frozen=True)
class PreparedInput:
    """Input in engine form and what is needed to give the output back.

    Attributes:
        x: ``(L, N, H_in)`` time-major.
        lengths: ``(N,)`` int64 on ``x.device``, or ``None`` when every sequence is full.
        batched: the user's input had a batch dimension.
        packed: the user's `PackedSequence`, to pack the output the same way.
    """

    x: Tensor
    lengths: Tensor | None
    batched: bool
    packed: PackedSequence | None

    @property
    def batch_size(self) -> int:
        return self.x.shape[1]


def prepare_input(
    module_name: str,
    input: object,
    lengths: object,
    *,
    batch_first: bool,
    input_size: int,
    dtype: torch.dtype,
    device: torch.device,
) -> PreparedInput:
    """Validate ``input``/``lengths`` and bring them to engine form."""
    if isinstance(input, PackedSequence):
        if lengths is not None:
            raise ValueError(
                f"{module_name}: lengths must be None for a PackedSequence input "
                "(the packed sequence carries its own lengths)"
            )
        padded, packed_lengths = pad_packed_sequence(input)  # (L, N, H_in), original order
        check_features(module_name, padded, input_size, dtype, device)
        return PreparedInput(padded, packed_lengths.to(padded.device), True, input)
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{module_name}: input should be a Tensor or PackedSequence, got {type(input).__name__}"
        )
    if input.dim() not in (2, 3):
        raise ValueError(
            f"{module_name}: Expected input to be 2D (unbatched: L, H_in) or 3D "
            f"(batched), got {input.dim()}D tensor of shape {tuple(input.shape)} instead"
        )
    check_features(module_name, input, input_size, dtype, device)
    batched = input.dim() == 3
    if not batched:
        if lengths is not None:
            raise ValueError(
                f"{module_name}: lengths is only supported for batched (3D) input, "
                "got a 2D unbatched input"
            )
        x = input.unsqueeze(1)  # (L, 1, H_in)
    else:
        x = input.transpose(0, 1) if batch_first else input  # (L, N, H_in)
    if x.shape[0] == 0:
        raise ValueError(f"{module_name}: input has length 0; need at least one time step")
    checked = None if lengths is None else check_lengths(lengths, x.shape[0], x.shape[1], x.device)
    return PreparedInput(x, checked, batched, None)


def prepare_step_input(
    name: str, input: object, input_size: int, dtype: torch.dtype, device: torch.device
) -> tuple[Tensor, bool]:
    """One time step as ``(N, H_in)``, and whether the user's input was batched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input should be a Tensor, got {type(input).__name__}")
    if input.dim() not in (1, 2):
        raise ValueError(
            f"{name}: expected one time step, (N, H_in) or unbatched (H_in,), got a "
            f"{input.dim()}D tensor of shape {tuple(input.shape)}; run forward() for sequences"
        )
    check_features(name, input, input_size, dtype, device)
    batched = input.dim() == 2
    return (input if batched else input.unsqueeze(0)), batched


def check_features(
    name: str, x: Tensor, input_size: int, dtype: torch.dtype, device: torch.device
) -> None:
    """The input's feature size, dtype and device agree with the module's weights."""
    if x.shape[-1] != input_size:
        raise ValueError(
            f"{name}: input.size(-1) must be equal to input_size. Expected {input_size}, "
            f"got {x.shape[-1]}"
        )
    if x.dtype != dtype and not torch.is_autocast_enabled(x.device.type):
        raise TypeError(
            f"{name}: input dtype ({x.dtype}) does not match weight dtype ({dtype}); "
            f"convert the input with input.to({dtype}) or the model with model.to({x.dtype})"
        )
    if x.device != device:
        raise ValueError(
            f"{name}: input is on device {x.device} but the weights are on {device}; "
            f"move one of them (input.to({str(device)!r}) or model.to({str(x.device)!r}))"
        )


def check_lengths(lengths: object, max_length: int, batch: int, device: torch.device) -> Tensor:
    """``lengths`` as ``(N,)`` int64 on ``device``, each in ``[1, L]``."""
    if isinstance(lengths, Tensor):
        if lengths.dtype.is_floating_point or lengths.dtype.is_complex or lengths.dtype == torch.bool:
            raise TypeError(f"lengths should hold integers, got a tensor of dtype {lengths.dtype}")
        values = lengths
    elif isinstance(lengths, list | tuple):
        bad = [v for v in lengths if isinstance(v, bool) or not isinstance(v, int)]
        if bad:
            raise TypeError(f"lengths should hold integers, got {bad[0]!r} ({type(bad[0]).__name__})")
        values = torch.tensor(lengths, dtype=torch.int64)
    else:
        raise TypeError(
            f"lengths should be a 1D integer tensor or a list of ints, got {type(lengths).__name__}"
        )
    if values.dim() != 1 or values.shape[0] != batch:
        raise ValueError(
            f"lengths should have shape ({batch},) (one length per sequence), got {tuple(values.shape)}"
        )
    low, high = int(values.min()), int(values.max())
    if low < 1:
        raise ValueError(f"lengths must be at least 1, got {low}")
    if high > max_length:
        raise ValueError(
            f"lengths must not exceed the sequence length {max_length}, got {high}"
        )
    return values.to(device=device, dtype=torch.int64)


def restore_output(y: Tensor, prepared: PreparedInput, batch_first: bool) -> Tensor | PackedSequence:
    """``y (L, N, H_out*D)`` back to the user's form."""
    if prepared.packed is not None:
        return _repack(y, prepared)
    if not prepared.batched:
        return y.squeeze(1)  # (L, D*H_out)
    return y.transpose(0, 1) if batch_first else y


def _repack(y: Tensor, prepared: PreparedInput) -> PackedSequence:
    # Pack in the input's own sorted order so data, batch_sizes and both index tensors
    # match the input's (and torch.nn.LSTM's output) exactly, ties included.
    packed = prepared.packed
    lengths = prepared.lengths
    if packed.sorted_indices is not None:
        order = packed.sorted_indices.to(y.device)
        y = y.index_select(1, order)  # (L, N, H) in sorted order
        lengths = lengths.index_select(0, order)
    data = pack_padded_sequence(y, lengths.cpu(), enforce_sorted=True).data
    return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
