"""`step`: the one reference step function for every kind, chosen by the spec."""

from __future__ import annotations

from torch import Tensor

from .gru import gru_step
from .lstm import lstm_step
from .masks import NO_STEP_MASKS, StepMasks
from .params import LayerParams
from .rnn import rnn_step
from .spec import CellSpec

_STEPS = {"lstm": lstm_step, "gru": gru_step, "rnn_tanh": rnn_step, "rnn_relu": rnn_step}


def step(
    x_proj: Tensor,
    state: tuple[Tensor, ...],
    params: LayerParams,
    spec: CellSpec,
    masks: StepMasks = NO_STEP_MASKS,
    gates: dict[str, Tensor] | None = None,
) -> tuple[Tensor, ...]:
    """Advance any cell one time step; ``state[0]`` of the result is the step's output.

    ``gates``: an optional dict the step fills with its gate activations (see each
    kind's step function); used by `lstmkit.inspect`.
    """
    return _STEPS[spec.kind](x_proj, state, params, spec, masks, gates)
