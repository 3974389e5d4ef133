"""Incremental builds: the output equals a clean build's, byte for byte, and unchanged files are left alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import news

from site_builder.incremental import BuildCache
from site_builder.render import Renderer


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def folders(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_dir()}


def clean_build(site, name: str = "clean") -> Path:
    output = site.root / name
    result = site.run("build", "--no-search", "--clean", "--output", str(output))
    assert result.code == 0, result.err
    return output


def story(n: int, **changes) -> str:
    fields = dict(title=f"Story number {n} about {['robots', 'chips', 'models', 'policy'][n % 4]}",
                  url=f"https://outlet{n % 3}.example.com/news/{n}", outlet=f"Outlet {n % 3}", domain=f"outlet{n % 3}.example.com",
                  when=f"2026-11-{10 + n % 9:02d}T{n % 24:02d}:00:00Z", topic=["Robotics", "Chips", "Models"][n % 3],
                  heat=(n * 37) % 100, excerpt=f"Excerpt {n} of a distinct event {n * 7919}.",
                  body=f"Body {n}: " + " ".join(f"w{(n * k) % 997}" for k in range(40)))
    fields.update(changes)
    return news(**fields)


def test_incremental_output_equals_a_clean_build_after_edits_renames_and_deletes(site) -> None:
    for n in range(12):
        site.item(f"2026/s{n}.md", story(n))
    assert site.build("--no-search").code == 0
    site.item("2026/s1.md", story(1, title="Story one, now with a new headline", heat=99))  # edit
    os.rename(site.root / "content/2026/s2.md", site.root / "content/2026/renamed.md")      # rename
    (site.root / "content/2026/s3.md").unlink()                                             # delete
    site.item("2026/new.md", story(40))                                                     # add
    assert site.build("--no-search").code == 0
    site.item("2026/s4.md", story(4, topic="Quantum"))                                      # a new topic
    (site.root / "content/2026/s5.md").unlink()
    assert site.build("--no-search").code == 0
    incremental = site.root / "public"
    clean = clean_build(site)
    assert snapshot(incremental) == snapshot(clean)
    assert folders(incremental) == folders(clean)  # no empty folder left where a page was
    everything = b"".join(snapshot(incremental).values())
    assert b"Story number 3 " not in everything and b"Story number 5 " not in everything  # gone from lists, feeds, sitemap


def test_items_loaded_in_workers_are_cached_as_they_came(site, monkeypatch) -> None:
    """Files loaded in forked workers reach the cache as the workers pickled them (ItemCache.add_pickled);
    the next builds, one of them in workers again, still equal a clean build."""
    monkeypatch.setattr("site_builder.parallel.MINIMUM", 2)
    for n in range(12):
        site.item(f"2026/s{n}.md", story(n))
    assert site.build("--no-search", "--jobs", "2").code == 0
    site.item("2026/s1.md", story(1, title="Story one, now with a new headline", heat=99))
    os.rename(site.root / "content/2026/s2.md", site.root / "content/2026/renamed.md")
    (site.root / "content/2026/s3.md").unlink()
    assert site.build("--no-search", "--jobs", "2").code == 0
    # The workers' pickled entries of the first build are saved again, but not the ones edited since.
    entries = BuildCache.open(site.root / ".site-builder-cache").items.entries
    assert entries["2026/s1.md"][4].title == "Story one, now with a new headline"
    assert "2026/s3.md" not in entries and "2026/s2.md" not in entries and "2026/renamed.md" in entries
    for n in range(12, 20):  # enough new files for the workers again
        site.item(f"2026/s{n}.md", story(n))
    site.item("2026/s4.md", story(4, topic="Quantum"))
    assert site.build("--no-search", "--jobs", "2").code == 0
    assert site.build("--no-search", "--jobs", "1").code == 0  # and once more in one process, from that cache
    assert snapshot(site.root / "public") == snapshot(clean_build(site))


def test_the_deduplicators_features_are_made_once_per_file_read(site, monkeypatch, tmp_path) -> None:
    """The loading workers make the features of the files they read, and the item cache keeps them:
    a rebuild makes none for the files it does not read, and deduplicates as a clean build does."""
    import site_builder.build
    import site_builder.dedupe.cache

    made = tmp_path / "made.txt"  # appended to by forked workers too

    def counting(tag, prepare):
        def counted(items):
            with open(made, "a") as log:
                log.writelines(f"{tag} {item.source}\n" for item in items)
            return prepare(items)
        return counted

    def log() -> list[str]:
        lines = made.read_text().split("\n")[:-1] if made.exists() else []
        made.unlink(missing_ok=True)
        return sorted(lines)

    monkeypatch.setattr("site_builder.parallel.MINIMUM", 2)
    monkeypatch.setattr(site_builder.build, "prepare_features", counting("load", site_builder.build.prepare_features))
    monkeypatch.setattr(site_builder.dedupe.cache, "prepare", counting("dedupe", site_builder.dedupe.cache.prepare))
    # Enough files for batches of several: an edit leaves the others of its batch current.
    for n in range(40):  # the first three are one story, told three times
        site.item(f"2026/s{n}.md", story(n, title="Robots fold laundry", excerpt="Robots fold laundry at home.") if n < 3 else story(n))
    assert site.build("--no-search", "--jobs", "2").code == 0
    assert log() == sorted(f"load 2026/s{n}.md" for n in range(40))
    site.item("2026/s1.md", story(1, title="Story one, now with a new headline", heat=99))
    os.rename(site.root / "content/2026/s2.md", site.root / "content/2026/renamed.md")
    (site.root / "content/2026/s3.md").unlink()
    assert site.build("--no-search", "--jobs", "2").code == 0
    assert log() == ["load 2026/renamed.md", "load 2026/s1.md"]
    site.item("2026/s4.md", story(4, topic="Quantum"))
    assert site.build("--no-search", "--jobs", "1").code == 0
    assert log() == ["load 2026/s4.md"]
    cache = BuildCache.open(site.root / ".site-builder-cache").items
    assert cache.features_of(cache.entries).keys() == cache.entries.keys()
    assert snapshot(site.root / "public") == snapshot(clean_build(site))
    assert not (site.root / ".site-builder-cache" / "dedupe.sqlite").exists()


def test_a_template_edit_takes_the_grouping_of_the_stories_from_the_cache(site, monkeypatch) -> None:
    """Same content, edited template: the deduplicator's grouping comes from the cache (nothing is
    clustered again) and the site equals a clean build's; an edited item clusters again."""
    import site_builder.dedupe
    from site_builder.render import THEME

    clustered = []
    cluster = site_builder.dedupe.cluster
    monkeypatch.setattr(site_builder.dedupe, "cluster", lambda *args, **kwargs: clustered.append(1) or cluster(*args, **kwargs))
    for n in range(8):  # the first three are one story, told three times
        site.item(f"2026/s{n}.md", story(n, title="Robots fold laundry", excerpt="Robots fold laundry at home.") if n < 3 else story(n))
    assert site.build("--no-search").code == 0 and len(clustered) == 1
    (site.root / "templates").mkdir()
    template = (THEME / "templates" / "story.html").read_text(encoding="utf-8")
    (site.root / "templates" / "story.html").write_text(template.replace("{% block main %}", "{% block main %}<p>Edited template</p>"))
    assert site.build("--no-search").code == 0 and len(clustered) == 1
    pages = snapshot(site.root / "public")
    laundry = pages["stories/robots-fold-laundry/index.html"]
    assert b"Edited template" in laundry and laundry.count(b"Robots fold laundry") >= 3  # the lead and its more coverage
    assert pages == snapshot(clean_build(site))
    site.item("2026/s1.md", story(1, title="Robots fold laundry", excerpt="Robots fold laundry at home, and iron.", heat=99))
    assert site.build("--no-search").code == 0 and len(clustered) == 3  # the clean build, then this one
    assert snapshot(site.root / "public") == snapshot(clean_build(site, "clean-again"))


