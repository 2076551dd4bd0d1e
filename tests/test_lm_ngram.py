"""Interpolated Kneser–Ney character model: pinned against hand-computed values and an
independent brute-force evaluation of the equations straight from the training text."""

from __future__ import annotations

import functools
import math
import random
from fractions import Fraction

import pytest

from lstmkit.tasks.lm.ngram import UNKNOWN, KneserNeyCharModel

PANGRAMS = (
    "the quick brown fox jumps over the lazy dog. pack my box with five dozen liquor jugs!\n"
    "how vexingly quick daft zebras jump; the five boxing wizards jump quickly.\n"
    "the quick brown fox jumps over the lazy cat. the dog sleeps.\n"
)


# ----------------------------------------------------------------------------------------
# Independent reference: every quantity recomputed by scanning the text, no shared tables.


def _occurrences(text: str, gram: str) -> list[int]:
    return [i for i in range(len(text) - len(gram) + 1) if text.startswith(gram, i)]


@functools.cache
def _a(text: str, order: int, gram: str) -> int:
    """Raw count at the top order, continuation count (distinct predecessors) below."""
    starts = _occurrences(text, gram)
    if len(gram) == order:
        return len(starts)
    return len({text[i - 1] for i in starts if i >= 1})


def _reference_discounts(text: str, order: int) -> list[float]:
    out = []
    for k in range(1, order + 1):
        grams = {text[i:i + k] for i in range(len(text) - k + 1)}
        values = [_a(text, order, g) for g in grams]
        n1, n2 = values.count(1), values.count(2)
        out.append(0.5 if n1 == 0 else n1 / (n1 + 2 * n2))
    return out


def _reference_prob(text, order, discounts, w, context):
    vocab = sorted(set(text))
    uniform = 1.0 / (len(vocab) + 1)

    def p(k, h, w):
        if k == 0:
            return uniform
        counts = {v: _a(text, order, h + v) for v in vocab}
        total = sum(counts.values())
        if total == 0:
            return p(k - 1, h[1:], w)
        types = sum(1 for c in counts.values() if c > 0)
        d = discounts[k - 1]
        c = counts.get(w, 0)  # unknown characters: 0
        return max(c - d, 0) / total + d * types / total * p(k - 1, h[1:], w)

    top = min(order, len(context) + 1)
    return p(top, context[len(context) - (top - 1):] if top > 1 else "", w)


# ----------------------------------------------------------------------------------------
# Hand-computed values (fractions worked out on paper from the equations).


def test_abracadabra_order_2_by_hand():
    m = KneserNeyCharModel(2, discount=0.5).fit("abracadabra")
    assert m.vocabulary == ["a", "b", "c", "d", "r"]
    # continuation unigrams a:3 ({r,c,d}) b,c,d,r:1 -> total 7, 5 types, uniform 1/6
    assert m.prob("a", "") == pytest.approx(5 / 12, abs=1e-15)
    assert m.prob("b", "") == pytest.approx(11 / 84, abs=1e-15)
    assert m.prob(UNKNOWN, "") == pytest.approx(5 / 84, abs=1e-15)
    # history a: ab:2 ac:1 ad:1 -> (2-.5)/4 + .5*3/4 * 11/84
    assert m.prob("b", "a") == pytest.approx(95 / 224, abs=1e-15)
    assert m.prob("b", "xyza") == pytest.approx(95 / 224, abs=1e-15)  # only the last char
    # history r: ra:2 -> 1.5/2 + .5/2 * 5/12
    assert m.prob("a", "r") == pytest.approx(41 / 48, abs=1e-15)
    assert m.prob("z", "a") == pytest.approx(5 / 224, abs=1e-15)
    assert m.distribution("a")[UNKNOWN] == pytest.approx(5 / 224, abs=1e-15)


