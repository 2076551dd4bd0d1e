r"""Interpolated Kneser–Ney character n-gram model: the baseline a language model is compared to.

The model follows interpolated Kneser–Ney smoothing as described by Chen & Goodman
(1998, "An empirical study of smoothing techniques for language modeling", section 3 and
the interpolated variant of section 4.1.6), with one discount per order.

Notation, for a model of order ``N`` (n-grams of ``N`` characters, histories of
``N - 1``): ``h`` is a history of ``k - 1`` characters used at order ``k``, ``w`` the next
character, ``h'`` the history ``h`` without its first character, and ``•`` any character.

Counts
    At the highest order ``k = N`` the raw counts are used: ``a_N(h w) = c(h w)``, the
    number of times ``h w`` occurs in the training text. At every lower order
    ``k < N`` the continuation counts are used:
    ``a_k(h w) = N1+(• h w) = |{v : c(v h w) > 0}|``, the number of distinct characters
    seen immediately before ``h w``. (There is no padding: the ``k``-gram at the very
    start of the text has no preceding character, so that one occurrence does not add to
    a continuation count.)

Per history, at each order
    ``a_k(h ·) = Σ_w a_k(h w)`` and ``N1+(h ·) = |{w : a_k(h w) > 0}|``.

Recursion, for ``k = N, N-1, …, 1``::

                   max(a_k(h w) − D_k, 0)     D_k · N1+(h ·)
    P_k(w | h)  =  ──────────────────────  +  ────────────── · P_{k-1}(w | h')
                          a_k(h ·)               a_k(h ·)

    P_k(w | h)  =  P_{k-1}(w | h')                    if a_k(h ·) = 0 (h never seen at order k)

    P_0(w)      =  1 / (|V| + 1)                       (uniform over the vocabulary + UNKNOWN)

so the order-1 distribution is the continuation unigram (the raw unigram when ``N = 1``)
interpolated with the uniform distribution over the ``|V|`` training characters plus
the :data:`UNKNOWN` class. Every character, including ones never seen in training (which
all share the :data:`UNKNOWN` mass), gets nonzero probability, and for every context the
probabilities over ``V ∪ {UNKNOWN}`` sum to 1: at each order the discounted mass removed
from the seen continuations, ``D_k · N1+(h ·) / a_k(h ·)``, is exactly the weight given to
the lower order, which itself sums to 1.

Discounts
    Unless one discount is given for all orders, ``D_k`` is estimated per order from the
    counts used at that order (raw at ``N``, continuation below):
    ``D_k = n1 / (n1 + 2 n2)``, with ``n1``/``n2`` the number of ``k``-grams whose count
    ``a_k`` is exactly 1/2 (Ney, Essen & Kneser 1994). This lies in ``(0, 1]`` when
    ``n1 > 0``. Two documented fallbacks, the only places the estimate is replaced:
    if ``n1 + 2 n2 = 0`` (no ``k``-gram seen once or twice, e.g. a tiny or perfectly
    periodic text) ``D_k = 0.5``; and if ``n1 = 0 < n2`` the formula would give
    ``D_k = 0``, which takes all mass from the lower orders and gives unseen characters
    probability zero after a seen history, so ``D_k = 0.5`` is used as well. The values
    used are in :attr:`KneserNeyCharModel.discounts` (index ``k - 1`` for order ``k``).

Contexts
    ``P(w | context)`` uses the last ``N - 1`` characters of the context. When the
    context is shorter (the beginning of a text), the recursion starts from the highest
    order available, ``k = len(context) + 1``, whose counts are the ones of that order
    (continuation counts when ``k < N``).
"""

from __future__ import annotations

import math
import numbers
from collections import Counter

UNKNOWN = "<unk>"
"""Key of the one class standing for every character not seen in training."""

_FALLBACK_DISCOUNT = 0.5

__all__ = ["UNKNOWN", "KneserNeyCharModel"]


def _estimate_discount(counts: dict[str, int]) -> float:
    """``n1 / (n1 + 2 n2)``; 0.5 when ``n1 = 0`` (see the module docstring)."""
    n1 = n2 = 0
    for c in counts.values():
        if c == 1:
            n1 += 1
        elif c == 2:
            n2 += 1
    if n1 == 0:
        return _FALLBACK_DISCOUNT
    return n1 / (n1 + 2 * n2)


