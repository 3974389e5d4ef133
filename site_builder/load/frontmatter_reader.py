"""Front-matter files: YAML between `---` lines (python-frontmatter), then a Markdown body."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import ContentError
from .fields import FieldReader
from .language import Detect, detect_language, is_language_tag
from .simple_yaml import read_simple
from .yaml_loader import Loader

#: The content contract; anything else is kept on the item but never rendered.
CONTRACT = {
    "title", "excerpt", "description", "summary", "publishedDateTime", "date", "webUrl",
    "ampWebUrl", "cdnAmpWebUrl", "originalUrl", "provider", "topics", "category",
    "images", "quality", "heat", "related", "published", "draft", "lang", "language",
}

# From the line break before it: a search for a "\n" skips ahead, where "^" is tried at every character.
_CLOSING = re.compile(r"\n(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
#: How many values the front-matter may expand to once YAML aliases are followed.
MAX_YAML_VALUES = 200_000


def _expanded_size_exceeds(data: Any, limit: int) -> bool:
    """True when `data`, with every alias followed, holds more than `limit` values or refers to itself.

    PyYAML shares aliased objects, so a "billion laughs" file loads in
    microseconds but explodes in anything that walks it (rendering, JSON,
    repr).  The walk is iterative and stops at `limit`, so it is cheap.
    """
    count = 0
    stack: list[tuple[Any, frozenset[int]]] = [(data, frozenset())]
    while stack:
        value, ancestors = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(value, (dict, list, tuple, set)):
            if id(value) in ancestors:
                return True
            inner = ancestors | {id(value)}
            children = [*value.keys(), *value.values()] if isinstance(value, dict) else list(value)
            stack.extend((child, inner) for child in children)
    return False


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, line where the body starts), or None when it is never closed."""
    first_break = text.find("\n")
    if first_break < 0:
        return None
    closing = _CLOSING.search(text, first_break)
    if closing is None:
        return None
    front = text[first_break + 1 : closing.start() + 1]
    body_start = text.find("\n", closing.end())
    body = text[body_start + 1 :] if body_start >= 0 else ""
    return front, body, text.count("\n", 0, closing.end()) + 2


def read_front_matter(path: str, text: str, default_lang: str, errors: list[ContentError],
                      detect: Detect = detect_language) -> dict[str, Any] | None:
    """The fields of one front-matter file, typed; None when the file cannot be read at all.

    Languages the file does not give come from `detect` (the loader defers them to its batch).
    """
    parts = split_front_matter(text)
    if parts is None:
        errors.append(ContentError(path, 1, "front-matter starts with '---' but is never closed by another '---'"))
        return None
    front, body, body_line = parts
    duplicates: list[tuple[int, str]] = []
    data = simple = read_simple(front) if front.strip() else {}
    if data is None:  # more than the plain front-matter read_simple knows: PyYAML reads it
        loader = Loader(front)
        try:
            data = loader.get_single_data()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 2 if mark else 1
            problem = exc.problem or str(exc).splitlines()[0]
            errors.append(ContentError(path, line, f"invalid YAML: {problem}"))
            return None
        except (yaml.YAMLError, RecursionError, ValueError) as exc:
            errors.append(ContentError(path, 1, f"invalid YAML: {type(exc).__name__}"))
            return None
        finally:
            loader.dispose()
        duplicates = loader.duplicates
    # Without an alias ("*name") every value is written out: fewer characters than the limit hold fewer values.
    if ("*" in front or len(front) >= MAX_YAML_VALUES) and _expanded_size_exceeds(data, MAX_YAML_VALUES):
        errors.append(ContentError(path, 2, f"front-matter expands to more than {MAX_YAML_VALUES} values through YAML aliases, or refers to itself; refused"))
        return None
    if not isinstance(data, dict):
        errors.append(ContentError(path, 2, f"front-matter must be a table of fields, got {type(data).__name__}"))
        return None
    fields = FieldReader(path, front, 2, errors)
    for line, key in duplicates:
        errors.append(ContentError(path, line + 2, f"{key!r} is given more than once; the last one is used", key, warning=True))
    if data is not simple:  # PyYAML's keys may be numbers, dates or booleans (read_simple's are all text)
        data = {str(key): value for key, value in data.items()}

    title = fields.text("title", data.get("title"))
    excerpt = fields.text("excerpt", _first(data, "excerpt", "description", "summary")) or ""
    body = body.strip()
    if not title:
        title = _derived_title(body or excerpt)
        if not title:
            errors.append(ContentError(path, fields.line_of("title"), "no title, and no text to take one from", "title"))
            return None
    lang_value = fields.text("lang", _first(data, "lang", "language"))
    if lang_value and not is_language_tag(lang_value):
        fields.error("lang", f"not a BCP 47 language tag: {lang_value!r}")
        lang_value = None
    lang = lang_value or detect(f"{title}\n{excerpt}\n{body[:800]}", default_lang)
    date_key = "publishedDateTime" if "publishedDateTime" in data else "date"
    published = fields.boolean("published", data.get("published"))
    draft = fields.boolean("draft", data.get("draft"))
    topics = fields.strings("topics", data.get("topics"))
    category = fields.text("category", data.get("category"))
    return {
        "title": title,
        "excerpt": excerpt,
        "body": body,
        "body_format": "markdown",
        "published_at": fields.when(date_key, data.get(date_key)),
        "web_url": fields.url("webUrl", data.get("webUrl")),
        "original_url": fields.url("originalUrl", data.get("originalUrl")),
        "amp_url": fields.url("ampWebUrl", data.get("ampWebUrl")),
        "cdn_amp_url": fields.url("cdnAmpWebUrl", data.get("cdnAmpWebUrl")),
        "provider": fields.provider("provider", data.get("provider")),
        "topics": topics,
        "category": category,
        "images": fields.images("images", data.get("images")),
        "related": fields.related("related", data.get("related"), lambda t: detect(t, default_lang)),
        "heat": fields.number("heat", data.get("heat"), -1, 100),
        "quality": fields.number("quality", data.get("quality"), 0, 100),
        "draft": published is False or draft is True,
        "lang": lang,
        "lang_detected": not lang_value,
        "extra": {key: value for key, value in data.items() if key not in CONTRACT},
    }


def _first(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def _derived_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= 120 else line[:117].rsplit(" ", 1)[0] + "…"
    return ""
