"""Hostile content: no script in any field of any item ever runs on the built site or in its feeds.

Every text and URL field of an item (title, excerpt, body, webUrl and the
other URLs, images, provider name, domain and icon, topics, category, and the
title, excerpt, webUrl and provider of related entries) carries payloads that
call `pwn(...)` or set `window.__pwned`.  URL fields keep only http(s); the
rest is shown as text; Jinja syntax is shown, never evaluated.  A headless
chromium visits every page of the built site (and every feed, whose HTML
fragments are also loaded as a feed reader would show them) with `pwn`
exposed, and it must never be called.
"""

from __future__ import annotations

import json
import random
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from site_builder.__main__ import main

#: Markup and script payloads for text fields.
TEXT_PAYLOADS = [
    "<script>pwn('script')</script>",
    "<img src=x onerror=\"pwn('img')\">",
    "<svg onload=pwn('svg')></svg>",
    "\"><script>pwn('break-attr')</script>",
    "'><img src=x onerror=pwn('break-single')>",
    "</title><script>pwn('title-break')</script>",
    "</textarea><script>pwn('textarea')</script>",
    "<iframe srcdoc=\"<script>parent.pwn('srcdoc')</script>\"></iframe>",
    "<a href=\"javascript:pwn('a')\">click</a>",
    "<body onload=pwn('body')>",
    "<details open ontoggle=pwn('details')>",
    "<style>@import 'javascript:pwn(1)';</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=pwn('mxss')>",
    "]]><script>pwn('cdata')</script>",
    "--><script>pwn('comment')</script>",
    "\u2028<script>pwn('ls')</script>",
    "&lt;script&gt;pwn('entity')&lt;/script&gt;",
    "{{ 7*191 }}",
    "{% for x in range(3) %}LOOP{% endfor %}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "${7*191} #{7*191} <%= 7*191 %>",
]
#: Payloads for URL fields: every one must be refused (or, if http(s), kept as inert text in an attribute).
URL_PAYLOADS = [
    "javascript:pwn('js')",
    "JaVaScRiPt:pwn('case')",
    " javascript:pwn('space')",
    "java\tscript:pwn('tab')",
    "\x01javascript:pwn('ctrl')",
    "&#106;avascript:pwn('entity')",
    "javascript&colon;pwn('colon')",
    "data:text/html,<script>parent.pwn('data')</script>",
    "data:text/html;base64,PHNjcmlwdD5wYXJlbnQucHduKCdiNjQnKTwvc2NyaXB0Pg==",
    "vbscript:msgbox('pwn')",
    "file:///etc/passwd",
    "//evil.example.com/x.js",
    "https://ok.example.com/\"><script>pwn('url-break')</script>",
    "https://ok.example.com/' onmouseover='pwn(1)",
]
#: Markdown bodies: links, images, autolinks, references, raw HTML (off).
MARKDOWN_PAYLOADS = [
    "[link](javascript:pwn('md-link'))",
    "[link](JAVASCRIPT:pwn('md-case'))",
    "[link](<javascript:pwn('md-angle')>)",
    "[link](&#x6A;avascript:pwn('md-entity'))",
    "![img](javascript:pwn('md-img'))",
    "![img](x \"title\" onerror=pwn('md-title'))",
    "<javascript:pwn('md-autolink')>",
    "[ref][r]\n\n[r]: javascript:pwn('md-ref')",
    "[data](data:text/html,<script>parent.pwn('md-data')</script>)",
    "[vb](vbscript:pwn('md-vb'))",
    "[proto](//evil.example.com/md)",
    "<div onmouseover=\"pwn('md-html-block')\">hover</div>",
    "Inline <b onclick=pwn('md-inline')>html</b> here.",
    "```html\n<script>pwn('md-code')</script>\n```",
    "<!-- --><script>pwn('md-comment')</script>",
    "{{ 7*191 }} and {% raw %}{{ raw }}{% endraw %}",
]


def words(seed: int, count: int) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choice("bcdfghjklmnpqrstvwz") + rng.choice("aeiou") for _ in range(4)) for _ in range(count))


def hostile_items() -> dict[str, str]:
    """One file per payload group; each item distinct so that each gets its own story page."""
    files = {}
    for index, text in enumerate(TEXT_PAYLOADS):
        url = URL_PAYLOADS[index % len(URL_PAYLOADS)]
        fields = {
            "title": f"{text} {words(index, 3)}",
            "excerpt": f"{text} {words(index + 100, 12)}",
            "publishedDateTime": f"2026-10-{1 + index:02d}T10:00:00Z",
            "webUrl": url if index % 2 else f"https://h{index}.example.com/story",
            "originalUrl": url,
            "ampWebUrl": URL_PAYLOADS[(index + 1) % len(URL_PAYLOADS)],
            "provider": {"name": text, "domain": f"h{index}.example.com" if index % 3 else text,
                         "images": [{"url": url}, {"url": "/favicon.svg\"><script>pwn('icon')</script>"}]},
            "images": [{"url": url, "width": text, "height": 10}, url],
            "topics": [text, f"Topic {words(index + 200, 1)}"],
            "category": text,
            "lang": "en",
            "related": [
                {"title": text, "excerpt": text, "webUrl": url, "provider": {"name": text, "domain": text}},
                {"title": f"{text} related", "excerpt": text, "webUrl": f"https://r{index}.example.com/{text}",
                 "provider": {"name": text, "domain": f"r{index}.example.com"}},
            ],
            "secured": text,
        }
        body = f"{text}\n\n{MARKDOWN_PAYLOADS[index % len(MARKDOWN_PAYLOADS)]}\n\n{words(index + 300, 40)}\n"
        files[f"hostile-{index:02d}.md"] = "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---\n" + body
    for index, text in enumerate(MARKDOWN_PAYLOADS):
        files[f"markdown-{index:02d}.md"] = (
            f"---\ntitle: Markdown {words(index + 400, 3)}\nwebUrl: https://m{index}.example.com/\n"
            f"publishedDateTime: 2026-09-{1 + index:02d}T10:00:00Z\n---\n{text}\n\n{words(index + 500, 40)}\n"
        )
    for index, text in enumerate(TEXT_PAYLOADS[:6]):
        files[f"plain-{index}.txt"] = f"Technology\ndate 2026-08-{1 + index:02d}\n{text} {words(index + 600, 3)}\n\n{text}\n{words(index + 700, 40)}.\n"
    return files


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("hostile")
    (root / "content").mkdir()
    for name, text in hostile_items().items():
        (root / "content" / name).write_text(text, encoding="utf-8")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["build", "--project", str(root), "--verbose"])
    assert code == 0, err.getvalue()
    return root / "public", err.getvalue()


