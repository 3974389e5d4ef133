"""What the deduplicator knows about one item: its words, its anchors, its text fingerprint.

Everything here depends on the item's file alone, so it is computed once per
content hash and cached (see cache.py); everything that depends on the whole
collection (rarity weights, candidate pairs) lives in similarity.py.

Anchors are the language-agnostic part of a story: the names of people,
companies and products, numbers and acronyms.  A translation keeps them
("Binyuan Hui", "Qwen", "OpenAI", "9") while every other word changes.
"""

from __future__ import annotations

import hashlib
import operator
import re
import unicodedata
from array import array
from typing import Iterable, NamedTuple

import numpy as np

from ..models import Item
from .numbering import distinct
from .shingles import word_id
from .urls import canonical_url, item_keys

#: Words kept for the text of an item: the title, the excerpt and the start of the body.
#: Syndicated copies and rewrites agree most in their first paragraphs; capping the
#: body keeps the cost per item flat whatever its length.
HEAD_WORDS = 160
_BODY_CHARS = HEAD_WORDS * 8
_ANCHOR_BODY_CHARS = 700
_TITLE_TERM = re.compile(r"[\w'’\-]+")

_WORD = re.compile(r"\w+")
# In ASCII text \w is [A-Za-z0-9_]: byte tables that turn every other byte into a space (and,
# the second, capitals into small letters), so that a split finds the words (see _words).
_SPACED = bytes(b if chr(b).isalnum() or b == ord("_") else ord(" ") for b in range(128)) + bytes(range(128, 256))
_SPACED_LOWER = _SPACED.lower()
# The second with apostrophes and hyphens kept: what _TITLE_TERM finds in ASCII text (see _title_terms).
_TERMS_SPACED_LOWER = bytes(b if b in b"'-" else _SPACED_LOWER[b] for b in range(256))
# ASCII whitespace (where str.split splits) made spaces, capitals made small letters (see _normalised).
_BLANKED_LOWER = bytes(ord(" ") if chr(b).isspace() else b for b in range(128)).lower() + bytes(range(128, 256))
_SPACE_RUNS = re.compile(rb"  +")
# Patterns start with the character class of their first letter, the lookbehinds (which then
# look one character further back) come after it: the regex engine can then skip ahead to the
# next candidate letter instead of trying every lookbehind at every position (5x faster).
# A capitalised word that does not open a sentence or a line: a name.
_NAME = re.compile(
    r"([A-ZÀ-ÖØ-ÞĀ-ž](?<![.!?:;\"“”»«]\s.)(?<![.!?:;]\s\s.)(?<!^.)(?<![\w'’.].)"
    r"[\w'’\-]*\w)",
    re.MULTILINE,
)
# A capitalised word that opens a sentence: a name only if other items use it as one (see similarity.py).
_OPENING = re.compile(r"([A-ZÀ-ÖØ-ÞĀ-ž](?:(?<=^.)|(?<=[.!?:;\"“”»«]\s.))[\w'’\-]*\w)", re.MULTILINE)
# Acronyms and mixed-case product names anywhere, even opening a sentence (LLM, AT&T, OpenAI,
# GPT-4); and, as a match of one letter, each capital that follows a small letter, where a
# word that starts in lower case may hold it (see _CAMEL).  Starting with a capital, the
# pattern can skip ahead to the next one.
_ACRONYM = re.compile(r"[A-Z](?:(?<![\w\-].)(?:[A-Z0-9&]{1,7}|[a-z]+[A-Z]\w*)(?:-\d\w*)?(?!\w)|(?<=[a-z].))")
# Mixed-case names that start in lower case (iScience, eBay), tried only where _ACRONYM found a
# capital after a small letter: starting with a small letter, the pattern would be tried nearly everywhere.
_CAMEL = re.compile(r"(?<![\w\-])([a-z]+[A-Z]\w*(?:-\d\w*)?)(?!\w)")
# Numbers of two digits or more, or with a decimal part: amounts, years, scores, model sizes.
_NUMBER = re.compile(r"(\d(?<![\w.,]\d)\d*(?:[.,]\d+)*)")
# The same for ASCII text, where it finds the same numbers: an ASCII \d is tested faster than a Unicode one.
_ASCII_NUMBER = re.compile(_NUMBER.pattern, re.ASCII)
_POSSESSIVE = re.compile(r"['’]s?$")


