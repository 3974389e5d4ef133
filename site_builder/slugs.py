"""URL slugs: ASCII, lower case, safe as one path segment, stable across builds."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into ASCII plus a mark.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
                          "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th"})
_RESERVED = {"", ".", "..", "con", "prn", "aux", "nul", "page", "index"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}


def slugify(text: str, max_length: int = 80) -> str:
    """"Lịch trình làm việc" -> "lich-trinh-lam-viec"; "" when nothing usable is left."""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return "" if slug in _RESERVED else slug


def unique_slugs(wanted: list[tuple[str, str]]) -> dict[str, str]:
    """Map each (key, wanted slug), in priority order, to a distinct slug.

    The first to want a slug keeps it; later ones get the slug plus the start of
    their key, which is stable because keys are (story ids, domains, ...).
    """
    taken: set[str] = set()
    out: dict[str, str] = {}
    for key, slug in wanted:
        candidate = slug or key[:12]
        if candidate in taken:
            candidate = f"{slug}-{key[:6]}" if slug else key
            width = 6
            while candidate in taken:
                width += 2
                candidate = f"{slug}-{key[:width]}"
        taken.add(candidate)
        out[key] = candidate
    return out