EXECUTABLE_URL = re.compile(r"^\s*(javascript|vbscript|data|file)\s*:", re.IGNORECASE)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data", "xlink:href", "background", "ping"}


class Audit(HTMLParser):
    """Everything in a page that could run: script elements, event handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            # JSON-LD is data, not code: it may quote a payload, but must stay whole JSON (no break-out).
            self._in_script = "json" if (dict(attrs).get("type") or "").endswith("json") else "code"
            src = dict(attrs).get("src") or ""
            if src and not (src.startswith("/") and not src.startswith("//")):
                self.problems.append(f"script from {src!r}")
        elif tag in ("iframe", "object", "embed", "base", "frame", "applet"):
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            self.problems.append("meta refresh")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r} on <{tag}>")
            if name in URL_ATTRIBUTES and value and EXECUTABLE_URL.match(value):
                self.problems.append(f"{name}={value!r} on <{tag}>")
            if name == "style" and value and "pwn" in value:
                self.problems.append(f"style={value!r}")
            if name == "srcdoc":
                self.problems.append("srcdoc")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script == "code" and "pwn" in data:
            self.problems.append(f"script text {data[:80]!r}")
        elif self._in_script == "json":
            try:
                json.loads(data)
            except ValueError:
                self.problems.append(f"JSON-LD broken open: {data[:80]!r}")


def audit(html: str) -> list[str]:
    parser = Audit()
    parser.feed(html)
    parser.close()
    return parser.problems


def text_files(output: Path) -> list[Path]:
    return sorted(p for p in output.rglob("*") if p.is_file() and p.suffix in (".html", ".xml", ".json", ".txt") and "pagefind" not in p.parts)


def feed_html_fragments(output: Path) -> list[tuple[str, str]]:
    """(where, html) for every HTML fragment a feed reader would render."""
    fragments = []
    for path in output.rglob("*.xml"):
        root = ET.parse(path).getroot()
        # An RSS item's description and content:encoded are HTML (the channel's description is text,
        # RSS 2.0); in Atom only type="html" content is.
        html_nodes = [*root.iterfind("./channel/item/description"), *root.iterfind("./channel/item/{*}encoded"),
                      *(node for node in root.iter() if node.get("type") == "html")]
        for node in html_nodes:
            if node.text:
                fragments.append((f"{path.relative_to(output)}:{node.tag.rpartition('}')[2]}", node.text))
    for path in output.rglob("feed.json"):
        for item in json.loads(path.read_text(encoding="utf-8")).get("items", []):
            for key in ("content_html",):  # summary and content_text are plain text
                if item.get(key):
                    fragments.append((f"{path.name}:{key}", item[key]))
    return fragments


def test_every_field_loads_or_is_refused_with_a_located_message(hostile_site) -> None:
    _, err = hostile_site
    assert "Traceback" not in err
    assert "hostile-00.md:7: originalUrl: expected an http(s) URL, got \"javascript:pwn('js')\"" in err
    assert "hostile-01.md:7: originalUrl: expected an http(s) URL, got \"JaVaScRiPt:pwn('case')\"" in err
    assert re.search(r"hostile-07\.md:\d+: originalUrl: expected an http\(s\) URL, got [\"']data:text/html", err)
    assert re.search(r"hostile-\d+\.md:\d+: images\[0\]\.url: expected an http\(s\) URL", err)
    assert re.search(r"hostile-\d+\.md:\d+: provider\.domain: not a domain name", err)
    assert re.search(r"hostile-\d+\.md:\d+: related\[0\]\.webUrl: expected an http\(s\) URL", err)
    for line in err.splitlines():
        if "hostile-" in line or "markdown-" in line or "plain-" in line:
            assert re.match(r"^[\w.-]+:\d+: ", line), line


def test_no_page_or_feed_holds_markup_that_could_run(hostile_site) -> None:
    output, _ = hostile_site
    files = text_files(output)
    assert len([p for p in files if p.suffix == ".html"]) > len(hostile_items())
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "1337" not in text, f"{path}: Jinja in content was evaluated"
        assert "LOOPLOOP" not in text and "uid=" not in text
        if path.suffix == ".html":
            assert audit(text) == [], path
    for where, html in feed_html_fragments(output):
        assert audit(html) == [], where
    story_pages = [p.read_text(encoding="utf-8") for p in (output / "stories").rglob("index.html")]
    shown = "".join(story_pages)
    assert "{{ 7*191 }}" in shown and "{% for x in range(3) %}" in shown  # shown as text
    assert "&lt;script&gt;pwn(&#39;script&#39;)&lt;/script&gt;" in shown or "&lt;script&gt;pwn('script')&lt;/script&gt;" in shown