class Features(NamedTuple):
    """Per-item inputs of every signal; plain data so that it pickles into the cache.

    Sets of words are packed ids (sorted uint64, see `ids`): the stable 64-bit hash of
    each string, which is all that the rest of the deduplicator compares.  Bytes travel
    from the worker processes and into the cache as one object each, where a
    frozenset of strings pickles, unpickles and sits in memory string by string.
    A named tuple, not a frozen dataclass: one is made per item and per build, and a
    tuple is made at once where a frozen dataclass sets its fields one by one.
    """

    #: Ids of the lower-cased words of the head (title, excerpt, start of body), in order:
    #: shingle input (emptied once the signature is made, see cache.py; `token_count` keeps their number).
    tokens: bytes
    token_count: int
    #: Distinct content words of the head, for similarity inside one language.
    words: bytes
    #: Distinct words of the title alone: a headline says what the story is.
    title_words: bytes
    #: Language-agnostic anchors, case-folded: names, acronyms, numbers.
    anchors: bytes
    #: Capitalised words that open a sentence ("Facebook said..."): anchors when other items agree.
    openers: bytes
    #: Anchors of the title alone: the subject of the headline ("ElectrifAi", "TensorIoT").
    title_anchors: bytes
    #: Words this item writes in lower case: no collection-wide name is ever written so.
    lower: bytes
    #: Canonical URLs the item is known by (web, original, AMP, CDN-AMP), and per `related:`
    #: entry its canonical URL ("" without one): URL work is cached with the rest.
    url_keys: tuple[str, ...]
    related_keys: tuple[str, ...]
    #: Digest of the whole normalised text: identical texts are one story whatever their URL.
    text_digest: str


def ids(packed: bytes) -> np.ndarray:
    """The uint64 ids of a packed field of Features."""
    return np.frombuffer(packed, dtype=np.uint64)


class _Vocabulary(dict):
    """Words numbered in the order they are first seen and, by number, each word's stable id
    (word_id) and whether it is a content word (see `Features.words`: three letters or more,
    not a number) and a word in lower case (see `Features.lower`: three letters or more).

    The numbers index numpy arrays: an item's ~100 words are a list of numbers (one look-up
    each), and numpy takes their ids and picks the content words and the words in lower case
    in a few vector operations, where sets of ids less sets of the ids that fail a test cost a
    Python object per word (`words` 9.7 -> 3.3 us an item, `lower` 10.3 -> 8.1).  Each word is
    tested once.
    """

    def __init__(self) -> None:
        super().__init__()
        #: Ids as Python ints, for the few strings of anchors and titles (see _packed).
        self.ids: list[int] = []
        self.id_array = np.empty(0, dtype=np.uint64)
        self.is_content = np.empty(0, dtype=bool)
        self.is_lower = np.empty(0, dtype=bool)

    def __missing__(self, word: str) -> int:
        number = len(self)
        if number == self.id_array.size:
            self._grow()
        value = word_id(word)
        self.ids.append(value)
        self.id_array[number] = value
        self.is_content[number] = _is_content(word)
        self.is_lower[number] = _is_lower_case(word)
        self[word] = number
        return number

    def _grow(self) -> None:
        """Twice the room in each array, as a list grows: a copy per doubling, not per word."""
        size = max(1 << 12, 2 * self.id_array.size)
        self.id_array = _enlarged(self.id_array, size)
        self.is_content = _enlarged(self.is_content, size)
        self.is_lower = _enlarged(self.is_lower, size)

    def clear(self) -> None:
        super().clear()
        self.ids.clear()  # numbers start again from 0: the arrays are overwritten as words come


def _is_content(word: str) -> bool:
    return len(word) > 2 and not word.isdigit()


def _is_lower_case(word: str) -> bool:
    return len(word) > 2 and word.islower()


def _enlarged(values: np.ndarray, size: int) -> np.ndarray:
    larger = np.empty(size, dtype=values.dtype)
    larger[: values.size] = values
    return larger


#: Words seen so far in this process, numbered.
#: Emptied past a million strings (~170 MB with the strings), so that a long-running preview
#: server stays bounded; the 100k-item benchmark corpus holds about 100k distinct ones.
_IDS = _Vocabulary()
_MAX_VOCABULARY = 1 << 20


