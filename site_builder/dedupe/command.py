"""`site-builder dedupe`: the stories and, with --explain, why each item joined its story.

    --format json   {"stories": [{"id", "lead", "items": [paths relative to the content folder]}]}
                    covering every file of the content folder exactly once (a file that did
                    not load is a story of its own, with an id derived from its path)
    --format text   one line per story; with --explain, each multi-item story with every
                    item's outlet, language and reason
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence, TextIO

from ..config import SiteConfig
from ..models import Item, Story
from . import dedupe


def run(
    items: Sequence[Item],
    content_dir: Path,
    config: SiteConfig,
    explain: bool,
    fmt: str,
    out: TextIO,
    cache_dir: Path | None = None,
    workers: int = 1,
) -> int:
    """Print the stories of `items` (all loaded items, drafts included); 0 on success, 2 on a bad format."""
    if fmt not in ("json", "text"):
        print(f"unknown format {fmt!r} (expected json or text)", file=out)
        return 2
    stories = dedupe(items, config, cache_dir=cache_dir, workers=workers)
    if fmt == "json":
        json.dump({"stories": story_rows(stories, unloaded_files(items, content_dir))}, out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif explain:
        write_explanation(stories, out)
    else:
        for story in stories:
            others = f" (+{len(story.items) - 1})" if len(story.items) > 1 else ""
            print(f"{story.id}  {story.lead.source}{others}  {story.title}", file=out)
    return 0


def story_rows(stories: Sequence[Story], unloaded: Sequence[str]) -> list[dict]:
    rows = [
        {"id": story.id, "lead": story.lead.source, "items": [item.source for item in story.items]}
        for story in stories
    ]
    for path in unloaded:
        rows.append({"id": hashlib.sha1(("file:" + path).encode("utf-8")).hexdigest()[:12], "lead": path, "items": [path]})
    return rows


def unloaded_files(items: Sequence[Item], content_dir: Path) -> list[str]:
    """Files of the content folder that no item came from (they failed to load)."""
    try:
        from ..load import content_files
    except ImportError:  # the loader decides what a content file is; without it, trust the items
        return []
    loaded = {item.source for item in items}
    root = Path(content_dir).resolve()
    if not root.is_dir():
        return []
    return [path for path, problem in content_files(root) if problem is None and path not in loaded]


def write_explanation(stories: Sequence[Story], out: TextIO) -> None:
    multi = [story for story in stories if len(story.items) > 1]
    items = sum(len(story.items) for story in stories)
    print(f"{items} items -> {len(stories)} stories, {len(multi)} with more than one item", file=out)
    for story in multi:
        print(file=out)
        print(f"story {story.id}: {story.title}", file=out)
        print(f"  lead  {_describe(story.lead)}", file=out)
        for line in story.coverage:
            if line.item is None:
                continue
            print(f"  +     {_describe(line.item)}", file=out)
            print(f"          why: {line.reason or 'same story'}", file=out)
        related = [line for line in story.coverage if line.item is None]
        if related:
            print(f"  and {len(related)} related link(s) without a file of their own", file=out)


def _describe(item: Item) -> str:
    when = item.published_at.strftime("%Y-%m-%d") if item.published_at else "undated"
    outlet = item.outlet or "unknown outlet"
    return f"{item.source}  [{outlet}, {item.lang}, {when}]"
