"""Language detection for items that do not say their language (py3langid ships its model)."""

from __future__ import annotations

import re
from functools import lru_cache

_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_LETTER = re.compile(r"[^\W\d_]")
#: Characters looked at: langid's cost grows with the text, its accuracy stops growing long before.
SAMPLE = 320


@lru_cache(maxsize=1)
def _identifier():
    # Imported lazily: loading the model costs ~0.5 s, spent only when an item needs it.
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True)


def warm_language_model() -> None:
    """Load the model now (before forking workers, so they share it)."""
    _identifier()


def detect_language(text: str, default: str) -> str:
    """The language of `text` as a BCP 47 code, or `default` when the text is too short or unclear."""
    return _detect(text[:SAMPLE], default)


@lru_cache(maxsize=65_536)
def _detect(sample: str, default: str) -> str:
    # Cached: related entries repeat across items, and syndicated copies repeat whole texts.
    if len(_LETTER.findall(sample)) < 12:
        return default
    lang, probability = _identifier().classify(sample)
    return lang if probability >= 0.6 else default


def is_language_tag(value: str) -> bool:
    return bool(_BCP47.match(value))
