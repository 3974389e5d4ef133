"""What search engines and link previews read: sitemap.xml, robots.txt and JSON-LD.

The <head> tags themselves (canonical, OpenGraph, Twitter card) live in the
template `_head.html`; this module gives it `json_ld()`, whose output is built
with json.dumps and has `<`, `>` and `&` escaped, so no headline can close
the <script> element it sits in.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from markupsafe import Markup

from .config import SiteConfig
from .feeds import OutputFile, clean, feed_links, xml_text
from .models import Day, Page, Story

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Pages a search engine should not list.
_UNLISTED = {"404.html", "search/"}


def seo_files(pages: Iterable[Page], config: SiteConfig) -> list[OutputFile]:
    return [sitemap(pages, config), robots(config)]


def sitemap(pages: Iterable[Page], config: SiteConfig) -> OutputFile:
    """One <url> per listed page, with its newest item date.  Written as text, in the bytes ElementTree
    would write: building and serialising 10 000 elements through it took a tenth of a second."""
    newest: dict[int, datetime | None] = {}  # by id(story): a story is on several pages
    lines = [f'<?xml version="1.0" encoding="utf-8"?>\n<urlset xmlns="{SITEMAP_NS}">']
    for page in pages:
        if page.url in _UNLISTED or not (page.url == "" or page.url.endswith("/")):
            continue
        modified = page_modified(page.context, newest)
        lastmod = f"<lastmod>{_w3c(modified)}</lastmod>" if modified is not None else ""
        lines.append(f"<url><loc>{xml_text(clean(config.site_url + page.url))}</loc>{lastmod}</url>")
    return OutputFile("sitemap.xml", "".join(lines) + "</urlset>\n")


def robots(config: SiteConfig) -> OutputFile:
    return OutputFile("robots.txt", f"User-agent: *\nAllow: /\n\nSitemap: {config.site_url}sitemap.xml\n")


def page_modified(context: Mapping[str, Any], newest: dict[int, datetime | None] | None = None) -> datetime | None:
    """The newest item date among the stories a page shows: its sitemap lastmod.  `newest` remembers
    each story's, by id, across the pages of one build."""
    newest = {} if newest is None else newest
    dates = []
    for story in _stories_in(context):
        key = id(story)
        if key not in newest:
            own = story_dates(story)
            newest[key] = max(own) if own else None
        if newest[key] is not None:
            dates.append(newest[key])
    return max(dates) if dates else None


def story_dates(story: Story) -> list[datetime]:
    return [d for d in [story.published_at, *(item.published_at for item in story.items)] if d is not None]


def _stories_in(context: Mapping[str, Any]) -> Iterable[Story]:
    for key in ("story", "stories", "top", "day", "river"):
        value = context.get(key)
        if value is None:  # most pages have one of these: no type tests for the others (62k pages at 100k items)
            continue
        if isinstance(value, Story):
            yield value
        elif isinstance(value, Day):
            yield from value.stories
        elif isinstance(value, (tuple, list)):
            for entry in value:
                if isinstance(entry, Story):
                    yield entry
                elif isinstance(entry, tuple):  # the front page's river: (day, stories)
                    yield from (s for s in entry[-1] if isinstance(s, Story))


def head_helpers(config: SiteConfig, story_path: Callable[[Story], str]) -> dict[str, Callable]:
    """Template functions for `_head.html`."""

    def story_url(story: Story) -> str:
        return config.site_url + story_path(story)

    listed: dict[int, tuple[Story, str]] = {}  # see item_list_json

    def json_ld(page: Page, story: Story | None = None, stories: Iterable[Story] = ()) -> Markup:
        if story is not None:
            text = _ENCODE(news_article(story, story_url(story), config))
        else:
            text = item_list_json(page, stories, story_url, config, listed)
        return Markup(f'<script type="application/ld+json">{script_safe(text)}</script>')  # script_safe() escaped it

    def share_image(story: Story) -> str | None:
        # Only remote images: a link preview needs an absolute URL, and local paths are not shipped.
        return next((image.url for image in story.lead.images if image.url.startswith(("http://", "https://"))), None)

    return {"json_ld": json_ld, "feed_links": feed_links, "share_image": share_image, "w3c": _w3c}


def news_article(story: Story, url: str, config: SiteConfig) -> dict[str, Any]:
    lead = story.lead
    dates = story_dates(story)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": clean(lead.title)[:110],
        "url": url,
        "mainEntityOfPage": url,
        "inLanguage": lead.lang,
        "publisher": {"@type": "Organization", "name": config.author or config.title, "url": config.site_url},
    }
    if lead.excerpt:
        data["description"] = clean(lead.excerpt)
    if dates:
        data["datePublished"] = _w3c(lead.published_at or min(dates))
        data["dateModified"] = _w3c(max(dates))
    if lead.outlet:
        data["author"] = {"@type": "Organization", "name": clean(lead.outlet)}
    images = [image.url for image in lead.images if image.url.startswith(("http://", "https://"))]
    if images:
        data["image"] = images
    if lead.url:
        data["isBasedOn"] = lead.url
    if story.topics:
        data["keywords"] = [clean(topic) for topic in story.topics]
    return data


def item_list_json(page: Page, stories: Iterable[Story], story_url: Callable[[Story], str], config: SiteConfig,
                   listed: dict[int, tuple[Story, str]]) -> str:
    """The JSON of a list page's ItemList, as _ENCODE writes {"@context": ..., "@type": "ItemList", "url": ...,
    "numberOfItems": n, "itemListElement": [{"@type": "ListItem", "position": i, "url": ..., "name": ...}]}.

    A story is on a dozen list pages: the JSON of its url and name is made once, into `listed` (by id,
    with the story, which keeps the id from being reused), and each page writes only the positions.
    """
    items = []
    for position, story in enumerate(stories, 1):
        known = listed.get(id(story))
        if known is None:
            known = listed[id(story)] = (story, f',"url":{_ENCODE(story_url(story))},"name":{_ENCODE(clean(story.title))}}}')
        items.append(f'{{"@type":"ListItem","position":{position}{known[1]}')
    return (f'{{"@context":"https://schema.org","@type":"ItemList","url":{_ENCODE(config.site_url + page.url)},'
            f'"numberOfItems":{len(items)},"itemListElement":[{",".join(items)}]}}')


# Made once: json.dumps with options makes a new encoder for every call (a sixth of json_ld's time).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def script_safe(text: str) -> str:
    """JSON text safe inside <script>: `<`, `>` and `&` as \\u escapes, which JSON parsers read back as they were."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _w3c(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