def test_abracadabra_order_3_by_hand():
    m = KneserNeyCharModel(3, discount=0.5).fit("abracadabra")
    # order 1: continuation unigrams as above; order 2: continuation bigrams, all 1
    # (ab's first occurrence has no predecessor); order 3: raw trigrams abr:2 bra:2, rest 1.
    p1_b = 11 / 84
    p2_b_a = Fraction(1, 6) + Fraction(11, 168)  # 0.5/3 + 0.5*3/3 * 11/84 = 13/56
    assert p2_b_a == Fraction(13, 56)
    assert m.prob("b", "") == pytest.approx(p1_b, abs=1e-15)
    assert m.prob("b", "a") == pytest.approx(13 / 56, abs=1e-15)  # short context: order 2
    assert m.prob("b", "xa") == pytest.approx(13 / 56, abs=1e-15)  # "xa" unseen: order 2
    assert m.prob("r", "b") == pytest.approx(95 / 168, abs=1e-15)
    assert m.prob("a", "r") == pytest.approx(17 / 24, abs=1e-15)
    assert m.prob("r", "ab") == pytest.approx(599 / 672, abs=1e-15)  # 1.5/2 + 1/4 * 95/168
    assert m.prob("a", "br") == pytest.approx(89 / 96, abs=1e-15)  # 1.5/2 + 1/4 * 17/24
    assert m.prob("c", "ra") == pytest.approx(69 / 112, abs=1e-15)  # .5 + .5 * 13/56
    assert m.prob("b", "ra") == pytest.approx(13 / 112, abs=1e-15)  # 0 + .5 * 13/56
    assert m.prob(UNKNOWN, "ab") == pytest.approx(5 / 672, abs=1e-15)  # 1/4 * 1/2 * 5/84
    assert m.prob("q", "ab") == pytest.approx(5 / 672, abs=1e-15)


def test_abracadabra_estimated_discounts_by_hand():
    m = KneserNeyCharModel(3).fit("abracadabra")
    # order 1 continuation 3,1,1,1,1 -> 4/(4+0); order 2 all seven 1 -> 1; order 3
    # raw 2,2,1,1,1,1,1 -> 5/(5+4)
    assert m.discounts == pytest.approx([1.0, 1.0, 5 / 9], abs=1e-15)
    m2 = KneserNeyCharModel(2).fit("abracadabra")
    # order 2 raw bigrams ab:2 br:2 ra:2 ac ca ad da:1 -> 4/(4+6)
    assert m2.discounts == pytest.approx([1.0, 0.4], abs=1e-15)


def test_order_1_model_is_raw_unigram_plus_uniform_by_hand():
    m = KneserNeyCharModel(1, discount=0.5).fit("abracadabra")
    # raw counts a5 b2 r2 c1 d1 -> total 11, 5 types; uniform 1/6
    assert m.prob("a", "whatever") == pytest.approx(59 / 132, abs=1e-15)
    assert m.prob("c", "") == pytest.approx(1 / 12, abs=1e-15)
    assert m.prob("z", "") == pytest.approx(5 / 132, abs=1e-15)


def test_discount_fallback_when_no_singletons():
    # every bigram occurs many times: n1 = n2 = 0 -> 0.5; order-1 continuation
    # counts are all 1 (one predecessor each) -> 1.
    m = KneserNeyCharModel(2).fit("ab" * 50)
    assert m.discounts == [1.0, 0.5]
    # n1 = 0 < n2: the formula would give 0; the documented fallback is 0.5 too
    m = KneserNeyCharModel(1).fit("aabb")
    assert m.discounts == [0.5]
    assert m.prob("z", "") > 0


# ----------------------------------------------------------------------------------------
# Brute-force comparison over many contexts, orders and texts.


