"""render.plain_paragraphs: markdown-it's own HTML for plain bodies, without its parse."""

from __future__ import annotations

import sys

from hypothesis import example, given, settings, strategies as st

from site_builder.render import _NOT_PLAIN, markdown_parser, plain_paragraphs

MD = markdown_parser()

# Characters around every rule the fast path must leave to markdown-it, and plain ones.
TRICKY = list("aZé9 \n\n\n-+=.)(\"'#*_`~[]<>&|\\!:\t\r\x00\x0b\xa0\u3000\u2028") + ["1. ", "1) ", "  ", "    ", "---", "===", "&amp;", "<b>"]
WORDS = ["The", "model", "scored", "92.5", "on", "GPT-4", "tests", "(beta)", '"fast"', "it's", "2024", "done.", "Đà", "Nẵng", "AI:", "5%"]


@given(st.lists(st.sampled_from(TRICKY), max_size=40).map("".join))
@settings(max_examples=2000, deadline=None)
@example("1. first\n2. second")
@example("Title\n===\nbody")
@example("line  \nnext")
@example("  indented\nmore")
@example("a\n\n\n\nb\n")
def test_the_fast_path_gives_markdown_its_bytes_or_steps_aside(body: str) -> None:
    plain = plain_paragraphs(body)
    if plain is not None:
        assert plain == MD.render(body)


@given(st.text(max_size=80))
@settings(max_examples=1000, deadline=None)
def test_any_text_gives_markdown_its_bytes_or_steps_aside(body: str) -> None:
    plain = plain_paragraphs(body)
    if plain is not None:
        assert plain == MD.render(body)


@given(st.lists(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join), min_size=1, max_size=4)
                .map("\n".join), min_size=1, max_size=4), st.sampled_from(["\n\n", "\n\n\n"]), st.sampled_from(["", "\n", "\n\n"]))
@settings(max_examples=500, deadline=None)
def test_paragraphs_of_words_take_the_fast_path(paragraphs: list[str], gap: str, around: str) -> None:
    body = around + gap.join(paragraphs) + around
    plain = plain_paragraphs(body)
    assert plain is not None
    assert plain == MD.render(body)


def test_markdown_is_left_to_markdown_it() -> None:
    for body in ["Some *emphasis*", "A [link](https://example.org)", "# Heading", "- item", "+ item", "1. item", "3) item",
                 "para\n---", "para\n===", "    code", "line  \nbreak", "a\tb", "x &copy; y", "<b>bold</b>", "a | b",
                 "~~gone~~", "`code`", "back\\slash", "non\xa0breaking", "ideographic\u3000space"]:
        assert plain_paragraphs(body) is None, body


def test_the_pattern_lists_every_whitespace_character_markdown_it_strips() -> None:
    # Python's str.strip() (markdown-it-py trims paragraphs with it) strips exactly the str.isspace() characters.
    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c not in " \n"]
    assert all(_NOT_PLAIN.search(c) for c in spaces)
