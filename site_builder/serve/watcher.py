"""The watcher: file events sorted into kinds of change, debounced into batches.

Each path maps to one ChangeKind (as in Zola's `ChangeKind`), and the kind
decides what a rebuild has to redo (see serve/rebuild.py).  Editor swap and
backup files (load.is_ignored), hidden folders, the output folder and the
cache are never changes.  An editor's save is several events in a few
milliseconds; a batch closes once the tree has been quiet for `quiet` seconds.
"""

from __future__ import annotations

import enum
import queue
import time
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..load import is_ignored


class ChangeKind(enum.Enum):
    CONTENT = "content"      # reload the changed items, dedupe, rank, re-render the pages that show them
    TEMPLATE = "template"    # re-render every page; content stages are reused
    STATIC = "static"        # copy static files; pages are reused unless the set of static files changed
    CONFIG = "config"        # read pyproject.toml again and rebuild everything


@dataclass(frozen=True, slots=True)
class WatchedPaths:
    project: Path
    content: Path
    output: Path

    @property
    def templates(self) -> Path:
        return self.project / "templates"

    @property
    def static(self) -> Path:
        return self.project / "static"

    @property
    def config(self) -> Path:
        return self.project / "pyproject.toml"

    def classify(self, path: Path) -> ChangeKind | None:
        """The kind of change a file event at `path` is, or None when it does not matter."""
        if path == self.config:
            return ChangeKind.CONFIG
        if _inside(path, self.output) or _inside(path, self.project / ".site-builder-cache"):
            return None
        for root, kind in ((self.content, ChangeKind.CONTENT), (self.templates, ChangeKind.TEMPLATE), (self.static, ChangeKind.STATIC)):
            if _inside(path, root):
                relative = path.relative_to(root).parts
                if any(is_ignored(part) for part in relative):
                    return None
                return kind
        return None


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


Batch = dict[ChangeKind, set[Path]]


class Watcher(FileSystemEventHandler):
    """Watches the project and hands out batches of changes with `next_batch()`."""

    def __init__(self, paths: WatchedPaths, quiet: float = 0.05, longest: float = 1.0) -> None:
        self.paths = paths
        self.quiet, self.longest = quiet, longest
        self.events: queue.Queue[tuple[ChangeKind, Path]] = queue.Queue()
        self.observer = Observer()
        self._watched: set[Path] = set()

    def start(self) -> None:
        # The project folder itself only shallowly (pyproject.toml, templates/ or static/ appearing):
        # a recursive watch there would follow .venv and the output folder.
        self._schedule(self.paths.project, recursive=False)
        for folder in (self.paths.content, self.paths.templates, self.paths.static):
            if folder.is_dir():
                self._schedule(folder, recursive=True)
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)

    def _schedule(self, folder: Path, recursive: bool) -> None:
        folder = folder.resolve()
        if folder not in self._watched:
            self._watched.add(folder)
            self.observer.schedule(self, str(folder), recursive=recursive)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(raw if isinstance(raw, str) else raw.decode())
            if event.is_directory and path in (self.paths.templates.resolve(), self.paths.static.resolve()):
                self._schedule(path, recursive=True)
            kind = self.paths.classify(path)
            if kind is not None and not (event.is_directory and event.event_type == "modified"):
                self.events.put((kind, path))

    def next_batch(self, timeout: float) -> Batch:
        """Changes seen until the tree is quiet; empty when nothing happened within `timeout`."""
        batch: Batch = {}
        try:
            kind, path = self.events.get(timeout=timeout)
        except queue.Empty:
            return batch
        batch.setdefault(kind, set()).add(path)
        deadline = time.monotonic() + self.longest
        while True:
            wait = min(self.quiet, deadline - time.monotonic())
            if wait <= 0:
                return batch
            try:
                kind, path = self.events.get(timeout=wait)
            except queue.Empty:
                return batch
            batch.setdefault(kind, set()).add(path)