def test_the_items_are_written_while_the_build_deduplicates_and_never_while_it_forks(site, monkeypatch) -> None:
    """items.pickle is written by a thread beside deduplication; the render workers are forked only once
    it has finished (forking while a thread writes is unsafe), however slow the write."""
    import threading
    import time

    import site_builder.incremental

    write_pickle = site_builder.incremental.write_pickle

    def slow(path, data):
        if path.name == "items.pickle":
            time.sleep(0.5)
        write_pickle(path, data)

    forks = []
    fork = os.fork

    def watched_fork():
        forks.append(sorted(thread.name for thread in threading.enumerate() if thread is not threading.current_thread()))
        return fork()

    monkeypatch.setattr(site_builder.incremental, "write_pickle", slow)
    monkeypatch.setattr(os, "fork", watched_fork)
    monkeypatch.setattr("site_builder.parallel.MINIMUM", 2)
    for n in range(12):
        site.item(f"2026/s{n}.md", story(n))
    assert site.build("--no-search", "--jobs", "2").code == 0
    assert len(forks) == 4 and not any("items.pickle" in names for names in forks), forks  # loading, then rendering
    entries = BuildCache.open(site.root / ".site-builder-cache").items.entries
    assert sorted(entries) == [f"2026/s{n}.md" for n in sorted(range(12), key=str)]


