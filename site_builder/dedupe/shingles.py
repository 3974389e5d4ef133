"""Syndicated copies: MinHash over word shingles, LSH banding, confirmation by Jaccard or containment.

All items are hashed in one pass of numpy over a flat array of shingles, so
the cost is a few vector operations per hash function, not a Python loop per
word.  Signatures depend on the item alone and are cached by content hash.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from .numbering import distinct

#: Words per shingle: three words are rare enough to mean "copied", common enough to survive edits.
SHINGLE = 3
#: Hash functions per signature, as BANDS bands of ROWS rows: a pair with Jaccard 0.5 becomes a
#: candidate with probability 1 - (1 - 0.5**3)**16 = 0.88, one with 0.7 with probability 0.9999.
BANDS, ROWS = 16, 3
PERMUTATIONS = BANDS * ROWS
#: Buckets bigger than this hold boilerplate ("click here to read"), not copies; they are skipped.
MAX_BUCKET = 64

_MASK32 = np.uint64(0xFFFFFFFF)
_rng = np.random.default_rng(20240227)
# Multiply-shift hashing (Dietzfelbinger): h(x) = (a*x + b) >> 32 with odd 64-bit a.
_A = (_rng.integers(1, 2**63 - 1, PERMUTATIONS, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
_B = _rng.integers(0, 2**63 - 1, PERMUTATIONS, dtype=np.uint64)
_EMPTY = np.uint32(0xFFFFFFFF)


def word_id(word: str) -> int:
    """A stable 64-bit hash of the word (Python's hash() changes per run)."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


class Vocabulary(dict):
    """Word -> word_id(word), computed once per distinct word."""

    def __missing__(self, word: str) -> int:
        value = word_id(word)
        self[word] = value
        return value


def signatures(token_ids: Sequence[np.ndarray]) -> np.ndarray:
    """MinHash signatures, one row of PERMUTATIONS uint32 per array of word ids (Vocabulary values)."""
    count = len(token_ids)
    out = np.full((count, PERMUTATIONS), _EMPTY, dtype=np.uint32)
    if count == 0:
        return out
    lengths = np.fromiter((t.size for t in token_ids), dtype=np.int64, count=count)
    flat = np.concatenate(token_ids).astype(np.uint64, copy=False)
    shingles, owners = _shingles(flat, lengths)
    if shingles.size == 0:
        return out
    # Rows of `shingles` are grouped by owner; reduceat takes the minimum of each group.
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    who = owners[starts]
    # Each hash function computed in one buffer, and its minima made 32-bit only as they are
    # stored (the shifted hashes fit): no new array per step (signatures 3.6 -> 2.8 us an item).
    hashed = np.empty_like(shingles)
    for k in range(PERMUTATIONS):
        np.multiply(shingles, _A[k], out=hashed)
        np.add(hashed, _B[k], out=hashed)
        np.right_shift(hashed, np.uint64(32), out=hashed)
        out[who, k] = np.minimum.reduceat(hashed, starts)
    return out


def _shingles(flat: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every run of SHINGLE consecutive words inside one item, and the item of each."""
    owners = np.repeat(np.arange(lengths.size), lengths)
    if flat.size < SHINGLE:
        # Items shorter than a shingle still get a signature from their words.
        return flat, owners
    mixed = flat[: flat.size - SHINGLE + 1].copy()
    for offset in range(1, SHINGLE):
        mixed = mixed * np.uint64(0x9E3779B97F4A7C15) + flat[offset : flat.size - SHINGLE + 1 + offset]
    same_item = owners[: mixed.size] == owners[SHINGLE - 1 :]
    shingle_owners = owners[: mixed.size][same_item]
    mixed = mixed[same_item]
    # Items with fewer words than a shingle keep their single words instead.
    short = np.flatnonzero((lengths > 0) & (lengths < SHINGLE))
    if short.size:
        keep = np.isin(owners, short)
        mixed = np.concatenate([mixed, flat[keep]])
        shingle_owners = np.concatenate([shingle_owners, owners[keep]])
        order = np.argsort(shingle_owners, kind="stable")
        mixed, shingle_owners = mixed[order], shingle_owners[order]
    return mixed, shingle_owners


def candidate_pairs(signature: np.ndarray) -> np.ndarray:
    """Pairs (i < j) that share at least one LSH band, as an (n, 2) int64 array without repeats."""
    count = signature.shape[0]
    found = []
    empty = (signature == _EMPTY).all(axis=1)
    for band in range(BANDS):
        rows = signature[:, band * ROWS : (band + 1) * ROWS].astype(np.uint64)
        key = rows[:, 0]
        for r in range(1, ROWS):
            key = key * np.uint64(0x100000001B3) ^ rows[:, r]
        key = np.where(empty, np.arange(count, dtype=np.uint64) | np.uint64(1 << 63), key)
        found.append(_bucket_pairs(key))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    if pairs.size == 0:
        return pairs.reshape(0, 2)
    # Distinct rows in order, as np.unique(pairs, axis=0) would give them, from one integer per pair.
    keys = distinct(pairs[:, 0] * count + pairs[:, 1])
    return np.stack([keys // count, keys % count], axis=1)


def _bucket_pairs(key: np.ndarray) -> np.ndarray:
    """All pairs of items with an equal key, skipping buckets bigger than MAX_BUCKET."""
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, key.size])
    chosen = (sizes >= 2) & (sizes <= MAX_BUCKET)
    pairs = []
    for size in np.unique(sizes[chosen]):
        first = starts[chosen & (sizes == size)]
        i, j = np.triu_indices(int(size), 1)
        left = order[first[:, None] + i[None, :]].ravel()
        right = order[first[:, None] + j[None, :]].ravel()
        pairs.append(np.stack([np.minimum(left, right), np.maximum(left, right)], axis=1))
    return np.concatenate(pairs) if pairs else np.empty((0, 2), dtype=np.int64)


def estimate(signature: np.ndarray, pairs: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Estimated Jaccard and containment (of the smaller text in the larger) for each pair."""
    if pairs.size == 0:
        return np.empty(0), np.empty(0)
    jaccard = (signature[pairs[:, 0]] == signature[pairs[:, 1]]).mean(axis=1)
    a, b = sizes[pairs[:, 0]].astype(float), sizes[pairs[:, 1]].astype(float)
    # |A∩B| = J(|A|+|B|)/(1+J); containment divides it by the smaller set.
    intersection = jaccard * (a + b) / (1.0 + jaccard)
    containment = np.minimum(1.0, intersection / np.maximum(1.0, np.minimum(a, b)))
    return jaccard, containment
