"""The user's cache folder (~/.cache/site-builder/): what builds derive from installed code alone.

Like Python's __pycache__, it is shared by every project and outlives each build's
own cache (.site-builder-cache/, which `build --clean` and a fresh checkout start
without).  Each entry is a folder named after everything it was derived from, so
an entry of another version is never read in its place; of each kind, only the
few newest are kept.  A folder that cannot be made or read only costs time.

    langid-...      py3langid's model, unpacked (see load/language.py)
    templates-...   compiled Jinja templates and what they read (see render.py)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: Folders kept of each kind (the one just made included): a few installations side by side
#: (a project's virtual environment, a CI checkout) each keep theirs, and the rest go.
KEEP = 3


def root() -> Path | None:
    try:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    except RuntimeError:  # no home folder to be found
        return None
    return Path(base) / "site-builder"


def prune(kept: Path, prefix: str) -> None:
    """Remove the folders of `kept`'s parent named `prefix`... but the KEEP newest (`kept` among them).
    Called when `kept` was just made: an upgrade or a new virtual environment each make one."""
    try:
        others = [entry for entry in os.scandir(kept.parent)
                  if entry.name.startswith(prefix) and entry.name != kept.name and entry.is_dir(follow_symlinks=False)]
        others.sort(key=lambda entry: entry.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
    except OSError:
        return
    for entry in others[KEEP - 1 :]:
        shutil.rmtree(entry.path, ignore_errors=True)
