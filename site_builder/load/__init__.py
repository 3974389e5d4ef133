"""Loading: every file under content/ becomes an Item, or one or more ContentErrors.

A file that starts with `---` has YAML front-matter; any other file is plain
text.  Problems are collected, never raised: one bad file never stops the
others from loading.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import pickle
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import ContentError
from ..incremental import ItemCache
from ..models import Item
from .frontmatter_reader import read_front_matter
from .language import Detect, Languages, warm_language_model
from .plaintext import read_plain_text
from ..parallel import fork_map

MAX_FILE_BYTES = 20 * 1024 * 1024
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x01, 0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f])

#: One file read by load_items: its path, its item (None when it has none), its problems, what
#: `prepare` made of the item, and the file's stat when it was opened.
Parsed = tuple[str, Item | None, list[ContentError], Any, os.stat_result | None]


def load_items(content_dir: Path, default_lang: str = "en", cache: ItemCache | None = None,
               workers: int = 1, listing: list[tuple[str, str | None, os.stat_result | None]] | None = None,
               prepare: Callable[[list[Item]], list[Any]] | None = None, prepared: dict[str, Any] | None = None,
               meanwhile: Callable[[], None] | None = None) -> tuple[list[Item], list[ContentError]]:
    """Every item under `content_dir` (drafts included), sorted by path, and every problem found.

    With a cache, a file whose size and mtime did not change is not read again (see incremental.py).
    Files that must be read are parsed in `workers` processes when there are many.  With `prepare`,
    those processes also call it on the items they read, while they are at hand (the build makes
    the deduplicator's features so): its answers go into `prepared`, by the item's content hash, and
    into the cache with the item.
    `meanwhile()` runs in this process while they work (see fork_map).
    """
    root = content_dir.resolve()
    listing = listing if listing is not None else content_listing(root)
    files = [(relative, problem) for relative, problem, _ in listing]
    results: dict[str, tuple[Item | None, list[ContentError]]] = {}
    misses: list[str] = []
    for relative, problem, stat in listing:
        if problem:
            results[relative] = (None, [ContentError(relative, 1, problem)])
            continue
        if cache is not None and stat is not None:
            known = cache.lookup(relative, stat, root / relative)
            if known is not None:
                results[relative] = known
                continue
        misses.append(relative)

    if len(misses) > 1 and workers > 1:
        warm_language_model()  # once here, inherited by every forked worker
    parent = os.getpid()

    def parse(batch: list[str]) -> list[tuple[bytes | None, bytes | None, list[Parsed]]]:
        """The batch's files, read; in a forked worker, the entries for the cache come pickled."""
        parsed = parse_files(batch)
        if cache is None or os.getpid() == parent:
            return [(None, None, parsed)]
        # The items and their features travel to the parent pickled in any case: pickled as the cache
        # stores them, the same bytes are saved later, not pickled again (see ItemCache.add_pickled).
        entries = {relative: ItemCache.entry(stat, item.content_hash if item else "", item, problems)
                   for relative, item, problems, _, stat in parsed if stat is not None}
        features = {relative: answer for relative, _, _, answer, _ in parsed if relative in entries and answer is not None}
        rest = [(relative, item, problems, answer, stat) for relative, item, problems, answer, stat in parsed if relative not in entries]
        return [(pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL), pickle.dumps(features, protocol=pickle.HIGHEST_PROTOCOL), rest)]

    def parse_files(batch: list[str]) -> list[Parsed]:
        # Languages are detected for the whole batch at once, after every file of it is read.
        languages = Languages()
        read = []
        opened: dict[str, os.stat_result] = {}  # each file's stat as it was read: what the cache records
        for relative in batch:
            problems: list[ContentError] = []
            read.append((relative, read_file(root, relative, default_lang, problems, languages.detect, opened), problems))
        parsed = [
            (relative, Item(source=relative, content_hash=found[1], **languages.settle(found[0])) if found else None, problems,
             opened.get(relative))
            for relative, found, problems in read
        ]
        made = [item for _, item, _, _ in parsed if item is not None]
        answers = iter(prepare(made) if prepare is not None and made else ())
        return [(relative, item, problems, next(answers, None) if item is not None else None, stat)
                for relative, item, problems, stat in parsed]

    for pickled, packed, parsed in fork_map(parse, misses, workers, meanwhile=meanwhile):
        if cache is not None and pickled is not None and packed is not None:
            stored = cache.add_pickled(pickled, packed)
            features = pickle.loads(packed) if prepared is not None else {}
            for relative, (_, _, _, _, item, problems) in stored.items():
                results[relative] = (item, list(problems))
                if item is not None and relative in features:
                    prepared[item.content_hash] = features[relative]  # type: ignore[index]
        for relative, item, problems, answer, stat in parsed:
            if cache is not None and stat is not None:
                cache.store(relative, stat, item.content_hash if item else "", item, problems, answer)
            results[relative] = (item, problems)
            if answer is not None and prepared is not None and item is not None:
                prepared[item.content_hash] = answer

    items: list[Item] = []
    errors: list[ContentError] = []
    for relative, _ in files:
        item, problems = results[relative]
        errors.extend(problems)
        if item is not None:
            items.append(item)
    if cache is not None:
        cache.forget_except({relative for relative, problem in files if not problem})
    return items, errors


