"""Sampling the regularisation noise the engine applies (all of it off in ``eval()``).

- recurrent dropout (Gal & Ghahramani 2016): one Bernoulli mask per sequence on
  ``h(t-1)``, the same at every step, scaled by ``1/(1-p)``;
- zoneout (Krueger et al. 2017): per step and unit, keep the previous ``h``/``c``
  with probability ``z``; in ``eval()`` the expectation ``z h(t-1) + (1-z) h~(t)``;
- weight drop (Merity et al. 2018): DropConnect on ``W_hh``, one mask per forward
  call, scaled by ``1/(1-p)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..cells import NO_MASKS, Masks


def bernoulli_like(shape: tuple[int, ...], keep: float, like: Tensor) -> Tensor:
    """A 0/1 tensor, each entry 1 with probability ``keep``."""
    return torch.bernoulli(torch.full(shape, keep, dtype=like.dtype, device=like.device))


def sample_masks(
    *,
    training: bool,
    recurrent_dropout: float,
    zoneout_h: float,
    zoneout_c: float,
    length: int,
    batch: int,
    recurrent_size: int,
    cell_size: int,
    like: Tensor,
) -> Masks:
    """The noise for one layer in one direction (see `lstmkit.cells.Masks`)."""
    if recurrent_dropout == 0 and zoneout_h == 0 and zoneout_c == 0:
        return NO_MASKS
    recurrent = None
    if training and recurrent_dropout > 0:
        keep = 1.0 - recurrent_dropout
        recurrent = bernoulli_like((batch, recurrent_size), keep, like) / keep  # (N, H_out)
    return Masks(
        recurrent=recurrent,
        zoneout_h=_zoneout(training, zoneout_h, (length, batch, recurrent_size), like),
        zoneout_c=_zoneout(training, zoneout_c, (length, batch, cell_size), like),
    )


def _zoneout(training: bool, rate: float, shape: tuple[int, ...], like: Tensor) -> Tensor | None:
    if rate == 0:
        return None
    if not training:
        return like.new_tensor(rate)  # 0-d: the expectation
    return bernoulli_like(shape, rate, like)  # (L, N, size)


def drop_weight(weight: Tensor, rate: float, training: bool) -> Tensor:
    """DropConnect on a recurrent matrix; the identity in eval or at rate 0."""
    if not training or rate == 0:
        return weight
    return torch.nn.functional.dropout(weight, rate, training=True)
