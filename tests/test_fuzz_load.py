"""Fuzzing the loaders: bad, strange and hostile files give a located error or an item, never a crash.

Every file ends one of two ways: it loads as an Item (perhaps with field
errors or warnings), or it is left out with at least one error; every problem
names that file and a line.  Nothing raises, nothing hangs, the rest of the
site builds.  Hypothesis drives random bytes, random text in every encoding
and line ending, random YAML values in every contract field, and random YAML
fragments; a hand-made corpus pins the message a user sees for each nasty
kind of file; the big cases (10 MB, 10 000 related entries, a billion-laughs
bomb) run once each with a time and memory bound.
"""

from __future__ import annotations

import codecs
import re
import shutil
import time
import tracemalloc
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import news
from site_builder.load import load_items
from site_builder.load.frontmatter_reader import CONTRACT

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
LOCATED = re.compile(r"^(?P<path>[^\n]+?):(?P<line>[1-9]\d*): (warning: )?\S")


def load_one(folder: Path, name: str, data: bytes):
    """Write one file into a fresh folder and load it: (items, errors), checked against the contract."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    started = time.perf_counter()
    items, errors = load_items(folder, "en")
    assert time.perf_counter() - started < 10, "loading one file must never hang"
    assert_located(items, errors, [name])
    return items, errors


def assert_located(items, errors, names) -> None:
    """Each file is an item, or has an error; every problem names its file and a line."""
    loaded = {item.source for item in items}
    failed = {e.path for e in errors if not e.warning}
    for name in names:
        assert name in loaded or name in failed, f"{name} vanished without a word"
    for error in errors:
        assert error.path in names
        assert error.line >= 1 and error.message.strip()
        assert LOCATED.match(str(error)), str(error)
        assert "\n" not in str(error) and "Traceback" not in str(error)
    for item in items:
        assert item.title.strip()
        item.title.encode("utf-8"), item.body.encode("utf-8"), item.excerpt.encode("utf-8")  # writable as UTF-8


# --- Hypothesis: random files ------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"]
LINE_ENDINGS = ["\n", "\r\n", "\r"]


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes_give_an_item_or_a_located_error(tmp_path, data) -> None:
    load_one(tmp_path / "c", "random.md", data)


@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes_after_a_front_matter_fence(tmp_path, data) -> None:
    load_one(tmp_path / "c", "fenced.md", b"---\n" + data)


@FUZZ
@given(text=st.text(max_size=800), encoding=st.sampled_from(ENCODINGS), ending=st.sampled_from(LINE_ENDINGS),
       front=st.booleans())
def test_random_text_in_any_encoding_and_line_ending(tmp_path, text, encoding, ending, front) -> None:
    if front:
        text = f"---\ntitle: {text[:40]!r}\n---\n{text}"
    text = text.replace("\n", ending)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    load_one(tmp_path / "c", "text.md", data)


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=60),
    st.dates(), st.datetimes(), st.sampled_from(["javascript:alert(1)", "https://example.com/", "2024-02-30", "-1", "hot"]),
)
yaml_values = st.recursive(yaml_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
field_names = st.sampled_from(sorted(CONTRACT) + ["secured", "provider.name", "extra"])


@FUZZ
@given(fields=st.dictionaries(field_names, yaml_values, max_size=8), body=st.text(max_size=200))
def test_wrong_types_in_every_field_cost_the_field_not_the_site(tmp_path, fields, body) -> None:
    front = yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) if fields else ""
    data = f"---\n{front}---\n{body}".encode("utf-8", "surrogatepass")
    items, errors = load_one(tmp_path / "c", "typed.md", data)
    title = fields.get("title")
    if isinstance(title, str) and title.strip() and title.isprintable() and not any(e.field == "title" for e in errors):
        assert [item.title for item in items] == [title.strip()]  # a usable title: the item loaded with it


FRAGMENTS = [
    "title: ok\n", "title: [a, b]\n", "\ttitle: tab\n", "heat: 50\n", "heat: hot\n", "date: 2024-02-30\n",
    "date: 2024-02-29T25:61:00Z\n", "a: &x [1, 2]\n", "b: *x\n", "c: *nope\n", "<<: *x\n", "<<: {title: m}\n",
    "related:\n  - title: r\n    webUrl: https://r.example/\n", "related: [1, [2], {}]\n", "- list\n", "? complex\n",
    ": value\n", "'quoted: key': 1\n", "!!binary aGk=\n", "x: !!python/name:os.system\n", "...\n", "---\n",
    "key: 'unclosed\n", "k: \"\\ud800\"\n", "k: \"\\x00\"\n", "topics: Robotics, AI\n", "images: /../etc/passwd\n",
    "provider: {name: n, domain: 'a b'}\n", "lang: zz-#\n", "published: maybe\n", "title: ok\n", "{\n", "]\n", "%YAML 1.1\n",
    "  indented: 1\n", "title: \"{{ 7*7 }}\"\n", "webUrl: javascript:alert(1)\n",
]


@FUZZ
@given(parts=st.lists(st.sampled_from(FRAGMENTS), max_size=10), closed=st.booleans(), body=st.sampled_from(["", "Body text.\n", "# Heading\n"]))
def test_yaml_fragments_give_an_item_or_a_located_error(tmp_path, parts, closed, body) -> None:
    text = "---\n" + "".join(parts) + ("---\n" if closed else "") + body
    load_one(tmp_path / "c", "frag.md", text.encode("utf-8", "surrogatepass"))


# --- A corpus of nasty files, each with the message a user sees ---------------------------------

def billion_laughs(levels: int = 9) -> bytes:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return ("---\ntitle: Laughs\n" + "\n".join(lines) + f"\nsecured: *a{levels}\n---\nbody\n").encode()


NASTY: dict[str, tuple[bytes, str | None]] = {
    # name: (bytes, expected message or None when the file must load without errors)
    "empty.md": (b"", "empty.md:1: empty file: no headline or text"),
    "blank.txt": (b"  \n\t\n \r\n", "blank.txt:1: empty file: no headline or text"),
    "dot.txt": (b".\n", "dot.txt:1: no headline: the first line of text has no words"),
    "bom.md": (codecs.BOM_UTF8 + b"---\ntitle: With a BOM\n---\nBody.\n", None),
    "utf16.md": ("---\ntitle: Written in UTF-16\n---\nBody.\n".encode("utf-16"), None),
    "utf16be.txt": (codecs.BOM_UTF16_BE + "Headline in big endian\nBody.".encode("utf-16-be"), None),
    "utf16-no-bom.md": ("---\ntitle: x\n---\n".encode("utf-16-le"), "utf16-no-bom.md:1: looks like UTF-16 without a byte-order mark"),
    "latin1.md": ("---\ntitle: Café\n---\n".encode("latin-1"), "latin1.md:2: not valid UTF-8 text (byte 14)"),
    "random.bin": (bytes(range(256)) * 4, "random.bin:2: not valid UTF-8 text (byte 128)"),
    "nul.txt": (b"Headline here\nthen\x00binary", "nul.txt:2: binary file (contains NUL bytes)"),
    "crlf.md": (b"---\r\ntitle: CRLF item\r\nheat: hot\r\n---\r\nBody.\r\n", "crlf.md:3: heat: expected a number, got 'hot'"),
    "cr.md": (b"---\rtitle: CR item\rheat: hot\r---\rBody.\r", "cr.md:3: heat: expected a number, got 'hot'"),
    "unclosed.md": (b"---\ntitle: never closed\nbody\n", "unclosed.md:1: front-matter starts with '---' but is never closed"),
    "only-fence.md": (b"---", "only-fence.md:1: front-matter starts with '---' but is never closed"),
    "tabs.md": (b"---\ntitle: tabs\n\theat: 3\n---\n", "tabs.md:3: invalid YAML: found"),
    "duplicate.md": (b"---\ntitle: first\ntitle: second\n---\n", "duplicate.md:3: warning: title: 'title' is given more than once; the last one is used"),
    "laughs.md": (billion_laughs(), "laughs.md:2: front-matter expands to more than"),
    "self-ref.md": (b"---\ntitle: x\nsecured: &a [*a]\n---\n", "self-ref.md:2: front-matter expands to more than"),
    "alias-missing.md": (b"---\ntitle: *nope\n---\n", "alias-missing.md:2: invalid YAML: found undefined alias"),
    "python-tag.md": (b"---\ntitle: !!python/object/apply:os.system ['true']\n---\n", "python-tag.md:2: invalid YAML: could not determine a constructor"),
    "list-front.md": (b"---\n- a\n- b\n---\n", "list-front.md:2: front-matter must be a table of fields, got list"),
    "impossible-date.md": (b"---\ntitle: Feb 30\ndate: 2024-02-30\n---\n", "impossible-date.md:3: date: expected an ISO 8601 date, got '2024-02-30'"),
    "impossible-time.md": (b"---\ntitle: 25h\npublishedDateTime: 2024-01-01T25:00:00Z\n---\n", "impossible-time.md:3: publishedDateTime: expected an ISO 8601 date, got '2024-01-01T25:00:00Z'"),
    "year-one.md": (b"---\ntitle: Year one\ndate: 0001-01-01\n---\n", "year-one.md:3: date: date out of range: 1"),
    "plain-bad-date.txt": (b"date 2024-13-45\nA headline for a bad date\nBody.", "plain-bad-date.txt:1: date: impossible date '2024-13-45'"),
    "huge-int.md": (b"---\ntitle: Huge\nheat: " + b"9" * 5000 + b"\n---\n", "huge-int.md:3: heat: expected a number, got '999"),
    "nan.md": (b"---\ntitle: NaN\nquality: .nan\n---\n", "nan.md:3: quality: expected a number, got nan"),
    "lone-surrogate.md": (b'---\ntitle: "\\ud800"\n---\n', "lone-surrogate.md:2: invalid YAML"),
    "control-chars.md": (b'---\ntitle: "Bell\\x07 and escape\\x1b"\n---\nBody \x07 text.\n', None),
    "wrong-types.md": (
        b"---\ntitle: [1, 2]\nexcerpt: {a: 1}\nwebUrl: 5\nprovider: [1]\ntopics: 7\nimages: 3\nheat: true\n"
        b"related: {a: 1}\npublished: maybe\nlang: 12\ndate: [2024]\nquality: '50%'\n---\nThe body gives the title.\n",
        "wrong-types.md:2: title: expected text, got a list",
    ),
}
WRONG_TYPES = [
    "wrong-types.md:3: excerpt: expected text, got a table",
    "wrong-types.md:4: webUrl: expected an http(s) URL, got '5'",
    "wrong-types.md:5: provider: expected a provider with a name, got a list",
    "wrong-types.md:6: topics: expected a list of text, got 7",
    "wrong-types.md:7: images: expected a list of images, got 3",
    "wrong-types.md:8: heat: expected a number, got True",
    "wrong-types.md:9: related: expected a list of related items, got a table",
    "wrong-types.md:10: published: expected true or false, got 'maybe'",
    "wrong-types.md:11: lang: not a BCP 47 language tag: '12'",
    "wrong-types.md:12: date: expected an ISO 8601 date, got a list",
    "wrong-types.md:13: quality: expected a number, got '50%'",
]


@pytest.mark.parametrize("name", sorted(NASTY))
def test_nasty_file_gives_the_message_a_user_sees(tmp_path, name) -> None:
    data, expected = NASTY[name]
    items, errors = load_one(tmp_path / "c", name, data)
    messages = [str(e) for e in errors]
    if expected is None:
        assert items and not messages, messages
    else:
        assert any(m.startswith(expected) for m in messages), messages


def test_every_wrong_type_is_named_on_its_line_and_the_item_still_loads(tmp_path) -> None:
    items, errors = load_one(tmp_path / "c", "wrong-types.md", NASTY["wrong-types.md"][0])
    messages = [str(e) for e in errors]
    for expected in WRONG_TYPES:
        assert expected in messages
    assert [item.title for item in items] == ["The body gives the title."]


def test_control_characters_are_dropped_and_line_endings_normalised(tmp_path) -> None:
    (item,), _ = load_one(tmp_path / "c", "control-chars.md", NASTY["control-chars.md"][0])
    assert item.title == "Bell and escape" and item.body == "Body  text."
    (item,), _ = load_one(tmp_path / "c", "cr.md", b"---\rtitle: CR\r---\rline one\rline two\r")
    assert item.body == "line one\nline two"


def test_billion_laughs_is_refused_in_bounded_time_and_memory(tmp_path) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        items, errors = load_one(tmp_path / "c", "laughs.md", billion_laughs(12))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 50 * 1024 * 1024
    assert not items and "laughs.md:2: front-matter expands to more than" in str(errors[0])


def test_ten_megabyte_file_and_ten_thousand_related_and_long_lines_load_once(tmp_path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    paragraph = "Large language models keep getting larger and the digest keeps reading them. " * 12 + "\n\n"
    (content / "ten-mb.md").write_text("---\ntitle: Ten megabytes\n---\n" + paragraph * (10_000_000 // len(paragraph)))
    related = "".join(f"  - title: Related story {i}\n    webUrl: https://r.example.com/{i}\n" for i in range(10_000))
    (content / "related.md").write_text("---\ntitle: Ten thousand related\nrelated:\n" + related + "---\n")
    (content / "long-line.txt").write_text("A headline before a very long line\n" + "word " * 1_000_000)
    (content / "long-title.md").write_text("---\ntitle: '" + "t" * 300_000 + "'\n---\n")
    (content / "too-big.md").write_bytes(b"x" * (21 * 1024 * 1024))
    started = time.perf_counter()
    items, errors = load_items(content, "en")
    assert time.perf_counter() - started < 30
    names = ["ten-mb.md", "related.md", "long-line.txt", "long-title.md", "too-big.md"]
    assert_located(items, errors, names)
    by_name = {item.source: item for item in items}
    assert len(by_name["ten-mb.md"].body) > 9_000_000
    assert len(by_name["related.md"].related) == 100
    assert len(by_name["long-title.md"].title) == 200_000
    messages = [str(e) for e in errors]
    assert "related.md:3: warning: related: 10000 related entries; only the first 100 are kept" in messages
    assert "long-title.md:2: warning: title: longer than 200000 characters; cut" in messages
    assert "too-big.md:1: file is 21 MB; the limit is 20 MB" in messages


# --- Through the command line: the user sees every message; the good item is built -------------

def test_whole_nasty_corpus_through_the_cli(site) -> None:
    site.item("good.md", news(title="A good story survives the nasty ones"))
    for name, (data, _) in NASTY.items():
        path = site.root / "content" / "nasty" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    result = site.build("--verbose")
    assert result.code == 0, result.err
    assert "Traceback" not in result.err + result.out
    for name, (_, expected) in NASTY.items():
        if expected:
            assert f"nasty/{expected}" in result.err
    for expected in WRONG_TYPES:
        assert f"nasty/{expected}" in result.err
    assert (result.output / "stories/a-good-story-survives-the-nasty-ones/index.html").is_file()
    assert (result.output / "stories/with-a-bom/index.html").is_file()
    assert (result.output / "stories/written-in-utf-16/index.html").is_file()
    assert (result.output / "stories/crlf-item/index.html").is_file()
    everything = "".join(p.read_text(errors="replace") for p in result.output.rglob("*.html"))
    assert '"lol"' not in everything and "lol, lol" not in everything and "&#39;lol&#39;" not in everything
    assert "\x07" not in everything
    strict = site.build("--strict")
    assert strict.code == 1 and "Traceback" not in strict.err


def test_big_files_through_the_cli(site) -> None:
    paragraph = "Chips, models and agents: the week in artificial intelligence, told at length. " * 10 + "\n\n"
    site.item("ten-mb.md", "---\ntitle: Ten megabytes of news\n---\n" + paragraph * (10_000_000 // len(paragraph)))
    related = "".join(f"  - title: Related story {i}\n    webUrl: https://r.example.com/{i}\n" for i in range(10_000))
    site.item("related.md", "---\ntitle: Ten thousand related\nrelated:\n" + related + "---\nBody.\n")
    started = time.perf_counter()
    result = site.build()
    assert time.perf_counter() - started < 60
    assert result.code == 0 and "Traceback" not in result.err
    assert "1 warning" in result.err
    page = result.page("stories/ten-thousand-related/")
    assert "Related story 99<" in page and "Related story 100<" not in page
    assert result.page("stories/ten-megabytes-of-news/").count("<p>") >= 10_000_000 // len(paragraph)
