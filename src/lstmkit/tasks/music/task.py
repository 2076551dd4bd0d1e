"""Polyphonic music modelling as a trainable task: ``lstmkit train music``, ``lstmkit compose``.

The 371 Bach chorales of the music21 corpus become 88-key piano rolls
(`lstmkit.data.pianoroll`, quantised to ``data.steps_per_quarter`` steps per quarter
note, parsed once and cached), split by chorale into fixed train / validation / test
parts. The model (`model.PianoRollModel`) is trained on whole chorales (full BPTT);
evaluation reports the negative log-likelihood per time step (``nll``, nats, summed over
keys) and the frame accuracy of Bay et al. 2009 on the model's thresholded predictions,
``TP / (TP + FP + FN)`` over all keys and frames.

`report` scores the test chorales beside two count baselines (`baselines`); `compose`
samples a new piece and writes it as MIDI and a piano-roll PNG.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from ...files import write_text_atomic
from ...train import LossOutput, OptimizerConfig, RunConfig, Task, TrainConfig
from ..recurrent import RecurrentConfig, recurrent_arguments
from .model import PianoRollModel, frames_nll

KEYS = 88


@dataclass
class MusicDataConfig:
    """The chorales and how they become piano rolls."""

    steps_per_quarter: int = 1
    """Time steps per quarter note (1: the classic JSB Chorales quantisation)."""
    cache_dir: str | None = None
    """Where the parsed piano rolls are cached (default: $LSTMKIT_CACHE_DIR or ~/.cache/lstmkit)."""
    limit: int | None = None
    """Use only the first this-many chorales (quick runs)."""

    def __post_init__(self) -> None:
        if self.steps_per_quarter not in (1, 2, 4):
            raise ValueError(f"data.steps_per_quarter must be 1, 2 or 4, got {self.steps_per_quarter}")
        if self.limit is not None and self.limit < 3:
            raise ValueError(f"data.limit must be at least 3 (one chorale per split), got {self.limit}")


@dataclass
class MusicModelConfig:
    """Recurrent stack over frames → one sigmoid per key."""

    recurrent: RecurrentConfig = field(default_factory=lambda: RecurrentConfig(hidden_size=256))
    """The recurrent stack (unidirectional)."""
    dropout: float = 0.3
    """Dropout on the stack's output."""


@dataclass
class MusicConfig:
    """``lstmkit train music``: a polyphonic model of the Bach chorales."""

    model: MusicModelConfig = field(default_factory=MusicModelConfig)
    """The model."""
    data: MusicDataConfig = field(default_factory=MusicDataConfig)
    """The chorales."""
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=60, batch_size=8, optimizer=OptimizerConfig(name="adam", lr=2e-3),
        )
    )
    """The training loop."""
    run: RunConfig = field(default_factory=RunConfig)
    """Outputs."""


