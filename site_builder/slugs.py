"""URL slugs: ASCII, lower case, safe as one path segment, stable across builds."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

# Letters that NFKD does not decompose into ASCII plus a mark.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
                          "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_RESERVED = {"", ".", "..", "con", "prn", "aux", "nul", "page", "index"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}


@lru_cache(maxsize=1 << 17)  # a pure function of its text; the preview server re-ranks after every edit
def slugify(text: str, max_length: int = 80) -> str:
    """"Lịch trình làm việc" -> "lich-trinh-lam-viec"; "" when nothing usable is left."""
    if text.isascii():
        text = text.lower()  # what the rest does to ASCII text (most titles), at half the cost: ranking waits on it
    else:
        text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
        text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG.sub("-", text).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return "" if slug in _RESERVED else slug


def unique_slugs(wanted: list[tuple[str, str]], collisions: list[tuple[str, str, str]] | None = None) -> dict[str, str]:
    """Map each (key, wanted slug), in priority order, to a distinct slug.

    The first to want a slug keeps it; later ones get the slug plus the start of
    their key, which is stable because keys are (story ids, domains, ...).
    Each time a key cannot have the slug it wanted, (key, wanted slug, key that
    has it) is appended to `collisions`, so the caller can tell the user.
    """
    taken: dict[str, str] = {}
    out: dict[str, str] = {}
    for key, slug in wanted:
        # A key is used in the URL only when it is itself a safe slug: a topic named
        # "../" or "ＣＯＮ" slugifies to "", and its key must not become a path segment.
        safe_key = key if _SAFE_KEY.fullmatch(key) and key.lower() not in _RESERVED else _digest(key)
        candidate = slug or safe_key[:12]
        if candidate in taken:
            if slug and collisions is not None:
                collisions.append((key, slug, taken[candidate]))
            candidate = f"{slug}-{safe_key[:6]}" if slug else safe_key
            width = 6
            while candidate in taken:
                width += 2
                candidate = f"{slug}-{safe_key[:width]}" if width <= len(safe_key) else f"{slug}-{_digest(key + str(width))[:12]}"
        taken[candidate] = key
        out[key] = candidate
    return out


_SAFE_KEY = re.compile(r"[a-z0-9]+([.-][a-z0-9]+)*")


def _digest(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()
