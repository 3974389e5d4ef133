"""Score a clustering of news items against hand-labelled gold stories.

B-cubed precision/recall (per item: how much of its predicted story is right,
how much of its gold story it found) and pairwise precision/recall (over the
pairs of items put in one story).  Gold files are JSON:
`{"stories": [{"items": ["seeds/000.txt", ...]}, ...]}`; a prediction is the
output of `site-builder dedupe --format json` or a list of sets of paths.

    python bench/dedupe_eval.py                       # seeds + everyday-ai vs tests/gold/dedupe_gold.json
    python bench/dedupe_eval.py --content seeds=../shared/seeds --gold g.json
    python bench/dedupe_eval.py --predicted out.json --gold g.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from itertools import combinations
from pathlib import Path
from typing import Iterable, Mapping, Sequence

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEFAULT_GOLD = ROOT / "tests" / "gold" / "dedupe_gold.json"
DEFAULT_CONTENT = {"seeds": SHARED / "seeds", "everyday-ai": SHARED / "corpus" / "everyday-ai"}


def load_gold(path: Path) -> list[set[str]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [set(story["items"]) for story in data["stories"]]


def load_predicted(path: Path) -> list[set[str]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [set(story["items"]) for story in data["stories"]]


def score(predicted: Iterable[Iterable[str]], gold: Iterable[Iterable[str]]) -> dict[str, float]:
    """B-cubed and pairwise precision, recall and F1 over the items both clusterings contain."""
    pred_of = _membership(predicted)
    gold_of = _membership(gold)
    common = sorted(set(pred_of) & set(gold_of))
    if not common:
        raise ValueError("the prediction and the gold share no item")
    pred_clusters = _clusters(pred_of, common)
    gold_clusters = _clusters(gold_of, common)
    precision = recall = 0.0
    for item in common:
        p, g = pred_clusters[pred_of[item]], gold_clusters[gold_of[item]]
        overlap = len(p & g)
        precision += overlap / len(p)
        recall += overlap / len(g)
    b_p, b_r = precision / len(common), recall / len(common)
    pred_pairs = _pairs(pred_clusters.values())
    gold_pairs = _pairs(gold_clusters.values())
    both = len(pred_pairs & gold_pairs)
    p_p = both / len(pred_pairs) if pred_pairs else 1.0
    p_r = both / len(gold_pairs) if gold_pairs else 1.0
    return {
        "items": len(common),
        "bcubed_precision": b_p, "bcubed_recall": b_r, "bcubed_f1": _f1(b_p, b_r),
        "pairwise_precision": p_p, "pairwise_recall": p_r, "pairwise_f1": _f1(p_p, p_r),
        "gold_pairs": len(gold_pairs), "predicted_pairs": len(pred_pairs), "correct_pairs": both,
    }


def errors(predicted: Iterable[Iterable[str]], gold: Iterable[Iterable[str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(false merges, missed merges) as sorted pairs of paths: what to read when a score drops."""
    pred_of, gold_of = _membership(predicted), _membership(gold)
    common = sorted(set(pred_of) & set(gold_of))
    pred_pairs = _pairs(_clusters(pred_of, common).values())
    gold_pairs = _pairs(_clusters(gold_of, common).values())
    return sorted(pred_pairs - gold_pairs), sorted(gold_pairs - pred_pairs)


def _membership(clusters: Iterable[Iterable[str]]) -> dict[str, int]:
    member: dict[str, int] = {}
    for index, cluster in enumerate(clusters):
        for path in cluster:
            if path in member:
                raise ValueError(f"{path} is in two clusters")
            member[path] = index
    return member


def _clusters(member: Mapping[str, int], items: Sequence[str]) -> dict[int, set[str]]:
    clusters: dict[int, set[str]] = {}
    for item in items:
        clusters.setdefault(member[item], set()).add(item)
    return clusters


def _pairs(clusters: Iterable[set[str]]) -> set[tuple[str, str]]:
    return {pair for cluster in clusters for pair in combinations(sorted(cluster), 2)}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def load_labelled(content: Mapping[str, Path]):
    """Items of several folders, each item's source prefixed with its folder's label ("seeds/000.txt");
    an empty label keeps the paths as they are."""
    sys.path.insert(0, str(ROOT))
    from site_builder.load import load_items

    items = []
    for label, folder in content.items():
        loaded, _ = load_items(Path(folder))
        items.extend(dataclasses.replace(item, source=f"{label}/{item.source}") if label else item for item in loaded)
    return items


def cluster_paths(items, config=None, cache_dir=None) -> list[set[str]]:
    """Run the deduplicator and return its stories as sets of item sources."""
    sys.path.insert(0, str(ROOT))
    from site_builder.config import SiteConfig
    from site_builder.dedupe import dedupe

    stories = dedupe(items, config or SiteConfig(), cache_dir=cache_dir)
    return [{item.source for item in story.items} for story in stories]


def format_scores(name: str, scores: Mapping[str, float]) -> str:
    return (
        f"{name}: {scores['items']} items, {scores['gold_pairs']} gold pairs, {scores['predicted_pairs']} predicted\n"
        f"  pairwise  P {scores['pairwise_precision']:.3f}  R {scores['pairwise_recall']:.3f}  F1 {scores['pairwise_f1']:.3f}\n"
        f"  B-cubed   P {scores['bcubed_precision']:.3f}  R {scores['bcubed_recall']:.3f}  F1 {scores['bcubed_f1']:.3f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--content", action="append", metavar="LABEL=DIR",
                        help="a folder of items, its paths prefixed with LABEL/ (default: seeds and everyday-ai)")
    parser.add_argument("--predicted", type=Path, help="score this JSON clustering instead of running dedupe")
    parser.add_argument("--errors", action="store_true", help="list false and missed merges")
    args = parser.parse_args(argv)
    gold = load_gold(args.gold)
    if args.predicted:
        predicted = load_predicted(args.predicted)
    else:
        content = dict(part.split("=", 1) for part in args.content) if args.content else DEFAULT_CONTENT
        missing = [str(p) for p in content.values() if not Path(p).is_dir()]
        if missing:
            print(f"missing content folder(s): {', '.join(missing)}", file=sys.stderr)
            return 2
        predicted = cluster_paths(load_labelled({k: Path(v) for k, v in content.items()}))
    print(format_scores(str(args.gold.name), score(predicted, gold)))
    if args.errors:
        false, missed = errors(predicted, gold)
        for a, b in false:
            print(f"  false merge: {a}  +  {b}")
        for a, b in missed:
            print(f"  missed:      {a}  +  {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
