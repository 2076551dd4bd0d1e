r"""The LSTM variants of Greff et al. 2017, "LSTM: A Search Space Odyssey", as `CellSpec`\ s.

Greff's baseline, *vanilla* ("V"), has peepholes and a forget gate. With
:math:`\bar{z}` the candidate pre-activation, :math:`y` the block output and
:math:`\sigma` the logistic sigmoid:

.. math::

    \begin{aligned}
    z_t &= \tanh(W_z x_t + R_z y_{t-1} + b_z) \\
    i_t &= \sigma(W_i x_t + R_i y_{t-1} + p_i \odot c_{t-1} + b_i) \\
    f_t &= \sigma(W_f x_t + R_f y_{t-1} + p_f \odot c_{t-1} + b_f) \\
    c_t &= z_t \odot i_t + c_{t-1} \odot f_t \\
    o_t &= \sigma(W_o x_t + R_o y_{t-1} + p_o \odot c_t + b_o) \\
    y_t &= \tanh(c_t) \odot o_t
    \end{aligned}

Each named variant changes exactly one thing:

======  ==========================================================================
name    change
======  ==========================================================================
NIG     no input gate: :math:`i_t = 1` (the ``i`` rows do not exist)
NFG     no forget gate: :math:`f_t = 1` (the ``f`` rows do not exist)
NOG     no output gate: :math:`o_t = 1` (the ``o`` rows do not exist)
NIAF    no input activation: :math:`z_t = W_z x_t + R_z y_{t-1} + b_z`
NOAF    no output activation: :math:`y_t = c_t \odot o_t`
NP      no peepholes: drop every :math:`p \odot c` term (= ``torch.nn.LSTM``)
CIFG    coupled gates, Greff's form: :math:`f_t = 1 - i_t` (``f`` rows do not exist)
FGR     full gate recurrence: each gate also gets
        :math:`\sum_{k \in \{i,f,o\}} R_{k \to \cdot}\, k_{t-1}` (nine extra
        :math:`H \times H` matrices, ``weight_gate_recurrence``, shape ``(3H, 3H)``)
======  ==========================================================================

The keyword ``cifg=True`` (outside ``variant``) is the other common coupling,
:math:`i_t = 1 - f_t`, which keeps the forget gate's rows (used e.g. by Sak et al.'s
CIFG LSTMs); the two are the same family reparametrised, but their parameters differ.
"""

from __future__ import annotations

from .spec import CellSpec

#: The Greff et al. variant names, plus "V" for their peephole baseline.
GREFF_VARIANTS: dict[str, dict[str, object]] = {
    "V": {},
    "NIG": {"input_gate": "none"},
    "NFG": {"forget_gate": "none"},
    "NOG": {"output_gate": False},
    "NIAF": {"input_activation": False},
    "NOAF": {"output_activation": False},
    "NP": {"peephole": False},
    "CIFG": {"forget_gate": "coupled"},
    "FGR": {"gate_recurrence": True},
}

# Variants that already decide the input/forget coupling: cifg=True would contradict them.
_GATE_CHANGING = {"NIG": "removes the input gate", "NFG": "removes the forget gate",
                  "CIFG": "couples the forget gate to the input gate (f = 1 - i)"}


def _check_flag(name: str, value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool or None, got {type(value).__name__} {value!r}")


def lstm_spec(
    *,
    variant: str | None = None,
    peephole: bool | None = None,
    cifg: bool | None = None,
    layer_norm: bool = False,
    projection: bool = False,
    cell_clip: float | None = None,
    proj_clip: float | None = None,
) -> CellSpec:
    """Build the `CellSpec` for an LSTM from the user-facing options.

    Args:
        variant: ``None`` (PyTorch's LSTM, no peepholes) or a name in
            :data:`GREFF_VARIANTS`; Greff's variants start from the peephole baseline.
        peephole: ``None`` follows the variant; ``True``/``False`` overrides it, except
            that ``peephole=True`` with ``variant="NP"`` is a contradiction.
        cifg: ``True`` couples ``i = 1 - f``; contradicts NIG, NFG and CIFG.
        layer_norm, projection, cell_clip, proj_clip: see `CellSpec`.

    Raises:
        ValueError: unknown variant or contradictory options.
        TypeError: a flag that is not a bool.
    """
    _check_flag("peephole", peephole)
    _check_flag("cifg", cifg)
    if not isinstance(layer_norm, bool):
        raise TypeError(f"layer_norm must be a bool, got {type(layer_norm).__name__}")
    fields: dict[str, object] = {}
    if variant is not None:
        if not isinstance(variant, str):
            raise TypeError(f"variant must be None or a str, got {type(variant).__name__} {variant!r}")
        if variant not in GREFF_VARIANTS:
            raise ValueError(
                f"variant must be None or one of {sorted(GREFF_VARIANTS)}, got {variant!r}"
            )
        fields["peephole"] = True
        fields.update(GREFF_VARIANTS[variant])
        if variant == "NP" and peephole:
            raise ValueError("peephole=True contradicts variant='NP' (no peepholes)")
        if cifg and variant in _GATE_CHANGING:
            raise ValueError(
                f"cifg=True contradicts variant={variant!r}: {variant} "
                f"{_GATE_CHANGING[variant]}, cifg couples i = 1 - f; choose one"
            )
    if peephole is not None:
        fields["peephole"] = peephole
    if cifg:
        fields["input_gate"] = "coupled"
    return CellSpec(
        kind="lstm",
        layer_norm=layer_norm,
        projection=projection,
        cell_clip=cell_clip,
        proj_clip=proj_clip,
        **fields,  # type: ignore[arg-type]
    )
