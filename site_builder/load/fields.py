"""Front-matter fields -> typed values, each problem recorded with its file and line.

A bad field is dropped with an error and the item still loads with the rest:
one wrong heat never costs a reader the story.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timezone
from typing import Any, Callable

from ..errors import ContentError
from ..models import Image, Provider, Related

MAX_RELATED = 100
MAX_TEXT = 200_000
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_KEY = re.compile(r"""^["']?([^\s:"'#][^:"']*)["']?\s*:""")
_NUMBER = re.compile(r"\s*-?\d+(\.\d+)?\s*")
_SITE_PATH = re.compile(r"/(?!/)[\w./%+-]*")
_DOMAIN = re.compile(r"[a-z0-9.-]{1,253}")
_HTTP_URL = re.compile(r"^https?://[^/\s?#]+", re.IGNORECASE)
_SPACED_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d")


class FieldReader:
    """Reads fields of one file's front-matter; remembers where each top-level key is."""

    def __init__(self, path: str, front_matter: str, first_line: int, errors: list[ContentError]) -> None:
        self.path = path
        self.errors = errors
        self.front_matter = front_matter
        self._lines: dict[str, int] | None = None
        self.first_line = first_line

    @property
    def lines(self) -> dict[str, int]:
        """Top-level key -> its line; worked out at the first problem (most files have none)."""
        if self._lines is None:
            self._lines = {}
            for offset, line in enumerate(self.front_matter.splitlines()):
                match = _KEY.match(line)
                if match and match.group(1) not in self._lines:
                    self._lines[match.group(1)] = self.first_line + offset
        return self._lines

    def line_of(self, key: str) -> int:
        return self.lines.get(key.split(".")[0].split("[")[0], self.first_line)

    def error(self, key: str, message: str, warning: bool = False) -> None:
        self.errors.append(ContentError(self.path, self.line_of(key), message, key, warning))

    # Each reader returns None (and records an error) when the value is unusable.

    def text(self, key: str, value: Any) -> str | None:
        if value is None:
            return None
        if type(value) is not str:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self.error(key, f"expected text, got {_describe(value)}")
                return None
            value = str(value)
        # Control characters and lone surrogates ("\ud800" in YAML) cannot be written as
        # UTF-8 or carried by XML feeds; they never mean anything in a headline.  Both are
        # unprintable to Python, which tells so faster than the expression can look for them.
        if not value.isprintable():
            value = _UNPRINTABLE.sub("", value)
        text = value.strip()
        if len(text) > MAX_TEXT:
            self.error(key, f"longer than {MAX_TEXT} characters; cut", warning=True)
            text = text[:MAX_TEXT]
        return text

    def number(self, key: str, value: Any, low: int, high: int) -> int | None:
        if value is None:
            return None
        if type(value) is int and low <= value <= high:  # the usual case (heat: 56): nothing to check or round
            return value
        given = value
        if isinstance(value, str) and _NUMBER.fullmatch(value):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            # Name what the file says ('999…' with 5 000 digits), not what float() made of it (inf).
            self.error(key, f"expected a number, got {_describe(given)}")
            return None
        if not low <= value <= high:
            # Real feeds overshoot (heat: 141): keep the signal, clamped, and say so.
            self.error(key, f"{value} is outside {low}..{high}; clamped", warning=True)
            value = min(max(value, low), high)
        return int(round(value))

    def boolean(self, key: str, value: Any) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes")
        self.error(key, f"expected true or false, got {_describe(value)}")
        return None

    def when(self, key: str, value: Any) -> datetime | None:
        """ISO 8601 date or time; naive times are UTC."""
        if value is None:
            return None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time(0, 0))
        elif isinstance(value, str):
            moment = parse_datetime(value)
            if moment is None:
                self.error(key, f"expected an ISO 8601 date, got {_describe(value)}")
                return None
        else:
            self.error(key, f"expected an ISO 8601 date, got {_describe(value)}")
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        if not 1900 <= moment.year <= 2999:
            self.error(key, f"date out of range: {moment.year}")
            return None
        return moment

    def url(self, key: str, value: Any) -> str | None:
        text = self.text(key, value)
        if not text:
            return None
        return checked_url(text, lambda message: self.error(key, message))

    def image_url(self, key: str, value: Any) -> str | None:
        """An http(s) URL, or a root-relative path to a file the site ships in static/."""
        text = self.text(key, value)
        if text and _SITE_PATH.fullmatch(text) and "/../" not in text + "/":
            return text
        return self.url(key, text) if text else None

    def strings(self, key: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [part for part in value.split(",")]
        if not isinstance(value, list):
            self.error(key, f"expected a list of text, got {_describe(value)}")
            return ()
        out: dict[str, None] = {}
        for index, entry in enumerate(value[:MAX_RELATED]):
            text = self.text(f"{key}[{index}]", entry)
            if text:
                out.setdefault(" ".join(text.split())[:100], None)
        return tuple(out)

    def images(self, key: str, value: Any) -> tuple[Image, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, dict)):
            value = [value]
        if not isinstance(value, list):
            self.error(key, f"expected a list of images, got {_describe(value)}")
            return ()
        out = []
        for index, entry in enumerate(value[:20]):
            where = f"{key}[{index}]"
            if isinstance(entry, str):
                entry = {"url": entry}
            if not isinstance(entry, dict):
                self.error(where, f"expected an image with a url, got {_describe(entry)}")
                continue
            url = self.image_url(where + ".url", entry.get("url"))
            if url:
                out.append(Image(url, self.number(where + ".width", entry.get("width"), 1, 100_000),
                                 self.number(where + ".height", entry.get("height"), 1, 100_000)))
        return tuple(out)

    def provider(self, key: str, value: Any) -> Provider | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict):
            self.error(key, f"expected a provider with a name, got {_describe(value)}")
            return None
        name = self.text(key + ".name", value.get("name"))
        domain = (self.text(key + ".domain", value.get("domain")) or "").lower()
        if domain and not _DOMAIN.fullmatch(domain):
            self.error(key + ".domain", f"not a domain name: {_describe(domain)}")
            domain = ""
        icons = self.images(key + ".images", value.get("images"))
        if not name and not domain:
            self.error(key, "a provider needs a name or a domain")
            return None
        return Provider(name or domain, domain, icons[0] if icons else None)

    def related(self, key: str, value: Any, lang: Callable[[str], str | None]) -> tuple[Related, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(key, f"expected a list of related items, got {_describe(value)}")
            return ()
        if len(value) > MAX_RELATED:
            self.error(key, f"{len(value)} related entries; only the first {MAX_RELATED} are kept", warning=True)
        out = []
        for index, entry in enumerate(value[:MAX_RELATED]):
            where = f"{key}[{index}]"
            if not isinstance(entry, dict):
                self.error(where, f"expected a related item, got {_describe(entry)}")
                continue
            title = self.text(where + ".title", entry.get("title"))
            url = self.url(where + ".webUrl", entry.get("webUrl") or entry.get("url") or entry.get("originalUrl"))
            if not title or not url:
                self.error(where, "a related item needs a title and a webUrl")
                continue
            excerpt = self.text(where + ".excerpt", entry.get("excerpt")) or ""
            out.append(Related(
                title=title,
                url=url,
                excerpt=excerpt,
                provider=self.provider(where + ".provider", entry.get("provider")),
                published_at=self.when(where + ".publishedDateTime", entry.get("publishedDateTime")),
                quality=self.number(where + ".quality", entry.get("quality"), 0, 100),
                lang=lang(title + " " + excerpt),
            ))
        return tuple(out)


_UNSAFE_IN_URL = re.compile(r'["<>`{}]')


def checked_url(text: str, report: Callable[[str], None]) -> str | None:
    """Only http(s) URLs pass: javascript:, data: and friends are refused."""
    # Rare: most URLs are clean, skip the slow path.  Every space but " " is unprintable to Python.
    if not text.isprintable() or " " in text:
        text = "".join(ch for ch in text if ch.isprintable() and not ch.isspace())
    if _HTTP_URL.match(text):
        # Characters no valid URL holds raw, percent-encoded as browsers do: templates escape
        # them anyway, but a URL that can never close a quote or open a tag is safe in any context.
        return _UNSAFE_IN_URL.sub(lambda m: f"%{ord(m.group()):02X}", text)
    report(f"expected an http(s) URL, got {_describe(text)}")
    return None


def parse_datetime(text: str) -> datetime | None:
    text = text.strip()
    try:
        return datetime.fromisoformat(text.replace(" ", "T", 1) if _SPACED_DATETIME.match(text) else text)
    except ValueError:
        return None


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