def _numbered(words: list[str]) -> np.ndarray:
    """The vocabulary numbers of `words`, in an array that indexes the vocabulary's arrays.
    fromiter() fills it as the look-ups come, where np.array() of a list first inspects each
    int for the array's type (7.5 -> 6.7 us an item)."""
    return np.fromiter(map(_IDS.__getitem__, words), dtype=np.intp, count=len(words))


def _packed(strings: Iterable[str]) -> bytes:
    """The distinct ids of a few strings (anchors, the words of a title), packed: for so few,
    Python's sorted() is faster than numpy's calls."""
    return _packed_ids(set(map(_IDS.ids.__getitem__, map(_IDS.__getitem__, strings))))


def _packed_ids(ids: set[int]) -> bytes:
    """`ids` sorted and packed.  sorted() compares 64-bit ints as Python objects; past a few
    dozen, numpy sorts them in place in the packed array faster."""
    if len(ids) < 32:
        return array("Q", sorted(ids)).tobytes()
    packed = array("Q", ids)
    np.frombuffer(packed, dtype=np.uint64).sort()
    return packed.tobytes()


def _packed_content(numbers: np.ndarray) -> bytes:
    """The distinct ids of the content words among the words of these vocabulary numbers, packed."""
    return distinct(_IDS.id_array[numbers[_IDS.is_content[numbers]]]).tobytes()


def item_text(item: Item) -> str:
    """Title, excerpt and body as one text, each on its own line(s)."""
    return "\n".join(part for part in (item.title, item.excerpt, item.body) if part)


def extract(item: Item) -> Features:
    if len(_IDS) > _MAX_VOCABULARY:
        _IDS.clear()
    body = item.body[:_BODY_CHARS]
    head = "\n".join([part for part in (item.title, item.excerpt, body) if part])
    tokens = _lower_words(head)[: HEAD_WORDS + 80]
    # Names come early in a news text: anchors are read from a shorter head, which starts the head.
    anchor_head = head[: len(head) - len(body) + len(body[:_ANCHOR_BODY_CHARS])]
    prose, headings, written = _read_lines(anchor_head)
    anchors = anchors_of(prose, headings, anchor_head)
    title_terms = _title_terms(item.title)
    numbers = _numbered(tokens)
    return Features(
        tokens=_IDS.id_array[numbers].tobytes(),
        token_count=len(tokens),
        words=_packed_content(numbers),
        title_words=_packed(filter(_is_content, _lower_words(item.title))),
        anchors=_packed(anchors),
        openers=_packed(_openers(prose) - anchors),
        title_anchors=_packed(anchors & title_terms),
        lower=_lower_case(written, tokens, numbers) if head.isascii() else _lower_case_slowly(written),
        url_keys=item_keys(item),
        related_keys=tuple([canonical_url(entry.url) if entry.url else "" for entry in item.related]),
        text_digest=hashlib.blake2b(_normalised(item_text(item)), digest_size=12).hexdigest(),
    )


def _read_lines(head: str) -> tuple[str, str, list[str]]:
    """The head's prose lines, its Title Case lines (headlines, section headings), and its
    words as written: one pass over each line serves both."""
    prose: list[str] = []
    headings: list[str] = []
    written: list[str] = []
    for line in head.split("\n"):
        words = _words(line)
        written += words
        (headings if _is_title_case(line, words) else prose).append(line)
    return "\n".join(prose), "\n".join(headings), written


def _lower_case(written: list[str], tokens: list[str], numbers: np.ndarray) -> bytes:
    """Distinct ids of the words of the anchor head written in lower case (three letters or
    more), packed, for an ASCII head, without looking them up again.

    The anchor head starts the head, so its words as written are the tokens in their case, but
    the last (which the anchor head may cut short): a word is in lower case where it equals its
    token, and its number is then the token's.
    """
    if not written or len(written) - 1 > len(tokens):
        return _lower_case_slowly(written)
    *words, last = written
    same = np.fromiter(map(operator.eq, words, tokens), dtype=bool, count=len(words))
    found = np.concatenate((numbers[: len(words)][same], [_IDS[last]]))
    return distinct(_IDS.id_array[found[_IDS.is_lower[found]]]).tobytes()


def _lower_case_slowly(written: list[str]) -> bytes:
    return _packed(filter(_is_lower_case, written))