class KneserNeyCharModel:
    """Interpolated Kneser–Ney character model of a given order (see the module docstring).

    Args:
        order: ``N``, the n-gram length (``N - 1`` characters of context); an int >= 1.
        discount: ``None`` to estimate ``D_k = n1 / (n1 + 2 n2)`` per order, or one
            float in ``(0, 1)`` used at every order.

    Attributes (after :meth:`fit`):
        vocabulary: the sorted characters seen in training.
        discounts: the discount used at each order, ``discounts[k - 1]`` for order ``k``.
    """

    def __init__(self, order: int = 5, discount: float | None = None) -> None:
        if isinstance(order, bool) or not isinstance(order, numbers.Integral):
            raise TypeError(f"order: expected an int >= 1, got {order!r} ({type(order).__name__})")
        if order < 1:
            raise ValueError(f"order: expected an int >= 1, got {order!r}")
        if discount is not None:
            if isinstance(discount, bool) or not isinstance(discount, numbers.Real):
                raise TypeError(
                    f"discount: expected None or a float in (0, 1), got {discount!r} "
                    f"({type(discount).__name__})"
                )
            if not 0.0 < float(discount) < 1.0:
                raise ValueError(f"discount: expected None or a float in (0, 1), got {discount!r}")
            discount = float(discount)
        self.order = int(order)
        self.discount = discount
        self.vocabulary: list[str] = []
        self.discounts: list[float] = []
        # _counts[k]: k-gram -> a_k (raw at the top order, continuation below); index 0 unused.
        self._counts: list[dict[str, int]] = []
        # _hist[k]: history (k-1 chars) -> (1 / a_k(h·), D_k N1+(h·) / a_k(h·)), seen ones only.
        self._hist: list[dict[str, tuple[float, float]]] = []
        self._discount_by_order: list[float] = []  # index k, 0 unused
        self._p1: dict[str, float] = {}  # P_1(w) for w in the vocabulary
        self._p1_unknown = 0.0  # P_1 of any character outside the vocabulary
        self._fitted = False

    # ------------------------------------------------------------------ fitting
    def fit(self, text: str) -> KneserNeyCharModel:
        """Count ``text`` and precompute every per-history total; returns ``self``."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text: cannot fit on an empty text")
        n_order = self.order
        n = len(text)
        self.vocabulary = sorted(set(text))

        counts: list[dict[str, int]] = [{} for _ in range(n_order + 1)]
        # Raw counts of the top order (Counter over string slices runs at C speed).
        top = n_order
        if n >= top:
            counts[top] = Counter(
                map(text.__getitem__, map(slice, range(n - top + 1), range(top, n + 1)))
            )
        # Distinct (k+1)-grams -> continuation counts of k-grams, walking down the orders.
        # Distinct m-grams are the m-prefixes of the distinct (m+1)-grams plus the last m
        # characters of the text (the one m-gram position an (m+1)-gram does not cover).
        distinct = set(counts[top])
        for k in range(top - 1, 0, -1):
            m = k + 1  # length of the grams in `distinct`
            if m < top:
                distinct = {g[:m] for g in distinct}
                if n >= m:
                    distinct.add(text[n - m :])
            counts[k] = Counter(g[1:] for g in distinct)

        self._counts = counts
        self._hist = [{} for _ in range(n_order + 1)]
        self._discount_by_order = [0.0] * (n_order + 1)
        for k in range(1, n_order + 1):
            a_k = counts[k]
            d_k = self.discount if self.discount is not None else _estimate_discount(a_k)
            self._discount_by_order[k] = d_k
            totals: dict[str, int] = {}
            for gram, c in a_k.items():
                h = gram[:-1]
                totals[h] = totals.get(h, 0) + c
            types = Counter(gram[:-1] for gram in a_k)
            self._hist[k] = {h: (1.0 / t, d_k * types[h] / t) for h, t in totals.items()}
        self.discounts = self._discount_by_order[1:]

        # Order 1 against the uniform order 0, precomputed for every vocabulary character.
        uniform = 1.0 / (len(self.vocabulary) + 1)
        stats = self._hist[1].get("")
        d_1 = self._discount_by_order[1]
        if stats is None:  # no order-1 counts (a 1-char text with order >= 2): uniform
            self._p1 = {w: uniform for w in self.vocabulary}
            self._p1_unknown = uniform
        else:
            inv, gamma = stats
            unigrams = counts[1]
            self._p1 = {
                w: max(unigrams.get(w, 0) - d_1, 0.0) * inv + gamma * uniform
                for w in self.vocabulary
            }
            self._p1_unknown = gamma * uniform
        self._fitted = True
        return self

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise RuntimeError("KneserNeyCharModel: call fit(text) first")

    # ------------------------------------------------------------------ scoring
    def prob(self, char: str, context: str) -> float:
        """``P(char | last order-1 characters of context)``.

        ``char`` is one character or :data:`UNKNOWN`; a character outside the vocabulary
        gets the :data:`UNKNOWN` probability (the mass shared by all unseen characters).
        """
        self._check_fitted()
        if not isinstance(context, str):
            raise TypeError(f"context: expected a str, got {type(context).__name__}")
        if not isinstance(char, str) or (len(char) != 1 and char != UNKNOWN):
            raise ValueError(f"char: expected one character or {UNKNOWN!r}, got {char!r}")
        if char == UNKNOWN:
            char = ""  # matches no count: every order sees a_k(h w) = 0
        p = self._p1.get(char, self._p1_unknown)
        counts, hist, disc = self._counts, self._hist, self._discount_by_order
        top = min(self.order, len(context) + 1)
        lc = len(context)
        for k in range(2, top + 1):
            h = context[lc - k + 1 :]
            stats = hist[k].get(h)
            if stats is None:  # unseen here, hence unseen at every higher order too
                break
            inv, gamma = stats
            c = counts[k].get(h + char, 0) if char else 0
            p = max(c - disc[k], 0.0) * inv + gamma * p
        return p

    def distribution(self, context: str) -> dict[str, float]:
        """``P(· | context)`` over the vocabulary plus :data:`UNKNOWN`; sums to 1."""
        self._check_fitted()
        if not isinstance(context, str):
            raise TypeError(f"context: expected a str, got {type(context).__name__}")
        probs = dict(self._p1)
        p_unknown = self._p1_unknown
        counts, hist, disc = self._counts, self._hist, self._discount_by_order
        top = min(self.order, len(context) + 1)
        lc = len(context)
        for k in range(2, top + 1):
            h = context[lc - k + 1 :]
            stats = hist[k].get(h)
            if stats is None:
                break
            inv, gamma = stats
            a_k, d_k = counts[k], disc[k]
            for w, p in probs.items():
                probs[w] = max(a_k.get(h + w, 0) - d_k, 0.0) * inv + gamma * p
            p_unknown *= gamma
        probs[UNKNOWN] = p_unknown
        return probs

    def bits_per_char(self, text: str, context: str = "") -> float:
        """Mean of ``-log2 P(text[i] | (context + text)[:len(context) + i])`` over ``text``.

        Characters outside the vocabulary are scored with the :data:`UNKNOWN` probability.
        """
        self._check_fitted()
        if not isinstance(text, str) or not isinstance(context, str):
            raise TypeError("text and context: expected str")
        if not text:
            raise ValueError("text: cannot score an empty text")
        full = context + text
        start = len(context)
        p1, p1_unknown = self._p1, self._p1_unknown
        counts, hist, disc = self._counts, self._hist, self._discount_by_order
        order = self.order
        levels = [(k, hist[k], counts[k], disc[k]) for k in range(2, order + 1)]
        log2 = math.log2
        total = 0.0
        for i in range(start, len(full)):
            w = full[i]
            p = p1.get(w, p1_unknown)
            for k, hist_k, counts_k, d_k in levels:
                if k > i + 1:  # fewer than k-1 characters of context so far
                    break
                lo = i - k + 1
                stats = hist_k.get(full[lo:i])
                if stats is None:
                    break
                c = counts_k.get(full[lo : i + 1], 0)
                p = (c - d_k if c > d_k else 0.0) * stats[0] + stats[1] * p
            total -= log2(p)
        return total / (len(full) - start)
