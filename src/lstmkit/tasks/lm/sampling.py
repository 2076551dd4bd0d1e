r"""Next-token sampling controls for text generation: temperature, top-k and top-p (nucleus).

For logits ``z`` over a vocabulary of ``V`` tokens (last dimension), in this order:

- temperature ``T > 0``: ``z' = z / T``, so ``p = softmax(z / T)``; ``T < 1`` sharpens the
  distribution, ``T > 1`` flattens it. ``T = 0`` means greedy decoding (the argmax): it is
  the limit of ``softmax(z / T)`` as ``T → 0`` (ties go to the first maximum).
- top-k (``k >= 1``): keep the ``k`` largest logits and set the rest to ``-inf``
  (exactly ``min(k, V)`` are kept; among equal logits ``torch.topk`` decides).
- top-p (nucleus, Holtzman et al. 2020, ``0 < p_top <= 1``): with ``p`` the softmax of the
  logits left after temperature and top-k, sorted in decreasing order ``p_(1) >= p_(2) >= …``,
  keep the smallest prefix ``{(1), …, (m)}`` with ``Σ_{j<=m} p_(j) >= p_top``, i.e. token
  ``(i)`` is kept iff the mass of the tokens before it, ``Σ_{j<i} p_(j)``, is still below
  ``p_top``. The most probable token is always kept; ``p_top = 1`` keeps everything. A
  cumulative mass within ``1e-6`` below ``p_top`` counts as reaching it, so that rounding
  in the softmax does not add a token at an exact boundary.

Sampling then draws from ``softmax`` of the filtered logits (the removed tokens have
probability exactly 0).
"""

from __future__ import annotations

import math
import numbers

import torch

__all__ = ["check_sampling", "filter_logits", "sample_next"]

_TOP_P_TOLERANCE = 1e-6


def _describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_sampling(temperature, top_k, top_p) -> None:
    """Validate the sampling options; messages name ``--temperature``/``--top-k``/``--top-p``.

    ``temperature``: a finite float ``>= 0`` (0 = greedy); ``top_k``: an int ``>= 1`` or
    ``None``; ``top_p``: a float in ``(0, 1]`` or ``None``. Raises ``TypeError`` for a
    value of the wrong type and ``ValueError`` for one out of range.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(
            f"--temperature: expected a finite float >= 0, got {_describe(temperature)}"
        )
    if not (math.isfinite(float(temperature)) and temperature >= 0):
        raise ValueError(f"--temperature: expected a finite float >= 0, got {temperature!r}")
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral):
            raise TypeError(f"--top-k: expected an int >= 1 or None, got {_describe(top_k)}")
        if top_k < 1:
            raise ValueError(f"--top-k: expected an int >= 1 or None, got {top_k!r}")
    if top_p is not None:
        if isinstance(top_p, bool) or not isinstance(top_p, numbers.Real):
            raise TypeError(
                f"--top-p: expected a float in (0, 1] or None, got {_describe(top_p)}"
            )
        if not 0.0 < float(top_p) <= 1.0:  # also False for NaN
            raise ValueError(f"--top-p: expected a float in (0, 1] or None, got {top_p!r}")


def _check_logits(logits) -> None:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits: expected a torch.Tensor, got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise TypeError(f"logits: expected a floating-point tensor, got {logits.dtype}")
    if logits.dim() < 1 or logits.shape[-1] < 1:
        raise ValueError(f"logits: expected shape (..., V) with V >= 1, got {tuple(logits.shape)}")


def filter_logits(
    logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """Apply temperature, then top-k, then top-p to ``logits`` (see the module docstring).

    Args:
        logits: ``(..., V)`` unnormalised log-probabilities (floating point).
        temperature: ``T >= 0``; the logits are divided by ``T``. ``T = 0`` returns the
            logits unscaled with everything but the (first) argmax set to ``-inf``.
        top_k: keep only the ``k`` largest logits (``None``: no limit).
        top_p: keep only the nucleus of cumulative probability ``top_p`` (``None``: all).

    Returns:
        ``(..., V)``, same dtype and device: ``logits / T`` with every token outside the
        top-k and outside the top-p nucleus set to ``-inf``. Each row keeps at least one
        finite logit if it had one.
    """
    check_sampling(temperature, top_k, top_p)
    _check_logits(logits)
    neg_inf = float("-inf")
    if temperature == 0:
        keep = torch.zeros_like(logits, dtype=torch.bool)
        keep.scatter_(-1, logits.argmax(dim=-1, keepdim=True), True)
        return logits.masked_fill(~keep, neg_inf)
    out = logits / float(temperature)
    vocab = out.shape[-1]
    if top_k is not None and top_k < vocab:
        keep = torch.zeros_like(out, dtype=torch.bool)
        keep.scatter_(-1, out.topk(int(top_k), dim=-1).indices, True)
        out = out.masked_fill(~keep, neg_inf)
    if top_p is not None and top_p < 1.0:
        probs = torch.softmax(out.to(torch.float64), dim=-1)
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # Σ_{j<i} p_(j)
        keep_sorted = mass_before < (float(top_p) - _TOP_P_TOLERANCE)
        keep_sorted[..., 0] = True  # the most probable token always stays
        keep = torch.zeros_like(keep_sorted).scatter_(-1, order, keep_sorted)
        out = out.masked_fill(~keep, neg_inf)
    return out


def sample_next(
    logits: torch.Tensor, generator: torch.Generator | None = None, *,
    temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
) -> torch.Tensor:
    """Draw one token per row from the filtered distribution.

    Args:
        logits: ``(..., V)`` logits of the next token.
        generator: the random source (on ``logits``' device); ``None`` uses torch's
            global generator. The same seeded generator gives the same draws.
        temperature, top_k, top_p: as in :func:`filter_logits`. ``temperature == 0`` is
            greedy decoding: the argmax is returned and ``top_k``/``top_p`` are ignored
            (they are still validated).

    Returns:
        ``(...)`` long tensor of token indices in ``[0, V)``.
    """
    check_sampling(temperature, top_k, top_p)
    _check_logits(logits)
    if temperature == 0:
        return logits.argmax(dim=-1)
    filtered = filter_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    probs = torch.softmax(filtered.float(), dim=-1).reshape(-1, filtered.shape[-1])
    draws = torch.multinomial(probs, 1, generator=generator)  # (rows, 1)
    return draws.reshape(logits.shape[:-1])
