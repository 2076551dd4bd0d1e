"""Self-describing checkpoints, written atomically and loaded without running pickled code.

A checkpoint is one ``torch.save`` file holding only tensors and plain Python data:

=================  ==============================================================
``format``         ``"lstmkit-checkpoint"`` and ``version`` (this module's `VERSION`)
``task``           the task name (``lstmkit train TASK``)
``config``         the resolved config, as the nested dict of ``config.yaml``
``model_args``     the arguments the model was built from
``task_state``     what the task fitted on data (vocabulary, scalers)
``model``          the model's ``state_dict``
``optimizer``      ``scheduler``: their ``state_dict``
``rng``            one generator state per process (`seeding.rng_state`)
``progress``       ``step``, ``epoch``, ``batch_in_epoch`` (data position), ``items``
``best``           monitored metric name, best value and its step; early-stopping count
``carried_state``  truncated-BPTT state at the data position, per process (or None)
``metrics``        the last validation metrics
=================  ==============================================================

Saving writes a temporary file beside the target and renames it over the target
(`lstmkit.files.write_atomic`), so a kill at any instant leaves the previous checkpoint
intact. Loading uses ``torch.load(weights_only=True)`` and turns every way a file can be
wrong (missing, truncated, not a checkpoint, a different model shape) into a
`CheckpointError` that says which file and what is wrong.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from ..files import write_atomic

FORMAT = "lstmkit-checkpoint"
VERSION = 1
LAST = "last.pt"
BEST = "best.pt"
_REQUIRED = ("task", "config", "model", "progress")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used, with the reason."""


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the format tag) to ``path`` atomically."""
    content = {"format": FORMAT, "version": VERSION, **payload}
    # Serialise fully in memory first: a failure while pickling must not even create
    # the temporary file, and the write itself is then one buffer.
    buffer = io.BytesIO()
    torch.save(content, buffer)
    return write_atomic(path, lambda handle: handle.write(buffer.getbuffer()))


def resolve_checkpoint_path(path: str | os.PathLike) -> Path:
    """``path`` itself, or ``path/last.pt`` when ``path`` is a run directory."""
    path = Path(path)
    if path.is_dir():
        candidate = path / LAST
        if not candidate.exists():
            raise CheckpointError(f"{path} is a directory without a {LAST} checkpoint")
        return candidate
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load and check a checkpoint (a file, or a run directory's ``last.pt``)."""
    path = resolve_checkpoint_path(path)
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001  (a damaged file fails in many ways)
        # Garbage bytes surface as RuntimeError, UnpicklingError, UnicodeDecodeError,
        # IndexError, KeyError... depending on where the damage is; all mean the same.
        text = str(error).strip()
        first_line = text.splitlines()[0] if text else ""
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or corrupt?): "
            f"{type(error).__name__}: {first_line}"
        ) from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an lstmkit checkpoint (no '{FORMAT}' tag)")
    if content.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {content.get('version')}, this lstmkit reads {VERSION}"
        )
    missing = [key for key in _REQUIRED if key not in content]
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}")
    return content


def load_model_state(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """``model.load_state_dict(state)`` with an error naming each mismatched parameter."""
    own = model.state_dict()
    problems = []
    for name in sorted(set(own) | set(state)):
        if name not in state:
            problems.append(f"{name} missing from the checkpoint")
        elif name not in own:
            problems.append(f"{name} in the checkpoint is not a parameter of this model")
        elif own[name].shape != state[name].shape:
            problems.append(
                f"{name} has shape {tuple(state[name].shape)} in the checkpoint but "
                f"{tuple(own[name].shape)} in this model"
            )
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise CheckpointError(f"{source} does not fit this model: {shown}")
    model.load_state_dict(state)
