"""Plain-text files (no front-matter): find the headline, date, category and body by heuristics.

Copied-and-pasted articles look like this, and every part is optional:

    Technology                      <- a lone section word: the category
    date 2024-02-27                 <- a leading date (sometimes followed by text on the same line)
    Former Tencent AI lead says...  <- the first line that reads as a headline: the title
    ...paragraphs...                <- the body
    Leave a Comment                 <- trailing site furniture: dropped
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from ..errors import ContentError
from .language import Detect, detect_language

_DATE = re.compile(r"^\s*date[:\s]\s*(\d{4}-\d{2}-\d{2})\b[\s,.:-]*(.*)$", re.IGNORECASE)
_FURNITURE = re.compile(
    r"^(leave a (comment|reply)|your email address will not be published|required fields are marked"
    r"|cancel reply|post comment|save my name|share this|like this|click to (share|print|email)"
    r"|related( posts| articles)?:?$|you may also like|previous (post|article)|next (post|article)"
    r"|subscribe to|sign up for our newsletter|comments?$|\d+ comments?$|tags?:|filed under)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-Z\"“‘'(À-Ỹ])")


def read_plain_text(path: str, text: str, default_lang: str, errors: list[ContentError],
                    detect: Detect = detect_language) -> dict[str, Any] | None:
    lines = text.splitlines()
    while lines and (not lines[-1].strip() or _FURNITURE.match(lines[-1].strip())):
        lines.pop()
    index = _next_line(lines, 0)
    published_at = None
    category = None

    # The date line and the section word come in either order above the headline.
    while index < len(lines):
        match = _DATE.match(lines[index]) if published_at is None else None
        if match:
            try:
                published_at = datetime.strptime(match.group(1), "%Y-%m-%d").replace(tzinfo=timezone.utc)
            except ValueError:
                errors.append(ContentError(path, index + 1, f"impossible date {match.group(1)!r}", "date"))
                published_at = False  # reported once; do not read the line as a date again
            rest = match.group(2).strip()
            if rest:
                lines[index] = rest
                break
            index = _next_line(lines, index + 1)
            continue
        following = _next_line(lines, index + 1)
        if category is None and following < len(lines) and _is_section_word(lines[index]):
            category = lines[index].strip()
            index = following
            continue
        break
    if published_at is False:
        published_at = None

    if index >= len(lines):
        errors.append(ContentError(path, 1, "empty file: no headline or text"))
        return None

    first = " ".join(lines[index].split())
    if _reads_as_headline(first):
        title = first
        body_lines = lines[index + 1 :]
    else:
        title = _first_sentence(first)
        body_lines = lines[index:]
    if not title.strip(" .…"):
        # A first line of only dots (".", "...") leaves no words: a page with an empty headline helps no one.
        errors.append(ContentError(path, index + 1, "no headline: the first line of text has no words"))
        return None
    body = "\n".join(line.rstrip() for line in body_lines).strip()
    excerpt = _excerpt(body)
    lang = detect(f"{title}\n{body[:1200]}", default_lang)
    return {
        "title": title,
        "excerpt": excerpt,
        "body": body,
        "body_format": "text",
        "published_at": published_at,
        "category": category,
        "topics": (category,) if category else (),
        "lang": lang,
        "lang_detected": True,
    }


def _next_line(lines: list[str], start: int) -> int:
    while start < len(lines) and not lines[start].strip():
        start += 1
    return start


def _is_section_word(line: str) -> bool:
    words = line.split()
    return 1 <= len(words) <= 2 and len(line.strip()) <= 24 and words[0][:1].isupper() and line.strip()[-1].isalnum()


def _reads_as_headline(line: str) -> bool:
    words = line.split()
    if not 2 <= len(words) <= 30 or len(line) > 220:
        return False
    # A sentence ends in a full stop; a headline does not (but may end in ? or !).
    return not line.endswith((".", ",", ";", ":")) or line.endswith("...")


def _first_sentence(paragraph: str) -> str:
    sentence = _SENTENCE_END.split(paragraph, 1)[0].rstrip(".")
    if len(sentence) <= 120:
        return sentence
    return sentence[:117].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _excerpt(body: str, limit: int = 300) -> str:
    for paragraph in body.splitlines():
        paragraph = " ".join(paragraph.split())
        if len(paragraph) >= 80 or paragraph.endswith((".", "…", "!", "?")):
            if len(paragraph) <= limit:
                return paragraph
            return paragraph[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return ""
