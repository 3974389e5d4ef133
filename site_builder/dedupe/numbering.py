"""Numbering big integer arrays: what np.unique and np.isin do, faster.

numpy sorts integers with vectorised code (np.sort) but sorts indexes of them
(np.argsort, inside np.unique and np.lexsort) several times slower.  These
helpers give the same results from np.sort alone (for uniform hashes, by walking
buckets); similarity.py packs a key and its position into one integer to the same end.
"""

from __future__ import annotations

import numpy as np


def numbered(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys in increasing order, and the number of each key among them (np.unique's inverse).

    Keys are uniform 64-bit hashes: a key's top bits point into a table of where each
    bucket starts among the distinct keys, and a few vector steps walk every key to its
    own slot, which is several times faster than a binary search per key.
    """
    known = distinct(keys)
    bits = max(1, int(known.size).bit_length())
    shift = np.uint64(64 - bits)
    starts = np.searchsorted(known, np.arange(1 << bits, dtype=np.uint64) << shift)
    number = starts[keys >> shift]
    behind = np.flatnonzero(known[number] < keys)
    for _ in range(64):  # buckets hold a handful of keys unless the keys are not hashes
        if behind.size == 0:
            return known, number
        number[behind] += 1
        behind = behind[known[number[behind]] < keys[behind]]
    return known, np.searchsorted(known, keys)


def distinct(values: np.ndarray) -> np.ndarray:
    """np.unique(values), by np.sort (which numpy vectorises, where np.unique partly hashes); for
    values without NaN (np.unique makes their NaNs one).  np.unique also imports numpy.ma on its first
    call (np.ma.is_masked): 9 ms, holding the interpreter lock, while the build deduplicates."""
    ordered = np.sort(values)
    return ordered[run_starts(ordered)]


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array, as a mask (written in place:
    np.r_'s concatenation cost more than the comparison on the ~100 ids of one item)."""
    first = np.empty(ordered.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first


def member(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """np.isin(values, known) for sorted distinct `known`, by binary search."""
    if not known.size:
        return np.zeros(values.size, dtype=bool)
    at = np.searchsorted(known, values)
    at[at == known.size] = 0
    return known[at] == values
