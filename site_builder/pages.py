"""Page planning: every HTML page of the site, decided before anything is rendered.

URLs are relative to base_url (see DESIGN.md):

    ""                        front page                  index.html
    stories/<slug>/           one story                   story.html
    topics/, topics/<slug>/   topics, one topic (paged)   topics.html, topic.html
    sources/, sources/<d>/    outlets, one outlet (paged) sources.html, source.html
    archive/, archive/y/m/d/  days, one day               archive.html, day.html
    search/                   Pagefind search             search.html
    404.html                  not found                   404.html
"""

from __future__ import annotations

from typing import Iterator, Sequence

from .config import SiteConfig
from .models import Digest, Page, Story
from .rank import newest_first


def plan_pages(digest: Digest, config: SiteConfig) -> list[Page]:
    return [
        *front_page(digest, config),
        *story_pages(digest),
        *topic_pages(digest, config),
        *source_pages(digest, config),
        *archive_pages(digest),
        Page("search/", "search.html", {"title": "Search", "description": f"Search every story in {config.title}."}),
        Page("404.html", "404.html", {"title": "Page not found", "description": "This page does not exist."}),
    ]


def front_page(digest: Digest, config: SiteConfig) -> Iterator[Page]:
    top_ids = {story.id for story in digest.top}
    river = []
    for day in digest.river[: config.river_days]:
        rest = tuple(story for story in day.stories if story.id not in top_ids)
        if rest:
            river.append((day, rest))
    yield Page("", "index.html", {"title": config.title, "description": config.description, "top": digest.top, "river": river})


def story_pages(digest: Digest) -> Iterator[Page]:
    for story in digest.stories:
        lead = story.lead
        yield Page(
            f"stories/{story.slug}/",
            "story.html",
            {"title": story.title, "description": lead.excerpt or story.title, "lang": story.lang, "story": story},
        )


def topic_pages(digest: Digest, config: SiteConfig) -> Iterator[Page]:
    yield Page("topics/", "topics.html", {"title": "Topics", "description": f"Every topic of {config.title}.", "topics": digest.topics})
    for topic in digest.topics:
        yield from paginate(
            f"topics/{topic.slug}/", "topic.html", topic.stories, config.page_size,
            {"title": topic.name, "description": f"{topic.name}: {len(topic.stories)} stories.", "topic": topic},
        )


def source_pages(digest: Digest, config: SiteConfig) -> Iterator[Page]:
    yield Page("sources/", "sources.html", {"title": "Sources", "description": f"Every outlet in {config.title}.", "sources": digest.sources})
    for source in digest.sources:
        yield from paginate(
            f"sources/{source.slug}/", "source.html", newest_first(source.stories), config.page_size,
            {"title": source.name, "description": f"Stories covered by {source.name}.", "source": source},
        )


def archive_pages(digest: Digest) -> Iterator[Page]:
    yield Page("archive/", "archive.html", {"title": "Archive", "description": "Every day of news.", "days": digest.river})
    for index, day in enumerate(digest.river):
        newer = digest.river[index - 1] if index > 0 else None
        older = digest.river[index + 1] if index + 1 < len(digest.river) else None
        yield Page(day.path, "day.html", {
            "title": f"{day.day:%A, %B} {day.day.day}, {day.day.year}",
            "description": f"The news of {day.day:%B} {day.day.day}, {day.day.year}.",
            "day": day, "newer": newer, "older": older,
        })


def paginate(base: str, template: str, stories: Sequence[Story], size: int, context: dict) -> Iterator[Page]:
    """Page 1 at `base`, page N at `base/page/N/`."""
    count = max(1, -(-len(stories) // size))
    urls = [base] + [f"{base}page/{n}/" for n in range(2, count + 1)]
    for index in range(count):
        title = context["title"] if index == 0 else f"{context['title']} (page {index + 1})"
        yield Page(urls[index], template, {
            **context,
            "title": title,
            "stories": tuple(stories[index * size : (index + 1) * size]),
            "pagination": {
                "number": index + 1,
                "count": count,
                "previous": urls[index - 1] if index > 0 else None,
                "next": urls[index + 1] if index + 1 < count else None,
            },
        })
