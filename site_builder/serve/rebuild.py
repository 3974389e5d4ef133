"""Rebuilds for the preview server: what each kind of change redoes, and the last good site.

What counts as a failed rebuild (the output folder is left as it was, the
overlay shows why):

- a ConfigError (pyproject.toml), always;
- a TemplateError, always;
- a content error in a file edited since the last good build: a writer in
  the middle of an edit keeps seeing the story as it was, not a site without it.

Content errors in files nobody touched (they were there when the server
started) do not stop rebuilds: they are shown in the overlay while the rest
of the site is rebuilt, like `build` does.  Warnings are never shown there.

One BuildCache lives as long as the server, so every rebuild reuses parsed
items, dedup features, the deduplicator's grouping (when only templates or
static files changed) and every page whose inputs did not change.

An edit to existing content files is first redone in place (quick.py): the
page reloads within milliseconds.  Once the files have been quiet for
SETTLE_AFTER seconds, the exact build runs in a child process (`site-builder
build`, on every core); an edit that arrives meanwhile stops it (a killed
build leaves the site as it was) and is redone in place again.  When the
child finishes, its result becomes the server's state and pages reload if
anything they show changed.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable

from ..build import BuildOptions, ContentFailure, SiteState, build, content_stories, rank_collecting, template_helpers
from ..pages import plan_pages
from ..write import TreeRecords
from .quick import Edit, Index, quick_edit
from ..config import SiteConfig, load_config
from ..errors import BuildError, ConfigError, ContentError, TemplateError
from ..incremental import BuildCache
from .livereload import LiveReload, Problem
from .watcher import Batch, ChangeKind, WatchedPaths


@dataclass
class Rebuilder:
    paths: WatchedPaths
    base_url: str
    hub: LiveReload
    drafts: bool = False
    search: bool = True
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    config: SiteConfig | None = None
    #: Content files (relative to the content folder) edited since the last good build.
    edited: set[str] = field(default_factory=set)

    #: Set False to rebuild every change in full, in this process (tests of the full path).
    quick: bool = True

    def __post_init__(self) -> None:
        self.cache = BuildCache.open(self.paths.project / ".site-builder-cache")
        self.state: SiteState | None = None
        self.index: Index | None = None
        #: The exact build that follows in-place edits: pending (not started), running, or None.
        self.settle: Settle | None = None

    def rebuild(self, batch: Batch | None = None) -> bool:
        """Build once (everything when batch is None); True when the new site is being served."""
        batch = batch or {}
        started = time.perf_counter()
        self.stop_settling()
        for path in batch.get(ChangeKind.CONTENT, ()):
            if path.is_relative_to(self.paths.content):
                self.edited.add(path.relative_to(self.paths.content).as_posix())
        try:
            if batch and set(batch) == {ChangeKind.CONTENT} and self.quick and self.state is not None:
                edit = self._quick()
                if edit is not None:
                    return self._redone(edit, started)
            if self.config is None or ChangeKind.CONFIG in batch:
                self.config = load_config(self.paths.project).with_overrides(base_url=self.base_url)
            options = BuildOptions(self.paths.content, self.paths.output, self.paths.project, drafts=self.drafts,
                                   search=self.search, strict_paths=frozenset(self.edited), skip_unchanged=False)
            self.state = self.index = None
            report = build(self.config, options, cache=self.cache)
            self.state = report.state
        except ContentFailure as failure:
            return self._failed(tuple(content_problem(p, self.paths) for p in failure.problems))
        except ConfigError as exc:
            return self._failed((Problem(exc.path, _toml_line(exc.message), f"{exc.key}: {exc.message}" if exc.key else exc.message),))
        except TemplateError as exc:
            return self._failed((Problem(exc.template, exc.line, exc.message),))
        except BuildError as exc:
            return self._failed((Problem("", None, str(exc)),))
        self.edited.clear()
        problems = tuple(content_problem(p, self.paths) for p in report.errors)
        for problem in problems:
            self.log(f"  {problem}")
        kinds = ", ".join(sorted(kind.value for kind in batch)) or "everything"
        self.log(f"Rebuilt ({kinds}) in {time.perf_counter() - started:.2f} s: {report.summary()}")
        self.hub.built(problems)
        keep_from_collector()
        return True

    def _quick(self) -> Edit | None:
        assert self.state is not None
        if self.index is None:
            self.index = Index.of(self.state)
        try:
            return quick_edit(self.state, self.index, self.edited, self.cache)
        except (ContentFailure, TemplateError):
            raise  # shown in the overlay like a full build's
        except BuildError:
            return None  # another build holds the output: the full build says so
        except Exception as exc:  # never lose the server to the shortcut: the full build is always right
            self.log(f"In-place edit failed ({type(exc).__name__}: {exc}); rebuilding in full.")
            return None

    def _redone(self, edit: Edit, started: float) -> bool:
        self.state, self.index = edit.state, edit.index
        self.edited.clear()
        problems = tuple(content_problem(p, self.paths) for p in edit.state.problems if not p.warning)
        self.log(f"Redone in place in {(time.perf_counter() - started) * 1000:.0f} ms: {len(edit.written)} files"
                 " (the exact build follows when the files are quiet)")
        self.hub.built(problems)
        self.settle = Settle(self._settle_command())
        return True

    def idle(self) -> None:
        """Work for quiet moments: start, or finish, the exact build that follows in-place edits."""
        settle = self.settle
        if settle is None:
            if self.state is not None and self.index is None and self.quick:
                self.index = Index.of(self.state)  # ready before the next edit arrives
            return
        if not settle.started:
            if time.monotonic() - settle.since >= SETTLE_AFTER:
                settle.start()
            return
        code = settle.poll()
        if code is None:
            return
        self.settle = None
        errors = settle.errors()
        settle.stop()  # finished: only closes its stderr file
        if code != 0:
            self.log(f"The exact build after the last edits failed ({code}); the next change rebuilds in full:\n{errors}")
            self.state = self.index = None
            return
        self._settled()

    def _settled(self) -> None:
        """The child's site is live: take its results as the state, reload pages that changed."""
        before = self._live_pages()
        self.cache = BuildCache.open(self.paths.project / ".site-builder-cache")
        assert self.state is not None
        self.state = state_from_cache(self.cache, self.state)
        self.index = None
        if self.state is None:
            self.log("The exact build's results could not be read back; the next change rebuilds in full.")
        if before is None or before != self._live_pages():
            problems = tuple(content_problem(p, self.paths) for p in self.state.problems if not p.warning) if self.state else ()
            self.hub.built(problems)
        self.log("The exact build is live.")
        keep_from_collector()

    def _live_pages(self) -> dict[str, str] | None:
        if self.cache.trees is None:
            return None
        record = TreeRecords(self.cache.trees).read(self.paths.output)
        return {name: sha for name, sha in record["files"].items() if name.endswith(".html")} if record else None

    def stop_settling(self) -> None:
        if self.settle is not None:
            self.settle.stop()
            self.settle = None

    def _settle_command(self) -> list[str]:
        command = [sys.executable, "-m", "site_builder", "build", "--project", str(self.paths.project),
                   "--content", str(self.paths.content), "--output", str(self.paths.output), "--base-url", self.base_url]
        if self.drafts:
            command.append("--drafts")
        if not self.search:
            command.append("--no-search")
        return command

    def _failed(self, problems: tuple[Problem, ...]) -> bool:
        self.log("Rebuild failed; still serving the last good site:")
        for problem in problems:
            self.log(f"  {problem}")
        self.hub.failed_with(problems)
        return False


