"""Small pure functions shared by the step functions."""

from __future__ import annotations

import torch
from torch import Tensor

LAYER_NORM_EPS = 1e-5


def layer_norm(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""Normalise over the last dimension (Ba et al. 2016), then scale and shift.

    .. math::
        \mathrm{LN}(x) = \frac{x - \mu(x)}{\sqrt{\sigma^2(x) + \epsilon}} \odot w + b

    with the biased variance and :math:`\epsilon = 10^{-5}`. Shapes: ``x (..., K)``,
    ``weight (K,)``, ``bias (K,)``.
    """
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    y = (x - mean) * torch.rsqrt(var + LAYER_NORM_EPS) * weight
    return y if bias is None else y + bias


def zoneout(new: Tensor, old: Tensor, keep: Tensor | None) -> Tensor:
    r""":math:`m \odot \text{old} + (1 - m) \odot \text{new}` (Krueger et al. 2017).

    ``keep`` is ``None`` (no zoneout), 0/1 per unit in training, or the rate in eval.
    """
    if keep is None:
        return new
    return keep * old + (1 - keep) * new
