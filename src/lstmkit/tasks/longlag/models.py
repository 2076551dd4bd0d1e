"""The recurrent models a long-lag sweep compares, by name.

Each name is a set of `RecurrentConfig` fields applied over a base config (hidden size,
forget bias, backend...): plain RNNs, the GRU, the LSTM as `torch.nn.LSTM` has it, the
LSTM with peepholes or a coupled input-forget gate, and the eight variants of Greff et
al. 2017 ("LSTM: A Search Space Odyssey") with their vanilla reference V.
"""

from __future__ import annotations

from dataclasses import replace

from ...cells import lstm_spec
from ..recurrent import RecurrentConfig

GREFF_VARIANTS = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")

MODELS: dict[str, dict] = {
    "rnn_tanh": {"cell": "rnn_tanh"},
    "rnn_relu": {"cell": "rnn_relu"},
    "gru": {"cell": "gru"},
    "lstm": {"cell": "lstm"},
    "lstm-peephole": {"cell": "lstm", "peephole": True},
    "lstm-cifg": {"cell": "lstm", "cifg": True},
    **{name: {"cell": "lstm", "variant": name} for name in GREFF_VARIANTS},
}

# Fields only an LSTM has: reset to their defaults when a sweep switches to another cell.
_LSTM_ONLY = {"variant": None, "peephole": None, "cifg": None, "proj_size": 0, "forget_bias": None}


def check_model_names(names: list[str], option: str) -> list[str]:
    """``names`` if every one is a known model, else a ValueError naming ``option``."""
    if not names:
        raise ValueError(f"{option} must name at least one model")
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        raise ValueError(f"{option}: unknown model {unknown[0]!r}; choose from {', '.join(MODELS)}")
    return names


def recurrent_for(name: str, base: RecurrentConfig) -> RecurrentConfig:
    """``base`` turned into model ``name``.

    LSTM-only fields are dropped for other cells, and ``forget_bias`` for LSTM variants
    without a learned forget gate (NFG never forgets; CIFG computes ``f = 1 - i``), so
    one base config serves the whole comparison.
    """
    check_model_names([name], "model")
    fields = dict(MODELS[name])
    if fields["cell"] != "lstm":
        return replace(base, **{**_LSTM_ONLY, **fields})
    fields = {"variant": None, "peephole": None, "cifg": None, **fields}
    spec = lstm_spec(variant=fields["variant"], peephole=fields["peephole"], cifg=fields["cifg"])
    if spec.forget_gate != "learned":
        fields["forget_bias"] = None
    return replace(base, **fields)
