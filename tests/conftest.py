"""Shared fixtures: tiny sites built in tmp_path, and the shared real corpora when present."""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from site_builder.__main__ import main

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_dir(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} is not here")
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str
    output: Path

    def page(self, url: str) -> str:
        path = self.output / url
        if url == "" or url.endswith("/"):
            path = path / "index.html"
        return path.read_text(encoding="utf-8")


class Site:
    """A project folder in tmp_path: write files, run site-builder on it."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys
        (root / "content").mkdir(parents=True, exist_ok=True)

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def item(self, name: str, text: str) -> Path:
        return self.write(f"content/{name}", text)

    def config(self, toml: str) -> None:
        self.write("pyproject.toml", "[tool.site_builder]\n" + textwrap.dedent(toml))

    def run(self, *args: str) -> Result:
        self.capsys.readouterr()
        command = list(args) or ["build"]
        code = main([*command, "--project", str(self.root)])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err, self.root / "public")

    def build(self, *args: str) -> Result:
        return self.run("build", *args)


@pytest.fixture
def site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Site:
    return Site(tmp_path / "site", capsys)


ITEM = """
---
title: "{title}"
excerpt: "{excerpt}"
publishedDateTime: {when}
webUrl: "{url}"
provider:
  name: {outlet}
  domain: {domain}
topics:
  - {topic}
heat: {heat}
quality: 60
---

{body}
"""


_SYLLABLES = ("ka", "lo", "mi", "nu", "re", "sa", "to", "vi", "zo", "pe", "du", "fa", "gi", "ho", "ju", "be")


def distinct_text(seed: str, words: int = 14) -> str:
    """Text that no other seed shares, so the deduplicator never merges unrelated test items."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest() * 4
    made = ["".join(_SYLLABLES[b % 16] + _SYLLABLES[b // 16] for b in digest[i * 2 : i * 2 + 2]) for i in range(words)]
    return " ".join(made).capitalize() + "."


def news(title: str = "Robots learn to fold laundry", excerpt: str | None = None,
         when: str = "2026-11-20T10:00:00Z", url: str = "https://news.example.com/robots-laundry",
         outlet: str = "Example News", domain: str = "news.example.com", topic: str = "Robotics",
         heat: int = 50, body: str | None = None) -> str:
    """A front-matter news item; excerpt and body default to text unique to the title."""
    excerpt = distinct_text(title) if excerpt is None else excerpt
    body = distinct_text(title[::-1], 30) if body is None else body
    return ITEM.format(title=title, excerpt=excerpt, when=when, url=url, outlet=outlet, domain=domain,
                       topic=topic, heat=heat, body=body)
