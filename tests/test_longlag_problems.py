"""Long-time-lag benchmark generators: shapes, targets recomputed from inputs, criteria."""

from __future__ import annotations

import math
import re

import pytest
import torch

from lstmkit.tasks.longlag import (
    PROBLEMS,
    REBER_SYMBOLS,
    Batch,
    adding,
    adding_solved,
    copy_memory,
    copy_memory_baseline,
    copy_memory_solved,
    embedded_reber,
    long_lag,
    long_lag_baseline,
    long_lag_solved,
    multiplication,
    multiplication_baseline,
    multiplication_solved,
    reber_legal_next,
    reber_solved,
    temporal_order,
    temporal_order_baseline,
    temporal_order_solved,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- multiplication -------------------------------------------------------------------


def test_multiplication_shapes_and_target_is_product_of_marked_values():
    batch = multiplication(2000, 40, gen(1))
    assert batch.inputs.shape == (2000, 40, 2) and batch.inputs.dtype == torch.float32
    assert batch.targets.shape == (2000,) and batch.target_mask is None
    assert batch.lengths.tolist() == [40] * 2000
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]
    marked = markers == 1
    assert (marked.sum(dim=1) == 2).all()
    product = torch.where(marked, values, torch.ones_like(values)).prod(dim=1)
    torch.testing.assert_close(batch.targets, product)
    assert values.min() >= 0 and values.max() <= 1 and values.mean().item() == pytest.approx(
        0.5, abs=0.01
    )
    # Marker positions: first among the first 10 steps, second below T/2 - 1 = 19.
    positions = marked.nonzero()[:, 1].view(-1, 2)
    assert positions[:, 0].max() <= 9 and positions[:, 1].max() <= 18
    assert positions[:, 1].max() == 18 and positions[:, 0].min() == 0  # whole range used
    # -1 on the first and last step unless marked; zero elsewhere.
    assert (markers[:, -1] == -1).all()
    assert ((markers[:, 0] == -1) | marked[:, 0]).all()
    inner = markers[:, 1:-1]
    assert ((inner == 0) | (inner == 1)).all()


def test_multiplication_first_step_marked_sets_x1_to_one():
    batch = multiplication(3000, 30, gen(2))
    first_marked = batch.inputs[:, 0, 1] == 1
    assert first_marked.sum() > 100  # about 1/10 of the sequences
    assert (batch.inputs[first_marked, 0, 0] == 1.0).all()


def test_multiplication_solved_threshold_and_baseline():
    batch = multiplication(4, 20, gen(3))
    t = batch.targets
    assert multiplication_solved(t + 0.039, batch).all()
    assert not multiplication_solved(t + 0.041, batch).any()
    assert not multiplication_solved(t - 0.041, batch).any()
    for length in (20, 100):
        big = multiplication(40000, length, gen(4))
        mse = ((big.targets - big.targets.mean()) ** 2).mean().item()
        assert mse == pytest.approx(multiplication_baseline(length), rel=0.03)
    assert multiplication_baseline(10**6) == pytest.approx(0.1 / 3 + 0.9 / 9 - 0.275**2, rel=1e-4)


def test_adding_distribution_markers_and_first_step_rule():
    batch = adding(4000, 40, gen(6))
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]
    marked = markers == 1
    assert (marked.sum(dim=1) == 2).all()
    positions = marked.nonzero()[:, 1].view(-1, 2)
    # First marker among the first 10 steps, second among the first T/2 - 1 = 19 steps.
    assert positions[:, 0].min() == 0 and positions[:, 1].max() == 18
    assert (positions.min(dim=1).values <= 9).all()
    assert (markers[:, -1] == -1).all() and ((markers[:, 0] == -1) | marked[:, 0]).all()
    # Paper: "X1 is set to zero in the rare case where the first pair got marked".
    first_marked = marked[:, 0]
    assert first_marked.sum() > 200  # about 1/10 of the sequences
    assert (values[first_marked, 0] == 0).all()
    others = values[~first_marked]
    assert others.min() >= -1 and others.max() < 1
    assert others.mean().item() == pytest.approx(0.0, abs=0.01)
    assert others.var().item() == pytest.approx(1 / 3, rel=0.02)  # U[-1, 1]
    # The mean predictor's MSE is Var((X1 + X2)/4) ~ 1/24, a little less with X1 = 0 cases.
    mse = ((batch.targets - 0.5) ** 2).mean().item()
    assert mse == pytest.approx(1 / 24, rel=0.1) and mse < 1 / 24


