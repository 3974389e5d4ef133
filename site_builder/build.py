"""build(): the pipeline, one named stage per line, each one timed."""

from __future__ import annotations

import importlib
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from .config import SiteConfig
from .dedupe import grouped, prepare as prepare_features
from .errors import BuildError, ContentError
from .incremental import BuildCache, PageKeys, digest_readers, globals_key
from .load import content_listing, load_items
from .models import Digest, Item, Page, Story
from .parallel import fork_map, no_collection, split, wait_for_workers
from .unchanged import has_record, inputs_as_read, inputs_key, remember, unchanged

# What renders and writes the site (Jinja among it) is imported once the loading workers are forked,
# while they work (see prepare_rendering in _build): they never use it, and importing it before was
# 40 ms of every start, while one core waited.
if TYPE_CHECKING:
    from .feeds import OutputFile
    from .render import Renderer
    from .write import OutputWriter


@dataclass(frozen=True, slots=True)
class BuildOptions:
    content_dir: Path
    output_dir: Path
    project_dir: Path
    drafts: bool = False
    search: bool = True
    #: Ignore and rewrite the cache (.site-builder-cache/): a full build.
    clean: bool = False
    #: Processes for loading and rendering; the preview server keeps 1 (it runs threads, and forking those is unsafe).
    workers: int = 1
    #: Content files whose errors stop the build before it writes (the preview server passes the files just edited).
    strict_paths: frozenset[str] = frozenset()
    #: Stop at once when nothing the build reads changed since the last one (see unchanged.py); the preview
    #: server turns it off, as it needs the state a build makes.
    skip_unchanged: bool = True

    @property
    def cache_dir(self) -> Path:
        return self.project_dir / ".site-builder-cache"


class ContentFailure(BuildError):
    """A file named in BuildOptions.strict_paths has an error: nothing was written."""

    def __init__(self, problems: list[ContentError]) -> None:
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


@dataclass(frozen=True, slots=True)
class SiteState:
    """What a build made, kept by the preview server so that it can redo an edit in place (serve/quick.py)."""

    config: SiteConfig
    options: BuildOptions
    items: tuple[Item, ...]
    stories: tuple[Story, ...]      # as the deduplicator made them, before ranking
    digest: Digest
    pages: tuple[Page, ...]
    renderer: Renderer
    problems: tuple[ContentError, ...]


@dataclass(frozen=True, slots=True)
class BuildReport:
    items: int
    stories: int
    pages: int
    problems: tuple[ContentError, ...]
    seconds: float
    stages: tuple[tuple[str, float], ...] = field(default=())
    state: SiteState | None = field(default=None, repr=False, compare=False)

    @property
    def errors(self) -> tuple[ContentError, ...]:
        return tuple(p for p in self.problems if not p.warning)

    @property
    def warnings(self) -> tuple[ContentError, ...]:
        return tuple(p for p in self.problems if p.warning)

    def summary(self) -> str:
        return (f"{_n(self.items)} items → {_n(self.stories)} stories, {_n(self.pages)} pages in {self.seconds:.2f} s"
                f" ({_plural(len(self.errors), 'error')}, {_plural(len(self.warnings), 'warning')})")


Progress = Callable[[str, int, int], None]


def build(config: SiteConfig, options: BuildOptions, progress: Progress | None = None, cache: BuildCache | None = None) -> BuildReport:
    """Build the site from options.content_dir into options.output_dir, reusing what `cache` remembers."""
    try:
        with no_collection():
            return _build(config, options, progress, cache)
    finally:
        wait_for_workers()  # exited meanwhile, while this process wrote the cache: nothing to wait for


