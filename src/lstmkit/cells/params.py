"""`LayerParams`: the tensors one layer in one direction computes with.

Field names are the parameter names of ``torch.nn.LSTM`` without the ``_l{k}{_reverse}``
suffix, plus lstmkit's extras, so `nn` maps module attributes onto fields by name.
Absent terms are ``None``. ``G`` is ``CellSpec.num_gate_rows``, ``S`` the number of
learned sigmoid gates, ``H_in`` the layer's input size, ``H_cell`` the hidden size and
``H_out`` the recurrent size (``proj_size`` when projecting, else ``H_cell``).
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor


class LayerParams(NamedTuple):
    weight_ih: Tensor  #: ``(G*H_cell, H_in)``
    weight_hh: Tensor  #: ``(G*H_cell, H_out)``
    bias_ih: Tensor | None = None  #: ``(G*H_cell,)``
    bias_hh: Tensor | None = None  #: ``(G*H_cell,)``
    weight_hr: Tensor | None = None  #: ``(H_out, H_cell)`` recurrent projection (LSTMP)
    weight_peephole: Tensor | None = None  #: ``(S, H_cell)``, rows = learned ``i, f, o``
    weight_gate_recurrence: Tensor | None = None  #: ``(S*H_cell, S*H_cell)`` (FGR)
    weight_ln_ih: Tensor | None = None  #: ``(G*H_cell,)`` gain of the input-projection norm
    weight_ln_hh: Tensor | None = None  #: ``(G*H_cell,)`` gain of the recurrent-projection norm
    weight_ln_c: Tensor | None = None  #: ``(H_cell,)`` gain of the cell norm (LSTM)
    bias_ln_c: Tensor | None = None  #: ``(H_cell,)`` shift of the cell norm (LSTM)


PARAM_NAMES: tuple[str, ...] = LayerParams._fields
