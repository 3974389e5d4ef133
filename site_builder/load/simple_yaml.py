"""The front-matter nearly every news item has, read without PyYAML's node machinery.

PyYAML's C parser still builds a node per value, resolves and constructs each
in Python, through generators: 40 % of the time it takes to load an item.
Front-matter written by feeds and editors is a narrow corner of YAML: keys,
plain or quoted one-line values, nested blocks (provider:), lists (topics:,
images:).  `read_simple` reads exactly that corner and gives up on anything
else (None): flow collections, anchors and aliases, tags, block and
multi-line scalars, comments, escapes, duplicate keys, tabs, odd characters.
The caller then asks PyYAML, so a file reads the same either way; plain
values are typed by PyYAML's own resolver and constructors (YAML 1.1:
`yes` is true, `0o17` is 15), and tests/test_simple_yaml.py compares both
readers on generated documents.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .yaml_loader import Loader

_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: |$)")
_KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# Characters PyYAML refuses or treats specially anywhere (its reader's NON_PRINTABLE, a BOM, a tab).
# YAML's other line breaks (\x85, \u2028, \u2029) would not split lines here as they do there.
_UNUSUAL = re.compile("[^\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_UNUSUAL_ASCII = bytes([*range(0x00, 0x0a), *range(0x0b, 0x20), 0x7f])
# A plain value starting with one of these is not a plain scalar (flow, anchor, alias, tag, block
# scalar, quote, comment, directive, reserved), or is one only sometimes ("-1" is, "- 1" is not).
_NOT_PLAIN_START = frozenset("[]{}&*!|>'\"%@`#,?:-")
_STR = "tag:yaml.org,2002:str"
_TYPED = frozenset(("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                    "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"))
_RESOLVERS = Loader.yaml_implicit_resolvers
_CONSTRUCTORS = Loader.yaml_constructors
_constructor: Loader | None = None
_TEXT_KEYS: dict[str, bool] = {}
_SHORT_PLAIN: dict[str, Any] = {}
_UNKNOWN = object()
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t"}
# The inside of a one-line double-quoted scalar: no bare quote, only the escapes above.
_DOUBLE_QUOTED = re.compile(r'(?:[^"\\]|\\["\\/nt])*')
_ESCAPE = re.compile(r"\\(.)")


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPES[match.group(1)]


class _Unsupported(Exception):
    """Outside the corner read here: PyYAML reads the file."""


def read_simple(text: str) -> dict[str, Any] | None:
    """The mapping a front-matter holds, as PyYAML's safe loader reads it; None when it is not plain enough."""
    if _unusual(text):
        return None
    # (indentation, text) of every line with something on it: blank lines separate nothing in a block.
    lines = [(len(line) - len(content), content) for line in text.split("\n") if (content := line.lstrip(" "))]
    if not lines or lines[0][0] != 0:
        return None
    try:
        data, end = _mapping(lines, 0, 0)
    except _Unsupported:
        return None
    return data if end == len(lines) else None


def _unusual(text: str) -> bool:
    if text.isascii():
        # Encoding ASCII is a copy, and bytes.translate finds the odd bytes 3x faster than the expression.
        data = text.encode("ascii")
        return len(data.translate(None, _UNUSUAL_ASCII)) != len(data)
    return _UNUSUAL.search(text) is not None