def _build(config: SiteConfig, options: BuildOptions, progress: Progress | None, cache: BuildCache | None) -> BuildReport:
    timer = StageTimer()
    started_ns = time.time_ns()
    inputs = None
    listing = None  # the content files, as load_items takes them
    read_inputs = False  # the inputs' key is made from the files as they are read (see below)
    folders = [options.project_dir / "templates", options.project_dir / "static"]
    if options.skip_unchanged and not options.clean and not options.strict_paths:
        if not has_record(options.cache_dir):  # no last build to compare with: is there any item to look up?
            cache = cache or BuildCache.open(options.cache_dir)
            read_inputs = not cache.items_for(config.language).entries
        with timer("inputs"):
            if read_inputs:
                # A first build (every build on a CI runner): its files are stat'ed as the workers read
                # them, and the inputs' key is made from that, rather than all of them first, here.
                listing = content_listing(options.content_dir.resolve(), stat_files=False)
            else:
                inputs = inputs_key(config, options, folders)
                last = unchanged(options.cache_dir, options.output_dir, inputs)
                if last is not None:
                    return BuildReport(last.items, last.stories, last.pages, last.problems, timer.total(), tuple(timer.stages))
                listing = inputs.listing if inputs else None
    cache = cache or BuildCache.open(options.cache_dir, clean=options.clean)
    prepared: dict[str, tuple] = {}  # the deduplicator's features of the files read, made as they are read
    early: dict[str, Any] = {}

    def prepare_rendering() -> None:
        """While the workers load: what rendering needs that no content changes.  Templates are compiled
        here, once, where each render worker would compile them again."""
        from .render import THEME, Renderer, fingerprint_assets

        for name in ("feeds", "pages", "rank", "search", "seo", "write"):  # what later stages use, loaded now
            importlib.import_module(f".{name}", __package__)
        static_dirs = [THEME / "static", options.project_dir / "static"]
        assets = fingerprint_assets(static_dirs)
        renderer = Renderer(config, [options.project_dir / "templates"], static_files(static_dirs), {},
                            {path: named for path, (named, _) in assets.items()})
        early.update(static_dirs=static_dirs, assets=assets, renderer=renderer,
                     digest_readers=digest_readers(renderer.env, renderer.compile_all()))

    with timer("load"):
        items, problems = load_items(options.content_dir, config.language, cache.items_for(config.language), options.workers,
                                     listing, prepare_features, prepared, prepare_rendering)
        stop_on_edited_errors(problems, options.strict_paths)
        items = [item for item in items if options.drafts or not item.draft]
        content_key = cache.content_key(items, config, options.drafts)
        cache.save_items_beside()  # while this process deduplicates, ranks and plans (joined before rendering)
    with timer("dedupe"):
        stories = content_stories(items, config, cache, content_key, options.workers, prepared)
        prepared.clear()  # the stories are made: their features are no longer needed
    with timer("rank"):
        digest, ranked_problems = rank_collecting(stories, items, config)
        problems += ranked_problems  # slug collisions are reported as warnings
    with timer("plan"):
        from .feeds import feed_files
        from .pages import plan_pages
        from .seo import seo_files
        from .write import OutputWriter

        pages = plan_pages(digest, config)
        static_dirs, assets, renderer = early["static_dirs"], early["assets"], early["renderer"]
        renderer.set_globals(template_helpers(digest, config))
        page_keys = cache.page_keys(globals_key(config, renderer.template_dirs, static_dirs, renderer.env.globals, renderer.assets, digest),
                                    content_key, renderer.env, early["digest_readers"])
        cache.finish_items()  # no thread of this process may run while it forks the render workers
    with OutputWriter(options.output_dir, cache.trees) as output:

        def meanwhile() -> None:
            """What this process does while the workers render: everything else the site is made of."""
            nonlocal inputs
            with timer("static"):
                for folder in static_dirs:
                    output.copy_tree(folder)
                for named, source in assets.values():  # assets/style.<hash>.css beside assets/style.css
                    output.write(named, source.read_bytes())
                output.write(".nojekyll", "")
                if config.cname:
                    output.write("CNAME", config.cname.strip() + "\n")
            with timer("feeds"):
                write_files(output, feed_files(digest, config, renderer.env.globals["story_path"]))
            with timer("seo"):
                write_files(output, seo_files(pages, config))
            with timer("content_cache"):
                cache.save_content()  # true of the content whatever becomes of this build
            if read_inputs:  # for the record the next build compares with (see remember())
                inputs = inputs_as_read(config, options, folders, listing, cache.items.entries)

        with timer("render"):
            render_pages(renderer, pages, output, progress, page_keys, options.workers, meanwhile)
        with timer("search"):
            if options.search:
                index_search(output)
        with timer("swap"):
            output.commit()
        written, seen = output.files.keys(), output.stats_seen
    with timer("cache"):
        cache.save()  # the pages' keys: the content stages' part is already saved (see meanwhile)
        if options.skip_unchanged and cache.folder is not None:
            remember(cache.folder, options.output_dir, inputs, started_ns, list(written), len(items), len(stories), len(pages),
                     tuple(problems), seen)
    state = SiteState(config, options, tuple(items), tuple(stories), digest, tuple(pages), renderer, tuple(problems))
    return BuildReport(len(items), len(stories), len(pages), tuple(problems), timer.total(), tuple(timer.stages), state)


