"""Same story, reworded or translated: rarity-weighted anchors and words, compared pair by pair.

Each item becomes two sparse, idf-weighted binary vectors: its anchors
(shared by every language) and its words (title words counted twice; words
are tagged with the item's language, so they only ever match inside one
language).  Candidate pairs are the items that share a rare feature within
the time window; they are generated and scored with numpy, so the cost grows
with the number of such pairs, not with the square of the number of items.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import compress, repeat
from operator import mul
from typing import Callable, Sequence, TypeVar

import numpy as np

from .features import Features, ids
from .numbering import distinct, member, numbered, run_starts
from .shingles import Vocabulary

T = TypeVar("T")

#: Rarity prior: weights are computed as if this many more items shared none of the features,
#: so that a folder of five items weighs a name like a collection of a thousand would.
PRIOR_ITEMS = 50
#: Features in more than 2% of the items (at least MIN_COMMON_DF, at most MAX_COMMON_DF items) name
#: no particular story (the words of the trade); they are left out.  The upper bound keeps the
#: candidate pairs, which grow with the square of a feature's items, near-linear in the collection.
MIN_COMMON_DF = 40
MAX_COMMON_DF = 200
COMMON_SHARE = 50
#: Share of the anchor similarity in the score of two items of one language; the rest is words.
ANCHOR_SHARE = 0.5
#: A pair of items in two languages has only anchors to go by; their score is discounted so
#: that a handful of shared generic names (China, LLM) cannot merge two stories.
CROSS_LANGUAGE = 0.9


@dataclass(frozen=True, slots=True)
class Vectors:
    """Sparse rows (CSR) of every item's weighted features, and what each feature is."""

    indptr: np.ndarray        # row i is indices[indptr[i]:indptr[i+1]]
    indices: np.ndarray       # feature ids
    weights: np.ndarray       # idf of the feature, already divided by the row's norm (per kind)
    is_anchor: np.ndarray     # per feature id: anchor (True) or word
    anchor_norm: np.ndarray   # per item: norm of its anchor part before normalising (0: no anchors)
    word_norm: np.ndarray
    #: Row offsets and where each row's anchors end, as Python lists, made on first use (see
    #: _row_layout): centroid() reads thousands of single rows, and numpy's scalar indexing and
    #: boolean masks cost microseconds each on slices this small.
    _layout: list = field(default_factory=list, compare=False, repr=False)

    def row(self, i: int) -> tuple[list[int], list[float], list[int], list[float]]:
        """Row i as Python lists: its anchors' ids and weights, then its words' ids and weights.

        Made anew on every call: kept, the lists of thousands of rows cost more in memory
        traffic than making them again does.
        """
        if not self._layout:
            self._layout.extend(_row_layout(self))
        offsets, anchor_ends = self._layout
        start, split, end = offsets[i], anchor_ends[i], offsets[i + 1]
        ids, weights = self.indices[start:end].tolist(), self.weights[start:end].tolist()
        if split < 0:  # anchors and words interleave in this row (see _row_layout)
            is_anchor = self.is_anchor[self.indices[start:end]].tolist()
            is_word = [not anchor for anchor in is_anchor]
            return (list(compress(ids, is_anchor)), list(compress(weights, is_anchor)),
                    list(compress(ids, is_word)), list(compress(weights, is_word)))
        split -= start
        return ids[:split], weights[:split], ids[split:], weights[split:]


def _row_layout(vec: Vectors) -> tuple[list[int], list[int]]:
    """Row offsets, and per row the offset where its anchors end (-1: anchors and words interleave).

    vectors() orders each row's anchor entries before its word entries; but a word whose 64-bit
    key is also some item's anchor (a hash collision) is one feature, an anchor by `is_anchor`,
    among the words of its row.
    """
    flags = vec.is_anchor[vec.indices]
    before = np.zeros(flags.size + 1, dtype=np.int64)  # anchors before each entry
    np.cumsum(flags, out=before[1:])
    starts, ends = vec.indptr[:-1], vec.indptr[1:]
    anchor_ends = starts + (before[ends] - before[starts])
    # A row is in order when the entries before its anchor end are all anchors.
    in_order = before[anchor_ends] - before[starts] == anchor_ends - starts
    return vec.indptr.tolist(), np.where(in_order, anchor_ends, -1).tolist()


