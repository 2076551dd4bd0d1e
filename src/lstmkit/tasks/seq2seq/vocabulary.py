"""Token ↔ index for an encoder–decoder, with the special symbols it needs.

Index 0 is padding, 1 the start symbol the decoder reads first, 2 the end symbol it
emits last, 3 the unknown token; the data's own tokens follow in sorted order (so the
indices do not depend on the order the pairs were read in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)


class SymbolVocabulary:
    """The symbols of one side (source or target) of the pairs."""

    pad_index, bos_index, eos_index, unk_index = 0, 1, 2, 3

    def __init__(self, symbols: Iterable[str]) -> None:
        known = sorted(set(symbols) - set(SPECIALS))
        self.symbols = [*SPECIALS, *known]
        self.index = {symbol: i for i, symbol in enumerate(self.symbols)}

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: str) -> bool:
        return symbol in self.index and symbol not in SPECIALS

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Indices of ``tokens`` (unknown ones become ``<unk>``)."""
        return [self.index.get(token, self.unk_index) for token in tokens]

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Tokens of ``indices``, stopping at the end symbol; padding and start skipped."""
        out = []
        for i in indices:
            if i == self.eos_index:
                break
            if i not in (self.pad_index, self.bos_index):
                out.append(self.symbols[i])
        return out

    @property
    def known(self) -> set[str]:
        return set(self.symbols[len(SPECIALS):])

    def state_dict(self) -> dict:
        return {"symbols": self.symbols[len(SPECIALS):]}

    @classmethod
    def from_state_dict(cls, state: dict) -> SymbolVocabulary:
        return cls(state["symbols"])
