"""Classifier input: the sentence embedding next to hashed character and word n-grams.

The embedding carries meaning; the n-grams carry spelling (typos, codes like "PO", "P&L",
"AR") that a small sentence model smooths away. Bangla script is romanised first.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from companion.assistant.nlu.entities.script import BANGLA, romanise
from companion.llm.embeddings import Embedder

# Longer inputs are cut: the embedder truncates at 256 tokens anyway, and n-gram work must
# stay bounded for a 10k-character message.
MAX_CHARS = 1000
# A longer "word" is a paste or a key-mash; the tokenizer would read it as one unknown token,
# the same one it gives emoji, so it is dropped instead.
MAX_WORD = 40

# Bangla vowel signs are not \w: without them in the class, "আমাদের" would fall apart into
# "আম", "দ", "র" and its n-grams would say nothing about the word.
_WORD = re.compile(rf"(?:[^\W_]|[{BANGLA}])+|[&%$€£৳#@]", re.UNICODE)
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class FeatureConfig:
    """How n-gram features are built; part of the cache key."""

    hash_dim: int = 4096
    char_min: int = 2
    char_max: int = 4
    ngram_weight: float = 0.5

    def key(self) -> str:
        """A short stable description for cache keys."""
        return f"h{self.hash_dim}c{self.char_min}-{self.char_max}w{self.ngram_weight}"


def normalise_text(text: str) -> str:
    """NFKC, lower case, single spaces, no overlong words, at most MAX_CHARS characters."""
    folded = unicodedata.normalize("NFKC", text[: MAX_CHARS * 4])
    words = (w for w in folded.lower().split() if len(w) <= MAX_WORD)
    return " ".join(words)[:MAX_CHARS]


def ngram_features(texts: list[str], config: FeatureConfig) -> npt.NDArray[np.float32]:
    """Hashed, sublinear, L2-normalised char (within words) and word n-gram counts."""
    out = np.zeros((len(texts), config.hash_dim), dtype=np.float32)
    for row, text in enumerate(texts):
        counts: dict[int, float] = {}
        words = [_DIGITS.sub("0", w) for w in _WORD.findall(normalise_text(text))]
        for gram in _grams(words, config):
            slot = zlib.crc32(gram.encode("utf-8")) % config.hash_dim
            counts[slot] = counts.get(slot, 0.0) + 1.0
        if not counts:
            continue
        slots = np.fromiter(counts.keys(), dtype=np.int64)
        values = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32))
        out[row, slots] = values / np.linalg.norm(values)
    return out


def featurise(
    texts: list[str], embedder: Embedder, config: FeatureConfig
) -> npt.NDArray[np.float32]:
    """Embedding and weighted n-gram block side by side, one row per text."""
    # Bangla script is read as the Banglish it would be typed as: the sentence model knows no
    # Bangla letters, and the two spellings then share n-grams ("কত" / "koto").
    cleaned = [romanise(normalise_text(t)) for t in texts]
    vectors = embedder.embed(cleaned)
    grams = ngram_features(cleaned, config) * np.float32(config.ngram_weight)
    return np.hstack([vectors, grams]).astype(np.float32)


def _grams(words: list[str], config: FeatureConfig) -> list[str]:
    grams = [f"w:{w}" for w in words]
    grams.extend(f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False))
    for word in words:
        padded = f"<{word}>"
        for n in range(config.char_min, config.char_max + 1):
            grams.extend(f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1))
    return grams
