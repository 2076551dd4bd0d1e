"""Sequence to sequence as a trainable task: ``lstmkit train seq2seq``, ``lstmkit translate``.

Pairs (`lstmkit.data.pairs`): grapheme-to-phoneme conversion on the CMU Pronouncing
Dictionary (``cmudict``, letters → phonemes, with a fixed word-level split that keeps
every pronunciation of a word in one part), or a user TSV of source/target pairs. The
model (`model.Seq2Seq`) is a bidirectional LSTM encoder and an LSTM decoder with
attention, trained with teacher forcing (cross-entropy per target token, end symbol
included) and, optionally, scheduled sampling: the probability of feeding the model's
own previous prediction instead of the gold token rises linearly from 0 to
``model.sampling_probability`` over ``model.sampling_ramp`` training batches.

Evaluation decodes greedily and reports the phoneme (token) error rate ``per`` and the
word (sequence) error rate ``wer`` against every reference of each source
(`metrics.error_rates`). `report` decodes the test split greedily and with beam search
and prints both beside the published numbers of Yao & Zweig (2015).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

from ...files import write_text_atomic
from ...train import LossOutput, Task
from ...train.task import move_to
from ..recurrent import recurrent_arguments
from .config import (  # noqa: F401  (the configs are importable from here as well)
    PUBLISHED,
    Seq2SeqConfig,
    Seq2SeqDataConfig,
    Seq2SeqModelConfig,
)
from .vocabulary import SymbolVocabulary


def pad_batch(rows: list[list[int]], *, prefix: list[int] = (), suffix: list[int] = (),
              pad: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, L_max)`` int64 rows with ``prefix``/``suffix`` added, padded with ``pad``, and
    their lengths."""
    full = [torch.tensor([*prefix, *row, *suffix], dtype=torch.long) for row in rows]
    lengths = torch.tensor([len(row) for row in full])
    return pad_sequence(full, batch_first=True, padding_value=pad), lengths


