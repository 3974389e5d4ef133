"""Atomic output: the site is written into a temporary folder and swapped into place whole.

A failed or killed build leaves the previous site as it was.  On Linux the
swap is one `renameat2(RENAME_EXCHANGE)` call; elsewhere it is two renames,
and a build that finds the output folder missing but the previous one parked
beside it puts it back before starting.

Incremental writes (when the build passes a `trees` folder from its cache):
the site before the live one is kept beside it (`.public.old-previous`) and
brought up to date instead of writing a new folder from nothing.  A record
per folder (by device and inode, so it survives the swaps) says which file
holds which bytes: a file with the bytes it needs is left alone, a file the
live site has with those bytes is hard-linked from it (so an unchanged page
keeps its inode and mtime), and only new bytes are written, always into a new
inode because the two folders share them.  A folder without a valid record
is never trusted; its record is dropped before it is touched, so a killed
build leaves no wrong record behind, and the swap stays one atomic rename.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import os
import pickle
import shutil
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO

from .errors import BuildError

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputWriter:
    """`with OutputWriter(public) as out: out.write(...); out.commit()`"""

    def __init__(self, output: Path, trees: Path | None = None) -> None:
        self.output = output.resolve()
        parent = self.output.parent
        self.staging = parent / f".{self.output.name}.tmp-{os.getpid()}"
        self.parked = parent / f".{self.output.name}.old-{os.getpid()}"
        self.previous = previous_path(self.output)
        self.committed = False
        self._lock_file = None
        self.written = 0
        self.records = TreeRecords(trees) if trees else None
        #: relative path -> content id (sha256 and length), for every file of this build
        self.files: dict[str, str] = {}
        #: what the live site and the staging folder hold (empty when unknown)
        self.live: dict[str, str] = {}
        self.staged: dict[str, str] = {}
        #: stats taken where files were made (see stats()), by relative path (a folder's ends in "/")
        self.stats_seen: dict[str, tuple[int, ...]] = {}
        self._folders: set[str] = set()
        self._staging = str(self.staging)
        self._output = str(self.output)

    def __enter__(self) -> "OutputWriter":
        self._lock_file = take_lock(self.output)
        recover(self.output)
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.records is not None:
            self._reuse_previous()
        else:
            shutil.rmtree(self.previous, ignore_errors=True)
        if not self.staging.exists():
            self.staging.mkdir()
        return self

    def _reuse_previous(self) -> None:
        """Start from the site before the live one when its record says what it holds."""
        assert self.records is not None
        live = self.records.read(self.output)
        previous = self.records.read(self.previous)
        self.records.forget_all_but(self.output, self.previous)
        self.live = live["files"] if live else {}
        if previous is None:
            shutil.rmtree(self.previous, ignore_errors=True)
            return
        self.records.forget(self.previous)  # from here on it is being changed
        os.rename(self.previous, self.staging)
        for name in previous["foreign"]:  # written by someone else last time: they write it again
            stale = self.staging / name
            shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink(missing_ok=True)
        self.staged = previous["files"]

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if not self.committed:
                self._keep_unfinished()
        finally:
            if self._lock_file is not None:
                release_lock(self._lock_file)

    def path_for(self, relative: str) -> Path:
        """The staging path of an output file; refuses anything that would land outside it."""
        return inside(self.staging, relative)

    def write(self, relative: str, data: str | bytes) -> str:
        """Put `data` at `relative`; returns its content id.  Bytes already there are not written again."""
        sha = self.place(relative, data)
        self.note(relative, sha)
        return sha

    def place(self, relative: str, data: str | bytes) -> str:
        """The file-system half of write(): safe in a forked worker, whose bookkeeping is thrown away;
        the parent then calls note() with the returned content id (see content_id())."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        sha = content_id(data)
        if self.keep(relative, sha):
            return sha
        path = self._target(relative)
        if self.staged.pop(relative, None) is not None:
            _unlink(path)  # maybe shared with the live site: never write into it
        # os.open and os.write: a buffered file object costs three more system calls per page.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
        finally:
            os.close(handle)
        self.written += 1
        return sha

    def note(self, relative: str, sha: str, stats: tuple[tuple[int, ...], tuple[int, ...]] | None = None) -> None:
        """Record that `relative` now holds the bytes `sha` (see place()), and its stats() when taken."""
        self.files[relative] = self.staged[relative] = sha
        if stats is not None:
            self.stats_seen[relative], self.stats_seen[relative.rpartition("/")[0] + "/"] = stats

    def stats(self, relative: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The staged file's (size, mtime_ns, inode) and its folder's (mtime_ns, inode), taken by whoever
        made the file (a render worker), so that the build's record of its output (see
        unchanged.output_digest) need not stat every page again at the end, while one core waits."""
        path = _joined(self._staging, relative) or str(self.path_for(relative))
        try:
            file, folder = os.stat(path), os.stat(os.path.dirname(path))
        except OSError:
            return None
        return (file.st_size, file.st_mtime_ns, file.st_ino), (folder.st_mtime_ns, folder.st_ino)

    def keep(self, relative: str, sha: str | None) -> bool:
        """Make `relative` the file with bytes `sha` without having them: True when the staging or live site has it."""
        if sha is None:
            return False
        if self.staged.get(relative) == sha:
            self.files[relative] = sha
            return True
        if self.live.get(relative) != sha:
            return False
        live = _joined(self._output, relative) or str(inside(self.output, relative))
        try:
            if os.stat(live).st_size != id_size(sha):
                return False  # changed since it was written (by hand, by another tool): the caller writes it
        except OSError:
            return False  # gone: the caller writes it
        path = self._target(relative)
        try:
            if self.staged.pop(relative, None) is not None:
                _unlink(path)
            os.link(live, path)
        except OSError:
            return False  # the live file is gone or links are not possible: the caller writes it
        self.files[relative] = self.staged[relative] = sha
        return True

    def _target(self, relative: str) -> str:
        """path_for() as a string, with its folder made: what place() and keep() write to."""
        path = _joined(self._staging, relative) or str(self.path_for(relative))
        folder = os.path.dirname(path)
        if folder not in self._folders:
            try:
                os.mkdir(folder)  # most folders are one page's, and their parent is there already
            except FileExistsError:
                if not os.path.isdir(folder):
                    raise
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        return path

    def copy_tree(self, source: Path, prefix: str = "") -> int:
        """Copy a folder's files (hidden ones skipped) under `prefix`; later copies win."""
        count = 0
        if not source.is_dir():
            return 0
        for folder, dirs, files in os.walk(source):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith(".") or name.endswith("~"):
                    continue
                relative = (Path(folder) / name).relative_to(source).as_posix()
                if not (Path(folder) / name).resolve().is_relative_to(source.resolve()):
                    # static/key -> ~/.ssh/id_rsa would publish the key: never follow a link out of the folder.
                    raise BuildError(f"{source / relative} is a symbolic link to a place outside {source}; refused")
                self.write(f"{prefix}{relative}", (Path(folder) / name).read_bytes())
                count += 1
        return count

    def pages_unchanged(self, suffix: str = ".html") -> bool:
        """Whether this build's pages are exactly the live site's: same paths, same bytes."""
        if not self.live:
            return False
        ours = {name: sha for name, sha in self.files.items() if name.endswith(suffix)}
        return ours == {name: sha for name, sha in self.live.items() if name.endswith(suffix)}

    def link_from_live(self, folder: str) -> bool:
        """Hard-link a folder another tool wrote into the live site (the search bundle) into staging."""
        source = self.output / folder
        if not source.is_dir() or source.is_symlink():
            return False
        target = self.path_for(folder)
        shutil.rmtree(target, ignore_errors=True)
        try:
            shutil.copytree(source, target, copy_function=os.link, symlinks=True)
        except OSError:
            shutil.rmtree(target, ignore_errors=True)
            return False
        return True

    def prune(self) -> None:
        """Remove what the reused folder holds but this build did not make (deleted or renamed items).

        Call it before anything reads the whole staged site (the search indexer), or it would
        index pages that are about to disappear; commit() calls it again for late writes."""
        self._remove_leftovers()

    def commit(self) -> None:
        """Swap the staged site into place."""
        self._remove_leftovers()
        foreign = self._foreign_names()
        if self.output.exists():
            if not _exchange(self.staging, self.output):
                os.rename(self.output, self.parked)
                os.rename(self.staging, self.output)
                self._set_aside(self.parked)
            else:
                self._set_aside(self.staging)  # now holds the previous site
        else:
            os.rename(self.staging, self.output)
        self.committed = True
        if self.records is not None:
            self.records.write(self.output, {"files": self.files, "foreign": foreign})

    def _keep_unfinished(self) -> None:
        """A failed build: keep what it staged as the previous site (with a true record) for the next build."""
        if self.records is None or not self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        try:
            self.files = dict(self.staged)
            foreign = self._foreign_names()
            shutil.rmtree(self.previous, ignore_errors=True)
            os.rename(self.staging, self.previous)
            self.records.write(self.previous, {"files": self.staged, "foreign": foreign})
        except OSError:
            shutil.rmtree(self.staging, ignore_errors=True)
            shutil.rmtree(self.previous, ignore_errors=True)

    def _set_aside(self, old_site: Path) -> None:
        if self.records is None:
            shutil.rmtree(old_site, ignore_errors=True)
        else:
            shutil.rmtree(self.previous, ignore_errors=True)
            os.rename(old_site, self.previous)  # its record (if any) follows it: records go by inode

    def _remove_leftovers(self) -> None:
        """Files of the reused folder that this build did not make (deleted or renamed items)."""
        for relative in self.staged.keys() - self.files.keys():
            remove(self.staging, relative)

    def _foreign_names(self) -> list[str]:
        """Top-level names written into the staging folder by someone else (a search indexer)."""
        ours = {relative.split("/", 1)[0] for relative in self.files}
        return sorted(entry.name for entry in os.scandir(self.staging) if entry.name not in ours)


