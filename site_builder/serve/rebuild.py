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
items, dedup features, the content stages (when only templates or static
files changed) and every page whose inputs did not change.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..build import BuildOptions, ContentFailure, build
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

    def __post_init__(self) -> None:
        self.cache = BuildCache.open(self.paths.project / ".site-builder-cache")

    def rebuild(self, batch: Batch | None = None) -> bool:
        """Build once (everything when batch is None); True when the new site was swapped in."""
        batch = batch or {}
        started = time.perf_counter()
        for path in batch.get(ChangeKind.CONTENT, ()):
            if path.is_relative_to(self.paths.content):
                self.edited.add(path.relative_to(self.paths.content).as_posix())
        try:
            if self.config is None or ChangeKind.CONFIG in batch:
                self.config = load_config(self.paths.project).with_overrides(base_url=self.base_url)
            options = BuildOptions(self.paths.content, self.paths.output, self.paths.project, drafts=self.drafts,
                                   search=self.search, strict_paths=frozenset(self.edited))
            report = build(self.config, options, cache=self.cache)
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
        return True

    def _failed(self, problems: tuple[Problem, ...]) -> bool:
        self.log("Rebuild failed; still serving the last good site:")
        for problem in problems:
            self.log(f"  {problem}")
        self.hub.failed_with(problems)
        return False


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
