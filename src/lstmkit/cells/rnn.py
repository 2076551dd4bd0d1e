r"""One step of the plain (Elman) recurrent network, the vanishing-gradient baseline.

.. math::
    h_t = \phi\big(\tilde{x}_t + \mathrm{LN}_{hh}(W_{hh} (m^{rd} \odot h_{t-1})) + b_{hh}\big),
    \qquad \phi \in \{\tanh, \mathrm{ReLU}\}

then zoneout. Shapes: ``x_proj (N, H)``, state ``(h (N, H),)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .functional import zoneout
from .lstm import recurrent_projection
from .masks import StepMasks
from .params import LayerParams
from .spec import CellSpec


def rnn_step(
    x_proj: Tensor,
    state: tuple[Tensor, ...],
    params: LayerParams,
    spec: CellSpec,
    masks: StepMasks,
    gates: dict[str, Tensor] | None = None,
) -> tuple[Tensor, ...]:
    """Advance one step. ``x_proj (N, H)``; returns ``(h,)``. A plain RNN has no gates:
    ``gates`` is accepted for a uniform signature and left empty."""
    h_prev = state[0]
    h_in = h_prev if masks.recurrent is None else h_prev * masks.recurrent
    a = x_proj + recurrent_projection(h_in, params, spec)  # (N, H)
    h = torch.tanh(a) if spec.kind == "rnn_tanh" else torch.relu(a)
    return (zoneout(h, h_prev, masks.zoneout_h),)