def take_lock(output: Path) -> IO[str]:
    """The output folder's lock (`.<name>.lock` beside it), held by whoever writes into the folder."""
    output.parent.mkdir(parents=True, exist_ok=True)
    lock = open(output.parent / f".{output.name}.lock", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise BuildError(f"another build is writing to {output} right now; try again when it has finished") from None
    return lock


def release_lock(lock: IO[str]) -> None:
    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()


def inside(root: Path, relative: str) -> Path:
    """A site path (POSIX, from the site's root) under `root`; refuses anything that would land outside it."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or "\\" in relative or "\x00" in relative or not pure.parts:
        raise BuildError(f"refusing to write outside the output folder: {relative!r}")
    return root.joinpath(*pure.parts)


def _joined(root: str, relative: str) -> str | None:
    """root/relative for a plain relative path (what the build makes), else None: inside() decides."""
    if "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    for part in relative.split("/"):
        if not part or part == "." or part == "..":
            return None
    return f"{root}/{relative}"


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def remove(root: Path, relative: str) -> None:
    """Delete a file of the site under `root`, and the folders that it leaves empty."""
    path = inside(root, relative)
    path.unlink(missing_ok=True)
    folder = path.parent
    while folder != root:
        try:
            folder.rmdir()  # only when empty
        except OSError:
            break
        folder = folder.parent


def content_id(data: bytes) -> str:
    """What a file's bytes are known by in the records: their sha256 and their length.

    The length lets a build check, with one stat, that a live file it is about to link
    into the new site still is what the record says (not edited by hand since)."""
    return f"{hashlib.sha256(data).hexdigest()}:{len(data)}"


def id_size(identifier: str) -> int:
    """The length a content id says its bytes have (-1 when it says none)."""
    length = identifier.rpartition(":")[2]
    return int(length) if length.isdigit() else -1


def previous_path(output: Path) -> Path:
    return output.parent / f".{output.name}.old-previous"


class TreeRecords:
    """What each output folder holds, one file per folder named by its device and inode."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, tree: Path) -> Path | None:
        try:
            stat = os.stat(tree)
        except OSError:
            return None
        return self.folder / f"{stat.st_dev}-{stat.st_ino}.pickle"

    def read(self, tree: Path) -> dict | None:
        path = self._path(tree)
        if path is None:
            return None
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
            return None

    def write(self, tree: Path, record: dict) -> None:
        path = self._path(tree)
        if path is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".tmp-{os.getpid()}")
        with open(temporary, "wb") as handle:
            pickle.dump(record, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)

    def forget(self, tree: Path) -> None:
        path = self._path(tree)
        if path is not None:
            path.unlink(missing_ok=True)

    def forget_all_but(self, *trees: Path) -> None:
        """Drop records of folders that are gone, so a recycled inode never finds an old record."""
        keep = {p.name for p in map(self._path, trees) if p is not None}
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if path.name not in keep:
                    path.unlink(missing_ok=True)


def recover(output: Path) -> None:
    """Put a parked previous site back if a build died between the two renames of a swap."""
    parent = output.parent
    parked = sorted(p for p in parent.glob(f".{output.name}.old-*") if p != previous_path(output))
    if not output.exists() and parked:
        os.rename(parked[-1], output)
        parked = parked[:-1]
    for stale in [*parked, *parent.glob(f".{output.name}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths; False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))
