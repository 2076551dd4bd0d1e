"""Next-token sampling: temperature, top-k, top-p (nucleus), greedy, reproducibility."""

from __future__ import annotations

import math

import pytest
import torch

from lstmkit.tasks.lm.sampling import check_sampling, filter_logits, sample_next

PROBS = [0.5, 0.3, 0.15, 0.05]


def _distinct_logits(rows: int, vocab: int, seed: int = 0) -> torch.Tensor:
    """Logits without ties: a random permutation of evenly spaced values per row."""
    g = torch.Generator().manual_seed(seed)
    values = torch.linspace(-3.0, 3.0, vocab, dtype=torch.float64)
    return torch.stack([values[torch.randperm(vocab, generator=g)] for _ in range(rows)])


def _kept(filtered: torch.Tensor) -> torch.Tensor:
    return torch.isfinite(filtered)


# ----------------------------------------------------------------------------------------
# top-k


@pytest.mark.parametrize("k", [1, 2, 5, 9, 10, 50])
def test_top_k_keeps_exactly_the_k_largest(k):
    logits = _distinct_logits(6, 10)
    out = filter_logits(logits, top_k=k)
    kept = _kept(out)
    assert kept.sum(-1).tolist() == [min(k, 10)] * 6
    for row in range(6):
        top = set(logits[row].topk(min(k, 10)).indices.tolist())
        assert set(kept[row].nonzero().flatten().tolist()) == top
    assert torch.equal(out[kept], logits[kept])  # kept values untouched at T = 1


def test_top_k_with_temperature_divides_kept_logits():
    logits = _distinct_logits(3, 7)
    out = filter_logits(logits, temperature=0.5, top_k=3)
    kept = _kept(out)
    assert kept.sum(-1).tolist() == [3, 3, 3]
    torch.testing.assert_close(out[kept], logits[kept] / 0.5)


# ----------------------------------------------------------------------------------------
# top-p


@pytest.mark.parametrize("top_p, n_kept", [
    (0.01, 1), (0.4, 1), (0.5, 1), (0.51, 2), (0.7, 2), (0.8, 2), (0.81, 3), (0.95, 3),
    (0.951, 4), (1.0, 4),
])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_top_p_keeps_the_minimal_nucleus(top_p, n_kept, dtype):
    probs = torch.tensor(PROBS, dtype=torch.float64)
    perm = torch.tensor([2, 0, 3, 1])  # shuffled so the sort has to be undone
    logits = probs[perm].log().to(dtype)
    out = filter_logits(logits, top_p=top_p)
    kept = _kept(out)
    # the n_kept most probable tokens, wherever they sit
    expected = torch.zeros(4, dtype=torch.bool)
    expected[perm.argsort()[:n_kept]] = True  # position of PROBS[0], PROBS[1], ...
    assert torch.equal(kept, expected), (top_p, kept)
    assert torch.equal(out[kept], logits[kept])


def test_top_p_applies_after_temperature_and_top_k():
    logits = torch.tensor(PROBS, dtype=torch.float64).log()
    # top-k 2 renormalises to 0.625 / 0.375: top-p 0.6 keeps 1, 0.63 keeps 2
    assert _kept(filter_logits(logits, top_k=2, top_p=0.6)).sum() == 1
    assert _kept(filter_logits(logits, top_k=2, top_p=0.63)).sum() == 2
    # temperature 2 flattens: sqrt-probabilities, normalised
    tempered = torch.softmax(logits / 2, -1)
    for top_p in (0.3, 0.5, 0.7, 0.9, 0.97):
        cumulative = tempered.cumsum(-1)
        n_expected = int((cumulative < top_p).sum()) + 1
        out = filter_logits(logits, temperature=2.0, top_p=top_p)
        assert int(_kept(out).sum()) == n_expected, top_p
        assert _kept(out)[:n_expected].all()


def test_top_p_batched_rows_are_independent():
    probs = torch.tensor([PROBS, [0.05, 0.15, 0.3, 0.5], [0.25] * 4], dtype=torch.float64)
    out = filter_logits(probs.log()[None].expand(2, 3, 4), top_p=0.7)
    assert out.shape == (2, 3, 4)
    kept = _kept(out)
    assert kept[0].tolist() == [
        [True, True, False, False], [False, False, True, True], [True, True, True, False],
    ]
    assert torch.equal(kept[0], kept[1])


def test_top_p_one_keeps_even_the_tiniest_tail():
    logits = torch.tensor([[0.0, -30.0, -25.0, 2.0], [5.0, -40.0, -float("inf"), 0.0]])
    out = filter_logits(logits, top_p=1.0)
    assert torch.equal(_kept(out), torch.isfinite(logits))
    assert torch.equal(out, logits)


def test_top_p_always_keeps_the_most_probable():
    logits = torch.tensor([[0.0, 5.0, 1.0], [9.0, 2.0, 3.0]])
    out = filter_logits(logits, top_p=1e-9)
    assert _kept(out).tolist() == [[False, True, False], [True, False, False]]


# ----------------------------------------------------------------------------------------
# sampling


