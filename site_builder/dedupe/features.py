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
import re
import unicodedata
from dataclasses import dataclass

from ..models import Item

#: Words kept for the text of an item: the title, the excerpt and the start of the body.
#: Syndicated copies and rewrites agree most in their first paragraphs; capping the
#: body keeps the cost per item flat whatever its length.
HEAD_WORDS = 160
_BODY_CHARS = HEAD_WORDS * 8

_WORD = re.compile(r"\w+")
# A capitalised word that does not open a sentence or a line: a name.
_NAME = re.compile(
    r"(?<![.!?:;\"“”»«]\s)(?<![.!?:;]\s\s)(?<!^)(?<![\w'’.])"
    r"([A-ZÀ-ÖØ-ÞĀ-ž][\w'’\-]*\w)",
    re.MULTILINE,
)
# A capitalised word that opens a sentence: a name only if other items use it as one (see similarity.py).
_OPENING = re.compile(r"(?:^|(?<=[.!?:;\"“”»«]\s))([A-ZÀ-ÖØ-ÞĀ-ž][\w'’\-]*\w)", re.MULTILINE)
# Acronyms and mixed-case product names anywhere, even opening a sentence (LLM, OpenAI, iScience, GPT-4).
_ACRONYM = re.compile(r"(?<![\w\-])((?:[A-Z][A-Z0-9&]{1,7}|[a-z]+[A-Z][\w]*|[A-Z][a-z]+[A-Z][\w]*)(?:-\d\w*)?)(?![\w])")
# Numbers of two digits or more, or with a decimal part: amounts, years, scores, model sizes.
_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)")
_POSSESSIVE = re.compile(r"['’]s?$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Features:
    """Per-item inputs of every signal; plain data so that it pickles into the cache."""

    #: Lower-cased words of the head (title, excerpt, start of body), in order: shingle input.
    tokens: tuple[str, ...]
    #: Distinct content words of the head, for similarity inside one language.
    words: frozenset[str]
    #: Distinct words of the title alone: a headline says what the story is.
    title_words: frozenset[str]
    #: Language-agnostic anchors, case-folded: names, acronyms, numbers.
    anchors: frozenset[str]
    #: Capitalised words that open a sentence ("Facebook said..."): anchors when other items agree.
    openers: frozenset[str]
    #: Anchors of the title alone: the subject of the headline ("ElectrifAi", "TensorIoT").
    title_anchors: frozenset[str]
    #: Words this item writes in lower case: no collection-wide name is ever written so.
    lower: frozenset[str]
    #: Digest of the whole normalised text: identical texts are one story whatever their URL.
    text_digest: str


def item_text(item: Item) -> str:
    """Title, excerpt and body as one text, each on its own line(s)."""
    return "\n".join(part for part in (item.title, item.excerpt, item.body) if part)


def extract(item: Item) -> Features:
    head = "\n".join(part for part in (item.title, item.excerpt, item.body[:_BODY_CHARS]) if part)
    tokens = _WORD.findall(head.lower())[: HEAD_WORDS + 80]
    title_tokens = _WORD.findall(item.title.lower())
    anchors = anchors_of(item, head)
    whole = _SPACES.sub(" ", item_text(item).lower()).strip()
    return Features(
        tokens=tuple(tokens),
        words=frozenset(t for t in tokens if len(t) > 2 and not t.isdigit()),
        title_words=frozenset(t for t in title_tokens if len(t) > 2 and not t.isdigit()),
        anchors=frozenset(anchors),
        openers=frozenset(_openers(item, head) - anchors),
        title_anchors=frozenset(a for a in anchors if a in _title_terms(item.title)),
        lower=frozenset(w for w in _WORD.findall(head) if w.islower() and len(w) > 2),
        text_digest=hashlib.blake2b(whole.encode("utf-8"), digest_size=12).hexdigest(),
    )


def anchors_of(item: Item, head: str) -> set[str]:
    """Names, acronyms and numbers of an item's head, case-folded.

    Capitalisation marks a name only mid-sentence.  A line in Title Case (a
    headline, a section heading) capitalises every word, so its capitalised
    words count only when a sentence elsewhere capitalises them too.
    """
    prose: list[str] = []
    headings: list[str] = []
    for line in head.split("\n"):
        (headings if _is_title_case(line) else prose).append(line)
    found = _names("\n".join(prose))
    if headings:
        found |= _names("\n".join(headings)) & found
    found |= _acronyms(head)
    found |= _numbers(head)
    return found - _STOP


def _title_terms(title: str) -> set[str]:
    return {_fold(w) for w in re.findall(r"[\w'’\-]+", title)} | {_fold(w) for w in _WORD.findall(title)}


def _openers(item: Item, head: str) -> set[str]:
    prose = "\n".join(line for line in head.split("\n") if not _is_title_case(line))
    return {_fold(m) for m in _OPENING.findall(prose) if m[0].isupper()} - _STOP


def _is_title_case(line: str) -> bool:
    words = [w for w in _WORD.findall(line[:300]) if len(w) > 3 and not w[0].isdigit()]
    if not words or len(words) > 25:
        return False
    return sum(1 for w in words if w[0].isupper()) / len(words) >= 0.6


def _names(text: str) -> set[str]:
    return {_fold(m) for m in _NAME.findall(text) if m[0].isupper()}


def _acronyms(text: str) -> set[str]:
    return {_fold(m) for m in _ACRONYM.findall(text)}


def _numbers(text: str) -> set[str]:
    found = set()
    for number in _NUMBER.findall(text):
        digits = number.replace(",", "")
        if len(digits) >= 2:
            found.add(digits.rstrip("0").rstrip(".") if "." in digits else digits)
    return found


def _fold(word: str) -> str:
    word = _POSSESSIVE.sub("", word)
    return unicodedata.normalize("NFC", word).casefold()


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
