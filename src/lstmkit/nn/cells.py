r"""`LSTMCell`, `GRUCell`, `RNNCell`: one time step, drop-ins for their ``torch.nn``
namesakes, with the same variant options as the layers.

Parameter names are torch's cell names (``weight_ih``, ``weight_hh``, ``bias_ih``,
``bias_hh``) plus the extras of `lstmkit.cells.LayerParams` (``weight_peephole``,
``weight_hr``, ``weight_ln_ih``…), without layer suffixes.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..cells import CellSpec, LayerParams, input_projection, lstm_spec, step
from . import layout
from .inputs import check_features
from .rnn import rnn_kind
from .validation import (
    check_bool,
    check_init,
    check_optional_number,
    check_positive_int,
    check_proj_size,
)


class RecurrentCell(torch.nn.Module):
    """Shared body of the cells: parameters, validation, one call of the step."""

    def __init__(
        self,
        spec: CellSpec,
        input_size: int,
        hidden_size: int,
        bias: bool,
        proj_size: int,
        device,
        dtype,
        *,
        forget_bias: float | None = None,
        init: str | None = None,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.bias = check_bool("bias", bias)
        self.proj_size = proj_size
        self.forget_bias = check_optional_number("forget_bias", forget_bias)
        layout.check_forget_bias(spec, self.bias, self.forget_bias)
        self.init = check_init(init)
        shapes = layout.parameter_shapes(spec, input_size, hidden_size, proj_size, bias)
        for name, shape in shapes.items():
            setattr(self, name, torch.nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
        if not bias:  # like torch: the attributes exist and are None
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self._param_names = tuple(shapes)
        self.reset_parameters()

    @property
    def output_size(self) -> int:
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def reset_parameters(self) -> None:
        tensors = {name: getattr(self, name) for name in self._param_names}
        layout.reset_parameters(
            tensors, self.spec, self.hidden_size, init=self.init, forget_bias=self.forget_bias
        )

    def params(self) -> LayerParams:
        return LayerParams(**{name: getattr(self, name) for name in self._param_names})

    def _state_sizes(self) -> tuple[int, ...]:
        spec = self.spec
        if not spec.has_cell_state:
            return (self.hidden_size,)
        sizes = (self.output_size, self.hidden_size)
        if spec.gate_recurrence:
            sizes += (len(spec.sigmoid_gates) * self.hidden_size,)
        return sizes

    def _run(self, input: object, hx: tuple[Tensor, ...] | None) -> tuple[Tensor, ...]:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input should be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        check_features(name, input, self.input_size, self.weight_ih.dtype, self.weight_ih.device)
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)  # (N, H_in)
        sizes = self._state_sizes()
        state = self._check_state(name, hx, sizes, x, batched)
        params = self.params()
        new_state = step(input_projection(x, params, self.spec), state, params, self.spec)
        return new_state if batched else tuple(s.squeeze(0) for s in new_state)

    def _check_state(
        self, name: str, hx, sizes: tuple[int, ...], x: Tensor, batched: bool
    ) -> tuple[Tensor, ...]:
        batch = x.shape[0]
        if hx is None:
            return tuple(x.new_zeros(batch, size) for size in sizes)
        parts = (hx,) if isinstance(hx, Tensor) else hx
        if not isinstance(parts, tuple | list):
            raise TypeError(f"{name}: hx should be a Tensor or a tuple of Tensors, got {type(hx).__name__}")
        for k, part in enumerate(parts):
            if not isinstance(part, Tensor):
                raise TypeError(f"{name}: hx[{k}] should be a Tensor, got {type(part).__name__}")
        accepted = {len(sizes)}
        if self.spec.gate_recurrence:
            accepted.add(2)  # (h, c): the previous gates start at zero
        if len(parts) not in accepted:
            raise TypeError(f"{name}: hx should hold {len(sizes)} tensors, got {len(parts)}")
        state = []
        for k, size in enumerate(sizes):
            if k >= len(parts):
                state.append(x.new_zeros(batch, size))
                continue
            tensor = parts[k]
            expected = (batch, size) if batched else (size,)
            if tuple(tensor.shape) != expected:
                raise ValueError(f"{name}: hx[{k}] should have shape {expected}, got {tuple(tensor.shape)}")
            if tensor.dtype != x.dtype:
                raise TypeError(f"{name}: hx[{k}] dtype should match the input's ({x.dtype}), got {tensor.dtype}")
            if tensor.device != x.device:
                raise ValueError(f"{name}: hx[{k}] should be on the input's device ({x.device}), got {tensor.device}")
            state.append(tensor if batched else tensor.unsqueeze(0))
        return tuple(state)


class LSTMCell(RecurrentCell):
    r"""One LSTM step; ``torch.nn.LSTMCell`` with no keyword options.

    Args:
        input_size, hidden_size, bias, device, dtype: as ``torch.nn.LSTMCell``.

    Keyword Args:
        peephole, cifg, variant, layer_norm, proj_size, cell_clip, proj_clip,
        forget_bias, init: as for `lstmkit.LSTM` (equations in :mod:`lstmkit.cells.lstm`).

    Inputs ``input (N, H_in)`` or ``(H_in)``, ``hx = (h_0 (N, H_out), c_0 (N, H_cell))``
    (zeros if ``None``). Returns ``(h_1, c_1)``. With ``variant="FGR"`` the state
    also carries the previous gate activations ``q (N, S*H_cell)``: ``hx`` may be
    ``(h, c)`` (``q`` starts at zero) or ``(h, c, q)``, and ``(h_1, c_1, q_1)`` is
    returned.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        peephole: bool | None = None,
        cifg: bool | None = None,
        variant: str | None = None,
        layer_norm: bool = False,
        proj_size: int = 0,
        cell_clip: float | None = None,
        proj_clip: float | None = None,
        forget_bias: float | None = None,
        init: str | None = None,
    ) -> None:
        # proj_size is checked against hidden_size before the spec is built from it.
        hidden_size = check_positive_int("hidden_size", hidden_size)
        proj_size = check_proj_size(proj_size, hidden_size)
        spec = lstm_spec(
            variant=variant, peephole=peephole, cifg=cifg, layer_norm=layer_norm,
            projection=proj_size > 0,
            cell_clip=check_optional_number("cell_clip", cell_clip),
            proj_clip=check_optional_number("proj_clip", proj_clip),
        )
        super().__init__(spec, input_size, hidden_size, bias, proj_size, device, dtype,
                         forget_bias=forget_bias, init=init)

    def forward(self, input: Tensor, hx: tuple[Tensor, ...] | None = None) -> tuple[Tensor, ...]:
        return self._run(input, hx)


