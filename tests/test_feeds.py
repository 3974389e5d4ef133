"""A feed reader subscribes to the digest: RSS 2.0, Atom 1.0 and JSON Feed 1.1, site-wide and per topic."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from hypothesis import given, settings, strategies as st

from conftest import news
from site_builder.config import SiteConfig
# The date formats did not change when the XML stopped going through ElementTree: the reference takes them as they are.
from site_builder.feeds import Entry, FeedSpec, _rfc822, _rfc3339, clean, feed_files, feed_specs
from site_builder.models import Coverage, Digest, Image, Item, Provider, Story, Topic

BASE = "https://user.github.io/digest/"
ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS = ("feed.xml", "atom.xml", "feed.json")
UNRELATED = {1: "Chip exports to Malaysia doubled in October.", 2: "A hospital in Lyon reads scans with software.",
             3: "Farmers in Kenya use drones to count cattle.", 4: "A Welsh choir trained a speech model on hymns.",
             5: "Quantum annealers solved a shipping puzzle in Oslo."}


@pytest.fixture
def built(site):
    """Three files, two stories: the second outlet's AMP copy of the first story is one story, not two."""
    site.config(f'base_url = "{BASE}"\n')
    site.item("a.md", news(title="Atlas-7 released", url="https://a.example.com/atlas", outlet="Outlet A", domain="a.example.com",
                           topic="Large Language Models", when="2026-11-20T10:00:00Z", excerpt="A lab shows a robot folding shirts."))
    site.item("b.md", news(title="Atlas-7 is out", url="https://www.a.example.com/atlas/amp/", outlet="Outlet B", domain="b.example.com",
                           topic="Large Language Models", when="2026-11-20T12:00:00+02:00", heat=10,
                           excerpt="Atlas-7 is out.", body="A short copy."))
    site.item("c.md", news(title="Robots fold laundry", url="https://c.example.com/robots", outlet="Outlet C", domain="c.example.com",
                           topic="Robotics", when="2026-11-21T08:30:00Z", excerpt="Household robots reach the market.",
                           body="A home robot from Osaka folds towels and sorts socks for 900 dollars."))
    result = site.build()
    assert result.code == 0, result.err
    return result


def parse(path: Path) -> feedparser.FeedParserDict:
    """feedparser for RSS and Atom; JSON Feed (which feedparser 6.0 does not read) mapped to the same shape."""
    if path.suffix == ".json":
        return from_json_feed(json.loads(path.read_text(encoding="utf-8")))
    feed = feedparser.parse(path.read_bytes())
    assert feed.bozo == 0, f"{path}: {feed.get('bozo_exception')}"
    return feed


def from_json_feed(data: dict) -> feedparser.FeedParserDict:
    entries = []
    for item in data["items"]:
        published = datetime.fromisoformat(item["date_published"]).astimezone(timezone.utc)
        entries.append(feedparser.FeedParserDict(
            title=item["title"], link=item["url"], id=item["id"], summary=item.get("summary", ""),
            content=[{"value": item["content_html"]}], published_parsed=published.timetuple()))
    return feedparser.FeedParserDict(feed=feedparser.FeedParserDict(title=data["title"]), entries=entries)


def test_every_feed_parses_with_one_entry_per_story(built) -> None:
    for name in FEEDS:
        feed = parse(built.output / name)
        assert feed.feed.title == "AI News Digest"
        titles = sorted(entry.title for entry in feed.entries)
        assert titles == ["Atlas-7 released", "Robots fold laundry"], name  # newest first, duplicates folded in
        assert feed.entries[0].title == "Robots fold laundry"


