"""The native engine: compiled fused kernels with a hand-written backward.

Serves every LSTM variant and option and both GRU forms, on the CPU, in float32 and
float64 (the tanh/ReLU RNN goes to the vendor or reference engine). The C++ sources are
in ``csrc/``; `build` compiles them on first use and caches the result;
`functions` wraps them in autograd Functions. Same contract as
`lstmkit.engine.reference.run_layer`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ...cells import NO_MASKS, CellSpec, LayerParams, Masks
from ...cells.functional import LAYER_NORM_EPS
from . import build
from .functions import GRUFunction, LinearFunction, LSTMFunction, lstm_config

_SPEC_CONFIG: dict[CellSpec, list[int]] = {}

NAME = "native"
_DTYPES = (torch.float32, torch.float64)


def is_available() -> bool:
    """True when the kernels are built (compiling them now if needed) and loaded."""
    return build.availability()[0]


def unsupported_reason(spec: CellSpec, x: Tensor, masks: Masks = NO_MASKS) -> str | None:
    """Why this engine cannot run the configuration, or None if it can."""
    if spec.kind not in ("lstm", "gru"):
        return f"the native kernels cover LSTM and GRU, not kind={spec.kind!r}"
    if x.device.type != "cpu":
        return f"the native kernels run on the CPU, the input is on {x.device}"
    if x.dtype not in _DTYPES:
        return f"the native kernels compute in float32 or float64, not {x.dtype}"
    available, why = build.availability()
    return None if available else why


def input_projection(x: Tensor, params: LayerParams, spec: CellSpec) -> Tensor:
    r"""``x~ = LN_ih(W_ih x) + b_ih (+ b_hh for an LSTM)``, one GEMM for all steps.

    The GEMM runs on the kernels' own GEMM path (`LinearFunction`).

    An LSTM adds ``b_hh`` here because it only ever adds to the gates; a GRU keeps it
    for the kernel, where the reset gate multiplies it. ``(L, N, H_in) -> (L, N, G*H)``.
    """
    length, batch, _ = x.shape
    flat = x.reshape(length * batch, -1)  # (L*N, H_in)
    biases = [params.bias_ih]
    if spec.kind == "lstm":
        biases.append(params.bias_hh)
    present = [b for b in biases if b is not None]
    bias = None if not present else present[0] if len(present) == 1 else present[0] + present[1]
    if spec.layer_norm:
        # torch's fused layer norm: the same formula as cells.functional.layer_norm
        # (biased variance, eps inside the root), one pass forward and one backward.
        projected = LinearFunction.apply(flat, params.weight_ih, None)
        projected = torch.nn.functional.layer_norm(
            projected, (projected.shape[-1],), params.weight_ln_ih, bias, LAYER_NORM_EPS
        )
    else:
        projected = LinearFunction.apply(flat, params.weight_ih, bias)
    return projected.reshape(length, batch, -1)  # (L, N, G*H)


def _mask(mask: Tensor | None) -> Tensor | None:
    return None if mask is None else mask.contiguous()


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
    """Run one layer in one direction (contract of `lstmkit.engine.reference.run_layer`)."""
    build.load_library()
    xproj = input_projection(x, params, spec).contiguous()
    lengths = None if lengths is None else lengths.to(device="cpu", dtype=torch.int64).contiguous()
    recurrent = _mask(masks.recurrent)
    zoneout_h = _mask(masks.zoneout_h)
    if spec.kind == "gru":
        y, h_n = GRUFunction.apply(
            xproj, state0[0].contiguous(), params.weight_hh.contiguous(),
            _mask(params.bias_hh), _mask(params.weight_ln_hh if spec.layer_norm else None),
            recurrent, zoneout_h, lengths, spec.reset_after, reverse,
        )
        return y, (h_n,)
    q0 = state0[2].contiguous() if spec.gate_recurrence else None
    y, h_n, c_n, q_n = LSTMFunction.apply(
        xproj, state0[0].contiguous(), state0[1].contiguous(), q0,
        params.weight_hh.contiguous(), _mask(params.weight_hr), _mask(params.weight_peephole),
        _mask(params.weight_gate_recurrence), _mask(params.weight_ln_hh),
        _mask(params.weight_ln_c), _mask(params.bias_ln_c),
        recurrent, zoneout_h, _mask(masks.zoneout_c), lengths,
        lstm_config(spec), float(spec.cell_clip or 0.0), float(spec.proj_clip or 0.0), reverse,
    )
    return y, ((h_n, c_n, q_n) if spec.gate_recurrence else (h_n, c_n))


def stack_step(
    x: Tensor,
    states: tuple[Tensor, ...],
    params: list[LayerParams],
    spec: CellSpec,
    zoneout: tuple[float, float],
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One step through a unidirectional stack in one native call, without autograd.

    ``x (N, H_in)``; ``states`` ``(h (layers, N, H_out)[, c (layers, N, H_cell)])``;
    zoneout as its (hidden, cell) expectation. Returns ``y (N, H_out)`` and the states.
    """
    build.load_library()
    is_lstm = spec.kind == "lstm"
    config = _SPEC_CONFIG.get(spec)
    if config is None:
        config = _SPEC_CONFIG[spec] = lstm_config(spec) if is_lstm else []
    weights = [tensor for layer in params for tensor in layer]  # 11 fields per layer
    y, h_n, c_n = torch.ops.lstmkit.stack_step(
        x.contiguous(), states[0].contiguous(), states[1].contiguous() if is_lstm else None,
        weights, is_lstm, config, float(spec.cell_clip or 0.0), float(spec.proj_clip or 0.0),
        float(zoneout[0]), float(zoneout[1]), spec.reset_after,
    )
    return y, ((h_n, c_n) if is_lstm else (h_n,))
