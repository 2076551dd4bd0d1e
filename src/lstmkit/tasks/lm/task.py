"""Language modelling as a trainable task: ``lstmkit train lm`` and ``lstmkit generate``.

A corpus (`lstmkit.data.text`) is split contiguously 90/5/5, tokenised as characters
or words, and indexed by a vocabulary built on the training part only (tokens seen
fewer than ``data.min_freq`` times, and any token of the other parts not seen in
training, become ``<unk>``). Training is truncated BPTT over parallel streams
(``train.bptt`` steps per chunk, state carried). Evaluation reads each split as
``data.eval_streams`` contiguous streams with the state carried across the whole
stream, and reports

- ``loss``: mean cross-entropy per token in nats;
- ``bpc`` (char level): bits per character, ``loss / ln 2``;
- ``perplexity`` (word level): ``exp(loss)``.

After training, `report` scores the test split with the best weights beside an
interpolated Kneser–Ney character n-gram fitted on the same training text (char level),
and writes a generated sample.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F

from ...data import StreamBatches
from ...data.text import LEVELS, Vocabulary, detokenize, load_corpus, split_text, tokenize
from ...files import write_text_atomic
from ...train import LossOutput, OptimizerConfig, RunConfig, Task, TrainConfig
from ...train.task import move_to, reset_rows
from ..recurrent import RecurrentConfig, recurrent_arguments
from .model import RecurrentLanguageModel
from .ngram import KneserNeyCharModel
from .sampling import check_sampling, sample_next


@dataclass
class LanguageModelDataConfig:
    """The corpus and how it becomes tokens."""

    corpus: str = "kjv"
    """A built-in corpus (kjv: the King James Bible; python-stdlib: the Python standard
    library's source) or a UTF-8 text file or folder."""
    level: Literal["char", "word"] = "char"
    """Model characters or words (words, punctuation marks and line breaks)."""
    min_freq: int = 1
    """Tokens seen fewer times than this in the training split become <unk>."""
    max_vocab: int | None = None
    """Keep at most this many of the most frequent tokens (plus <unk>)."""
    limit: int | None = None
    """Use only the first this-many characters of the corpus (quick runs)."""
    eval_streams: int = 16
    """Contiguous streams each split is read as when evaluating."""
    eval_bptt: int = 256
    """Steps per evaluation chunk (the state is carried across chunks)."""
    ngram_order: int = 5
    """Order of the Kneser–Ney character n-gram baseline (0: no baseline)."""

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"data.level must be one of {', '.join(LEVELS)}, got {self.level!r}")
        for key in ("min_freq", "eval_streams", "eval_bptt"):
            if getattr(self, key) <= 0:
                raise ValueError(f"data.{key} must be positive, got {getattr(self, key)}")
        for key in ("max_vocab", "limit"):
            if getattr(self, key) is not None and getattr(self, key) <= 0:
                raise ValueError(f"data.{key} must be positive or null, got {getattr(self, key)}")
        if self.ngram_order < 0:
            raise ValueError(f"data.ngram_order must be >= 0, got {self.ngram_order}")


@dataclass
class LanguageModelModelConfig:
    """Embedding → recurrent stack → (tied) softmax."""

    recurrent: RecurrentConfig = field(
        default_factory=lambda: RecurrentConfig(hidden_size=256, num_layers=2)
    )
    """The recurrent stack (unidirectional)."""
    embedding_size: int | None = None
    """Embedding width; null: the stack's output size (so the weights can be tied)."""
    tie_weights: bool = True
    """Share the embedding matrix as the output matrix (needs equal sizes)."""
    dropout: float = 0.0
    """Dropout on the embeddings and on the stack's output."""

    def __post_init__(self) -> None:
        if self.embedding_size is not None and self.embedding_size <= 0:
            raise ValueError(f"model.embedding_size must be positive, got {self.embedding_size}")