def _contexts(text: str, rng: random.Random, n: int = 25) -> list[str]:
    out = ["", "q", "zz~", text[:1], text[:3], text[-4:], "#" + text[5:7], "x?"]
    for _ in range(n):
        i = rng.randrange(len(text))
        out.append(text[max(0, i - rng.randrange(0, 8)):i])
    return out


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("discount", [None, 0.3, 0.75])
@pytest.mark.parametrize(
    "text", ["abracadabra", "mississippi river, miss!", PANGRAMS[:90]],
    ids=["abracadabra", "mississippi", "pangram"],
)
def test_prob_matches_brute_force(order, discount, text):
    m = KneserNeyCharModel(order, discount=discount).fit(text)
    discounts = (
        _reference_discounts(text, order) if discount is None else [discount] * order
    )
    assert m.discounts == pytest.approx(discounts, abs=1e-15)
    rng = random.Random(order)
    for context in _contexts(text, rng, n=12):
        for w in m.vocabulary + ["Q"]:
            expected = _reference_prob(text, order, discounts, w, context)
            assert m.prob(w, context) == pytest.approx(expected, rel=1e-12, abs=1e-15), (
                w, context,
            )
        dist = m.distribution(context)
        for w in m.vocabulary:
            assert dist[w] == pytest.approx(m.prob(w, context), rel=1e-12, abs=1e-15)
        assert dist[UNKNOWN] == pytest.approx(
            _reference_prob(text, order, discounts, "Q", context), rel=1e-12, abs=1e-15
        )


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("discount", [None, 0.1, 0.9])
def test_distribution_sums_to_one(order, discount):
    m = KneserNeyCharModel(order, discount=discount).fit(PANGRAMS)
    rng = random.Random(0)
    contexts = _contexts(PANGRAMS, rng, n=60) + ["the quick brown fox jumps", "\n", "xyz"]
    for context in contexts:
        dist = m.distribution(context)
        assert set(dist) == set(m.vocabulary) | {UNKNOWN}
        assert all(p > 0 for p in dist.values())
        assert math.fsum(dist.values()) == pytest.approx(1.0, abs=1e-9)


def test_order_1_of_a_higher_model_is_continuation_unigram_plus_uniform():
    text = PANGRAMS
    m = KneserNeyCharModel(4, discount=0.6).fit(text)
    vocab = sorted(set(text))
    cont = {w: len({text[i - 1] for i in _occurrences(text, w) if i >= 1}) for w in vocab}
    total, types = sum(cont.values()), sum(1 for c in cont.values() if c > 0)
    uniform = 1 / (len(vocab) + 1)
    expected = {w: max(cont[w] - 0.6, 0) / total + 0.6 * types / total * uniform for w in vocab}
    expected[UNKNOWN] = 0.6 * types / total * uniform
    # the history's last character is unknown: every higher order is unseen
    for context in ["", "@", "the quick@"]:
        dist = m.distribution(context)
        for w, p in expected.items():
            assert dist[w] == pytest.approx(p, rel=1e-12)
    # and that is not what raw unigram counts would give (the check can tell them apart)
    raw = {w: text.count(w) for w in vocab}
    raw_total = sum(raw.values())
    raw_based = {
        w: max(raw[w] - 0.6, 0) / raw_total + 0.6 * len(vocab) / raw_total * uniform
        for w in vocab
    }
    assert max(abs(raw_based[w] - expected[w]) for w in vocab) > 1e-3


def test_text_shorter_than_order():
    m = KneserNeyCharModel(4).fit("a")
    assert m.vocabulary == ["a"]
    # no n-gram of any order fits in one character: uniform over {a, <unk>}
    assert m.distribution("aaa") == pytest.approx({"a": 0.5, UNKNOWN: 0.5})
    m = KneserNeyCharModel(5).fit("abc")
    for context in ["", "a", "ab", "abc", "zab"]:
        assert math.fsum(m.distribution(context).values()) == pytest.approx(1.0, abs=1e-12)
        for w in "abcz":
            assert m.prob(w, context) == pytest.approx(
                _reference_prob("abc", 5, m.discounts, w, context), rel=1e-12
            )


# ----------------------------------------------------------------------------------------
# bits per character


