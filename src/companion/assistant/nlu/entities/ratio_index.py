"""Which names can reach a ``fuzz.ratio`` cutoff: a bigram index that rules out the rest.

``fuzz.ratio(a, b)`` is ``200 * L / S``: ``L`` the length of their longest common
subsequence, ``S = len(a) + len(b)``. A score of at least ``cutoff`` needs ``L >= f * S``
(``f = cutoff / 200``), and so:

- lengths: ``L <= min(len(a), len(b))``, so ``b``'s length lies in a band around ``a``'s;
- bigrams: cut the common subsequence wherever a skipped character falls between two of its
  characters (``d = S - 2L`` skipped characters, so at most ``d`` cuts) and at least
  ``L - 1 - d`` of its adjacent pairs are adjacent in both strings: ``a`` and ``b`` share at
  least ``3L - 1 - S`` bigrams, counted with repeats.

Counting the shared bigrams of the names in the length band (their postings, one bincount)
leaves a few names per phrase of the thousands a company has; a prefix filter alone (only
names holding one of the phrase's rarest bigrams) left hundreds, names being built from a
few hundred words. The index only rules out names that cannot reach the cutoff (with a
little slack for rounding); the caller scores the rest with ``fuzz.ratio`` itself, so it
finds exactly the names that scoring every name finds.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# In characters of the common subsequence: keeps a pair whose score rounds up to the cutoff.
_SLACK = 0.01


def bigrams(text: str) -> list[str]:
    """``text``'s bigrams, a repeated one numbered by its occurrence ("ab", "ab2")."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for k in range(len(text) - 1):
        gram = text[k : k + 2]
        n = seen.get(gram, 0) + 1
        seen[gram] = n
        out.append(gram if n == 1 else f"{gram}{n}")
    return out


class RatioIndex:
    """Names by length and by bigram, for finding those that may score ``cutoff`` or more."""

    def __init__(self, names: Sequence[str], cutoff: float) -> None:
        self.fraction = cutoff / 200.0
        # Positions are ranks by length: a length band is one contiguous range of them.
        self.order = np.array(sorted(range(len(names)), key=lambda i: len(names[i])), np.int64)
        self.lengths = [len(names[i]) for i in self.order.tolist()]
        self.length_array = np.array(self.lengths, dtype=np.int64)
        postings: dict[str, list[int]] = {}
        for position, i in enumerate(self.order.tolist()):
            for gram in bigrams(names[i]):
                postings.setdefault(gram, []).append(position)
        # first[n]: the first position of a name n characters long or longer.
        longest = self.lengths[-1] if self.lengths else 0
        first = np.array([bisect_left(self.lengths, n) for n in range(longest + 2)], np.int64)
        self.postings: dict[str, tuple[npt.NDArray[np.int32], list[int]]] = {}
        for gram, found in postings.items():
            array = np.array(found, dtype=np.int32)
            # offsets[n]: where the names n characters long or longer begin in ``array``.
            self.postings[gram] = (array, np.searchsorted(array, first).tolist())
        self._need: dict[int, npt.NDArray[np.float64]] = {}

    def need(self, size: int) -> npt.NDArray[np.float64]:
        """Per position, the bigrams a name must share with a ``size``-character phrase."""
        if size not in self._need:
            total = size + self.length_array
            # 3L - 1 - S at the shortest common subsequence L the cutoff allows.
            self._need[size] = 3.0 * np.ceil(self.fraction * total - _SLACK) - 1.0 - total
        return self._need[size]

    def candidates(self, phrase: str, grams: list[str] | None = None) -> list[int]:
        """Indexes (ascending) of the names that may score ``cutoff`` or more with ``phrase``.

        ``grams``: ``bigrams(phrase)``, when the caller has it already.
        """
        f, size = self.fraction, len(phrase)
        top = len(self.lengths) and self.lengths[-1]
        shortest = max(0, math.ceil((f * size - _SLACK) / (1.0 - f) - 1e-9))
        longest = min(top, math.floor(((1.0 - f) * size + _SLACK) / f + 1e-9))
        if shortest > longest:
            return []
        lo, hi = bisect_left(self.lengths, shortest), bisect_right(self.lengths, longest)
        if lo >= hi:
            return []
        grams = bigrams(phrase) if grams is None else grams
        pieces = []
        for gram in grams:
            found = self.postings.get(gram)
            if found is not None:
                array, offsets = found
                pieces.append(array[offsets[shortest] : offsets[longest + 1]])
        if pieces:
            shared = np.bincount(np.concatenate(pieces) - lo, minlength=hi - lo)
        else:
            shared = np.zeros(hi - lo, dtype=np.int64)
        return sorted(self.order[lo + np.flatnonzero(shared >= self.need(size)[lo:hi])].tolist())
