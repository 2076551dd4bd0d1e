"""Sequence classification as a trainable task: ``lstmkit train classify``, ``lstmkit predict``.

Data (`lstmkit.data.sequences`): built-in JapaneseVowels (speech features), Fashion-MNIST
read row by row, 3-class tweet sentiment, or a user file — numeric sequences (``.ts``,
long-format ``.csv``, ``.npz``) or labelled texts (``.csv`` with a text column). Each
becomes padded inputs with their lengths:

- numeric: ``(N, L, F)`` floats, standardised per feature with the mean and standard
  deviation of the training split's real steps;
- text: ``(N, L)`` token ids (characters or words, `lstmkit.data.text.tokenize`) over a
  vocabulary of the training split.

Splits: a dataset's own test split when it has one (JapaneseVowels, Fashion-MNIST, or
``data.test``), else a stratified held-out part; validation is always a stratified part
of the training data (`stratified_split`, seeded by ``data.split_seed``).

The model (`model.SequenceClassifier`) is trained with cross-entropy; evaluation reports
``loss``, ``accuracy`` and ``macro_f1``. `report` scores the test split with the best
weights beside the majority class and a logistic regression on summary features (mean
and last step, or bag of tokens for text), prints the confusion matrix and writes
``classification.json`` and ``confusion.png``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ...data.text import Vocabulary, tokenize
from ...files import write_text_atomic
from ...train import LossOutput, Task
from ..recurrent import recurrent_arguments
from .config import (  # noqa: F401  (the configs are importable from here as well)
    BUILTIN_DATASETS,
    ClassifyConfig,
    ClassifyDataConfig,
    ClassifyModelConfig,
)
from .model import SequenceClassifier


@dataclass
class Encoded:
    """One split ready for the model: padded ``inputs`` ((N, L, F) float32 or (N, L)
    int64), ``lengths (N,)`` int64 and ``labels (N,)`` int64 (-1 where unknown)."""

    inputs: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.lengths)


class ClassifyTask(Task):
    """Cross-entropy training of a `SequenceClassifier` on labelled sequences."""

    name = "classify"
    unit = "sequences"

    def __init__(self, config: ClassifyConfig) -> None:
        if config.train.bptt is not None:
            raise ValueError(
                "train.bptt must be null for classify: each sequence is read whole "
                "(use data.max_length to cut long ones)"
            )
        super().__init__(config)
        self.meta: dict | None = None  # what the model needs, from data or a checkpoint
        self._raw: dict | None = None
        self._encoded: dict[str, Encoded] = {}
        self._vocabulary: Vocabulary | None = None

    # -- reading the data -------------------------------------------------------------

    def _kind_of(self, path: str) -> str:
        data = self.config.data
        if path == "tweets":
            return "text"
        if path in BUILTIN_DATASETS:
            return "sequences"
        suffix = Path(path).suffix.lower()
        if suffix in (".ts", ".npz"):
            if data.format == "text":
                raise ValueError(f"data.format text needs a .csv file, got {path}")
            return "sequences"
        if suffix != ".csv":
            raise ValueError(
                f"data.dataset {path!r} is neither a built-in dataset "
                f"({', '.join(BUILTIN_DATASETS)}) nor a .ts, .npz or .csv file"
            )
        if data.format != "auto":
            return data.format
        import pandas as pd

        if not Path(path).is_file():
            raise FileNotFoundError(f"data file not found: {path}")
        columns = list(pd.read_csv(path, nrows=0, encoding_errors="replace").columns)
        if data.text_column in columns and data.sequence_column not in columns:
            return "text"
        return "sequences"

    def _load(self, path: str, split: str | None = None, *, labels_required: bool = True):
        """A `SequenceSet` or `TextSet` from a built-in (``split`` train/test) or a file."""
        from ...data import sequences

        data = self.config.data
        if path == "japanese-vowels":
            return sequences.japanese_vowels(split or "train")
        if path == "fashion-mnist":
            return sequences.fashion_mnist(split or "train")
        if path == "tweets":
            return sequences.tweets()
        kind = self._kind_of(path)  # checks the suffix first: a clear error for a typo'd name
        if not Path(path).is_file():
            raise FileNotFoundError(f"data file not found: {path}")
        suffix = Path(path).suffix.lower()
        if suffix == ".ts":
            return sequences.load_ts(path, labels_required=labels_required)
        if suffix == ".npz":
            return sequences.load_sequence_npz(path, labels_required=labels_required)
        if kind == "text":
            return sequences.load_text_csv(
                path, text_column=data.text_column, label_column=data.label_column,
                labels_required=labels_required,
            )
        return sequences.load_sequence_csv(
            path, sequence_column=data.sequence_column, label_column=data.label_column,
            feature_columns=data.feature_columns, labels_required=labels_required,
        )

    def load_unlabelled(self, path: str):
        """A user's file to classify, read with the training run's column options; its
        labels are optional (`predict` scores them when present)."""
        raw = self._load(path, labels_required=False)
        if raw.labels is not None:
            self._align_classes(raw, self.metadata()["classes"])
        return raw

    def raw_splits(self) -> dict:
        """The train / validation / test parts as loaded (before encoding)."""
        if self._raw is not None:
            return self._raw
        from ...data.sequences import stratified_split

        data = self.config.data
        has_test = data.test is not None or data.dataset in ("japanese-vowels", "fashion-mnist")
        full = self._load(data.dataset, "train")
        if has_test:
            test = self._load(data.test, "test") if data.test is not None else self._load(data.dataset, "test")
            self._align_classes(test, full.classes)
            train_part, validation = stratified_split(
                full.labels, [1 - data.validation_fraction, data.validation_fraction], data.split_seed,
            )
        else:
            rest = 1 - data.validation_fraction - data.test_fraction
            train_part, validation, test_part = stratified_split(
                full.labels, [rest, data.validation_fraction, data.test_fraction], data.split_seed,
            )
            test = full.subset(test_part)
        if data.limit is not None and data.limit < len(train_part):
            keep, _ = stratified_split(
                full.labels[train_part], [data.limit / len(train_part), 1 - data.limit / len(train_part)],
                data.split_seed,
            )
            train_part = train_part[keep]
        self._raw = {"train": full.subset(train_part), "validation": full.subset(validation), "test": test}
        return self._raw

    @staticmethod
    def _align_classes(other, classes: list[str]) -> None:
        """Re-index ``other``'s labels to the training ``classes`` (a file may hold fewer
        classes, in another order); a class the training data lacks is an error."""
        unknown = sorted(set(other.classes) - set(classes))
        if unknown:
            raise ValueError(
                f"{other.name} has classes the training data lacks: {', '.join(unknown[:5])}; "
                f"known classes: {', '.join(classes[:20])}"
            )
        if list(other.classes) != list(classes):
            order = {name: i for i, name in enumerate(classes)}
            mapping = np.array([order[name] for name in other.classes], dtype=np.int64)
            other.labels = mapping[other.labels]
            other.classes = list(classes)

    # -- encoding ---------------------------------------------------------------------

    def metadata(self) -> dict:
        """Kind, classes, feature statistics or vocabulary: fitted on the training split."""
        if self.meta is None:
            train = self.raw_splits()["train"]
            kind = "text" if hasattr(train, "texts") else "sequences"
            meta = {"kind": kind, "classes": list(train.classes)}
            if kind == "text":
                level = self.config.data.level
                tokens = [t for text in train.texts for t in tokenize(text, level)]
                vocabulary = Vocabulary.build(
                    tokens, self.config.data.min_freq, self.config.data.max_vocab,
                )
                meta |= {"level": level, "vocabulary": vocabulary.state_dict()}
            else:
                meta |= {"num_features": int(train.values.shape[2])}
                meta |= self._feature_statistics(train.values, train.lengths)
            self.meta = meta
        return self.meta

    def _feature_statistics(self, values: np.ndarray, lengths: np.ndarray) -> dict:
        features = values.shape[2]
        if not self.config.data.normalize:
            return {"mean": [0.0] * features, "std": [1.0] * features}
        real = np.arange(values.shape[1])[None, :] < lengths[:, None]  # (N, L)
        steps = values[real].astype(np.float64)  # (sum of lengths, F)
        std = steps.std(axis=0)
        return {"mean": steps.mean(axis=0).tolist(), "std": np.where(std > 0, std, 1.0).tolist()}

    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.from_state_dict(self.metadata()["vocabulary"])
        return self._vocabulary

    def encode(self, raw) -> Encoded:
        """A loaded set (labelled or not) as padded tensors for the model."""
        meta, max_length = self.metadata(), self.config.data.max_length
        labels = getattr(raw, "labels", None)
        labels = np.full(len(raw), -1) if labels is None else labels
        if meta["kind"] == "text":
            if not hasattr(raw, "texts"):
                raise ValueError("this is a text classifier; give it texts, not numeric sequences")
            vocabulary, level = self.vocabulary(), meta["level"]
            rows = [vocabulary.encode(tokenize(text, level))[:max_length] for text in raw.texts]
            rows = [row if len(row) else torch.zeros(1, dtype=torch.long) for row in rows]  # empty → <unk>
            lengths = torch.tensor([len(row) for row in rows])
            inputs = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True)
        else:
            if not hasattr(raw, "values"):
                raise ValueError("this is a numeric-sequence classifier; give it sequences, not texts")
            if raw.values.shape[2] != meta["num_features"]:
                raise ValueError(
                    f"the sequences have {raw.values.shape[2]} features per step; the model "
                    f"was trained on {meta['num_features']}"
                )
            lengths = torch.from_numpy(np.asarray(raw.lengths, dtype=np.int64))
            values = raw.values[:, :max_length] if max_length else raw.values
            lengths = lengths.clamp(max=values.shape[1])
            mean = np.asarray(meta["mean"], dtype=np.float32)
            std = np.asarray(meta["std"], dtype=np.float32)
            inputs = torch.from_numpy(((values - mean) / std).astype(np.float32))
            real = torch.arange(inputs.shape[1])[None, :] < lengths[:, None]
            inputs = inputs * real.unsqueeze(-1)  # padding back to zeros (tidy; never read)
        return Encoded(inputs, lengths, torch.as_tensor(np.asarray(labels), dtype=torch.long))

    def split(self, name: str) -> Encoded:
        if name not in self._encoded:
            self._encoded[name] = self.encode(self.raw_splits()[name])
        return self._encoded[name]

    # -- training ---------------------------------------------------------------------

    def train_data(self) -> torch.utils.data.Dataset:
        train = self.split("train")
        return torch.utils.data.TensorDataset(train.inputs, train.lengths, train.labels)

    def collate(self, items: list) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        inputs, lengths, labels = torch.utils.data.default_collate(items)
        return inputs[:, : int(lengths.max())], lengths, labels  # no all-padding columns

    def build_model(self) -> SequenceClassifier:
        meta, model = self.metadata(), self.config.model
        size = (
            {"vocab_size": len(self.vocabulary())} if meta["kind"] == "text"
            else {"input_size": meta["num_features"]}
        )
        return SequenceClassifier(
            len(meta["classes"]), model.recurrent, pooling=model.pooling, dropout=model.dropout,
            embedding_size=model.embedding_size, attention_size=model.attention_size, **size,
        )

    def loss(self, model, batch, state=None) -> LossOutput:
        inputs, lengths, labels = batch
        logits = model(inputs, lengths)
        return LossOutput(F.cross_entropy(logits.float(), labels, reduction="sum"), len(labels))

    def predict_logits(self, model, encoded: Encoded, batch_size: int = 256) -> torch.Tensor:
        """``(N, C)`` logits on CPU, batch by batch (sorted by length, so little padding)."""
        device = next(model.parameters()).device
        order = torch.argsort(encoded.lengths, descending=True)
        logits = torch.empty(len(encoded), len(self.metadata()["classes"]))
        with torch.no_grad():
            for start in range(0, len(encoded), batch_size):
                rows = order[start : start + batch_size]
                lengths = encoded.lengths[rows]
                inputs = encoded.inputs[rows, : int(lengths.max())]
                logits[rows] = model(inputs.to(device), lengths.to(device)).float().cpu()
        return logits

    def evaluate(self, model, split: str) -> dict[str, float]:
        from .metrics import classification_metrics

        encoded = self.split(split)
        logits = self.predict_logits(model, encoded)
        metrics = {"loss": float(F.cross_entropy(logits, encoded.labels))}
        metrics.update(classification_metrics(
            encoded.labels.numpy(), logits.argmax(1).numpy(), len(self.metadata()["classes"]),
        ))
        return metrics

    # -- checkpoint -------------------------------------------------------------------

    def state_dict(self) -> dict:
        return {"meta": self.metadata()}

    def load_state_dict(self, state: dict) -> None:
        if "meta" in state:
            self.meta = state["meta"]

    def model_arguments(self) -> dict:
        meta, model = self.metadata(), self.config.model
        return {
            "kind": meta["kind"], "num_classes": len(meta["classes"]),
            "inputs": len(self.vocabulary()) if meta["kind"] == "text" else meta["num_features"],
            "pooling": model.pooling, "recurrent": recurrent_arguments(model.recurrent),
        }

    # -- the report -------------------------------------------------------------------

    def baseline_predictions(self) -> dict[str, np.ndarray]:
        """Majority class and logistic regression on summary features, fitted on the
        training split, predicting the test split."""
        from .baselines import (
            bag_of_tokens,
            logistic_regression_baseline,
            majority_baseline,
            summary_features,
        )

        train, test = self.split("train"), self.split("test")
        classes = len(self.metadata()["classes"])
        out = {"majority": np.full(len(test), majority_baseline(train.labels.numpy(), classes))}
        if self.metadata()["kind"] == "text":
            size = len(self.vocabulary())

            def features(encoded: Encoded):
                return bag_of_tokens(
                    [row[:n].numpy() for row, n in zip(encoded.inputs, encoded.lengths.tolist())], size,
                )
            name = "logistic regression (bag of tokens)"
        else:
            def features(encoded: Encoded):
                return summary_features(encoded.inputs.numpy(), encoded.lengths.numpy())
            name = "logistic regression (mean+last)"
        out[name] = logistic_regression_baseline(
            features(train), train.labels.numpy(), features(test), seed=self.config.data.split_seed,
        )
        return out

    def report(self, model, run_dir: Path) -> list[str]:
        from .metrics import classification_metrics, confusion, format_confusion
        from .plot import plot_confusion

        classes = self.metadata()["classes"]
        test = self.split("test")
        labels = test.labels.numpy()
        predictions = {"lstm": self.predict_logits(model, test).argmax(1).numpy()}
        if self.config.model.baselines:
            predictions.update(self.baseline_predictions())
        table = {
            name: classification_metrics(labels, predicted, len(classes))
            for name, predicted in predictions.items()
        }
        matrix = confusion(labels, predictions["lstm"], len(classes))
        dataset = self.config.data.dataset
        lines = [
            f"test on {dataset}: {len(test)} sequences, {len(classes)} classes",
            f"  {'method':<38}{'accuracy':>10}{'macro-F1':>10}",
        ]
        lines += [
            f"  {name:<38}{m['accuracy']:>10.2%}{m['macro_f1']:>10.4f}" for name, m in table.items()
        ]
        lines += ["confusion matrix of the LSTM (rows: true class, columns: predicted):"]
        lines += ["  " + line for line in format_confusion(matrix, classes)]
        write_text_atomic(run_dir / "classification.json", json.dumps({
            "dataset": dataset, "classes": classes, "test_size": len(test), "metrics": table,
            "confusion": matrix.tolist(),
        }, indent=2) + "\n")
        plot_confusion(
            run_dir / "confusion.png", matrix, classes,
            title=f"{dataset}: LSTM test accuracy {table['lstm']['accuracy']:.1%}",
        )
        lines.append(f"confusion matrix plot: {run_dir / 'confusion.png'}")
        return lines
