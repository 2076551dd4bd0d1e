"""Edit distance, PER and WER of `lstmkit.tasks.seq2seq.metrics` on hand-computed cases."""

from __future__ import annotations

import random

import pytest

from lstmkit.tasks.seq2seq.metrics import edit_distance, error_rates


def _levenshtein(a, b) -> int:
    """The textbook dynamic programme, independent of the library's rapidfuzz call."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


# --- edit distance ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "hypothesis", "distance"),
    [
        ("kitten", "sitting", 3),  # k->s, e->i, +g
        (list("kitten"), tuple("sitting"), 3),
        (["AE", "B", "IY"], ["AE", "B", "IY"], 0),
        (["AE", "B", "IY"], ["AE", "P", "IY"], 1),  # substitution
        (["AE", "B", "IY"], ["AE", "B", "B", "IY"], 1),  # insertion
        (["AE", "B", "IY"], ["AE", "IY"], 1),  # deletion
        (["AE", "B"], ["B", "AE"], 2),  # a transposition is two edits, not one
        ([], [], 0),
        ([], ["K", "AE", "T"], 3),
        (["K", "AE", "T"], [], 3),
        # Tokens compare whole: joined as characters these would be equal ("AHB").
        (["AH", "B"], ["A", "HB"], 2),
    ],
)
def test_edit_distance_on_hand_computed_cases(reference, hypothesis, distance):
    assert edit_distance(reference, hypothesis) == distance
    assert edit_distance(hypothesis, reference) == distance
    assert isinstance(edit_distance(reference, hypothesis), int)


def test_edit_distance_matches_the_textbook_recurrence_on_random_sequences():
    rng = random.Random(7)
    alphabet = ["AA", "AE", "B", "K", "T"]
    for _ in range(200):
        a = [rng.choice(alphabet) for _ in range(rng.randrange(0, 9))]
        b = [rng.choice(alphabet) for _ in range(rng.randrange(0, 9))]
        assert edit_distance(a, b) == _levenshtein(a, b), (a, b)


# --- error rates --------------------------------------------------------------------

# Hand-computed: (references, hypothesis, distance to the closest reference, its length)
TOY = [
    # two pronunciations; the hypothesis is the second one exactly (first would cost 1)
    ([["R", "EH", "D"], ["R", "IY", "D"]], ["R", "IY", "D"], 0, 3),
    # one substitution
    ([["K", "AE", "T"]], ["K", "AH", "T"], 1, 3),
    # two insertions
    ([["AE", "B", "IY"]], ["AE", "B", "IY", "IY", "IY"], 2, 3),
    # the closest reference is the second and longer one: d([EY], h) = 3, d([AE N D], h) = 1
    ([["EY"], ["AE", "N", "D"]], ["AH", "N", "D"], 1, 3),
]


def test_error_rates_on_a_hand_computed_toy_set():
    references = [entry[0] for entry in TOY]
    hypotheses = [entry[1] for entry in TOY]
    rates = error_rates(references, hypotheses)
    # errors 0 + 1 + 2 + 1 = 4 over lengths 3 + 3 + 3 + 3 = 12; words 2, 3, 4 are wrong.
    assert rates == {"per": pytest.approx(4 / 12), "wer": 0.75, "words": 4, "phonemes": 12}
    # (Always scoring against the first reference would give (1 + 1 + 2 + 3) / (3+3+3+1) = 0.7.)


def test_ties_keep_the_first_reference():
    # d([A], [A B]) = 1 = d([A B C], [A B]); the first (length 1) is chosen: PER = 1/1.
    assert error_rates([[["A"], ["A", "B", "C"]]], [["A", "B"]])["per"] == 1.0
    # The other order chooses the length-3 reference: PER = 1/3.
    assert error_rates([[["A", "B", "C"], ["A"]]], [["A", "B"]])["per"] == pytest.approx(1 / 3)


def test_perfect_outputs_and_per_above_one():
    perfect = error_rates([[("K", "AE", "T")], [["R", "EH", "D"], ("R", "IY", "D")]],
                          [["K", "AE", "T"], ("R", "EH", "D")])
    assert perfect == {"per": 0.0, "wer": 0.0, "words": 2, "phonemes": 6}
    # Three edits against a one-phoneme reference: PER 300 %.
    babble = error_rates([[["A"]]], [["B", "C", "D"]])
    assert babble == {"per": 3.0, "wer": 1.0, "words": 1, "phonemes": 1}


def test_error_rates_bad_input():
    with pytest.raises(ValueError, match="2 references and 1 hypotheses"):
        error_rates([[["A"]], [["B"]]], [["A"]])
    with pytest.raises(ValueError, match="references is empty"):
        error_rates([], [])
    with pytest.raises(ValueError, match=r"references\[1\] holds no reference sequences"):
        error_rates([[["A"]], []], [["A"], ["B"]])
    with pytest.raises(ValueError, match="total length 0"):
        error_rates([[[]], [[]]], [["A"], []])
    # One pronunciation where a list of pronunciations was expected.
    with pytest.raises(TypeError, match=r"references\[0\]\[0\] .* got the string 'K'; "
                                        r"references\[0\] is a list of references"):
        error_rates([["K", "AE", "T"]], [["K", "AE", "T"]])
    with pytest.raises(TypeError, match=r"references\[0\] must be a list .* string 'cat'"):
        error_rates(["cat"], [["K", "AE", "T"]])
    with pytest.raises(TypeError, match=r"hypotheses\[0\] .* got the string 'K AE T'"):
        error_rates([[["K", "AE", "T"]]], ["K AE T"])
