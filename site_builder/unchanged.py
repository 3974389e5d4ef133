"""A build that would change nothing, told from what it reads before reading it.

A build's output depends only on the generator's code, the configuration and
the build options, the files of `templates/` and `static/`, and the content
files.  `inputs_key` sums those up: content files by path, size and mtime
(one `stat` each, nothing read), templates and static files by their bytes
(there are few).  When the key equals the last complete build's and the
output folder still holds exactly what that build wrote (every file and
folder with the size, mtime and inode it had), the build is over before it starts: nothing is parsed,
rendered or written, and the last build's summary and problems are reported
again.

Never trusted this way: a content file whose mtime is within the file
system's clock resolution of the moment the last build started (a second
write in the same tick keeps size and mtime; see incremental.py).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .errors import ContentError
from .incremental import _RACY_NS, code_version, file_hashes, read_pickle, write_pickle
from .load import content_listing

FILE_NAME = "last-build.pickle"


@dataclass(frozen=True, slots=True)
class LastBuild:
    """What the last complete build read and made: enough to report it again."""

    key: str
    started_ns: int
    files: list[str]            # every file it wrote into the output folder
    output_digest: str
    items: int
    stories: int
    pages: int
    problems: tuple[ContentError, ...]


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a build is about to read: its key, the newest content mtime, and the content listing
    (which load_items takes as it is, so the folder is walked once)."""

    key: str
    newest_ns: int
    listing: list[tuple[str, str | None, os.stat_result | None]]


def inputs_key(config: Any, options: Any, folders: list[Path]) -> Inputs | None:
    """Everything a build reads, summed up; None when a content file cannot be stat'ed."""
    listing = content_listing(options.content_dir.resolve())
    return _inputs(config, options, folders, listing, [(stat.st_size, stat.st_mtime_ns) if stat else None for _, _, stat in listing])


def inputs_as_read(config: Any, options: Any, folders: list[Path], listing: list[tuple[str, str | None, Any]],
                   entries: dict[str, tuple]) -> Inputs | None:
    """inputs_key() for a listing made without stats, from the size and mtime each file had when the build
    read it (the item cache's entries: see ItemCache.entry); None when one was not read."""
    return _inputs(config, options, folders, listing, [entries[relative][:2] if relative in entries else None for relative, _, _ in listing])


def has_record(cache_folder: Path) -> bool:
    """Whether a last build is on record: without one, unchanged() has nothing to compare inputs with."""
    return (cache_folder / FILE_NAME).exists()


def _inputs(config: Any, options: Any, folders: list[Path], listing: list[tuple[str, str | None, Any]],
            sizes: list[tuple[int, int] | None]) -> Inputs | None:
    """The key of the inputs, content files by (size, mtime_ns) in `sizes` (one per listing entry)."""
    parts = [code_version(), repr(config), str(options.content_dir.resolve()), str(options.output_dir.resolve()),
             repr((options.drafts, options.search)), *file_hashes(folders)]
    texts = [part + "\x1f" for part in parts]
    newest = 0
    for (relative, problem, _), known in zip(listing, sizes):
        if problem is None and known is None:
            return None
        if known is not None:
            newest = max(newest, known[1])
            texts.append(f"{relative}\x1e{known[0]}\x1e{known[1]}\x1f")
        else:
            texts.append(f"{relative}\x1e{problem}\x1f")
    digest = hashlib.blake2b("".join(texts).encode("utf-8", "surrogatepass"), digest_size=16)
    return Inputs(digest.hexdigest(), newest, listing)


def output_digest(output: Path, files: list[str], seen: Mapping[str, tuple[int, ...]] | None = None) -> str | None:
    """A digest of the output folder as far as the build knows it: each file it made, and each folder
    holding them, by size, mtime and inode (a folder's mtime moves when anything is added to it or
    removed from it), and whatever another tool wrote at the top (the search index) entry by entry.

    Anything removed, added, replaced or rewritten there since changes it, so such a folder is always
    built again; None when the folder or one of the files is gone.  Made from one stat per known path:
    listing the 60 000 folders of a 100k-item site would cost more than the build saves.  (Each path is
    looked up from the output folder, not from /, and the texts are hashed at once: a quarter faster.)

    `seen`: stats taken as the files were made (OutputWriter.stats), used instead of statting again: a
    file's, and a folder's when that file is all it holds (a story's folder), as nothing changes either
    after.  A stale one could only make the next build miss its shortcut, never take it wrongly."""
    seen = seen or {}
    parts = []
    folders = {""}
    ours = set()
    children: dict[str, int] = {}
    try:
        top = os.open(output, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for relative in files:
                known = seen.get(relative)
                if known is None:
                    stat = os.stat(relative, dir_fd=top)
                    known = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
                parts.append(f"{relative}\x1e{known[0]}\x1e{known[1]}\x1e{known[2]}\x1f")
                parent = relative.rpartition("/")[0]
                children[parent] = children.get(parent, 0) + 1
                while parent not in folders:
                    folders.add(parent)
                    parent = parent.rpartition("/")[0]
                    children[parent] = children.get(parent, 0) + 1
                ours.add(relative.partition("/")[0])
            for folder in sorted(folders):
                known = seen.get(folder + "/") if folder and children[folder] == 1 else None
                if known is None:
                    stat = os.stat(folder, dir_fd=top) if folder else os.fstat(top)
                    known = (stat.st_mtime_ns, stat.st_ino)
                parts.append(f"{folder}/\x1e{known[0]}\x1e{known[1]}\x1f")
        finally:
            os.close(top)
        digest = hashlib.blake2b("".join(parts).encode("utf-8", "surrogatepass"), digest_size=16)
        for entry in sorted(os.scandir(output), key=lambda e: e.name):
            if entry.name not in ours:
                for path in sorted([Path(entry.path), *Path(entry.path).rglob("*")]):
                    stat = path.stat(follow_symlinks=False)
                    digest.update(f"{path}\x1e{stat.st_size}\x1e{stat.st_mtime_ns}\x1e{stat.st_ino}\x1f".encode("utf-8", "surrogatepass"))
    except OSError:
        return None
    return digest.hexdigest()


def unchanged(cache_folder: Path, output: Path, inputs: Inputs | None) -> LastBuild | None:
    """The last build, when this one would make exactly what it made and the output still holds it."""
    if inputs is None:
        return None
    last = read_pickle(cache_folder / FILE_NAME)
    if not isinstance(last, LastBuild) or last.key != inputs.key:
        return None
    if inputs.newest_ns >= last.started_ns - _RACY_NS:
        return None  # a file written in the same clock tick as the last build read it
    if output_digest(output, last.files) != last.output_digest:
        return None
    return last


def remember(cache_folder: Path, output: Path, inputs: Inputs | None, started_ns: int, files: list[str],
             items: int, stories: int, pages: int, problems: tuple[ContentError, ...],
             seen: Mapping[str, tuple[int, ...]] | None = None) -> None:
    """Keep what a complete build read and made (`seen`: see output_digest), for the next one to compare with."""
    path = cache_folder / FILE_NAME
    files = sorted(files)
    digest = output_digest(output, files, seen) if inputs is not None else None
    if inputs is None or digest is None:
        path.unlink(missing_ok=True)
        return
    try:
        write_pickle(path, LastBuild(inputs.key, started_ns, files, digest, items, stories, pages, problems))
    except OSError:
        pass  # a cache that cannot be written only costs the next build its shortcut
