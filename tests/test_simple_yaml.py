"""read_simple, the plain front-matter reader: where it answers, it answers exactly as PyYAML.

Hypothesis writes front-matter in the styles feeds and editors use (plain,
quoted and escaped values, nested blocks, lists, lists of blocks) and in the
ones just beside them that read_simple must leave to PyYAML (comments, flow
lists, tabs, anchors, values over two lines, odd indentation, duplicate keys,
keys YAML reads as booleans or numbers).  For every document: read_simple
gives up (None), or gives PyYAML's mapping with the same types; and it never
accepts a document PyYAML refuses.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import shared_dir
from site_builder.load.frontmatter_reader import split_front_matter
from site_builder.load.simple_yaml import read_simple
from site_builder.load.yaml_loader import Loader

MANY = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GOOD_KEYS = st.sampled_from(["title", "excerpt", "webUrl", "heat", "topics", "provider", "name", "x-y", "_k", "k2", "Title"])
ODD_KEYS = st.sampled_from(["yes", "no", "on", "null", "y", "1", "a b", "TRUE", "<<", "=", "~"])
# Values YAML types (numbers, dates, booleans, null) and text of every kind, common first.
TYPED_TEXTS = st.sampled_from([
    "", "a", "AI", "true", "True", "yes", "NO", "off", "~", "null", "Null", "0", "-1", "12", "007", "0o17", "0x1F", "0b101",
    "1_000", "190:20:30", "30.7", "-2.5", "1e3", "1.5e+3", ".inf", "-.Inf", ".nan", "2024-01-01", "2024-02-30",
    "2023-02-25T13:20:00Z", "2023-02-25 13:20:00.5 +02:00", "12:30", "C#", "a:b", "-x", "--", "---", "...", "it's",
    'say "hi"', "back\\slash", "  padded  ", "Tiếng Việt", "日本語", "emoji 🙂", "=", "<<", "https://x.example/a?b=c#d",
])
# Values only PyYAML may read in some styles (comments, indicators, odd characters).
TRICKY_TEXTS = st.sampled_from([
    "a #b", "a: b", "ends:", "- x", "? x", ":x", "&a", "*a", "!t", "[1, 2]", "{a: 1}", "|", ">", "%p", "@x", "`x", ",x",
    "tab\there", "nel\x85x", "ls\u2028x", "bom\ufeffx", "ctl\x07x", "del\x7fx", "cr\rx",
])
WORDS = st.text(st.sampled_from("abcXYZ019 .,-'éệ日"), max_size=14)
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
SCALAR_TEXTS = st.one_of(TYPED_TEXTS, TYPED_TEXTS, WORDS, WORDS, WORDS, TRICKY_TEXTS, ANY_TEXT)


def _double_quoted(text: str, escape_all: bool) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t" and escape_all:
            out.append("\\t")
        elif ch == "/" and escape_all:
            out.append("\\/")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@st.composite
def scalars(draw) -> str:
    text = draw(SCALAR_TEXTS)
    style = draw(st.sampled_from(["plain", "plain", "single", "double", "double", "double-escaped", "raw-double"]))
    if style == "plain":
        return text
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "raw-double":
        return '"' + text + '"'  # unescaped: a bare quote or backslash inside is PyYAML's to judge
    return _double_quoted(text, style == "double-escaped")


@st.composite
def blocks(draw, indent: int, depth: int) -> list[str]:
    """Lines of a block mapping at `indent`, in the styles around the plain corner."""
    lines = []
    step = draw(st.sampled_from([2, 2, 4, 1, 3]))
    keys = draw(st.lists(GOOD_KEYS, min_size=1, max_size=5, unique=True))
    if draw(st.integers(0, 5)) == 0:  # now and then a key YAML reads as no text, or one given twice
        keys.insert(draw(st.integers(0, len(keys))), draw(st.one_of(ODD_KEYS, st.sampled_from(keys))))
    for key in keys:
        pad = " " * indent
        kind = draw(st.sampled_from(["scalar"] * 8 + ["empty", "list", "list", "map", "map", "list-of-maps", "list-of-maps", "odd"]))
        if depth >= 2 and kind in ("map", "list-of-maps"):
            kind = "scalar"
        if kind == "scalar":
            lines.append(f"{pad}{key}: {draw(scalars())}{draw(st.sampled_from(['', '', ' ', '  ']))}")
        elif kind == "empty":
            lines.append(f"{pad}{key}:")
        elif kind == "list":
            lines.append(f"{pad}{key}:")
            dash = " " * (indent + draw(st.sampled_from([step, step, 0])))
            for _ in range(draw(st.integers(0, 3))):
                lines.append(f"{dash}- {draw(scalars())}" if draw(st.integers(0, 4)) else f"{dash}-")
        elif kind == "map":
            lines.append(f"{pad}{key}:")
            lines.extend(draw(blocks(indent + step, depth + 1)))
        elif kind == "list-of-maps":
            lines.append(f"{pad}{key}:")
            dash = indent + step
            for _ in range(draw(st.integers(1, 3))):
                inner = draw(blocks(dash + 2, depth + 1))
                first = inner[0].lstrip(" ")
                lines.append(" " * dash + "- " + first)
                lines.extend(inner[1:])
        else:
            lines.append(pad + draw(st.sampled_from([
                f"{key}: [a, b]", f"{key}: {{a: 1}}", f"{key}: &anchor x", f"{key}: *anchor", f"{key}: !!str 1",
                f"{key}: |", f"{key}: >", "# a comment", f"{key}: a # comment", f"{key}:\tx", f"\t{key}: x",
                f"{key} : x", f"'{key}': x", f'"{key}": x', f"? {key}", f"{key}: a\n{pad}  continued",
                f"{key}: \"open", f"{key}: 'open", f"{key}: -", f"{key}:x", f"- {key}", "---", "...",
            ])))
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(["", " ", "   "])))
    return lines


def typed(value):
    """A value with its type at every level: 1, 1.0 and True are three different answers."""
    if isinstance(value, dict):
        return ("dict", tuple((typed(k), typed(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(typed(v) for v in value))
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def pyyaml(text: str):
    loader = Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def assert_same_as_pyyaml(text: str) -> bool:
    """read_simple's answer is PyYAML's, or None; True when it answered."""
    simple = read_simple(text)
    if simple is None:
        return False
    try:
        data, duplicates = pyyaml(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise AssertionError(f"read_simple accepted what PyYAML refuses ({exc}):\n{text}") from None
    assert not duplicates, f"read_simple kept a duplicate key PyYAML reports:\n{text}"
    assert typed(simple) == typed(data), f"\n{text}\nsimple: {simple!r}\npyyaml: {data!r}"
    return True


@MANY
@given(blocks(0, 0))
@example(["title: \"A \\\"quoted\\\" word\"", "heat: 56", "published: yes"])
@example(["topics:", "- AI", "- ML"])
@example(["provider:", "  name: X", "   domain: y"])
@example(["a: 1", "a: 2"])
@example(["images:", "  - url: https://x/a.png", "    width: 3", "  - url: b"])
def test_read_simple_answers_as_pyyaml_or_not_at_all(lines: list[str]) -> None:
    assert_same_as_pyyaml("\n".join(lines))


def test_the_plain_corner_is_read_without_pyyaml() -> None:
    text = "\n".join([
        'title: "Qwen 3 \\"beats\\" GPT-4"', "excerpt: It's here, no wait", "publishedDateTime: 2023-02-25T13:20:00Z",
        "heat: 56", "quality: 40.5", "published: yes", "draft: off", "lang: ~", "",
        "provider:", "  name: 'Lexa Insider'", "  domain: lexainsider.example",
        "topics:", "  - AI", "  - \"Deep Learning\"",
        "images:", "  - url: https://x.example/a.png", "    width: 640", "  -", "related:",
    ])
    data = read_simple(text)
    assert data is not None and assert_same_as_pyyaml(text)
    assert data["title"] == 'Qwen 3 "beats" GPT-4' and data["published"] is True and data["draft"] is False
    assert data["heat"] == 56 and data["quality"] == 40.5 and data["lang"] is None and data["related"] is None
    assert data["provider"] == {"name": "Lexa Insider", "domain": "lexainsider.example"}
    assert data["images"] == [{"url": "https://x.example/a.png", "width": 640}, None]


@pytest.mark.parametrize("text", [
    "title: a # comment", "title: [a, b]", "title: &x a\nother: *x", "title: |\n  block", "title: a\n  more",
    "title: x\ntitle: y", "yes: x", "title:\ta", "'title': x", "title: \"a \\u00e9\"", "- a\n- b", "just text",
    "title: x\n  - y", "topics:\n- a", "title: \"open", "title: x\n...", "title: nel\x85x",
])
def test_anything_else_is_left_to_pyyaml(text: str) -> None:
    assert read_simple(text) is None


def test_the_real_corpus_reads_the_same_and_almost_all_without_pyyaml() -> None:
    folder = shared_dir("corpus/everyday-ai")
    answered = total = 0
    for path in sorted(folder.glob("*.md")):
        parts = split_front_matter(path.read_text(encoding="utf-8"))
        if parts and parts[0].strip():
            total += 1
            answered += assert_same_as_pyyaml(parts[0])
    assert total > 100 and answered >= 0.95 * total, (answered, total)