def test_entries_link_to_story_pages_under_the_subpath_and_carry_lead_outlet_excerpt_and_coverage(built) -> None:
    for name in FEEDS:
        feed = parse(built.output / name)
        atlas = next(e for e in feed.entries if e.title == "Atlas-7 released")
        assert atlas.link == BASE + "stories/atlas-7-released/"
        assert (built.output / "stories/atlas-7-released/index.html").is_file()
        content = atlas.get("content", [{}])[0].get("value") or atlas.get("summary") or atlas.get("description")
        assert 'href="https://a.example.com/atlas"' in content and "Outlet A" in content, name
        assert "A lab shows a robot folding shirts." in content
        assert 'href="https://www.a.example.com/atlas/amp/"' in content and "Outlet B" in content  # more coverage
        assert atlas.published_parsed[:5] == (2026, 11, 20, 10, 0)


def test_ids_are_stable_across_builds_and_base_urls(site, built) -> None:
    first = {e.title: e.id for e in parse(built.output / "atom.xml").entries}
    site.config('base_url = "https://news.example.org/"\n')
    second = {e.title: e.id for e in parse(site.build().output / "atom.xml").entries}
    assert first == second and len(set(first.values())) == 2


def test_topic_feeds_hold_only_their_topic(built) -> None:
    for name in FEEDS:
        feed = parse(built.output / "topics/robotics" / name)
        assert [e.title for e in feed.entries] == ["Robots fold laundry"]
        assert "Robotics" in feed.feed.title


def test_every_page_advertises_the_feeds(built) -> None:
    for page in built.output.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for kind, name in (("rss+xml", "feed.xml"), ("atom+xml", "atom.xml"), ("feed+json", "feed.json")):
            assert f'<link rel="alternate" type="application/{kind}"' in html and f'href="{BASE}{name}"' in html, page
    topic = built.page("topics/robotics/")
    assert f'href="{BASE}topics/robotics/feed.xml"' in topic


def test_feed_size_limits_entries(site) -> None:
    site.config("feed_size = 2\n")
    for day in range(1, 6):
        site.item(f"{day}.md", news(title=f"Story {day}", url=f"https://x.example.com/{day}", when=f"2026-11-0{day}T10:00:00Z",
                                    excerpt=UNRELATED[day], body=UNRELATED[day], topic=f"Topic {day}"))
    output = site.build().output
    for name in FEEDS:
        assert [e.title for e in parse(output / name).entries] == ["Story 5", "Story 4"]


def test_hostile_text_cannot_break_a_feed(site) -> None:
    site.item("evil.txt", "Robots ]]> fold <script>alert(1)</script> & \x1b\x01 laundry\n\n"
                          "A </content> body with \x08 control characters & <b>tags</b>.\n")
    output = site.build().output
    for name in FEEDS:
        feed = parse(output / name)
        assert " ".join(feed.entries[0].title.split()) == "Robots ]]> fold <script>alert(1)</script> & laundry"
    raw = (output / "feed.xml").read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\x01" not in raw and "<script>" not in raw


def test_atom_is_valid_per_rfc_4287(built) -> None:
    for path in [built.output / "atom.xml", built.output / "topics/robotics/atom.xml"]:
        assert_valid_atom(path)


