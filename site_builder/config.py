"""SiteConfig: the `[tool.site_builder]` table of pyproject.toml, typed and validated.

Every field has a docstring (shown by `site-builder config --help` readers and
the README); an unknown key or a value of the wrong type is a ConfigError that
names the key.
"""

from __future__ import annotations

import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError


@dataclass(frozen=True, slots=True)
class RankingConfig:
    """Weights of the story score (see rank.py for the formula)."""

    heat: float = 1.0
    """Weight of the story's heat (0-100; -1 or missing counts as 0)."""
    quality: float = 0.6
    """Weight of the lead's quality (0-100; missing counts as 40)."""
    coverage: float = 0.8
    """Weight of breadth of coverage: the number of distinct outlets, saturating at 5."""
    recency: float = 1.2
    """Weight of recency: 1.0 for the newest story, halving every `half_life_hours`."""
    half_life_hours: float = 36.0
    """How fast recency decays, in hours."""


@dataclass(frozen=True, slots=True)
class DedupeConfig:
    """Thresholds of the deduplicator (see site_builder/dedupe/)."""

    window_days: float = 7.0
    """Items further apart in time than this are never merged (undated items match any time)."""
    minhash_threshold: float = 0.5
    """Jaccard similarity of word shingles above which two texts are syndicated copies."""
    story_threshold: float = 0.55
    """Combined anchor and title similarity above which an item joins a story."""
    related_bonus: float = 0.15
    """How much a `related:` link between two items lowers the bar for a merge."""


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The site's configuration: `[tool.site_builder]` in pyproject.toml."""

    title: str = "AI News Digest"
    """The site's name, in every page title and feed."""
    description: str = "The day's AI news, each story once, with every outlet that covered it."
    """One sentence for the front page's meta description and the feeds."""
    base_url: str = "http://localhost:8000/"
    """Where the site is served, with its subpath: "https://user.github.io/digest/"."""
    language: str = "en"
    """The digest's own language (BCP 47): the <html lang> of list pages, and preferred for leads."""
    timezone: str = "UTC"
    """IANA time zone for day archives and displayed times."""
    top_stories: int = 12
    """How many stories the front page shows at the top."""
    river_days: int = 14
    """How many days of stories the front page's river shows below the top stories."""
    page_size: int = 30
    """Stories per page on topic, source and day pages."""
    feed_size: int = 50
    """Entries per feed."""
    cname: str = ""
    """Custom domain for GitHub Pages; written to CNAME when not empty."""
    author: str = ""
    """Site author or publisher, for feeds and JSON-LD."""
    ranking: RankingConfig = field(default_factory=RankingConfig)
    """Weights of the story score."""
    dedupe: DedupeConfig = field(default_factory=DedupeConfig)
    """Thresholds of the deduplicator."""

    @property
    def base_path(self) -> str:
        """The path part of base_url, always ending in "/": "/digest/"."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    @property
    def site_url(self) -> str:
        """base_url with a trailing slash, for absolute links in feeds and sitemaps."""
        return self.base_url if self.base_url.endswith("/") else self.base_url + "/"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_overrides(self, **changes: Any) -> "SiteConfig":
        return _validated(replace(self, **{k: v for k, v in changes.items() if v is not None}))


def load_config(project_root: Path) -> SiteConfig:
    """Read `[tool.site_builder]` from project_root/pyproject.toml (defaults when absent)."""
    path = project_root / "pyproject.toml"
    if not path.is_file():
        return SiteConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"not valid TOML: {exc}", str(path)) from None
    table = data.get("tool", {}).get("site_builder", {})
    return config_from_mapping(table, str(path))


def config_from_mapping(table: Any, path: str = "pyproject.toml") -> SiteConfig:
    return _validated(_build(SiteConfig, table, "", path))


def _build(cls: type, table: Any, prefix: str, path: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(prefix.rstrip(".") or "tool.site_builder", "expected a table", path)
    known = {f.name: f for f in fields(cls)}
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in known:
            options = ", ".join(sorted(known))
            raise ConfigError(prefix + key, f"unknown key (known keys: {options})", path)
        values[name] = _coerce(hints[name], value, prefix + key, path)
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str, path: str) -> Any:
    if is_dataclass(hint):
        return _build(hint, value, key + ".", path)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _coerce(option, value, key, path)
            except ConfigError:
                continue
        raise ConfigError(key, f"expected {hint}, got {value!r}", path)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is type(None) and value is None:
        return None
    if hint in (str, int, float, bool) and type(value) is hint:
        return value
    raise ConfigError(key, f"expected {getattr(hint, '__name__', hint)}, got {value!r}", path)


def _validated(config: SiteConfig) -> SiteConfig:
    for name in ("top_stories", "page_size", "feed_size", "river_days"):
        if getattr(config, name) < 1:
            raise ConfigError(name, f"must be at least 1, got {getattr(config, name)}")
    if urlsplit(config.base_url).scheme not in ("http", "https"):
        raise ConfigError("base_url", f"must start with http:// or https://, got {config.base_url!r}")
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("timezone", f"unknown time zone {config.timezone!r}") from None
    if config.ranking.half_life_hours <= 0:
        raise ConfigError("ranking.half_life_hours", "must be positive")
    return config
