"""Generated news corpora with planted duplicate coverage and a ground-truth gold file.

Items look like the everyday-ai ones (YAML front-matter: title, excerpt,
publishedDateTime, webUrl, provider, topics, heat, quality, related, and a
body of a few hundred words on some of them).  About a third of the stories
are covered more than once, by the kinds of duplicates real feeds carry:

    copy         a syndicated copy: the same text, lightly edited, another outlet, originalUrl set
    amp          the same article again, known only by an AMP or AMP-cache URL
    rewrite      another outlet's wording: same names and numbers, other words and order
    translation  the story in German, French or Vietnamese: names and numbers survive
    short        a title-and-excerpt-only brief of the story

    python bench/corpus.py --items 10000 --out /tmp/corpus-10k [--seed 0]

`generate(n, out, seed=0) -> Path` writes n items under `out` and returns the
gold file (`out/../<name>.gold.json`, outside the content folder) whose
stories list file names relative to `out`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

TOPICS = [
    "AI", "Machine Learning", "Deep Learning", "Computer Vision", "Natural Language Processing",
    "Robotics", "Self-Driving Cars", "AI Ethics", "AI Chips", "Cloud AI", "AWS AI", "Azure AI",
    "Google AI", "OpenAI", "Healthcare AI", "Fintech AI", "AI Startups", "AI Regulation",
    "Facial Recognition", "Speech Recognition", "Machine Translation", "Generative AI", "LLMs",
    "AI Research", "Edge AI", "AI in Education", "Cybersecurity AI", "AI Funding", "Drones", "Quantum AI",
]
FUNCTION = ("the a of to and in on for with as by at from that this its their new said says will has have "
            "is are was were be been after over into about more than most also but which who while").split()
SYLLABLES = ("ka ri to mu ne sa lo vi de pa ra ti no ma le si ko ru be da fi ga hu jo ke la mi "
             "na po qu re se ta un ve wi xa yo ze an en in on ar er or al el il").split()
FOREIGN = {
    "de": "der die das und mit für auf von eine einen wird hat nach über sich bei neue neuen laut".split(),
    "fr": "le la les des une un et pour avec sur dans par qui que nouveau nouvelle selon après".split(),
    "vi": "của và các một những được cho với trong này đã theo mới sau công ty người nhà".split(),
}
OUTLET_WORDS = "Daily Tech Wire Post Times Journal Herald News Review Insider Beat Report Digest Ledger".split()


class World:
    """The shared vocabulary: words (Zipf-distributed), names, outlets, all drawn from one seed."""

    def __init__(self, rng: random.Random, n: int) -> None:
        self.rng = rng
        size = max(5000, min(60000, n // 2))
        self.words = sorted({self._word(2, 4) for _ in range(size)})
        rng.shuffle(self.words)
        # Cumulative weights once: random.choices would otherwise re-add 50 000 weights per call.
        self.cum_weights = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(self.words))))
        self.companies = sorted({self._word(2, 3).capitalize() + rng.choice(["", "", "AI", " Labs", " Systems", "ix"]) for _ in range(max(2000, n // 3))})
        self.people = sorted({f"{self._word(2, 3).capitalize()} {self._word(2, 4).capitalize()}" for _ in range(max(2000, n // 3))})
        self.products = sorted({self._word(2, 3).capitalize() + rng.choice(["", "-2", " Pro", "GPT", " X"]) for _ in range(max(1000, n // 5))})
        self.outlets = sorted({f"{self._word(2, 3).capitalize()} {rng.choice(OUTLET_WORDS)}" for _ in range(max(300, n // 100))})

    def _word(self, low: int, high: int) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(low, high)))

    def content_words(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum_weights, k=k)


class Story:
    """The facts every coverage of one story shares."""

    def __init__(self, world: World, when: datetime) -> None:
        rng = world.rng
        self.company = rng.choice(world.companies)
        self.person = rng.choice(world.people)
        self.product = rng.choice(world.products)
        self.number = str(rng.choice([rng.randint(10, 999), round(rng.uniform(1, 99), 1)]))
        self.key_words = rng.sample(world.words[200:], 6)  # the story's own vocabulary: rare-ish words
        self.when = when
        self.topics = rng.sample(TOPICS, rng.randint(1, 3))

    def sentences(self, world: World, count: int) -> list[str]:
        rng = world.rng
        facts = [self.company, self.person, self.product, self.number]
        out = []
        for n in range(count):
            words = world.content_words(rng.randint(7, 14)) + rng.sample(self.key_words, 2)
            words += rng.sample(FUNCTION, 4)
            rng.shuffle(words)
            if n < 3 or rng.random() < 0.4:
                words.insert(rng.randint(1, len(words)), rng.choice(facts))
            sentence = " ".join(words)
            out.append(sentence[:1].upper() + sentence[1:] + ".")
        return out


def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())[:70]


def _title(story: Story, world: World) -> str:
    rng = world.rng
    verb = rng.choice(["unveils", "launches", "raises", "buys", "tests", "opens", "wins", "cuts"])
    return f"{story.company} {verb} {story.product} {' '.join(rng.sample(story.key_words, 2))} {story.number}"


def _edit(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for _ in range(max(1, len(words) // 40)):
        words[rng.randrange(len(words))] = rng.choice(FUNCTION)
    return " ".join(words)


def _translate(text: str, lang: str, rng: random.Random, keep: set[str]) -> str:
    """Foreign words for every word but names and numbers: what survives a translation."""
    vocabulary = FOREIGN[lang]
    out = []
    for word in text.split(" "):
        bare = word.strip(".,")
        if bare in keep or any(ch.isdigit() for ch in bare) or (bare[:1].isupper() and word is not text.split(" ")[0]):
            out.append(word)
        else:
            out.append(rng.choice(vocabulary) + rng.choice(SYLLABLES) + ("." if word.endswith(".") else ""))
    return " ".join(out)


def _yaml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _write_item(path: Path, fields: dict) -> None:
    lines = ["---"]
    for key in ("title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "ampWebUrl", "cdnAmpWebUrl", "lang"):
        if fields.get(key):
            lines.append(f"{key}: {_yaml(fields[key])}")
    lines += [f"quality: {fields['quality']}", f"heat: {fields['heat']}", "published: true", "", "provider:",
              f"  name: {_yaml(fields['provider'])}", f"  domain: {_yaml(fields['domain'])}", "", "topics:"]
    lines += [f"  - {_yaml(t)}" for t in fields["topics"]]
    if fields.get("related"):
        lines += ["", "related:"]
        for entry in fields["related"]:
            lines += [f"  - title: {_yaml(entry['title'])}", f"    webUrl: {_yaml(entry['webUrl'])}",
                      "    provider:", f"      name: {_yaml(entry['provider'])}"]
    lines += ["---", ""]
    if fields.get("body"):
        lines.append(fields["body"])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate(n: int, out: Path, seed: int = 0) -> Path:
    """Write `n` items under `out` and return the path of the gold file (beside `out`)."""
    rng = random.Random(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = World(rng, n)
    span_days = max(30, n // 150)  # about 150 items a day, as a busy digest
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    gold: list[list[str]] = []
    written = 0
    serial = 0
    while written < n:
        story = Story(world, start + timedelta(minutes=rng.randrange(span_days * 24 * 60)))
        size = 1 if rng.random() < 0.65 else min(n - written, rng.choice([2, 2, 2, 3, 3, 4, 5, 6]))
        kinds = ["lead"] + [rng.choice(["copy", "copy", "amp", "rewrite", "rewrite", "rewrite", "translation", "short"]) for _ in range(size - 1)]
        members: list[str] = []
        lead_fields: dict = {}
        for kind in kinds[: n - written]:
            serial += 1
            outlet = rng.choice(world.outlets)
            domain = _slug(outlet).replace("-", "") + ".example"
            when = story.when + timedelta(hours=rng.uniform(0, 72)) if kind != "lead" else story.when
            if kind in ("lead", "rewrite", "translation", "short"):
                title = _title(story, world)
                excerpt = " ".join(story.sentences(world, 2))
                body = "\n\n".join(" ".join(story.sentences(world, 6)) for _ in range(rng.randint(3, 6))) if rng.random() < 0.3 else ""
            else:  # copy, amp: the lead's own text
                title, excerpt, body = lead_fields["title"], _edit(lead_fields["excerpt"], rng), _edit(lead_fields.get("body", ""), rng)
            if kind == "short":
                body = ""
            fields = {
                "title": title, "excerpt": excerpt, "body": body, "provider": outlet, "domain": domain,
                "publishedDateTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "quality": rng.randint(20, 95),
                "heat": rng.choice([-1, rng.randint(0, 100)]), "topics": story.topics,
                "webUrl": f"https://www.{domain}/{when:%Y/%m/%d}/{_slug(title)}-{serial}/",
            }
            if kind == "translation":
                lang = rng.choice(sorted(FOREIGN))
                keep = {story.company, story.person, story.product, *story.company.split(), *story.person.split(), *story.product.split()}
                fields.update(lang=lang, title=_translate(title, lang, rng, keep), excerpt=_translate(excerpt, lang, rng, keep),
                              body=_translate(body, lang, rng, keep) if body else "")
            if kind == "copy":
                fields["originalUrl"] = lead_fields["webUrl"]
            if kind == "amp":
                # The same article as the lead, known here only by an AMP form of its URL.
                lead_url = lead_fields["webUrl"]
                host_path = lead_url.split("://", 1)[1]
                form = rng.choice(["amp", "cdn", "query"])
                fields["webUrl"] = None
                fields["provider"], fields["domain"] = lead_fields["provider"], lead_fields["domain"]
                if form == "amp":
                    fields["ampWebUrl"] = lead_url + "amp/"
                elif form == "cdn":
                    fields["cdnAmpWebUrl"] = f"https://{host_path.split('/')[0].replace('.', '-')}.cdn.ampproject.org/c/s/{host_path}amp/"
                else:
                    fields["ampWebUrl"] = lead_url + "?outputType=amp&utm_source=feed"
            if members and rng.random() < 0.3:
                fields["related"] = [{"title": lead_fields["title"], "webUrl": lead_fields["webUrl"], "provider": lead_fields["provider"]}]
            elif rng.random() < 0.05:
                # Outlets also link different stories as related (never enough to merge).
                fields["related"] = [{"title": "Other coverage", "webUrl": f"https://elsewhere.example/{rng.randrange(10**9)}/", "provider": "Elsewhere"}]
            name = f"{when:%Y-%m-%d}-{_slug(fields['title'])[:50]}-{serial}.md"
            _write_item(out / name, fields)
            if kind == "lead":
                lead_fields = fields
            members.append(name)
            written += 1
        gold.append(members)
    gold_path = out.parent / f"{out.name}.gold.json"
    gold_path.write_text(json.dumps({"seed": seed, "items": n, "stories": [{"items": m} for m in gold]}, indent=0), encoding="utf-8")
    return gold_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    gold = generate(args.items, args.out, args.seed)
    print(f"{args.items} items in {args.out}; gold stories in {gold}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
