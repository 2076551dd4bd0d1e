"""The polyphonic model: an LSTM reading piano-roll frames, one sigmoid per key for the next.

A piano roll is a sequence of binary frames ``v_t ∈ {0,1}^88`` (key k sounds at step
t). The model factorises a piece as

    p(v_1 … v_T) = Π_t Π_k p(v_{t,k} | v_{<t}),
    p(v_{t,k} = 1 | v_{<t}) = σ(W y_t + b)_k,     y_t, state = stack(v_{t-1}, state)

with ``v_0 = 0`` (a silent start frame), so every frame of the piece is predicted,
the first from nothing. The keys of one frame are conditionally independent given the
past — the simplest polyphonic output (the "RNN" of Boulanger-Lewandowski et al. 2012,
with an LSTM instead of a tanh RNN). The loss is the negative log-likelihood summed over
keys, reported per time step (nats), the classic measure for this data.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..recurrent import RecurrentConfig, build_recurrent


def frames_nll(logits: Tensor, rolls: Tensor, lengths: Tensor) -> Tensor:
    """``-Σ log p(v_{t,k})`` over keys and the real frames (``t < lengths``) of
    ``rolls (N, T, K)`` given the model's ``logits (N, T, K)`` (nats, scalar)."""
    per_key = F.binary_cross_entropy_with_logits(logits.float(), rolls.float(), reduction="none")
    real = torch.arange(rolls.shape[1], device=rolls.device)[None, :] < lengths[:, None]
    return (per_key.sum(-1) * real).sum()


class PianoRollModel(torch.nn.Module):
    """Next-frame key logits for batches of piano rolls.

    Args:
        keys: keys per frame (88).
        recurrent: the stack (unidirectional: music is generated left to right).
        dropout: on the stack's output, in training only.
    """

    def __init__(self, keys: int, recurrent: RecurrentConfig, *, dropout: float = 0.0) -> None:
        super().__init__()
        if recurrent.bidirectional:
            raise ValueError(
                "model.recurrent.bidirectional must be false for music: each frame is "
                "predicted from the frames before it"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), got {dropout}")
        self.keys = keys
        self.recurrent = build_recurrent(keys, recurrent)
        self.dropout = torch.nn.Dropout(dropout)
        self.output = torch.nn.Linear(recurrent.output_size, keys)

    @staticmethod
    def shift(rolls: Tensor) -> Tensor:
        """The model's inputs for ``rolls (N, T, K)``: ``v_0 = 0, v_1 … v_{T-1}``."""
        return F.pad(rolls, (0, 0, 1, 0))[:, :-1]

    def forward(self, inputs: Tensor, state: Any = None, lengths: Tensor | None = None) -> tuple[Tensor, Any]:
        """``inputs (N, T, K)`` (the previous frames) → ``logits (N, T, K)`` of the next
        frames and the stack's final state."""
        output, state = self.recurrent(inputs, state, lengths=lengths)
        return self.output(self.dropout(output)), state

    def negative_log_likelihood(self, rolls: Tensor, lengths: Tensor) -> Tensor:
        """Summed over keys and real frames of ``rolls (N, T, K)`` (nats, scalar)."""
        logits, _ = self(self.shift(rolls), lengths=lengths)
        return frames_nll(logits, rolls, lengths)

    @torch.no_grad()
    def sample(self, steps: int, *, generator: torch.Generator, temperature: float = 1.0,
               prime: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Draw ``steps`` frames after ``prime (P, K)`` (default: nothing): each key is a
        Bernoulli draw from ``σ(logit / temperature)``, fed back as the next input.

        Returns the frames ``(P + steps, K)`` (uint8, prime included) and the probabilities
        they were drawn from ``(P + steps, K)`` (the prime's own predicted probabilities
        first), for the plot.
        """
        if steps <= 0:
            raise ValueError(f"steps must be positive, got {steps}")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        device = self.output.weight.device
        frames = [] if prime is None else [frame for frame in prime.to(device).float()]
        probabilities = []
        state, previous = None, torch.zeros(1, 1, self.keys, device=device)
        if frames:  # read the prime in one call, keeping its predictions for the plot
            inputs = self.shift(torch.stack(frames)[None])
            logits, state = self(inputs)
            probabilities += list(torch.sigmoid(logits[0] / temperature))
            previous = torch.stack(frames)[None, -1:]
        for _ in range(steps):
            logits, state = self(previous, state)
            p = torch.sigmoid(logits[0, -1] / temperature)
            frame = torch.bernoulli(p.cpu(), generator=generator).to(device)
            frames.append(frame)
            probabilities.append(p)
            previous = frame.view(1, 1, -1)
        return torch.stack(frames).to(torch.uint8).cpu(), torch.stack(probabilities).float().cpu()