def content_listing(root: Path, stat_files: bool = True) -> list[tuple[str, str | None, os.stat_result | None]]:
    """content_files() with each file's stat (None for a problem, a file gone meanwhile, or all of them
    without `stat_files`: a cold build, with no cache to look them up in, records them as it reads)."""
    listing = []
    prefix = os.path.join(str(root), "")  # joined as strings: os.path.join with a Path costs more than the stat
    for relative, problem in content_files(root):
        stat = None
        if problem is None and stat_files:
            try:
                stat = os.stat(prefix + relative)
            except OSError:
                pass
        listing.append((relative, problem, stat))
    return listing


def content_files(root: Path) -> Iterator[tuple[str, str | None]]:
    """(path relative to root, problem or None) for every content file, in a stable order."""
    stack = [root]
    found: list[tuple[str, str | None]] = []
    prefix = len(os.path.join(str(root), ""))  # entry paths start with the root: cut, not Path.relative_to (10k Paths: 0.2 s)
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            found.append((_relative(folder, root) or ".", f"cannot read folder: {exc.strerror}"))
            continue
        for entry in entries:
            if is_ignored(entry.name):
                continue
            relative = entry.path[prefix:].replace(os.sep, "/")
            if entry.is_symlink():
                try:
                    target = Path(entry.path).resolve(strict=True)
                except (OSError, RuntimeError):  # RuntimeError: a link loop (a -> b -> a) before Python 3.13
                    found.append((relative, "symbolic link that leads nowhere (missing target or a loop); skipped"))
                    continue
                if not target.is_relative_to(root):
                    found.append((relative, "symbolic link to a place outside the content folder; refused"))
                    continue
                if target.is_dir():
                    # A linked folder inside content/ is read at its own place; following the link
                    # would read it twice, and a link to a parent ("self -> .") at every depth.
                    if Path(entry.path).parent.resolve().is_relative_to(target):
                        found.append((relative, "symbolic link to a folder that holds it (a loop); skipped"))
                    continue
            if entry.is_dir():
                stack.append(Path(entry.path))
            elif entry.is_file():
                found.append((relative, None))
    yield from sorted(found)


def is_ignored(name: str) -> bool:
    """Hidden files, editor swap and backup files, and other tools' temporary files."""
    return (
        name.startswith((".", "#", "~$"))
        or name.endswith(("~", ".swp", ".swo", ".swx", ".tmp", ".bak", ".part", ".crdownload"))
        or name == "4913"  # vim's probe file
    )


def read_file(root: Path, relative: str, default_lang: str, errors: list[ContentError],
              detect: Detect, opened: dict[str, os.stat_result] | None = None) -> tuple[dict, str] | None:
    """The fields of one file and the sha256 of its bytes; None when it cannot be read.

    `opened` gets the file's stat as it was opened (whether or not its content is valid): the
    cache records that, the size and mtime of the bytes read, not a stat taken before."""
    try:
        data = _read_bytes(os.path.join(root, relative), relative, opened)
    except _TooLarge as exc:
        errors.append(ContentError(relative, 1, f"file is {exc.size // 1_048_576} MB; the limit is {MAX_FILE_BYTES // 1_048_576} MB"))
        return None
    except OSError as exc:
        errors.append(ContentError(relative, 1, f"cannot read: {exc.strerror}"))
        return None
    text = decode(relative, data, errors)
    if text is None:
        return None
    if text.startswith("---"):
        fields = read_front_matter(relative, text, default_lang, errors, detect)
    else:
        fields = read_plain_text(relative, text, default_lang, errors, detect)
    if fields is None:
        return None
    return fields, hashlib.sha256(data).hexdigest()


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


def _read_bytes(path: str, relative: str = "", opened: dict[str, os.stat_result] | None = None) -> bytes:
    """The bytes of a file of at most MAX_FILE_BYTES (else _TooLarge); its fstat into opened[relative].

    One open, fstat and read (io.open's buffered reader, and Path's stat by name, cost twice as much).
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        stat = os.fstat(fd)
        if opened is not None:
            opened[relative] = stat
        size = stat.st_size
        if size > MAX_FILE_BYTES:
            raise _TooLarge(size)
        data = os.read(fd, size + 1)  # one byte more: a file that grew since fstat is read to its end
        if len(data) != size:  # it changed meanwhile (or a network file system read short): read to the end
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
        return data
    finally:
        os.close(fd)


def decode(relative: str, data: bytes, errors: list[ContentError]) -> str | None:
    """Text of a file: UTF-8 (with or without BOM) or UTF-16 with BOM; line endings made \\n."""
    encoded = data
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
        if data.startswith(codecs.BOM_UTF8):
            # Cut as the utf-8-sig codec cuts it (so error offsets count from after it), without its Python code.
            encoded = data[3:]
    try:
        text = encoded.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        errors.append(ContentError(relative, line, f"not valid {encoding.upper()} text (byte {exc.start})"))
        return None
    if "\x00" in text:
        # UTF-16 without a byte-order mark decodes as "valid" UTF-8 with a NUL after every ASCII letter.
        if data[1::2].count(0) > len(data) // 4 or data[0::2].count(0) > len(data) // 4:
            errors.append(ContentError(relative, 1, "looks like UTF-16 without a byte-order mark; save it as UTF-8"))
        else:
            errors.append(ContentError(relative, text.count("\n", 0, text.index("\x00")) + 1, "binary file (contains NUL bytes)"))
        return None
    # Other control characters are invisible, invalid in XML feeds, and never meant (\t and line breaks are kept).
    # In UTF-8 each is a byte no other character contains: bytes.translate finds them 4x faster than the expression.
    if encoding != "utf-8" or len(encoded.translate(None, _CONTROL_BYTES)) != len(encoded):
        text = _CONTROL.sub("", text)
    if "\r" in text:  # rare: looking is cheaper than replacing nothing twice
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path != root else ""
