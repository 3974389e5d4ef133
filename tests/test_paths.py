"""Paths: no title, topic, outlet or link in content/ can put a file outside the output folder.

Slugs are ASCII path segments that are never `..`, never empty and never a
reserved name; two stories that want one URL get distinct, stable URLs and a
warning naming both files; the writer refuses any path that leaves its
folder; symbolic links in content/ that lead outside it (or nowhere, or round
in a loop) are refused with an error, not followed.
"""

from __future__ import annotations

import os
import random
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import news
from site_builder.errors import BuildError
from site_builder.load import load_items
from site_builder.slugs import slugify, unique_slugs
from site_builder.write import OutputWriter

RESERVED = {"", ".", "..", "con", "prn", "aux", "nul", "index", "page"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
HOSTILE_NAMES = [
    "../../etc/passwd", "..", ".", "/", "/etc/passwd", "～/.ssh/id_rsa", "．．／．．／etc", "．．", "..／..／",
    "a\u2215..\u2215b", "\u2215etc\u2215passwd", "..\u2044..\u2044", "\u29f8..\u29f8", "..\\..\\windows", "C:\\Windows\\system32",
    "con", "CON", "Con.md", "nul", "NUL.txt", "aux", "prn", "com1", "lpt9", "index", "index.html", "page",
    "\x00", "a\x00b", "\u202e\u0067\u0070\u006a.exe", "%2e%2e%2f", "..%2f..%2f", "&#46;&#46;/", "\u200b", "🙂", "",
]


@pytest.mark.parametrize("text", HOSTILE_NAMES)
def test_slug_of_a_hostile_name_is_one_safe_segment(text: str) -> None:
    slug = slugify(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*|", slug), slug
    assert slug not in RESERVED - {""}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_slugifies_to_one_safe_segment(text: str) -> None:
    slug = slugify(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*|", slug) and slug not in RESERVED - {""}
    assert len(slug) <= 80


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=120))
def test_ascii_text_slugifies_as_any_text_does(text: str) -> None:
    """slugify() lowers ASCII text directly: the same as decomposing it and dropping what is not ASCII."""
    general = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()).strip("-")
    if len(general) > 80:
        general = general[:80].rsplit("-", 1)[0] or general[:80]
    assert slugify(text) == ("" if general in RESERVED else general)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=6).map(slugify)), max_size=30, unique_by=lambda p: p[0]))
def test_unique_slugs_are_distinct_safe_and_stable(wanted) -> None:
    first = unique_slugs(wanted)
    assert first == unique_slugs(wanted)  # stable
    assert len(set(first.values())) == len(first)  # distinct
    for slug in first.values():
        assert re.fullmatch(r"[a-z0-9.-]+", slug) and slug not in RESERVED and ".." not in slug, slug


def test_a_key_that_is_not_a_safe_segment_never_becomes_the_url() -> None:
    # Topics named "../" or "ＣＯＮ" slugify to "": their key is hashed, never used as it is.
    slugs = unique_slugs([("../", ""), ("．．／", ""), ("con", ""), ("/etc/passwd", ""), ("ok-key", "")])
    assert slugs["ok-key"] == "ok-key"
    for key in ("../", "．．／", "con", "/etc/passwd"):
        assert re.fullmatch(r"[0-9a-f]{12}", slugs[key]), slugs[key]


def test_short_keys_never_loop_forever() -> None:
    # Before: two keys shorter than the suffix width spun in `while candidate in taken`.
    slugs = unique_slugs([("abcdefgh", "x"), ("b", "x"), ("c", "x-b"), ("d", "x"), ("e", "x-b")])
    assert len(set(slugs.values())) == 5


@pytest.mark.parametrize("relative", [
    "../escape.html", "a/../../escape.html", "/etc/passwd", "//etc/passwd", "a\\..\\..\\x", "x\x00y", "", ".", "a/..",
])
def test_writer_refuses_paths_that_leave_the_output_folder(tmp_path: Path, relative: str) -> None:
    with OutputWriter(tmp_path / "public") as out:
        with pytest.raises(BuildError, match="refusing to write outside the output folder"):
            out.write(relative, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".public.lock"]


@pytest.mark.parametrize("relative", ["．．／．．／x.html", "a\u2215..\u2215b.html", "..．/x", "...", "a/.../b", "con/index.html"])
def test_look_alikes_stay_inside_the_output_folder(tmp_path: Path, relative: str) -> None:
    with OutputWriter(tmp_path / "public") as out:
        out.write(relative, "x")
        out.commit()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != ".public.lock"]
    assert len(written) == 1 and written[0].resolve().is_relative_to((tmp_path / "public").resolve())


