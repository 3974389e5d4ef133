"""Incremental builds: what a build can take from the last one, in `.site-builder-cache/`.

    items.pickle    per content file: (size, mtime_ns, sha256) -> its Item, its problems and
                    the deduplicator's features of the item; the entries are kept as the loading
                    workers pickled them (see ItemCache), and written while the build deduplicates
    stages.pickle   the content stages (the deduplicator's Grouping), keyed by every item's hash
    pages.pickle    per output page: a key of everything it was rendered from -> sha256 of its bytes
    trees/          what each output folder holds (see write.py), so unchanged files are linked, not written

Every key includes CODE_VERSION (a hash of site_builder's own files), so a
new version of the generator never reuses an old one's results.  A page's
key is a hash of its template and URL, of the objects in its context (each
story by every field, each item by its file's hash), and of what every page
can reach: the configuration, the templates, the static files and the link
maps.  `build --clean` starts from an empty cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.machinery
import operator
import os
import pickle
import shutil
import threading
import time
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .errors import ContentError
from .models import Coverage, Digest, Item, Page, Story

if TYPE_CHECKING:
    import jinja2

#: Files whose mtime is this close to the moment they were cached are hashed again: the
#: file system's clock is coarse, so a second write within it would keep size and mtime.
_RACY_NS = 2_000_000_000
#: The names of compiled modules (see setup.py).
_COMPILED = tuple(importlib.machinery.EXTENSION_SUFFIXES)


@cache
def code_version() -> str:
    """A hash of the generator's own code and default theme: results of another version are never reused.

    Compiled modules (see setup.py) are made from the .py files beside them, which are hashed: not
    their own megabytes (16 MB, 40 ms at every start, while one core waits)."""
    package = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(_COMPILED):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _hash(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class ItemCache:
    """Parsed items by path: reused while size and mtime are the same (and the bytes, when in doubt).

    The workers that load the files pickle their entries for the parent anyway (see load_items); those
    bytes are kept (`pickled`) and saved as they are, while every entry in them is still current, so
    that saving does not pickle ten thousand items a second time.

    Each entry's item comes with its features: what the build's `prepare` made of it (the
    deduplicator's words, anchors and signature), so that a rebuild deduplicates without making
    them again.  They are kept pickled beside their entries, and unpickled only when asked for.
    """

    def __init__(self, entries: dict[str, tuple] | None = None, default_lang: str = "") -> None:
        #: relative path -> (size, mtime_ns, recorded_ns, sha256, Item | None, problems)
        self.entries: dict[str, tuple] = entries or {}
        self.default_lang = default_lang
        self.dirty = False
        #: (bytes, the entries they unpickle to, the bytes of those entries' features): as a worker or the
        #: last save wrote them
        self.pickled: list[tuple[bytes, dict[str, tuple], bytes]] = []
        #: relative path -> features of its entry's item, for the entries stored one by one (see store);
        #: the features of the entries in `pickled` are in their bytes
        self.features: dict[str, Any] = {}

    @classmethod
    def saved(cls, entries: dict[str, tuple], features: dict[str, Any], pickled: list[tuple[bytes, bytes]],
              default_lang: str) -> "ItemCache":
        cache_ = cls(entries, default_lang)
        cache_.features = features
        for data, packed in pickled:
            cache_.add_pickled(data, packed)
        cache_.dirty = False
        return cache_

    @staticmethod
    def entry(stat: os.stat_result, sha: str, item: Item | None, problems: list[ContentError]) -> tuple:
        return (stat.st_size, stat.st_mtime_ns, time.time_ns(), sha, item, tuple(problems))

    def lookup(self, relative: str, stat: os.stat_result, path: Path) -> tuple[Item | None, list[ContentError]] | None:
        entry = self.entries.get(relative)
        if entry is None:
            return None
        size, mtime_ns, recorded_ns, sha, item, problems = entry
        if size != stat.st_size or mtime_ns != stat.st_mtime_ns:
            return None
        if recorded_ns - mtime_ns < _RACY_NS:
            try:
                if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
                    return None
            except OSError:
                return None
        return item, list(problems)

    def store(self, relative: str, stat: os.stat_result, sha: str, item: Item | None, problems: list[ContentError],
              features: Any = None) -> None:
        self.entries[relative] = self.entry(stat, sha, item, problems)
        if features is None:
            self.features.pop(relative, None)
        else:
            self.features[relative] = features
        self.dirty = True

    def add_pickled(self, data: bytes, packed: bytes = b"") -> dict[str, tuple]:
        """Store the entries `data` unpickles to (a dict of them, made with entry()), whose items' features
        are `packed` (pickled, by relative path); returns the entries."""
        entries = pickle.loads(data)
        self.entries.update(entries)
        for relative in entries:
            self.features.pop(relative, None)
        self.pickled.append((data, entries, packed))
        self.dirty = True
        return entries

    def features_of(self, relatives: Iterable[str]) -> dict[str, Any]:
        """The features of these entries' items, where known (by relative path)."""
        wanted = set(relatives)
        found = {relative: self.features[relative] for relative in wanted if relative in self.features}
        wanted -= found.keys()
        for _, entries, packed in self.pickled:
            if packed and not wanted.isdisjoint(entries):
                found.update(self._current(entries, pickle.loads(packed), wanted))
        return found

    def _current(self, entries: dict[str, tuple], features: dict[str, Any], relatives: Iterable[str]) -> dict[str, Any]:
        """Of the features pickled with `entries`, those of the relatives whose entry they still are."""
        return {relative: features[relative] for relative in relatives
                if relative in features and self.entries.get(relative) is entries.get(relative)}

    def parts(self) -> tuple[list[tuple[bytes, bytes]], dict[str, tuple], dict[str, Any]]:
        """The entries (and their features) as pickled bytes still true of every entry in them, the other
        entries, and their features."""
        kept: list[tuple[bytes, bytes]] = []
        rest = dict(self.entries)
        features = {}
        for data, entries, packed in self.pickled:
            if all(rest.get(relative) is entry for relative, entry in entries.items()):
                kept.append((data, packed))
                for relative in entries:
                    del rest[relative]
            elif packed:  # some of them changed: the others' features are saved one by one
                features.update(self._current(entries, pickle.loads(packed), entries))
        features.update((relative, self.features[relative]) for relative in rest if relative in self.features)
        return kept, rest, {relative: value for relative, value in features.items() if relative in rest}

    def forget_except(self, relatives: set[str]) -> None:
        gone = self.entries.keys() - relatives
        for relative in gone:
            del self.entries[relative]
            self.features.pop(relative, None)
        self.dirty |= bool(gone)


class BuildCache:
    """Everything one build leaves for the next; `BuildCache.open(None)` remembers nothing."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.items = ItemCache()
        #: content key -> {"grouping": ...}; only the latest key is kept
        self.stages: dict[str, dict[str, Any]] = {}
        #: output path -> (page key, sha256 of the bytes)
        self.pages: dict[str, tuple[str, str]] = {}
        self._stages_dirty = False
        self._pages_dirty = False
        #: the thread writing items.pickle (see save_items_beside), and what stopped it
        self._writing: tuple[threading.Thread, list[BaseException]] | None = None

    @classmethod
    def open(cls, folder: Path | None, clean: bool = False) -> "BuildCache":
        cache_ = cls(folder)
        if folder is None:
            return cache_
        if clean:
            shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        gitignore = folder / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")
        saved = read_pickle(folder / "items.pickle")
        if saved and saved.get("version") == code_version():
            try:
                cache_.items = ItemCache.saved(saved["items"], saved["features"], saved["pickled"], saved["default_lang"])
            except _DAMAGED:
                cache_.items = ItemCache()
            stages = read_pickle(folder / "stages.pickle")
            if isinstance(stages, dict) and stages.get("version") == code_version() and isinstance(stages.get("stages"), dict):
                cache_.stages = stages["stages"]
        else:
            try:
                (folder / "dedupe.sqlite").unlink()  # where earlier builds kept the features (20 MB at 10k items)
            except OSError:
                pass
        pages = read_pickle(folder / "pages.pickle")
        if pages and pages.get("version") == code_version():
            cache_.pages = pages["pages"]
        return cache_

    @property
    def trees(self) -> Path | None:
        return self.folder / "trees" if self.folder else None

    def items_for(self, default_lang: str) -> ItemCache:
        if self.items.default_lang != default_lang:
            self.items = ItemCache(default_lang=default_lang)
        return self.items

    def content_key(self, items: Iterable[Item], config: Any, drafts: bool) -> str:
        return _hash(code_version(), repr(config), str(drafts), *(f"{i.source}\x1e{i.content_hash}" for i in items))

    def recall(self, key: str, stage: str) -> Any:
        """What a content stage made of these exact inputs (`key` is content_key()), or None."""
        return self.stages.get(key, {}).get(stage)

    def keep(self, key: str, stage: str, value: Any) -> None:
        """Remember a content stage's result for these inputs; only the latest key's are kept."""
        results = self.stages.get(key)
        if results is None:
            self.stages = {key: (results := {})}
        if results.get(stage) is not value:
            results[stage] = value
            self._stages_dirty = True

    def page_keys(self, globals_key: str, content_key: str, env: jinja2.Environment,
                  digest_readers: dict[str, bool] | None = None) -> "PageKeys":
        return PageKeys(self, globals_key, content_key, env, digest_readers)

    def save(self) -> None:
        self.save_content()
        if self.folder is not None and self._pages_dirty:
            write_pickle(self.folder / "pages.pickle", {"version": code_version(), "pages": self.pages})
            self._pages_dirty = False

    def save_items_beside(self) -> None:
        """Start writing the parsed items (items.pickle) in a thread.  They are most of the cache (350 MB
        at 100k items) and mostly bytes the workers made, which a thread writes without holding the
        GIL: written while the build deduplicates, with a core to spare, not while the pages render.
        save_content() (or finish_items()) waits for it."""
        if self.folder is None or not self.items.dirty:
            return
        path, data, failures = self.folder / "items.pickle", self._items_data(), []
        self.items.dirty = False

        def write() -> None:
            try:
                write_pickle(path, data)
            except BaseException as exc:  # raised by finish_items()
                failures.append(exc)

        thread = threading.Thread(target=write, name="items.pickle", daemon=True)
        thread.start()
        self._writing = (thread, failures)

    def finish_items(self) -> None:
        """Wait for save_items_beside()'s thread (the build does before it forks); raise what stopped it."""
        if self._writing is None:
            return
        thread, failures = self._writing
        self._writing = None
        thread.join()
        if failures:
            self.items.dirty = True
            raise failures[0]

    def save_content(self) -> None:
        """The parsed items and the content stages: true of the content whatever the build then does."""
        if self.folder is None:
            return
        self.finish_items()
        if self.items.dirty:
            write_pickle(self.folder / "items.pickle", self._items_data())
            self.items.dirty = False
        if self._stages_dirty:
            write_pickle(self.folder / "stages.pickle", {"version": code_version(), "stages": self.stages})
            self._stages_dirty = False

    def _items_data(self) -> dict[str, Any]:
        pickled, rest, features = self.items.parts()
        return {"version": code_version(), "default_lang": self.items.default_lang, "pickled": pickled,
                "items": rest, "features": features}


class PageKeys:
    """Keys of pages for one build, and the rendered bytes' hash each key produced last time."""

    def __init__(self, cache_: BuildCache, globals_key: str, content_key: str, env: jinja2.Environment,
                 digest_readers: dict[str, bool] | None = None) -> None:
        self.cache = cache_
        self.globals_key = globals_key
        self.content_key = content_key
        self.env = env
        self.memo: dict[int, str] = {}
        #: template -> whether it reads the digest (see digest_readers(), which can work it out early)
        self._reads_digest: dict[str, bool] = dict(digest_readers or {})

    def key(self, page: Page) -> str:
        context = sorted([(name, fingerprint(value, self.memo)) for name, value in page.context.items()])
        # A template that reads the `digest` global depends on all the content, which content_key stands for.
        whole = self.content_key if self.reads_digest(page.template) else ""
        return _hash(self.globals_key, whole, page.url, page.template, repr(context))

    def reads_digest(self, template: str, seen: frozenset[str] = frozenset()) -> bool:
        """Whether a template, or one it extends, includes or imports, uses the `digest` global."""
        if template not in self._reads_digest:
            facts = template_facts(self.env, template)
            if facts is None:
                return True  # the render reports it; never trust a key we could not work out
            reads, others = facts
            self._reads_digest[template] = reads or any(
                name is None or self.reads_digest(name, seen | {template}) for name in others if name not in seen)
        return self._reads_digest[template]

    def first_build(self) -> bool:
        """Whether no page is known from an earlier build: no key then needs looking up before rendering."""
        return not self.cache.pages

    def previous(self, page: Page, key: str) -> str | None:
        """sha256 of the page's bytes when it was last rendered from the same inputs."""
        known = self.cache.pages.get(page.output_path)
        return known[1] if known and known[0] == key else None

    def record(self, page: Page, key: str, sha: str) -> None:
        if self.cache.pages.get(page.output_path) != (key, sha):
            self.cache.pages[page.output_path] = (key, sha)
            self.cache._pages_dirty = True


def digest_readers(env: jinja2.Environment, names: Iterable[str]) -> dict[str, bool]:
    """PageKeys.reads_digest for each template named, worked out before any page needs it."""
    keys = PageKeys(BuildCache(None), "", "", env)
    for name in names:
        keys.reads_digest(name)
    save = getattr(env.bytecode_cache, "save", None)
    if save is not None:
        save()  # what it found of the theme's templates (see render.ThemeCache)
    return keys._reads_digest


def template_facts(env: jinja2.Environment, template: str) -> tuple[bool, list[str | None]] | None:
    """Whether a template itself uses the `digest` global, and the templates it names (None: one
    named by an expression); None when it cannot be read or parsed.  A theme's template is
    parsed once per version, then its facts are read back (see render.ThemeCache)."""
    import jinja2  # here: the loading workers, forked before any template is read, never import it
    from jinja2 import meta

    try:
        source, filename, _ = env.loader.get_source(env, template) if env.loader else ("", None, None)
    except jinja2.TemplateError:
        return None
    known = getattr(env.bytecode_cache, "facts", None)
    found = known(filename, source) if known is not None else None
    if found is not None:
        return bool(found[0]), list(found[1])
    try:
        ast = env.parse(source)
    except jinja2.TemplateError:
        return None
    # The text test first: finding undeclared variables is the slow half, and few templates name the digest.
    reads = "digest" in source and "digest" in meta.find_undeclared_variables(ast)
    others = list(meta.find_referenced_templates(ast))
    if known is not None:
        env.bytecode_cache.remember(filename, source, [reads, others])  # type: ignore[union-attr]
    return reads, others


def globals_key(config: Any, template_dirs: list[Path], static_dirs: list[Path], helpers: dict[str, Any],
                assets: dict[str, str], digest: Digest) -> str:
    """What any page can reach besides its own context: config, templates, static files, link maps."""
    parts = [code_version(), repr(config), repr(sorted(assets.items())), *file_hashes([*template_dirs, *static_dirs])]
    # topic_path and source_path answer from maps over the whole digest: small, so always part of the key.
    parts.append(repr([(t.name, t.slug, tuple(sorted({n for s in t.stories for n in s.topics}))) for t in digest.topics]))
    parts.append(repr([(s.name, s.domain, s.slug) for s in digest.sources]))
    parts.extend(sorted(helpers))
    return _hash(*parts)


def file_hashes(folders: Iterable[Path]) -> list[str]:
    """"path:sha256" for every file under the folders (templates and static files: few and small)."""
    return [f"{path}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
            for folder in folders if folder.is_dir() for path in sorted(folder.rglob("*")) if path.is_file()]


_ATOMS = (str, int, float, bool, type(None), datetime, date, timedelta)
#: The same, as exact types: a set lookup is the cheap first test.
_ATOM_TYPES = frozenset(_ATOMS)
#: Texts longer than this are kept as their hash: a story's text would otherwise be repeated in
#: the key of every list page that shows it.
_SHORT = 160
#: Per type, the function that makes the text of its values (see _text_of).
_TEXTS: dict[type, Callable[[Any, dict[int, str]], str]] = {}


def fingerprint(value: Any, memo: dict[int, str]) -> str:
    """A stable text standing for a context value: equal for equal inputs, across processes.

    Values are written out (type, then fields or elements, atoms as their repr, "\x1e" between
    parts); a text of more than _SHORT characters is replaced by its hash.  Unambiguous: no part
    holds a raw \x1e (reprs escape it, hashes are hex) and brackets tell where each value ends."""
    kind = type(value)
    if kind in _ATOM_TYPES:
        return repr(value)
    known = memo.get(id(value))
    if known is not None:
        return known
    text = (_TEXTS.get(kind) or _text_of(kind))(value, memo)
    if len(text) > _SHORT:
        text = _hash(text)
    memo[id(value)] = text
    return text


def _text_of(kind: type) -> Callable[[Any, dict[int, str]], str]:
    """The text maker for values of `kind`, chosen once per type: the isinstance and dataclass
    tests cost more than the text of a small value (keys were a fifth of rendering)."""
    text: Callable[[Any, dict[int, str]], str]
    if issubclass(kind, _ATOMS):
        text = lambda value, memo: repr(value)
    elif dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclasses.fields(kind) if f.name != "extra")
        fields = operator.attrgetter(*names) if len(names) > 1 else (lambda value: tuple(getattr(value, name) for name in names))
        name = kind.__name__
        text = lambda value, memo: f"{name}({_parts(fields(value), memo)})"
        if kind is Item:
            # An item is made from its file's bytes, its path and the configuration (which every key holds):
            # those stand for its dozen fields, text and all.
            whole = text
            text = lambda value, memo: f"Item({value.source!r}\x1e{value.content_hash!r})" if value.content_hash else whole(value, memo)
    elif issubclass(kind, (tuple, list)):
        text = lambda value, memo: f"[{_parts(value, memo)}]"
    elif issubclass(kind, dict):
        text = lambda value, memo: "{" + "\x1e".join(
            f"{k!r}={fingerprint(v, memo)}" for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))) + "}"
    elif issubclass(kind, (set, frozenset)):
        text = lambda value, memo: "(" + "\x1e".join(sorted(fingerprint(v, memo) for v in value)) + ")"
    else:
        text = lambda value, memo: _hash(kind.__name__, repr(value))
    _TEXTS[kind] = text
    return text


