"""Incremental build benchmark: cold build, no-change build, and one-item edit -> browser notified.

    python bench/incremental_bench.py --items 10000 [--edits 7] [--keep /tmp/inc-bench]

Content comes from bench/corpus.py (`generate`).  The search index is left
out (`--no-search`): Pagefind re-indexes the whole site on every build and
would dominate every number here.  "Edit -> notified" is measured like a
browser sees it: a plain HTTP client reads the server's event stream, the
clock starts just before the file is written and stops when `reload` arrives
(so it includes the watcher's debounce).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
if importlib.util.find_spec("site_builder") is None:  # else as installed: the project's .venv, or bench/.venv-site (bench.py)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import generate  # noqa: E402

from site_builder.build import BuildOptions, build  # noqa: E402
from site_builder.config import load_config  # noqa: E402
from site_builder.serve import serve  # noqa: E402
from site_builder.serve.livereload import EVENTS_PATH  # noqa: E402


def timed_build(project: Path, clean: bool = False) -> tuple[float, str]:
    options = BuildOptions(project / "content", project / "public", project, search=False, clean=clean)
    started = time.perf_counter()
    report = build(load_config(project), options)
    return time.perf_counter() - started, report.summary()


def listen(url: str, events: queue.Queue) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    connection.request("GET", EVENTS_PATH)
    name = ""
    for raw in connection.getresponse():
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name:
            events.put((time.perf_counter(), name, json.loads(line[6:])))
            name = ""


def edit_to_reload(project: Path, edits: int, content: Path | None = None) -> list[float]:
    """Serve the project, edit `edits` items one after another, return the seconds from each write to its reload.

    The edited files get their text back at the end."""
    content = content or project / "content"
    stop = threading.Event()
    started: queue.Queue[str] = queue.Queue()
    log: list[str] = []
    thread = threading.Thread(target=serve, daemon=True, kwargs=dict(
        project=project, content=content, output=project / "public", port=0, search=False,
        stop=stop, log=log.append, ready=started.put))
    thread.start()
    url = started.get(timeout=600)
    events: queue.Queue = queue.Queue()
    threading.Thread(target=listen, args=(url, events), daemon=True).start()
    events.get(timeout=60)  # hello
    files = sorted(p for p in content.rglob("*") if p.is_file() and not p.name.startswith("."))  # not .generated
    times = []
    originals: dict[Path, str] = {}
    for n in range(edits):
        path = files[(n * 7919) % len(files)]
        text = path.read_text(encoding="utf-8")
        originals.setdefault(path, text)
        changed = text.replace("\n---", f"\nheat: {n % 100}\n---", 1) if "\nheat:" not in text else \
            text.replace("\nheat:", f"\nheat: {n % 100}\nold_heat:", 1)
        time.sleep(0.5)
        while not events.empty():
            events.get()
        begin = time.perf_counter()
        path.write_text(changed + f"\nEdit {n}.\n", encoding="utf-8")
        while True:
            try:
                at, name, _ = events.get(timeout=120)
            except queue.Empty:
                raise SystemExit("no reload within 120 s; server log:\n" + "\n".join(log)) from None
            if name in ("reload", "failed"):
                break
        times.append(at - begin)
        print(f"  edit {n + 1}: {path.name} -> {name} in {(at - begin) * 1000:.0f} ms; {log[-1] if log else ''}", flush=True)
    stop.set()
    thread.join(timeout=60)
    for path, text in originals.items():
        path.write_text(text, encoding="utf-8")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="project folder to use and keep (default: a temporary one)")
    args = parser.parse_args()
    project = args.keep or Path(tempfile.mkdtemp(prefix="inc-bench-"))
    if not (project / "content").is_dir():
        print(f"generating {args.items} items in {project}/content ...", flush=True)
        generate(args.items, project / "content")
    (project / "pyproject.toml").write_text('[tool.site_builder]\ntitle = "Bench"\n')
    try:
        cold, summary = timed_build(project, clean=True)
        print(f"cold build (--clean):      {cold:7.2f} s   {summary}", flush=True)
        timed_build(project)  # the first incremental build links every file once into the second folder
        again = [timed_build(project)[0] for _ in range(3)]
        no_change = statistics.median(again)
        print(f"no-change build (median):  {no_change:7.2f} s   ({no_change / cold:.0%} of cold)", flush=True)
        times = edit_to_reload(project, args.edits)
        print(f"one-item edit -> reload:   {statistics.median(times) * 1000:7.0f} ms median over {len(times)} edits "
              f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    main()
