r"""The attention encoder–decoder: a recurrent encoder, a bridge, and a step-wise decoder.

Shapes: ``N`` batch, ``S`` source length, ``T`` target length, ``V`` target vocabulary,
``H_emb`` embedding size, ``E = D * H_enc`` the encoder's output features (``D`` = 2 when
bidirectional), ``H`` the decoder's output size (its ``proj_size`` if set, else
``hidden_size``), ``H_cell`` the decoder's cell size, ``L_dec`` its number of layers.

Encoder (any lstmkit stack, bidirectional recommended), run on the padded batch with
``lengths=`` so that padding never enters a sequence's states::

    m_1 … m_S = encoder(E_src[x_1 … x_S])          memory (N, S, E), zero past each length

Bridge: the decoder's first state comes from the encoder's final states. With ``z`` the
concatenation of the last encoder layer's final ``h`` of each direction (forward: at the
sequence's last real token; backward: at its first), ``(N, E)``::

    h_0^(l) = tanh(W_b z + b_b)[l]                 one slice per decoder layer l
    c_0^(l) = (W_bc z + b_bc)[l]                   LSTM decoders only; linear, since the cell
                                                   state is not bounded like h

Attention over the memory, with padded positions set to ``-inf`` before the softmax (so
their weight is exactly 0 and the weights of real positions sum to 1)::

    bahdanau (additive, Bahdanau et al. 2015), from the previous state s_{t-1}:
        e_ts = vᵀ tanh(W_q s_{t-1} + W_k m_s + b)
        a_t  = softmax_s(e_t);  c_t = Σ_s a_ts m_s
        s_t  = dec([E_tgt[y_{t-1}]; c_t], s_{t-1})
        o_t  = tanh(W_o [s_t; c_t; E_tgt[y_{t-1}]])          "deep output", (N, H)

    luong ("general", Luong et al. 2015), from the current state s_t, with input feeding:
        s_t  = dec([E_tgt[y_{t-1}]; h~_{t-1}], s_{t-1})       h~_0 = 0
        e_ts = s_tᵀ W_a m_s
        a_t  = softmax_s(e_t);  c_t = Σ_s a_ts m_s
        h~_t = tanh(W_c [c_t; s_t])                           attentional vector, (N, H)
        o_t  = h~_t

    logits_t = W_out dropout(o_t) + b_out                     (N, V)

``s_t`` is the decoder's top-layer output. ``W_k m_s`` (bahdanau) and ``W_aᵀ``-projected
memory (luong) do not depend on ``t``, so `Seq2Seq.encode` computes them once as ``keys``.

The decoder is advanced one step at a time with the stack's ``step()``, which samples no
noise; so the decoder's own noise options (dropout between layers, recurrent dropout,
zoneout, weight drop) are refused, and ``dropout`` (on both embeddings and before the output
layer, training only) is the model's regulariser. Decoders never produce PAD or BOS:
`Seq2Seq.mask_special` sets their scores to ``-inf`` wherever the model's own prediction is
chosen (scheduled sampling, greedy and beam search).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from ..recurrent import RecurrentConfig, build_recurrent

__all__ = ["ATTENTIONS", "DecoderState", "Encoded", "Seq2Seq"]

ATTENTIONS = ("bahdanau", "luong")

# Decoder options that need noise sampled per sequence, which step() does not do.
_DECODER_NOISE = ("dropout", "recurrent_dropout", "zoneout", "weight_drop")


class DecoderState(NamedTuple):
    """What the decoder carries from one step to the next.

    Attributes:
        hidden: the stack's state, ``(h (L_dec, N, H), c (L_dec, N, H_cell))`` for an LSTM
            decoder, ``h (L_dec, N, H)`` for GRU/RNN.
        feed: luong: the previous attentional vector ``h~_{t-1} (N, H)`` (input feeding);
            bahdanau: ``None``.
    """

    hidden: Tensor | tuple[Tensor, Tensor]
    feed: Tensor | None

    def index_select(self, rows: Tensor) -> DecoderState:
        """The state of batch rows ``rows (M,)`` (repeats and reorders allowed)."""
        if isinstance(self.hidden, tuple):
            hidden = tuple(part.index_select(1, rows) for part in self.hidden)
        else:
            hidden = self.hidden.index_select(1, rows)
        feed = None if self.feed is None else self.feed.index_select(0, rows)
        return DecoderState(hidden, feed)


class Encoded(NamedTuple):
    """The encoder's result, everything the decoder reads at each step.

    Attributes:
        memory: encoder outputs ``(N, S, E)``, zero past each source's length.
        keys: the memory's step-independent attention projection: bahdanau
            ``W_k m + b (N, S, H)``, luong ``m W_aᵀ (N, S, H)``.
        mask: ``(N, S)`` bool, True at real (non-padded) source positions.
        state: the decoder's initial `DecoderState` (from the bridge).
    """

    memory: Tensor
    keys: Tensor
    mask: Tensor
    state: DecoderState

    def index_select(self, rows: Tensor) -> Encoded:
        """The rows ``rows (M,)`` of every field (for expanding and reordering beams)."""
        return Encoded(
            self.memory.index_select(0, rows), self.keys.index_select(0, rows),
            self.mask.index_select(0, rows), self.state.index_select(rows),
        )


def _hidden_of(state: Tensor | tuple[Tensor, ...]) -> Tensor:
    """``h`` of a stack state (the first tensor of an LSTM's ``(h, c)``)."""
    return state[0] if isinstance(state, tuple) else state


def _masked_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """Softmax over ``S`` of ``scores (N, S)`` with ``mask (N, S)`` False set to ``-inf``.

    Every row has at least one real position (lengths >= 1), so no row is all ``-inf``.
    """
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)


