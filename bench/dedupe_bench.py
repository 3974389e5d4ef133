"""Deduplication at scale: generate 10k and 100k items, load them, time dedupe, score it.

    python bench/dedupe_bench.py [--sizes 10000 100000] [--work /tmp/dedupe-bench] [--seed 0]

Prints per size: load time (not part of the target), dedupe time cold (no
cache) and warm (features from the cache), peak memory of dedupe (traced
Python allocations, numpy included), pairwise and B-cubed precision/recall/F1
against the planted gold stories, and the time ratio of the largest to the
smallest size (near-linear is ~10 for 10k -> 100k).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402
import dedupe_eval  # noqa: E402
from site_builder.config import SiteConfig  # noqa: E402
from site_builder.dedupe import dedupe  # noqa: E402
from site_builder.load import load_items  # noqa: E402


def bench(size: int, work: Path, seed: int) -> dict[str, float]:
    content = work / f"items-{size}"
    gold_path = work / f"items-{size}.gold.json"
    if not gold_path.is_file():
        shutil.rmtree(content, ignore_errors=True)
        started = time.perf_counter()
        corpus.generate(size, content, seed)
        print(f"  generated {size} items in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    items, _ = load_items(content)
    loaded = time.perf_counter() - started
    config = SiteConfig()
    cache = work / f"cache-{size}"
    shutil.rmtree(cache, ignore_errors=True)

    started = time.perf_counter()
    stories = dedupe(items, config)
    cold = time.perf_counter() - started
    dedupe(items, config, cache_dir=cache)  # fill the cache
    started = time.perf_counter()
    dedupe(items, config, cache_dir=cache)
    warm = time.perf_counter() - started

    tracemalloc.start()
    dedupe(items, config)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    predicted = [{item.source for item in story.items} for story in stories]
    scores = dedupe_eval.score(predicted, dedupe_eval.load_gold(gold_path))
    return {"items": len(items), "stories": len(stories), "load": loaded, "cold": cold, "warm": warm,
            "peak_mb": peak / 2**20, **scores}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dedupe-bench"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        print(f"{size} items", flush=True)
        result = bench(size, args.work, args.seed)
        results.append(result)
        print(
            f"  {result['items']} items -> {result['stories']} stories; load {result['load']:.1f} s (not timed)\n"
            f"  dedupe cold {result['cold']:.2f} s, warm (cache) {result['warm']:.2f} s, peak {result['peak_mb']:.0f} MB traced\n"
            f"  pairwise P {result['pairwise_precision']:.3f} R {result['pairwise_recall']:.3f} F1 {result['pairwise_f1']:.3f}; "
            f"B-cubed P {result['bcubed_precision']:.3f} R {result['bcubed_recall']:.3f} F1 {result['bcubed_f1']:.3f}",
            flush=True,
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(f"ratio {large['items']}/{small['items']} items: cold time x{large['cold'] / small['cold']:.1f}, "
              f"warm x{large['warm'] / small['warm']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
