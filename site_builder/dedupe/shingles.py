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
# Multiply-shift hashing (Dietzfelbinger): h(x) = (a*x + b) >> 32 with odd 64-bit a.  The constants
# are what numpy.random.default_rng(20240227) drew (see seeded_constants(); a test compares them):
# written out, because importing numpy.random took 10 ms of the start of every build.
_A = np.array([
    0x9f10696951e8aced, 0x30c2a61c93941209, 0x63a110276c2e31ef, 0x68c41a96be20f3c9,
    0xc8e450f3cdfb4337, 0xd34ed266c1672815, 0x0adc93f6ec1f539d, 0xdc39c6579f06fd95,
    0x4c85c275a010fb33, 0x2d677645eadb2b13, 0x35a00df0cf1d5c9d, 0x76383a76cf7cac4b,
    0x6773ddcb517b9dfd, 0xc67d77be9352c67d, 0x89a341b5f0ebac95, 0x1fd56e165852aab9,
    0xc0e45e9cc97019a9, 0x47d816777db3d681, 0xd2f57651e339e27d, 0xb099c9e7d0d5ffc3,
    0x0b960da5f68be9ef, 0xa26bfd64ff6bd513, 0x750fe88ff24e6be5, 0xd8a0bcc455f9f7d3,
    0xff3fe47cc9f1d027, 0xba0351e0c7ac7345, 0xffbdf03d582af5e5, 0x3d891a2b27afc7f5,
    0x476c3459749c3821, 0x0bee8e5ff7fa7ec3, 0x8a3ad981e7e995bf, 0xc6f8ad9b9ee3022b,
    0xc11db655f497d655, 0x890a77dc26a6ebf5, 0x8ae55d0513f06a09, 0x4f4d7c6932439595,
    0x3dc5d51a7a41c64b, 0x2cc2a8d970d18c09, 0xed9e38d27a23c9b1, 0xd8e044e4cda75371,
    0xb2a2e65d6f7de385, 0x2c3de79f2cfef163, 0x44c673d1190546ff, 0x432610a1374c257f,
    0x66d1e27a3ecc7cd3, 0x9e64f52a365dd3cd, 0x60126542f20f4f25, 0x0e10d930e462692d
], dtype=np.uint64)
_B = np.array([
    0x1922e8007651455b, 0x06d2eb509c280a6e, 0x213287591b9ed477, 0x582799e17c28df22,
    0x04d29351b466b27e, 0x340f2bce66f1f908, 0x3eb92e08d85619f7, 0x7dddc79c6843ea2c,
    0x5a7391af60ac02ec, 0x2455e23ab1ba36d0, 0x514186faed79b87f, 0x4a7db8e4797d9c02,
    0x3ab6e06bb0e4a4f0, 0x5f29e97f81ce3091, 0x7fc5c03f4dce2197, 0x546cd18fe4734c4f,
    0x0598b010f2048964, 0x3b9f4b4f22e442ce, 0x18c600e076e8ed61, 0x414d4764505f1bce,
    0x1790dc5cf48a8542, 0x5724fa0d26054775, 0x454c825d8192d751, 0x7b6bd0f89455447b,
    0x433a21b2d38f3808, 0x49828a81ad9757cb, 0x43888f96e06f8450, 0x5018980d0e593536,
    0x75486567c17ca4f8, 0x7c342fe6c79721f4, 0x08a07c059a9968fa, 0x2c2769f863887578,
    0x7322b5a596d1e735, 0x6a5bbdd221491f6d, 0x14d7f3dcc5572154, 0x1dfa3324f1b361a2,
    0x25e600a0d62e0828, 0x2329df0685fe4d73, 0x3e3bc166cecf272f, 0x089a2019fb9a3838,
    0x2fd11018c300db9a, 0x2161d0135892a118, 0x6fe435a11748c00b, 0x5609a2984db405d4,
    0x4102d89c9b19e1cc, 0x69287210f2c71f1a, 0x53ebd54f708e5d3b, 0x2ec173663b332949
], dtype=np.uint64)
_EMPTY = np.uint32(0xFFFFFFFF)


def seeded_constants() -> tuple[np.ndarray, np.ndarray]:
    """How _A and _B were drawn: odd multipliers below 2**64, and increments below 2**63."""
    import numpy.random  # only here: see _A

    rng = numpy.random.default_rng(20240227)
    a = (rng.integers(1, 2**63 - 1, PERMUTATIONS, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
    return a, rng.integers(0, 2**63 - 1, PERMUTATIONS, dtype=np.uint64)


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
    for size in distinct(sizes[chosen]):  # not np.unique: see numbering.distinct
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