def test_unchanged_files_keep_their_mtime_and_changed_ones_are_rewritten(site) -> None:
    for n in range(6):
        site.item(f"s{n}.md", story(n))
    assert site.build("--no-search").code == 0
    public = site.root / "public"
    before = {path: os.stat(public / path) for path in snapshot(public)}
    site.item("s0.md", story(0, body="A brand new body for story zero."))
    assert site.build("--no-search").code == 0
    after = {path: os.stat(public / path) for path in snapshot(public)}
    changed = {path for path in after if path in before and after[path].st_mtime_ns != before[path].st_mtime_ns}
    edited = next(path for path in after if path.startswith("stories/") and b"brand new body" in (public / path).read_bytes())
    assert edited in changed
    untouched = [p for p in ("stories/" + n + "/index.html" for n in os.listdir(public / "stories")) if p != edited]
    assert untouched and not changed & set(untouched)
    assert "assets/style.css" not in changed and "404.html" not in changed
    assert snapshot(public) == snapshot(clean_build(site))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_after_a_first_build_an_edit_renders_only_its_own_story_page_again(site, monkeypatch, tmp_path, jobs: str) -> None:
    """A first build makes the story pages' keys beside the lists (see render_pages): the next build finds
    every other story page by its key, and renders it no more."""
    monkeypatch.setattr("site_builder.parallel.MINIMUM", 2)  # with --jobs 2, the pages render in forked workers
    log = tmp_path / "rendered"
    render = Renderer.render

    def logged(self, page, context):
        with open(log, "a", encoding="utf-8") as handle:  # every worker appends to it
            handle.write(page.output_path + "\n")
        return render(self, page, context)

    monkeypatch.setattr(Renderer, "render", logged)
    titles = ["Quartz robots win a prize", "Glacier study uses vision models", "Chip export rules tighten", "Hospital ends diagnostic trial"]
    for n, title in enumerate(titles):
        site.item(f"s{n}.md", news(title=title, url=f"https://news.example.com/{n}"))
    assert site.build("--no-search", "--jobs", jobs).code == 0
    assert len({path for path in log.read_text().split() if path.startswith("stories/")}) == 4
    log.unlink()
    site.item("s0.md", news(title=titles[0], url="https://news.example.com/0", body="A brand new body for the robots."))
    assert site.build("--no-search", "--jobs", jobs).code == 0
    again = [path for path in log.read_text().split() if path.startswith("stories/")]
    assert len(again) == 1 and b"brand new body" in (site.root / "public" / again[0]).read_bytes()


def test_an_edit_seen_only_in_the_item_renders_its_story_page_again(site) -> None:
    # The lead's image is on its story page and nowhere in the page's other inputs (title,
    # description, the story's own fields): only the item's file hash in the key can see it.
    def with_image(n: int, image: str) -> str:
        return story(n).replace("quality: 60\n", f'quality: 60\nimages:\n  - url: "https://img.example.com/{image}.jpg"\n', 1)

    for n in range(3):
        site.item(f"s{n}.md", with_image(n, f"first-{n}"))
    assert site.build("--no-search").code == 0
    site.item("s0.md", with_image(0, "second-0"))
    assert site.build("--no-search").code == 0
    public = site.root / "public"
    pages = b"".join(path.read_bytes() for path in (public / "stories").rglob("index.html"))
    assert b"second-0.jpg" in pages and b"first-0.jpg" not in pages
    assert snapshot(public) == snapshot(clean_build(site))


def test_no_change_build_rewrites_nothing(site) -> None:
    for n in range(5):
        site.item(f"s{n}.md", story(n))
    site.build("--no-search")
    site.build("--no-search")
    public = site.root / "public"
    before = {path: os.stat(public / path).st_mtime_ns for path in snapshot(public)}
    site.build("--no-search")
    assert {path: os.stat(public / path).st_mtime_ns for path in snapshot(public)} == before


