"""Regularisation noise a layer receives from outside, so engines stay deterministic.

`nn` samples the noise (or, in ``eval()``, passes the expectation); every engine applies
it the same way through the step functions. Shapes: ``L`` length, ``N`` batch,
``H_out`` recurrent size, ``H_cell`` cell size.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class StepMasks:
    """The noise for one time step (see `Masks`)."""

    recurrent: Tensor | None = None  # (N, H_out)
    zoneout_h: Tensor | None = None  # (N, H_out) or broadcastable
    zoneout_c: Tensor | None = None  # (N, H_cell) or broadcastable


NO_STEP_MASKS = StepMasks()


@dataclass(frozen=True)
class Masks:
    """Noise for a whole layer run.

    Attributes:
        recurrent: ``(N, H_out)``, multiplies ``h(t-1)`` before the recurrent matrix at
            every step (variational recurrent dropout, Gal & Ghahramani 2016); already
            scaled by ``1 / (1 - p)``.
        zoneout_h: ``(L, N, H_out)`` per-step probability weights of keeping the previous
            hidden state: ``h(t) = m * h(t-1) + (1 - m) * h~(t)`` (Krueger et al. 2017).
            Bernoulli 0/1 in training; a 0-d tensor holding the rate in evaluation
            (the expectation).
        zoneout_c: the same for the LSTM cell state, ``(L, N, H_cell)`` or 0-d.
    """

    recurrent: Tensor | None = None
    zoneout_h: Tensor | None = None
    zoneout_c: Tensor | None = None

    def at(self, t: int) -> StepMasks:
        """The noise of time step ``t``."""
        if self.recurrent is None and self.zoneout_h is None and self.zoneout_c is None:
            return NO_STEP_MASKS
        return StepMasks(self.recurrent, _step(self.zoneout_h, t), _step(self.zoneout_c, t))


NO_MASKS = Masks()


def _step(mask: Tensor | None, t: int) -> Tensor | None:
    if mask is None or mask.dim() == 0:
        return mask
    return mask[t]
