"""Token error rates for sequence-to-sequence outputs: phoneme error rate (PER) and word
error rate (WER) as grapheme-to-phoneme (G2P) papers report them.

The edit distance ``d(r, h)`` is the Levenshtein distance between a reference token
sequence ``r`` and a hypothesis ``h``: the fewest substitutions, insertions and deletions
(each costing 1) that turn ``r`` into ``h``. It is computed by ``rapidfuzz`` (a maintained
C++ library) on token ids, so tokens of any length compare exactly.

A word may have several acceptable pronunciations (CMUdict lists two for "read"). We follow
the common G2P convention (Bisani & Ney 2008, "Joint-sequence models for
grapheme-to-phoneme conversion"; Yao & Zweig 2015, "Sequence-to-sequence neural net models
for grapheme-to-phoneme conversion"): each hypothesis is scored against the reference
closest to it. For words ``i = 1..n`` with references ``R_i`` and hypothesis ``h_i``,

    r_i* = argmin_{r in R_i} d(r, h_i)          (ties: the first in R_i)
    PER  = sum_i d(r_i*, h_i) / sum_i |r_i*|
    WER  = (1/n) * #{i : h_i not in R_i}

PER counts insertions too, so it is not bounded by 1: a model that babbles long outputs
can exceed 100 %. WER is the fraction of words with no exactly right pronunciation.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["edit_distance", "error_rates"]


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences (every edit costs 1).

    Args:
        reference, hypothesis: token sequences, shapes ``(L_r,)`` and ``(L_h,)``; a
            ``str`` is a sequence of characters.

    Returns:
        the fewest substitutions, insertions and deletions turning one into the other.
    """
    from rapidfuzz.distance import Levenshtein

    # Map tokens to small ints ourselves: rapidfuzz would otherwise hash multi-character
    # tokens, and exact ids rule out any hash collision.
    ids: dict[str, int] = {}
    r = [ids.setdefault(token, len(ids)) for token in reference]
    h = [ids.setdefault(token, len(ids)) for token in hypothesis]
    return int(Levenshtein.distance(r, h))


def _tokens(value: Sequence[str], name: str, hint: str = "") -> tuple[str, ...]:
    # A bare string here is almost always a mistake (a pronunciation given as "AE B IY",
    # or a single reference where a list of references was expected); scoring it as
    # characters would give silently wrong numbers.
    if isinstance(value, str):
        raise TypeError(
            f"{name} must be a sequence of tokens (a list or tuple such as ['AE', 'B', 'IY'], "
            f"or list(word) for characters), got the string {value!r}{hint}"
        )
    return tuple(value)


def error_rates(
    references: Sequence[Sequence[Sequence[str]]],
    hypotheses: Sequence[Sequence[str]],
) -> dict[str, float]:
    """PER and WER over ``n`` words, each scored against its closest reference.

    Args:
        references: ``n`` lists; ``references[i]`` holds the acceptable target sequences
            of word ``i`` (its pronunciations), at least one.
        hypotheses: ``n`` sequences; ``hypotheses[i]`` is the model's output for word ``i``.

    Returns:
        ``{"per": total edit distance / total length of the chosen references,
        "wer": fraction of words whose hypothesis equals none of its references,
        "words": n, "phonemes": total length of the chosen references}``.

    Raises:
        ValueError: different numbers of references and hypotheses, no words, a word with
            no references, or chosen references of total length 0 (PER undefined).
        TypeError: a reference or hypothesis given as a string instead of a token sequence.
    """
    if len(references) != len(hypotheses):
        raise ValueError(
            f"references and hypotheses must have one entry per word, got {len(references)} "
            f"references and {len(hypotheses)} hypotheses"
        )
    if len(references) == 0:
        raise ValueError("references is empty: there are no words to score")
    errors = length = wrong = 0
    for i, (candidates, output) in enumerate(zip(references, hypotheses)):
        if isinstance(candidates, str):
            raise TypeError(
                f"references[{i}] must be a list of reference token sequences, "
                f"got the string {candidates!r}"
            )
        hint = f"; references[{i}] is a list of references, each a sequence of tokens"
        options = [_tokens(r, f"references[{i}][{j}]", hint) for j, r in enumerate(candidates)]
        if not options:
            raise ValueError(
                f"references[{i}] holds no reference sequences; every word needs at least one"
            )
        hypothesis = _tokens(output, f"hypotheses[{i}]")
        best_distance, best_length = edit_distance(options[0], hypothesis), len(options[0])
        for option in options[1:]:
            distance = edit_distance(option, hypothesis)
            if distance < best_distance:  # strict: a tie keeps the earlier reference
                best_distance, best_length = distance, len(option)
        errors += best_distance
        length += best_length
        wrong += hypothesis not in options
    if length == 0:
        raise ValueError(
            "the chosen references are all empty (total length 0), so PER is undefined"
        )
    n = len(references)
    return {"per": errors / length, "wer": wrong / n, "words": n, "phonemes": length}
