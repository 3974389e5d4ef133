"""Hostile content in a real browser: chromium visits every page and feed of the hostile site (see
tests/test_hostile.py for the payloads) with `pwn` exposed, and no payload ever calls it."""

from __future__ import annotations

import re

from test_hostile import MARKDOWN_PAYLOADS, TEXT_PAYLOADS, URL_PAYLOADS, feed_html_fragments, hostile_items, hostile_site  # noqa: F401


def test_no_injected_script_runs_in_a_browser(hostile_site, page, serve_static) -> None:
    output, _ = hostile_site
    server = serve_static(output)
    fired: list[str] = []
    page.expose_function("pwn", lambda *args: fired.append(repr(args)))
    page.on("dialog", lambda dialog: (fired.append(f"dialog {dialog.message}"), dialog.dismiss()))
    page.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())  # nothing leaves the machine
    urls = []
    for path in sorted(output.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".xml", ".json") and "pagefind" not in path.parts:
            relative = path.relative_to(output).as_posix()
            urls.append(relative[: -len("index.html")] if relative.endswith("index.html") else relative)
    assert len(urls) > len(hostile_items())
    for relative in urls:
        page.goto(server.url + relative, wait_until="load")
        page.mouse.move(5, 5)
        page.mouse.move(300, 300)  # hover payloads
        page.wait_for_timeout(10)
        assert page.evaluate("() => window.__pwned") is None, relative
    # What a feed reader renders: every HTML fragment of every feed, as a page of its own.
    fragments = feed_html_fragments(output)
    for where, html in fragments:
        page.set_content(f"<!doctype html><meta charset=utf-8><body>{html}</body>", wait_until="load")
        assert page.evaluate("() => window.__pwned") is None, where
    page.wait_for_timeout(200)
    assert fired == [], fired
    # the canary itself works: the same page runs a real call
    page.set_content("<script>pwn('canary')</script>")
    page.wait_for_timeout(100)
    assert fired == ["('canary',)"]
    total = len(TEXT_PAYLOADS) + len(URL_PAYLOADS) + len(MARKDOWN_PAYLOADS)
    print(f"{total} payloads, {len(urls)} pages and feeds, {len(fragments)} feed fragments: nothing ran")
