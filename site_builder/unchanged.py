"""A build that would change nothing, told from what it reads before reading it.

A build's output depends only on the generator's code, the configuration and
the build options, the files of `templates/` and `static/`, and the content
files.  `inputs_key` sums those up: content files by path, size and mtime
(one `stat` each, nothing read), templates and static files by their bytes
(there are few).  When the key equals the last complete build's and the
output folder still holds exactly what that build wrote (every entry with
the size, mtime and inode it had), the build is over before it starts: nothing is parsed,
rendered or written, and the last build's summary and problems are reported
again.

Never trusted this way: a content file whose mtime is within the file
system's clock resolution of the moment the last build started (a second
write in the same tick keeps size and mtime; see incremental.py).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ContentError
from .incremental import _RACY_NS, code_version
from .load import content_files

FILE_NAME = "last-build.pickle"


@dataclass(frozen=True, slots=True)
class LastBuild:
    """What the last complete build read and made: enough to report it again."""

    key: str
    started_ns: int
    output_digest: str
    items: int
    stories: int
    pages: int
    problems: tuple[ContentError, ...]


def inputs_key(config: Any, options: Any, folders: list[Path]) -> tuple[str, int] | None:
    """The key of everything a build reads, and the newest content mtime; None when a file cannot be stat'ed."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (code_version(), repr(config), str(options.content_dir.resolve()), str(options.output_dir.resolve()),
                 repr((options.drafts, options.search))):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x1f")
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    digest.update(f"{path}\x1e".encode("utf-8", "surrogatepass") + hashlib.sha256(path.read_bytes()).digest())
    root = options.content_dir.resolve()
    newest = 0
    for relative, problem in content_files(root):
        try:
            stat = os.stat(os.path.join(root, relative))
        except OSError:
            return None
        newest = max(newest, stat.st_mtime_ns)
        digest.update(f"{relative}\x1e{problem}\x1e{stat.st_size}\x1e{stat.st_mtime_ns}\x1f".encode("utf-8", "surrogatepass"))
    return digest.hexdigest(), newest


def output_digest(output: Path) -> str | None:
    """A digest of what the output folder holds: every entry's path, kind, size, mtime and inode.

    Anything removed, added, replaced or rewritten there since (by hand, by another tool) changes it,
    so such a folder is always built again; None when there is no folder."""
    digest = hashlib.blake2b(digest_size=16)
    stack = [str(output)]
    prefix = len(os.path.join(str(output), ""))
    found = False
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            return None
        found = True
        for entry in entries:
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                return None
            digest.update(f"{entry.path[prefix:]}\x1e{stat.st_mode}\x1e{stat.st_size}\x1e{stat.st_mtime_ns}\x1e{stat.st_ino}\x1f"
                          .encode("utf-8", "surrogatepass"))
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    return digest.hexdigest() if found else None


def unchanged(cache_folder: Path, output: Path, key: tuple[str, int] | None) -> LastBuild | None:
    """The last build, when this one would make exactly what it made and the output still holds it."""
    if key is None:
        return None
    try:
        with open(cache_folder / FILE_NAME, "rb") as handle:
            last = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError, IndexError):
        return None
    if not isinstance(last, LastBuild) or last.key != key[0]:
        return None
    if key[1] >= last.started_ns - _RACY_NS:
        return None  # a file written in the same clock tick as the last build read it
    if output_digest(output) != last.output_digest:
        return None
    return last


def remember(cache_folder: Path, output: Path, key: tuple[str, int] | None, started_ns: int,
             items: int, stories: int, pages: int, problems: tuple[ContentError, ...]) -> None:
    """Keep what a complete build read and made, for the next one to compare with."""
    path = cache_folder / FILE_NAME
    digest = output_digest(output)
    if key is None or digest is None:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            pickle.dump(LastBuild(key[0], started_ns, digest, items, stories, pages, problems), handle,
                        protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)


def now_ns() -> int:
    return time.time_ns()