def test_samples_stay_in_the_kept_set():
    logits = _distinct_logits(1, 12, seed=3)[0].float()
    for options in ({"top_k": 4}, {"top_p": 0.6}, {"top_k": 6, "top_p": 0.9, "temperature": 1.7}):
        kept = _kept(filter_logits(logits, **options))
        g = torch.Generator().manual_seed(0)
        draws = sample_next(logits.expand(4000, 12), g, **options)
        assert draws.shape == (4000,) and draws.dtype == torch.long
        assert kept[draws].all(), options
        # and every kept token does come up
        assert set(draws.tolist()) == set(kept.nonzero().flatten().tolist()), options


def test_same_seed_same_samples():
    logits = torch.randn(5, 30)
    draws = [
        sample_next(logits, torch.Generator().manual_seed(7), temperature=0.9, top_p=0.95)
        for _ in range(2)
    ]
    assert torch.equal(draws[0], draws[1])
    sequences = [
        [int(sample_next(logits[0], g)) for _ in range(50)]
        for g in (torch.Generator().manual_seed(1), torch.Generator().manual_seed(1),
                  torch.Generator().manual_seed(2))
    ]
    assert sequences[0] == sequences[1]
    assert sequences[0] != sequences[2]


def test_temperature_zero_is_argmax():
    logits = torch.randn(3, 4, 25)
    expected = logits.argmax(-1)
    g = torch.Generator().manual_seed(0)
    got = sample_next(logits, g, temperature=0, top_k=3, top_p=0.1)
    assert got.shape == (3, 4) and got.dtype == torch.long
    assert torch.equal(got, expected)
    assert torch.equal(sample_next(logits, temperature=0.0), expected)
    filtered = filter_logits(logits, temperature=0)
    assert _kept(filtered).sum(-1).eq(1).all()
    assert torch.equal(filtered.argmax(-1), expected)


def test_single_row_shape():
    out = sample_next(torch.tensor([0.0, 1.0, -1.0]), torch.Generator().manual_seed(0))
    assert out.shape == () and 0 <= int(out) < 3


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_temperature_matches_softmax_of_scaled_logits(temperature):
    logits = torch.tensor([2.0, 1.0, 0.5, -1.0, 0.0], dtype=torch.float64)
    expected = torch.softmax(logits / temperature, -1)
    filtered = filter_logits(logits, temperature=temperature)
    torch.testing.assert_close(torch.softmax(filtered, -1), expected, rtol=1e-12, atol=1e-12)
    n = 40000
    draws = sample_next(logits.expand(n, 5), torch.Generator().manual_seed(0),
                        temperature=temperature)
    frequencies = torch.bincount(draws, minlength=5).double() / n
    # 4.5 binomial standard deviations at n = 40000
    tolerance = 4.5 * torch.sqrt(expected * (1 - expected) / n) + 1e-4
    assert ((frequencies - expected).abs() <= tolerance).all(), (frequencies, expected)
    # sharpening: lower temperature puts more mass on the argmax
    if temperature < 1:
        assert expected[0] > torch.softmax(logits, -1)[0]


# ----------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize("kwargs, error, name", [
    ({"temperature": -0.1}, ValueError, "--temperature"),
    ({"temperature": math.inf}, ValueError, "--temperature"),
    ({"temperature": math.nan}, ValueError, "--temperature"),
    ({"temperature": "1"}, TypeError, "--temperature"),
    ({"temperature": None}, TypeError, "--temperature"),
    ({"temperature": True}, TypeError, "--temperature"),
    ({"top_k": 0}, ValueError, "--top-k"),
    ({"top_k": -3}, ValueError, "--top-k"),
    ({"top_k": 2.0}, TypeError, "--top-k"),
    ({"top_k": True}, TypeError, "--top-k"),
    ({"top_p": 0.0}, ValueError, "--top-p"),
    ({"top_p": 1.5}, ValueError, "--top-p"),
    ({"top_p": -0.5}, ValueError, "--top-p"),
    ({"top_p": math.nan}, ValueError, "--top-p"),
    ({"top_p": "0.9"}, TypeError, "--top-p"),
])
def test_validation(kwargs, error, name):
    options = {"temperature": 1.0, "top_k": None, "top_p": None, **kwargs}
    value = next(iter(kwargs.values()))
    with pytest.raises(error, match=name) as info:
        check_sampling(options["temperature"], options["top_k"], options["top_p"])
    message = str(info.value)
    assert "expected" in message and f"got {value!r}" in message
    with pytest.raises(error, match=name):
        sample_next(torch.zeros(3), **kwargs)
    with pytest.raises(error, match=name):
        filter_logits(torch.zeros(3), **kwargs)


def test_valid_options_pass():
    for temperature, top_k, top_p in [(0, None, None), (1, 1, 1), (0.7, 40, 0.9), (2.0, None, 1e-3)]:
        assert check_sampling(temperature, top_k, top_p) is None


def test_bad_logits():
    with pytest.raises(TypeError, match="floating"):
        filter_logits(torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="shape"):
        sample_next(torch.tensor(1.0))