class GRUCell(RecurrentCell):
    r"""One GRU step; ``torch.nn.GRUCell`` with no keyword options.

    Keyword Args:
        reset_after, layer_norm, init: as for `lstmkit.GRU`.

    Inputs ``input (N, H_in)`` or ``(H_in)``, ``hx (N, H)``; returns ``h_1 (N, H)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        reset_after: bool = True,
        layer_norm: bool = False,
        init: str | None = None,
    ) -> None:
        spec = CellSpec(kind="gru", reset_after=check_bool("reset_after", reset_after),
                        layer_norm=check_bool("layer_norm", layer_norm))
        super().__init__(spec, input_size, hidden_size, bias, 0, device, dtype, init=init)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._run(input, hx)[0]


class RNNCell(RecurrentCell):
    r"""One Elman step; ``torch.nn.RNNCell`` with no keyword options.

    Keyword Args:
        layer_norm, init: as for `lstmkit.RNN`.

    Inputs ``input (N, H_in)`` or ``(H_in)``, ``hx (N, H)``; returns ``h_1 (N, H)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
        *,
        layer_norm: bool = False,
        init: str | None = None,
    ) -> None:
        spec = CellSpec(kind=rnn_kind(nonlinearity), layer_norm=check_bool("layer_norm", layer_norm))
        self.nonlinearity = nonlinearity
        super().__init__(spec, input_size, hidden_size, bias, 0, device, dtype, init=init)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._run(input, hx)[0]
