r"""`GRU`: ``torch.nn.GRU``'s drop-in, both reset forms, layer norm and regularisation."""

from __future__ import annotations

from ..cells import CellSpec
from .recurrent import RecurrentLayer
from .validation import check_bool


class GRU(RecurrentLayer):
    r"""A multi-layer gated recurrent unit network over a sequence.

    With no keyword options this is ``torch.nn.GRU`` (gate order :math:`r, z, n`):

    .. math::

        \begin{aligned}
        r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
        \end{aligned}

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout,
        bidirectional, device, dtype: exactly as ``torch.nn.GRU``.

    Keyword Args:
        reset_after: ``True`` (the form above, PyTorch's and cuDNN's); ``False`` is
            Cho et al. 2014's :math:`n_t = \tanh(W_{in} x_t + b_{in} + W_{hn}(r_t
            \odot h_{t-1}) + b_{hn})`. Same parameters either way.
        layer_norm: normalise the input and recurrent projections (see
            :mod:`lstmkit.cells.gru`).
        recurrent_dropout, zoneout (a rate, on ``h``), weight_drop, init, backend:
            as for `lstmkit.LSTM`.

    Inputs ``input, h_0`` and keyword ``lengths``; outputs ``output, h_n``; shapes as
    `lstmkit.LSTM` with ``H_out = H_cell = hidden_size``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        reset_after: bool = True,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        weight_drop: float = 0.0,
        init: str | None = None,
        backend: str = "auto",
    ) -> None:
        spec = CellSpec(
            kind="gru",
            reset_after=check_bool("reset_after", reset_after),
            layer_norm=check_bool("layer_norm", layer_norm),
        )
        super().__init__(
            "GRU", spec, input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype,
            recurrent_dropout=recurrent_dropout, zoneout=zoneout, weight_drop=weight_drop,
            forget_bias=None, init=init, backend=backend,
        )

    def _spec_repr(self) -> str:
        parts = [] if self.spec.reset_after else ["reset_after=False"]
        if self.spec.layer_norm:
            parts.append("layer_norm=True")
        return "".join(", " + p for p in parts)
