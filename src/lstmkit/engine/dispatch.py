"""The single entry point of the engine floor: pick a backend and run a layer.

Backends share one contract (see `reference.run_layer`). ``"auto"`` tries them in the
order vendor → native → reference and warns once when it has to use reference; a
forced backend that cannot serve a configuration raises a ValueError saying why.
Only ``reference`` exists in this version; ``vendor`` and ``native`` are named so the
choice is already part of the API.
"""

from __future__ import annotations

import warnings
from types import ModuleType

from torch import Tensor

from ..cells import NO_MASKS, CellSpec, LayerParams, Masks
from . import reference

BACKENDS = ("auto", "vendor", "native", "reference")
_AVAILABLE: dict[str, ModuleType] = {"reference": reference}
_AUTO_ORDER = ("vendor", "native", "reference")
_NOT_YET = "is not available in this version of lstmkit (available: auto, reference)"

_warned_reference_fallback = False


def check_backend(backend: object) -> str:
    """Validate a backend name given by a user; return it."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend not in ("auto",) and backend not in _AVAILABLE:
        raise ValueError(f"backend={backend!r} {_NOT_YET}")
    return backend


def select_backend(backend: str, spec: CellSpec, x: Tensor) -> ModuleType:
    """The backend module that will run this configuration."""
    check_backend(backend)
    if backend != "auto":
        module = _AVAILABLE[backend]
        reason = module.unsupported_reason(spec, x)
        if reason is not None:
            raise ValueError(f"backend={backend!r} cannot run this configuration: {reason}")
        return module
    for name in _AUTO_ORDER:
        module = _AVAILABLE.get(name)
        if module is not None and module.unsupported_reason(spec, x) is None:
            if name == "reference" and len(_AVAILABLE) > 1:
                _warn_reference_fallback(spec)
            return module
    raise AssertionError("the reference backend serves every configuration")


def _warn_reference_fallback(spec: CellSpec) -> None:
    global _warned_reference_fallback
    if not _warned_reference_fallback:
        _warned_reference_fallback = True
        warnings.warn(
            f"lstmkit: no fast backend serves {spec}; using the slow reference engine",
            stacklevel=4,
        )


def run_layer(
    x: Tensor,
    state0: tuple[Tensor, ...],
    params: LayerParams,
    spec: CellSpec,
    *,
    lengths: Tensor | None = None,
    reverse: bool = False,
    masks: Masks = NO_MASKS,
    backend: str = "auto",
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run one layer, one direction, over a whole sequence with the chosen backend.

    Same arguments and results as `lstmkit.engine.reference.run_layer`, plus
    ``backend``: ``"auto" | "vendor" | "native" | "reference"``.
    """
    module = select_backend(backend, spec, x)
    return module.run_layer(x, state0, params, spec, lengths=lengths, reverse=reverse, masks=masks)
