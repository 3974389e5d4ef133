"""Language detection for items that do not say their language (py3langid ships its model).

py3langid walks a byte automaton in pure Python, one text at a time: about
0.4 ms per item, half of all loading.  `Languages` collects the samples of a
batch of files instead and walks the automaton over all of them at once with
numpy, one step per byte position; the scores are py3langid's own (naive
Bayes over the same model, normalised the same way), and so are the answers:
where float32 sums could fall on either side of MIN_PROBABILITY, the text is
scored again in float64.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .. import usercache

_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_LETTER = r"[^\W\d_]"
#: Characters looked at: langid's cost grows with the text, its accuracy stops growing long before.
SAMPLE = 320
#: Fewer letters than this say nothing about a language: the site's default is used.
MIN_LETTERS = 12
# At least MIN_LETTERS letters, found without listing them all (letters and non-letters are disjoint: linear).
_ENOUGH_LETTERS = re.compile(rf"(?:[\W\d_]*{_LETTER}){{{MIN_LETTERS}}}")
#: Below this probability the guess is not trusted: the site's default is used.
MIN_PROBABILITY = 0.6
#: Texts walked together, one numpy step per byte position for all of them: fewer texts take more
#: steps each, more take more memory (10k items: 256 and 512 were 5-15 % slower, 2048 and 4096 no
#: faster).  A multiple of BLOCK.
CHUNK = 1024
#: Texts scored together, by one product of matrices: it multiplies every feature of the block by
#: zero for the texts without it, while gathering the features' rows costs per block (10k items: 8
#: to 24 were as fast, 32 5 % and 64 17 % slower).
BLOCK = 16

#: The type of the `detect` argument readers take: (text, default language) -> language.
Detect = Callable[[str, str], str]


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray, list[str], list[tuple[int, int]]]:
    """py3langid's model as numpy arrays: the automaton's moves, the feature each move completes, the
    start row, P(t|c), P(c), the labels and the aliased label columns.

    py3langid ships its model xz-compressed: unpacking it costs half a second in every build.  The
    arrays are kept unpacked in the user's cache folder (like __pycache__: derived from the installed
    package, rebuilt when it changes) and mapped from there, so forked workers share their pages.
    """
    folder = _model_cache()
    if folder is not None:
        try:
            return _read_tables(folder)
        except (OSError, ValueError, KeyError):
            pass  # not there yet, or damaged: made again below
    tables = _tables_from_package()
    if folder is not None:
        _write_tables(folder, tables)
    return tables


_ARRAYS = ("moves", "completes", "ptc", "pc")
#: Named in the cache folder's name: a folder written in another layout is never read as this one.
_LAYOUT = 2


def _tables_from_package() -> tuple:
    from py3langid.langid import _load_identifier  # imported here: only a first build pays for it

    ident = _load_identifier(norm_probs=True)
    nextmove = np.frombuffer(ident.tk_nextmove, dtype=np.uint32)
    rowbase = np.asarray(ident._rowbase, dtype=np.int64)
    # py3langid steps state = nextmove[rowbase[state] + byte], then looks up output[state]: three
    # lookups per byte.  Indexed by (row + byte) instead, `moves` holds the next state's row and
    # `completes` its output, so the walk takes one lookup per byte and the outputs are gathered
    # once, after it.
    return (rowbase[nextmove].astype(np.uint32), np.asarray(ident.tk_output, dtype=np.int32)[nextmove],
            int(rowbase[0]), np.asarray(ident.nb_ptc, dtype=np.float32), np.asarray(ident.nb_pc, dtype=np.float32),
            list(ident.nb_classes), [list(pair) for pair in ident._alias_pairs])


def _model_cache() -> Path | None:
    """This installation's folder for the unpacked model, named after the model file's size and time."""
    try:
        import py3langid

        model = Path(py3langid.__file__).parent / "data" / "model.npz.xz"
        stat = model.stat()
    except (OSError, ImportError):
        return None
    root = usercache.root()
    return root / f"langid-{stat.st_size}-{stat.st_mtime_ns}-{sys.byteorder}-{_LAYOUT}" if root is not None else None


def _read_tables(folder: Path) -> tuple:
    # Plain arrays over the mapped files: np.memmap indexes through Python code, 131k times per 10k items.
    moves, completes, ptc, pc = [np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r")) for name in _ARRAYS]
    extra = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    return (moves, completes, int(extra["start"]), ptc, pc, extra["labels"], [tuple(pair) for pair in extra["aliases"]])


def _write_tables(folder: Path, tables: tuple) -> None:
    """Best effort: a folder that cannot be written only means the next build unpacks the model again."""
    temporary = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    try:
        temporary.mkdir(parents=True, exist_ok=True)
        moves, completes, start, ptc, pc, labels, aliases = tables
        for name, array in zip(_ARRAYS, (moves, completes, ptc, pc)):
            np.save(temporary / f"{name}.npy", array)
        (temporary / "labels.json").write_text(json.dumps({"labels": labels, "aliases": aliases, "start": start}), encoding="utf-8")
        os.replace(temporary, folder)
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
        return
    usercache.prune(folder, "langid-")  # each installation of py3langid makes its own (130 MB)


def warm_language_model() -> None:
    """Load the model now (before forking workers, so they share it)."""
    _tables()


def detect_language(text: str, default: str) -> str:
    """The language of `text` as a BCP 47 code, or `default` when the text is too short or unclear."""
    return _detect(text[:SAMPLE], default)


@lru_cache(maxsize=65_536)
def _detect(sample: str, default: str) -> str:
    # Cached: related entries repeat across items, and syndicated copies repeat whole texts.
    return classify([sample], [default])[0]


def classify(samples: Sequence[str], defaults: Sequence[str]) -> list[str]:
    """The language of each sample, or its default when the sample is too short or unclear."""
    result = list(defaults)
    encoded: list[bytes] = []
    positions: list[int] = []
    for index, sample in enumerate(samples):
        if _ENOUGH_LETTERS.match(sample):
            encoded.append(_encode(sample))
            positions.append(index)
    if not encoded:
        return result
    # Texts of similar length walk together: padding costs steps.
    lengths = list(map(len, encoded))
    order = sorted(range(len(encoded)), key=lengths.__getitem__)
    labels = _tables()[5]
    for start in range(0, len(order), CHUNK):
        chunk = order[start : start + CHUNK]
        best, probability = _classify_chunk([encoded[k] for k in chunk])
        for k, label, p in zip(chunk, best.tolist(), probability.tolist()):
            if p >= MIN_PROBABILITY:
                result[positions[k]] = labels[label]
    return result


def _encode(text: str) -> bytes:
    """As py3langid encodes a str: all-capitals lowered, NFC, UTF-8."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def _classify_chunk(texts: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Best class and its probability for each text (all non-empty, shortest first)."""
    ptc, pc = _tables()[3:5]
    count = len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.intp, count=count)
    rows, feature, counts = _features(texts, lengths)
    weight = np.log1p(counts.astype(np.float32))
    # The chunk's features, numbered densely: each block's are found among these few thousand.
    used, feature = _renumbered(feature, ptc.shape[0])
    scores = np.empty((count, pc.size), dtype=np.float32)
    bounds = np.searchsorted(rows, np.arange(0, count + BLOCK, BLOCK)).tolist()
    for block, low, high in zip(range(0, count, BLOCK), bounds, bounds[1:]):
        _score_block(rows[low:high] - block, feature[low:high], weight[low:high], used, scores[block : block + BLOCK])
    scores += pc
    # Scores of texts without a single feature stay 0 (uniform), as in py3langid.
    terms = np.bincount(rows, minlength=count)
    scores[terms == 0] = 0.0
    # norm_probs: a softmax at temperature sqrt(bytes).
    scores *= (1.0 / np.sqrt(lengths.astype(np.float32)))[:, None]
    # How far float32 can be off: a sum of n terms of one sign (weights > 0, log P < 0), in any order,
    # is within n * 2**-24 of its value, relatively (Higham, Accuracy and Stability of Numerical
    # Algorithms, 3.1); shifted by P(c) and scaled, a score is within `error` of its exact value, so
    # the best probability is within a factor exp(2 * error) of its own, give or take the float32
    # softmax's rounding (under 2**-14 for 142 classes).
    error = (terms + 8) * 2.0**-24 * (np.abs(scores).max(axis=1) + np.abs(pc).max())
    best, probability = _softmax(scores)
    # Where that could cross the bar (about 1 text in 200), the text is scored again in float64: its
    # answer is then that of py3langid's model in exact arithmetic, whatever texts share its block.
    # A float32 probability moves by up to 4e-5 with the other texts of the block (the product sums
    # in another order), and py3langid's own sums in yet another: no float32 order is the reference.
    doubtful = np.flatnonzero(np.abs(probability - MIN_PROBABILITY) <= probability * (4 * error + 2.0**-14)).tolist()
    if doubtful:
        probability = probability.astype(np.float64)
        exact = np.zeros((len(doubtful), pc.size))
        for index, text in enumerate(doubtful):
            low, high = np.searchsorted(rows, [text, text + 1]).tolist()
            if high > low:
                exact[index] = weight[low:high].astype(np.float64) @ ptc[used[feature[low:high]]].astype(np.float64) + pc
        exact *= (1.0 / np.sqrt(lengths[doubtful].astype(np.float64)))[:, None]
        best[doubtful], probability[doubtful] = _softmax(exact)
    return best, probability