def _words(text: str) -> list[str]:
    """What _WORD finds in `text`; in ASCII text (most) by bytes.translate and split,
    twice as fast as the pattern."""
    if text.isascii():
        return text.encode().translate(_SPACED).decode().split()
    return _WORD.findall(text)


def _lower_words(text: str) -> list[str]:
    """What _WORD finds in `text.lower()`, as fast as _words."""
    if text.isascii():
        return text.encode().translate(_SPACED_LOWER).decode().split()
    return _WORD.findall(text.lower())


def _title_terms(title: str) -> set[str]:
    """The terms of the title (_TITLE_TERM), folded."""
    if title.isascii() and "'" not in title:
        # Folded, ASCII terms without an apostrophe are in lower case: one translate and one
        # split for the whole title instead of the pattern and a fold per term (1.7 -> 0.7 us
        # an item; 97 % of the benchmark's titles).  An apostrophe is stripped before the fold.
        return set(title.encode().translate(_TERMS_SPACED_LOWER).decode().split())
    return {_fold(w) for w in _TITLE_TERM.findall(title)}


def _normalised(text: str) -> bytes:
    """`" ".join(text.lower().split())` in UTF-8; ASCII text (most) in byte operations, without
    splitting the whole body into words."""
    if not text.isascii():
        return " ".join(text.lower().split()).encode("utf-8")
    blanked = text.encode().translate(_BLANKED_LOWER)
    # One pass of the pattern over the text: replace() halves the runs of spaces in each pass and
    # counts them before: four scans of a text with paragraphs (4.7 -> 3.3 us an item).
    return _SPACE_RUNS.sub(b" ", blanked).strip(b" ")


def anchors_of(prose: str, headings: str, head: str) -> set[str]:
    """Names, acronyms and numbers of an item's head, case-folded.

    Capitalisation marks a name only mid-sentence.  A line in Title Case (a
    headline, a section heading) capitalises every word, so its capitalised
    words count only when a sentence elsewhere capitalises them too.
    """
    found = _names(prose)
    if headings:
        found |= _names(headings) & found
    found |= _acronyms(head)
    found |= _numbers(head)
    return found - _STOP


def _openers(prose: str) -> set[str]:
    return {_fold(m) for m in set(_OPENING.findall(prose)) if m[0].isupper()} - _STOP


def _is_title_case(line: str, words: list[str]) -> bool:
    if len(line) > 240:  # headings are short; a paragraph is prose whatever its capitals
        return False
    words = [w for w in words if len(w) > 3 and not w[0].isdigit()]
    if not words or len(words) > 25:
        return False
    return sum(1 for w in words if w[0].isupper()) / len(words) >= 0.6


def _names(text: str) -> set[str]:
    return {_fold(m) for m in set(_NAME.findall(text)) if m[0].isupper()}


def _acronyms(text: str) -> set[str]:
    # No match of _CAMEL can start inside a match of _ACRONYM nor the other way round, so the
    # two find what one pattern of both would.
    found = set()
    for match in _ACRONYM.finditer(text):
        if len(match[0]) > 1:
            found.add(match[0])
            continue
        # A capital after a small letter: back to the first small letter, where such a word starts.
        start = match.start() - 1
        while start and "a" <= text[start - 1] <= "z":
            start -= 1
        camel = _CAMEL.match(text, start)
        if camel:
            found.add(camel[1])
    return {_fold(m) for m in found}


def _numbers(text: str) -> set[str]:
    found = set()
    for number in (_ASCII_NUMBER if text.isascii() else _NUMBER).findall(text):
        digits = number.replace(",", "")
        if len(digits) >= 2:
            found.add(digits.rstrip("0").rstrip(".") if "." in digits else digits)
    return found


def _fold(word: str) -> str:
    if "'" in word or "’" in word:
        word = _POSSESSIVE.sub("", word)
    if not word.isascii():
        word = unicodedata.normalize("NFC", word)
    return word.casefold()


# Capitalised function words that open clauses after a colon or quote in English
# headlines and excerpts; they name nothing.
_STOP = frozenset(
    "the a an and or but in on at of for to by with from as is are was be it its this that these those "
    "he she we they you i his her our their my your who what when where why how not no new more most "
    "mr mrs ms dr st inc ltd corp co llc plc "
    # Days and months are on every page of a news site; they date a story, they do not name it.
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june "
    "july august september october november december".split()
)
