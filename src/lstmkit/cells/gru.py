r"""One GRU step, both forms, on a precomputed input projection.

With :math:`\tilde{x}_t = (\tilde{x}^r_t, \tilde{x}^z_t, \tilde{x}^n_t)` the input
projection and :math:`\hat{h} = m^{rd} \odot h_{t-1}` (recurrent dropout):

``reset_after=True`` (PyTorch, cuDNN):

.. math::

    \begin{aligned}
    (a^r, a^z, a^n) &= \mathrm{LN}_{hh}(W_{hh} \hat{h}) + b_{hh} \\
    r_t &= \sigma(\tilde{x}^r_t + a^r), \quad z_t = \sigma(\tilde{x}^z_t + a^z) \\
    n_t &= \tanh(\tilde{x}^n_t + r_t \odot a^n) \\
    h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
    \end{aligned}

``reset_after=False`` (Cho et al. 2014: reset before the recurrent matrix):

.. math::

    \begin{aligned}
    (a^r, a^z) &= \mathrm{LN}_{hh}^{rz}(W^{rz}_{hh} \hat{h}) + b^{rz}_{hh} \\
    n_t &= \tanh(\tilde{x}^n_t + \mathrm{LN}_{hh}^{n}(W^n_{hh} (r_t \odot \hat{h})) + b^n_{hh})
    \end{aligned}

(layer norm normalises the ``r, z`` block and the ``n`` block separately there, since
they are two products). Zoneout then mixes :math:`h_t` with :math:`h_{t-1}`.
Shapes: ``x_proj (N, 3H)``, state ``(h (N, H),)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .functional import layer_norm, zoneout
from .masks import StepMasks
from .params import LayerParams
from .spec import CellSpec


def _affine(h: Tensor, weight: Tensor, bias: Tensor | None, ln_weight: Tensor | None) -> Tensor:
    projected = h @ weight.T
    if ln_weight is not None:
        projected = layer_norm(projected, ln_weight)
    return projected if bias is None else projected + bias


def gru_step(
    x_proj: Tensor,
    state: tuple[Tensor, ...],
    params: LayerParams,
    spec: CellSpec,
    masks: StepMasks,
    gates: dict[str, Tensor] | None = None,
) -> tuple[Tensor, ...]:
    """Advance one step. ``x_proj (N, 3H)``; returns ``(h,)``.

    ``gates``: when a dict is given, the step also stores ``r``, ``z`` and the candidate
    ``n`` in it, each ``(N, H)`` (for inspection).
    """
    h_prev = state[0]
    h_in = h_prev if masks.recurrent is None else h_prev * masks.recurrent
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)  # each (N, H)
    ln = params.weight_ln_hh if spec.layer_norm else None
    if spec.reset_after:
        a_r, a_z, a_n = _affine(h_in, params.weight_hh, params.bias_hh, ln).chunk(3, dim=-1)
        r = torch.sigmoid(x_r + a_r)
        z = torch.sigmoid(x_z + a_z)
        n = torch.tanh(x_n + r * a_n)
    else:
        hidden = params.weight_hh.shape[0] // 3
        split = 2 * hidden
        bias = params.bias_hh
        a_r, a_z = _affine(
            h_in,
            params.weight_hh[:split],
            None if bias is None else bias[:split],
            None if ln is None else ln[:split],
        ).chunk(2, dim=-1)
        r = torch.sigmoid(x_r + a_r)
        z = torch.sigmoid(x_z + a_z)
        a_n = _affine(
            r * h_in,
            params.weight_hh[split:],
            None if bias is None else bias[split:],
            None if ln is None else ln[split:],
        )
        n = torch.tanh(x_n + a_n)
    if gates is not None:
        gates.update(r=r, z=z, n=n)
    h = (1 - z) * n + z * h_prev
    return (zoneout(h, h_prev, masks.zoneout_h),)
