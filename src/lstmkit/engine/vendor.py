"""The vendor engine: PyTorch's own fused recurrent ops (``torch._VF.lstm/gru/rnn_*``).

That is oneDNN on the CPU and cuDNN on the GPU, so for the configurations torch has a
kernel for — vanilla LSTM with or without a projection, GRU with ``reset_after=True``,
tanh/ReLU RNN, none of them with layer norm, clipping, recurrent dropout or zoneout —
lstmkit is exactly as fast as ``torch.nn``. Weight drop is served: it only changes the
``W_hh`` tensor handed over.

Two entry points: `run_layer` (the engine contract, one layer and direction) and
`run_stack` (a whole multi-layer, bidirectional stack in one fused call, as
``torch.nn.LSTM`` makes it).
"""

from __future__ import annotations

import torch
from torch import _VF, Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from ..cells import NO_MASKS, CellSpec, LayerParams, Masks

NAME = "vendor"
_VANILLA_LSTM = CellSpec()
_OPS = {"lstm": _VF.lstm, "gru": _VF.gru, "rnn_tanh": _VF.rnn_tanh, "rnn_relu": _VF.rnn_relu}


def unsupported_reason(spec: CellSpec, x: Tensor, masks: Masks = NO_MASKS) -> str | None:
    """Why torch's fused op cannot run the configuration, or None if it can."""
    if spec.kind == "lstm":
        reason = _lstm_reason(spec)
        if reason is not None:
            return reason
    elif spec.kind == "gru" and not spec.reset_after:
        return "torch's fused GRU has only reset_after=True (got reset_after=False)"
    if spec.layer_norm:
        return "torch's fused ops have no layer norm (layer_norm=True)"
    if masks.recurrent is not None:
        return "torch's fused ops have no recurrent dropout (recurrent_dropout > 0)"
    if masks.zoneout_h is not None or masks.zoneout_c is not None:
        return "torch's fused ops have no zoneout (zoneout > 0)"
    return None


def _lstm_reason(spec: CellSpec) -> str | None:
    switches = {
        "peephole": spec.peephole,
        "cifg / coupled or removed gates": (spec.input_gate, spec.forget_gate) != ("learned",) * 2,
        "no output gate (NOG)": not spec.output_gate,
        "no input activation (NIAF)": not spec.input_activation,
        "no output activation (NOAF)": not spec.output_activation,
        "full gate recurrence (FGR)": spec.gate_recurrence,
        "cell_clip": spec.cell_clip is not None,
        "proj_clip": spec.proj_clip is not None,
    }
    used = [name for name, on in switches.items() if on]
    if used:
        return "torch's fused LSTM is the vanilla cell only; this one uses " + ", ".join(used)
    return None


def _flat_weights(params: LayerParams) -> list[Tensor]:
    weights = [params.weight_ih, params.weight_hh]
    if params.bias_ih is not None:
        weights += [params.bias_ih, params.bias_hh]
    if params.weight_hr is not None:
        weights.append(params.weight_hr)
    return weights


def _hx(spec: CellSpec, states: list[tuple[Tensor, ...]]):
    """Per-(layer, direction) states → torch's stacked ``hx``."""
    h = torch.stack([s[0] for s in states])  # (layers*D, N, H_out)
    if spec.kind != "lstm":
        return h
    return (h, torch.stack([s[1] for s in states]))  # (layers*D, N, H_cell)


def _finals(spec: CellSpec, result) -> list[tuple[Tensor, ...]]:
    """torch's stacked final state → per-(layer, direction) tuples."""
    if spec.kind == "lstm":
        return list(zip(result[1].unbind(0), result[2].unbind(0)))
    return [(h,) for h in result[1].unbind(0)]


def run_stack(
    x: Tensor,
    states: list[tuple[Tensor, ...]],
    params: list[LayerParams],
    spec: CellSpec,
    *,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    training: bool,
    lengths: Tensor | None,
) -> tuple[Tensor, list[tuple[Tensor, ...]]]:
    """A whole stack in one call to torch's fused op.

    ``x (L, N, H_in)``; ``states`` and ``params`` per stack index ``layer * D + dir``;
    returns ``y (L, N, D*H_out)`` (zeros past each length) and the final states.
    """
    weights = [w for p in params for w in _flat_weights(p)]
    has_biases = params[0].bias_ih is not None
    hx = _hx(spec, states)
    op = _OPS[spec.kind]
    if lengths is None:
        result = op(x, hx, weights, has_biases, num_layers, dropout, training, bidirectional, False)
        return result[0], _finals(spec, result)
    packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
    order = packed.sorted_indices
    hx = tuple(h.index_select(1, order) for h in hx) if spec.kind == "lstm" else hx.index_select(1, order)
    result = op(packed.data, packed.batch_sizes, hx, weights, has_biases, num_layers, dropout,
                training, bidirectional)
    out = PackedSequence(result[0], packed.batch_sizes, order, packed.unsorted_indices)
    y, _ = pad_packed_sequence(out, total_length=x.shape[0])  # (L, N, D*H_out)
    restore = packed.unsorted_indices
    finals = [tuple(s.index_select(0, restore) for s in state) for state in _finals(spec, result)]
    return y, finals


def run_layer(
    x: Tensor,
    state0: tuple[Tensor, ...],
    params: LayerParams,
    spec: CellSpec,
    *,
    lengths: Tensor | None = None,
    reverse: bool = False,
    masks: Masks = NO_MASKS,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One layer in one direction (contract of `lstmkit.engine.reference.run_layer`).

    The reverse direction runs forward over each sequence reversed within its length.
    """
    if reverse:
        x = _reverse_within_lengths(x, lengths)
    y, finals = run_stack(
        x, [state0], [params], spec, num_layers=1, bidirectional=False, dropout=0.0,
        training=False, lengths=lengths,
    )
    if reverse:
        y = _reverse_within_lengths(y, lengths)
    return y, finals[0]


def _reverse_within_lengths(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence's first ``lengths[n]`` steps; padding stays where it is."""
    if lengths is None:
        return x.flip(0)
    steps = torch.arange(x.shape[0], device=x.device).unsqueeze(1)  # (L, 1)
    lengths = lengths.to(x.device)
    source = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (L, N)
    return x.gather(0, source.unsqueeze(2).expand_as(x))
