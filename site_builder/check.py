"""`site-builder check`: what a visitor would find broken in a built site, as `file: link: why`.

Every internal link, fragment (#id) and asset of every page must resolve
under base_url (a root-relative link that leaves its subpath is broken on
GitHub Pages even when the file exists); every feed must parse; every page
needs a <title> and a <html lang>.  Links to other sites are not fetched.
"""

from __future__ import annotations

import json
import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .config import SiteConfig

# (tag, attribute) pairs that point at something a browser loads or follows.
LINK_ATTRIBUTES = {("a", "href"), ("area", "href"), ("link", "href"), ("script", "src"), ("img", "src"), ("source", "src"),
                   ("video", "src"), ("video", "poster"), ("audio", "src"), ("iframe", "src"), ("form", "action"), ("embed", "src")}
_EXTERNAL_SCHEMES = ("mailto:", "tel:", "data:", "javascript:", "sms:")
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    link: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.link}: {self.reason}"


@dataclass(frozen=True, slots=True)
class CheckReport:
    pages: int
    links: int
    feeds: int
    problems: tuple[Problem, ...]


class _Page(HTMLParser):
    """The parts of one HTML page the check needs: lang, title, ids, outgoing links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.title = ""
        self.in_title = False
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = values.get("lang")
        elif tag == "title":
            self.in_title = True
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.ids.add(values["name"])
        for name, value in values.items():
            if (tag, name) in LINK_ATTRIBUTES and value.strip():
                self.links.append(value.strip())
        if tag in ("img", "source") and values.get("srcset"):
            self.links.extend(part.strip().split()[0] for part in values["srcset"].split(",") if part.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data


class SiteChecker:
    def __init__(self, root: Path, config: SiteConfig) -> None:
        self.root = root
        self.site_url = config.site_url
        self.base_path = config.base_path
        self.host = urlsplit(config.site_url).netloc
        self._ids: dict[Path, set[str]] = {}
        self.problems: list[Problem] = []
        self.links = 0

    def run(self) -> CheckReport:
        pages = sorted(self.root.rglob("*.html"))
        for path in pages:
            self.check_page(path)
        feeds = self.check_feeds()
        self.check_sitemap()
        return CheckReport(len(pages), self.links, feeds, tuple(self.problems))

    def name(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def report(self, path: Path, link: str, reason: str) -> None:
        self.problems.append(Problem(self.name(path), link, reason))

    def parse(self, path: Path) -> _Page:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        page.close()
        self._ids[path] = page.ids
        return page

    def check_page(self, path: Path) -> None:
        page = self.parse(path)
        if not page.lang:
            self.report(path, "<html lang>", "missing")
        if not page.title.strip():
            self.report(path, "<title>", "missing or empty")
        page_url = self.base_path + self.name(path)
        for link in dict.fromkeys(page.links):  # each distinct link once per page
            self.check_link(path, page_url, link)

    def check_link(self, source: Path, page_url: str, link: str) -> None:
        if link.lower().startswith(_EXTERNAL_SCHEMES):
            return
        parts = urlsplit(link)
        if parts.scheme in ("http", "https") or link.startswith("//"):
            if parts.netloc != self.host or not (parts.path + "/").startswith(self.base_path):
                return  # another site: not fetched
            path = parts.path
        elif parts.scheme:
            return
        elif link.startswith("/"):
            path = parts.path
        else:
            path = posixpath.normpath(posixpath.join(posixpath.dirname(page_url), parts.path)) if parts.path else page_url
            if parts.path.endswith("/") and not path.endswith("/"):
                path += "/"
        self.links += 1
        if not (path + ("" if path.endswith("/") else "/")).startswith(self.base_path) and path + "/" != self.base_path:
            self.report(source, link, f"outside the site's base path {self.base_path}")
            return
        target = self.resolve(unquote(path[len(self.base_path):]) if path.startswith(self.base_path) else "")
        if target is None:
            self.report(source, link, "not found")
            return
        fragment = unquote(parts.fragment)
        if fragment and target.suffix == ".html" and fragment not in self.ids_of(target):
            self.report(source, link, f"no element with id {fragment!r}")

    def resolve(self, relative: str) -> Path | None:
        if ".." in relative.split("/"):
            return None
        candidate = self.root / relative
        if relative == "" or relative.endswith("/") or candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def ids_of(self, path: Path) -> set[str]:
        if path not in self._ids:
            self.parse(path)
        return self._ids[path]

    def check_feeds(self) -> int:
        import feedparser

        count = 0
        for path in sorted([*self.root.rglob("feed.xml"), *self.root.rglob("atom.xml")]):
            count += 1
            feed = feedparser.parse(path.read_bytes())
            if feed.bozo:
                self.report(path, "(feed)", f"does not parse: {feed.get('bozo_exception')}")
                continue
            for entry in feed.entries:
                if entry.get("link"):
                    self.check_link(path, self.base_path, entry.link)
        for path in sorted(self.root.rglob("feed.json")):
            count += 1
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                items = data["items"]
                assert data["version"].startswith("https://jsonfeed.org/version/") and data["title"]
                assert all(isinstance(item["id"], str) for item in items)
            except (ValueError, KeyError, TypeError, AssertionError) as exc:
                self.report(path, "(feed)", f"not a valid JSON Feed: {exc or type(exc).__name__}")
                continue
            for item in items:
                if item.get("url"):
                    self.check_link(path, self.base_path, item["url"])
        return count

    def check_sitemap(self) -> None:
        path = self.root / "sitemap.xml"
        if not path.is_file():
            return
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            self.report(path, "(sitemap)", f"does not parse: {exc}")
            return
        for loc in root.iter(SITEMAP_NS + "loc"):
            self.check_link(path, self.base_path, (loc.text or "").strip())


def check_site(root: Path, config: SiteConfig) -> CheckReport:
    return SiteChecker(root, config).run()
