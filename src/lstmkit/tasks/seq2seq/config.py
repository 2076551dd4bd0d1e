"""The ``lstmkit train seq2seq`` configuration: pairs, model and decoding, training loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...train import OptimizerConfig, RunConfig, ScheduleConfig, TrainConfig
from ..recurrent import RecurrentConfig

TOKENIZATIONS = ("chars", "spaces")
# Yao & Zweig 2015, Table 2 (CMUDict, their 106,837 / 12,000 word split after Bisani &
# Ney 2008): the best single model (a bidirectional LSTM using alignments) and their
# encoder–decoder LSTM without alignments, PER / WER in %.
PUBLISHED = {
    "Yao & Zweig 2015 bi-LSTM (aligned)": (5.45, 23.55),
    "Yao & Zweig 2015 encoder-decoder": (7.63, 28.61),
}


@dataclass
class Seq2SeqDataConfig:
    """The pairs and how they become tokens."""

    dataset: str = "cmudict"
    """cmudict (grapheme-to-phoneme on the CMU Pronouncing Dictionary) or a TSV file of
    source<TAB>target lines."""
    test: str | None = None
    """A TSV file of test pairs (default: the dataset's fixed word-level split)."""
    stress: bool = False
    """cmudict: keep the stress digits of the vowels (AH0) instead of the 39 plain phonemes."""
    source_tokens: Literal["chars", "spaces"] = "chars"
    """TSV: the source is split into characters or whitespace-separated tokens."""
    target_tokens: Literal["chars", "spaces"] = "spaces"
    """TSV: the target is split into characters or whitespace-separated tokens."""
    limit: int | None = None
    """Use at most this many training pairs (quick runs)."""
    eval_limit: int | None = 2000
    """Decode at most this many validation sources per evaluation (the report's test
    decoding is always complete)."""
    max_decode_length: int | None = None
    """Longest output the decoders produce (default: the longest training target + 5)."""

    def __post_init__(self) -> None:
        for key in ("source_tokens", "target_tokens"):
            if getattr(self, key) not in TOKENIZATIONS:
                raise ValueError(
                    f"data.{key} must be one of {', '.join(TOKENIZATIONS)}, got {getattr(self, key)!r}"
                )
        for key in ("limit", "eval_limit", "max_decode_length"):
            if getattr(self, key) is not None and getattr(self, key) <= 0:
                raise ValueError(f"data.{key} must be positive or null, got {getattr(self, key)}")


@dataclass
class Seq2SeqModelConfig:
    """Bidirectional encoder, attention, decoder, and how it decodes."""

    encoder: RecurrentConfig = field(
        default_factory=lambda: RecurrentConfig(hidden_size=128, bidirectional=True)
    )
    """The encoder stack (bidirectional by default; any cell and variant)."""
    decoder: RecurrentConfig = field(default_factory=lambda: RecurrentConfig(hidden_size=256))
    """The decoder stack (unidirectional; any cell and variant)."""
    embedding_size: int = 64
    """Width of the source and target embeddings."""
    attention: Literal["luong", "bahdanau"] = "luong"
    """luong (multiplicative, input feeding) or bahdanau (additive) attention."""
    dropout: float = 0.1
    """Dropout on the embeddings and before the output layer."""
    sampling_probability: float = 0.0
    """Scheduled sampling: the final probability of feeding the model's own previous
    prediction instead of the gold token (0: plain teacher forcing)."""
    sampling_ramp: int = 5000
    """Training batches over which that probability rises linearly from 0."""
    beam_width: int = 5
    """Beam width of the report's and translate's beam search."""
    length_penalty: float = 1.0
    """Beam search ranks hypotheses by log-probability / length^length_penalty."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.sampling_probability <= 1.0:
            raise ValueError(
                f"model.sampling_probability must be in [0, 1], got {self.sampling_probability}"
            )
        for key in ("embedding_size", "beam_width"):
            if getattr(self, key) <= 0:
                raise ValueError(f"model.{key} must be positive, got {getattr(self, key)}")
        if self.sampling_ramp < 0:
            raise ValueError(f"model.sampling_ramp must be >= 0, got {self.sampling_ramp}")
        if self.length_penalty < 0:
            raise ValueError(f"model.length_penalty must be >= 0, got {self.length_penalty}")


@dataclass
class Seq2SeqConfig:
    """``lstmkit train seq2seq``: an attention encoder–decoder."""

    model: Seq2SeqModelConfig = field(default_factory=Seq2SeqModelConfig)
    """The model."""
    data: Seq2SeqDataConfig = field(default_factory=Seq2SeqDataConfig)
    """The pairs."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=14, batch_size=64, eval_every=1000, monitor="wer", monitor_mode="min",
            optimizer=OptimizerConfig(name="adam", lr=2e-3),
            schedule=ScheduleConfig(name="step", step_size=4000, gamma=0.5),
        )
    )
    """The training loop (best weights by validation word error rate; the rate halves
    every 4,000 steps, which took validation WER at step 7,000 from 39.8 % to 36.9 %)."""
    run: RunConfig = field(default_factory=RunConfig)
    """Outputs."""