def vectors(features: Sequence[Features], langs: Sequence[str]) -> Vectors:
    """Idf-weighted, per-kind unit vectors over the features rare enough to name a story."""
    # Features are keyed by a stable 64-bit hash of their string (blake2b, see features.py), salted
    # by kind and language, then numbered in order (numbering.py).  Not Python's hash(): it changes
    # with every process, and with it the order of the float sums, so a score at the threshold
    # would flip between two builds of the same content.
    count = len(features)
    anchors, anchor_owner = _flat(features, "anchors")
    openers, opener_owner = _flat(features, "openers")
    # A word opening a sentence is a name when some item uses it as a name mid-sentence
    # and no item writes it in lower case ("Facebook said", not "Importantly, ...").
    distinct_anchors = distinct(anchors)
    named = distinct_anchors[~member(distinct_anchors, distinct(_flat(features, "lower")[0]))]
    is_named = member(openers, named)
    del distinct_anchors, named
    stable = Vocabulary()
    salts = {lang: (stable["w\x00" + lang], stable["t\x00" + lang]) for lang in set(langs)}
    word_salt = np.array([salts[lang][0] for lang in langs], dtype=np.uint64)
    title_salt = np.array([salts[lang][1] for lang in langs], dtype=np.uint64)
    words, word_owner = _flat(features, "words")
    title_words, title_owner = _flat(features, "title_words")
    # One entry per (item, feature), millions at 100k items: arrays are dropped as soon as they are used.
    anchor_entries = anchors.size + int(is_named.sum())
    keys = np.concatenate([anchors, openers[is_named], words ^ word_salt[word_owner], title_words ^ title_salt[title_owner]])
    del anchors, openers, words, title_words
    owner = np.concatenate([anchor_owner, opener_owner[is_named], word_owner, title_owner])
    del anchor_owner, opener_owner, word_owner, title_owner
    unique_keys, indices = numbered(keys)
    del keys
    # Each item's row: its anchors (named openers included) in order of id, then its words
    # and title words (tagged with its language) in order of tagged id; one sort of
    # (item, kind, feature number) packed into one integer orders them all.
    feature_bits = max(1, int(unique_keys.size).bit_length())
    packed = owner
    packed <<= feature_bits + 1
    packed |= indices
    packed[anchor_entries:] |= 1 << feature_bits
    del owner, indices
    packed.sort()
    indices = packed & ((1 << feature_bits) - 1)
    anchor_entry = (packed & (1 << feature_bits)) == 0
    packed >>= feature_bits + 1
    owner = packed
    is_anchor = np.zeros(unique_keys.size, dtype=bool)
    is_anchor[indices[anchor_entry]] = True
    df = np.bincount(indices, minlength=unique_keys.size)
    idf = np.log((count + PRIOR_ITEMS) / (df + 1.0))
    common = df > min(MAX_COMMON_DF, max(MIN_COMMON_DF, count // COMMON_SHARE))
    idf[common] = 0.0  # per feature, before one gather per entry
    weight = idf[indices]
    # Both norms from one bincount: entries are in (item, kind) order, so each item's anchors and
    # its words are neighbouring bins, and each bin adds its squares in entry order (with no 0.0
    # terms from the other kind, which change no sum of squares).
    squares = np.bincount(owner * 2 + ~anchor_entry, weights=weight**2, minlength=2 * count)
    anchor_norm, word_norm = np.sqrt(squares[0::2]), np.sqrt(squares[1::2])
    del squares
    norm = word_norm[owner]
    norm[anchor_entry] = anchor_norm[owner[anchor_entry]]
    positive = norm > 0
    np.divide(weight, norm, out=weight, where=positive)
    weight[~positive] = 0.0
    del norm, positive
    keep = weight > 0
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(np.compress(keep, owner), minlength=count), out=indptr[1:])
    return Vectors(
        indptr=indptr,
        indices=np.compress(keep, indices),  # the same as indices[keep], several times faster
        weights=np.compress(keep, weight),
        is_anchor=is_anchor,
        anchor_norm=anchor_norm,
        word_norm=word_norm,
    )


def _flat(features: Sequence[Features], field: str) -> tuple[np.ndarray, np.ndarray]:
    """One packed id field of every item as one array, and the item of each id."""
    packed = [getattr(feature, field) for feature in features]
    lengths = np.fromiter(map(len, packed), dtype=np.int64, count=len(packed)) // 8
    return np.frombuffer(b"".join(packed), dtype=np.uint64), np.repeat(np.arange(len(packed)), lengths)


#: Shared-feature entries from which candidate_scores() works in two threads (numpy releases the
#: GIL in the calls that take the time, and the build leaves the second core idle here).
SPLIT_ENTRIES = 50_000


def candidate_scores(vec: Vectors, times: np.ndarray, window_days: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) sharing a rare feature within the window, with their anchor and word cosines.

    `times` is in days, NaN for undated items (which match at any time).  Every array
    here has one row per entry or per shared feature (millions at 100k items): each is
    dropped as soon as it is used, so that only a few of them are alive at once.
    (np.take gathers the same values as indexing with an array, a fifth faster.)

    On many entries the work is split in two threads, each with the same result as one:
    the entries at a feature's boundary (a pair never spans two features), then the pairs'
    keys at a middle key (a pair's sums never span two ranges).  Each sum still adds its
    terms in the order one thread would, so the scores are the same to the last bit.
    """
    count = vec.indptr.size - 1
    item_when = np.where(np.isnan(times), -1.0, times)
    # Features of a single item have no partner: their entries are left out before the sort.
    df = np.bincount(vec.indices, minlength=vec.is_anchor.size)
    shared = np.flatnonzero(df[vec.indices] >= 2)
    del df
    feature = np.take(vec.indices, shared)
    owner = np.take(np.repeat(np.arange(count), np.diff(vec.indptr)), shared)
    # Sort entries by (feature, time) so that each feature's partners within the window are a run.
    order = _by_feature_and_time(feature, item_when, owner)
    feature, owner = np.take(feature, order), np.take(owner, order)
    weight = np.take(vec.weights, np.take(shared, order))
    del order, shared
    if not feature.size:
        return np.empty((0, 2), dtype=np.int64), np.empty(0), np.empty(0)
    entries = (feature, owner, weight)
    terms_of = partial(_pair_terms, times=times, item_when=item_when, is_anchor=vec.is_anchor, window_days=window_days, count=count)
    split = np.searchsorted(feature, feature[feature.size // 2]) if feature.size >= SPLIT_ENTRIES else 0
    if split == 0:
        parts = [terms_of(*entries)]
    else:
        parts = _in_two_threads(partial(terms_of, *(array[:split] for array in entries)),
                                partial(terms_of, *(array[split:] for array in entries)))
    del entries, feature, owner, weight
    # The terms in one thread's order: every part's dated pairs, then every part's undated ones.
    terms = [part[kind] for kind in range(2) for part in parts if len(part) > kind]
    del parts
    size = sum(key.size for key, _, _ in terms)
    if size < SPLIT_ENTRIES:
        pair_keys, anchor_cos, word_cos = _sums_by_pair(*map(_joined, zip(*terms)))
    else:
        middle = int(np.median(np.concatenate([key[:: max(1, key.size // 4096)] for key, _, _ in terms])))
        low, high = _in_two_threads(partial(_sums_in_range, terms, middle, False), partial(_sums_in_range, terms, middle, True))
        del terms
        pair_keys, anchor_cos, word_cos = (np.concatenate(halves) for halves in zip(low, high))
    pairs = np.empty((pair_keys.size, 2), dtype=np.int64)
    np.divmod(pair_keys, count, out=(pairs[:, 0], pairs[:, 1]))
    return pairs, anchor_cos, word_cos


def _pair_terms(feature: np.ndarray, owner: np.ndarray, weight: np.ndarray, times: np.ndarray, item_when: np.ndarray,
                is_anchor: np.ndarray, window_days: float, count: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For entries sorted by (feature, time) whose features' runs are whole: one term per pair of
    entries of a feature within the window, as (pair key, contribution, is an anchor), the dated
    pairs' terms, then the undated ones' (when any), each in order of the pair's first entry."""
    undated = np.isnan(times)[owner]
    position = np.arange(feature.size)
    # Dated partners: from each entry, the later entries of the same feature up to `window` days on.
    composite = feature.astype(np.float64) * 1e7 + np.take(item_when, owner)
    span = np.searchsorted(composite, composite + window_days, side="right")
    del composite
    span -= position + 1
    span[undated] = 0
    spans = [span]
    if undated.any():
        # Undated entries come first in their feature's run: pair each with the whole run.
        span = np.searchsorted(feature, feature, side="right")
        span -= position + 1
        span[~undated] = 0
        spans.append(span)
    del span, position, undated
    terms = []
    anchor_entry = is_anchor[feature]
    for span in spans:
        # Every entry is the left end of a run of pairs (its span): its own values repeat along the
        # run, which copies them in order where indexing by the left ends would gather them.
        right = _partners(span)
        anchor = np.repeat(anchor_entry, span)
        contribution = np.repeat(weight, span)
        contribution *= np.take(weight, right)
        a = np.repeat(owner, span)
        b = np.take(owner, right)
        del right
        distinct = a != b
        if not distinct.all():  # an item that shares a feature with itself (a repeat in its row) is no pair
            a, b, contribution, anchor = a[distinct], b[distinct], contribution[distinct], anchor[distinct]
        del distinct
        key = np.minimum(a, b)
        key *= count
        key += np.maximum(a, b)
        del a, b
        terms.append((key, contribution, anchor))
    return terms


def _in_two_threads(first: Callable[[], T], second: Callable[[], T]) -> list[T]:
    """first() here and second() in a thread beside it, at once; their results in that order."""
    with ThreadPoolExecutor(max_workers=1) as beside:
        later = beside.submit(second)
        return [first(), later.result()]


def _sums_in_range(terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]], middle: int, high: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_sums_by_pair() of the terms whose key is below `middle` (or, `high`, not below it), in their order."""
    chosen = [(key >= middle) if high else (key < middle) for key, _, _ in terms]
    return _sums_by_pair(*(np.concatenate([np.compress(mask, term[column]) for mask, term in zip(chosen, terms)]) for column in range(3)))


def _sums_by_pair(key: np.ndarray, contribution: np.ndarray, anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct keys in order, and per key the sum of its anchor contributions and of its word ones.

    Each sum adds its contributions in entry order, as np.bincount over the entries would (a
    threshold sits between the scores: the order of a float sum must not change).  Key, kind and
    entry number packed into one integer sort several times faster than np.unique's argsort,
    and in that order one np.bincount makes both sums.
    """
    entry_bits = int(key.size).bit_length()
    if not key.size or int(key.max()).bit_length() + 1 + entry_bits > 63:
        pair_keys, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse + ~anchor * pair_keys.size, weights=contribution, minlength=2 * pair_keys.size)
        return pair_keys, sums[: pair_keys.size], sums[pair_keys.size :]
    packed = key << 1
    packed |= ~anchor  # the kind rides along in the sort: no gather brings it back
    packed <<= entry_bits
    packed |= np.arange(key.size)
    packed.sort()
    entry = packed & ((1 << entry_bits) - 1)
    packed >>= entry_bits
    is_word = packed & 1
    packed >>= 1
    first = run_starts(packed)
    pair_keys = np.compress(first, packed)  # the same as packed[first], several times faster
    del packed
    # Bins: anchors of pair p in bin p, its words in bin p + number of pairs.
    bins = np.cumsum(first)
    bins -= 1
    is_word *= pair_keys.size
    bins += is_word
    del first, is_word
    # A key's entries keep their entry order in the sort; and where the other kind's entries were,
    # adding no 0.0 changes no sum of positive terms.
    sums = np.bincount(bins, weights=np.take(contribution, entry), minlength=2 * pair_keys.size)
    return pair_keys, sums[: pair_keys.size], sums[pair_keys.size :]