def _mapping(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    count = len(lines)
    while i < count:
        at, line = lines[i]
        if at < indent:
            break
        if at > indent:
            raise _Unsupported  # a value going on over more lines, or an indentation error
        # The key is all before the first colon (no key character is one): found and checked
        # without a regular expression, the same few dozen keys file after file.
        colon = line.find(":")
        key = line[:colon]
        if colon < 1 or key in result or not _text_key(key):
            raise _Unsupported  # no key, a duplicate (PyYAML reports its line), or a key that is not text ("yes", "1")
        rest = line[colon + 1:]
        if rest and rest[0] != " ":
            raise _Unsupported  # "key:value" is one plain scalar to YAML, not a pair
        rest = rest.strip(" ")
        i += 1
        if rest:
            result[key] = _scalar(rest)
        elif i < count and lines[i][0] > indent:
            result[key], i = _node(lines, i)
        elif i < count and lines[i][0] == indent and lines[i][1][0] == "-":
            raise _Unsupported  # a list at the key's own indentation
        else:
            result[key] = None
    return result, i


def _sequence(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[list[Any], int]:
    result: list[Any] = []
    count = len(lines)
    while i < count:
        at, line = lines[i]
        if at < indent:
            break
        if at > indent or line[0] != "-":
            raise _Unsupported
        rest = line[1:].rstrip(" ")
        if not rest:
            i += 1
            if i < count and lines[i][0] > indent:
                value, i = _node(lines, i)
            else:
                value = None
        elif rest[0] != " ":
            raise _Unsupported  # "-1" where an entry was expected
        else:
            content = rest.lstrip(" ")
            if _KEY.match(content):
                # "- name: x" then "  url: y": a mapping whose first line starts after the dash.
                column = at + 1 + len(rest) - len(content)
                lines[i] = (column, content)
                value, i = _mapping(lines, i, column)
            else:
                value, i = _scalar(content), i + 1
        result.append(value)
    return result, i


def _node(lines: list[tuple[int, str]], i: int) -> tuple[Any, int]:
    at, line = lines[i]
    if line[0] == "-":
        return _sequence(lines, i, at)
    return _mapping(lines, i, at)


def _scalar(text: str) -> Any:
    """One value on one line (trailing spaces already cut)."""
    first = text[0]
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"':
            raise _Unsupported
        if "\\" not in inner:
            if '"' in inner:
                raise _Unsupported
            return inner
        # Feeds escape the quotes of their quotations ("a \"quoted\" word"): the escapes both of
        # PyYAML's readers (C and Python) agree on are undone, any other sends the file to them.
        if not _DOUBLE_QUOTED.fullmatch(inner):
            raise _Unsupported
        return _ESCAPE.sub(_unescape, inner)
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Unsupported
        return inner.replace("''", "'")
    known = _SHORT_PLAIN.get(text, _UNKNOWN)
    if known is not _UNKNOWN:
        return known
    value = _plain(text)
    # The same short values come back file after file (heat: 56, published: true), each typed
    # through PyYAML's resolver and constructor; what they give cannot change (an int, a bool, a
    # date: nothing mutable), so it is kept.
    if len(text) <= 16 and len(_SHORT_PLAIN) < 10_000:
        _SHORT_PLAIN[text] = value
    return value


def _plain(text: str) -> Any:
    first = text[0]
    if first in _NOT_PLAIN_START and not (first == "-" and len(text) > 1 and text[1] not in " \t"):
        raise _Unsupported
    if " #" in text or ": " in text or text.endswith(":"):
        raise _Unsupported  # a comment, or a mapping where a value was expected
    tag = _resolve(text)
    if tag == _STR:
        return text
    if tag not in _TYPED:
        raise _Unsupported
    global _constructor
    if _constructor is None:
        _constructor = Loader("")
    return _CONSTRUCTORS[tag](_constructor, yaml.ScalarNode(tag, text))


def _text_key(key: str) -> bool:
    """True for a plain key (_KEY's) that YAML reads as text."""
    known = _TEXT_KEYS.get(key)
    if known is None:
        known = _KEY_NAME.fullmatch(key) is not None and _resolve(key) == _STR
        if len(_TEXT_KEYS) < 10_000:  # the same few dozen keys, file after file
            _TEXT_KEYS[key] = known
    return known


def _resolve(value: str) -> str:
    """The tag PyYAML's resolver gives a plain scalar (BaseResolver.resolve, without path resolvers)."""
    for tag, pattern in _RESOLVERS.get(value[0] if value else "", ()):
        if pattern.match(value):
            return tag
    return _STR
