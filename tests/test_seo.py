"""What search engines and link previews see: sitemap, robots.txt, canonical URLs, OpenGraph, JSON-LD."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from conftest import news
from site_builder.feeds import clean
from site_builder.seo import item_list_json

BASE = "https://user.github.io/digest/"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def built(site):
    site.config(f'base_url = "{BASE}"\n')
    site.item("a.md", news(title="Atlas-7 </script><script>alert(1)</script> released", url="https://a.example.com/atlas",
                           when="2026-11-20T10:00:00Z", excerpt="He said 'hi' & left", body="Atlas body text."))
    site.item("b.md", news(title="Robots fold laundry", url="https://c.example.com/robots", topic="Household",
                           when="2026-11-21T08:30:00+01:00", excerpt="Household robots reach the market.",
                           body="A home robot from Osaka folds towels and sorts socks for 900 dollars."))
    result = site.build("--no-search")
    assert result.code == 0, result.err
    return result


def json_ld(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def test_sitemap_lists_every_story_with_lastmod(built) -> None:
    root = ET.parse(built.output / "sitemap.xml").getroot()
    entries = {url.findtext(SITEMAP + "loc"): url.findtext(SITEMAP + "lastmod") for url in root.iter(SITEMAP + "url")}
    stories = [p.parent.name for p in (built.output / "stories").glob("*/index.html")]
    assert len(stories) == 2
    for slug in stories:
        assert entries[f"{BASE}stories/{slug}/"], slug
    assert entries[BASE + "stories/robots-fold-laundry/"] == "2026-11-21T07:30:00Z"
    assert BASE in entries and BASE + "topics/household/" in entries
    assert not any("404" in loc or loc.endswith("/search/") for loc in entries)
    assert all(loc.startswith(BASE) for loc in entries)


def test_robots_txt_points_at_the_sitemap(built) -> None:
    robots = (built.output / "robots.txt").read_text()
    assert "User-agent: *" in robots and f"Sitemap: {BASE}sitemap.xml" in robots


def test_every_page_has_an_absolute_canonical_and_valid_json_ld(built) -> None:
    for path in built.output.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        relative = path.relative_to(built.output).as_posix()
        if relative == "404.html":
            continue
        url = BASE + relative.removesuffix("index.html")
        assert f'<link rel="canonical" href="{url}">' in html, relative
        assert f'<meta property="og:url" content="{url}">' in html, relative
        for block in json_ld(html):
            assert block["@context"] == "https://schema.org"


def test_story_pages_describe_a_news_article(built) -> None:
    html = built.page("stories/robots-fold-laundry/")
    [article] = json_ld(html)
    assert article["@type"] == "NewsArticle"
    assert article["headline"] == "Robots fold laundry"
    assert article["url"] == BASE + "stories/robots-fold-laundry/"
    assert article["datePublished"] == "2026-11-21T07:30:00Z"
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:title" content="Robots fold laundry">' in html
    assert '<meta name="twitter:card" content="summary">' in html


def test_a_headline_cannot_close_the_json_ld_script(built) -> None:
    [story] = [p for p in (built.output / "stories").iterdir() if p.name.startswith("atlas")]
    html = (story / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html
    [article] = json_ld(html)
    assert article["headline"] == "Atlas-7 </script><script>alert(1)</script> released"
    assert article["description"] == "He said 'hi' & left"


def test_lists_describe_an_item_list(built) -> None:
    [front] = json_ld(built.page(""))
    assert front["@type"] == "ItemList"
    assert [item["position"] for item in front["itemListElement"]] == [1, 2]
    assert all(item["url"].startswith(BASE + "stories/") for item in front["itemListElement"])
    [topic] = json_ld(built.page("topics/household/"))
    assert [item["name"] for item in topic["itemListElement"]] == ["Robots fold laundry"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=8), st.text(max_size=20))
def test_a_list_pages_item_list_is_the_json_of_its_fields(titles: list[str], path: str) -> None:
    """item_list_json writes the JSON by hand, from each story's url and name made once: the same
    text as encoding the ItemList's fields, whatever the titles, and on a second page too."""
    stories = [SimpleNamespace(title=title, n=n) for n, title in enumerate(titles)]
    config = SimpleNamespace(site_url=BASE)
    url_of = lambda story: f"{BASE}stories/{story.n}-{story.title}/"  # noqa: E731
    listed: dict = {}
    for page in (SimpleNamespace(url=path), SimpleNamespace(url=path + "page/2/")):
        expected = {"@context": "https://schema.org", "@type": "ItemList", "url": BASE + page.url, "numberOfItems": len(stories),
                    "itemListElement": [{"@type": "ListItem", "position": i, "url": url_of(s), "name": clean(s.title)}
                                        for i, s in enumerate(stories, 1)]}
        assert item_list_json(page, stories, url_of, config, listed) == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
