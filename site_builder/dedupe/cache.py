"""Incremental deduplication: per-item features and signatures, kept by content hash.

Everything in features.py and the MinHash signature depends on one file
alone, so it is stored under the file's content hash (Item.content_hash) in
`<cache_dir>/dedupe.sqlite`; a rebuild computes them only for new or
changed files.  Rarity weights and candidate pairs depend on the whole
collection and are always recomputed (they are vector operations).

`site-builder build` keeps no such file: its loading workers make the
features of each file they read (`prepare`), and its item cache keeps them
beside the items (see incremental.ItemCache), pickled once, by the workers.
"""

from __future__ import annotations

import pickle
import sqlite3
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from ..models import Item
from ..parallel import fork_map
from . import shingles
from .features import Features, extract, ids

#: Bump when features.py or shingles.py change what they compute: old entries are then ignored.
VERSION = 4
# Packed ids and signatures are stored in this machine's byte order: a cache copied to a machine
# of the other order is ignored rather than misread.
_STORED_VERSION = VERSION * 2 + (sys.byteorder == "big")
FILE_NAME = "dedupe.sqlite"



#: Below this many new items the features are computed in this process (a fork costs more).
PARALLEL_MINIMUM = 2000

_ITEMS: Sequence[Item] | None = None


#: Items whose signatures are computed in one numpy pass: enough to pay for the vector
#: operations, few enough that their flat arrays of shingles stay a few megabytes.
SIGNATURE_BATCH = 1000


def _extract_batch(batch: Sequence[int]) -> list[tuple[tuple, bytes, int]]:
    """prepare() for the items at the batch's indexes (in a forked worker, which inherited them)."""
    assert _ITEMS is not None
    return prepare([_ITEMS[index] for index in batch])


def prepare(items: Sequence[Item]) -> list[tuple[tuple, bytes, int]]:
    """Fields of the Features, signature row and shingle count of each item: what the cache stores.

    Plain tuples and bytes, not Features and arrays: they are what pickles fastest back to a
    parent process.  The build calls it in the workers that load the files (see load_items),
    while each item is at hand, and hands the results to FeatureCache.features as `prepared`.
    """
    out = []
    for start in range(0, len(items), SIGNATURE_BATCH):
        fresh = [extract(item) for item in items[start : start + SIGNATURE_BATCH]]
        rows = shingles.signatures([ids(feature.tokens) for feature in fresh])
        out.extend(
            (_stored(feature), rows[k].tobytes(), max(feature.token_count - shingles.SHINGLE + 1, 1 if feature.token_count else 0))
            for k, feature in enumerate(fresh)
        )
    return out


def _stored(feature: Features) -> tuple:
    """Every field but the first, `tokens`: the words are only needed for the signature,
    and keeping them would double the cache."""
    return feature[1:]


def _restored(values: tuple) -> Features:
    return Features(b"", *values)


class FeatureCache:
    """Features of items by content hash; without a folder it only computes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @classmethod
    def open(cls, cache_dir: Path | None) -> "FeatureCache":
        return cls(Path(cache_dir) / FILE_NAME if cache_dir is not None else None)

    def features(self, items: Sequence[Item], workers: int = 1,
                 prepared: dict[str, tuple] | None = None) -> tuple[list[Features], np.ndarray, np.ndarray]:
        """Per item: its Features, its MinHash signature row and its number of shingles.

        Items the cache does not know are read in `workers` processes: the regular
        expressions behind the anchors are most of a cold deduplication.  `prepared`
        holds prepare()'s results by content hash, made while the files were loaded.
        """
        count = len(items)
        prepared = prepared or {}
        stored = self._load({item.content_hash for item in items if item.content_hash and item.content_hash not in prepared})
        entries = [(prepared.get(item.content_hash) or stored.get(item.content_hash)) if item.content_hash else None for item in items]
        new = dict(prepared)  # made for this build: not in the cache, or made again as cheaply as read
        del stored
        missing = [i for i, entry in enumerate(entries) if entry is None]
        if missing:
            global _ITEMS
            _ITEMS = items  # forked workers inherit the items: only indexes go out, only features come back
            try:
                batches = fork_map(_extract_batch, missing, workers, minimum=PARALLEL_MINIMUM)
            finally:
                _ITEMS = None
            for i, entry in zip(missing, batches):
                entries[i] = entry
                if items[i].content_hash:
                    new[items[i].content_hash] = entry
        if self.path is not None and new:
            self._store(new)  # as the workers sent them: plain tuples and bytes
        found = [_restored(values) for values, _, _ in entries]  # type: ignore[misc]
        rows = b"".join(row for _, row, _ in entries)  # type: ignore[misc]
        signature = np.frombuffer(rows, dtype=np.uint32).reshape(count, shingles.PERMUTATIONS).copy()
        sizes = np.fromiter((size for _, _, size in entries), dtype=np.int64, count=count)  # type: ignore[misc]
        return found, signature, sizes

    def _connect(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path)
            db.execute("CREATE TABLE IF NOT EXISTS features (hash TEXT PRIMARY KEY, version INTEGER, data BLOB)")
            return db
        except (OSError, sqlite3.Error):
            return None  # a cache that cannot be opened only costs time

    def _load(self, hashes: set[str]) -> dict[str, tuple]:
        if not hashes:
            return {}  # every feature was made by this build (a cold one): nothing to open
        db = self._connect()
        if db is None:
            return {}
        found = {}
        try:
            with db:
                for key, data in db.execute("SELECT hash, data FROM features WHERE version = ?", (_STORED_VERSION,)):
                    if key in hashes:
                        try:
                            found[key] = pickle.loads(data)
                        except Exception:  # a damaged entry is recomputed
                            continue
        except sqlite3.Error:
            return {}
        finally:
            db.close()
        return found

    def _store(self, entries: dict[str, tuple]) -> None:
        db = self._connect()
        if db is None or not entries:
            return
        try:
            with db:
                # In the order of the key's index: the B-tree grows at its end, where random keys would
                # rewrite pages all over it once it outgrows sqlite's page cache (100k items: 0.72 -> 0.52 s).
                db.executemany(
                    "INSERT OR REPLACE INTO features (hash, version, data) VALUES (?, ?, ?)",
                    ((key, _STORED_VERSION, pickle.dumps(entries[key], protocol=pickle.HIGHEST_PROTOCOL)) for key in sorted(entries)),
                )
        except sqlite3.Error:
            pass
        finally:
            db.close()
