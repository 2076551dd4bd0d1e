"""Parameter shapes and initialisation, derived from a `CellSpec`.

Registration order per (layer, direction) is torch's — ``weight_ih, weight_hh,
bias_ih, bias_hh, weight_hr`` — followed by lstmkit's extras, and the default
initialisation draws ``U(-1/sqrt(H), 1/sqrt(H))`` for each in that order, so a vanilla
lstmkit layer built after ``torch.manual_seed(s)`` equals the ``torch.nn`` one built
after the same seed.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..cells import CellSpec

# Recurrent-matrix initialisers for ``init=``; each fills one ``(H, H_out)`` gate block.
SMALL_UNIFORM_RANGE = 0.08  # Sutskever et al. 2014's U(-0.08, 0.08)


def parameter_shapes(
    spec: CellSpec, input_size: int, hidden_size: int, proj_size: int, bias: bool
) -> dict[str, tuple[int, ...]]:
    """Base parameter names (`LayerParams` fields) → shapes for one layer/direction."""
    rows = spec.num_gate_rows * hidden_size  # G*H
    recurrent_size = proj_size if proj_size > 0 else hidden_size  # H_out
    shapes: dict[str, tuple[int, ...]] = {
        "weight_ih": (rows, input_size),
        "weight_hh": (rows, recurrent_size),
    }
    if bias:
        shapes["bias_ih"] = (rows,)
        shapes["bias_hh"] = (rows,)
    if spec.projection:
        shapes["weight_hr"] = (proj_size, hidden_size)
    if spec.peephole:
        shapes["weight_peephole"] = (len(spec.peephole_rows), hidden_size)
    if spec.gate_recurrence:
        gate_units = len(spec.sigmoid_gates) * hidden_size
        shapes["weight_gate_recurrence"] = (gate_units, gate_units)
    if spec.layer_norm:
        shapes["weight_ln_ih"] = (rows,)
        shapes["weight_ln_hh"] = (rows,)
        if spec.has_cell_state:
            shapes["weight_ln_c"] = (hidden_size,)
            shapes["bias_ln_c"] = (hidden_size,)
    return shapes


def check_forget_bias(spec: CellSpec, bias: bool, forget_bias: float | None) -> None:
    if forget_bias is None:
        return
    if spec.kind != "lstm":
        raise ValueError(f"forget_bias only applies to LSTM, not {spec.kind}")
    if not bias:
        raise ValueError(f"forget_bias={forget_bias} needs bias=True, got bias=False")
    if "f" not in spec.gate_rows:
        raise ValueError(
            f"forget_bias={forget_bias} needs a learned forget gate, but this variant "
            f"has forget_gate={spec.forget_gate!r}"
        )


@torch.no_grad()
def reset_parameters(
    tensors: dict[str, Tensor],
    spec: CellSpec,
    hidden_size: int,
    *,
    init: str | None = None,
    forget_bias: float | None = None,
) -> None:
    """Initialise one layer/direction's tensors in place (keys are base names)."""
    stdv = 1.0 / math.sqrt(hidden_size)
    for name, tensor in tensors.items():
        if name.startswith("weight_ln"):
            tensor.fill_(1.0)
        elif name == "bias_ln_c":
            tensor.zero_()
        else:
            tensor.uniform_(-stdv, stdv)
    if init is not None:
        for block in tensors["weight_hh"].split(hidden_size, dim=0):  # each (H, H_out)
            _init_block(block, init)
    if forget_bias is not None:
        f = spec.gate_rows.index("f")
        rows = slice(f * hidden_size, (f + 1) * hidden_size)
        # The gate sees b_ih + b_hh; put the whole offset in b_ih.
        tensors["bias_ih"][rows] = forget_bias
        tensors["bias_hh"][rows] = 0.0


def _init_block(block: Tensor, init: str) -> None:
    if init == "orthogonal":
        torch.nn.init.orthogonal_(block)
    elif init == "small_uniform":
        block.uniform_(-SMALL_UNIFORM_RANGE, SMALL_UNIFORM_RANGE)
    elif init == "xavier":
        torch.nn.init.xavier_uniform_(block)
    else:  # validated on construction
        raise AssertionError(init)