def test_problem_shapes_follow_the_registry():
    for name, problem in PROBLEMS.items():
        length = max(problem.minimum_length, 20)
        batch = problem.generate(3, length, gen(7))
        assert batch.inputs.shape[-1] == problem.input_size(length), name
        if problem.objective in ("multilabel",):
            assert batch.targets.shape[-1] == problem.output_size(length), name
        if problem.objective in ("classification", "sequence"):
            assert int(batch.targets.max()) < problem.output_size(length), name
        with pytest.raises(ValueError):
            problem.generate(3, problem.minimum_length - 1, gen(7))


def test_adding_batch_matches_memory_problem_and_criterion():
    batch = adding(500, 30, gen(5))
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]
    total = (values * (markers == 1)).sum(dim=1)
    torch.testing.assert_close(batch.targets, 0.5 + total / 4)
    assert adding_solved(batch.targets - 0.039, batch).all()
    assert not adding_solved(batch.targets + 0.041, batch).any()


# --- temporal order -------------------------------------------------------------------


def _relevant(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """(positions, is_Y) of the X/Y symbols, read back from the one-hot inputs."""
    symbols = batch.inputs.argmax(dim=-1)
    xy = batch.inputs[..., 4:6].sum(dim=-1) > 0
    k = int(xy.sum(dim=1)[0])
    assert (xy.sum(dim=1) == k).all()
    positions = xy.nonzero()[:, 1].view(-1, k)
    return positions, symbols.gather(1, positions) == 5


@pytest.mark.parametrize("classes, ranges", [
    (4, [(9, 19), (49, 59)]), (8, [(9, 19), (32, 42), (65, 75)]),
])
def test_temporal_order_paper_definition(classes, ranges):
    batch = temporal_order(4000, gen(6), classes=classes)
    n, t_max, f = batch.inputs.shape
    assert f == 8 and batch.targets.shape == (n,) and batch.target_mask.shape == (n, t_max)
    assert batch.lengths.min() == 100 and batch.lengths.max() == 110
    assert t_max == 110
    symbols = batch.inputs.argmax(dim=-1)
    rows = torch.arange(n)
    assert (symbols[:, 0] == 6).all() and (symbols[rows, batch.lengths - 1] == 7).all()
    # One-hot on real steps, zero after the end; the mask marks exactly the E step.
    real = torch.arange(t_max) < batch.lengths[:, None]
    assert (batch.inputs.sum(dim=-1) == real.float()).all()
    assert batch.target_mask.sum(dim=1).eq(1).all()
    assert batch.target_mask[rows, batch.lengths - 1].all()
    # Distractors are a..d only; B and E appear once each.
    inner = symbols[:, 1:-1][real[:, 1:-1] & (torch.arange(1, t_max - 1) < batch.lengths[:, None] - 1)]
    assert set(inner.unique().tolist()) == {0, 1, 2, 3, 4, 5}
    positions, is_y = _relevant(batch)
    assert positions.shape[1] == len(ranges)
    for k, (lo, hi) in enumerate(ranges):
        assert positions[:, k].min() == lo and positions[:, k].max() == hi
    klass = sum(is_y[:, k].long() * 2 ** (len(ranges) - 1 - k) for k in range(len(ranges)))
    assert torch.equal(batch.targets, klass)
    counts = torch.bincount(batch.targets, minlength=classes).float()
    assert counts.min() > 0.8 * n / classes and counts.max() < 1.2 * n / classes


def test_temporal_order_class_names_follow_paper_order():
    batch = temporal_order(300, gen(7), classes=4)
    _, is_y = _relevant(batch)
    xy = [("Y" if a else "X") + ("Y" if b else "X") for a, b in is_y.tolist()]
    names = {"XX": 0, "XY": 1, "YX": 2, "YY": 3}  # Q, R, S, U
    assert batch.targets.tolist() == [names[s] for s in xy]


def test_temporal_order_length_scaling():
    batch = temporal_order(3000, gen(8), classes=4, length=300)
    assert batch.lengths.min() == 300 and batch.lengths.max() == 330
    positions, _ = _relevant(batch)
    assert positions[:, 0].min() == 29 and positions[:, 0].max() == 59
    assert positions[:, 1].min() == 149 and positions[:, 1].max() == 179


def test_temporal_order_solved_criteria():
    batch = temporal_order(3, gen(9), classes=4)
    onehot = torch.nn.functional.one_hot(batch.targets, 4).float()
    assert temporal_order_solved(onehot, batch).all()
    assert not temporal_order_solved(1 - onehot, batch).any()
    near = onehot * 0.71 + (1 - onehot) * 0.29
    assert temporal_order_solved(near, batch, criterion="paper").all()
    far = onehot * 0.69 + (1 - onehot) * 0.1
    assert not temporal_order_solved(far, batch, criterion="paper").any()
    assert temporal_order_solved(far, batch).all()  # argmax is still right
    wrong_unit = onehot.clone()
    wrong_unit[:, (batch.targets[0] + 1) % 4] = 0.31
    assert not temporal_order_solved(wrong_unit, batch, criterion="paper")[0]
    assert temporal_order_baseline(8) == pytest.approx(math.log(8))


# --- embedded Reber -------------------------------------------------------------------

# An independent acceptor: the Reber language as a regular expression, the embedding
# checked with a back-reference.
_INNER = r"B(?:TS*X(?:S|XT*V(?:PXT*V)*(?:V|PS))|PT*V(?:PXT*V)*(?:V|PS))E"
_EMBEDDED = re.compile(rf"B([TP]){_INNER}\1E")


def _decode(batch: Batch, i: int) -> str:
    steps = batch.inputs[i, : batch.lengths[i]].argmax(dim=-1).tolist()
    return "".join(REBER_SYMBOLS[s] for s in steps) + "E"


def test_acceptor_itself_on_known_strings():
    for good in ("BTSSXXTVVE", "BPVVE", "BTXXVPSE", "BPVPXVPXVPXVVE", "BTSXXVPSE"):
        assert _EMBEDDED.fullmatch("BT" + good + "TE")
    for bad in ("BTSSPXSE", "BPTVVB", "BTXXVVSE", "BPVSPSE", "BTSSSE"):
        assert not _EMBEDDED.fullmatch("BT" + bad + "TE")
    assert not _EMBEDDED.fullmatch("BTBPVVEPE")


def test_reber_strings_are_accepted_and_targets_are_legal_next_sets():
    batch = embedded_reber(400, gen(10))
    n, t_max, f = batch.inputs.shape
    assert f == 7 and batch.targets.shape == (n, t_max, 7)
    assert torch.equal(batch.target_mask, torch.arange(t_max) < batch.lengths[:, None])
    strings = [_decode(batch, i) for i in range(n)]
    assert all(_EMBEDDED.fullmatch(s) for s in strings)
    assert {s[1] for s in strings} == {"T", "P"}
    assert min(len(s) for s in strings) == 9
    for i, s in enumerate(strings):
        k = batch.lengths[i]
        assert (batch.inputs[i, k:] == 0).all() and (batch.targets[i, k:] == 0).all()
        legal = batch.targets[i, :k] > 0.5
        # The actual next symbol is always legal; at most two choices; the step before
        # the second outer symbol has only that symbol.
        nxt = torch.tensor([REBER_SYMBOLS.index(c) for c in s[1:]])
        assert legal[torch.arange(k), nxt].all()
        assert legal.sum(dim=-1).le(2).all()
        assert legal[k - 2].nonzero().flatten().tolist() == [REBER_SYMBOLS.index(s[1])]
    # The full sets, on hand-made tables.
    table = [set(x) for x in reber_legal_next("BTBPVVETE")]
    assert table == [{"T", "P"}, {"B"}, {"T", "P"}, {"T", "V"}, {"P", "V"}, {"E"}, {"T"}, {"E"}]
    table = [set(x) for x in reber_legal_next("BPBTSXSEPE")]
    assert table == [
        {"T", "P"}, {"B"}, {"T", "P"}, {"S", "X"}, {"S", "X"}, {"S", "X"}, {"E"}, {"P"}, {"E"},
    ]


def test_reber_legal_next_rejects_bad_strings():
    for bad in ("BTBPVVEPE", "BTBPVSETE", "BTBTSSSETE", "BPVVE"):
        with pytest.raises(ValueError, match="not an embedded Reber string"):
            reber_legal_next(bad)


def test_reber_max_length_and_error():
    batch = embedded_reber(200, gen(11), max_length=10)
    assert batch.lengths.max() <= 9
    with pytest.raises(ValueError, match="max_length"):
        embedded_reber(2, gen(11), max_length=8)


def test_reber_solved_criteria():
    batch = embedded_reber(3, gen(12))
    legal = batch.targets
    assert reber_solved(legal, batch).all()
    assert reber_solved(legal, batch, criterion="threshold").all()
    # Legal outputs 0.4, others 0.1: the paper's criterion (most active) holds, the 0.5
    # threshold does not.
    soft = legal * 0.4 + (1 - legal) * 0.1
    assert reber_solved(soft, batch).all()
    assert not reber_solved(soft, batch, criterion="threshold").any()
    # An illegal symbol as active as a legal one fails both, at one step only.
    tie = legal.clone()
    illegal = (legal[0, 0] == 0).nonzero()[0, 0]
    tie[0, 0, illegal] = 1.0
    assert reber_solved(tie, batch).tolist() == [False, True, True]
    assert reber_solved(tie, batch, criterion="threshold").tolist() == [False, True, True]
    # Garbage on padded steps is ignored.
    padded = legal.clone()
    assert not batch.target_mask.all()  # the strings differ in length
    padded[~batch.target_mask] = 1.0
    assert reber_solved(padded, batch).all()
    assert reber_solved(padded, batch, criterion="threshold").all()


# --- noise-free long lag --------------------------------------------------------------


def test_long_lag_sequences_and_last_target():
    p = 12
    batch = long_lag(1000, p, gen(13))
    assert batch.inputs.shape == (1000, p, p + 1) and batch.targets.shape == (1000, p)
    assert batch.target_mask.all()
    symbols = batch.inputs.argmax(dim=-1)
    assert (batch.inputs.sum(dim=-1) == 1).all()
    assert set(symbols[:, 0].tolist()) == {p - 1, p}  # x or y
    assert torch.equal(symbols[:, 1:], torch.arange(p - 1).expand(1000, p - 1))
    assert torch.equal(batch.targets[:, -1], symbols[:, 0])  # the last target: the first symbol
    assert torch.equal(batch.targets[:, :-1], symbols[:, 1:])  # next-symbol targets
    assert abs((symbols[:, 0] == p).float().mean().item() - 0.5) < 0.06


def test_long_lag_solved_and_baseline():
    p = 5
    batch = long_lag(4, p, gen(14))
    scores = torch.nn.functional.one_hot(batch.targets, p + 1).float()
    assert long_lag_solved(scores, batch).all()
    wrong_early = scores.clone()
    wrong_early[:, 0] = wrong_early[:, 0].flip(-1)  # only the last step is read
    assert long_lag_solved(wrong_early, batch).all()
    wrong_last = scores.clone()
    wrong_last[0, -1] = 0.0
    wrong_last[0, -1, (2 * p - 1) - batch.targets[0, -1]] = 1.0  # the other of x, y
    assert long_lag_solved(wrong_last, batch).tolist() == [False, True, True, True]
    # The memoryless predictor: sure of every step but the last, 1/2 on x and y there.
    probs = scores.clone()
    probs[:, -1] = 0.0
    probs[:, -1, p - 1 :] = 0.5
    ce = -(probs.gather(-1, batch.targets[..., None]).log()).mean().item()
    assert ce == pytest.approx(long_lag_baseline(p))


# --- copy memory ----------------------------------------------------------------------


def test_copy_memory_layout():
    t = 15
    batch = copy_memory(500, t, gen(15))
    assert batch.inputs.shape == (500, t + 20, 10) and batch.targets.shape == (500, t + 20)
    symbols = batch.inputs.argmax(dim=-1)
    data = symbols[:, :10]
    assert data.min() == 1 and data.max() == 8
    assert (symbols[:, 10 : t + 9] == 0).all() and (symbols[:, t + 9] == 9).all()
    assert (symbols[:, t + 10 :] == 0).all()
    assert (batch.targets[:, : t + 10] == 0).all()
    assert torch.equal(batch.targets[:, -10:], data)
    counts = torch.bincount(data.flatten(), minlength=9)[1:].float()
    assert counts.min() > 0.85 * counts.mean()


def test_copy_memory_baseline_is_memoryless_cross_entropy():
    t = 30
    batch = copy_memory(200, t, gen(16))
    logits = torch.full((200, t + 20, 10), -1e9)
    logits[:, : t + 10, 0] = 0.0  # sure of the blanks
    logits[:, t + 10 :, 1:9] = 0.0  # uniform over the 8 data symbols
    ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.targets).item()
    assert ce == pytest.approx(copy_memory_baseline(t), rel=1e-6)
    assert copy_memory_baseline(t) == pytest.approx(10 * math.log(8) / 50)


