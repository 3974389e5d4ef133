"""In-place edits for the preview server (serve/quick.py).

An edit redone in place must write exactly the pages and feeds a full build
of the edited content writes: every HTML page and feed of the output is
compared, byte for byte, with a clean build.  Only the sitemap and the
search index wait for the exact build that follows.  Edits it cannot redo
exactly (a deleted file, a new topic) are left to a full build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.build import BuildOptions, build
from site_builder.config import load_config
from site_builder.incremental import BuildCache
from site_builder.serve.quick import Index, quick_edit
from conftest import distinct_text, news
from test_incremental import clean_build, snapshot

#: Written only by the exact build that follows an in-place edit.
LATER = ("sitemap.xml",)


def story(n: int, **changes) -> str:
    """Item n: its own words (the deduplicator keeps every one apart), one of three outlets and topics."""
    fields = dict(title=distinct_text(f"title {n}", 6).rstrip("."), url=f"https://outlet{n % 3}.example.com/news/{n}",
                  outlet=f"Outlet {n % 3}", domain=f"outlet{n % 3}.example.com", when=f"2026-11-{10 + n % 9:02d}T{n % 24:02d}:00:00Z",
                  topic=["Robotics", "Chips", "Models"][n % 3], heat=(n * 37) % 100)
    fields.update(changes)
    return news(**fields)


def start(site):
    """A full build of the site as the preview server makes it: its state, index and cache."""
    for n in range(14):
        site.item(f"s{n}.md", story(n))
    # A syndicated pair: one story with two outlets.
    site.item("pair-a.md", story(40, url="https://first.example.com/pair", outlet="First", domain="first.example.com"))
    site.item("pair-b.md", story(40, url="https://second.example.com/pair", outlet="Second", domain="second.example.com",
                                 when="2026-11-11T05:00:00Z"))
    config = load_config(site.root)
    options = BuildOptions(site.root / "content", site.root / "public", site.root, search=False)
    cache = BuildCache.open(options.cache_dir)
    report = build(config, options, cache=cache)
    return report.state, Index.of(report.state), cache


def visible(folder: Path) -> dict[str, bytes]:
    return {name: data for name, data in snapshot(folder).items() if name not in LATER}


def differing(first: dict[str, bytes], second: dict[str, bytes]) -> list[str]:
    """Names of the files that are not the same in both (missing on one side included)."""
    return sorted(name for name in first.keys() | second.keys() if first.get(name) != second.get(name))


#: name -> (file, its new text)
EDITS = {
    "body": ("s3.md", story(3, body="A new body, written after the first build.")),
    "heat to the top": ("s5.md", story(5, heat=100)),
    "retitled (the page moves)": ("s6.md", story(6, title="A different headline altogether")),
    "another existing topic": ("s7.md", story(7, topic="Robotics")),
    "a new file": ("new.md", story(90)),
    "one of a pair": ("pair-b.md", story(40, url="https://second.example.com/pair", outlet="Second",
                                         domain="second.example.com", when="2026-11-11T07:30:00Z")),
    "older than every item": ("s8.md", story(8, when="2026-01-01T00:00:00Z")),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_an_edit_redone_in_place_writes_what_a_full_build_writes(site, edit) -> None:
    state, index, cache = start(site)
    before = visible(site.root / "public")
    name, text = EDITS[edit]
    site.item(name, text)
    done = quick_edit(state, index, {name}, cache)
    assert done is not None, f"{edit}: not redone in place"
    after = visible(site.root / "public")
    assert differing(before, after)
    assert differing(after, visible(clean_build(site))) == []


def test_a_second_edit_builds_on_the_first(site) -> None:
    state, index, cache = start(site)
    site.item("s2.md", story(2, heat=99))
    first = quick_edit(state, index, {"s2.md"}, cache)
    assert first is not None
    site.item("s9.md", story(9, title="Story nine, retitled"))
    second = quick_edit(first.state, first.index, {"s9.md"}, cache)
    assert second is not None
    assert differing(visible(site.root / "public"), visible(clean_build(site))) == []


@pytest.mark.parametrize("change", ["deleted", "new topic", "draft"])
def test_edits_that_need_a_full_build_are_left_to_it(site, change) -> None:
    state, index, cache = start(site)
    before = snapshot(site.root / "public")
    if change == "deleted":
        (site.root / "content" / "s4.md").unlink()
    elif change == "new topic":
        site.item("s4.md", story(4, topic="A topic nobody had"))
    else:
        site.item("s4.md", story(4).replace("---\n", "---\npublished: false\n", 1))
    assert quick_edit(state, index, {"s4.md"}, cache) is None
    assert snapshot(site.root / "public") == before  # nothing was written
