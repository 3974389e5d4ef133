"""A content edit redone in place, for the preview server: the browser sees it in milliseconds.

A full rebuild of a large site takes seconds (the deduplicator and the
ranking look at every item).  While serving, an edit to existing files is
first redone from what the last build left in memory (build.SiteState):

    read      only the edited files
    stories   each edited item stays in the story it was in; that story is remade
    rank      with every other story taken from the last digest as it was
    pages     planned again; only those whose template or context differ are rendered
    feeds     only the feeds whose stories differ
    write     into the live output folder, one atomic rename per file

Then the server runs the exact build in the background (rebuild.py), which
regroups every story, rewrites the sitemap and the search index, and leaves
the site byte for byte what `build` makes.  Anything this module cannot redo
exactly enough (a file deleted, renamed or turned draft, a topic or outlet
appearing or moving URL, another template reading the whole digest) returns
None: the server does a full build instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Iterable

from ..build import ContentFailure, SiteState, template_helpers
from ..dedupe.stories import make_story
from ..dedupe.urls import canonical_url, item_keys
from ..errors import ContentError
from ..feeds import feed_files, feed_specs
from ..incremental import BuildCache, digest_readers
from ..load import is_ignored, read_file
from ..load.language import Languages
from ..models import Item, Story
from ..pages import plan_pages
from ..rank import rank
from ..write import TreeRecords, content_id, inside, release_lock, remove, take_lock

#: Reasons of the deduplicator that mark the later item of a pair as a copy of the other's text.
_COPY_REASONS = ("minhash", "same-text", "containment")


@dataclass(frozen=True, slots=True)
class Index:
    """Lookups over a SiteState, made once per full build while the server is idle."""

    story_of: dict[str, int]            # item source -> index into state.stories
    has_file: frozenset[str]            # canonical URLs of every item (see dedupe.stories.make_story)
    digest_readers: frozenset[str]      # templates that read the `digest` global: always rendered

    @classmethod
    def of(cls, state: SiteState) -> "Index":
        story_of = {item.source: index for index, story in enumerate(state.stories) for item in story.items}
        has_file = frozenset(key for item in state.items for key in item_keys(item))
        env = state.renderer.env
        names = env.list_templates(filter_func=lambda name: name.endswith(".html"))
        return cls(story_of, has_file, frozenset(name for name, reads in digest_readers(env, names).items() if reads))


@dataclass(frozen=True, slots=True)
class Edit:
    """An edit redone: the new state and its index, and the output files it rewrote."""

    state: SiteState
    index: Index
    written: tuple[str, ...]


def quick_edit(state: SiteState, index: Index, edited: Iterable[str], cache: BuildCache) -> Edit | None:
    """Redo the edit of the files `edited` (relative to the content folder) on the live site.

    Raises ContentFailure when an edited file has an error (nothing is written);
    returns None when the edit needs a full build.
    """
    options, config = state.options, state.config
    edited = sorted(edited)
    read = _read(options.content_dir, edited, config.language)
    if read is None:
        return None
    fresh, warnings = read
    items = {item.source: item for item in state.items}
    stories = list(state.stories)
    changed_ids: set[str] = set()
    for item in fresh:
        if item.draft and not options.drafts:
            return None  # it leaves the site: its story may split or vanish
        position = index.story_of.get(item.source)
        if position is None:
            if item.source in items:
                return None
            members, previous = [item], None
        else:
            previous = stories[position]
            members = [item if member.source == item.source else member for member in previous.items]
        items[item.source] = item
        story = _remake(previous, members, config, index.has_file | set(item_keys(item)))
        if previous is not None and story.id != previous.id:
            return None  # a new lead URL: the story's id and every link to it move
        if position is None:
            stories.append(story)
        else:
            stories[position] = story
        changed_ids.add(story.id)

    ordered_items = tuple(items[source] for source in sorted(items))
    # Ranking warnings (slug collisions) are left for the exact build that follows to report.
    digest = rank(stories, ordered_items, config, None, previous=state.digest, changed=changed_ids)
    if not _same_links(state.digest, digest):
        return None
    pages = plan_pages(digest, config)
    renderer = state.renderer
    helpers = template_helpers(digest, config)
    renderer.set_globals(helpers)
    before = {page.url: page for page in state.pages}
    after = {page.url: page for page in pages}
    # Pages that are gone: a retitled story's old URL, the last page of a shorter list.
    removed = [before[url].output_path for url in before.keys() - after.keys()]
    outputs: list[tuple[str, str]] = []
    for page in pages:
        old = before.get(page.url)
        if old is None or old.template != page.template or page.template in index.digest_readers or old.context != page.context:
            outputs.append((page.output_path, renderer.render(page, dict(page.context))))
    outputs += _changed_feeds(state, digest, helpers["story_path"])

    written = _write(options.output_dir, cache, outputs, removed)
    reread = set(edited)
    problems = tuple(p for p in state.problems if p.path not in reread) + tuple(warnings)
    new_state = replace(state, items=ordered_items, stories=tuple(stories), digest=digest, pages=tuple(pages), problems=problems)
    story_of = dict(index.story_of)
    for position in range(len(state.stories), len(stories)):
        story_of.update((item.source, position) for item in stories[position].items)
    has_file = index.has_file.union(*(item_keys(item) for item in fresh))
    return Edit(new_state, Index(story_of, has_file, index.digest_readers), written)


def _read(root: Path, edited: list[str], default_lang: str) -> tuple[list[Item], list[ContentError]] | None:
    """The edited files as items, and their warnings; None when one is gone (deleted or renamed: a full build)."""
    languages = Languages()
    problems: list[ContentError] = []
    found = []
    for relative in edited:
        if is_ignored(PurePosixPath(relative).name) or not (root / relative).is_file() or (root / relative).is_symlink():
            return None
        found.append((relative, read_file(root, relative, default_lang, problems, languages.detect)))
    errors = [p for p in problems if not p.warning]
    if errors:
        raise ContentFailure(errors)
    items = [Item(source=relative, content_hash=fields[1], **languages.settle(fields[0])) for relative, fields in found if fields]
    return items, problems


def _remake(previous: Story | None, members: list[Item], config, has_file: set[str] | frozenset[str]) -> Story:
    """The story from its members again, keeping why each one joined (the exact build regroups them)."""
    reasons = {c.item.source: c.reason for c in previous.coverage if c.item is not None} if previous else {}
    copies = {source for source, reason in reasons.items() if reason.startswith(_COPY_REASONS)}
    features = [_UrlFeatures(item) for item in members]
    return make_story(members, features, reasons, config, set(has_file), copies)


class _UrlFeatures:
    """The two fields of dedupe Features that make_story reads."""

    __slots__ = ("url_keys", "related_keys")

    def __init__(self, item: Item) -> None:
        self.url_keys = item_keys(item)
        self.related_keys = tuple(canonical_url(entry.url) if entry.url else "" for entry in item.related)


def _same_links(before, after) -> bool:
    """Whether every topic and outlet keeps its URL (pages that only name them are not re-rendered)."""
    return ([(t.name, t.slug) for t in before.topics] == [(t.name, t.slug) for t in after.topics]
            and [(s.name, s.domain, s.slug) for s in before.sources] == [(s.name, s.domain, s.slug) for s in after.sources])


def _changed_feeds(state: SiteState, digest, story_path) -> list[tuple[str, str]]:
    """The feeds whose stories (or "now") differ from the last digest's."""
    if digest.now != state.digest.now:
        return [(f.path, f.data) for f in feed_files(digest, state.config, story_path)]
    before = {spec.folder: spec for spec in feed_specs(state.digest, state.config)}
    wanted = {spec.folder for spec in feed_specs(digest, state.config) if before.get(spec.folder) != spec}
    if not wanted:
        return []
    return [(f.path, f.data) for f in feed_files(digest, state.config, story_path, folders=wanted)]


def _write(output: Path, cache: BuildCache, files: list[tuple[str, str]], removed: list[str]) -> tuple[str, ...]:
    """Write changed files into the live site, each by an atomic rename, remove `removed`, and keep the record true."""
    records = TreeRecords(cache.trees) if cache.trees else None
    record = records.read(output) if records else None
    known = record["files"] if record else {}
    written = []
    lock = take_lock(output)  # a `build` writing this output now makes the edit wait for the full build
    try:
        for relative in removed:
            remove(output, relative)
            known.pop(relative, None)
            written.append(relative)
        for relative, text in files:
            data = text.encode("utf-8")
            sha = content_id(data)
            if known.get(relative) == sha:
                continue
            target = inside(output, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.quick-{os.getpid()}")
            temporary.write_bytes(data)
            os.replace(temporary, target)  # a new inode: the site before this one shares the old file's
            known[relative] = sha
            written.append(relative)
        if records and record is not None and written:
            records.write(output, record)
    finally:
        release_lock(lock)
    return tuple(written)