def _features(texts: list[bytes], lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (text, feature) pair of the texts (shortest first) and its count, ordered by text then feature."""
    moves, completes, start, ptc = _tables()[:4]
    count = len(texts)
    width = int(lengths.max())
    # One row per byte position, one column per text, longest first: the texts still walking at a step
    # are the first columns, and each step reads a contiguous row.  Padding is a byte whose move from
    # row 0 completes no feature; it is never walked, so it stays that move.
    pad = bytes([int(np.flatnonzero(completes[:256] < 0)[0])])
    padded = b"".join([text.ljust(width, pad) for text in reversed(texts)])
    data = np.frombuffer(padded, dtype=np.uint8).reshape(count, width).T.astype(np.intp)
    walking = (count - np.searchsorted(lengths, np.arange(width), side="right")).tolist()
    # The automaton, one byte position at a time for every text still walking.  Each step overwrites
    # its bytes with the index of its move (row + byte), for `completes` below.
    row = np.full(count, start, dtype=np.intp)
    for step, active in zip(data, walking):
        step = step[:active]
        np.add(row[:active], step, out=step)
        row = moves[step]
    features = completes[data]
    del data
    # Each (text, feature) pair as one number, text (in `texts` order) in the high bits, sorted and
    # counted: a sort of 32-bit numbers (np.unique's took ten times longer).
    shift = (ptc.shape[0] - 1).bit_length()
    key_type = np.int32 if count << shift < 2**31 else np.int64
    keys = (features.astype(key_type, copy=False) | (np.arange(count - 1, -1, -1, dtype=key_type) << shift))[features >= 0]
    del features
    keys.sort()
    first = np.empty(keys.size, dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(starts, append=keys.size).astype(np.int32)
    keys = keys[starts]
    return keys >> shift, keys & ((1 << shift) - 1), counts


def _score_block(rows: np.ndarray, feature: np.ndarray, weight: np.ndarray, used: np.ndarray, out: np.ndarray) -> None:
    """Naive Bayes as py3langid scores it, for a block of texts: sum over features of
    log(1 + count) * log P(feature | class), a product of matrices as there (np.dot): the texts by the
    features they share, times those features' rows of P(feature | class)."""
    shared, column = _renumbered(feature, used.size)
    weights = np.zeros((out.shape[0], shared.size), dtype=np.float32)
    weights[rows, column] = weight
    np.matmul(weights, _tables()[3][used[shared]], out=out)


def _renumbered(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (all below `size`) in order, and each value's number among them: what
    np.unique(values, return_inverse=True) gives, by a table of `size` rather than a sort."""
    present = np.zeros(size, dtype=bool)
    present[values] = True
    distinct = np.flatnonzero(present)
    number = np.empty(size, dtype=np.int32)
    number[distinct] = np.arange(distinct.size, dtype=np.int32)
    return distinct, number[values]


def _softmax(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The best class of each row of scaled scores and its probability, aliased labels folded into
    their first column (norm_probs).  Overwrites `scores`."""
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    for first, dupe in _tables()[6]:
        scores[:, first] += scores[:, dupe]
        scores[:, dupe] = 0.0
    best = scores.argmax(axis=1)
    return best, scores[np.arange(scores.shape[0]), best]


class Languages:
    """Detection put off until a whole batch of files is read, then done for all at once.

    `detect` hands out a placeholder; `settle` replaces the placeholders in an
    item's fields (its language, its related entries' languages) by the answers.
    """

    _MARK = "\x00lang:"

    def __init__(self) -> None:
        self._samples: list[str] = []
        self._defaults: list[str] = []
        self._known: dict[tuple[str, str], str] = {}
        self._answers: list[str] | None = None

    def detect(self, text: str, default: str) -> str:
        key = (text[:SAMPLE], default)
        mark = self._known.get(key)
        if mark is None:
            mark = self._known[key] = f"{self._MARK}{len(self._samples)}"
            self._samples.append(key[0])
            self._defaults.append(default)
        return mark

    def settle(self, fields: dict[str, Any]) -> dict[str, Any]:
        if self._answers is None:
            self._answers = classify(self._samples, self._defaults)
        fields["lang"] = self._answer(fields["lang"])
        related = fields.get("related")
        if related and any(entry.lang and entry.lang.startswith(self._MARK) for entry in related):
            fields["related"] = tuple(dataclasses.replace(entry, lang=self._answer(entry.lang)) for entry in related)
        return fields

    def _answer(self, value: str | None) -> str | None:
        if value and value.startswith(self._MARK):
            assert self._answers is not None
            return self._answers[int(value[len(self._MARK):])]
        return value


def is_language_tag(value: str) -> bool:
    return bool(_BCP47.match(value))
