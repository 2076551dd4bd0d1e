"""`torch.autograd.Function` wrappers around the native layer kernels.

Each Function runs the recurrence of one layer in one direction: forward saves only
what the hand-written backward (BPTT) needs, and only when some input needs a
gradient. The input projection is outside (autograd differentiates that GEMM).
Shapes as in `lstmkit.engine.reference.run_layer`; ``x~`` is ``(L, N, G*H_cell)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ...cells import CellSpec

_GATE_MODES = {"learned": 0, "none": 1, "coupled": 2}


def lstm_config(spec: CellSpec) -> list[int]:
    """The integer switches the C++ LSTM kernel reads (see ``csrc/lstm.h``)."""
    return [
        _GATE_MODES[spec.input_gate],
        _GATE_MODES[spec.forget_gate],
        int(spec.output_gate),
        int(spec.input_activation),
        int(spec.output_activation),
        int(spec.peephole),
        int(spec.gate_recurrence),
        int(spec.projection),
        int(spec.layer_norm),
    ]


def _contiguous(tensor: Tensor | None) -> Tensor | None:
    return None if tensor is None else tensor.contiguous()


class LinearFunction(torch.autograd.Function):
    """``x W^T + b`` for all time steps at once on the kernels' GEMM path.

    ``x (M, K)``, ``W (N_c, K)``, ``b (N_c,)`` or None → ``(M, N_c)``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return torch.ops.lstmkit.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        d_x, d_w, d_b = torch.ops.lstmkit.linear_backward(
            grad, x, weight, need_x, need_w, need_b and ctx.has_bias
        )
        return (d_x if need_x else None, d_w if need_w else None,
                d_b if need_b and ctx.has_bias else None)


class LSTMFunction(torch.autograd.Function):
    """``(x~, h0, c0, q0, weights..., masks, lengths) -> (y, h_n, c_n, q_n)``."""

    @staticmethod
    def forward(
        ctx, xproj, h0, c0, q0, w_hh, w_hr, w_peep, w_gr, ln_hh, ln_c_w, ln_c_b,
        rd_mask, zo_h, zo_c, lengths, config, cell_clip, proj_clip, reverse,
    ):
        save = any(ctx.needs_input_grad)
        outputs = torch.ops.lstmkit.lstm_forward(
            xproj, h0, c0, q0, w_hh, w_hr, w_peep, w_gr, ln_hh, ln_c_w, ln_c_b,
            rd_mask, zo_h, zo_c, lengths, config, cell_clip, proj_clip, reverse, save,
        )
        y, h_n, c_n, q_n = outputs[:4]
        ctx.set_materialize_grads(False)
        ctx.config = (config, cell_clip, proj_clip, reverse)
        ctx.num_saved = len(outputs) - 4
        if save:
            ctx.save_for_backward(
                *outputs[4:], w_hh, w_hr, w_peep, w_gr, ln_hh, ln_c_w, rd_mask, zo_h, zo_c,
                lengths,
            )
        return y, h_n, c_n, q_n

    @staticmethod
    def backward(ctx, grad_y, grad_hn, grad_cn, grad_qn):
        stored = ctx.saved_tensors
        saved, rest = list(stored[: ctx.num_saved]), stored[ctx.num_saved :]
        w_hh, w_hr, w_peep, w_gr, ln_hh, ln_c_w, rd_mask, zo_h, zo_c, lengths = rest
        config, cell_clip, proj_clip, reverse = ctx.config
        grads = torch.ops.lstmkit.lstm_backward(
            _contiguous(grad_y), _contiguous(grad_hn), _contiguous(grad_cn), _contiguous(grad_qn),
            saved, w_hh, w_hr, w_peep, w_gr, ln_hh, ln_c_w, rd_mask, zo_h, zo_c, lengths,
            config, cell_clip, proj_clip, reverse,
        )
        d_x, d_h0, d_c0, d_q0, d_w_hh, d_w_hr, d_peep, d_w_gr, d_ln_hh, d_ln_c_w, d_ln_c_b = grads
        present = (
            d_x, d_h0, d_c0, d_q0 if w_gr is not None else None, d_w_hh,
            d_w_hr if w_hr is not None else None,
            d_peep if w_peep is not None else None,
            d_w_gr if w_gr is not None else None,
            d_ln_hh if ln_hh is not None else None,
            d_ln_c_w if ln_c_w is not None else None,
            d_ln_c_b if ln_c_w is not None else None,
        )
        needed = tuple(g if need else None for g, need in zip(present, ctx.needs_input_grad))
        return (*needed, None, None, None, None, None, None, None, None)


class GRUFunction(torch.autograd.Function):
    """``(x~, h0, w_hh, b_hh, ln_hh, masks, lengths) -> (y, h_n)``."""

    @staticmethod
    def forward(ctx, xproj, h0, w_hh, b_hh, ln_hh, rd_mask, zo_h, lengths, reset_after, reverse):
        save = any(ctx.needs_input_grad)
        outputs = torch.ops.lstmkit.gru_forward(
            xproj, h0, w_hh, b_hh, ln_hh, rd_mask, zo_h, lengths, reset_after, reverse, save
        )
        y, h_n = outputs[:2]
        ctx.set_materialize_grads(False)
        ctx.config = (reset_after, reverse)
        ctx.num_saved = len(outputs) - 2
        if save:
            ctx.save_for_backward(*outputs[2:], w_hh, b_hh, ln_hh, rd_mask, zo_h, lengths)
        return y, h_n

    @staticmethod
    def backward(ctx, grad_y, grad_hn):
        stored = ctx.saved_tensors
        saved, rest = list(stored[: ctx.num_saved]), stored[ctx.num_saved :]
        w_hh, b_hh, ln_hh, rd_mask, zo_h, lengths = rest
        reset_after, reverse = ctx.config
        d_x, d_h0, d_w_hh, d_b_hh, d_ln = torch.ops.lstmkit.gru_backward(
            _contiguous(grad_y), _contiguous(grad_hn), saved, w_hh, b_hh, ln_hh, rd_mask, zo_h,
            lengths, reset_after, reverse,
        )
        present = (
            d_x, d_h0, d_w_hh, d_b_hh if b_hh is not None else None,
            d_ln if ln_hh is not None else None,
        )
        needed = tuple(g if need else None for g, need in zip(present, ctx.needs_input_grad))
        return (*needed, None, None, None, None, None)
