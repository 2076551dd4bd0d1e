r"""Turning a trained `Seq2Seq` into output sequences: greedy decoding and beam search.

Both decode a whole batch at once, never produce PAD or BOS (`Seq2Seq.mask_special`), and
leave EOS and BOS out of what they return. ``max_length`` counts decoder steps, so an output
holds at most ``max_length`` tokens, or ``max_length - 1`` when it ends with EOS.

Greedy: at each step every unfinished row takes the argmax of its log-probabilities; a row
stops at EOS, the loop when every row has stopped (or after ``max_length`` steps).

Beam search keeps, per source, the ``K`` best partial hypotheses by summed log-probability
``s(y) = Σ_t log p(y_t | y_<t, x)``; all ``N * K`` rows advance together (the `Encoded`
rows repeated ``K`` times, the `DecoderState` rows reordered with ``index_select`` after each
step). At each step the ``2K`` best one-token extensions of a source are ranked; those of
the top ``K`` that end in EOS are finished, and the ``K`` best that do not are the new live
hypotheses (as in fairseq; keeping EOS to the top ``K`` is what makes ``K = 1`` the greedy
path). A finished hypothesis of ``len`` tokens, EOS included, is ranked by

    score(y) = s(y) / len^α            (α = length_penalty >= 0; α = 0: the raw log-probability)

A source is done when it has at least ``K`` finished hypotheses and the best of them cannot
be beaten by any live one. That test is exact: a live hypothesis with ``s <= 0`` can only
lose log-probability and can be at most ``max_length`` long, so its final score is at most
``s / max_length^α``. At ``max_length`` the live hypotheses count as finished (without EOS,
``len = max_length``). With ``length_penalty = 0``, ``beam_width = 1`` is greedy decoding
exactly; with ``α > 0`` width 1 may search on past the greedy path's EOS, when a longer
hypothesis could still score higher after normalisation.

A finished source's rows stay in the batch (their results are ignored), so every step runs
on the same ``N * K`` rows. Scores are accumulated in float64, so adding a hypothesis' score never merges two
different float32 log-probabilities into a tie.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

from .model import Seq2Seq

__all__ = ["beam_search", "greedy_decode"]


def greedy_decode(model: Seq2Seq, source: Tensor, lengths: Tensor, *, max_length: int) -> list[list[int]]:
    """The argmax output of every source.

    Args:
        model: a `Seq2Seq` (its train/eval mode is left as the caller set it).
        source: ``(N, S)`` int64; lengths: ``(N,)``.
        max_length: the most decoder steps (``>= 1``).

    Returns:
        Per source, its token ids without BOS and EOS.
    """
    _check_int("max_length", max_length, 1)
    with torch.no_grad():
        encoded = model.encode(source, lengths)
        state = model.start(encoded)
        previous = torch.full_like(source[:, 0], model.bos_index)  # (N,)
        finished = torch.zeros_like(previous, dtype=torch.bool)
        chosen = []
        for _ in range(max_length):
            logits, state, _ = model.step(previous, state, encoded)
            # The argmax of the log-probabilities (not the logits) is what beam search ranks.
            previous = model.mask_special(logits.float().log_softmax(-1)).argmax(-1)  # (N,)
            chosen.append(previous)
            finished = finished | (previous == model.eos_index)
            if bool(finished.all()):
                break
        rows = torch.stack(chosen, dim=1).tolist()  # (N, steps)
    return [_until_eos(row, model.eos_index) for row in rows]


def beam_search(
    model: Seq2Seq, source: Tensor, lengths: Tensor, *, beam_width: int, max_length: int,
    length_penalty: float = 0.0, n_best: int = 1,
) -> list[list[tuple[list[int], float]]]:
    """The best outputs of every source by beam search (see the module docstring).

    Args:
        model: a `Seq2Seq` (its train/eval mode is left as the caller set it).
        source: ``(N, S)`` int64; lengths: ``(N,)``.
        beam_width: ``K >= 1`` live hypotheses per source.
        max_length: the most decoder steps (``>= 1``).
        length_penalty: ``α >= 0`` in ``s / len^α``.
        n_best: how many hypotheses to return per source, ``1 <= n_best <= beam_width``.

    Returns:
        Per source, up to ``n_best`` ``(tokens, score)`` pairs, best first: tokens without
        BOS and EOS, score the length-normalised log-probability. Fewer than ``n_best`` only
        when fewer distinct hypotheses exist (a tiny vocabulary and ``max_length``).
    """
    _check_int("beam_width", beam_width, 1)
    _check_int("max_length", max_length, 1)
    _check_int("n_best", n_best, 1)
    if n_best > beam_width:
        raise ValueError(f"n_best must be at most beam_width ({beam_width}), got {n_best}")
    if (isinstance(length_penalty, bool) or not isinstance(length_penalty, numbers.Real)
            or not math.isfinite(length_penalty) or length_penalty < 0):
        raise ValueError(f"length_penalty must be a finite number >= 0, got {length_penalty!r}")
    with torch.no_grad():
        finished = _search(model, source, lengths, beam_width, max_length, float(length_penalty))
    results = []
    for hypotheses in finished:
        ranked = sorted(hypotheses, key=lambda item: -item[1])  # stable: earlier first on ties
        results.append(ranked[:n_best])
    return results


def _search(
    model: Seq2Seq, source: Tensor, lengths: Tensor, width: int, max_length: int, alpha: float,
) -> list[list[tuple[list[int], float]]]:
    """Per source, every finished ``(tokens, normalised score)`` the search produced."""
    batch = source.shape[0]
    encoded = model.encode(source, lengths)
    expand = torch.arange(batch, device=source.device).repeat_interleave(width)  # (N*K,)
    encoded = encoded.index_select(expand)  # every field (N*K, ...)
    state = model.start(encoded)
    device = source.device
    # Only beam 0 is alive at first, so the first step does not expand K copies of BOS.
    scores = torch.full((batch, width), float("-inf"), dtype=torch.float64, device=device)
    scores[:, 0] = 0.0
    history = torch.empty(batch, width, 0, dtype=torch.int64, device=device)  # (N, K, t)
    previous = torch.full((batch * width,), model.bos_index, dtype=torch.int64, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    count = torch.zeros(batch, dtype=torch.int64, device=device)  # finished per source
    best = torch.full((batch,), float("-inf"), dtype=torch.float64, device=device)
    finished: list[list[tuple[list[int], float]]] = [[] for _ in range(batch)]
    rank = torch.arange(2 * width, device=device)  # (2K,)
    row_base = (torch.arange(batch, device=device) * width).unsqueeze(1)  # (N, 1)

    for t in range(1, max_length + 1):
        logits, state, _ = model.step(previous, state, encoded)  # (N*K, V)
        log_probs = model.mask_special(logits.float().log_softmax(-1)).double()
        vocab = log_probs.shape[-1]
        candidates = scores.unsqueeze(-1) + log_probs.view(batch, width, vocab)  # (N, K, V)
        # 2K candidates hold at least K that are not EOS (one EOS per beam at most).
        top_scores, top_index = candidates.view(batch, -1).topk(2 * width, dim=1)  # (N, 2K)
        origin = top_index // vocab  # the beam each candidate extends
        token = top_index % vocab
        is_eos = token == model.eos_index

        ends = is_eos & (rank < width) & torch.isfinite(top_scores) & ~done.unsqueeze(1)
        for n, r in ends.nonzero().tolist():
            tokens = history[n, origin[n, r]].tolist()
            normalised = float(top_scores[n, r]) / t**alpha
            finished[n].append((tokens, normalised))
            count[n] += 1
            best[n] = max(float(best[n]), normalised)

        # The K best non-EOS candidates, in rank order, become the live beams.
        keep = (is_eos.long() * 2 * width + rank).argsort(dim=1)[:, :width]  # (N, K)
        scores = top_scores.gather(1, keep)
        origin = origin.gather(1, keep)
        token = token.gather(1, keep)
        history = torch.cat(
            [history.gather(1, origin.unsqueeze(-1).expand(-1, -1, history.shape[-1])),
             token.unsqueeze(-1)], dim=-1,
        )  # (N, K, t)

        if t == max_length:  # every source still searching keeps its live hypotheses
            for n in (~done).nonzero().flatten().tolist():
                for k in torch.isfinite(scores[n]).nonzero().flatten().tolist():
                    normalised = float(scores[n, k]) / t**alpha
                    finished[n].append((history[n, k].tolist(), normalised))
            break
        live_best = scores[:, 0]  # rank order: the best live score
        bound = live_best / float(max_length) ** alpha  # no live hypothesis can end above it
        done = done | ((count >= width) & (best >= bound)) | torch.isinf(live_best)
        if bool(done.all()):
            break
        state = state.index_select((row_base + origin).flatten())  # (N*K,) rows reordered
        previous = token.flatten()
    return finished


def _until_eos(tokens: list[int], eos: int) -> list[int]:
    return tokens[: tokens.index(eos)] if eos in tokens else tokens


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