class Seq2Seq(torch.nn.Module):
    """Encoder–decoder with attention, trained with teacher forcing.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes.
        embedding_size: ``H_emb`` of both embeddings.
        encoder: the encoder stack (any cell and variant; bidirectional recommended).
        decoder: the decoder stack, unidirectional, without per-sequence noise options.
        attention: ``"bahdanau"`` or ``"luong"`` (see the module docstring).
        dropout: on both embeddings and before the output layer, training only; ``[0, 1)``.
        pad_index, bos_index, eos_index: special target tokens (``pad_index`` also pads
            sources).
    """

    def __init__(
        self, source_vocab_size: int, target_vocab_size: int, *, embedding_size: int,
        encoder: RecurrentConfig, decoder: RecurrentConfig, attention: str = "luong",
        dropout: float = 0.0, pad_index: int = 0, bos_index: int = 1, eos_index: int = 2,
    ) -> None:
        super().__init__()
        _check_arguments(
            source_vocab_size, target_vocab_size, embedding_size, decoder, attention, dropout,
            pad_index, bos_index, eos_index,
        )
        self.attention = attention
        self.pad_index, self.bos_index, self.eos_index = pad_index, bos_index, eos_index
        self.target_vocab_size = target_vocab_size
        self.dropout = torch.nn.Dropout(dropout)

        memory_size = encoder.output_size  # E
        size = decoder.output_size  # H
        self.source_embedding = torch.nn.Embedding(source_vocab_size, embedding_size)
        self.target_embedding = torch.nn.Embedding(target_vocab_size, embedding_size)
        self.encoder = build_recurrent(embedding_size, encoder)
        extra_input = size if attention == "luong" else memory_size  # h~_{t-1} or c_t
        self.decoder = build_recurrent(embedding_size + extra_input, decoder)
        if self.decoder.spec.gate_recurrence:
            raise ValueError(
                "decoder.variant 'FGR' carries its previous gates, which the one-step decoder "
                "cannot; pick another LSTM variant for the decoder (the encoder may use FGR)"
            )
        self.decoder_layers = decoder.num_layers

        summary = memory_size  # z: the last encoder layer's final h of each direction
        self.bridge = torch.nn.Linear(summary, decoder.num_layers * size)
        self.bridge_cell = (
            torch.nn.Linear(summary, decoder.num_layers * decoder.hidden_size)
            if decoder.cell == "lstm" else None
        )
        if attention == "luong":
            self.key = torch.nn.Linear(memory_size, size, bias=False)  # W_a
            self.combine = torch.nn.Linear(memory_size + size, size)  # W_c
        else:
            self.key = torch.nn.Linear(memory_size, size)  # W_k, b
            self.query = torch.nn.Linear(size, size, bias=False)  # W_q
            self.energy = torch.nn.Linear(size, 1, bias=False)  # v
            self.deep_output = torch.nn.Linear(size + memory_size + embedding_size, size)  # W_o
        self.output = torch.nn.Linear(size, target_vocab_size)

    # ------------------------------------------------------------------ encoder side
    def encode(self, source: Tensor, lengths: Tensor) -> Encoded:
        """Run the encoder and the bridge.

        Args:
            source: ``(N, S)`` int64 token ids, padded past each length (any token there).
            lengths: ``(N,)`` integers in ``[1, S]``.

        Returns:
            `Encoded`: memory ``(N, S, E)``, keys ``(N, S, H)``, mask ``(N, S)``, and the
            initial `DecoderState`.
        """
        _check_tokens("source", source)
        lengths = torch.as_tensor(lengths, device=source.device)
        embedded = self.dropout(self.source_embedding(source))  # (N, S, H_emb)
        memory, final = self.encoder(embedded, lengths=lengths)  # (N, S, E)
        mask = torch.arange(source.shape[1], device=source.device) < lengths.unsqueeze(1)
        return Encoded(memory, self.key(memory), mask, self._bridge(_hidden_of(final)))

    def _bridge(self, final_h: Tensor) -> DecoderState:
        """``final_h (L_enc*D, N, H_enc)`` → the decoder's initial state."""
        directions = 2 if self.encoder.bidirectional else 1
        last = final_h[-directions:]  # (D, N, H_enc): the last layer, forward then backward
        summary = last.transpose(0, 1).reshape(last.shape[1], -1)  # (N, E)
        batch = summary.shape[0]
        h = torch.tanh(self.bridge(summary))  # (N, L_dec*H)
        h = h.view(batch, self.decoder_layers, -1).transpose(0, 1).contiguous()  # (L_dec, N, H)
        if self.bridge_cell is not None:
            c = self.bridge_cell(summary).view(batch, self.decoder_layers, -1)  # (N, L, H_cell)
            hidden = (h, c.transpose(0, 1).contiguous())  # (L_dec, N, H_cell)
        else:
            hidden = h
        feed = h.new_zeros(batch, h.shape[-1]) if self.attention == "luong" else None
        return DecoderState(hidden, feed)

    def start(self, encoded: Encoded) -> DecoderState:
        """The decoder state before the first step (the bridge's output)."""
        return encoded.state

    # ------------------------------------------------------------------ decoder side
    def step(
        self, previous: Tensor, state: DecoderState, encoded: Encoded
    ) -> tuple[Tensor, DecoderState, Tensor]:
        """One decoder step.

        Args:
            previous: ``(N,)`` int64, the previous target token (BOS at the first step).
            state: the `DecoderState` from `start` or the previous step.
            encoded: `encode`'s result for the same rows.

        Returns:
            ``logits (N, V)`` of the next token, the new state, and the attention weights
            ``(N, S)`` (exactly 0 on padding, summing to 1 over the real positions).
        """
        embedded = self.dropout(self.target_embedding(previous))  # (N, H_emb)
        if self.attention == "luong":
            inputs = torch.cat([embedded, state.feed], dim=-1)  # (N, H_emb + H)
            top, hidden = self.decoder.step(inputs, state.hidden)  # s_t (N, H)
            scores = torch.bmm(encoded.keys, top.unsqueeze(-1)).squeeze(-1)  # (N, S)
            weights = _masked_softmax(scores, encoded.mask)
            context = torch.bmm(weights.unsqueeze(1), encoded.memory).squeeze(1)  # (N, E)
            out = torch.tanh(self.combine(torch.cat([context, top], dim=-1)))  # h~_t (N, H)
            new_state = DecoderState(hidden, out)
        else:
            query = self.query(_hidden_of(state.hidden)[-1])  # W_q s_{t-1} (N, H)
            energy = torch.tanh(encoded.keys + query.unsqueeze(1))  # (N, S, H)
            weights = _masked_softmax(self.energy(energy).squeeze(-1), encoded.mask)  # (N, S)
            context = torch.bmm(weights.unsqueeze(1), encoded.memory).squeeze(1)  # (N, E)
            inputs = torch.cat([embedded, context], dim=-1)  # (N, H_emb + E)
            top, hidden = self.decoder.step(inputs, state.hidden)  # s_t (N, H)
            out = torch.tanh(self.deep_output(torch.cat([top, context, embedded], dim=-1)))
            new_state = DecoderState(hidden, None)
        return self.output(self.dropout(out)), new_state, weights

    def mask_special(self, scores: Tensor) -> Tensor:
        """``scores (..., V)`` with PAD and BOS set to ``-inf``: tokens never generated."""
        scores = scores.clone()
        scores[..., [self.pad_index, self.bos_index]] = float("-inf")
        return scores

    def forward(
        self, source: Tensor, lengths: Tensor, target_in: Tensor, *,
        sampling_probability: float = 0.0, generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Logits of every target position, with teacher forcing.

        Args:
            source: ``(N, S)`` int64; lengths: ``(N,)``.
            target_in: ``(N, T)`` int64: BOS then the target tokens, padded with PAD (the
                positions past a target's end give logits the loss should ignore).
            sampling_probability: scheduled sampling (Bengio et al. 2015): at each step
                ``t > 0`` each row independently, with this probability, is fed the model's
                own previous prediction — the argmax of its logits, PAD and BOS excluded,
                not a sample — instead of ``target_in[:, t]``. 0 is plain teacher forcing.
            generator: draws the per-row choices (``torch.rand``); ``None``: the global one.

        Returns:
            ``logits (N, T, V)`` and attention weights ``(N, T, S)``.
        """
        _check_tokens("target_in", target_in)
        if target_in.shape[0] != source.shape[0]:
            raise ValueError(
                f"target_in has {target_in.shape[0]} rows but source has {source.shape[0]}; "
                "they must pair up row by row"
            )
        p = float(sampling_probability)
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise ValueError(f"sampling_probability must be in [0, 1], got {sampling_probability!r}")
        encoded = self.encode(source, lengths)
        state = self.start(encoded)
        all_logits, all_weights = [], []
        for t in range(target_in.shape[1]):
            previous = target_in[:, t]  # (N,)
            if t > 0 and p > 0.0:
                own = self.mask_special(all_logits[-1].detach()).argmax(dim=-1)  # (N,)
                draw = torch.rand(
                    previous.shape[0], generator=generator,
                    device=generator.device if generator is not None else previous.device,
                ).to(previous.device)
                previous = torch.where(draw < p, own, previous)
            logits, state, weights = self.step(previous, state, encoded)
            all_logits.append(logits)
            all_weights.append(weights)
        return torch.stack(all_logits, dim=1), torch.stack(all_weights, dim=1)


def _check_tokens(name: str, tokens: object) -> None:
    if not isinstance(tokens, Tensor) or tokens.dim() != 2 or tokens.dtype != torch.int64:
        got = (
            f"a {tokens.dim()}D {tokens.dtype} tensor of shape {tuple(tokens.shape)}"
            if isinstance(tokens, Tensor) else type(tokens).__name__
        )
        raise ValueError(f"{name} must be a 2D int64 tensor (N, length) of token ids, got {got}")
    if tokens.shape[1] == 0:
        raise ValueError(f"{name} has length 0; need at least one position")


def _check_arguments(
    source_vocab_size, target_vocab_size, embedding_size, decoder, attention, dropout,
    pad_index, bos_index, eos_index,
) -> None:
    for name, value in (("source_vocab_size", source_vocab_size),
                        ("target_vocab_size", target_vocab_size),
                        ("embedding_size", embedding_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if attention not in ATTENTIONS:
        raise ValueError(f"attention must be one of {', '.join(ATTENTIONS)}, got {attention!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    specials = {"pad_index": pad_index, "bos_index": bos_index, "eos_index": eos_index}
    for name, value in specials.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < target_vocab_size:
            raise ValueError(
                f"{name} must be an int in [0, target_vocab_size={target_vocab_size}), got {value!r}"
            )
    if len(set(specials.values())) != 3:
        raise ValueError(f"pad_index, bos_index and eos_index must differ, got {specials}")
    if pad_index >= source_vocab_size:
        raise ValueError(
            f"pad_index ({pad_index}) must also be a source token id, < source_vocab_size "
            f"({source_vocab_size})"
        )
    if decoder.bidirectional:
        raise ValueError(
            "decoder.bidirectional must be false: the decoder generates left to right, one "
            "token at a time (make the encoder bidirectional instead)"
        )
    for name in _DECODER_NOISE:
        value = getattr(decoder, name)
        if value:
            raise ValueError(
                f"decoder.{name} must be 0, got {value!r}: the decoder advances one step at a "
                "time with step(), which samples no noise; regularise with the model's dropout"
            )
