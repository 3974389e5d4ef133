"""The typed, immutable objects that flow between the build stages.

    Item     one news item, as loaded from one file in content/
    Story    items that cover the same story: a lead plus more coverage
    Digest   ranked stories grouped into topics, sources and days
    Page     one output file, planned before anything is written
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Mapping, TypeVar

_T = TypeVar("_T", bound=type)


def pickled_by_fields(cls: _T) -> _T:
    """Pickle a frozen, slotted dataclass as its class and a tuple of its fields.

    Items, stories and the digest are pickled on every build: from the loading workers,
    into the cache and back.  Python's own way for slotted dataclasses calls a
    __getstate__ and a __setstate__ written in Python for every object; one attrgetter
    call and the class's own __init__ pickle twice as fast and unpickle a third faster.
    """
    names = [f.name for f in fields(cls)]
    get = operator.attrgetter(*names)
    values = get if len(names) > 1 else lambda self: (get(self),)  # one name: attrgetter returns the value alone

    def __reduce__(self: Any) -> tuple:
        return _rebuild, (cls, values(self))

    cls.__reduce__ = __reduce__  # type: ignore[method-assign]
    return cls


def _rebuild(cls: type, values: tuple) -> Any:
    return cls(*values)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Image:
    url: str
    width: int | None = None
    height: int | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Provider:
    """The outlet that published an item."""

    name: str
    domain: str = ""
    icon: Image | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Related:
    """A `related:` entry of an item: other coverage named by the item itself."""

    title: str
    url: str
    excerpt: str = ""
    provider: Provider | None = None
    published_at: datetime | None = None
    quality: int | None = None
    lang: str | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Item:
    """One news item.  `source` is the path relative to the content folder."""

    source: str
    title: str
    excerpt: str = ""
    body: str = ""
    #: "markdown" for front-matter files, "text" for plain-text files.
    body_format: str = "markdown"
    published_at: datetime | None = None
    web_url: str | None = None
    original_url: str | None = None
    amp_url: str | None = None
    cdn_amp_url: str | None = None
    provider: Provider | None = None
    topics: tuple[str, ...] = ()
    category: str | None = None
    images: tuple[Image, ...] = ()
    related: tuple[Related, ...] = ()
    heat: int | None = None
    quality: int | None = None
    draft: bool = False
    lang: str = "en"
    #: True when `lang` came from detection rather than from the file.
    lang_detected: bool = False
    #: sha256 of the file's bytes: the key of every cache.
    content_hash: str = ""
    #: Fields outside the content contract: kept, never rendered.
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def url(self) -> str | None:
        """The link to the original article."""
        return self.web_url or self.original_url or self.amp_url or self.cdn_amp_url

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(u for u in (self.web_url, self.original_url, self.amp_url, self.cdn_amp_url) if u)

    @property
    def outlet(self) -> str:
        return self.provider.name if self.provider else ""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Coverage:
    """One line of a story's "more coverage": another item, or a related entry with no file."""

    title: str
    url: str | None
    outlet: str
    domain: str
    lang: str | None
    published_at: datetime | None
    #: The item behind this coverage, when it has a file of its own.
    item: Item | None = None
    #: Why it joined the story ("canonical-url 1.00", "minhash 0.82", "related link", ...).
    reason: str = ""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Story:
    """Items that cover one story.  `id` is derived from the lead's canonical URL."""

    id: str
    lead: Item
    items: tuple[Item, ...]
    coverage: tuple[Coverage, ...]
    related: tuple[Related, ...]
    topics: tuple[str, ...]
    heat: int | None
    quality: int | None
    published_at: datetime | None
    slug: str = ""
    score: float = 0.0

    @property
    def title(self) -> str:
        return self.lead.title

    @property
    def lang(self) -> str:
        return self.lead.lang

    @property
    def outlets(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for item in self.items:
            if item.outlet:
                seen.setdefault(item.outlet, None)
        return tuple(seen)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    slug: str
    stories: tuple[Story, ...]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Source:
    name: str
    domain: str
    slug: str
    stories: tuple[Story, ...]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Day:
    day: date
    stories: tuple[Story, ...]

    @property
    def path(self) -> str:
        return f"archive/{self.day:%Y/%m/%d}/"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Digest:
    """Everything the renderer needs: ranked stories and the ways to browse them."""

    stories: tuple[Story, ...]          # ranked, best first
    top: tuple[Story, ...]              # the front page's top stories
    river: tuple[Day, ...]              # every day with stories, newest first
    topics: tuple[Topic, ...]           # alphabetical
    sources: tuple[Source, ...]         # alphabetical
    items: tuple[Item, ...]
    now: datetime | None                # newest item time: "now" for recency, never the clock


@dataclass(frozen=True, slots=True)
class Page:
    """One output file: `url` is relative to base_url ("stories/x/" or "feed.xml")."""

    url: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def output_path(self) -> str:
        return self.url + "index.html" if (self.url == "" or self.url.endswith("/")) else self.url
