"""Interleaved, adaptive wall-clock timing of several competitors on the same work.

Machines drift (frequency scaling, other processes), so the competitors are timed
round-robin, one run each per round with the starting point rotating, rather than one
after the other: a slow spell then hurts all of them alike and the ratios survive.
Each competitor gets warm-up runs first, then timed runs until it has at least
``min_repeats`` and either ``min_time`` seconds of timed runs or ``max_repeats``.
"""

from __future__ import annotations

import gc
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Budget:
    """How much timing each competitor gets."""

    min_time: float  # seconds of timed runs to aim for
    min_repeats: int  # timed runs at least, whatever they cost
    max_repeats: int  # timed runs at most
    warmup: int  # warm-up runs at most (at least one; fewer once they took min_time)


@dataclass
class Case:
    """One competitor: ``run()`` is timed; ``setup()`` (untimed) comes before every run."""

    run: Callable[[], object]
    setup: Callable[[], None] | None = None


@dataclass
class Measurement:
    """The timed runs of one case, or why it could not run."""

    times: list[float] = field(default_factory=list)
    warmup_runs: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.times)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.ok else None


def describe_error(error: BaseException) -> str:
    """``Type: message`` on one line."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def attempt(action: Callable[..., T], *args: object) -> tuple[T | None, str | None]:
    """``(action(*args), None)``, or ``(None, error)`` when it raises.

    The one place a benchmark swallows any exception: a competitor that cannot be built
    or run (a backend or API not there yet, a configuration it refuses, memory) is a
    result to record, not a reason to stop timing the others.
    """
    try:
        return action(*args), None
    except Exception as error:  # noqa: BLE001 - see the docstring
        return None, describe_error(error)


def _timed_call(case: Case) -> float:
    if case.setup is not None:
        case.setup()
    # The collector must not fire inside one competitor's run and not another's.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        case.run()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def _warm_up(
    name: str,
    case: Case,
    budget: Budget,
    measurement: Measurement,
    on_first_result: Callable[[str, object], None] | None,
) -> None:
    spent = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        while measurement.warmup_runs < max(1, budget.warmup) and (
            measurement.warmup_runs == 0 or spent < budget.min_time
        ):
            if case.setup is not None:
                case.setup()
            start = time.perf_counter()
            result = case.run()
            spent += time.perf_counter() - start
            if measurement.warmup_runs == 0 and on_first_result is not None:
                on_first_result(name, result)
            del result
            measurement.warmup_runs += 1
    measurement.warnings = sorted({str(w.message) for w in caught})


def _needs_more(measurement: Measurement, budget: Budget) -> bool:
    count = len(measurement.times)
    if count < budget.min_repeats:
        return True
    return count < budget.max_repeats and sum(measurement.times) < budget.min_time


def measure_interleaved(
    cases: dict[str, Case],
    budget: Budget,
    on_first_result: Callable[[str, object], None] | None = None,
) -> dict[str, Measurement]:
    """Warm up every case (in order), then time them round-robin.

    ``on_first_result(name, result)`` sees what each case's first warm-up run returned
    (to compare outputs between competitors). A case that raises is recorded with the
    error and dropped; the others go on.
    """
    results = {name: Measurement() for name in cases}
    for name, case in cases.items():
        _, results[name].error = attempt(
            _warm_up, name, case, budget, results[name], on_first_result)
    active = [name for name in cases if results[name].error is None]
    rotation = 0
    while active:
        start = rotation % len(active)
        for name in active[start:] + active[:start]:
            seconds, results[name].error = attempt(_timed_call, cases[name])
            if seconds is not None:
                results[name].times.append(seconds)
        active = [n for n in active if results[n].error is None and _needs_more(results[n], budget)]
        rotation += 1
    return results
