"""Golden output: the fixture site in tests/fixtures/site builds to what a reader would see.

The golden file records, for every output file, its path and (for HTML) the
title, lang, first heading and the stories it links to: the facts a reader
sees, not the theme's markup, so restyling does not churn it.
Regenerate after an intended change with:  UPDATE_GOLDEN=1 python3 tasks.py test tests/test_golden.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
from html import unescape
from pathlib import Path

from site_builder.__main__ import main

FIXTURE = Path(__file__).parent / "fixtures" / "site"
GOLDEN = Path(__file__).parent / "fixtures" / "site.golden.json"
# Files whose names depend on content hashes or on tools outside our control.
VOLATILE = re.compile(r"^(pagefind/|assets/.*\.[0-9a-f]{8,}\.)")


def summarise(output: Path) -> dict[str, object]:
    summary: dict[str, object] = {}
    for path in sorted(output.rglob("*")):
        relative = path.relative_to(output).as_posix()
        if not path.is_file() or VOLATILE.match(relative):
            continue
        if path.suffix != ".html":
            summary[relative] = "file"
            continue
        html = path.read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", html, re.S)
        lang = re.search(r'<html lang="([^"]*)"', html)
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
        stories = sorted(set(re.findall(r'href="/digest/(stories/[^"#]+)"', html)))
        summary[relative] = {
            "title": unescape(title.group(1)) if title else None,
            "lang": lang.group(1) if lang else None,
            "h1": unescape(re.sub(r"<[^>]+>", "", h1.group(1))).strip() if h1 else None,
            "stories": stories,
        }
    return summary


def test_fixture_site_matches_golden_output(tmp_path: Path, capsys) -> None:
    project = tmp_path / "site"
    shutil.copytree(FIXTURE, project)
    assert main(["build", "--project", str(project), "--no-search"]) == 0
    actual = summarise(project / "public")
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert actual == expected, "output changed; if intended, regenerate with UPDATE_GOLDEN=1 (see this file's docstring)"
