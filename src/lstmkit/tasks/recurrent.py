"""The ``model.recurrent`` config shared by every task: which recurrent stack to build.

One dataclass covers the whole family: ``cell`` picks LSTM, GRU or a plain RNN, and
the remaining fields are the `lstmkit.LSTM` / `GRU` / `RNN` arguments. Options that a
cell does not have (peepholes on a GRU) are refused with the field's name, never
ignored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import torch

from ..nn import GRU, LSTM, RNN


@dataclass
class RecurrentConfig:
    """The recurrent stack of a task's model."""

    cell: Literal["lstm", "gru", "rnn_tanh", "rnn_relu"] = "lstm"
    """Recurrent cell: lstm (any variant below), gru, or a plain tanh/ReLU RNN."""
    hidden_size: int = 64
    """Units per layer and direction (H_cell)."""
    num_layers: int = 1
    """Stacked layers."""
    bidirectional: bool = False
    """Run a second stack backwards in time and concatenate the outputs."""
    dropout: float = 0.0
    """Dropout between stacked layers (training only)."""
    variant: str | None = None
    """LSTM: a Greff et al. 2017 variant by name — V (vanilla, with peepholes), NIG, NFG,
    NOG, NIAF, NOAF, NP, CIFG, FGR; null: plain LSTM shaped by the flags below."""
    peephole: bool | None = None
    """LSTM: peephole connections from the cell state to the gates."""
    cifg: bool | None = None
    """LSTM: coupled input-forget gate (i = 1 - f)."""
    layer_norm: bool = False
    """Layer normalisation of the gate pre-activations (and the LSTM cell)."""
    proj_size: int = 0
    """LSTM: recurrent projection size (LSTMP); 0 for none."""
    recurrent_dropout: float = 0.0
    """Variational dropout on h(t-1) before the recurrent matrix."""
    zoneout: float = 0.0
    """Zoneout rate of the hidden (and LSTM cell) state."""
    weight_drop: float = 0.0
    """DropConnect on the recurrent weight matrix (AWD-LSTM)."""
    forget_bias: float | None = None
    """LSTM: initial forget-gate bias (None: the default initialisation)."""
    backend: Literal["auto", "vendor", "native", "reference"] = "auto"
    """Engine running the recurrence: auto picks the fastest that serves the variant."""

    def __post_init__(self) -> None:
        for key in ("hidden_size", "num_layers"):
            if getattr(self, key) <= 0:
                raise ValueError(f"model.recurrent.{key} must be positive, got {getattr(self, key)}")
        if self.cell != "lstm":
            lstm_only = {
                "variant": self.variant is not None, "peephole": self.peephole is not None,
                "cifg": self.cifg is not None, "proj_size": self.proj_size != 0,
                "forget_bias": self.forget_bias is not None,
            }
            given = [key for key, used in lstm_only.items() if used]
            if given:
                raise ValueError(
                    f"model.recurrent.{given[0]} is an LSTM option but cell is {self.cell!r}"
                )

    @property
    def output_size(self) -> int:
        """Features per step of the stack's output: ``D * H_out``."""
        per_direction = self.proj_size or self.hidden_size
        return per_direction * (2 if self.bidirectional else 1)


def build_recurrent(input_size: int, config: RecurrentConfig) -> torch.nn.Module:
    """The stack ``config`` describes, batch-first, taking ``input_size`` features."""
    common = {
        "num_layers": config.num_layers, "batch_first": True, "dropout": config.dropout,
        "bidirectional": config.bidirectional, "layer_norm": config.layer_norm,
        "recurrent_dropout": config.recurrent_dropout, "zoneout": config.zoneout,
        "weight_drop": config.weight_drop, "backend": config.backend,
    }
    if config.cell == "lstm":
        return LSTM(
            input_size, config.hidden_size, proj_size=config.proj_size, variant=config.variant,
            peephole=config.peephole, cifg=config.cifg, forget_bias=config.forget_bias, **common,
        )
    if config.cell == "gru":
        return GRU(input_size, config.hidden_size, **common)
    return RNN(input_size, config.hidden_size, nonlinearity=config.cell[4:], **common)


def recurrent_arguments(config: RecurrentConfig) -> dict:
    """The config as plain data (for checkpoints)."""
    return asdict(config)
