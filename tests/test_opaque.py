"""Opaque fields: `secured`, and every field outside the content contract, never reach the output.

The real everyday-ai corpus is built (drafts included, so that every item is
rendered), together with canary items whose opaque fields hold unique values
at every depth (top level, inside provider, images and related entries, in
strings, lists, tables and numbers).  Every file of the output is searched
for every such value, in the forms a leak would take (as is, HTML-escaped,
JSON-escaped, URL-encoded, and the first 24 characters of long values).  The
Pagefind bundle is compressed: its files are decompressed and searched too,
and every fragment must come from an HTML page of the site (which was
searched as text).
"""

from __future__ import annotations

import gzip
import html
import json
import re
import shutil
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

from conftest import shared_dir
from site_builder.__main__ import main
from site_builder.load.frontmatter_reader import CONTRACT

# Keys the loader reads inside nested tables (fields.py); anything else there is opaque too.
NESTED_CONTRACT = {
    "provider": {"name", "domain", "images"},
    "images": {"url", "width", "height"},
    # AMP forms name the same article (DESIGN.md), and a related entry's images are images: contract.
    "related": {"title", "excerpt", "webUrl", "url", "originalUrl", "ampWebUrl", "cdnAmpWebUrl", "provider",
                "publishedDateTime", "quality", "images"},
}
CANARIES = [
    """---
title: Canary one keeps its secrets
excerpt: A canary item with opaque fields at every depth.
publishedDateTime: 2021-03-05T10:00:00Z
webUrl: https://canary.example.com/one
secured: "CANARY-SECURED-7f3a9c1e+/=="
type: CANARY-TYPE-b81d
internalNotes:
  reviewer: CANARY-NESTED-REVIEWER-5521
  score: 987654321
  deeper: {key: CANARY-DEEPER-VALUE-0042}
tracking: [CANARY-LIST-ONE-91, CANARY-LIST-TWO-92]
provider:
  name: Canary Wire
  domain: canary.example.com
  apiKey: CANARY-PROVIDER-APIKEY-6a0b
images:
  - url: https://canary.example.com/i.png
    width: 640
    height: 480
    isCached: CANARY-IMAGE-ISCACHED-77
    title: CANARY-IMAGE-TITLE-78
related:
  - title: A related canary story
    webUrl: https://related.example.com/canary
    secured: CANARY-RELATED-SECURED-3c4d
    type: CANARY-RELATED-TYPE-3c4e
    provider: {name: Related Wire, domain: related.example.com, token: CANARY-RELATED-PROVIDER-TOKEN}
topics: [AI]
---
The canary body is ordinary text about a robot that learned to fly a kite.
""",
    """---
title: Canary two in plain sight
secured: "CANARY-SECURED-SECOND-\\u00e9\\u00e8-<b>&amp;</b>"
password: CANARY-PASSWORD-hunter2hunter2
published: false
---
A draft canary: built only with --drafts, and still nothing opaque.
""",
]
LONG_ENOUGH = 8  # shorter values ("article", true, 0) are words any page may hold; the canaries cover them


def split_values(front: dict) -> tuple[list[str], list[str]]:
    """(opaque, contract): every leaf value outside the contract, at the top level and inside
    nested tables, and every leaf value the site may show."""
    opaque: list[str] = []
    shown: list[str] = []

    def leaves(value, into: list[str]) -> None:
        if isinstance(value, dict):
            for inner in value.values():
                leaves(inner, into)
        elif isinstance(value, list):
            for inner in value:
                leaves(inner, into)
        elif value is not None:
            into.append(str(value))

    def table(value, allowed: set[str]) -> None:
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, dict):
                leaves(entry, shown)
                continue
            for key, inner in entry.items():
                if key not in allowed:
                    leaves(inner, opaque)
                elif key in ("provider", "images") and allowed is not NESTED_CONTRACT[key]:
                    table(inner, NESTED_CONTRACT[key])
                else:
                    leaves(inner, shown)

    for key, value in front.items():
        if key not in CONTRACT:
            leaves(value, opaque)
        elif key in NESTED_CONTRACT:
            table(value, NESTED_CONTRACT[key])
        else:
            leaves(value, shown)
    return opaque, shown


