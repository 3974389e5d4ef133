"""Ranking: score stories and arrange them into the Digest the pages are made from.

The score of a story, each signal scaled to 0..1 and weighted by [tool.site_builder.ranking]:

    score = heat     * max(heat, 0) / 100                  (missing heat counts as 0)
          + quality  * quality / 100                       (missing quality counts as 40)
          + coverage * min(outlets - 1, 4) / 4             (1 for five outlets or more)
          + recency  * 0.5 ** (age_hours / half_life_hours)

`age_hours` is measured from the newest item in the content, not from the
clock, so the same content always builds the same site.  Undated stories get
no recency.
"""

from __future__ import annotations

import operator
from collections import Counter, defaultdict
from dataclasses import fields
from datetime import datetime
from typing import Callable, Collection, Iterable, Iterator, Sequence

from .config import SiteConfig
from .errors import ContentError
from .models import Day, Digest, Item, Source, Story, Topic
from .slugs import slugify, unique_slugs


def score(story: Story, now: datetime | None, config: SiteConfig) -> float:
    weights = config.ranking
    heat = max(story.heat or 0, 0) / 100
    quality = (story.quality if story.quality is not None else 40) / 100
    outlets = len(story.outlets)
    coverage = min(outlets - 1, 4) / 4 if outlets else 0.0
    recency = 0.0
    if now is not None and story.published_at is not None:
        age_hours = max((now - story.published_at).total_seconds() / 3600, 0.0)
        recency = 0.5 ** (age_hours / weights.half_life_hours)
    return weights.heat * heat + weights.quality * quality + weights.coverage * coverage + weights.recency * recency


def rank(stories: Sequence[Story], items: Sequence[Item], config: SiteConfig,
         problems: list[ContentError] | None = None, previous: Digest | None = None,
         changed: Collection[str] = ()) -> Digest:
    """Score, slug and order the stories; group them by day, topic and outlet.

    Two stories that want one URL are told apart, and a warning naming both
    files is appended to `problems`.  With the `previous` digest of the same
    collection, the scored stories of every id not in `changed` are taken from
    it as they are (the preview server re-ranks after each edit: the pages that
    show only those stories then compare equal at the cost of an identity test).
    """
    dates = [item.published_at for item in items if item.published_at is not None]
    now = max(dates) if dates else None

    # Earlier stories claim a slug first, so adding news never moves an old permalink.
    by_age = sorted(stories, key=lambda s: (s.published_at is None, s.published_at or now, s.id))
    collisions: list[tuple[str, str, str]] = []
    slugs = unique_slugs([(s.id, slugify(s.title)) for s in by_age], collisions)
    if problems is not None:
        leads = {s.id: s.lead.source for s in stories}
        for story_id, wanted, holder in collisions:
            problems.append(ContentError(
                leads[story_id], 1,
                f"stories/{wanted}/ is already the URL of {leads[holder]}; this story is at stories/{slugs[story_id]}/",
                "title", warning=True))
    reusable = {s.id: s for s in previous.stories} if previous is not None and previous.now == now else {}
    scored = []
    for s in stories:
        known = reusable.get(s.id) if s.id not in changed else None
        if known is not None and known.slug == slugs[s.id]:
            scored.append(known)
        else:
            scored.append(_with_rank(s, slugs[s.id], round(score(s, now, config), 6)))
    ranked = tuple(sorted(scored, key=_rank_key))

    return Digest(
        stories=ranked,
        top=ranked[: config.top_stories],
        river=_days(ranked, config),
        topics=_topics(ranked),
        sources=_sources(ranked),
        items=tuple(items),
        now=now,
    )


#: A story's fields before its slug and score, which are its last two (as _with_rank needs).
_UNRANKED = operator.attrgetter(*(f.name for f in fields(Story)[:-2]))
assert [f.name for f in fields(Story)[-2:]] == ["slug", "score"]


def _with_rank(story: Story, slug: str, score: float) -> Story:
    """replace(story, slug=slug, score=score), without replace()'s walk over the fields on every call
    (it was a third of ranking, which holds up the build)."""
    return Story(*_UNRANKED(story), slug, score)


def _rank_key(story: Story) -> tuple:
    return (-story.score, -(story.published_at.timestamp() if story.published_at else 0), story.id)


def newest_first(stories: Iterable[Story]) -> tuple[Story, ...]:
    return tuple(sorted(stories, key=lambda s: (-(s.published_at.timestamp() if s.published_at else 0), -s.score, s.id)))


def _days(ranked: Sequence[Story], config: SiteConfig) -> tuple[Day, ...]:
    tz = config.tz
    groups: dict = defaultdict(list)
    for story in ranked:
        if story.published_at is not None:
            groups[story.published_at.astimezone(tz).date()].append(story)
    return tuple(Day(day, tuple(groups[day])) for day in sorted(groups, reverse=True))


def _group(ranked: Sequence[Story], labels: Callable[[Story], Iterable[tuple[str, str]]]) -> tuple[dict, dict]:
    """Stories grouped by key (each story once per key, in rank order), and each key's commonest spelling.

    `labels(story)` yields (key, spelling) pairs: a topic name and its key, an outlet name and its domain.
    """
    members: dict[str, list[Story]] = defaultdict(list)
    spellings: dict[str, Counter] = defaultdict(Counter)
    for story in ranked:
        seen: set[str] = set()
        for key, spelling in labels(story):
            spellings[key][spelling] += 1
            if key not in seen:
                seen.add(key)
                members[key].append(story)
    return members, {key: spellings[key].most_common(1)[0][0] for key in members}


def _topics(ranked: Sequence[Story]) -> tuple[Topic, ...]:
    # Topics that differ only in case or punctuation are one topic, shown in their commonest spelling.
    members, names = _group(ranked, lambda story: ((topic_key(name), name) for name in story.topics))
    ordered = sorted(members, key=lambda key: (names[key].casefold(), key))
    slugs = unique_slugs([(key, slugify(names[key])) for key in ordered])
    return tuple(Topic(names[key], slugs[key], tuple(members[key])) for key in ordered)


def topic_key(name: str) -> str:
    """Topics that differ only in case or punctuation share this key."""
    return slugify(name) or name.casefold()


def _sources(ranked: Sequence[Story]) -> tuple[Source, ...]:
    def outlets(story: Story) -> Iterator[tuple[str, str]]:
        for item in story.items:
            if item.provider is not None:
                key = item.provider.domain or slugify(item.provider.name)
                if key:
                    yield key, item.provider.name

    members, names = _group(ranked, outlets)
    ordered = sorted(members, key=lambda key: (names[key].casefold(), key))
    slugs = unique_slugs([(key, _domain_slug(key)) for key in ordered])
    return tuple(Source(names[key], key, slugs[key], tuple(members[key])) for key in ordered)


def _domain_slug(domain: str) -> str:
    # Domains keep their dots ("techcrunch.com"); anything else is slugified.
    parts = [slugify(part, 63) for part in domain.split(".")]
    return ".".join(part for part in parts if part)
