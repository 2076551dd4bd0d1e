"""The entry points of the engine floor: pick a backend, run a layer or a whole stack.

Backends share one contract (see `reference.run_layer`):

- ``vendor``: torch's fused ops (`vendor`), for the configurations torch has a kernel for;
- ``native``: lstmkit's compiled kernels (`native`), every LSTM variant and both GRUs;
- ``reference``: autograd through the step functions, every configuration.

``"auto"`` takes the first of vendor → native → reference that serves the configuration
and warns once when it has to use reference; a forced backend that cannot serve a
configuration raises a ValueError saying why. `run_stack` exists because torch's fused
op runs a whole stack (layers and both directions) in one call; for the other backends
it is the loop over layers and directions with dropout between layers.

Under ``torch.autocast`` every backend runs the recurrence in the parameters' dtype
(float32 master weights) with autocast switched off inside: errors in the cell state
compound over hundreds of steps, and the native kernels have no bfloat16 path. The
layers around the recurrence (embeddings, heads) still run in the autocast dtype.
"""

from __future__ import annotations

import warnings
from types import ModuleType

import torch
from torch import Tensor

from ..cells import NO_MASKS, CellSpec, LayerParams, Masks
from . import native, reference, vendor
from .observe import current_observer

BACKENDS = ("auto", "vendor", "native", "reference")
_MODULES: dict[str, ModuleType] = {"vendor": vendor, "native": native, "reference": reference}
_AUTO_ORDER = ("vendor", "native", "reference")

_warned_reference_fallback = False


def check_backend(backend: object) -> str:
    """Validate a backend name given by a user; return it."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return backend


def select_backend(
    backend: str, spec: CellSpec, x: Tensor, masks: Masks | list[Masks] = NO_MASKS
) -> ModuleType:
    """The backend module that will run this configuration.

    ``masks`` may be a list (one per layer and direction of a stack): a backend must
    serve all of them.
    """
    check_backend(backend)
    all_masks = masks if isinstance(masks, list) else [masks]
    if backend != "auto":
        module = _MODULES[backend]
        reason = _reason(module, spec, x, all_masks)
        if reason is not None:
            raise ValueError(f"backend={backend!r} cannot run this configuration: {reason}")
        return module
    reasons = {}
    for name in _AUTO_ORDER:
        module = _MODULES[name]
        reason = _reason(module, spec, x, all_masks)
        if reason is None:
            if name == "reference":
                _warn_reference_fallback(spec, reasons)
            return module
        reasons[name] = reason
    raise AssertionError("the reference backend serves every configuration")


def _reason(module: ModuleType, spec: CellSpec, x: Tensor, masks: list[Masks]) -> str | None:
    for m in masks:
        reason = module.unsupported_reason(spec, x, m)
        if reason is not None:
            return reason
    return None


def _warn_reference_fallback(spec: CellSpec, reasons: dict[str, str]) -> None:
    global _warned_reference_fallback
    if not _warned_reference_fallback:
        _warned_reference_fallback = True
        why = "; ".join(f"{name}: {reason}" for name, reason in reasons.items())
        warnings.warn(
            f"lstmkit: no fast backend serves {_describe(spec)} ({why}); using the slow "
            "reference engine (this warning is shown once)",
            stacklevel=4,
        )


def _describe(spec: CellSpec) -> str:
    """The kind and the switches that differ from the default, e.g. ``rnn_tanh(layer_norm=True)``."""
    default = CellSpec()
    changed = [
        f"{name}={getattr(spec, name)!r}"
        for name in spec.__dataclass_fields__
        if name != "kind" and getattr(spec, name) != getattr(default, name)
    ]
    return f"{spec.kind}({', '.join(changed)})"


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
    if _autocasting(x):
        with torch.autocast(x.device.type, enabled=False):
            return run_layer(
                _to_param_dtype(x, params), tuple(_to_param_dtype(s, params) for s in state0),
                params, spec, lengths=lengths, reverse=reverse,
                masks=_masks_to_param_dtype(masks, params), backend=backend,
            )
    observer = current_observer()
    if observer is not None:
        return reference.run_layer(
            x, state0, params, spec, lengths=lengths, reverse=reverse, masks=masks,
            on_step=observer.layer(0, params, spec, reverse=reverse, lengths=lengths, streaming=False),
        )
    module = select_backend(backend, spec, x, masks)
    return module.run_layer(x, state0, params, spec, lengths=lengths, reverse=reverse, masks=masks)


def _autocasting(x: Tensor) -> bool:
    return torch.is_autocast_enabled(x.device.type)


def _to_param_dtype(t: Tensor, params: LayerParams) -> Tensor:
    return t.to(params.weight_ih.dtype)


def _masks_to_param_dtype(masks: Masks, params: LayerParams) -> Masks:
    fields = (masks.recurrent, masks.zoneout_h, masks.zoneout_c)
    return Masks(*(None if m is None else _to_param_dtype(m, params) for m in fields))


def run_stack(
    x: Tensor,
    states: list[tuple[Tensor, ...]],
    params: list[LayerParams],
    spec: CellSpec,
    *,
    num_layers: int,
    bidirectional: bool,
    dropout: float = 0.0,
    training: bool = False,
    lengths: Tensor | None = None,
    masks: list[Masks] | None = None,
    backend: str = "auto",
) -> tuple[Tensor, list[tuple[Tensor, ...]]]:
    """Run a stack of ``num_layers`` layers, each in one or both directions.

    Args:
        x: ``(L, N, H_in)``.
        states, params, masks: one entry per stack index ``layer * D + direction``.
        dropout: applied to each layer's output except the last, when ``training``.
        lengths, backend: as `run_layer`.

    Returns:
        ``y (L, N, D*H_out)`` and the final state per stack index.
    """
    if _autocasting(x):
        with torch.autocast(x.device.type, enabled=False):
            return run_stack(
                _to_param_dtype(x, params[0]),
                [tuple(_to_param_dtype(s, params[0]) for s in state) for state in states],
                params, spec, num_layers=num_layers, bidirectional=bidirectional,
                dropout=dropout, training=training, lengths=lengths,
                masks=None if masks is None else [
                    _masks_to_param_dtype(m, params[0]) for m in masks
                ],
                backend=backend,
            )
    directions = 2 if bidirectional else 1
    masks = masks if masks is not None else [NO_MASKS] * len(params)
    observer = current_observer()
    # An observer needs every step's state as an autograd node: the reference engine.
    module = reference if observer is not None else select_backend(backend, spec, x, masks)
    if module is vendor:
        return vendor.run_stack(
            x, states, params, spec, num_layers=num_layers, bidirectional=bidirectional,
            dropout=dropout, training=training, lengths=lengths,
        )
    finals: list[tuple[Tensor, ...]] = []
    layer_input = x
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            extra = {} if observer is None else {"on_step": observer.layer(
                index, params[index], spec, reverse=direction == 1, lengths=lengths, streaming=False,
            )}
            y, state = module.run_layer(
                layer_input, states[index], params[index], spec,
                lengths=lengths, reverse=direction == 1, masks=masks[index], **extra,
            )
            outputs.append(y)
            finals.append(state)
        layer_input = outputs[0] if directions == 1 else torch.cat(outputs, dim=-1)
        if dropout > 0 and training and layer < num_layers - 1:
            layer_input = torch.nn.functional.dropout(layer_input, dropout, training=True)
    return layer_input, finals
