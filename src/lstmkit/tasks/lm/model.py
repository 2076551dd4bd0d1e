"""The recurrent language model: embedding → recurrent stack → softmax over the vocabulary.

For tokens ``x_1 … x_L`` the model gives, at every step, the logits of the next token:

    e_t = E[x_t]                       (embedding, E: (V, H_emb))
    y_t, state = stack(e_t, state)     (any lstmkit LSTM variant, GRU or RNN; (N, L, H_out))
    logits_t = W y_t + b               (W: (V, H_out); W is E itself when tied)

Weight tying (Press & Wolf 2017; Inan et al. 2017) shares ``E`` as the output matrix,
which needs ``H_emb == H_out``. Dropout (Zaremba et al. 2014 style) is applied to the
embeddings and to the stack's output; dropout between layers, recurrent dropout,
zoneout and weight drop are options of the stack itself.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..recurrent import RecurrentConfig, build_recurrent


class RecurrentLanguageModel(torch.nn.Module):
    """Next-token logits for a batch of token sequences.

    Args:
        vocab_size: ``V``.
        embedding_size: ``H_emb``.
        recurrent: the stack (must be unidirectional: a language model reads left to right).
        tie_weights: share the embedding as the output matrix (needs ``H_emb == H_out``).
        dropout: on the embeddings and on the stack's output, in training only.
    """

    def __init__(
        self, vocab_size: int, embedding_size: int, recurrent: RecurrentConfig,
        *, tie_weights: bool = True, dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if recurrent.bidirectional:
            raise ValueError(
                "model.recurrent.bidirectional must be false for a language model "
                "(it predicts each token from the ones before it)"
            )
        if tie_weights and embedding_size != recurrent.output_size:
            raise ValueError(
                f"model.tie_weights needs model.embedding_size ({embedding_size}) equal to the "
                f"stack's output size ({recurrent.output_size}); set model.embedding_size to "
                f"{recurrent.output_size} (or model.recurrent.proj_size to {embedding_size}), "
                "or set model.tie_weights false"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), got {dropout}")
        self.embedding = torch.nn.Embedding(vocab_size, embedding_size)
        self.recurrent = build_recurrent(embedding_size, recurrent)
        self.dropout = torch.nn.Dropout(dropout)
        self.output = torch.nn.Linear(recurrent.output_size, vocab_size)
        if tie_weights:
            self.output.weight = self.embedding.weight
        # Small embeddings keep the first logits near uniform (loss ≈ ln V at step 0).
        torch.nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        torch.nn.init.zeros_(self.output.bias)

    def forward(self, tokens: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """``tokens (N, L)`` int64 → ``logits (N, L, V)`` and the stack's final state."""
        embedded = self.dropout(self.embedding(tokens))  # (N, L, H_emb)
        output, state = self.recurrent(embedded, state)  # (N, L, H_out)
        return self.output(self.dropout(output)), state  # (N, L, V)
