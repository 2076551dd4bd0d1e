"""The many-to-one sequence classifier: (embedding →) recurrent stack → pooling → softmax.

For a sequence ``x_1 … x_n`` (features, or token ids embedded first) of true length
``n`` inside a batch padded to ``L``:

    y_1 … y_n, state = stack(x_1 … x_n)          (any lstmkit LSTM variant, GRU or RNN;
                                                   run with ``lengths=``: nothing past n)
    z = pool(y, state)                            (N, D·H_out)
    logits = W dropout(z) + b                     (N, C)

Poolings (``POOLINGS``):

- ``last``: the final hidden state of the top layer — for a bidirectional stack the
  forward direction's state at step ``n`` beside the backward direction's at step 1,
  so each direction contributes the summary of the whole sequence;
- ``mean``: ``(1/n) Σ_{t≤n} y_t``;
- ``max``: the element-wise maximum over ``t ≤ n``;
- ``attention``: additive attention pooling (Bahdanau-style, as in Yang et al. 2016 with
  one query): ``e_t = vᵀ tanh(W y_t + b)``, ``α = softmax(e)`` over ``t ≤ n`` only,
  ``z = Σ α_t y_t``.

Every pooling reads steps ``t ≤ n`` only, so whatever fills the padding cannot change a
prediction (the tests pad with garbage to prove it).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..recurrent import RecurrentConfig, build_recurrent

POOLINGS = ("last", "mean", "max", "attention")


def step_mask(lengths: Tensor, max_length: int) -> Tensor:
    """``(N, L)`` bool: True at the real steps ``t < lengths[n]``."""
    steps = torch.arange(max_length, device=lengths.device)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


class AttentionPooling(torch.nn.Module):
    """``z = Σ_t α_t y_t`` with ``α = softmax_t(vᵀ tanh(W y_t + b))`` over the real steps."""

    def __init__(self, size: int, attention_size: int) -> None:
        super().__init__()
        self.project = torch.nn.Linear(size, attention_size)
        self.score = torch.nn.Linear(attention_size, 1, bias=False)

    def weights(self, outputs: Tensor, mask: Tensor) -> Tensor:
        """``outputs (N, L, H)``, ``mask (N, L)`` → ``α (N, L)``, zero on padding, rows sum to 1."""
        scores = self.score(torch.tanh(self.project(outputs))).squeeze(-1)  # (N, L)
        return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)

    def forward(self, outputs: Tensor, mask: Tensor) -> Tensor:
        return torch.bmm(self.weights(outputs, mask).unsqueeze(1), outputs).squeeze(1)


class SequenceClassifier(torch.nn.Module):
    """Class logits for a batch of variable-length sequences.

    Args:
        num_classes: ``C``.
        recurrent: the stack (any cell or variant, uni- or bidirectional).
        input_size: features per step ``F`` of numeric sequences; or
        vocab_size: for token sequences, embedded into ``embedding_size`` first (what
            fills the padding is never read, so no index is reserved for it).
        pooling: one of ``POOLINGS``.
        dropout: on the embeddings and on the pooled vector, in training only.
        attention_size: width of the attention pooling's hidden layer.
    """

    def __init__(
        self, num_classes: int, recurrent: RecurrentConfig, *, input_size: int | None = None,
        vocab_size: int | None = None, embedding_size: int = 64, pooling: str = "last",
        dropout: float = 0.0, attention_size: int = 64,
    ) -> None:
        super().__init__()
        if (input_size is None) == (vocab_size is None):
            raise ValueError("give exactly one of input_size (numeric features) or vocab_size (tokens)")
        if pooling not in POOLINGS:
            raise ValueError(f"model.pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), got {dropout}")
        if num_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
        self.pooling = pooling
        self.bidirectional = recurrent.bidirectional
        self.embedding = None
        if vocab_size is not None:
            self.embedding = torch.nn.Embedding(vocab_size, embedding_size)
            input_size = embedding_size
        self.recurrent = build_recurrent(input_size, recurrent)
        size = recurrent.output_size
        self.attention = AttentionPooling(size, attention_size) if pooling == "attention" else None
        self.dropout = torch.nn.Dropout(dropout)
        self.output = torch.nn.Linear(size, num_classes)

    def encode(self, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The stack's ``outputs (N, L, D·H_out)``, the step ``mask (N, L)`` and the top
        layer's final hidden states ``(D, N, H_out)``."""
        if self.embedding is not None:
            inputs = self.dropout(self.embedding(inputs))
        outputs, state = self.recurrent(inputs, lengths=lengths)
        h_n = state[0] if isinstance(state, tuple) else state  # (num_layers·D, N, H_out)
        directions = 2 if self.bidirectional else 1
        return outputs, step_mask(lengths, inputs.shape[1]), h_n[-directions:]

    def pool(self, outputs: Tensor, mask: Tensor, final: Tensor) -> Tensor:
        """``(N, D·H_out)``: the sequence summary the classifier reads."""
        if self.pooling == "last":
            return torch.cat(list(final), dim=-1)  # forward's end beside backward's start
        if self.pooling == "attention":
            return self.attention(outputs, mask)
        if self.pooling == "max":
            return outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)
        real = mask.unsqueeze(-1).to(outputs.dtype)
        return (outputs * real).sum(dim=1) / real.sum(dim=1)

    def forward(self, inputs: Tensor, lengths: Tensor) -> Tensor:
        """``inputs (N, L, F)`` float or ``(N, L)`` token ids, ``lengths (N,)`` → ``logits (N, C)``."""
        outputs, mask, final = self.encode(inputs, lengths)
        return self.output(self.dropout(self.pool(outputs, mask, final)))
