"""Language detection for items that do not say their language (py3langid ships its model)."""

from __future__ import annotations

import re
from functools import lru_cache

_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@lru_cache(maxsize=1)
def _identifier():
    # Imported lazily: loading the model costs ~0.5 s, spent only when an item needs it.
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True)


def detect_language(text: str, default: str) -> str:
    """The language of `text` as a BCP 47 code, or `default` when the text is too short or unclear."""
    sample = text[:1500]
    if sum(ch.isalpha() for ch in sample) < 12:
        return default
    lang, probability = _identifier().classify(sample)
    return lang if probability >= 0.6 else default


def is_language_tag(value: str) -> bool:
    return bool(_BCP47.match(value))
