"""Atomic output: the site is written into a temporary folder and swapped into place whole.

A failed or killed build leaves the previous site as it was.  On Linux the
swap is one `renameat2(RENAME_EXCHANGE)` call; elsewhere it is two renames,
and a build that finds the output folder missing but the previous one parked
beside it puts it back before starting.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
from pathlib import Path, PurePosixPath
from types import TracebackType

from .errors import BuildError

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputWriter:
    """`with OutputWriter(public) as out: out.write(...); out.commit()`"""

    def __init__(self, output: Path) -> None:
        self.output = output.resolve()
        parent = self.output.parent
        self.lock_path = parent / f".{self.output.name}.lock"
        self.staging = parent / f".{self.output.name}.tmp-{os.getpid()}"
        self.parked = parent / f".{self.output.name}.old-{os.getpid()}"
        self.committed = False
        self._lock_file = None
        self.written = 0

    def __enter__(self) -> "OutputWriter":
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.lock_path, "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.close()
            raise BuildError(f"another build is writing to {self.output} right now; try again when it has finished") from None
        recover(self.output)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir()
        return self

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if not self.committed:
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._lock_file.close()

    def path_for(self, relative: str) -> Path:
        """The staging path of an output file; refuses anything that would land outside it."""
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts or "\\" in relative or "\x00" in relative or not pure.parts:
            raise BuildError(f"refusing to write outside the output folder: {relative!r}")
        return self.staging.joinpath(*pure.parts)

    def write(self, relative: str, data: str | bytes) -> None:
        path = self.path_for(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        path.write_bytes(data)
        self.written += 1

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
                target = self.path_for(f"{prefix}{relative}")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(folder) / name, target)
                count += 1
        return count

    def commit(self) -> None:
        """Swap the staged site into place."""
        if self.output.exists():
            if not _exchange(self.staging, self.output):
                os.rename(self.output, self.parked)
                os.rename(self.staging, self.output)
                shutil.rmtree(self.parked, ignore_errors=True)
            else:
                shutil.rmtree(self.staging, ignore_errors=True)  # now holds the previous site
        else:
            os.rename(self.staging, self.output)
        self.committed = True


def recover(output: Path) -> None:
    """Put a parked previous site back if a build died between the two renames of a swap."""
    parent = output.parent
    parked = sorted(parent.glob(f".{output.name}.old-*"))
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