def test_same_size_edit_within_the_same_second_is_seen(site) -> None:
    path = site.item("a.md", story(1, title="Headline AAAA"))
    site.build("--no-search")
    stat = path.stat()
    site.item("a.md", story(1, title="Headline BBBB"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime: only the bytes differ
    site.build("--no-search")
    assert "Headline BBBB" in (site.root / "public/index.html").read_text()


def test_failed_build_leaves_the_previous_site_and_the_next_build_is_right(site) -> None:
    for n in range(4):
        site.item(f"s{n}.md", story(n))
    site.build("--no-search")
    before = snapshot(site.root / "public")
    site.item("s0.md", story(0, title="Edited before the template broke"))
    site.write("templates/story.html", "{% extends 'base.html' %}{% block main %}{{ story.title }{% endblock %}")
    result = site.build("--no-search")
    assert result.code == 1 and "templates/story.html" in result.err
    assert snapshot(site.root / "public") == before
    (site.root / "templates/story.html").unlink()
    site.build("--no-search")
    assert snapshot(site.root / "public") == snapshot(clean_build(site))


def test_damaged_cache_is_ignored(site) -> None:
    for n in range(3):
        site.item(f"s{n}.md", story(n))
    site.build("--no-search")
    cache = site.root / ".site-builder-cache"
    for name in ("items.pickle", "stages.pickle", "pages.pickle"):
        (cache / name).write_bytes(b"not a pickle")
    for record in (cache / "trees").iterdir():
        record.write_bytes(b"\x80garbage")
    site.item("s1.md", story(1, title="After the cache broke"))
    assert site.build("--no-search").code == 0
    assert snapshot(site.root / "public") == snapshot(clean_build(site))


def test_clean_build_ignores_the_cache(site) -> None:
    site.item("a.md", story(1))
    site.build("--no-search")
    (site.root / ".site-builder-cache" / "stale-file").write_text("x")
    assert site.build("--no-search", "--clean").code == 0
    assert not (site.root / ".site-builder-cache" / "stale-file").exists()
    shutil.rmtree(site.root / "public")
    assert site.build("--no-search").code == 0 and (site.root / "public/index.html").is_file()


def test_a_no_change_build_reuses_the_search_index_and_an_edit_rebuilds_it(site) -> None:
    from conftest import news

    site.item("a.md", news(title="Quartz robots win a prize"))
    site.item("b.md", news(title="Glacier study uses vision models", url="https://x.example.com/glacier"))
    assert site.build().code == 0
    bundle = site.root / "public" / "pagefind"
    before = {p.relative_to(bundle): (p.stat().st_ino, p.read_bytes()) for p in bundle.rglob("*") if p.is_file()}
    assert before and site.build().code == 0
    after = {p.relative_to(bundle): (p.stat().st_ino, p.read_bytes()) for p in bundle.rglob("*") if p.is_file()}
    assert after == before  # the same files, not re-indexed (Pagefind would name them differently)
    site.item("c.md", news(title="Walnut harvest predicted by a new model", url="https://x.example.com/walnut"))
    assert site.build().code == 0
    fragments = b"".join(p.read_bytes() for p in (bundle / "fragment").iterdir())
    assert len(list((bundle / "fragment").iterdir())) == 3, fragments[:200]


def test_every_field_of_a_story_and_of_its_coverage_is_in_its_fingerprint() -> None:
    """Stories and lines of coverage have text makers of their own (faster than the generic one): a field
    they left out would let a page keep its old bytes when that field changed."""
    import dataclasses
    from datetime import datetime, timedelta, timezone

    from site_builder.incremental import fingerprint
    from site_builder.models import Coverage, Item, Provider, Related, Story

    when = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    lead = Item("a.md", "Robots fold laundry", content_hash="aa")
    other = Item("b.md", "Robots fold laundry, again", content_hash="bb")
    line = Coverage("Robots fold laundry, again", "https://b.example/x", "B News", "b.example", "en", when, other, "minhash 0.91")
    related = Related("Laundry robots", "https://c.example/y", provider=Provider("C"), published_at=when)
    story = Story("s1", lead, (lead, other), (line,), (related,), ("Robotics",), 50, 60, when, "robots-fold-laundry", 1.5)

    def changed(value):
        if isinstance(value, str):
            return value + "x"
        if isinstance(value, bool) or value is None:
            return 7
        if isinstance(value, (int, float)):
            return value + 1
        if isinstance(value, datetime):
            return value + timedelta(seconds=1)
        if isinstance(value, Item):
            return dataclasses.replace(value, content_hash=value.content_hash + "x")
        if isinstance(value, tuple):
            return value[:-1] if value else ("x",)
        raise AssertionError(f"no other value for {value!r}")

    for whole in (story, line):
        text = fingerprint(whole, {})
        assert fingerprint(dataclasses.replace(whole), {}) == text  # equal values, other objects: the same text
        for field in dataclasses.fields(whole):
            other_value = dataclasses.replace(whole, **{field.name: changed(getattr(whole, field.name))})
            assert fingerprint(other_value, {}) != text, f"{type(whole).__name__}.{field.name}"
    for field in dataclasses.fields(Coverage):  # and a line's fields as part of its story
        changed_line = dataclasses.replace(line, **{field.name: changed(getattr(line, field.name))})
        assert fingerprint(dataclasses.replace(story, coverage=(changed_line,)), {}) != fingerprint(story, {}), field.name
