#!/usr/bin/env python3
"""Speed benchmark: site-builder on generated corpora, side by side with Hugo and Pelican.

    python3 tasks.py bench                                  # the default run (see --help)
    .venv/bin/python bench/bench.py --sizes 1000,10000 --peers 2000 --runs 3

For every size it measures site-builder's cold build (no cache, no output),
no-change rebuild, one-item-edit rebuild, peak memory (RSS of the build
process), pages per second and per-stage times, all without the search
index, then the search index on its own.  On the peer sizes it builds the
same corpus with Hugo and Pelican (installed into bench/.venv-peers, never
into the project) and reports the ratios.  Medians of --runs runs, with min
and max.  The latest results, with the machine they ran on, go to
bench/results.md and bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import venv
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (bench/corpus.py: generate(n, out, seed) -> gold path)
import peers  # noqa: E402

#: Edits timed on the preview server (median, min and max are reported).
SERVE_EDITS = 9

#: Outputs of earlier runs are moved here, not deleted, until the benchmark ends (see set_aside()).
TRASH = OUT / ".trash"
#: Where site-builder is installed from its wheel for the benchmark (see install_site_builder()).
SITE_VENV = HERE / ".venv-site"
#: Its python, once installed.
SITE_PYTHON = Path(sys.executable)

#: Seconds ext4 keeps a deleted inode from being reused when the file system has no journal
#: (RECENTCY_MIN in fs/ext4/ialloc.c; five minutes while its inode table block is still dirty).
RECENTLY_DELETED_S = 61


def install_site_builder() -> Path:
    """site-builder as `pip install` makes it, in bench/.venv-site: the wheel of this tree, its hot
    modules compiled by Cython (see setup.py), every module compiled to bytecode.  Returns its python.

    The project's own .venv is an editable install: plain Python (an edit takes effect at once), and
    no bytecode where PYTHONDONTWRITEBYTECODE is set (as on the machine of bench/results.md), so that
    every build would compile the generator's sources again.  Pelican, installed by pip, comes
    compiled; Hugo is a binary.  The wheel is built with the test environment's Cython and
    setuptools (pyproject.toml's test extra), and installed with its dependencies the first time.
    """
    wheels = OUT / "wheel"
    shutil.rmtree(wheels, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels),
                    str(ROOT)], check=True)
    wheel = str(next(wheels.glob("site_builder-*.whl")))
    python = SITE_VENV / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if not python.exists():
        venv.create(SITE_VENV, with_pip=True)
        subprocess.run(pip + [wheel], check=True)
    else:
        subprocess.run(pip + ["--force-reinstall", "--no-deps", wheel], check=True)
    return python


def set_aside(path: Path) -> None:
    """Move an earlier run's output out of the way, to be deleted when the benchmark ends.

    Deleting it right before a timed build would time the file system, not the tool: on ext4
    without a journal (this machine's disk), every inode allocation within a minute of a large
    delete walks past each recently deleted inode of its block group (`recently_deleted()` was
    85 % of the kernel samples of a build after a delete, in `perf`), and the same 6,500 folders
    and files took from 0.6 to 3.4 s to write depending on what had been deleted just before.
    A cold build on a fresh clone meets none of that, so no tool is timed after a delete.
    """
    if path.exists() or path.is_symlink():
        TRASH.mkdir(parents=True, exist_ok=True)
        path.rename(TRASH / f"{time.time_ns()}-{path.name}")


def empty_trash(wait: bool) -> None:
    """Delete what set_aside() kept; with `wait`, until the file system reuses those inodes again."""
    if TRASH.exists():
        print("deleting the outputs of earlier runs ...", file=sys.stderr, flush=True)
        shutil.rmtree(TRASH, ignore_errors=True)
        os.sync()
        if wait:
            time.sleep(RECENTLY_DELETED_S)


def run_wait4(command: list[str]) -> tuple[float, float, str, str, int, float]:
    """Run a command, return (seconds, peak RSS MiB, stdout, stderr, exit code, CPU seconds: user + system)
    using wait4 for this child (its own processes included, once it has waited for them)."""
    out_path, err_path = OUT / ".stdout", OUT / ".stderr"
    # Whatever the last run left to write back to disk is flushed first, so no run pays for another's.
    os.sync()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss / 1024, out_path.read_text(), err_path.read_text(), process.returncode, cpu


def site_builder(corpus_dir: Path, project: Path, output: Path, search: bool = False) -> dict:
    # -P: the working folder is not searched first, where ROOT would put this tree's plain modules before the installed ones.
    command = [str(SITE_PYTHON), "-P", "-m", "site_builder", "build", "--project", str(project), "--content", str(corpus_dir),
               "--output", str(output), "--verbose"]
    if not search:
        command.append("--no-search")
    seconds, rss, out, err, code, cpu = run_wait4(command)
    if code != 0:
        raise SystemExit(f"site-builder failed ({code}):\n{err[-2000:]}")
    pages = re.search(r"(\d[\d ]*) pages", out)
    stages = {name: float(ms) / 1000 for name, ms in re.findall(r"^\s+(\w+)\s+([\d.]+) ms$", err, re.M)}
    return {"seconds": seconds, "cpu_s": cpu, "rss_mib": rss, "pages": int(pages.group(1).replace(" ", "")) if pages else 0,
            "stages": stages}


def edit_one_item(corpus_dir: Path) -> tuple[Path, str]:
    items = sorted(corpus_dir.rglob("*.md"))
    path = items[len(items) // 2]
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("excerpt: ", "excerpt: Updated. ", 1), encoding="utf-8")
    return path, original


def stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def bench_size(n: int, runs: int, with_search: bool, with_serve: bool = False, with_peers: bool = False) -> dict:
    """site-builder on n items; with_peers: Hugo and Pelican too, each of their cold builds right after
    one of ours, so that all three meet the disk (and the machine) in the same state."""
    corpus_dir = ensure_corpus(n)
    peer_runs = PeerRuns(corpus_dir, OUT / f"peers-{n}") if with_peers else None
    project = OUT / f"project-{n}"
    project.mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text('[tool.site_builder]\ntitle = "Benchmark digest"\nbase_url = "https://example.org/"\n')
    output = project / "public"
    cold, nochange, edit = [], [], []
    for _ in range(runs):
        # No output, no cache, no kept previous site: a cold build, as from a fresh clone.
        for path in (output, project / ".site-builder-cache", project / ".public.old-previous"):
            set_aside(path)
        cold.append(site_builder(corpus_dir, project, output))
        if peer_runs:
            peer_runs.run_each()
        nochange.append(site_builder(corpus_dir, project, output))
        path, original = edit_one_item(corpus_dir)
        try:
            edit.append(site_builder(corpus_dir, project, output))
        finally:
            path.write_text(original, encoding="utf-8")
            site_builder(corpus_dir, project, output)  # back to the unedited site for the next run
            # A file written within the file system's clock resolution of a build is never trusted by
            # its size and mtime (incremental.py): the next run's builds start with the content quiet.
            time.sleep(max(0.0, 2.1 - (time.time() - path.stat().st_mtime)))
    result = {
        "items": n,
        "pages": cold[0]["pages"],
        "cold_s": stats([r["seconds"] for r in cold]),
        "cold_cpu_s": stats([r["cpu_s"] for r in cold]),
        "nochange_s": stats([r["seconds"] for r in nochange]),
        "edit_s": stats([r["seconds"] for r in edit]),
        "peak_rss_mib": max(r["rss_mib"] for r in cold),
        "stages_s": {k: statistics.median(r["stages"].get(k, 0.0) for r in cold) for k in cold[0]["stages"]},
    }
    result["items_per_s"] = n / result["cold_s"]["median"]
    result["pages_per_s"] = result["pages"] / result["cold_s"]["median"]
    if with_search:
        set_aside(output)
        with_index = site_builder(corpus_dir, project, output, search=True)
        result["search_index_s"] = with_index["stages"].get("search", with_index["seconds"] - result["cold_s"]["median"])
    if peer_runs:
        result["peers"] = peer_runs.results()
    if with_serve:
        # The preview server: a one-item edit, from the file's write to the browser's reload event.
        print(f"  preview server, {SERVE_EDITS} edits ...", file=sys.stderr, flush=True)
        result["serve_edit_ms"] = stats([1000 * s for s in serve_edits(project, corpus_dir)])
    return result


def serve_edits(project: Path, corpus_dir: Path) -> list[float]:
    """incremental_bench.edit_to_reload(), run by the installed copy (its preview server runs in-process)."""
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); from pathlib import Path; import incremental_bench; "
            f"print(json.dumps(incremental_bench.edit_to_reload(Path({str(project)!r}), {SERVE_EDITS}, Path({str(corpus_dir)!r}))))")
    done = subprocess.run([str(SITE_PYTHON), "-P", "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


class PeerRuns:
    """Hugo and Pelican on one corpus: their commands, and the seconds of each cold build."""

    def __init__(self, corpus_dir: Path, work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        self.commands = {"hugo": peers.prepare_hugo(corpus_dir, work), "pelican": peers.prepare_pelican(corpus_dir, work)}
        self.times: dict[str, list[float]] = {name: [] for name in self.commands}
        self.cpu: dict[str, list[float]] = {name: [] for name in self.commands}

    def run_each(self) -> None:
        for name, command in self.commands.items():
            # A cold build for every tool: no output folder, removed outside the timing (as ours is).
            # Hugo's --cleanDestinationDir would otherwise rewrite the last run's files in place.
            set_aside(self.work / f"{name}-public")
            seconds, rss, out, err, code, cpu = run_wait4(command)
            if code != 0:
                raise SystemExit(f"{name} failed ({code}):\n{(out + err)[-2000:]}")
            self.times[name].append(seconds)
            self.cpu[name].append(cpu)

    def results(self) -> dict:
        return {**{name: stats(times) for name, times in self.times.items()},
                **{f"{name}_cpu": stats(times) for name, times in self.cpu.items()}}


def ensure_corpus(n: int, seed: int = 7) -> Path:
    target = OUT / f"corpus-{n}"
    stamp = target / ".generated"
    if not stamp.is_file() or stamp.read_text() != f"{n}:{seed}":
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        print(f"generating {n} items ...", file=sys.stderr, flush=True)
        corpus.generate(n, target, seed)
        stamp.write_text(f"{n}:{seed}")
    return target


def machine() -> dict:
    cpu = ""
    if Path("/proc/cpuinfo").is_file():
        found = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1) if found else ""
    memory = ""
    if Path("/proc/meminfo").is_file():
        found = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
        memory = f"{int(found.group(1)) / 1048576:.0f} GiB" if found else ""
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory, "os": platform.platform(),
            "python": platform.python_version(), "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def report(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; {m['os']}; Python {m['python']}; {m['date']}.",
        f"Peers: Hugo {results.get('peer_versions', {}).get('hugo', '-')}, Pelican {results.get('peer_versions', {}).get('pelican', '-')}.",
        f"Median of {results['runs']} runs (min–max). Builds without the search index unless said; "
        "each peer's cold build runs right after one of ours, every tool starting without an output folder "
        "(earlier outputs are moved aside, and deleted only when the benchmark ends: see set_aside() in bench/bench.py); "
        "site-builder runs as pip installs it: from its wheel, in bench/.venv-site, its hot modules compiled by Cython "
        "(see setup.py) and the rest to bytecode (see install_site_builder()).", "",
        "| items | pages | cold build s | no-change s | one-edit s | items/s | pages/s | peak RSS MiB | search index s |",
        "| ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    fmt = lambda s: f"{s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f})"
    for r in results["sizes"]:
        search = f"{r['search_index_s']:.2f}" if "search_index_s" in r else "-"
        lines.append(f"| {r['items']:,} | {r['pages']:,} | {fmt(r['cold_s'])} | {fmt(r['nochange_s'])} | {fmt(r['edit_s'])} "
                     f"| {r['items_per_s']:,.0f} | {r['pages_per_s']:,.0f} | {r['peak_rss_mib']:.0f} | {search} |")
    lines += ["", "Per-stage times of the cold build (s):", "",
              "| items | " + " | ".join(results["sizes"][0]["stages_s"]) + " |",
              "| ---: | " + " | ".join("---:" for _ in results["sizes"][0]["stages_s"]) + " |"]
    for r in results["sizes"]:
        lines.append(f"| {r['items']:,} | " + " | ".join(f"{r['stages_s'].get(k, 0):.2f}" for k in results["sizes"][0]["stages_s"]) + " |")
    if results.get("peers"):
        lines += ["", "Side by side, same corpus, same run (cold builds, s):", "",
                  "| items | site-builder | Hugo | Pelican | site-builder / Hugo | Pelican / site-builder |",
                  "| ---: | --- | --- | --- | ---: | ---: |"]
        by_size = {r["items"]: r for r in results["sizes"]}
        for n, p in results["peers"].items():
            ours = by_size[int(n)]["cold_s"]
            lines.append(f"| {int(n):,} | {fmt(ours)} | {fmt(p['hugo'])} | {fmt(p['pelican'])} "
                         f"| {ours['median'] / p['hugo']['median']:.2f} | {p['pelican']['median'] / ours['median']:.1f} |")
        if all("hugo_cpu" in p for p in results["peers"].values()):
            lines += ["", "CPU seconds of the same builds (user + system, all of a tool's processes; 2 cores):", "",
                      "| items | site-builder | Hugo | Pelican |", "| ---: | --- | --- | --- |"]
            for n, p in results["peers"].items():
                lines.append(f"| {int(n):,} | {fmt(by_size[int(n)]['cold_cpu_s'])} | {fmt(p['hugo_cpu'])} | {fmt(p['pelican_cpu'])} |")
    served = [r for r in results["sizes"] if "serve_edit_ms" in r]
    if served:
        lines += ["", f"Preview server (`site-builder serve`), one-item edit from the file's write to the page's reload event, "
                      f"{SERVE_EDITS} edits, ms:", "", "| items | median (min–max) |", "| ---: | --- |"]
        for r in served:
            e = r["serve_edit_ms"]
            lines.append(f"| {r['items']:,} | {e['median']:.0f} ({e['min']:.0f}–{e['max']:.0f}) |")
    sizes = {r["items"]: r for r in results["sizes"]}
    if 10_000 in sizes and 100_000 in sizes:
        lines += ["", f"100k/10k cold-build time ratio: {sizes[100_000]['cold_s']['median'] / sizes[10_000]['cold_s']['median']:.1f}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,2000,10000,100000", help="corpus sizes for site-builder")
    parser.add_argument("--peers", default="2000,10000", help="sizes also built with Hugo and Pelican ('' for none)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--search-up-to", type=int, default=10_000, help="measure the search index for sizes up to this")
    parser.add_argument("--serve-up-to", type=int, default=10_000, help="time edits on the preview server for sizes up to this")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update bench/results.*")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    peer_sizes = [int(s) for s in args.peers.split(",") if s]
    sizes = sorted({int(s) for s in args.sizes.split(",") if s} | set(peer_sizes))
    results: dict = {"machine": machine(), "runs": args.runs, "sizes": [], "peers": {}}
    empty_trash(wait=True)  # left by an interrupted run
    global SITE_PYTHON
    print("installing site-builder from its wheel into bench/.venv-site ...", file=sys.stderr, flush=True)
    SITE_PYTHON = install_site_builder()
    if peer_sizes:
        results["peer_versions"] = peers.ensure_peers()
    for n in sizes:
        print(f"site-builder, {n} items{' (with Hugo and Pelican)' if n in peer_sizes else ''} ...", file=sys.stderr, flush=True)
        result = bench_size(n, args.runs, n <= args.search_up_to, n <= args.serve_up_to, n in peer_sizes)
        if "peers" in result:
            results["peers"][str(n)] = result.pop("peers")
        results["sizes"].append(result)
    empty_trash(wait=False)
    text = report(results)
    print(text)
    if not args.no_write:
        (HERE / "results.md").write_text(text)
        (HERE / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