def test_bits_per_char_is_mean_negative_log2_prob():
    m = KneserNeyCharModel(3).fit(PANGRAMS)
    text, context = "the lazy fox~ jumps", "over "
    full = context + text
    expected = -sum(
        math.log2(m.prob(full[i], full[:i])) for i in range(len(context), len(full))
    ) / len(text)
    assert m.bits_per_char(text, context=context) == pytest.approx(expected, rel=1e-12)
    # without context the first characters use the shorter histories
    expected0 = -sum(math.log2(m.prob(text[i], text[:i])) for i in range(len(text))) / len(text)
    assert m.bits_per_char(text) == pytest.approx(expected0, rel=1e-12)
    assert m.bits_per_char(text) != pytest.approx(expected, rel=1e-6)


def test_bits_per_char_repetitive_text_is_low():
    text = "abcdefg" * 300
    for order in (2, 3, 5):
        bpc = KneserNeyCharModel(order).fit(text).bits_per_char(text)
        assert 0 < bpc < 0.05, (order, bpc)


def test_bits_per_char_random_text_is_near_uniform():
    rng = random.Random(0)
    alphabet = "abcdefghij"
    train = "".join(rng.choice(alphabet) for _ in range(20000))
    test = "".join(rng.choice(alphabet) for _ in range(5000))
    for order in (1, 2, 3):
        bpc = KneserNeyCharModel(order).fit(train).bits_per_char(test)
        # close to the entropy log2(10) and the no-information bound log2(V + 1)
        assert math.log2(10) - 0.05 < bpc < math.log2(11) + 0.1, (order, bpc)
    # a model that knows nothing about the contexts: exactly uniform over V + 1
    m = KneserNeyCharModel(3).fit("k")
    assert m.bits_per_char("kkk") == pytest.approx(1.0)
    assert m.bits_per_char("zzz") == pytest.approx(1.0)


def test_unknown_characters_get_the_unknown_mass():
    m = KneserNeyCharModel(3).fit(PANGRAMS)
    assert "@" not in m.vocabulary
    for context in ["", "th", "the ", "@@", "qu"]:
        p_unknown = m.distribution(context)[UNKNOWN]
        assert 0 < p_unknown < 0.05
        assert m.prob("@", context) == pytest.approx(p_unknown, rel=1e-14)
        assert m.prob("%", context) == pytest.approx(p_unknown, rel=1e-14)
        assert m.prob(UNKNOWN, context) == pytest.approx(p_unknown, rel=1e-14)
        assert m.bits_per_char("@", context) == pytest.approx(-math.log2(p_unknown), rel=1e-12)


# ----------------------------------------------------------------------------------------
# arguments


@pytest.mark.parametrize("order, error", [
    (0, ValueError), (-2, ValueError), (2.0, TypeError), ("3", TypeError), (True, TypeError),
    (None, TypeError),
])
def test_bad_order(order, error):
    with pytest.raises(error, match="order"):
        KneserNeyCharModel(order)


@pytest.mark.parametrize("discount, error", [
    (0.0, ValueError), (1.0, ValueError), (1.5, ValueError), (-0.2, ValueError),
    (float("nan"), ValueError), ("0.5", TypeError), (True, TypeError),
])
def test_bad_discount(discount, error):
    with pytest.raises(error, match="discount"):
        KneserNeyCharModel(3, discount=discount)


def test_bad_calls():
    m = KneserNeyCharModel(3)
    with pytest.raises(RuntimeError, match="fit"):
        m.prob("a", "")
    with pytest.raises(ValueError, match="empty"):
        m.fit("")
    m.fit("hello world")
    with pytest.raises(ValueError, match="char"):
        m.prob("ab", "")
    with pytest.raises(ValueError, match="empty"):
        m.bits_per_char("")
    with pytest.raises(TypeError, match="context"):
        m.distribution(None)
    assert m.fit("hello") is m
