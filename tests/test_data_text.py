"""Corpora, splits, tokens and vocabularies of `lstmkit.data.text`."""

from __future__ import annotations

import pytest
import torch

from lstmkit.data.text import (
    UNKNOWN,
    Vocabulary,
    detokenize,
    load_corpus,
    split_text,
    tokenize,
)


def test_file_and_folder_corpora_read_in_path_order(tmp_path):
    (tmp_path / "b.txt").write_text("second", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("third", encoding="utf-8")
    (tmp_path / ".hidden").write_text("never", encoding="utf-8")
    assert load_corpus(str(tmp_path)) == "first\nsecond\nthird"
    assert load_corpus(str(tmp_path / "b.txt")) == "second"


def test_non_utf8_file_is_an_error_naming_it_and_the_offset(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"caf\xe9 au lait")
    with pytest.raises(ValueError, match=r"latin\.txt is not UTF-8 text \(invalid byte at offset 3\)"):
        load_corpus(str(path))


def test_missing_and_empty_corpora(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a built-in corpus .*kjv.*nor an existing"):
        load_corpus(str(tmp_path / "nope.txt"))
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no text"):
        load_corpus(str(tmp_path / "empty.txt"))
    (tmp_path / "hollow").mkdir()
    with pytest.raises(ValueError, match="holds no files"):
        load_corpus(str(tmp_path / "hollow"))


def test_builtin_corpora_load():
    kjv = load_corpus("kjv")
    assert kjv.startswith("In the beginning God created the heaven and the earth.")
    assert len(kjv) == 4_181_901  # the package's 4,181,902 characters less the leading newline
    stdlib = load_corpus("python-stdlib")
    assert "def " in stdlib and len(stdlib) > 1_000_000


def test_split_is_contiguous_90_5_5():
    text = "".join(chr(ord("a") + i % 26) for i in range(1000))
    parts = split_text(text)
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [900, 50, 50]
    assert parts["train"] + parts["validation"] + parts["test"] == text


def test_split_errors():
    with pytest.raises(ValueError, match="too short: its validation split holds 0"):
        split_text("abcdefghij")
    with pytest.raises(ValueError, match="summing to 1"):
        split_text("a" * 100, (0.5, 0.2, 0.2))


def test_word_tokens_and_detokenize():
    text = "And God said, Let there be light:\nand there was light."
    tokens = tokenize(text, "word")
    assert tokens == [
        "And", "God", "said", ",", "Let", "there", "be", "light", ":", "\n",
        "and", "there", "was", "light", ".",
    ]
    assert detokenize(tokens, "word") == text
    bracketed = "the earth was without form, and void; and darkness [was] upon the deep."
    assert detokenize(tokenize(bracketed, "word"), "word") == bracketed
    assert tokenize("ab\nc", "char") == ["a", "b", "\n", "c"]
    with pytest.raises(ValueError, match="data.level must be one of char, word, got 'byte'"):
        tokenize("x", "byte")


def test_vocabulary_frequency_order_min_freq_and_unknown():
    vocabulary = Vocabulary.build(list("aaabbc"), min_freq=2)
    assert vocabulary.tokens == [UNKNOWN, "a", "b"]
    assert vocabulary.encode(list("abcz")).tolist() == [1, 2, 0, 0]
    assert vocabulary.decode([2, 1, 0]) == ["b", "a", UNKNOWN]
    assert vocabulary.unknown(list("czc")) == ["c", "z"]
    ties = Vocabulary.build(list("ba"))  # equal counts: ordered by the token
    assert ties.tokens == [UNKNOWN, "a", "b"]
    assert Vocabulary.build(list("aaabbc"), max_size=1).tokens == [UNKNOWN, "a"]
    restored = Vocabulary.from_state_dict(vocabulary.state_dict())
    assert restored.tokens == vocabulary.tokens
    assert vocabulary.encode([]).dtype == torch.long


def test_vocabulary_errors():
    with pytest.raises(ValueError, match="no token occurs at least data.min_freq=5 times"):
        Vocabulary.build(list("abc"), min_freq=5)
    with pytest.raises(ValueError, match="data.min_freq must be at least 1"):
        Vocabulary.build(list("abc"), min_freq=0)
