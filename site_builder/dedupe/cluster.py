"""Clustering: must-links first, then story merges against cluster centroids.

1. Must-links (union-find): one canonical URL, one identical text, or a
   syndicated copy confirmed by MinHash.  These are the same article.
2. Story merges: candidate pairs, best first; a pair only merges its two
   clusters when the clusters' centroids agree, so a chain of look-alike
   items (A~B, B~C) cannot pull two stories (A, C) together.  A `related:`
   link between the two sides lowers the bar by `related_bonus`; it never
   merges anything on its own.

Every item but the first of a cluster gets a reason: the signal and score
that attached it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .similarity import Vectors, centroid, combine_one, cosine


#: Word (or cross-language anchor) similarity at which a related link's bonus counts in full.
RELATED_AGREEMENT = 0.3


class UnionFind:
    def __init__(self, count: int) -> None:
        self.parent = list(range(count))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> int:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)
        return min(ri, rj)


@dataclass(slots=True)
class Cluster:
    members: list[int]
    first: float  # earliest dated member, in days (inf when none)
    last: float
    languages: set[str] = field(default_factory=set)
    anchors: dict[int, float] | None = None
    words: dict[int, float] | None = None


def must_links(
    count: int, links: Iterable[tuple[int, int, str]], reasons: dict[int, str], times: np.ndarray, window_days: float
) -> UnionFind:
    """Join the pairs that are the same article; each end that has no reason yet records why.

    Copies found by text (not by URL) only join while the group stays inside the
    time window, so that an undated copy cannot chain a January item to a June one.
    """
    groups = UnionFind(count)
    # Per group root, its earliest and latest dated member (np.isnan per Python float costs a microsecond).
    undated = np.isnan(times)
    first = np.where(undated, np.inf, times).tolist()
    last = np.where(undated, -np.inf, times).tolist()
    for i, j, reason in links:
        ri, rj = groups.find(i), groups.find(j)
        if ri == rj:
            continue
        if not reason.startswith("canonical-url") and first[ri] != float("inf") and first[rj] != float("inf"):
            if max(first[ri] - last[rj], first[rj] - last[ri]) > window_days:
                continue
        root = groups.union(i, j)
        first[root], last[root] = min(first[ri], first[rj]), max(last[ri], last[rj])
        # Either end may become the lead; the other one shows the reason.
        reasons.setdefault(j, reason)
        reasons.setdefault(i, reason)
    return groups


def story_merges(
    groups: UnionFind,
    vec: Vectors,
    langs: Sequence[str],
    times: np.ndarray,
    pairs: np.ndarray,
    scores: np.ndarray,
    related: set[tuple[int, int]],
    threshold: float,
    related_bonus: float,
    window_days: float,
    reasons: dict[int, str],
) -> list[list[int]]:
    """Merge must-link groups into stories, best candidate pair first; return every cluster."""
    clusters = _must_link_clusters(groups, langs, times)
    # A pair can only ever merge if its own score, plus the bonus, could reach the bar;
    # the others (most pairs) are not even sorted.
    reachable = np.flatnonzero(scores + related_bonus >= threshold)
    order = reachable[np.argsort(-scores[reachable], kind="stable")]
    for (i, j), pair_score in zip(pairs[order].tolist(), scores[order].tolist()):
        bonus = related_bonus if (i, j) in related else 0.0
        if pair_score + bonus < threshold:
            continue
        ri, rj = groups.find(i), groups.find(j)
        if ri == rj:
            continue
        first, second = clusters[ri], clusters[rj]
        if _apart(first, second, window_days):
            continue
        anchor_sim, word_sim, has_anchors, has_words = _centroid_similarity(vec, first, second)
        score = combine_one(anchor_sim, word_sim, has_anchors, has_words)
        if bonus:
            # A related link is an outlet's "see also": it counts in full only when the
            # texts already agree (words, or anchors across languages), never on its own.
            agreement = word_sim if has_words else anchor_sim
            bonus = related_bonus * min(1.0, agreement / RELATED_AGREEMENT)
        if score + bonus < threshold:
            continue
        root = groups.union(ri, rj)
        merged, joined = (first, second) if root == ri else (second, first)
        merged.members.extend(joined.members)
        merged.languages |= joined.languages
        merged.first, merged.last = min(merged.first, joined.first), max(merged.last, joined.last)
        merged.anchors = merged.words = None  # recomputed on next use
        del clusters[rj if root == ri else ri]
        how = (f"anchors {anchor_sim:.2f}" if has_anchors else "no anchors") + (
            f", words {word_sim:.2f}" if has_words else ", across languages"
        )
        if bonus:
            how += f", related link +{bonus:.2f}"
        why = f"same story {score + bonus:.2f} ({how})"
        for member in joined.members:
            reasons.setdefault(member, why)
        for member in merged.members:
            reasons.setdefault(member, why)
    return [cluster.members for cluster in clusters.values()]


def _must_link_clusters(groups: UnionFind, langs: Sequence[str], times: np.ndarray) -> dict[int, Cluster]:
    """One cluster per must-link group, by its root."""
    clusters: dict[int, Cluster] = {}
    find = groups.find
    for i, (lang, when) in enumerate(zip(langs, times.tolist())):
        root = find(i)
        cluster = clusters.get(root)
        dated = not math.isnan(when)
        if cluster is None:
            # Most groups are one item: made whole at once (min(inf, when) is when).
            clusters[root] = Cluster([i], when, when, {lang}) if dated else Cluster([i], math.inf, -math.inf, {lang})
            continue
        cluster.members.append(i)
        cluster.languages.add(lang)
        if dated:
            cluster.first = min(cluster.first, when)
            cluster.last = max(cluster.last, when)
    return clusters


def _apart(first: Cluster, second: Cluster, window_days: float) -> bool:
    """True when every dated member of one cluster is further than the window from the other's."""
    if first.first == float("inf") or second.first == float("inf"):
        return False
    gap = max(first.first - second.last, second.first - first.last)
    return gap > window_days


def _centroid_similarity(vec: Vectors, first: Cluster, second: Cluster) -> tuple[float, float, bool, bool]:
    for cluster in (first, second):
        if cluster.anchors is None:
            cluster.anchors, cluster.words = centroid(vec, cluster.members)
    has_anchors = bool(first.anchors) and bool(second.anchors)
    # Words are tagged with their language: clusters with no language in common share none.
    has_words = bool(first.languages & second.languages) and bool(first.words) and bool(second.words)
    anchor_sim = cosine(first.anchors, second.anchors) if has_anchors else 0.0
    word_sim = cosine(first.words, second.words) if has_words else 0.0
    return anchor_sim, word_sim, has_anchors, has_words
