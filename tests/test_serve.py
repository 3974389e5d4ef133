"""`site-builder serve`: a real server on 127.0.0.1, real file edits, the reload stream read like a browser would."""

from __future__ import annotations

import http.client
import os
import json
import queue
import threading
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from conftest import news
from site_builder.serve import serve
from site_builder.serve.livereload import EVENTS_PATH

OVERLAY = '<div id="site-builder-overlay"'
WAIT = 20.0  # seconds any one expected change may take on a busy machine


class Preview:
    """A running `serve` on a tmp project, and the events its reload stream sent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stop = threading.Event()
        self.lines: list[str] = []
        started: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=serve, daemon=True, kwargs=dict(
            project=root, content=root / "content", output=root / "public", port=0, search=False,
            stop=self.stop, log=self.lines.append, ready=started.put))
        self.thread.start()
        self.url = started.get(timeout=60)
        self.host, self.port = urlsplit(self.url).hostname, urlsplit(self.url).port
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self._stream = threading.Thread(target=self._listen, daemon=True)
        self._stream.start()
        assert self.next_event("hello")[0] == "hello"

    def request(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def page(self, path: str) -> str:
        status, _, body = self.request(path)
        assert status == 200, (path, status)
        return body.decode()

    def _listen(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=WAIT * 3)
        connection.request("GET", EVENTS_PATH)
        response = connection.getresponse()
        name, data = "", ""
        try:
            for raw in response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and name:
                    self.events.put((name, json.loads(data)))
                    name, data = "", ""
        except OSError:
            pass

    def next_event(self, *names: str) -> tuple[str, dict]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                name, data = self.events.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            if name in names:
                return name, data
        raise AssertionError(f"no {names} event within {WAIT} s; server log: {self.lines}")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "serve did not stop"


@pytest.fixture
def preview(site) -> Iterator:
    previews: list[Preview] = []

    def start() -> Preview:
        previews.append(Preview(site.root))
        return previews[-1]

    yield start
    for running in previews:
        running.close()


def test_serves_the_site_with_its_own_address_and_the_reload_script(site, preview) -> None:
    site.item("a.md", news(title="Robots learn to fold laundry"))
    server = preview()
    html = server.page("/")
    assert "Robots learn to fold laundry" in html
    assert f'href="{urlsplit(server.url).path}topics/robotics/"' in html or "/topics/robotics/" in html
    assert EVENTS_PATH in html and html.index(EVENTS_PATH) < html.rindex("</body>")
    # the script is added while serving, never written to the output
    assert EVENTS_PATH not in (site.root / "public" / "index.html").read_text()
    assert server.url.startswith("http://127.0.0.1:")


def test_an_edit_changes_the_page_and_sends_reload(site, preview) -> None:
    site.item("a.md", news(title="Robots learn to fold laundry"))
    server = preview()
    assert "fold laundry" in server.page("/stories/robots-learn-to-fold-laundry/")
    site.item("a.md", news(title="Robots learn to fold laundry", body="Now they also iron shirts."))
    server.next_event("reload")
    assert "iron shirts" in server.page("/stories/robots-learn-to-fold-laundry/")


def test_an_edit_is_redone_in_place_then_the_exact_build_follows(site, preview) -> None:
    from test_incremental import snapshot

    for n in range(6):
        site.item(f"s{n}.md", news(title=f"Distinct story {n}", url=f"https://news.example.com/{n}", heat=10 * n))
    server = preview()
    site.item("s2.md", news(title="Distinct story 2", url="https://news.example.com/2", heat=99, body="Rewritten body."))
    server.next_event("reload")
    assert any(line.startswith("Redone in place") for line in server.lines), server.lines
    assert "Rewritten body." in server.page("/stories/distinct-story-2/")
    clean = site.root / "clean"
    assert site.run("build", "--no-search", "--clean", "--output", str(clean), "--base-url", server.url).code == 0
    deadline = time.monotonic() + 60
    while "The exact build is live." not in server.lines and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "The exact build is live." in server.lines, server.lines
    assert not any("could not be read back" in line for line in server.lines), server.lines  # its stories are the state
    assert snapshot(site.root / "public") == snapshot(clean)


def test_broken_file_keeps_the_old_site_and_shows_the_overlay_until_fixed(site, preview) -> None:
    site.item("a.md", news(title="Robots learn to fold laundry"))
    server = preview()
    site.item("a.md", "---\ntitle: [unclosed\nheat: 5\n---\nbody\n")
    name, state = server.next_event("failed")
    assert state["failed"] and state["problems"][0]["file"] == "content/a.md" and state["problems"][0]["line"]
    html = server.page("/stories/robots-learn-to-fold-laundry/")  # the last good site, with the overlay on load
    assert "fold laundry" in html and OVERLAY in html and "content/a.md:" in html
    assert any("content/a.md:" in line for line in server.lines)  # and in the terminal
    site.item("a.md", news(title="Robots learn to fold laundry", body="Fixed."))
    name, state = server.next_event("reload")
    assert not state["problems"]
    html = server.page("/stories/robots-learn-to-fold-laundry/")
    assert "Fixed." in html and OVERLAY not in html


def test_template_error_keeps_the_old_site_and_names_template_and_line(site, preview) -> None:
    site.item("a.md", news(title="Robots learn to fold laundry"))
    server = preview()
    site.write("templates/story.html", '{% extends "base.html" %}\n{% block main %}\n{{ story.title }\n{% endblock %}\n')
    _, state = server.next_event("failed")
    problem = state["problems"][0]
    assert problem["file"] == "templates/story.html" and problem["line"] in (3, 4)
    assert "fold laundry" in server.page("/stories/robots-learn-to-fold-laundry/")
    (site.root / "templates" / "story.html").unlink()
    server.next_event("reload")
    assert OVERLAY not in server.page("/")


def test_config_error_is_shown_and_fixing_it_rebuilds(site, preview) -> None:
    site.item("a.md", news())
    site.config('title = "First"\n')
    server = preview()
    site.config('title = "Second"\nnot_a_key = 1\n')
    _, state = server.next_event("failed")
    assert "not_a_key" in state["problems"][0]["message"]
    assert "First" in server.page("/")
    site.config('title = "Second"\n')
    server.next_event("reload")
    assert "<title>Second</title>" in server.page("/")


def test_deleting_an_item_removes_its_page(site, preview) -> None:
    site.item("a.md", news(title="Robots learn to fold laundry"))
    site.item("b.md", news(title="Chips get faster", url="https://chips.example.org/faster", topic="Chips", outlet="Chip Times", domain="chips.example.org", when="2026-11-18T08:00:00Z", excerpt="A new accelerator doubles throughput.", body="Benchmarks of the accelerator show twice the tokens per second."))
    server = preview()
    assert server.request("/stories/chips-get-faster/")[0] == 200
    (site.root / "content" / "b.md").unlink()
    server.next_event("reload")
    assert server.request("/stories/chips-get-faster/")[0] == 404
    assert "Chips get faster" not in server.page("/")


def test_editor_temporary_files_and_output_are_not_changes(site, preview) -> None:
    site.item("a.md", news())
    server = preview()
    (site.root / "content" / ".a.md.swp").write_text("x")
    (site.root / "content" / "a.md~").write_text("x")
    (site.root / "public" / "stray.txt").write_text("x")
    with pytest.raises(queue.Empty):
        server.events.get(timeout=1.0)


def test_paths_outside_the_output_folder_are_refused(site, preview, tmp_path) -> None:
    site.item("a.md", news())
    (tmp_path / "secret.txt").write_text("secret")
    server = preview()
    (site.root / "public" / "escape").symlink_to(tmp_path)
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%2f..%2fsecret.txt",
                 "/escape/secret.txt", "/escape/", str(tmp_path / "secret.txt"), "/..\\secret.txt",
                 "/%5c..%5csecret.txt", "/index.html%00.txt", "/%00", "//etc/passwd", "/etc/passwd"]:
        status, _, body = server.request(path)
        assert status in (400, 404), (path, status)
        assert b"secret" not in body, path


def test_not_found_uses_the_sites_404_page_and_head_works(site, preview) -> None:
    site.item("a.md", news())
    server = preview()
    status, headers, body = server.request("/no/such/page/")
    assert status == 404 and b"Page not found" in body and headers["content-type"].startswith("text/html")
    status, headers, body = server.request("/", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    status, headers, _ = server.request("/topics")  # a folder without its slash
    assert status == 301 and headers["location"] == "/topics/"


@pytest.mark.parametrize("path, kind", [
    ("/", "text/html; charset=utf-8"), ("/404.html", "text/html; charset=utf-8"),
    ("/assets/style.css", "text/css; charset=utf-8"), ("/favicon.svg", "image/svg+xml; charset=utf-8"),
    ("/data.json", "application/json; charset=utf-8"), ("/app.js", "text/javascript; charset=utf-8"),
    ("/logo.png", "image/png"), ("/font.woff2", "font/woff2"),
])
def test_mime_types(site, preview, path, kind) -> None:
    site.item("a.md", news())
    for name in ("data.json", "app.js", "logo.png", "font.woff2"):
        site.write(f"static/{name}", "x")
    server = preview()
    status, headers, _ = server.request(path, method="HEAD")
    assert status == 200 and headers["content-type"] == kind


def test_many_concurrent_requests(site, preview) -> None:
    site.item("a.md", news())
    server = preview()
    results: list[int] = []

    def fetch() -> None:
        for _ in range(5):
            results.append(server.request("/")[0])

    threads = [threading.Thread(target=fetch) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [200] * 100


def test_rapid_edits_renames_and_deletes_leave_the_server_alive_and_the_site_right(site, preview) -> None:
    import random

    from test_incremental import snapshot, story

    for n in range(10):
        site.item(f"s{n}.md", story(n))
    server = preview()
    rng = random.Random(5)
    names = [f"s{n}.md" for n in range(10)]
    content = site.root / "content"
    for step in range(200):  # bounded: 200 changes, no sleeps beyond a few milliseconds
        action = rng.random()
        if action < 0.6 or len(names) < 3:
            name = rng.choice(names) if names and action < 0.5 else f"n{step}.md"
            site.item(name, story(rng.randrange(60), body=f"Edit number {step}."))
            if name not in names:
                names.append(name)
        elif action < 0.8:
            old = names.pop(rng.randrange(len(names)))
            new = f"r{step}.md"
            os.rename(content / old, content / new)
            names.append(new)
        else:
            (content / names.pop(rng.randrange(len(names)))).unlink()
        if step % 20 == 0:
            time.sleep(0.01)
    site.item("last.md", story(77, title="The very last edit"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # rebuilds until the last edit is in
        if server.request("/")[0] == 200 and "The very last edit" in server.page("/"):
            break
        time.sleep(0.2)
    clean = site.root / "clean"
    assert site.run("build", "--no-search", "--clean", "--output", str(clean), "--base-url", server.url).code == 0
    expected = snapshot(clean)
    # Edits are first redone in place; the exact build follows once the files are quiet.
    deadline = time.monotonic() + 120
    while snapshot(site.root / "public") != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.request("/")[0] == 200
    served = {}
    for path in snapshot(site.root / "public"):
        status, _, body = server.request("/" + path)
        assert status == 200, path
        served[path] = body
    assert set(served) == set(expected)
    assert snapshot(site.root / "public") == expected, server.lines[-5:]
