"""Generators for the classic long-time-lag benchmarks, with their success criteria.

Every generator is a pure function of ``(n, length-or-lag, generator)``: all randomness
comes from the ``torch.Generator`` passed in, so a seed fixes a data set. Each returns a
:class:`Batch`:

- ``inputs (N, T, F)`` float32, right-padded with zero vectors when lengths differ;
- ``targets``: shape per problem (documented on each generator);
- ``target_mask (N, T)`` bool, True on the steps that carry a target, or ``None`` when
  only the last step counts and every sequence has the same length;
- ``lengths (N,)`` int64, the real number of steps of each sequence.

Each problem also has ``*_solved(prediction, batch) -> (N,) bool`` (its success
criterion) and, where one is defined, the loss of the best *memoryless* predictor (one
that ignores the long-lag information): the level a network sits at until it bridges the
lag.

Problems (H&S = Hochreiter & Schmidhuber 1997, "Long Short-Term Memory", Neural
Computation 9(8); the paper's definitions are followed except where "choice" is said):

- adding (H&S exp. 4): see :func:`adding_problem`. Choice: a fixed length ``T`` (the paper
  draws it in ``[T, T + T/10]``), so that the lag a sweep reports is exact.
- multiplication (H&S exp. 5): as adding, but values are uniform in ``[0, 1]`` and the
  target is ``X1 * X2``; if the first step is marked its value is set to 1.0 (paper, for
  ``X1``; choice: also when the second marker lands there). Solved when ``|error| < 0.04`` (paper). Choice: a fixed length ``T`` (the
  paper draws it in ``[T, T + T/10]``), as the adding problem in ``memory.py`` does.
- temporal order, 4 and 8 classes (H&S exp. 6a/6b): see :func:`temporal_order`.
- embedded Reber grammar (H&S exp. 1): see :func:`embedded_reber`.
- noise-free long-time-lag sequences (H&S exp. 2a): see :func:`long_lag`.
- copy memory (Arjovsky, Shah & Bengio 2016, "Unitary Evolution RNNs"): see
  :func:`copy_memory`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

SOLVED_ERROR = 0.04  # |prediction - target| below this counts as solved (H&S exp. 4, 5)
__all__ = [
    "ADDING_BASELINE_MSE", "OBJECTIVES", "PROBLEMS", "REBER_SYMBOLS", "SOLVED_ERROR",
    "TEMPORAL_ORDER_SYMBOLS", "Batch", "LongLagProblem", "adding", "adding_problem",
    "adding_solved", "copy_memory", "copy_memory_baseline", "copy_memory_solved",
    "embedded_reber", "long_lag", "long_lag_baseline", "long_lag_solved", "multiplication",
    "multiplication_baseline", "multiplication_solved", "reber_legal_next", "reber_solved", "temporal_order",
    "temporal_order_baseline", "temporal_order_solved",
]

ADDING_BASELINE_MSE = 1.0 / 24.0  # Var(0.5 + (X1 + X2) / 4), X ~ U[-1, 1]: always predicting 0.5

TEMPORAL_ORDER_SYMBOLS = "abcdXYBE"  # one-hot order of the temporal-order inputs
REBER_SYMBOLS = "BTPSXVE"  # one-hot order of the Reber inputs and targets
_TEMPORAL_ORDER_PAPER_ERROR = 0.3  # H&S exp. 6: every output unit within 0.3 of its target
# Relevant-symbol position ranges of H&S exp. 6 (1-based, inclusive) for sequences of
# length 100..110; they are scaled with ``length`` for length generalisation.
_TEMPORAL_ORDER_RANGES = {4: ((10, 20), (50, 60)), 8: ((10, 20), (33, 43), (66, 76))}


@dataclass(frozen=True)
class Batch:
    """One batch of a long-lag problem (see the module docstring for the fields)."""

    inputs: Tensor  # (N, T, F) float32
    targets: Tensor  # shape per problem
    target_mask: Tensor | None  # (N, T) bool, or None: only the (common) last step counts
    lengths: Tensor  # (N,) int64


# How a problem is trained and read (see `LongLagProblem.objective`).
OBJECTIVES = ("regression", "classification", "multilabel", "sequence")


@dataclass(frozen=True)
class LongLagProblem:
    """A named problem: its generator, success criterion, memoryless baseline and shape.

    ``objective`` says what the model's per-step outputs ``(N, T, output_size)`` mean:

    - ``"regression"``: one value read at each sequence's last step, mean squared error;
    - ``"classification"``: class scores read at each sequence's last step, cross-entropy;
    - ``"multilabel"``: at every real step an independent sigmoid per output,
      binary cross-entropy (the Reber grammar's set of legal next symbols);
    - ``"sequence"``: at every step a softmax over symbols, cross-entropy.
    """

    generate: Callable[[int, int, torch.Generator], Batch]
    solved: Callable[[Tensor, Batch], Tensor]
    default_length: int
    """The length (or lag) the paper used."""
    baseline: Callable[[int], float] | None
    """Memoryless loss as a function of the length (MSE or mean cross-entropy)."""
    objective: str
    input_size: Callable[[int], int]
    """Features per step, as a function of the length (the long-lag task's alphabet grows)."""
    output_size: Callable[[int], int]
    """Outputs per step, as a function of the length."""
    minimum_length: int
    """The shortest length the generator accepts."""

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")


def _check_n(n: int) -> None:
    if n < 1:
        raise ValueError(f"n must be a positive number of sequences, got {n}")


def _full_lengths(n: int, length: int) -> Tensor:
    return torch.full((n,), length, dtype=torch.long)


def _check_rows(prediction: Tensor, batch: Batch, name: str) -> None:
    if prediction.shape[0] != batch.inputs.shape[0]:
        raise ValueError(
            f"{name}: prediction has {prediction.shape[0]} rows, the batch has "
            f"{batch.inputs.shape[0]}"
        )


# --- adding and multiplication (H&S exp. 4 and 5) ---------------------------------------


def adding_problem(n: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``n`` sequences of the adding problem (H&S exp. 4).

    Each step is a pair (value, marker): values uniform in ``[-1, 1)``; exactly two
    steps are marked with 1, the first among the first 10 steps, the second among the
    other steps below ``T/2 - 1``; the first and last steps carry the marker -1 unless
    marked, every other step 0. When step 0 is marked its value is set to 0 (paper:
    "X1 is set to zero in the rare case where the first pair got marked"), in the input
    as well as the target.

    Returns:
        ``x (n, T, 2)`` (value, marker) and ``y (n,)`` the target ``0.5 + (X1 + X2) / 4``.
    """
    if length < 6:
        raise ValueError(f"data.length must be at least 6 for the adding problem, got {length}")
    values = torch.rand(n, length, generator=generator) * 2 - 1  # (n, T) in [-1, 1)
    first, second = _marked_steps(n, length, generator)
    values[(first == 0) | (second == 0), 0] = 0.0
    rows = torch.arange(n)
    targets = 0.5 + (values[rows, first] + values[rows, second]) / 4
    return torch.stack([values, _markers(n, length, first, second)], dim=-1), targets


def _marked_steps(n: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """The two marked steps of adding/multiplication: ``(n,)`` each, all distinct."""
    half = length // 2 - 1
    first = torch.randint(0, min(10, half), (n,), generator=generator)
    second = torch.randint(0, half - 1, (n,), generator=generator)
    return first, second + (second >= first).long()  # skip the first marked step


def _markers(n: int, length: int, first: Tensor, second: Tensor) -> Tensor:
    """``(n, T)``: 1 at the marked steps, -1 at the first and last step otherwise, else 0."""
    markers = torch.zeros(n, length)
    markers[:, 0] = -1.0
    markers[:, -1] = -1.0
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    return markers


def adding(n: int, length: int, generator: torch.Generator) -> Batch:
    """The adding problem of :func:`adding_problem` as a :class:`Batch`.

    ``inputs (N, T, 2)`` (value, marker), ``targets (N,)`` = ``0.5 + (X1 + X2) / 4``.
    """
    _check_n(n)
    inputs, targets = adding_problem(n, length, generator)
    return Batch(inputs.float(), targets.float(), None, _full_lengths(n, length))


def adding_solved(prediction: Tensor, batch: Batch) -> Tensor:
    """``(N,)`` True where ``|prediction - target| < 0.04`` (H&S); ``prediction (N,)``."""
    _check_rows(prediction, batch, "adding_solved")
    return (prediction.reshape(-1).float() - batch.targets).abs() < SOLVED_ERROR


def multiplication(n: int, length: int, generator: torch.Generator) -> Batch:
    """``n`` sequences of the multiplication problem (H&S exp. 5).

    Each step is a pair (value, marker): values ``U[0, 1)``; exactly two steps are marked
    with 1, the first among the first 10 steps, the second among the other steps below
    ``T/2 - 1``; the first and last steps carry -1 unless marked. If step 0 is marked its
    value is set to 1.0, in the input as well as the target (paper: "X1 is set to 1.0" when
    the first pair is marked; choice: the same when the second marker lands on step 0).

    Returns:
        ``inputs (N, T, 2)``, ``targets (N,)`` = ``X1 * X2``, mask None, ``lengths (N,)``.
    """
    _check_n(n)
    if length < 6:
        raise ValueError(f"length must be at least 6 for the multiplication problem, got {length}")
    values = torch.rand(n, length, generator=generator)  # (N, T) in [0, 1)
    first, second = _marked_steps(n, length, generator)
    values[(first == 0) | (second == 0), 0] = 1.0
    rows = torch.arange(n)
    targets = values[rows, first] * values[rows, second]
    inputs = torch.stack([values, _markers(n, length, first, second)], dim=-1)  # (N, T, 2)
    return Batch(inputs, targets, None, _full_lengths(n, length))


def multiplication_solved(prediction: Tensor, batch: Batch) -> Tensor:
    """``(N,)`` True where ``|prediction - X1 X2| < 0.04`` (H&S exp. 5); ``prediction (N,)``."""
    _check_rows(prediction, batch, "multiplication_solved")
    return (prediction.reshape(-1).float() - batch.targets).abs() < SOLVED_ERROR


def multiplication_baseline(length: int) -> float:
    """MSE of always predicting the mean target (the memoryless predictor), exactly.

    With ``q`` the chance that step 0 is marked (its value then 1.0), the target is
    ``U1 U2`` with probability ``1 - q`` and ``U2`` with probability ``q`` (``U ~ U[0, 1]``),
    so ``Var = (1-q)/9 + q/3 - ((1-q)/4 + q/2)^2``; without the step-0 case it would be
    ``1/9 - 1/16 = 7/144``, but ``q`` is about 0.12 at ``T = 100``.
    """
    if length < 6:
        raise ValueError(f"length must be at least 6 for the multiplication problem, got {length}")
    half = length // 2 - 1
    first_range = min(10, half)
    q = 1 / first_range + (1 - 1 / first_range) / (half - 1)
    mean = (1 - q) / 4 + q / 2
    return (1 - q) / 9 + q / 3 - mean**2


# --- temporal order (H&S exp. 6a, 6b) ----------------------------------------------------


def _scaled_ranges(classes: int, length: int) -> list[tuple[int, int]] | None:
    """The relevant-symbol ranges as 0-based inclusive step indices scaled to ``length``,
    or None when they do not fit (overlap, or touch B or the shortest sequence's E)."""
    scale = length / 100.0
    # Paper positions are 1-based (position 1 is B), so index = position - 1.
    ranges = [(round(lo * scale) - 1, round(hi * scale) - 1)
              for lo, hi in _TEMPORAL_ORDER_RANGES[classes]]
    ok = ranges[0][0] >= 1 and ranges[-1][1] <= length - 2
    ok = ok and all(a[1] < b[0] for a, b in itertools.pairwise(ranges))
    return ranges if ok else None


def _temporal_order_ranges(classes: int, length: int) -> list[tuple[int, int]]:
    ranges = _scaled_ranges(classes, length)
    if ranges is None:
        shortest = next(t for t in range(max(length, 1), 1000) if _scaled_ranges(classes, t))
        raise ValueError(
            f"length {length} is too short for the {classes}-class temporal order problem: "
            f"the relevant position ranges must be disjoint and lie between B and E "
            f"(use length >= {shortest})"
        )
    return ranges


def temporal_order(
    n: int, generator: torch.Generator, classes: Literal[4, 8] = 4, length: int = 100
) -> Batch:
    """``n`` sequences of the temporal order problem (H&S exp. 6a: 4 classes, 6b: 8).

    Symbols, one-hot in this order: ``a b c d X Y B E``. A sequence starts with B, ends with
    E, and holds two (4 classes) or three (8 classes) relevant symbols, each X or Y with
    probability 1/2; every other step is one of a, b, c, d. Paper (``length=100``): the
    length is uniform in 100..110 and the relevant symbols sit at positions 10..20 and
    50..60 (4 classes) or 10..20, 33..43, 66..76 (8 classes), position 1 being B. Choice:
    for length generalisation the length is uniform in ``length .. length + length // 10``
    and the position ranges are multiplied by ``length / 100`` (rounded).

    The class is the X/Y order read as a binary number, X = 0, Y = 1, first symbol most
    significant: XX=0 (paper's Q), XY=1 (R), YX=2 (S), YY=3 (U); 8 classes likewise.

    Returns:
        ``inputs (N, T_max, 8)`` (zero after each sequence's end), ``targets (N,)`` int64
        class, ``target_mask (N, T_max)`` True only at each sequence's last step (E),
        ``lengths (N,)``.
    """
    _check_n(n)
    if classes not in _TEMPORAL_ORDER_RANGES:
        raise ValueError(f"classes must be 4 or 8 for the temporal order problem, got {classes}")
    ranges = _temporal_order_ranges(classes, length)
    lengths = torch.randint(length, length + length // 10 + 1, (n,), generator=generator)
    t_max = int(lengths.max())
    symbols = torch.randint(0, 4, (n, t_max), generator=generator)  # distractors a..d
    rows = torch.arange(n)
    symbols[:, 0] = 6  # B
    symbols[rows, lengths - 1] = 7  # E
    relevant = torch.randint(0, 2, (n, len(ranges)), generator=generator)  # 0 = X, 1 = Y
    for k, (lo, hi) in enumerate(ranges):
        position = torch.randint(lo, hi + 1, (n,), generator=generator)
        symbols[rows, position] = 4 + relevant[:, k]
    weights = 2 ** torch.arange(len(ranges) - 1, -1, -1)  # first symbol most significant
    targets = (relevant * weights).sum(dim=1)
    valid = torch.arange(t_max) < lengths[:, None]  # (N, T_max)
    inputs = torch.nn.functional.one_hot(symbols, 8).float() * valid[..., None]
    mask = torch.zeros(n, t_max, dtype=torch.bool)
    mask[rows, lengths - 1] = True
    return Batch(inputs, targets, mask, lengths)


def temporal_order_solved(
    prediction: Tensor, batch: Batch, criterion: Literal["argmax", "paper"] = "argmax"
) -> Tensor:
    """``(N,)`` True where the class read at each sequence's last step is right.

    ``prediction (N, C)``: the outputs at the last real step. ``"argmax"`` (default):
    the largest output is the true class. ``"paper"`` (H&S exp. 6): every output unit is
    within 0.3 of the one-hot target, for outputs in [0, 1] (e.g. sigmoid or softmax).
    """
    _check_rows(prediction, batch, "temporal_order_solved")
    if criterion == "argmax":
        return prediction.argmax(dim=-1) == batch.targets
    if criterion == "paper":
        onehot = torch.nn.functional.one_hot(batch.targets, prediction.shape[-1])
        return ((prediction.float() - onehot).abs() < _TEMPORAL_ORDER_PAPER_ERROR).all(dim=-1)
    raise ValueError(f"criterion must be 'argmax' or 'paper', got {criterion!r}")


def temporal_order_baseline(classes: int) -> float:
    """Cross-entropy at the last step of a predictor that forgot the relevant symbols."""
    return math.log(classes)  # classes are uniform


# --- embedded Reber grammar (H&S exp. 1) -------------------------------------------------

# The Reber automaton (Cleeremans et al. 1989; H&S fig. 3): state -> (symbol, next state)
# choices, each taken with probability 1/2. State 6 emits the final E.
_REBER = {
    0: (("B", 1),),
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
    6: (("E", -1),),
}


def _reber_inner(choose: Callable[[], int]) -> str:
    state, out = 0, []
    while state != -1:
        options = _REBER[state]
        symbol, state = options[choose() if len(options) == 2 else 0]
        out.append(symbol)
    return "".join(out)


def reber_legal_next(string: str) -> list[str]:
    """For each symbol but the last of an embedded Reber string, the legal next symbols.

    Raises ValueError if ``string`` is not an embedded Reber string.
    """
    bad = ValueError(f"not an embedded Reber string: {string!r}")
    if len(string) < 9 or string[0] != "B" or string[1] not in "TP" or string[-2:] != (
        string[1] + "E"
    ):
        raise bad
    legal = ["TP", "B"]  # after B: T or P; after the outer T/P: the inner B
    state = 0
    for symbol in string[2:-2]:
        if state == -1:
            raise bad
        moves = dict(_REBER[state])
        if symbol not in moves:
            raise bad
        state = moves[symbol]
        legal.append("".join(s for s, _ in _REBER[state]) if state != -1 else string[1])
    if state != -1:
        raise bad
    legal.append("E")  # after the second outer T/P
    return legal


def embedded_reber(n: int, generator: torch.Generator, max_length: int | None = None) -> Batch:
    """``n`` strings of the embedded Reber grammar (H&S exp. 1), next-symbol prediction.

    A string is ``B T <Reber string> T E`` or ``B P <Reber string> P E`` (outer T/P with
    probability 1/2; every choice in the inner automaton with probability 1/2). Symbols
    one-hot in the order ``B T P S X V E``. Input step ``t`` is symbol ``t`` of the string
    (the final E is not an input); its target is the set of symbols that may legally come
    next. Choice: ``max_length`` (symbols per string, at least 9) redraws longer strings.

    Returns:
        ``inputs (N, L_max, 7)``, ``targets (N, L_max, 7)`` multi-hot float32,
        ``target_mask (N, L_max)`` True on real steps, ``lengths (N,)`` = string length - 1.
    """
    _check_n(n)
    if max_length is not None and max_length < 9:
        raise ValueError(
            f"max_length must be at least 9 (the shortest embedded Reber string), "
            f"got {max_length}"
        )
    bits: list[int] = []

    def choose() -> int:
        if not bits:  # draw random bits in chunks: one generator call per 256 choices
            bits.extend(torch.randint(0, 2, (256,), generator=generator).tolist())
        return bits.pop()

    strings = []
    while len(strings) < n:
        outer = "TP"[choose()]
        string = "B" + outer + _reber_inner(choose) + outer + "E"
        if max_length is None or len(string) <= max_length:
            strings.append(string)
    lengths = torch.tensor([len(s) - 1 for s in strings], dtype=torch.long)
    t_max = int(lengths.max())
    inputs = torch.zeros(n, t_max, 7)
    targets = torch.zeros(n, t_max, 7)
    for i, string in enumerate(strings):
        for t, (symbol, legal) in enumerate(zip(string, reber_legal_next(string), strict=False)):
            inputs[i, t, REBER_SYMBOLS.index(symbol)] = 1.0
            for s in legal:
                targets[i, t, REBER_SYMBOLS.index(s)] = 1.0
    mask = torch.arange(t_max) < lengths[:, None]
    return Batch(inputs, targets, mask, lengths)


def reber_solved(
    prediction: Tensor, batch: Batch, criterion: Literal["paper", "threshold"] = "paper"
) -> Tensor:
    """``(N,)`` True where every real step of a string is predicted right.

    ``prediction (N, L, 7)``. ``"paper"`` (default, H&S exp. 1): at each step the ``k``
    legal next symbols are the ``k`` most active outputs (strictly above all others).
    ``"threshold"``: the outputs above 0.5 are exactly the legal next symbols.
    """
    _check_rows(prediction, batch, "reber_solved")
    legal = batch.targets > 0.5  # (N, L, 7)
    if criterion == "threshold":
        ok = ((prediction > 0.5) == legal).all(dim=-1)
    elif criterion == "paper":
        inf = torch.tensor(float("inf"), dtype=prediction.dtype)
        lowest_legal = torch.where(legal, prediction, inf).amin(dim=-1)
        highest_other = torch.where(legal, -inf, prediction).amax(dim=-1)
        ok = lowest_legal > highest_other
    else:
        raise ValueError(f"criterion must be 'paper' or 'threshold', got {criterion!r}")
    return (ok | ~batch.target_mask).all(dim=-1)


# --- noise-free long-time-lag sequences (H&S exp. 2a) ------------------------------------


def long_lag(n: int, lag: int, generator: torch.Generator) -> Batch:
    """``n`` sequences of H&S exp. 2a (noise-free, no local regularities), lag ``p``.

    There are ``p + 1`` symbols: ``a_1 .. a_{p-1}`` (one-hot indices ``0 .. p-2``), ``x``
    (index ``p-1``) and ``y`` (index ``p``). The two sequences are ``(y, a_1, .., a_{p-1},
    y)`` and ``(x, a_1, .., a_{p-1}, x)``, each with probability 1/2. The net sees one
    symbol a step and predicts the next; only the last prediction (the first symbol again)
    needs memory, over ``p`` steps.

    Returns:
        ``inputs (N, p, p+1)`` (the first ``p`` symbols), ``targets (N, p)`` int64 (the next
        symbols), ``target_mask (N, p)`` all True, ``lengths (N,)`` = ``p``.
    """
    _check_n(n)
    if lag < 2:
        raise ValueError(f"lag (p) must be at least 2 for the long-time-lag task, got {lag}")
    first = lag - 1 + torch.randint(0, 2, (n,), generator=generator)  # x or y
    middle = torch.arange(lag - 1).expand(n, lag - 1)  # a_1 .. a_{p-1}
    sequence = torch.cat([first[:, None], middle, first[:, None]], dim=1)  # (N, p+1)
    inputs = torch.nn.functional.one_hot(sequence[:, :-1], lag + 1).float()  # (N, p, p+1)
    mask = torch.ones(n, lag, dtype=torch.bool)
    return Batch(inputs, sequence[:, 1:].clone(), mask, _full_lengths(n, lag))


def long_lag_solved(prediction: Tensor, batch: Batch) -> Tensor:
    """``(N,)`` True where the last prediction's argmax is the first symbol.

    ``prediction (N, p, p+1)`` scores per step (only the last step is read).
    """
    _check_rows(prediction, batch, "long_lag_solved")
    return prediction[:, -1].argmax(dim=-1) == batch.targets[:, -1]


def long_lag_baseline(lag: int) -> float:
    """Mean per-step cross-entropy of a memoryless predictor: ``ln 2 / p``.

    Every next symbol follows from the current one except the last (x or y, 1/2 each).
    """
    return math.log(2.0) / lag


# --- copy memory (Arjovsky, Shah & Bengio 2016) ------------------------------------------


def copy_memory(n: int, length: int, generator: torch.Generator) -> Batch:
    """``n`` sequences of the copy memory problem with delay ``T`` = ``length``.

    Symbols 0..9, one-hot: 0 is blank, 1..8 data, 9 the delimiter. Input: 10 data symbols
    uniform over 1..8, ``T - 1`` blanks, the delimiter, 10 blanks (``T + 20`` steps).
    Target: ``T + 10`` blanks, then the 10 data symbols. (As in the paper.)

    Returns:
        ``inputs (N, T+20, 10)``, ``targets (N, T+20)`` int64, ``target_mask`` all True,
        ``lengths (N,)``.
    """
    _check_n(n)
    if length < 1:
        raise ValueError(f"length (the delay T) must be at least 1 for copy memory, got {length}")
    total = length + 20
    data = torch.randint(1, 9, (n, 10), generator=generator)
    symbols = torch.zeros(n, total, dtype=torch.long)
    symbols[:, :10] = data
    symbols[:, length + 9] = 9  # delimiter after T - 1 blanks
    targets = torch.zeros(n, total, dtype=torch.long)
    targets[:, -10:] = data
    inputs = torch.nn.functional.one_hot(symbols, 10).float()  # (N, T+20, 10)
    mask = torch.ones(n, total, dtype=torch.bool)
    return Batch(inputs, targets, mask, _full_lengths(n, total))


def copy_memory_solved(prediction: Tensor, batch: Batch) -> Tensor:
    """``(N,)`` True where the argmax is right at every step (choice: the paper reports
    only the loss). ``prediction (N, T+20, 10)``."""
    _check_rows(prediction, batch, "copy_memory_solved")
    return (prediction.argmax(dim=-1) == batch.targets).all(dim=-1)


def copy_memory_baseline(length: int) -> float:
    """Mean cross-entropy of the memoryless predictor: ``10 ln 8 / (T + 20)``.

    It predicts blank for the first ``T + 10`` steps and uniform over 1..8 for the last 10.
    """
    if length < 1:
        raise ValueError(f"length (the delay T) must be at least 1, got {length}")
    return 10 * math.log(8.0) / (length + 20)


def _fixed(size: int) -> Callable[[int], int]:
    return lambda _length: size


PROBLEMS: dict[str, LongLagProblem] = {
    "adding": LongLagProblem(
        adding, adding_solved, 100, lambda _t: ADDING_BASELINE_MSE, "regression", _fixed(2),
        _fixed(1), 6,
    ),
    "multiplication": LongLagProblem(
        multiplication, multiplication_solved, 100, multiplication_baseline, "regression",
        _fixed(2), _fixed(1), 6,
    ),
    "temporal-order-4": LongLagProblem(
        lambda n, length, g: temporal_order(n, g, classes=4, length=length),
        lambda p, b: temporal_order_solved(p, b, criterion="paper"), 100,
        lambda _t: temporal_order_baseline(4), "classification", _fixed(8), _fixed(4), 15,
    ),
    "temporal-order-8": LongLagProblem(
        lambda n, length, g: temporal_order(n, g, classes=8, length=length),
        lambda p, b: temporal_order_solved(p, b, criterion="paper"), 100,
        lambda _t: temporal_order_baseline(8), "classification", _fixed(8), _fixed(8), 15,
    ),
    # For Reber the "length" is the longest string allowed.
    "reber": LongLagProblem(
        lambda n, length, g: embedded_reber(n, g, max_length=length), reber_solved, 1000, None,
        "multilabel", _fixed(7), _fixed(7), 9,
    ),
    "long-lag": LongLagProblem(
        long_lag, long_lag_solved, 100, long_lag_baseline, "sequence", lambda p: p + 1,
        lambda p: p + 1, 2,
    ),
    "copy-memory": LongLagProblem(
        copy_memory, copy_memory_solved, 100, copy_memory_baseline, "sequence", _fixed(10),
        _fixed(10), 1,
    ),
}
