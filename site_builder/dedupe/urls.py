"""Canonical URL keys: one key per article whatever form of its URL an item carries."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..models import Item

_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ref", "ocid", "cmpid", "guccounter")


def canonical_url(url: str) -> str:
    """A normalised form of `url`: AMP wrappers unwrapped, tracking and `www.` dropped."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    path = parts.path
    if host.endswith(".cdn.ampproject.org") and path.startswith(("/c/s/", "/v/s/", "/c/", "/v/")):
        rest = path.split("/s/", 1)[1] if "/s/" in path[:5] else path[3:]
        return canonical_url("https://" + rest + (("?" + parts.query) if parts.query else ""))
    if host.startswith("www."):
        host = host[4:]
    if host.startswith("amp."):
        host = host[4:]
    segments = [s for s in path.split("/") if s]
    segments = [s for s in segments if s.lower() != "amp"]
    if segments and segments[-1].endswith(".amp.html"):
        segments[-1] = segments[-1][: -len(".amp.html")] + ".html"
    elif segments and segments[-1].endswith(".amp"):
        segments[-1] = segments[-1][: -len(".amp")]
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING) and k.lower() not in ("amp", "outputtype", "view")
    ]
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    return urlunsplit(("https", host + port, "/" + "/".join(segments), urlencode(query), ""))


def item_key(item: Item) -> str:
    """The key that names an item's article: its canonical URL, or its file when it has no URL."""
    url = item.web_url or item.original_url or item.amp_url or item.cdn_amp_url
    return canonical_url(url) if url else "file:" + item.source