def index_search(output: OutputWriter) -> None:
    """Pagefind over the staged site; when no page changed, the live index is still exact: reuse it."""
    from .search import BUNDLE as SEARCH_BUNDLE, index_site

    output.prune()
    if output.pages_unchanged() and output.link_from_live(SEARCH_BUNDLE):
        return
    index_site(output.staging)


def render_pages(renderer: Renderer, pages: list[Page], output: OutputWriter, progress: Progress | None, keys: PageKeys,
                 workers: int = 1, meanwhile: Callable[[], None] | None = None) -> None:
    """Render every page whose inputs changed (in `workers` processes); the others keep their bytes and file.

    The workers work out the pages' keys too (a third of a second at 10k pages, in one process).
    """
    # The lists of stories (front page, topics, outlets, days) go first, together: each story's card is
    # rendered once per process (see Renderer.once), and spread over every worker it would be rendered in
    # each.  The story pages, in small batches, keep the other workers busy meanwhile and even out the end.
    lists = [index for index, page in enumerate(pages) if page.template != "story.html"]
    stories = [index for index, page in enumerate(pages) if page.template == "story.html"]
    batches = [*split(lists, max(1, workers // 2)), *split(stories, workers * 8)]
    # With no page rendered before (a first build), no page waits for its key to be looked up.  A story
    # page's key is then made by the worker that renders the first list: the lists' keys have made the
    # fingerprint of every story they show, and the page's key costs 3 us there, where a story worker
    # would make its story's fingerprint again (15 us; 5,400 story pages at 10k items).
    cold = keys.first_build()
    first_list = lists[0] if cold and lists else None

    def render(batch: Sequence[int]) -> list[tuple[int, str | None, str | None, Any]]:
        """(index, key, content id, stats) per page rendered, and (index, key, None, None) per key made
        for a page another batch renders."""
        done: list[tuple[int, str | None, str | None, Any]] = []
        for index in batch:
            page = pages[index]
            if cold and page.template == "story.html":
                key, sha = None, None
            else:
                key = keys.key(page)
                sha = keys.previous(page, key)
            if not output.keep(page.output_path, sha):
                sha = output.place(page.output_path, renderer.render(page, dict(page.context)))
            done.append((index, key, sha, output.stats(page.output_path)))
            if progress and workers == 1 and len(done) % 200 == 0:
                progress("render", len(done), len(pages))
        if first_list is not None and first_list in batch:
            done.extend((index, keys.key(pages[index]), None, None) for index in stories)
        return done

    made: dict[int, str] = {}  # story pages' keys, by index, made beside the lists
    unkeyed: list[tuple[Page, int, str]] = []
    for index, key, sha, stats in fork_map(render, range(len(pages)), workers, meanwhile=meanwhile, batches=batches):
        if sha is None:
            made[index] = key  # type: ignore[assignment]
            continue
        page = pages[index]
        output.note(page.output_path, sha, stats)
        if key is None:
            unkeyed.append((page, index, sha))
        else:
            keys.record(page, key, sha)
    for page, index, sha in unkeyed:  # the batch that made their keys may come before them or after
        keys.record(page, made[index], sha)
    if progress:
        progress("render", len(pages), len(pages))


def stop_on_edited_errors(problems: list[ContentError], paths: frozenset[str]) -> None:
    edited = [p for p in problems if not p.warning and p.path in paths]
    if edited:
        raise ContentFailure(edited)


def content_stories(items: list[Item], config: SiteConfig, cache: BuildCache, content_key: str, workers: int = 1,
                    prepared: dict[str, tuple] | None = None) -> tuple[Story, ...]:
    """The deduplicator's stories; its Grouping of the same items (same content key) is taken from the
    cache when there (a build after a template or static edit), and kept there for the next build."""
    stories, grouping = grouped(items, config, None, workers, with_saved(prepared or {}, items, cache),
                                cache.recall(content_key, "grouping"))
    cache.keep(content_key, "grouping", grouping)
    return stories


def with_saved(prepared: dict[str, tuple], items: list[Item], cache: BuildCache) -> dict[str, tuple]:
    """`prepared` (the features of the files read by this build, by content hash), with the features
    the item cache keeps for the others: the deduplicator then makes none again."""
    others = [item for item in items if item.content_hash not in prepared]
    if others:
        saved = cache.items.features_of(item.source for item in others)
        prepared.update((item.content_hash, saved[item.source]) for item in others if item.source in saved)
    return prepared


def rank_collecting(stories, items, config: SiteConfig) -> tuple[Digest, list[ContentError]]:
    """rank(), with the problems it reports kept apart, so a remembered digest brings its warnings along."""
    from .rank import rank

    problems: list[ContentError] = []
    return rank(stories, items, config, problems), problems


def write_files(output: OutputWriter, files: list[OutputFile]) -> None:
    for file in files:
        output.write(file.path, file.data)


def template_helpers(digest: Digest, config: SiteConfig) -> dict[str, Callable]:
    from .seo import head_helpers

    links = link_helpers(digest)
    return {**links, **head_helpers(config, links["story_path"])}


def link_helpers(digest: Digest) -> dict[str, Callable]:
    """Template functions that turn a topic name, an outlet or a story into its page's path."""
    from .rank import topic_key

    # Every spelling of a topic ("AI", "ai") shares one key, and so one page.
    topic_paths = {topic_key(topic.name): f"topics/{topic.slug}/" for topic in digest.topics}
    source_paths = {source.domain: f"sources/{source.slug}/" for source in digest.sources}
    story_paths = {story.id: f"stories/{story.slug}/" for story in digest.stories}
    source_names = {source.name: f"sources/{source.slug}/" for source in digest.sources}

    def source_path(provider) -> str | None:
        if provider is None:
            return None
        return source_paths.get(provider.domain) or source_names.get(provider.name)

    return {
        "topic_path": lambda name: topic_paths.get(topic_key(name)),
        "source_path": source_path,
        "story_path": lambda story: story_paths[story.id],
        "digest": digest,
    }


def static_files(folders: list[Path]) -> set[str]:
    found = set()
    for folder in folders:
        if folder.is_dir():
            found.update(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return found


class StageTimer:
    def __init__(self) -> None:
        self.stages: list[tuple[str, float]] = []
        self.started = time.perf_counter()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages.append((name, time.perf_counter() - start))

    def total(self) -> float:
        return time.perf_counter() - self.started


def terminal_progress(stream=sys.stderr) -> Progress | None:
    """A one-line progress bar on a terminal; None (quiet) when output is not a terminal."""
    if not stream.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        stream.write(f"\r{stage:>8} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\r" + " " * (width + 30) + "\r")
        stream.flush()

    return show


def _n(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
