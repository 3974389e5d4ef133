"""From a cluster of items to a Story: the lead, more coverage, topics, heat, time, a stable id."""

from __future__ import annotations

import hashlib
from itertools import chain
from operator import attrgetter
from typing import AbstractSet, Mapping, Sequence

from ..config import SiteConfig
from ..models import Coverage, Item, Related, Story
from .features import Features
from .urls import canonical_url, item_key


def is_copy(item: Item, copies: AbstractSet[str]) -> bool:
    """A copy names another article as its original, or was found as a later copy of another item's text."""
    if item.source in copies:
        return True
    return bool(item.original_url and item.web_url and canonical_url(item.original_url) != canonical_url(item.web_url))


def lead_order(item: Item, copies: AbstractSet[str], config: SiteConfig) -> tuple:
    """Sort key for lead selection: original over copies, quality, earliest, language, length."""
    when = item.published_at.timestamp() if item.published_at else float("inf")
    return (
        is_copy(item, copies),
        -(item.quality if item.quality is not None else -1),
        when,
        item.lang != config.language,
        -(len(item.body) + len(item.excerpt)),
        item.source,
    )


def make_story(
    members: Sequence[Item],
    features: Sequence[Features],
    reasons: Mapping[str, str],
    config: SiteConfig,
    has_file: set[str],
    copies: AbstractSet[str],
) -> Story:
    """One Story.  `has_file` holds the canonical URLs of every loaded item: a related entry with a
    file of its own is a story (or coverage) of its own, not a line of this story's coverage.
    `copies` holds the sources of items found to be later copies of another item's text."""
    if len(members) == 1:
        return _one_item_story(members[0], features[0], has_file)
    return _ordered_story(members, features, reasons, config, has_file, copies)


def _ordered_story(
    members: Sequence[Item],
    features: Sequence[Features],
    reasons: Mapping[str, str],
    config: SiteConfig,
    has_file: set[str],
    copies: AbstractSet[str],
) -> Story:
    order = sorted(range(len(members)), key=lambda k: lead_order(members[k], copies, config))
    ordered = [members[k] for k in order]
    keys = [features[k] for k in order]
    lead = ordered[0]
    coverage = [
        Coverage(
            title=item.title,
            url=item.url,
            outlet=item.outlet,
            domain=item.provider.domain if item.provider else "",
            lang=item.lang,
            published_at=item.published_at,
            item=item,
            reason=reasons.get(item.source, ""),
        )
        for item in ordered[1:]
    ]
    related = _related_entries(ordered, keys, has_file, coverage)
    topics = dict.fromkeys(chain.from_iterable(map(attrgetter("topics"), ordered)))
    heats = [heat for heat in map(attrgetter("heat"), ordered) if heat is not None]
    dates = [date for date in map(attrgetter("published_at"), ordered) if date is not None]
    return Story(
        id=story_id(lead, keys[0].url_keys),
        lead=lead,
        items=tuple(ordered),
        coverage=tuple(coverage),
        related=tuple(related),
        topics=tuple(topics),
        heat=max(heats) if heats else None,
        quality=lead.quality,
        published_at=min(dates) if dates else None,
    )


def _one_item_story(item: Item, feature: Features, has_file: set[str]) -> Story:
    """_ordered_story() for one item (most stories): the same Story without choosing a lead,
    ordering items or gathering lists, bookkeeping that costs more than the story itself."""
    coverage: list[Coverage] = []
    related = _related_entries((item,), (feature,), has_file, coverage) if item.related else []
    return Story(
        id=story_id(item, feature.url_keys),
        lead=item,
        items=(item,),
        coverage=tuple(coverage),
        related=tuple(related),
        topics=tuple(dict.fromkeys(item.topics)),
        heat=item.heat,
        quality=item.quality,
        published_at=item.published_at,
    )


def _related_entries(ordered: Sequence[Item], keys: Sequence[Features], has_file: set[str], coverage: list[Coverage]) -> list[Related]:
    """The items' `related:` entries, each once and none that is one of the items; an entry without a
    file of its own also becomes a line of `coverage`."""
    own_urls = {key for feature in keys for key in feature.url_keys}
    related: list[Related] = []
    seen_related: set[str] = set()
    for item, feature in zip(ordered, keys):
        for entry, url_key in zip(item.related, feature.related_keys):
            key = url_key or "title:" + entry.title.casefold()
            if key in own_urls or key in seen_related:
                continue
            seen_related.add(key)
            related.append(entry)
            if key not in has_file:
                coverage.append(_related_coverage(entry, item))
    return related


def _related_coverage(entry: Related, named_by: Item) -> Coverage:
    provider = entry.provider
    return Coverage(
        title=entry.title,
        url=entry.url or None,
        outlet=provider.name if provider else "",
        domain=provider.domain if provider else "",
        lang=entry.lang or named_by.lang,
        published_at=entry.published_at,
        item=None,
        reason=f"related link from {named_by.outlet or named_by.source}",
    )


def story_id(lead: Item, url_keys: Sequence[str] | None = None) -> str:
    """Stable across builds: a hash of the lead's canonical URL (or of its file, without URL)."""
    key = url_keys[0] if url_keys else (item_key(lead) if url_keys is None else "file:" + lead.source)
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