def distinct_words(index: int, count: int = 40) -> str:
    """Text no deduplicator would call the same story as another index's."""
    rng = random.Random(index)
    return " ".join("".join(rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiou") for _ in range(4)) for _ in range(count))


def test_hostile_titles_topics_and_outlets_build_inside_the_output_folder(site) -> None:
    for index, name in enumerate(HOSTILE_NAMES):
        title = name.replace("\x00", "") or "untitled"
        site.item(f"hostile-{index}.md", news(
            title=f"{title} {distinct_words(index, 3)}".replace('"', "'").replace("\\", "\\\\"),
            excerpt=distinct_words(index + 1000, 10),
            url=f"https://h{index}.example.com/{index}", when=f"2025-{1 + index % 12:02d}-{1 + index % 28:02d}T10:00:00Z",
            topic=repr(name.replace("\x00", "") or "t"), outlet=repr(name.replace("\x00", "") or "o"),
            domain=f"h{index}.example.com", body=distinct_words(index + 2000),
        ))
    before = {p for p in site.root.parent.rglob("*")}
    result = site.build()
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    output = result.output.resolve()
    created = {p for p in site.root.parent.rglob("*")} - before
    for path in created:  # the output, its lock and staging folders beside it, and the build cache
        relative = path.relative_to(site.root.parent)
        inside = path.resolve().is_relative_to(output) or path.name.startswith(".public")
        assert inside or relative.parts[:2] == ("site", ".site-builder-cache"), path
    for path in output.rglob("*"):
        relative = path.relative_to(output).as_posix()
        assert ".." not in relative.split("/")
        assert all(ord(ch) < 128 for ch in relative), relative
        for part in relative.split("/"):
            assert part.split(".")[0].lower() not in {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)}, relative
    stories = [p for p in (output / "stories").iterdir() if p.is_dir()]
    assert len(stories) == len(HOSTILE_NAMES)


def test_two_stories_wanting_one_url_get_distinct_stable_urls_and_a_warning(site) -> None:
    site.item("a-first.md", news(title="C++ news", url="https://one.example.com/c", when="2025-01-05T10:00:00Z",
                                 outlet="One", domain="one.example.com", topic="Languages",
                                 body="A compiler release with faster templates and modules."))
    site.item("b-second.md", news(title="C# news!", url="https://two.example.com/d", when="2026-11-20T10:00:00Z",
                                  outlet="Two", domain="two.example.com", topic="Runtimes",
                                  body="A garbage collector rewrite lowers pauses on servers."))
    result = site.build("--verbose")
    assert result.code == 0, result.err
    stories = sorted(p.name for p in (result.output / "stories").iterdir())
    assert len(stories) == 2 and "c-news" in stories
    other = next(s for s in stories if s != "c-news")
    assert other.startswith("c-news-")
    assert "C++ news" in result.page("stories/c-news/")  # the earlier story keeps the plain URL
    assert "C# news!" in result.page(f"stories/{other}/")
    assert f"b-second.md:1: warning: title: stories/c-news/ is already the URL of a-first.md; this story is at stories/{other}/" in result.err
    assert "1 warning" in site.build().err  # counted like content problems without --verbose
    again = site.build()
    assert sorted(p.name for p in (again.output / "stories").iterdir()) == stories  # stable


def symlink_site(content: Path, outside: Path) -> None:
    (content / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.md").write_text("---\ntitle: Secret outside story\nsecured: SECRET-OUTSIDE-VALUE\n---\nSECRET-OUTSIDE-BODY\n")
    (content / "sub" / "inside.md").write_text(news(title="Inside story").lstrip())
    os.symlink(outside / "secret.md", content / "link-file.md")
    os.symlink(outside, content / "link-folder")
    os.symlink("/etc/passwd", content / "passwd.md")
    os.symlink(".", content / "sub" / "self")
    os.symlink("..", content / "sub" / "up")
    os.symlink("loop-b", content / "loop-a")
    os.symlink("loop-a", content / "loop-b")
    os.symlink("missing.md", content / "dangling.md")
    os.symlink("sub/inside.md", content / "alias-inside.md")
    os.symlink("sub", content / "sub-alias")


SYMLINK_ERRORS = [
    "link-file.md:1: symbolic link to a place outside the content folder; refused",
    "link-folder:1: symbolic link to a place outside the content folder; refused",
    "passwd.md:1: symbolic link to a place outside the content folder; refused",
    "sub/self:1: symbolic link to a folder that holds it (a loop); skipped",
    "sub/up:1: symbolic link to a folder that holds it (a loop); skipped",
    "loop-a:1: symbolic link that leads nowhere (missing target or a loop); skipped",
    "loop-b:1: symbolic link that leads nowhere (missing target or a loop); skipped",
    "dangling.md:1: symbolic link that leads nowhere (missing target or a loop); skipped",
]


def test_symlinks_out_of_content_are_refused_and_loops_end(tmp_path: Path) -> None:
    content = tmp_path / "content"
    symlink_site(content, tmp_path / "outside")
    items, errors = load_items(content, "en")
    assert sorted(str(e) for e in errors) == sorted(SYMLINK_ERRORS)
    # a link inside content/ to a file inside it is read; a linked folder is read once, at its own place
    assert sorted(item.source for item in items) == ["alias-inside.md", "sub/inside.md"]


def test_symlinks_through_the_cli_never_publish_what_they_point_at(site, tmp_path: Path) -> None:
    symlink_site(site.root / "content", tmp_path / "outside")
    result = site.build("--strict")
    assert result.code == 1 and "Traceback" not in result.err
    for message in SYMLINK_ERRORS:
        assert message in result.err
    everything = b"".join(p.read_bytes() for p in result.output.rglob("*") if p.is_file())
    assert b"SECRET-OUTSIDE" not in everything and b"root:x:0:0" not in everything
    assert (result.output / "stories/inside-story/index.html").is_file()


def test_a_static_symlink_out_of_the_project_is_refused(site, tmp_path: Path) -> None:
    site.item("a.md", news())
    (tmp_path / "id_rsa").write_text("PRIVATE-KEY-MATERIAL")
    (site.root / "static").mkdir()
    os.symlink(tmp_path / "id_rsa", site.root / "static" / "key.txt")
    result = site.build()
    assert result.code == 1 and "static/key.txt is a symbolic link to a place outside" in result.err
    assert not result.output.exists() or b"PRIVATE-KEY" not in b"".join(
        p.read_bytes() for p in result.output.rglob("*") if p.is_file())
