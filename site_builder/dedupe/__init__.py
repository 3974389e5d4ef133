"""Deduplication: group items that cover the same story into Stories.

`dedupe(items, config)` makes the stories; `grouped()` also returns the
Grouping behind them, which the build keeps in its cache and hands back
(`known`) while the items stay the same.  The body is the order of the
signals, strongest first:

    features    words, anchors and MinHash signature per item (cached by content hash)
    must-links  one canonical URL, one identical text, a syndicated copy (MinHash + LSH)
    stories     rewrites and translations: rarity-weighted anchors and words,
                merged against cluster centroids, `related:` links as a bonus
    Stories     lead, more coverage, topics, heat, time, stable id
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np

from ..config import SiteConfig
from ..models import Item, Story
from ..parallel import no_collection
from . import shingles, similarity
from .cache import FeatureCache, prepare
from .cluster import must_links, story_merges
from .features import Features
from .stories import make_story, story_id

__all__ = ["dedupe", "grouped", "cluster", "Grouping", "prepare", "story_id"]

#: Containment (of the shorter text in the longer) that confirms a copy cut short or padded;
#: only for texts of at least MIN_CONTAINED shingles, below which containment is luck.
CONTAINMENT = 0.8
MIN_CONTAINED = 20


@dataclass(frozen=True, slots=True)
class Grouping:
    """What the deduplicator decided, as plain data: the items of each story (indexes into the items,
    in input order), why each item joined (by source), and which items are later copies.

    From it and the same items, the stories are made again without clustering.  The build's cache
    keeps it rather than the stories: pickling those (they hold every item) and reading them back
    cost more than making them again.
    """

    clusters: tuple[tuple[int, ...], ...]
    reasons: Mapping[str, str]
    copies: frozenset[str]


def dedupe(items: Sequence[Item], config: SiteConfig, cache_dir: Path | None = None, workers: int = 1,
           prepared: dict[str, tuple] | None = None) -> tuple[Story, ...]:
    """Group `items` into stories, each with a lead and its more coverage.

    `cache_dir` (the `dedupe` command passes one) keeps each item's words, anchors and signature by
    content hash, so a rerun only computes them for new or changed items; `workers` processes
    compute the new ones.  `prepared`: see FeatureCache.features (the build makes the features of
    the files it reads as it loads them, and keeps them in its item cache).
    """
    return grouped(items, config, cache_dir, workers, prepared)[0]


def grouped(items: Sequence[Item], config: SiteConfig, cache_dir: Path | None = None, workers: int = 1,
            prepared: dict[str, tuple] | None = None, known: Grouping | None = None) -> tuple[tuple[Story, ...], Grouping]:
    """dedupe(), and the Grouping its stories come from; given a `known` grouping of these same items
    (a cached one), only the stories are made."""
    # Features are many small acyclic objects: the cyclic garbage collector would rescan them
    # over and over as they are made (a third of the time on 100k items) and find nothing.
    with no_collection():
        if known is None:
            grouping, features = cluster(items, config, cache_dir, workers, prepared)
        else:
            grouping, features = known, FeatureCache.open(cache_dir).features(items, workers, prepared)[0]
        return stories_of(items, grouping, features, config), grouping


def stories_of(items: Sequence[Item], grouping: Grouping, features: Sequence[Features], config: SiteConfig) -> tuple[Story, ...]:
    has_file = {key for feature in features for key in feature.url_keys}
    return tuple(
        make_story([items[i] for i in members], [features[i] for i in members], grouping.reasons, config, has_file, grouping.copies)
        for members in grouping.clusters
    )


def cluster(items: Sequence[Item], config: SiteConfig, cache_dir: Path | None = None, workers: int = 1,
            prepared: dict[str, tuple] | None = None) -> tuple[Grouping, list[Features]]:
    """The items' Grouping, and the Features it was made from (one per item)."""
    settings = config.dedupe
    count = len(items)
    features, signature, sizes = FeatureCache.open(cache_dir).features(items, workers, prepared)
    langs = [item.lang for item in items]
    times = np.array([item.published_at.timestamp() / 86400.0 if item.published_at else np.nan for item in items])
    reasons: dict[int, str] = {}
    copies: set[int] = set()

    links = list(_url_links(features))
    links += _text_links(features, times, settings.window_days, copies)
    # The LSH of syndicated copies runs in a thread beside vectors() and candidate_scores(): all
    # three are mostly numpy calls on big arrays, which release the GIL, and the build leaves the
    # second core idle here.  The thread only adds to `copies`, which nothing reads meanwhile.
    with ThreadPoolExecutor(max_workers=1) as beside:
        copy_links = beside.submit(_copy_links, signature, sizes, times, settings.window_days, settings.minhash_threshold, copies)
        vec = similarity.vectors(features, langs)
        pairs, anchor_cos, word_cos = similarity.candidate_scores(vec, times, settings.window_days)
        links += copy_links.result()
    groups = must_links(count, links, reasons, times, settings.window_days)

    related = _related_pairs(features)
    pairs, anchor_cos, word_cos = _with_pairs(vec, pairs, anchor_cos, word_cos, related)
    has_anchors, has_words = similarity.channels(vec, pairs, langs)
    scores = similarity.combine(anchor_cos, word_cos, has_anchors, has_words)
    reachable = scores + settings.related_bonus >= settings.story_threshold
    scores[similarity.subject_conflicts(features, pairs, reachable)] = 0.0
    clusters = story_merges(
        groups, vec, langs, times, pairs, scores, related,
        settings.story_threshold, settings.related_bonus, settings.window_days, reasons,
    )
    grouping = Grouping(
        tuple(sorted((tuple(sorted(members)) for members in clusters), key=lambda members: members[0])),
        {items[i].source: reason for i, reason in reasons.items()},
        frozenset(items[i].source for i in copies),
    )
    return grouping, features


