"""What several test files share: the LSTM option sets they run through (each file
adds the extras it needs; clip values are tuned per file so that clipping really
happens there) and how they randomise parameters."""

from __future__ import annotations

import torch

GREFF = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")
PROJ = 2  # proj_size used by the projection cases (hidden sizes in the tests are >= 3)

LSTM_OPTIONS: dict[str, dict[str, object]] = {
    "torch_vanilla": {},
    "peephole": {"peephole": True},
    **{f"variant_{v}": {"variant": v} for v in GREFF},
    "cifg": {"cifg": True},
    "cifg_peephole": {"cifg": True, "peephole": True},
    "layer_norm": {"layer_norm": True},
    "proj": {"proj_size": PROJ},
    "peephole_ln_proj": {"peephole": True, "layer_norm": True, "proj_size": PROJ},
}


@torch.no_grad()
def randomise(module: torch.nn.Module) -> torch.nn.Module:
    """Every parameter U(-0.5, 0.5); layer-norm gains U(0.5, 1.5), so every term matters."""
    for name, tensor in module.named_parameters():
        if name.startswith("weight_ln"):
            torch.nn.init.uniform_(tensor, 0.5, 1.5)
        else:
            torch.nn.init.uniform_(tensor, -0.5, 0.5)
    return module
