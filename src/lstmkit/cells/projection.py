"""The input projection, hoisted out of the time loop for every engine and every kind."""

from __future__ import annotations

from torch import Tensor

from .functional import layer_norm
from .params import LayerParams
from .spec import CellSpec


def input_projection(x: Tensor, params: LayerParams, spec: CellSpec) -> Tensor:
    r"""Project the inputs of all time steps at once.

    .. math::
        \tilde{x}_t = \mathrm{LN}_{ih}(W_{ih} x_t) + b_{ih}
        \quad\text{(plain } W_{ih} x_t + b_{ih} \text{ without layer norm)}

    Shapes: ``x (..., H_in)`` (typically ``(L, N, H_in)``) →
    ``(..., G*H_cell)``. One GEMM for the whole sequence; the recurrent part is all
    that is left inside the loop.
    """
    projected = x @ params.weight_ih.T  # (..., G*H_cell)
    if spec.layer_norm:
        projected = layer_norm(projected, params.weight_ln_ih)
    if params.bias_ih is not None:
        projected = projected + params.bias_ih
    return projected