@dataclass
class LanguageModelConfig:
    """``lstmkit train lm``: a character- or word-level language model."""

    model: LanguageModelModelConfig = field(default_factory=LanguageModelModelConfig)
    """The model."""
    data: LanguageModelDataConfig = field(default_factory=LanguageModelDataConfig)
    """The corpus."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=1, batch_size=32, bptt=128, eval_every=500, log_every=50,
            optimizer=OptimizerConfig(name="adam", lr=2e-3),
        )
    )
    """The training loop (truncated BPTT: train.bptt steps per chunk)."""
    run: RunConfig = field(default_factory=RunConfig)
    """Outputs."""


class LanguageModelTask(Task):
    """Next-token cross-entropy on a corpus, with sampling for text generation."""

    name = "lm"
    unit = "tokens"

    def __init__(self, config: LanguageModelConfig) -> None:
        if config.train.bptt is None:
            raise ValueError(
                "train.bptt must be set for lm: the corpus is trained as parallel streams "
                "cut into chunks of train.bptt steps (truncated BPTT)"
            )
        super().__init__(config)
        self.vocabulary: Vocabulary | None = None
        self._splits: dict[str, str] | None = None
        self._tokens: dict[str, torch.Tensor] = {}

    # -- data -------------------------------------------------------------------------

    def splits(self) -> dict[str, str]:
        """The corpus's train/validation/test text (read once)."""
        if self._splits is None:
            text = load_corpus(self.config.data.corpus)
            if self.config.data.limit is not None:
                text = text[: self.config.data.limit]
            self._splits = split_text(text)
        return self._splits

    def _vocabulary(self) -> Vocabulary:
        if self.vocabulary is None:
            self.tokens("train")  # builds it from the training tokens
        return self.vocabulary

    def tokens(self, split: str) -> torch.Tensor:
        """``(L,)`` token indices of a split (the vocabulary is built from the training
        split's tokens, unless a checkpoint gave it)."""
        if split not in self._tokens:
            if self.vocabulary is None and split != "train":
                self.tokens("train")
            data = self.config.data
            tokens = tokenize(self.splits()[split], data.level)
            if self.vocabulary is None:  # the training split, tokenised once for both
                self.vocabulary = Vocabulary.build(tokens, data.min_freq, data.max_vocab)
            self._tokens[split] = self.vocabulary.encode(tokens)
        return self._tokens[split]

    def train_data(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        tokens = self.tokens("train")
        return [(tokens[:-1], tokens[1:])]

    # -- model and loss ---------------------------------------------------------------

    def _model_sizes(self) -> tuple[int, int]:
        model = self.config.model
        return len(self._vocabulary()), model.embedding_size or model.recurrent.output_size

    def build_model(self) -> RecurrentLanguageModel:
        vocab_size, embedding_size = self._model_sizes()
        model = self.config.model
        return RecurrentLanguageModel(
            vocab_size, embedding_size, model.recurrent,
            tie_weights=model.tie_weights, dropout=model.dropout,
        )

    def loss(self, model, batch, state=None) -> LossOutput:
        logits, state = model(batch.inputs, state)  # (n, k, V)
        losses = F.cross_entropy(
            logits.float().flatten(0, 1), batch.targets.flatten(), reduction="none"
        )  # (n*k,)
        mask = batch.mask.flatten()
        return LossOutput((losses * mask).sum(), int(mask.sum()), state)

    def evaluate(self, model, split: str) -> dict[str, float]:
        total, count = self._split_loss(model, split)
        loss = total / count
        metrics = {"loss": loss}
        if self.config.data.level == "char":
            metrics["bpc"] = loss / math.log(2)
        else:
            metrics["perplexity"] = math.exp(min(loss, 700.0))
        return metrics

    def _split_loss(self, model, split: str) -> tuple[float, int]:
        """Summed cross-entropy (nats) and token count over a whole split."""
        tokens = self.tokens(split)
        data = self.config.data
        streams = min(data.eval_streams, len(tokens) - 1)
        device = next(model.parameters()).device
        state, total, count = None, 0.0, 0
        for chunk in StreamBatches([(tokens[:-1], tokens[1:])], streams, data.eval_bptt):
            chunk = move_to(chunk, device)
            out = self.loss(model, chunk, reset_rows(state, chunk.reset))
            state, total, count = out.state, total + float(out.total), count + out.count
        return total, count

    # -- what a checkpoint must carry ----------------------------------------------------

    def state_dict(self) -> dict:
        return {"vocabulary": self._vocabulary().state_dict(), "level": self.config.data.level}

    def load_state_dict(self, state: dict) -> None:
        if "vocabulary" in state:
            self.vocabulary = Vocabulary.from_state_dict(state["vocabulary"])

    def model_arguments(self) -> dict:
        vocab_size, embedding_size = self._model_sizes()
        model = self.config.model
        return {
            "vocab_size": vocab_size, "embedding_size": embedding_size,
            "tie_weights": model.tie_weights, "dropout": model.dropout,
            "recurrent": recurrent_arguments(model.recurrent),
        }

    # -- generation ---------------------------------------------------------------------

    def generate(
        self, model, prime: str = "", length: int = 200, *, temperature: float = 1.0,
        top_k: int | None = None, top_p: float | None = None, seed: int = 0,
    ) -> Iterator[str]:
        """Sample ``length`` tokens after ``prime``; yields each one's text as it comes.

        The same ``seed`` (and options) always gives the same text. An empty ``prime``
        starts from a line break (the most frequent token if the corpus has none). Tokens of the prime that the vocabulary does not know
        are an error (they would be read as ``<unk>``).
        """
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ValueError(f"--length must be a non-negative int, got {length!r}")
        check_sampling(temperature, top_k, top_p)
        vocabulary, level = self._vocabulary(), self.config.data.level
        # No prime: start where a line starts (or from the most frequent token).
        prime_tokens = tokenize(prime, level) or (
            ["\n"] if "\n" in vocabulary.index else [vocabulary.tokens[1]]
        )
        unknown = vocabulary.unknown(prime_tokens)
        if unknown:
            shown = ", ".join(repr(t) for t in unknown[:10])
            raise ValueError(f"--prime holds tokens the model's vocabulary lacks: {shown}")
        generator = torch.Generator().manual_seed(seed)
        device = next(model.parameters()).device
        model.eval()
        with torch.no_grad():
            inputs = vocabulary.encode(prime_tokens)[None].to(device)  # (1, P)
            logits, state = model(inputs)
            previous = prime_tokens[-1]
            for _ in range(length):
                index = sample_next(
                    logits[0, -1].float().cpu(), generator,
                    temperature=temperature, top_k=top_k, top_p=top_p,
                )
                token = vocabulary.tokens[int(index)]
                yield detokenize([previous, token], level)[len(previous):]
                previous = token
                logits, state = model(index.view(1, 1).to(device), state)

    # -- final report -------------------------------------------------------------------

    def report(self, model, run_dir: Path) -> list[str]:
        data = self.config.data
        start = time.perf_counter()
        test = self.evaluate(model, "test")
        results: dict = {"test": test, "lstm_eval_s": time.perf_counter() - start}
        unit = "bpc" if data.level == "char" else "perplexity"
        lines = [f"test {unit}: LSTM {test[unit]:.4f}"]
        if data.level == "char" and data.ngram_order:
            start = time.perf_counter()
            ngram = KneserNeyCharModel(data.ngram_order).fit(self.splits()["train"])
            context = self.splits()["validation"][-(data.ngram_order - 1):] if data.ngram_order > 1 else ""
            baseline = ngram.bits_per_char(self.splits()["test"], context=context)
            results["ngram"] = {
                "order": data.ngram_order, "smoothing": "interpolated Kneser-Ney",
                "bpc": baseline, "seconds": time.perf_counter() - start,
            }
            lines[0] += f"   vs   {data.ngram_order}-gram Kneser-Ney {baseline:.4f}"
        sample = "".join(self.generate(model, length=400, temperature=0.8, seed=0))
        results["sample"] = {"prime": "\n", "temperature": 0.8, "seed": 0, "text": sample}
        write_text_atomic(run_dir / "sample.txt", sample + "\n")
        write_text_atomic(run_dir / "report.json", json.dumps(results, indent=2) + "\n")
        lines += ["sample (temperature 0.8):", sample.strip("\n")]
        return lines
