r"""`LSTM`: ``torch.nn.LSTM``'s drop-in with the whole variant family."""

from __future__ import annotations

from ..cells import lstm_spec
from .recurrent import RecurrentLayer
from .validation import check_optional_number, check_positive_int, check_proj_size


class LSTM(RecurrentLayer):
    r"""A multi-layer long short-term memory network over a sequence.

    With no keyword options this is ``torch.nn.LSTM`` — same arguments, inputs,
    outputs and ``state_dict`` — computing for each layer, with gate order
    :math:`i, f, g, o`:

    .. math::

        \begin{aligned}
        i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t &= o_t \odot \tanh(c_t)
        \end{aligned}

    The keyword options switch on the terms documented in :mod:`lstmkit.cells.lstm`
    and :mod:`lstmkit.cells.variants`.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout,
        bidirectional, proj_size, device, dtype: exactly as ``torch.nn.LSTM``.

    Keyword Args:
        peephole: Gers & Schmidhuber peepholes: ``i``, ``f`` see :math:`c_{t-1}`,
            ``o`` sees :math:`c_t`; parameter ``weight_peephole_l{k}``, shape
            ``(3, hidden_size)``, rows ``(i, f, o)`` (fewer rows when a variant
            removes or couples a gate). ``None`` follows ``variant``.
        cifg: coupled input-forget gate, :math:`i_t = 1 - f_t`; the ``i`` rows do
            not exist.
        variant: one of Greff et al. 2017's ``"NIG" "NFG" "NOG" "NIAF" "NOAF" "NP"
            "CIFG" "FGR"``, or ``"V"`` for their peephole baseline.
        layer_norm: Ba et al. 2016: normalise :math:`W_{ih} x_t` and
            :math:`W_{hh} h_{t-1}` (each over all its ``G*H`` units, gains
            ``weight_ln_ih_l{k}``, ``weight_ln_hh_l{k}``) and the cell before the
            output tanh (``weight_ln_c_l{k}``, ``bias_ln_c_l{k}``).
        recurrent_dropout: variational dropout on :math:`h_{t-1}`, one mask per
            sequence (Gal & Ghahramani 2016). ``[0, 1)``.
        zoneout: Krueger et al. 2017 on ``h`` and ``c``; a rate or a pair
            ``(hidden, cell)``. The expectation in ``eval()``.
        weight_drop: DropConnect on every ``weight_hh`` (Merity et al. 2018). ``[0, 1)``.
        forget_bias: initial forget-gate bias (put in ``bias_ih``; ``bias_hh`` rows 0).
        init: ``"orthogonal" | "small_uniform" | "xavier"`` for each gate block of
            ``weight_hh``; ``None`` keeps torch's ``U(-1/\sqrt{H}, 1/\sqrt{H})``.
        cell_clip, proj_clip: clamp :math:`c_t` / the projection to ``[-clip, clip]``.
        backend: ``"auto"`` or ``"reference"`` (see :mod:`lstmkit.engine`).

    Inputs: ``input, (h_0, c_0)`` and keyword ``lengths``:
        - input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``,
          ``(L, H_in)`` unbatched, or a ``PackedSequence``.
        - h_0: ``(D*num_layers, N, H_out)``, c_0: ``(D*num_layers, N, H_cell)``
          (no ``N`` axis when unbatched); zeros when ``hx`` is ``None``.
        - lengths: ``(N,)`` integers in ``[1, L]`` for padded input; outputs past a
          sequence's end are zero, final states are taken at its last real step and
          the reverse direction starts there. Same results as packing.

    Outputs: ``output, (h_n, c_n)``: ``output (L, N, D*H_out)`` (or packed /
    batch-first / unbatched like the input), ``h_n (D*num_layers, N, H_out)``,
    ``c_n (D*num_layers, N, H_cell)``.

    Shapes: ``N`` batch, ``L`` length, ``D`` 2 if bidirectional else 1, ``H_in``
    input_size, ``H_cell`` hidden_size, ``H_out`` proj_size if > 0 else hidden_size.

    Note:
        With ``variant="FGR"`` the previous gate activations start at zero in every
        call; ``hx`` carries ``h`` and ``c`` only.
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
        proj_size: int = 0,
        device=None,
        dtype=None,
        *,
        peephole: bool | None = None,
        cifg: bool | None = None,
        variant: str | None = None,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        zoneout: float | tuple[float, float] = 0.0,
        weight_drop: float = 0.0,
        forget_bias: float | None = None,
        init: str | None = None,
        cell_clip: float | None = None,
        proj_clip: float | None = None,
        backend: str = "auto",
    ) -> None:
        # proj_size is checked against hidden_size before the spec is built from it.
        hidden_size = check_positive_int("hidden_size", hidden_size)
        proj_size = check_proj_size(proj_size, hidden_size)
        spec = lstm_spec(
            variant=variant,
            peephole=peephole,
            cifg=cifg,
            layer_norm=layer_norm,
            projection=proj_size > 0,
            cell_clip=check_optional_number("cell_clip", cell_clip),
            proj_clip=check_optional_number("proj_clip", proj_clip),
        )
        self.variant = variant
        super().__init__(
            "LSTM", spec, input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, proj_size, device, dtype,
            recurrent_dropout=recurrent_dropout, zoneout=zoneout, weight_drop=weight_drop,
            forget_bias=forget_bias, init=init, backend=backend,
        )

    def _spec_repr(self) -> str:
        spec = self.spec
        parts = []
        if self.variant is not None:
            parts.append(f"variant={self.variant!r}")
        if spec.peephole and self.variant is None:
            parts.append("peephole=True")
        if spec.input_gate == "coupled":
            parts.append("cifg=True")
        if spec.layer_norm:
            parts.append("layer_norm=True")
        for name in ("cell_clip", "proj_clip"):
            if getattr(spec, name) is not None:
                parts.append(f"{name}={getattr(spec, name)}")
        return "".join(", " + p for p in parts)