def pad_rolls(rolls: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, T_max, K)`` float32 zero-padded rolls and their ``lengths (N,)``."""
    frames = [torch.from_numpy(np.asarray(roll, dtype=np.float32)) for roll in rolls]
    return pad_sequence(frames, batch_first=True), torch.tensor([len(f) for f in frames])


class MusicTask(Task):
    """Next-frame likelihood of piano rolls."""

    name = "music"
    unit = "frames"

    def __init__(self, config: MusicConfig) -> None:
        if config.train.bptt is not None:
            raise ValueError("train.bptt must be null for music: each chorale is read whole")
        super().__init__(config)
        self._splits: dict[str, list[np.ndarray]] | None = None
        self._names: dict[str, list[str]] = {}

    def splits(self) -> dict[str, list[np.ndarray]]:
        """The piano rolls of each split (fixed chorale-level split)."""
        if self._splits is None:
            from ...data.pianoroll import bach_chorales, split_chorales

            data = self.config.data
            chorales = bach_chorales(data.steps_per_quarter, cache_dir=data.cache_dir, limit=data.limit)
            parts = split_chorales(chorales.names)
            self._splits = {name: [chorales.rolls[i] for i in index] for name, index in parts.items()}
            self._names = {name: [chorales.names[i] for i in index] for name, index in parts.items()}
            empty = [name for name, rolls in self._splits.items() if not rolls]
            if empty:
                raise ValueError(
                    f"the {empty[0]} split has no chorales; use more chorales (data.limit)"
                )
        return self._splits

    def train_data(self) -> list[np.ndarray]:
        return self.splits()["train"]  # a list is a map-style dataset

    def collate(self, items: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return pad_rolls(items)

    def build_model(self) -> PianoRollModel:
        return PianoRollModel(KEYS, self.config.model.recurrent, dropout=self.config.model.dropout)

    def loss(self, model, batch, state=None) -> LossOutput:
        rolls, lengths = batch
        # Call the (possibly DDP-wrapped) model itself so that gradients are synchronised.
        logits, _ = model(PianoRollModel.shift(rolls), lengths=lengths)
        return LossOutput(frames_nll(logits, rolls, lengths), int(lengths.sum()))

    def evaluate(self, model, split: str) -> dict[str, float]:
        device = next(model.parameters()).device
        rolls = self.splits()[split]
        total, steps, hits, misses = 0.0, 0, 0, 0
        for start in range(0, len(rolls), 32):
            padded, lengths = pad_rolls(rolls[start : start + 32])
            padded, lengths = padded.to(device), lengths.to(device)
            logits, _ = model(model.shift(padded), lengths=lengths)
            total += float(frames_nll(logits, padded, lengths))
            steps += int(lengths.sum())
            real = (torch.arange(padded.shape[1], device=device)[None, :] < lengths[:, None]).unsqueeze(-1)
            predicted, actual = (logits > 0) & real, (padded > 0.5) & real
            hits += int((predicted & actual).sum())
            misses += int((predicted ^ actual).sum())
        return {"loss": total / steps, "nll": total / steps, "frame_accuracy": hits / max(hits + misses, 1)}

    def state_dict(self) -> dict:
        return {"keys": KEYS, "steps_per_quarter": self.config.data.steps_per_quarter}

    def model_arguments(self) -> dict:
        return {"keys": KEYS, "recurrent": recurrent_arguments(self.config.model.recurrent)}

    def report(self, model, run_dir: Path) -> list[str]:
        from .baselines import baseline_nll_per_step, fit_baselines

        splits = self.splits()
        lstm = self.evaluate(model, "test")
        table = {"lstm": lstm["nll"]}
        table.update(baseline_nll_per_step(fit_baselines(splits["train"]), splits["test"]))
        steps = sum(len(r) for r in splits["test"])
        lines = [
            (f"test: {len(splits['test'])} chorales, {steps} time steps "
             f"({self.config.data.steps_per_quarter} per quarter note)"),
            f"  {'model':<16}{'NLL/step (nats)':>16}",
        ]
        lines += [f"  {name:<16}{value:>16.3f}" for name, value in table.items()]
        lines.append(f"  LSTM frame accuracy: {lstm['frame_accuracy']:.1%}")
        write_text_atomic(run_dir / "music.json", json.dumps({
            "test_chorales": self._names["test"], "test_steps": steps,
            "nll_per_step": table, "frame_accuracy": lstm["frame_accuracy"],
        }, indent=2) + "\n")
        return lines

    def compose(self, model, steps: int, seed: int, *, temperature: float = 1.0,
                prime_steps: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """A new piece: ``steps`` sampled frames ``(P + steps, 88)`` after the first
        ``prime_steps`` frames of a test chorale (none by default), and the
        probabilities they were drawn from."""
        generator = torch.Generator().manual_seed(seed)
        prime = None
        if prime_steps:
            first = self.splits()["test"][0]
            prime = torch.from_numpy(np.asarray(first[:prime_steps], dtype=np.float32))
        frames, probabilities = model.sample(steps, generator=generator, temperature=temperature, prime=prime)
        return frames.numpy(), probabilities.numpy()
