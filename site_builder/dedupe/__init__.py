"""Deduplication: group items that cover the same story into Stories.

`dedupe(items, config)` is the whole interface the pipeline uses.  For now it
groups by canonical URL only; the clustering (MinHash, anchors) fills
`cluster()` without changing what the rest of the pipeline sees.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Mapping, Sequence

from ..config import SiteConfig
from ..models import Coverage, Item, Story
from .urls import canonical_url, item_key


def dedupe(items: Sequence[Item], config: SiteConfig) -> tuple[Story, ...]:
    """Group `items` into stories, each with a lead and its more coverage."""
    clusters, reasons = cluster(items, config)
    return tuple(make_story(members, reasons, config) for members in clusters)


def cluster(items: Sequence[Item], config: SiteConfig) -> tuple[list[list[Item]], dict[str, str]]:
    """Clusters of items (each a list) and, per item source, why it joined its cluster."""
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        groups[item_key(item)].append(item)
    reasons = {}
    for members in groups.values():
        for item in members[1:]:
            reasons[item.source] = "canonical-url 1.00"
    return list(groups.values()), reasons


def lead_order(item: Item, config: SiteConfig) -> tuple:
    """Sort key for lead selection: original over copies, quality, earliest, language, length."""
    is_copy = bool(item.original_url) and canonical_url(item.original_url) != item_key(item)
    when = item.published_at.timestamp() if item.published_at else float("inf")
    return (
        is_copy,
        -(item.quality if item.quality is not None else -1),
        when,
        item.lang != config.language,
        -(len(item.body) + len(item.excerpt)),
        item.source,
    )


def make_story(members: Sequence[Item], reasons: Mapping[str, str], config: SiteConfig) -> Story:
    ordered = sorted(members, key=lambda item: lead_order(item, config))
    lead = ordered[0]
    own_urls = {canonical_url(u) for item in ordered for u in item.urls}
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
    related = []
    seen_related: set[str] = set()
    for item in ordered:
        for entry in item.related:
            key = canonical_url(entry.url) if entry.url else entry.title
            if key in own_urls or key in seen_related:
                continue
            seen_related.add(key)
            related.append(entry)
    topics: dict[str, None] = {}
    for item in ordered:
        for topic in item.topics:
            topics.setdefault(topic, None)
    heats = [i.heat for i in ordered if i.heat is not None]
    dates = [i.published_at for i in ordered if i.published_at is not None]
    return Story(
        id=story_id(lead),
        lead=lead,
        items=tuple(ordered),
        coverage=tuple(coverage),
        related=tuple(related),
        topics=tuple(topics),
        heat=max(heats) if heats else None,
        quality=lead.quality,
        published_at=min(dates) if dates else None,
    )


def story_id(lead: Item) -> str:
    """Stable across builds: a hash of the lead's canonical URL (or of its file, without URL)."""
    return hashlib.sha1(item_key(lead).encode("utf-8")).hexdigest()[:12]