class Seq2SeqTask(Task):
    """Token cross-entropy of an attention encoder–decoder on source/target pairs."""

    name = "seq2seq"
    unit = "tokens"

    def __init__(self, config: Seq2SeqConfig) -> None:
        if config.train.bptt is not None:
            raise ValueError("train.bptt must be null for seq2seq: each pair is read whole")
        super().__init__(config)
        self._splits: dict | None = None
        self.vocabularies: tuple[SymbolVocabulary, SymbolVocabulary] | None = None
        self.max_target: int | None = None
        self._batches_seen = 0

    # -- data -------------------------------------------------------------------------

    def _read_tsv(self, path: str):
        from ...data.pairs import load_pairs_tsv

        data = self.config.data
        return load_pairs_tsv(path, source_tokens=data.source_tokens, target_tokens=data.target_tokens)

    def splits(self) -> dict:
        """``train`` / ``validation`` / ``test`` lists of `Pair` (word-level split)."""
        if self._splits is None:
            from ...data.pairs import cmudict_pairs, split_pairs

            data = self.config.data
            if data.dataset == "cmudict":
                pairs = cmudict_pairs(stress=data.stress)
            elif Path(data.dataset).suffix.lower() in (".tsv", ".txt") or Path(data.dataset).is_file():
                pairs = self._read_tsv(data.dataset)
            else:
                raise ValueError(f"data.dataset must be cmudict or a TSV file, got {data.dataset!r}")
            parts = split_pairs(pairs)
            if data.test is not None:
                # The file's own test part joins training; validation stays held out.
                parts = {"train": parts["train"] + parts["test"], "validation": parts["validation"],
                         "test": self._read_tsv(data.test)}
            if data.limit is not None and data.limit < len(parts["train"]):
                # a seeded sample, in the original order (the first pairs would all be 'a…' words)
                keep = np.sort(np.random.default_rng(0).permutation(len(parts["train"]))[: data.limit])
                parts["train"] = [parts["train"][i] for i in keep]
            for name, part in parts.items():
                if not part:
                    raise ValueError(f"the {name} split has no pairs; the data set is too small")
            self._splits = parts
        return self._splits

    def vocabulary(self) -> tuple[SymbolVocabulary, SymbolVocabulary]:
        """Source and target symbol vocabularies of the training pairs."""
        if self.vocabularies is None:
            train = self.splits()["train"]
            self.vocabularies = (
                SymbolVocabulary(s for pair in train for s in pair.source),
                SymbolVocabulary(s for pair in train for s in pair.target),
            )
            self.max_target = max(len(pair.target) for pair in train)
        return self.vocabularies

    def check_targets(self, pairs, where: str) -> None:
        """A clear error for a target symbol the model cannot produce (e.g. a phoneme
        symbol a user's file spells differently)."""
        from ...data.pairs import check_symbols

        _sources, targets = self.vocabulary()
        check_symbols(pairs, None, targets.known, where)

    def encoded(self, split: str) -> list[tuple[list[int], list[int]]]:
        sources, targets = self.vocabulary()
        return [(sources.encode(p.source), targets.encode(p.target)) for p in self.splits()[split]]

    def train_data(self) -> list[tuple[list[int], list[int]]]:
        return self.encoded("train")  # a list is a map-style dataset

    def collate(self, items: list) -> tuple[torch.Tensor, ...]:
        bos, eos = SymbolVocabulary.bos_index, SymbolVocabulary.eos_index
        source, source_lengths = pad_batch([s for s, _ in items])
        target_in, _ = pad_batch([t for _, t in items], prefix=[bos])
        target_out, _ = pad_batch([t for _, t in items], suffix=[eos])
        return source, source_lengths, target_in, target_out

    # -- model and loss ---------------------------------------------------------------

    def build_model(self):
        from .model import Seq2Seq

        sources, targets = self.vocabulary()
        model = self.config.model
        return Seq2Seq(
            len(sources), len(targets), embedding_size=model.embedding_size,
            encoder=model.encoder, decoder=model.decoder, attention=model.attention,
            dropout=model.dropout, pad_index=SymbolVocabulary.pad_index,
            bos_index=SymbolVocabulary.bos_index, eos_index=SymbolVocabulary.eos_index,
        )

    def sampling_probability(self) -> float:
        """The scheduled-sampling probability after the batches trained so far."""
        model = self.config.model
        if model.sampling_ramp == 0:
            return model.sampling_probability
        return model.sampling_probability * min(1.0, self._batches_seen / model.sampling_ramp)

    def loss(self, model, batch, state=None) -> LossOutput:
        source, source_lengths, target_in, target_out = batch
        # Scheduled sampling is a training device: evaluation is always teacher-forced.
        probability = self.sampling_probability() if model.training else 0.0
        if model.training:
            self._batches_seen += 1
        logits, _ = model(source, source_lengths, target_in, sampling_probability=probability)
        total = F.cross_entropy(
            logits.float().flatten(0, 1), target_out.flatten(),
            ignore_index=SymbolVocabulary.pad_index, reduction="sum",
        )
        return LossOutput(total, int((target_out != SymbolVocabulary.pad_index).sum()))

    # -- decoding and evaluation ------------------------------------------------------

    def grouped(self, split: str, limit: int | None = None) -> OrderedDict:
        """Source tuple → every reference target of it in ``split`` (first ``limit`` sources)."""
        groups: OrderedDict = OrderedDict()
        for pair in self.splits()[split]:
            if pair.source not in groups and limit is not None and len(groups) >= limit:
                continue
            groups.setdefault(pair.source, []).append(list(pair.target))
        return groups

    def _source_batches(self, model, sources: list, batch_size: int):
        """``(source (n, S), lengths (n,))`` on the model's device, ``batch_size`` at a time."""
        device = next(model.parameters()).device
        source_vocabulary = self.vocabulary()[0]
        for start in range(0, len(sources), batch_size):
            source, lengths = pad_batch(
                [source_vocabulary.encode(s) for s in sources[start : start + batch_size]]
            )
            yield source.to(device), lengths.to(device)

    @property
    def max_decode_length(self) -> int:
        return self.config.data.max_decode_length or (self.max_target or 50) + 5

    def decode(self, model, sources: list, *, beam_width: int = 1, batch_size: int = 256) -> list[list[str]]:
        """The model's best output tokens for each source (greedy when the width is 1)."""
        from .decoding import greedy_decode

        if beam_width > 1:
            return [best[0][0] for best in self.translate(model, sources, beam_width=beam_width)]
        target_vocabulary = self.vocabulary()[1]
        return [
            target_vocabulary.decode(tokens)
            for source, lengths in self._source_batches(model, sources, batch_size)
            for tokens in greedy_decode(model, source, lengths, max_length=self.max_decode_length)
        ]

    def score(self, model, split: str, *, limit: int | None = None, beam_width: int = 1) -> tuple[dict, OrderedDict, list]:
        """PER / WER of the decoded ``split`` and what was decoded."""
        from .metrics import error_rates

        groups = self.grouped(split, limit)
        hypotheses = self.decode(model, list(groups), beam_width=beam_width)
        return error_rates(list(groups.values()), hypotheses), groups, hypotheses

    def evaluate(self, model, split: str) -> dict[str, float]:
        device = next(model.parameters()).device
        rows = self.encoded(split)
        total, count = 0.0, 0
        for start in range(0, len(rows), 512):
            out = self.loss(model, move_to(self.collate(rows[start : start + 512]), device))
            total, count = total + float(out.total), count + out.count
        rates, _, _ = self.score(model, split, limit=self.config.data.eval_limit)
        return {"loss": total / count, "per": rates["per"], "wer": rates["wer"]}

    # -- checkpoint -------------------------------------------------------------------

    def state_dict(self) -> dict:
        sources, targets = self.vocabulary()
        return {"source_vocabulary": sources.state_dict(), "target_vocabulary": targets.state_dict(),
                "max_target": self.max_target}

    def load_state_dict(self, state: dict) -> None:
        if "source_vocabulary" in state:
            self.vocabularies = (
                SymbolVocabulary.from_state_dict(state["source_vocabulary"]),
                SymbolVocabulary.from_state_dict(state["target_vocabulary"]),
            )
            self.max_target = state["max_target"]

    def model_arguments(self) -> dict:
        sources, targets = self.vocabulary()
        model = self.config.model
        return {
            "source_vocab_size": len(sources), "target_vocab_size": len(targets),
            "embedding_size": model.embedding_size, "attention": model.attention,
            "encoder": recurrent_arguments(model.encoder), "decoder": recurrent_arguments(model.decoder),
        }

    # -- the report -------------------------------------------------------------------

    def report(self, model, run_dir: Path) -> list[str]:
        self.check_targets(self.splits()["test"], "the test split")
        width = self.config.model.beam_width
        greedy, groups, greedy_hypotheses = self.score(model, "test")
        results = {"greedy": greedy}
        beam_hypotheses = None
        if width > 1:
            results[f"beam {width}"], _, beam_hypotheses = self.score(model, "test", beam_width=width)
        best = list(results)[-1]
        hypotheses = beam_hypotheses or greedy_hypotheses
        lines = [
            (f"test on {self.config.data.dataset}: {len(groups)} sources, "
             f"{sum(len(r) for r in groups.values())} references"),
            f"  {'decoder':<40}{'PER':>8}{'WER':>8}",
        ]
        lines += [
            f"  {'LSTM ' + name:<40}{r['per']:>8.2%}{r['wer']:>8.2%}" for name, r in results.items()
        ]
        if self.config.data.dataset == "cmudict":
            lines += [f"  {name:<40}{per:>7.2f}%{wer:>7.2f}%" for name, (per, wer) in PUBLISHED.items()]
            lines.append(
                "  (published numbers use another split of another CMUDict version: compare the size of the gap, not the digits)"
            )
        rows = ["source\tprediction\treferences"]
        rows += [
            f"{self.join_source(source)}\t{' '.join(h)}\t{' | '.join(' '.join(r) for r in refs)}"
            for (source, refs), h in zip(groups.items(), hypotheses)
        ]
        write_text_atomic(run_dir / "test_predictions.tsv", "\n".join(rows) + "\n")
        write_text_atomic(run_dir / "seq2seq.json", json.dumps({
            "dataset": self.config.data.dataset, "test_sources": len(groups), "results": results,
            "best": best,
        }, indent=2) + "\n")
        wrong = [
            (source, h, refs) for (source, refs), h in zip(groups.items(), hypotheses) if h not in refs
        ][:5]
        if wrong:
            lines.append("some errors (source → prediction / reference):")
            lines += [
                f"  {self.join_source(s)} → {' '.join(h)} / {' '.join(refs[0])}" for s, h, refs in wrong
            ]
        lines.append(f"predictions: {run_dir / 'test_predictions.tsv'}")
        return lines

    # -- translating new sources ------------------------------------------------------

    def tokenize_source(self, text: str) -> tuple[str, ...]:
        """A user's source text as tokens, as the training sources were split (cmudict
        words are lower case). A symbol the encoder never saw is an error naming it."""
        text = text.strip()
        if self.config.data.dataset == "cmudict":
            text = text.lower()
        tokens = tuple(text) if self.config.data.source_tokens == "chars" else tuple(text.split())
        if not tokens:
            raise ValueError("an empty source cannot be translated")
        known = self.vocabulary()[0]
        unknown = [t for t in tokens if t not in known]
        if unknown:
            raise ValueError(
                f"source {text!r} has the symbol {unknown[0]!r}, which the training sources "
                f"never had; known symbols: {' '.join(sorted(known.known)[:40])}"
            )
        return tokens

    def join_source(self, source) -> str:
        return ("" if self.config.data.source_tokens == "chars" else " ").join(source)

    def read_sources(self, path: str) -> tuple[list[tuple[str, ...]], list[list[list[str]]] | None]:
        """Sources from a file: one per line, or a TSV of pairs (then also the references
        of each source, checked against the target vocabulary)."""
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"input file not found: {path}")
        lines = file.read_text(encoding="utf-8").splitlines()
        if any("\t" in line for line in lines):
            pairs = self._read_tsv(path)
            self.check_targets(pairs, str(path))
            groups: OrderedDict = OrderedDict()
            for pair in pairs:
                groups.setdefault(pair.source, []).append(list(pair.target))
            for source in groups:
                self.tokenize_source(self.join_source(source))  # unknown source symbols
            return list(groups), list(groups.values())
        return [self.tokenize_source(line) for line in lines if line.strip()], None

    def translate(self, model, sources: list[tuple[str, ...]], *, beam_width: int, n_best: int = 1,
                  length_penalty: float | None = None, batch_size: int = 256) -> list[list[tuple[list[str], float]]]:
        """The ``n_best`` beam-search decodings ``(tokens, score)`` of each source (width 1
        with ``length_penalty`` 0 is the greedy decoding with its log-probability)."""
        from .decoding import beam_search

        target_vocabulary = self.vocabulary()[1]
        penalty = self.config.model.length_penalty if length_penalty is None else length_penalty
        return [
            [(target_vocabulary.decode(tokens), score) for tokens, score in hypotheses]
            for source, lengths in self._source_batches(model, sources, batch_size)
            for hypotheses in beam_search(
                model, source, lengths, beam_width=beam_width, max_length=self.max_decode_length,
                length_penalty=penalty, n_best=n_best,
            )
        ]
