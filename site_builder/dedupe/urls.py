"""Canonical URL keys: one key per article whatever form of its URL an item carries.

AMP pages, Google's AMP cache, tracking parameters, `www.` and default ports
all name the same article; `canonical_url` folds them into one string that is
only ever compared, never shown.  Percent-encoding and query order are left
to w3lib (Scrapy's URL library); the AMP rules below are ours, one per form
seen in real feeds.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

from ..models import Item

#: Query parameters that track a click rather than name an article.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs")
_TRACKING = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "twclid", "ttclid", "gclsrc",
    "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "referrer", "source", "src", "ocid",
    "cmpid", "cmp", "guccounter", "guce_referrer", "guce_referrer_sig", "smid", "sr_share",
    "share", "ito", "ncid", "soc_src", "soc_trk", "spm", "ved", "usg", "_ga", "sh",
})
#: Query parameters that only switch a page to its AMP rendering (?amp, ?amp=1, ?outputType=amp, ?view=AMP).
_AMP_FLAGS = frozenset({"amp", "amp_js_v", "usqp"})
_AMP_FLAG_VALUES = frozenset({"", "1", "true", "yes", "amp", "mq331ac2", "0.1"})
_AMP_SWITCHES = frozenset({"outputtype", "view", "output", "platform", "format"})
#: Path segments that only say "this is the AMP page".
_AMP_SEGMENTS = frozenset({"amp", "google-amp", "amp-page", "ampstories"})
#: Extensions that do not change which article a path names (x.html, x.amp, x.amp.html are one page).
_EXTENSION = re.compile(r"(?:\.amp)?(?:\.html?|\.amp)$", re.IGNORECASE)
#: Site families whose AMP path drops the slug and keeps only a numeric article id.
_ARTICLE_ID_HOSTS = ("usatoday.com",)
_TRAILING_ID = re.compile(r"/(\d{6,})/?$")


#: A plain article URL: http(s), a host of ASCII letters, digits, dots and hyphens, and an ASCII path of
#: characters that need no percent-encoding; no user, port, query or fragment.  Most URLs are; for them
#: the pattern finds what urlsplit() would, in a fifth of the time (tests/test_dedupe_urls.py compares).
_PLAIN = re.compile(r"https?://([A-Za-z0-9.-]+)(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?")


@lru_cache(maxsize=1 << 20)
def canonical_url(url: str) -> str:
    """A normalised form of `url`: AMP wrappers unwrapped, tracking, fragment, port and `www.` dropped."""
    url = url.strip()
    host, path, query, parts = _split(url)
    # Google's AMP cache: https://www-example-com.cdn.ampproject.org/c/s/www.example.com/path
    if host.endswith(".cdn.ampproject.org") or host == "cdn.ampproject.org":
        match = re.match(r"^/(?:[a-z]/)+(?:s/)?(.+)$", path)
        if match:
            return canonical_url("https://" + match.group(1) + ("?" + query if query else ""))
    was_amp_host = host.startswith("amp.")
    for prefix in ("www.", "amp.", "m."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
    if parts is not None and parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    segments = _article_segments(path, host, was_amp_host)
    if query:
        query = _clean_query(query)
    if query or "%" in path or not path.isascii():
        # w3lib settles percent-encoding (%7e vs ~, ü vs %C3%BC) and query order.  Imported here, for the
        # few URLs that need it: importing it (and urllib.request with it) was 14 ms of every start.
        from w3lib.url import canonicalize_url

        return canonicalize_url("https://" + host + "/" + "/".join(segments) + ("?" + query if query else ""))
    return "https://" + host + "/" + "/".join(segments)


def _split(url: str) -> tuple[str, str, str, SplitResult | None]:
    """The host (lower case, without a trailing dot), path and query of `url`, and urlsplit()'s
    answer when it was needed (for the port: a plain URL has none)."""
    plain = _PLAIN.fullmatch(url)
    if plain is not None:
        return plain[1].lower().rstrip("."), plain[2] or "", "", None
    parts = urlsplit(url if "//" in url else "https://" + url)
    return (parts.hostname or "").lower().rstrip("."), parts.path, parts.query, parts


def _article_segments(path: str, host: str, was_amp_host: bool) -> list[str]:
    """The path's segments with every AMP marker removed."""
    if host.endswith(_ARTICLE_ID_HOSTS):
        # amp.usatoday.com/amp/2680483001 and usatoday.com/story/tech/.../2680483001/ are one article.
        match = _TRAILING_ID.search(path)
        if match:
            return ["article", match.group(1)]
    segments = [s for s in path.split("/") if s]
    if was_amp_host and segments and segments[0].lower() == host.split(".")[0]:
        segments = segments[1:]  # amp.cnn.com/cnn/2021/... is cnn.com/2021/...
    kept: list[str] = []
    for segment in segments:
        lowered = segment.lower()
        if lowered in _AMP_SEGMENTS or segment == ".":
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        if lowered.startswith("amp-") and lowered[4:5].isdigit() and kept:
            # livemint: /slug/amp-11577018518743.html is /slug-11577018518743.html
            kept[-1] = kept[-1] + "-" + segment[4:]
            continue
        if lowered.startswith("amp_") and len(lowered) > 4:
            segment = segment[4:]  # indiatimes: amp_articleshow/72974967.cms
        kept.append(segment)
    if kept:
        kept[-1] = _EXTENSION.sub("", kept[-1]) or kept[-1]
    return kept


def _clean_query(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        lowered = key.lower()
        if lowered in _TRACKING or lowered.startswith(_TRACKING_PREFIXES):
            continue
        if lowered in _AMP_FLAGS and value.lower() in _AMP_FLAG_VALUES:
            continue
        if lowered in _AMP_SWITCHES and value.lower() == "amp":
            continue
        kept.append(pair)
    return "&".join(kept)


def item_keys(item: Item) -> tuple[str, ...]:
    """Every canonical URL an item is known by (web, original, AMP, CDN-AMP), without repeats."""
    return tuple(dict.fromkeys(canonical_url(u) for u in item.urls))


def item_key(item: Item) -> str:
    """The key that names an item's article: its canonical URL, or its file when it has no URL."""
    url = item.web_url or item.original_url or item.amp_url or item.cdn_amp_url
    return canonical_url(url) if url else "file:" + item.source
