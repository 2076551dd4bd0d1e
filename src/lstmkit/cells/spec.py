"""`CellSpec`: which member of the recurrent family a layer computes.

A variant is data, not a subclass: one frozen dataclass, validated when it is built,
read by every engine. The equations live in :mod:`lstmkit.cells.lstm`,
:mod:`lstmkit.cells.gru` and :mod:`lstmkit.cells.rnn`; this module only says which
terms are switched on and derives the parameter layout from that.

Gate order is PyTorch's everywhere: LSTM ``i, f, g, o``; GRU ``r, z, n``. A variant
that removes a gate removes its rows; the remaining rows keep their relative order.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

KINDS = ("lstm", "gru", "rnn_tanh", "rnn_relu")

#: How an LSTM's input or forget gate is produced.
#: ``learned``: its own rows and a sigmoid; ``none``: the gate is the constant 1;
#: ``coupled``: computed from the other one (``i = 1 - f`` or ``f = 1 - i``).
GATE_MODES = ("learned", "none", "coupled")


@dataclass(frozen=True)
class CellSpec:
    """The switches that select one recurrent cell.

    Attributes:
        kind: ``"lstm"``, ``"gru"``, ``"rnn_tanh"`` or ``"rnn_relu"``.
        input_gate: LSTM only; one of :data:`GATE_MODES`.
        forget_gate: LSTM only; one of :data:`GATE_MODES`.
        output_gate: LSTM only; ``False`` makes ``o = 1`` (Greff's NOG).
        input_activation: LSTM only; ``False`` drops the tanh on the candidate (NIAF).
        output_activation: LSTM only; ``False`` drops the tanh on the cell (NOAF).
        peephole: LSTM only; diagonal weights from the cell to the learned gates.
        gate_recurrence: LSTM only; previous gate activations feed every gate (FGR).
        projection: LSTM only; a recurrent projection ``W_hr`` after the output (LSTMP).
        layer_norm: normalise the input and recurrent projections (and the LSTM cell).
        reset_after: GRU only; ``True`` is PyTorch's form, ``False`` Cho et al.'s.
        cell_clip: LSTM only; clamp ``c(t)`` to ``[-cell_clip, cell_clip]``.
        proj_clip: LSTMP only; clamp the projected output to ``[-proj_clip, proj_clip]``.
    """

    kind: str = "lstm"
    input_gate: str = "learned"
    forget_gate: str = "learned"
    output_gate: bool = True
    input_activation: bool = True
    output_activation: bool = True
    peephole: bool = False
    gate_recurrence: bool = False
    projection: bool = False
    layer_norm: bool = False
    reset_after: bool = True
    cell_clip: float | None = None
    proj_clip: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        for name in ("input_gate", "forget_gate"):
            value = getattr(self, name)
            if value not in GATE_MODES:
                raise ValueError(f"{name} must be one of {GATE_MODES}, got {value!r}")
        for name in ("cell_clip", "proj_clip"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, Real) or not value > 0
            ):
                raise ValueError(f"{name} must be None or a positive number, got {value!r}")
        if self.kind != "lstm":
            self._reject_lstm_only_switches()
        else:
            self._check_lstm_gates()
        if self.kind != "gru" and not self.reset_after:
            raise ValueError(f"reset_after=False only applies to GRU, not kind={self.kind!r}")
        if self.proj_clip is not None and not self.projection:
            raise ValueError("proj_clip needs a projection (proj_size > 0), got proj_size=0")

    def _reject_lstm_only_switches(self) -> None:
        defaults = CellSpec()
        for name in (
            "input_gate",
            "forget_gate",
            "output_gate",
            "input_activation",
            "output_activation",
            "peephole",
            "gate_recurrence",
            "projection",
            "cell_clip",
        ):
            if getattr(self, name) != getattr(defaults, name):
                raise ValueError(
                    f"{name}={getattr(self, name)!r} only applies to LSTM, not kind={self.kind!r}"
                )

    def _check_lstm_gates(self) -> None:
        if self.input_gate == "coupled" and self.forget_gate != "learned":
            raise ValueError(
                "input_gate='coupled' (i = 1 - f) needs a learned forget gate, "
                f"got forget_gate={self.forget_gate!r}"
            )
        if self.forget_gate == "coupled" and self.input_gate != "learned":
            raise ValueError(
                "forget_gate='coupled' (f = 1 - i) needs a learned input gate, "
                f"got input_gate={self.input_gate!r}"
            )

    # ----------------------------------------------------------------- derived layout
    @property
    def gate_rows(self) -> tuple[str, ...]:
        """Names of the row blocks of ``weight_ih``/``weight_hh``/biases, in order."""
        if self.kind == "gru":
            return ("r", "z", "n")
        if self.kind != "lstm":
            return ("h",)
        rows = []
        if self.input_gate == "learned":
            rows.append("i")
        if self.forget_gate == "learned":
            rows.append("f")
        rows.append("g")
        if self.output_gate:
            rows.append("o")
        return tuple(rows)

    @property
    def num_gate_rows(self) -> int:
        """``G``: the weight matrices have ``G * H_cell`` rows."""
        return len(self.gate_rows)

    @property
    def sigmoid_gates(self) -> tuple[str, ...]:
        """The learned sigmoid gates of an LSTM, in ``(i, f, o)`` order."""
        if self.kind != "lstm":
            return ()
        return tuple(g for g in self.gate_rows if g in ("i", "f", "o"))

    @property
    def peephole_rows(self) -> tuple[str, ...]:
        """Rows of ``weight_peephole``: one per learned sigmoid gate (``i, f, o``)."""
        return self.sigmoid_gates if self.peephole else ()

    @property
    def has_cell_state(self) -> bool:
        return self.kind == "lstm"

    @property
    def num_state_tensors(self) -> int:
        """Tensors carried from step to step: ``(h, c[, gates])`` or ``(h,)``."""
        if self.kind != "lstm":
            return 1
        return 3 if self.gate_recurrence else 2