def leak_forms(value: str) -> set[str]:
    forms = {value, html.escape(value), html.escape(value, quote=False), json.dumps(value)[1:-1],
             json.dumps(value, ensure_ascii=False)[1:-1], quote(value), quote_plus(value)}
    if len(value) >= 32 and "://" not in value:  # a URL's first characters are any link's to that site
        forms |= {value[:24], value[-24:]}
    return {form for form in forms if form}


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    return yaml.safe_load(text.split("\n---", 1)[0][4:]) or {}


def output_texts(output: Path) -> dict[str, bytes]:
    """Every file of the output as bytes; the Pagefind bundle's compressed files decompressed."""
    texts = {}
    for path in output.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        texts[path.relative_to(output).as_posix()] = data
    return texts


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    corpus = shared_dir("corpus/everyday-ai")
    root = tmp_path_factory.mktemp("opaque")
    content = root / "content"
    shutil.copytree(corpus, content)
    for index, text in enumerate(CANARIES):
        (content / f"zz-canary-{index}.md").write_text(text, encoding="utf-8")
    import contextlib
    import io

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(["build", "--project", str(root), "--drafts", "--verbose"])
    assert code == 0, err.getvalue()
    return content, root / "public", err.getvalue() + out.getvalue()


def test_no_opaque_value_appears_anywhere_in_the_output(built) -> None:
    content, output, messages = built
    fronts = {path.name: front_matter(path) for path in sorted(content.iterdir()) if path.is_file()}
    # An opaque value that is also the value of a contract field (images.title repeating the
    # headline) may rightly appear: it is left out of the search.
    shown = "\n".join(value for front in fronts.values() for value in split_values(front)[1])
    values = {value for front in fronts.values() for value in split_values(front)[0]}
    searched = {value for value in values if len(value) >= LONG_ENOUGH and value not in shown}
    secured = {str(front["secured"]) for front in fronts.values() if "secured" in front}
    assert len(secured) >= 160 and secured <= searched
    assert {"987654321", "CANARY-DEEPER-VALUE-0042", "CANARY-RELATED-PROVIDER-TOKEN", "CANARY-IMAGE-ISCACHED-77"} <= searched
    texts = output_texts(output)
    assert any(name.startswith("pagefind/") for name in texts), "the search index was not built"
    leaks = []
    for value in searched:
        forms = [form.encode("utf-8") for form in leak_forms(value)]
        for name, data in texts.items():
            if any(form in data for form in forms):
                leaks.append(f"{name}: {value[:40]!r}")
    assert leaks == [], "\n".join(sorted(leaks))
    for value in secured:  # not even in what the build prints
        assert value not in messages
    print(f"{len(searched)} opaque values ({len(secured)} secured) searched in {len(texts)} output files")


def test_canary_items_were_built_so_the_search_means_something(built) -> None:
    _, output, _ = built
    texts = output_texts(output)
    everything = b"".join(texts.values())
    assert b"Canary one keeps its secrets" in everything and b"Canary two in plain sight" in everything
    assert b"A related canary story" in everything


def test_pagefind_fragments_come_from_pages_that_were_searched(built) -> None:
    _, output, _ = built
    fragments = [data for name, data in output_texts(output).items() if name.startswith("pagefind/fragment/")]
    assert fragments, "no Pagefind fragments"
    for data in fragments:
        assert data.startswith(b"pagefind_dcd")
        fragment = json.loads(data[len(b"pagefind_dcd"):])
        page = output / fragment["url"].lstrip("/")
        page = page / "index.html" if fragment["url"].endswith("/") else page
        assert page.is_file(), fragment["url"]  # indexed from an HTML page of the site, already searched
        # Its words are the page's text (Pagefind joins blocks with ". " and drops tags).
        page_text = compact(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))))
        for word in fragment["content"].split():
            assert compact(word) in page_text, (fragment["url"], word)


def compact(text: str) -> str:
    return re.sub(r"[\s.]+", "", text)