def test_copy_memory_solved():
    batch = copy_memory(3, 5, gen(17))
    scores = torch.nn.functional.one_hot(batch.targets, 10).float()
    assert copy_memory_solved(scores, batch).all()
    scores[1, -1] = scores[1, -1].roll(1)
    assert copy_memory_solved(scores, batch).tolist() == [True, False, True]


# --- registry and errors --------------------------------------------------------------


def test_problems_registry_generates_every_problem():
    assert set(PROBLEMS) == {
        "adding", "multiplication", "temporal-order-4", "temporal-order-8", "reber",
        "long-lag", "copy-memory",
    }
    for name, problem in PROBLEMS.items():
        length = 40 if name != "reber" else 30
        a = problem.generate(8, length, gen(18))
        b = problem.generate(8, length, gen(18))
        assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets), name
        assert a.inputs.dtype == torch.float32 and a.inputs.shape[0] == 8, name
        if problem.baseline is not None:
            assert problem.baseline(length) > 0
    assert PROBLEMS["temporal-order-8"].generate(8, 40, gen(0)).targets.max() < 8


@pytest.mark.parametrize("call, match", [
    (lambda: multiplication(2, 5, gen()), "length must be at least 6"),
    (lambda: temporal_order(2, gen(), classes=4, length=10), "length 10 is too short"),
    (lambda: temporal_order(2, gen(), classes=8, length=14), "use length >= 15"),
    (lambda: temporal_order(2, gen(), classes=5), "classes must be 4 or 8"),
    (lambda: long_lag(2, 1, gen()), "lag"),
    (lambda: copy_memory(2, 0, gen()), "delay T"),
    (lambda: copy_memory_baseline(0), "length"),
    (lambda: copy_memory(0, 5, gen()), "n must be"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_criterion_and_row_mismatch():
    batch = temporal_order(3, gen(), classes=4)
    with pytest.raises(ValueError, match="criterion"):
        temporal_order_solved(torch.zeros(3, 4), batch, criterion="loose")
    with pytest.raises(ValueError, match="prediction has 2 rows"):
        temporal_order_solved(torch.zeros(2, 4), batch)
