"""Argument checks shared by the modules: each error names the argument, what was
expected and what was got. Nothing is clamped or coerced."""

from __future__ import annotations

import math
import warnings
from numbers import Real


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
    return value


def check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero, got {value}")
    return value


def check_probability(name: str, value: object, *, allow_one: bool) -> float:
    """A rate in ``[0, 1]`` (or ``[0, 1)`` when 1 would divide by zero)."""
    upper = "1]" if allow_one else "1)"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} should be a number in [0, {upper}, got {type(value).__name__}")
    ok = 0 <= value <= 1 if allow_one else 0 <= value < 1
    if not ok:
        raise ValueError(f"{name} should be a number in range [0, {upper}, got {value}")
    return float(value)


def check_dropout(dropout: object, num_layers: int) -> float:
    """torch.nn.RNNBase's rule: a number in [0, 1]; warn when it cannot act."""
    if isinstance(dropout, bool) or not isinstance(dropout, Real) or not 0 <= dropout <= 1:
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability "
            f"of an element being zeroed, got {dropout!r}"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero "
            f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
            f"num_layers={num_layers}",
            stacklevel=4,
        )
    return float(dropout)


def check_zoneout(value: object, has_cell: bool) -> tuple[float, float]:
    """``zoneout`` is a rate for every state, or a pair ``(hidden, cell)`` for an LSTM.

    Returns ``(rate_h, rate_c)``; ``rate_c`` is 0 for cells without a cell state.
    """
    if isinstance(value, tuple | list):
        if not has_cell or len(value) != 2:
            expected = "a pair (hidden, cell) or a number" if has_cell else "a number"
            raise ValueError(f"zoneout should be {expected}, got {value!r}")
        return (
            check_probability("zoneout[0] (hidden)", value[0], allow_one=True),
            check_probability("zoneout[1] (cell)", value[1], allow_one=True),
        )
    rate = check_probability("zoneout", value, allow_one=True)
    return (rate, rate if has_cell else 0.0)


INITS = ("orthogonal", "small_uniform", "xavier")


def check_init(init: object) -> str | None:
    if init is not None and init not in INITS:
        raise ValueError(f"init must be None or one of {INITS}, got {init!r}")
    return init  # type: ignore[return-value]


def check_optional_number(name: str, value: object) -> float | None:
    """``None`` or a finite real number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} should be None or a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} should be a finite number, got {value}")
    return float(value)


def check_proj_size(proj_size: object, hidden_size: int) -> int:
    if isinstance(proj_size, bool) or not isinstance(proj_size, int):
        raise TypeError(f"proj_size should be of type int, got: {type(proj_size).__name__}")
    if proj_size < 0:
        raise ValueError(
            f"proj_size should be a positive integer or zero to disable projections, got {proj_size}"
        )
    if proj_size >= hidden_size:
        raise ValueError(
            f"proj_size has to be smaller than hidden_size, got proj_size={proj_size} "
            f"and hidden_size={hidden_size}"
        )
    return proj_size