def _url_links(features) -> Iterator[tuple[int, int, str]]:
    """Items known by one canonical URL (any of web, original, AMP and CDN-AMP) are one article."""
    first: dict[str, int] = {}
    for i, feature in enumerate(features):
        for key in feature.url_keys:
            j = first.setdefault(key, i)
            if j != i:
                yield j, i, "canonical-url 1.00"


def _text_links(features, times, window: float, copies: set[int]) -> list[tuple[int, int, str]]:
    """Identical normalised texts (at least a few words) are one article, whatever their URLs."""
    first: dict[str, int] = {}
    links = []
    for i, feature in enumerate(features):
        if feature.token_count < 8:
            continue
        j = first.setdefault(feature.text_digest, i)
        if j != i and _within(times, i, j, window):
            links.append((j, i, "same-text 1.00"))
            copies.add(_later(times, i, j))
    return links


def _copy_links(signature, sizes, times, window: float, threshold: float, copies: set[int]) -> list[tuple[int, int, str]]:
    """Syndicated copies: LSH candidates confirmed by estimated Jaccard or containment."""
    pairs = shingles.candidate_pairs(signature)
    if pairs.size == 0:
        return []
    jaccard, containment = shingles.estimate(signature, pairs, sizes)
    contained = (containment >= CONTAINMENT) & (np.minimum(sizes[pairs[:, 0]], sizes[pairs[:, 1]]) >= MIN_CONTAINED)
    dt = np.abs(times[pairs[:, 0]] - times[pairs[:, 1]])
    near = ~(dt > window)  # NaN (undated) compares False: undated items match at any time
    chosen = np.flatnonzero(((jaccard >= threshold) | contained) & near)
    chosen = chosen[np.argsort(-jaccard[chosen], kind="stable")]
    # Python numbers from here on: numpy's scalar indexing costs a microsecond a value.
    links = []
    when = times.tolist()
    for (i, j), similar, contains in zip(pairs[chosen].tolist(), jaccard[chosen].tolist(), containment[chosen].tolist()):
        if similar >= threshold:
            links.append((i, j, f"minhash {similar:.2f}"))
        else:
            links.append((i, j, f"containment {contains:.2f}"))
        copies.add(_later(when, i, j))
    return links


def _related_pairs(features) -> set[tuple[int, int]]:
    """Pairs (i < j) where one item lists the other among its `related:` entries."""
    owner: dict[str, int] = {}
    for i, feature in enumerate(features):
        for key in feature.url_keys:
            owner.setdefault(key, i)
    pairs = set()
    for i, feature in enumerate(features):
        for key in feature.related_keys:
            j = owner.get(key) if key else None
            if j is not None and j != i:
                pairs.add((min(i, j), max(i, j)))
    return pairs


def _with_pairs(vec, pairs, anchor_cos, word_cos, extra: set[tuple[int, int]]):
    """Add pairs that share no rare feature but are linked (related), scored directly."""
    if not extra:
        return pairs, anchor_cos, word_cos
    count = len(vec.indptr) - 1
    wanted = np.array(sorted(extra), dtype=np.int64).reshape(-1, 2)
    # Candidate pairs come sorted by (i, j) (see candidate_scores): a binary search finds the known ones.
    keys = pairs[:, 0] * count + pairs[:, 1]
    wanted_keys = wanted[:, 0] * count + wanted[:, 1]
    at = np.minimum(np.searchsorted(keys, wanted_keys), max(keys.size - 1, 0))
    known = keys[at] == wanted_keys if keys.size else np.zeros(len(wanted), dtype=bool)
    missing = [tuple(pair) for pair in wanted[~known].tolist()]
    if not missing:
        return pairs, anchor_cos, word_cos
    scored = []
    for i, j in missing:
        a_i, w_i = similarity.centroid(vec, [i])
        a_j, w_j = similarity.centroid(vec, [j])
        scored.append((similarity.cosine(a_i, a_j), similarity.cosine(w_i, w_j)))
    extra_pairs = np.array(missing, dtype=np.int64).reshape(-1, 2)
    extra_scores = np.array(scored, dtype=float).reshape(-1, 2)
    return (
        np.concatenate([pairs.reshape(-1, 2), extra_pairs]),
        np.concatenate([anchor_cos, extra_scores[:, 0]]),
        np.concatenate([word_cos, extra_scores[:, 1]]),
    )


def _within(times: np.ndarray, i: int, j: int, window: float) -> bool:
    return not abs(times[i] - times[j]) > window


def _later(times: np.ndarray | list[float], i: int, j: int) -> int:
    """The later of two items (the copy); the second one when either is undated or they tie."""
    if times[i] > times[j]:
        return i
    return j