def _by_feature_and_time(feature: np.ndarray, item_when: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """np.lexsort((item_when[owner], feature)): entries by feature, then time, then position.

    Feature, rank of the time and position packed into one integer sort several times
    faster than a lexsort; a collection too big for 63 bits takes the lexsort.
    """
    levels = distinct(item_when)  # np.unique's answer: undated items are -1.0 here, never NaN
    position_bits = int(feature.size).bit_length()
    rank_bits = int(levels.size).bit_length()
    if not feature.size or int(feature.max()).bit_length() + rank_bits + position_bits > 63:
        return np.lexsort((item_when[owner], feature))
    packed = feature << (rank_bits + position_bits)
    packed |= np.searchsorted(levels, item_when)[owner] << position_bits
    packed |= np.arange(feature.size)
    packed.sort()
    packed &= (1 << position_bits) - 1
    return packed


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _partners(span: np.ndarray) -> np.ndarray:
    """The partners p + 1 ... p + span[p] of every position p, in order of p."""
    # The k-th pair overall, in the run of p starting at pair s, pairs p with p + 1 + (k - s).
    right = np.repeat(np.arange(1, span.size + 1) - (np.cumsum(span) - span), span)
    right += np.arange(right.size)
    return right


#: A title anchor mentioned by at most this many items names the headline's own subject (a company,
#: a product); in a handful of items only an anchor no other item mentions is rare enough.
SUBJECT_DF = 2
SUBJECT_MIN_ITEMS = 20


def subject_conflicts(features: Sequence[Features], pairs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Pairs whose headlines each name a rare subject the other item never mentions.

    "ElectrifAi Achieves AWS Competency" and "TensorIoT Achieves AWS Competency"
    share every other word; their subjects say they are two stories.
    """
    conflict = np.zeros(len(pairs), dtype=bool)
    if not mask.any():
        return conflict
    # An item's anchors and openers are disjoint: the items mentioning an id are its count over both.
    mentioned, df = np.unique(np.concatenate([_flat(features, "anchors")[0], _flat(features, "openers")[0]]), return_counts=True)
    rare = SUBJECT_DF if len(features) >= SUBJECT_MIN_ITEMS else 1
    title_anchors, owner = _flat(features, "title_anchors")
    at = np.minimum(np.searchsorted(mentioned, title_anchors), max(mentioned.size - 1, 0))
    is_rare = (mentioned[at] == title_anchors) & (df[at] <= rare) if mentioned.size else np.zeros(title_anchors.size, dtype=bool)
    has_subject = np.bincount(owner[is_rare], minlength=len(features)) > 0
    # Only pairs where both headlines name a rare subject can conflict (looked up for the
    # pairs of the mask alone, a small share of all pairs).
    chosen = np.flatnonzero(mask)
    chosen = chosen[has_subject[pairs[chosen, 0]] & has_subject[pairs[chosen, 1]]]
    subject, subject_owner = title_anchors[is_rare], owner[is_rare]
    involved = distinct(pairs[chosen].ravel())
    lo, hi = np.searchsorted(subject_owner, involved, side="left"), np.searchsorted(subject_owner, involved, side="right")
    subjects = {i: set(subject[a:b].tolist()) for i, a, b in zip(involved.tolist(), lo.tolist(), hi.tolist())}
    for index in chosen.tolist():
        i, j = int(pairs[index, 0]), int(pairs[index, 1])
        if subjects[i] - _mentions(features[j]) and subjects[j] - _mentions(features[i]):
            conflict[index] = True
    return conflict


def _mentions(feature: Features) -> set[int]:
    return set(ids(feature.anchors).tolist()) | set(ids(feature.openers).tolist())


def combine(anchor_cos, word_cos, has_anchors, has_words):
    """One score from the two cosines.

    Inside one language, words carry the score and shared anchors add to it in
    proportion to how much the words already agree: names alone (two Azure
    announcements, both naming Azure and Microsoft) do not make a story, and
    short excerpts often name no anchor at all, so missing anchors cost nothing.
    Items in two languages share no words and are judged by anchors alone,
    discounted (CROSS_LANGUAGE) because a few shared generic names (China,
    LLM) are easier to hit than a shared vocabulary.
    """
    anchor_cos = np.asarray(anchor_cos, dtype=float)
    word_cos = np.asarray(word_cos, dtype=float)
    inside = word_cos + ANCHOR_SHARE * np.where(has_anchors, anchor_cos, 0.0) * np.sqrt(word_cos)
    raw = np.where(has_words, inside, CROSS_LANGUAGE * anchor_cos)
    return np.sqrt(np.minimum(raw, 1.0))


def combine_one(anchor_cos: float, word_cos: float, has_anchors: bool, has_words: bool) -> float:
    """combine() for one pair, in Python floats: the same operations in the same order, so the same
    double (numpy's 0-d arithmetic costs ~10 µs a call, in a loop that runs thousands of times)."""
    if has_words:
        raw = word_cos + ANCHOR_SHARE * (anchor_cos if has_anchors else 0.0) * math.sqrt(word_cos)
    else:
        raw = CROSS_LANGUAGE * anchor_cos
    return math.sqrt(min(raw, 1.0))


def channels(vec: "Vectors", pairs: np.ndarray, langs) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: do both items have anchors; do both have words in one language."""
    if pairs.size == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    # Per item, one small integer: has anchors (bit 0), has words (bit 1), its language (the rest,
    # numbered: comparing an object array calls str.__eq__ pair by pair).  Two gathers per pair
    # then answer all three questions.
    codes: dict[str, int] = {}
    item = np.fromiter((codes.setdefault(code, len(codes)) for code in langs), dtype=np.int32, count=len(langs))
    item <<= 2
    item |= vec.anchor_norm > 0
    item |= (vec.word_norm > 0) << 1
    i, j = np.take(item, pairs[:, 0]), np.take(item, pairs[:, 1])
    both = i & j
    has_anchors = (both & 1) == 1
    has_words = (both & 2) == 2
    i >>= 2
    j >>= 2
    has_words &= i == j
    return has_anchors, has_words


def centroid(vec: Vectors, members: Sequence[int]) -> tuple[dict[int, float], dict[int, float]]:
    """The mean of the members' unit vectors, anchors and words apart (feature id -> weight)."""
    if len(members) == 1:
        # Most clusters compared are single items: their row is their centroid (a share of 1.0
        # changes no weight), unless a feature repeats in the row.
        anchor_ids, anchor_weights, word_ids, word_weights = vec.row(members[0])
        anchors, words = dict(zip(anchor_ids, anchor_weights)), dict(zip(word_ids, word_weights))
        if len(anchors) == len(anchor_ids) and len(words) == len(word_ids):
            return anchors, words
    anchors, words = {}, {}
    so_far_anchor, so_far_word = anchors.get, words.get
    share = 1.0 / len(members)
    for i in members:
        anchor_ids, anchor_weights, word_ids, word_weights = vec.row(i)
        for f, w in zip(anchor_ids, anchor_weights):
            anchors[f] = so_far_anchor(f, 0.0) + w * share
        for f, w in zip(word_ids, word_weights):
            words[f] = so_far_word(f, 0.0) + w * share
    return anchors, words


def cosine(first: dict[int, float], second: dict[int, float]) -> float:
    if not first or not second:
        return 0.0
    if len(first) > len(second):
        first, second = second, first
    # map() walks the dicts in C; sum() adds the same products in the same order as a generator would.
    dot = sum(map(mul, first.values(), map(second.get, first, repeat(0.0))))
    if dot == 0.0:
        return 0.0
    return dot / math.sqrt(sum(map(mul, first.values(), first.values())) * sum(map(mul, second.values(), second.values())))
