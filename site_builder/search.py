"""The Pagefind search index of the written site: one index per language, built in one call.

The index is made from the staging folder before it is swapped in, so a site
and its index always arrive together.  Pagefind's own binary (from
`pagefind[bin]`, found offline: $PAGEFIND_BINARY_PATH, then the pagefind_bin
wheel, then PATH) walks the folder once; the Python service API would instead
poll for every answer, 0.1 s each.  What gets indexed is decided in the
templates: `data-pagefind-body` on a story's text and its "more coverage"
(so list pages stay out), filters and the date sort from `<meta>` tags in
`_head.html`, the language from `<html lang>`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError

BUNDLE = "pagefind"
_COUNT = re.compile(r"Indexed (\d[\d,]*) (language|page|word|filter|sort)s?\b")


@dataclass(frozen=True, slots=True)
class SearchIndex:
    pages: int
    languages: int
    words: int
    seconds: float


def pagefind_executable() -> Path:
    from pagefind.service import get_executable

    try:
        found = get_executable()
    except FileNotFoundError:
        found = None
    if found is None or not Path(found).is_file():
        raise BuildError("the Pagefind binary is missing: reinstall site-builder (it needs pagefind[bin]), "
                         "set PAGEFIND_BINARY_PATH, or build with --no-search")
    return Path(found)


def index_site(folder: Path) -> SearchIndex:
    """Write folder/pagefind/: the search bundle for every HTML page under `folder`."""
    started = time.perf_counter()
    # Pagefind adds to an existing bundle folder; an incremental build's staging folder may hold the
    # previous site's, whose fragments for removed or changed pages would linger.
    shutil.rmtree(folder / BUNDLE, ignore_errors=True)
    command = [str(pagefind_executable()), "--site", str(folder), "--output-subdir", BUNDLE]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=folder)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"search index: could not run Pagefind: {exc}") from None
    if run.returncode != 0 or not (folder / BUNDLE / "pagefind.js").is_file():
        detail = (run.stderr or run.stdout).strip().splitlines()[-5:]
        raise BuildError("search index: Pagefind failed: " + " / ".join(detail))
    counts = {kind: int(number.replace(",", "")) for number, kind in _COUNT.findall(run.stdout)}
    return SearchIndex(counts.get("page", 0), counts.get("language", 0), counts.get("word", 0), time.perf_counter() - started)