def test_json_feed_has_the_version_1_1_required_keys(built) -> None:
    feed = json.loads((built.output / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and feed["feed_url"] == BASE + "feed.json" and feed["home_page_url"] == BASE
    ids = [item["id"] for item in feed["items"]]
    assert len(ids) == len(set(ids)) == 2
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["url"].startswith(BASE)
        assert item.get("content_html") or item.get("content_text")
        datetime.fromisoformat(item["date_published"])  # RFC 3339
        for author in item.get("authors", []):
            assert author["name"]


# -- a strict structural check of RFC 4287 (the parts a reader depends on) ----------------------

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
FEED_CHILDREN = {"author", "category", "contributor", "generator", "icon", "id", "link", "logo", "rights", "subtitle", "title", "updated", "entry"}
ENTRY_CHILDREN = {"author", "category", "content", "contributor", "id", "link", "published", "rights", "source", "summary", "title", "updated"}
ONCE = {"id", "title", "updated", "subtitle", "rights", "generator", "icon", "logo", "published", "summary", "content", "source"}


def assert_valid_atom(path: Path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag == ATOM + "feed", "the root is atom:feed"
    check_container(root, FEED_CHILDREN, f"{path.name} feed")
    entries = root.findall(ATOM + "entry")
    feed_has_author = root.find(ATOM + "author") is not None
    ids = set()
    for entry in entries:
        where = f"{path.name} entry {entry.findtext(ATOM + 'id')}"
        check_container(entry, ENTRY_CHILDREN, where)
        assert feed_has_author or entry.find(ATOM + "author") is not None, f"{where}: atom:author (4.1.1)"
        content = entry.find(ATOM + "content")
        if content is None or content.get("src"):
            assert entry.find(ATOM + "summary") is not None, f"{where}: summary needed without inline content (4.1.2)"
        else:
            assert content.get("type", "text") in ("text", "html", "xhtml"), where
        has_alternate = any(link.get("rel", "alternate") == "alternate" for link in entry.findall(ATOM + "link"))
        assert has_alternate or content is not None, f"{where}: alternate link (4.1.2)"
        for name in ("published",):
            value = entry.findtext(ATOM + name)
            assert value is None or RFC3339.match(value), f"{where}: {name} {value!r}"
        for category in entry.findall(ATOM + "category"):
            assert category.get("term"), f"{where}: category term (4.2.2)"
        ids.add(entry.findtext(ATOM + "id"))
    assert len(ids) == len(entries), "entry ids are unique"
    self_links = [link for link in root.findall(ATOM + "link") if link.get("rel") == "self"]
    assert len(self_links) == 1 and self_links[0].get("href", "").startswith(BASE)


def check_container(node: ET.Element, allowed: set[str], where: str) -> None:
    children = [child.tag[len(ATOM):] for child in node if child.tag.startswith(ATOM)]
    unknown = set(children) - allowed
    assert not unknown, f"{where}: elements Atom does not define here: {unknown}"
    for name in ("id", "title", "updated"):
        assert children.count(name) == 1, f"{where}: exactly one atom:{name}"
    for name in ONCE:
        assert children.count(name) <= 1, f"{where}: at most one atom:{name}"
    ident = node.findtext(ATOM + "id")
    assert re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", ident or ""), f"{where}: atom:id is an IRI, got {ident!r}"
    assert RFC3339.match(node.findtext(ATOM + "updated") or ""), f"{where}: updated is RFC 3339"
    for link in node.findall(ATOM + "link"):
        assert link.get("href"), f"{where}: link without href (4.2.7)"
    for text_construct in ("title", "subtitle", "summary", "rights"):
        element = node.find(ATOM + text_construct)
        if element is not None:
            assert element.get("type", "text") in ("text", "html", "xhtml"), where
    alternates = [(l.get("type"), l.get("hreflang")) for l in node.findall(ATOM + "link") if l.get("rel", "alternate") == "alternate"]
    assert len(alternates) == len(set(alternates)), f"{where}: one alternate link per type and hreflang (4.1.1)"


# -- the feeds are written as text: the bytes ElementTree (and json.dumps) wrote, for any text -------

NASTY = list("&<>\"'\r\n\t ]\\/") + ["]]>", "&amp;", "&#09;", "\r\n", "\x00", "\x01", "\x0b", "\x1b", "\x7f", "\x85", "\x9f",
                                       "\ud800", "\udfff", "\ufffe", "\uffff", "é", "中", "\u2028", "\U0001f600"]
hostile = st.lists(st.one_of(st.sampled_from(NASTY), st.characters()), max_size=10).map("".join)
maybe_hostile = st.one_of(st.none(), hostile)
zones = st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
moments = st.one_of(st.none(), st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=zones))


@st.composite
def stories(draw, index: int) -> Story:
    lead = Item(source=f"{index}.md", title=draw(hostile), excerpt=draw(hostile), published_at=draw(moments), web_url=draw(maybe_hostile),
                provider=draw(st.one_of(st.none(), hostile.map(Provider))), lang=draw(hostile),
                images=tuple(Image(url) for url in draw(st.lists(st.sampled_from(["https://i.example/a&b.png", "/local.png"]), max_size=2))))
    coverage = tuple(Coverage(draw(hostile), draw(maybe_hostile), draw(hostile), draw(hostile), None, draw(moments))
                     for _ in range(draw(st.integers(0, 2))))
    topics = tuple(draw(st.lists(hostile, max_size=3)))
    return Story(id=draw(st.text("0123456789abcdef", max_size=6)), lead=lead, items=(lead,), coverage=coverage, related=(),
                 topics=topics, heat=None, quality=None, published_at=draw(moments), slug=draw(hostile), score=float(index))


@given(st.data(), st.integers(0, 4))
@settings(max_examples=400, deadline=None)
def test_feeds_hold_the_bytes_elementtree_and_json_dumps_wrote(data, count: int) -> None:
    story_list = tuple(data.draw(stories(index)) for index in range(count))
    config = SiteConfig(title=data.draw(hostile), description=data.draw(hostile), base_url=data.draw(hostile),
                        language=data.draw(hostile), author=data.draw(hostile), feed_size=3)
    topic = Topic(data.draw(hostile), "topic", story_list[::2])
    digest = Digest(stories=story_list, top=(), river=(), topics=(topic,), sources=(), items=(), now=data.draw(moments))
    story_path = lambda story: f"stories/{story.slug}/"  # noqa: E731
    written = {file.path: file.data for file in feed_files(digest, config, story_path)}
    fallback = digest.now or datetime(1970, 1, 1, tzinfo=timezone.utc)
    for spec in feed_specs(digest, config):
        entries = [Entry.of(story, config.site_url + story_path(story), config, fallback) for story in spec.stories]
        assert written[spec.folder + "feed.xml"] == reference_rss(spec, entries, config, fallback)
        assert written[spec.folder + "atom.xml"] == reference_atom(spec, entries, config, fallback)
        assert written[spec.folder + "feed.json"] == reference_json(spec, entries, config)


def test_escaping_of_nasty_text_and_attributes() -> None:
    """The escapes themselves, spelled out: text escapes & < >; attributes also ", return, newline and tab."""
    nasty = 'a & b < c > d "q" \'s\'\r\n\tz'
    story = Story(id="s", lead=Item(source="s.md", title=nasty, lang=nasty), items=(), coverage=(), related=(), topics=(nasty, ""),
                  heat=None, quality=None, published_at=datetime(2026, 11, 20, tzinfo=timezone.utc), slug="s")
    digest = Digest(stories=(story,), top=(), river=(), topics=(), sources=(), items=(), now=None)
    written = {f.path: f.data for f in feed_files(digest, SiteConfig(), lambda s: "stories/s/")}
    as_text = "a &amp; b &lt; c &gt; d \"q\" 's'\r\n\tz"
    as_attribute = "a &amp; b &lt; c &gt; d &quot;q&quot; 's'&#13;&#10;&#09;z"
    assert f"<title>{as_text}</title>" in written["feed.xml"] and f"<category>{as_text}</category><category /></item>" in written["feed.xml"]
    atom_xml = written["atom.xml"]
    assert f'<entry xml:lang="{as_attribute}"><id>' in atom_xml and f"<title>{as_text}</title>" in atom_xml
    assert f'<category term="{as_attribute}" /><category term="" /><content type="html" />' in atom_xml
    assert atom_xml.startswith('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><id>')
    assert written["feed.xml"].endswith("</item></channel></rss>\n") and atom_xml.endswith("</entry></feed>\n")


# The feeds as site-builder wrote them with ElementTree and an indented json.dumps, before they were joined as text.
ET.register_namespace("atom", ATOM[1:-1])


def reference_rss(spec: FeedSpec, entries: list[Entry], config: SiteConfig, fallback: datetime) -> str:
    root = ET.Element("rss", {"version": "2.0"})
    channel = _node(root, "channel")
    _text(channel, "title", clean(spec.title))
    _text(channel, "link", config.site_url + spec.folder)
    _text(channel, "description", clean(spec.description))
    _text(channel, "language", config.language)
    _text(channel, "lastBuildDate", _rfc822(_newest(entries, fallback)))
    _text(channel, "generator", "site-builder")
    _node(channel, f"{ATOM}link", {"href": config.site_url + spec.folder + "feed.xml", "rel": "self", "type": "application/rss+xml"})
    for entry in entries:
        item = _node(channel, "item")
        _text(item, "title", entry.title)
        _text(item, "link", entry.url)
        _text(item, "guid", entry.id, isPermaLink="false")
        _text(item, "pubDate", _rfc822(entry.published))
        _text(item, "description", entry.content_html)
        for topic in entry.topics:
            _text(item, "category", topic)
    return _xml(root)


def reference_atom(spec: FeedSpec, entries: list[Entry], config: SiteConfig, fallback: datetime) -> str:
    root = ET.Element("feed", {"xmlns": ATOM[1:-1], "xml:lang": clean(config.language)})
    _text(root, "id", config.site_url + spec.folder + "atom.xml")
    _text(root, "title", clean(spec.title))
    _text(root, "subtitle", clean(spec.description))
    _text(root, "updated", _rfc3339(_newest(entries, fallback)))
    _node(root, "link", {"rel": "self", "type": "application/atom+xml", "href": config.site_url + spec.folder + "atom.xml"})
    _node(root, "link", {"rel": "alternate", "type": "text/html", "href": config.site_url + spec.folder})
    author = _node(root, "author")
    _text(author, "name", clean(config.author or config.title))
    _text(root, "generator", "site-builder")
    for entry in entries:
        node = _node(root, "entry", {"xml:lang": entry.lang})
        _text(node, "id", entry.id)
        _text(node, "title", entry.title)
        _text(node, "updated", _rfc3339(entry.updated))
        _text(node, "published", _rfc3339(entry.published))
        _node(node, "link", {"rel": "alternate", "type": "text/html", "href": entry.url})
        if entry.lead_url:
            _node(node, "link", {"rel": "related", "href": entry.lead_url})
        for topic in entry.topics:
            _node(node, "category", {"term": topic})
        if entry.summary:
            _text(node, "summary", entry.summary)
        _text(node, "content", entry.content_html, type="html")
    return _xml(root)


def reference_json(spec: FeedSpec, entries: list[Entry], config: SiteConfig) -> str:
    items = []
    for entry in entries:
        item = {"id": entry.id, "url": entry.url, "title": entry.title, "content_html": entry.content_html,
                "date_published": _rfc3339(entry.published), "date_modified": _rfc3339(entry.updated), "language": entry.lang}
        optional = {"external_url": entry.lead_url, "summary": entry.summary, "image": entry.image,
                    "tags": list(entry.topics), "authors": [{"name": entry.outlet}] if entry.outlet else None}
        items.append(item | {key: value for key, value in optional.items() if value})
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": spec.title, "home_page_url": config.site_url + spec.folder,
            "feed_url": config.site_url + spec.folder + "feed.json", "description": spec.description, "language": config.language,
            "authors": [{"name": config.author or config.title}], "items": items}
    text = json.dumps(feed, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def _node(parent: ET.Element, tag: str, attributes: dict[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, tag, {name: clean(value) for name, value in (attributes or {}).items()})


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    node = _node(parent, tag, attributes)
    node.text = clean(text)
    return node


def _xml(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _newest(entries: list[Entry], fallback: datetime) -> datetime:
    return max((entry.updated for entry in entries), default=fallback)