def _story_text(story: Story, memo: dict[int, str]) -> str:
    """A story's text: the generic one's parts, in fewer calls.  A story page's key is mostly its story's,
    and a worker that renders the lists makes the text of every story (12 -> 5 us a story).
    tests/test_incremental.py checks that every field changes it."""
    coverage = "\x1e".join([_coverage_text(entry, memo) for entry in story.coverage])  # whole: the story's text is hashed
    return (f"Story({story.id!r}\x1e{fingerprint(story.lead, memo)}\x1e[{_texts(story.items, memo)}]\x1e"
            f"[{coverage}]\x1e[{_texts(story.related, memo)}]\x1e"
            f"{(story.topics, story.heat, story.quality, story.published_at, story.slug, story.score)!r})")


def _coverage_text(entry: Coverage, memo: dict[int, str]) -> str:
    """A line of more coverage: its atoms in one repr, made in C, then its item."""
    item = "None" if entry.item is None else fingerprint(entry.item, memo)
    return f"Coverage({(entry.title, entry.url, entry.outlet, entry.domain, entry.lang, entry.published_at, entry.reason)!r}\x1e{item})"


def _texts(values: Iterable[Any], memo: dict[int, str]) -> str:
    return "\x1e".join([memo.get(id(value)) or fingerprint(value, memo) for value in values])


_TEXTS.update({Story: _story_text, Coverage: _coverage_text})


def _parts(values: Iterable[Any], memo: dict[int, str]) -> str:
    """The texts of `values`; when all are atoms (most small values), their tuple's repr, made in C."""
    if _ATOM_TYPES.issuperset(map(type, values)):
        return repr(tuple(values))
    # A value met before is looked up here, without the call (most stories of a list page).
    return "\x1e".join([repr(v) if type(v) in _ATOM_TYPES else (memo.get(id(v)) or fingerprint(v, memo)) for v in values])


#: What unpickling a damaged file raises.
_DAMAGED = (EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError, IndexError, KeyError)
_UNREADABLE = (OSError, *_DAMAGED)


def read_pickle(path: Path) -> Any:
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except _UNREADABLE:
        return None  # a missing or damaged cache is an empty one


def write_pickle(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with open(temporary, "wb") as handle:
        pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)
