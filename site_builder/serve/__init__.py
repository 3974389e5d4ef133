"""`site-builder serve`: build, serve the output folder, rebuild on change, reload every open page.

    http.py        the files of the output folder only, plus the reload stream
    livereload.py  the reload/error hub and the script injected into HTML responses
    watcher.py     file events -> ChangeKind batches, debounced
    rebuild.py     one rebuild per batch; a failed one keeps the last good site

While serving, base_url is the server's own address, so every link works locally.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Callable

from .http import PreviewServer
from .livereload import LiveReload
from .rebuild import Rebuilder
from .watcher import ChangeKind, WatchedPaths, Watcher

__all__ = ["serve", "ChangeKind", "PreviewServer", "LiveReload"]


def serve(project: Path, content: Path, output: Path, host: str = "127.0.0.1", port: int = 8000,
          drafts: bool = False, search: bool = True, stop: threading.Event | None = None,
          log: Callable[[str], None] | None = None, ready: Callable[[str], None] | None = None) -> int:
    """Serve until Ctrl-C (or until `stop` is set); `ready` is called with the server's URL once it answers."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    stop = stop or threading.Event()
    hub = LiveReload()
    paths = WatchedPaths(project.resolve(), content.resolve(), output.resolve())
    server = PreviewServer((host, port), paths.output, hub)  # bound first: port 0 is only known now
    rebuilder = Rebuilder(paths, server.url, hub, drafts=drafts, search=search, log=log)
    watcher = Watcher(paths)
    watcher.start()  # before the first build, so an edit made during it is not missed
    thread = threading.Thread(target=server.serve_forever, name="site-builder-http", daemon=True)
    try:
        rebuilder.rebuild()
        thread.start()
        print(f"Serving {paths.output} at {server.url} (Ctrl-C to stop)", flush=True)
        if ready:
            ready(server.url)
        while not stop.is_set():
            batch = watcher.next_batch(timeout=0.1 if rebuilder.settle else 0.25)
            if batch:
                rebuilder.rebuild(batch)
            else:
                rebuilder.idle()
    except KeyboardInterrupt:
        log("Stopping.")
    finally:
        rebuilder.stop_settling()
        hub.close()
        watcher.stop()
        if thread.is_alive():
            server.shutdown()
        server.server_close()
    return 0
