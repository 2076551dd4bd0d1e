r"""`RNN`: ``torch.nn.RNN``'s drop-in, the plain recurrent baseline."""

from __future__ import annotations

from ..cells import CellSpec
from .recurrent import RecurrentLayer
from .validation import check_bool

NONLINEARITIES = ("tanh", "relu")


def rnn_kind(nonlinearity: object) -> str:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"Unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'."
        )
    return f"rnn_{nonlinearity}"


class RNN(RecurrentLayer):
    r"""A multi-layer Elman network with tanh or ReLU, the baseline whose gradient
    vanishes (or explodes) over long lags:

    .. math::
        h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})

    Args:
        input_size, hidden_size, num_layers, nonlinearity, bias, batch_first,
        dropout, bidirectional, device, dtype: exactly as ``torch.nn.RNN``.

    Keyword Args:
        layer_norm, recurrent_dropout, zoneout (a rate), weight_drop, init, backend:
            as for `lstmkit.GRU`.

    Inputs ``input, h_0`` and keyword ``lengths``; outputs ``output, h_n``; shapes as
    `lstmkit.LSTM` with ``H_out = H_cell = hidden_size``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        weight_drop: float = 0.0,
        init: str | None = None,
        backend: str = "auto",
    ) -> None:
        kind = rnn_kind(nonlinearity)
        self.nonlinearity = nonlinearity
        spec = CellSpec(kind=kind, layer_norm=check_bool("layer_norm", layer_norm))
        super().__init__(
            "RNN_TANH" if kind == "rnn_tanh" else "RNN_RELU", spec, input_size, hidden_size,
            num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype,
            recurrent_dropout=recurrent_dropout, zoneout=zoneout, weight_drop=weight_drop,
            forget_bias=None, init=init, backend=backend,
        )

    def _spec_repr(self) -> str:
        parts = [] if self.nonlinearity == "tanh" else [f"nonlinearity={self.nonlinearity!r}"]
        if self.spec.layer_norm:
            parts.append("layer_norm=True")
        return "".join(", " + p for p in parts)
