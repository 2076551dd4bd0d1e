r"""One LSTM step, every variant, on a precomputed input projection.

With :math:`\tilde{x}_t` the input projection (`input_projection`), :math:`y_{t-1}`
the previous recurrent output (``h`` in PyTorch's names; the projection ``r`` for
LSTMP), :math:`m^{rd}` the recurrent-dropout mask and
:math:`a_t = \tilde{x}_t + \mathrm{LN}_{hh}(W_{hh}(m^{rd} \odot y_{t-1})) + b_{hh}`
split into row blocks :math:`a^i, a^f, a^g, a^o` (those the variant keeps):

.. math::

    \begin{aligned}
    i_t &= \sigma(a^i_t + p_i \odot c_{t-1} + R^{fgr}_i q_{t-1})
          \quad\text{or } 1 \text{ (NIG) or } 1 - f_t \text{ (cifg)} \\
    f_t &= \sigma(a^f_t + p_f \odot c_{t-1} + R^{fgr}_f q_{t-1})
          \quad\text{or } 1 \text{ (NFG) or } 1 - i_t \text{ (CIFG)} \\
    g_t &= \tanh(a^g_t) \quad\text{or } a^g_t \text{ (NIAF)} \\
    c_t &= \mathrm{clip}(f_t \odot c_{t-1} + i_t \odot g_t) \\
    o_t &= \sigma(a^o_t + p_o \odot c_t + R^{fgr}_o q_{t-1})
          \quad\text{or } 1 \text{ (NOG)} \\
    h_t &= o_t \odot \tanh(\mathrm{LN}_c(c_t)) \quad\text{or }
          o_t \odot \mathrm{LN}_c(c_t) \text{ (NOAF)} \\
    y_t &= \mathrm{clip}(W_{hr} h_t) \quad\text{(LSTMP, else } y_t = h_t)
    \end{aligned}

followed by zoneout on :math:`y_t` and :math:`c_t`. :math:`q_{t-1}` is the
concatenation of the previous learned sigmoid gate activations (FGR only). The
:math:`\mathrm{LN}` terms are the identity without ``layer_norm``; peephole and FGR
terms are zero when switched off.

Shapes: ``N`` batch, ``H`` = ``H_cell``, ``H_out`` recurrent size, ``S`` learned
sigmoid gates. State ``(y (N, H_out), c (N, H), [q (N, S*H)])``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .functional import layer_norm, zoneout
from .masks import StepMasks
from .params import LayerParams
from .spec import CellSpec


def recurrent_projection(h_in: Tensor, params: LayerParams, spec: CellSpec) -> Tensor:
    r""":math:`\mathrm{LN}_{hh}(W_{hh} h) + b_{hh}`, ``(N, H_out) -> (N, G*H)``."""
    projected = h_in @ params.weight_hh.T  # (N, G*H)
    if spec.layer_norm:
        projected = layer_norm(projected, params.weight_ln_hh)
    if params.bias_hh is not None:
        projected = projected + params.bias_hh
    return projected


def lstm_step(
    x_proj: Tensor,
    state: tuple[Tensor, ...],
    params: LayerParams,
    spec: CellSpec,
    masks: StepMasks,
    gates: dict[str, Tensor] | None = None,
) -> tuple[Tensor, ...]:
    """Advance one step. ``x_proj (N, G*H)``; returns the new state tuple.

    ``gates``: when a dict is given, the step also stores its gate activations in it,
    each ``(N, H)``: ``i``, ``f``, ``o`` (those the variant has, coupled ones included)
    and the candidate ``g`` (for inspection; nothing else reads them).
    """
    y_prev, c_prev = state[0], state[1]
    h_in = y_prev if masks.recurrent is None else y_prev * masks.recurrent
    pre = x_proj + recurrent_projection(h_in, params, spec)  # (N, G*H)
    blocks = dict(zip(spec.gate_rows, pre.chunk(spec.num_gate_rows, dim=-1)))  # each (N, H)
    if spec.gate_recurrence:
        extra = state[2] @ params.weight_gate_recurrence.T  # (N, S*H)
        for name, term in zip(spec.sigmoid_gates, extra.chunk(len(spec.sigmoid_gates), dim=-1)):
            blocks[name] = blocks[name] + term
    peepholes = (
        dict(zip(spec.peephole_rows, params.weight_peephole.unbind(0))) if spec.peephole else {}
    )

    def sigmoid_gate(name: str, cell: Tensor) -> Tensor:
        a = blocks[name]
        if name in peepholes:
            a = a + peepholes[name] * cell
        return torch.sigmoid(a)

    i = sigmoid_gate("i", c_prev) if spec.input_gate == "learned" else None
    f = sigmoid_gate("f", c_prev) if spec.forget_gate == "learned" else None
    if spec.input_gate == "coupled":
        i = 1 - f
    if spec.forget_gate == "coupled":
        f = 1 - i
    g = torch.tanh(blocks["g"]) if spec.input_activation else blocks["g"]

    if gates is not None:
        gates.update({name: value for name, value in (("i", i), ("f", f), ("g", g)) if value is not None})
    c = g if i is None else i * g  # i = 1 (NIG) keeps g as it is
    c = c + (c_prev if f is None else f * c_prev)  # f = 1 (NFG) keeps c_prev whole
    if spec.cell_clip is not None:
        c = c.clamp(-spec.cell_clip, spec.cell_clip)

    o = sigmoid_gate("o", c) if spec.output_gate else None
    if gates is not None and o is not None:
        gates["o"] = o
    shown = layer_norm(c, params.weight_ln_c, params.bias_ln_c) if spec.layer_norm else c
    h = torch.tanh(shown) if spec.output_activation else shown
    if o is not None:
        h = o * h
    if spec.projection:
        h = h @ params.weight_hr.T  # (N, H_out)
        if spec.proj_clip is not None:
            h = h.clamp(-spec.proj_clip, spec.proj_clip)

    y = zoneout(h, y_prev, masks.zoneout_h)
    c = zoneout(c, c_prev, masks.zoneout_c)
    if not spec.gate_recurrence:
        return (y, c)
    learned = {"i": i, "f": f, "o": o}
    gates = torch.cat([learned[name] for name in spec.sigmoid_gates], dim=-1)  # (N, S*H)
    return (y, c, gates)
