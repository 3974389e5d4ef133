"""A build with nothing to do (unchanged.py): it stops at once, says what the last build said, and
never trusts an output folder someone touched since."""

from __future__ import annotations

import os
import time
from pathlib import Path

from conftest import news
from test_incremental import clean_build, snapshot, story


def entries(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file's inode and mtime: a build that wrote nothing leaves them all as they were."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def settled_site(site) -> None:
    """Items, one with an error, written long enough before the build that their mtimes are trusted."""
    for n in range(6):
        site.item(f"s{n}.md", story(n))
    site.item("broken.md", "---\ntitle: [unclosed\n---\nBody.\n")
    past = time.time() - 60
    for path in (site.root / "content").iterdir():
        os.utime(path, (past, past))


def test_a_build_with_nothing_to_do_writes_nothing_and_reports_the_same(site) -> None:
    settled_site(site)
    first = site.build("--no-search")
    before = entries(first.output)
    again = site.build("--no-search", "--verbose")
    assert again.code == first.code == 0
    assert again.out.split(" in ")[0] == first.out.split(" in ")[0]  # "Built ...: 7 items → ... pages"
    assert "broken.md:3: invalid YAML" in again.err and "broken.md:3: invalid YAML" in first.err  # reported again
    assert "render" not in again.err  # stopped before any stage but the check
    assert entries(again.output) == before
    assert site.build("--no-search", "--strict").code == 1  # --strict still fails on the same error


def test_an_output_folder_touched_by_hand_is_built_again(site) -> None:
    settled_site(site)
    public = site.build("--no-search").output
    expected = snapshot(public)
    (public / "index.html").write_text("defaced")  # the incremental build must not link it into the new site
    page = next(p for p in public.glob("stories/*/index.html"))
    page.unlink()
    (public / "stray.txt").write_text("not ours")
    site.build("--no-search")
    assert snapshot(public) == expected
    assert snapshot(public) == snapshot(clean_build(site))


def test_changed_inputs_are_built_again(site) -> None:
    settled_site(site)
    public = site.build("--no-search").output
    site.write("templates/404.html", "{% extends 'base.html' %}{% block main %}Lost here.{% endblock %}")
    site.build("--no-search")
    assert "Lost here." in (public / "404.html").read_text()
    site.item("s1.md", story(1, title="A headline written later"))
    site.build("--no-search")
    assert (public / "stories" / "a-headline-written-later" / "index.html").is_file()
    site.config("title = 'Renamed digest'\n")
    site.build("--no-search")
    assert "Renamed digest" in (public / "index.html").read_text()


def test_a_first_build_in_workers_records_its_inputs_as_read(site, monkeypatch) -> None:
    """A first build stats the files as its workers read them (no stat of every file beforehand): the
    record it leaves still lets an unchanged second build stop at once, and an edit still rebuilds."""
    monkeypatch.setattr("site_builder.parallel.MINIMUM", 2)
    settled_site(site)
    first = site.build("--no-search", "--jobs", "2")
    before = entries(first.output)
    again = site.build("--no-search", "--jobs", "2", "--verbose")
    assert "render" not in again.err and entries(again.output) == before
    site.item("s1.md", story(1, title="A headline written later"))
    site.build("--no-search", "--jobs", "2")
    assert (first.output / "stories" / "a-headline-written-later" / "index.html").is_file()


def test_a_site_with_paginated_lists_and_nothing_to_do_stops_at_once(site) -> None:
    """The record of a build's output takes the stats its render workers took as they wrote each page,
    and its folder's when the page is all it holds: a folder that gets more after its page (a topic's,
    with page/2/) is looked at when the build ends, or an unchanged build would not be trusted."""
    for n in range(40):  # one topic and one outlet, 30 stories to a page
        site.item(f"s{n}.md", news(title=f"Distinct story {n}", url=f"https://news.example.com/{n}"))
    past = time.time() - 60
    for path in (site.root / "content").iterdir():
        os.utime(path, (past, past))
    first = site.build("--no-search")
    assert (first.output / "topics" / "robotics" / "page" / "2" / "index.html").is_file()
    before = entries(first.output)
    again = site.build("--no-search", "--verbose")
    assert "render" not in again.err and entries(again.output) == before