#: Seconds without a file event before the exact build starts.
SETTLE_AFTER = 1.0


def keep_from_collector() -> None:
    """Take the site's state, just made, out of the cyclic garbage collector's rounds.

    The state of a 10k-item site is millions of objects, and a full collection walks them all: one
    struck about every other in-place edit, which then took 260 ms instead of 140.  Frozen after
    a last collection (which frees the previous state's cycles, unfrozen first), they are still
    freed when no longer referenced; only their cycles wait for the next full or exact build."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Settle:
    """The exact build, as a child process that can be stopped at any moment (a killed build writes nothing)."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.since = time.monotonic()
        self.process: subprocess.Popen | None = None
        self._stderr = tempfile.TemporaryFile()

    @property
    def started(self) -> bool:
        return self.process is not None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr)

    def poll(self) -> int | None:
        return self.process.poll() if self.process else None

    def errors(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-2000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stderr.close()


def state_from_cache(cache: BuildCache, previous: SiteState) -> SiteState | None:
    """The state of the build that just wrote `cache` (in another process), or None if it is not all there."""
    config, options = previous.config, previous.options
    entries = cache.items.entries
    items = [entries[r][4] for r in sorted(entries) if entries[r][4] is not None]
    items = [item for item in items if options.drafts or not item.draft]
    content_key = cache.content_key(items, config, options.drafts)
    if cache.recall(content_key, "grouping") is None:
        return None
    stories = content_stories(items, config, cache, content_key)
    digest, ranked_problems = rank_collecting(stories, items, config)
    problems = [p for r in sorted(entries) for p in entries[r][5]] + list(ranked_problems)
    previous.renderer.set_globals(template_helpers(digest, config))
    return SiteState(config, options, tuple(items), stories, digest, tuple(plan_pages(digest, config)),
                     previous.renderer, tuple(problems))


def content_problem(error: ContentError, paths: WatchedPaths) -> Problem:
    shown = paths.content / error.path
    try:
        shown = shown.relative_to(paths.project)
    except ValueError:
        pass
    field_ = f"{error.field}: " if error.field else ""
    return Problem(shown.as_posix(), error.line, field_ + error.message)


def _toml_line(message: str) -> int | None:
    # tomllib says "(at line 3, column 7)"
    marker = "at line "
    if marker in message:
        digits = message.split(marker, 1)[1].split(",", 1)[0].split(")", 1)[0]
        if digits.isdigit():
            return int(digits)
    return None
