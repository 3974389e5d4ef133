"""The preview server under load: bounded, loopback only, nothing served from outside the output folder.

`site-builder serve` runs on 127.0.0.1 (port 0) over a small site.  2 000
requests, 50 at a time, mix every file of the site with traversal tricks
(`..` raw, percent-encoded, double-encoded, with backslashes, NULs, unicode
look-alikes, absolute forms, a symbolic link out of the folder) and missing
paths: none fails, every file comes back with its own bytes, and no answer
ever holds the secret kept beside the output folder.  Malformed requests get
400 (or the 4xx/5xx status HTTP has for them) and the server keeps serving.
"""

from __future__ import annotations

import http.client
import os
import queue
import random
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from conftest import news
from site_builder.serve import serve

REQUESTS = 2000
CONCURRENCY = 50
SECRET = b"OUTSIDE-THE-OUTPUT-SECRET-51f0"
TRAVERSALS = [
    "/../secret.txt", "/../../secret.txt", "/stories/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
    "/%2e%2e%2fsecret.txt", "/..%2fsecret.txt", "/.%2e/secret.txt", "/%252e%252e/secret.txt", "/..\\secret.txt",
    "/%5c..%5csecret.txt", "/..%5csecret.txt", "/%00", "/index.html%00.txt", "/stories/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd", "/．．／secret.txt", "/%ef%bc%8e%ef%bc%8e%ef%bc%8fsecret.txt", "/..%e2%88%95secret.txt",
    "/%c0%ae%c0%ae/secret.txt", "/%ff", "http://127.0.0.1/../secret.txt", "/link-out.txt", "/link-out-dir/secret.txt",
    "/etc/passwd", "/proc/self/environ", "/.public.lock", "/../.public.lock", "/stories/..;/..;/secret.txt",
]
MALFORMED = [
    (b"GARBAGE\r\n\r\n", {400}),
    (b"GET\r\n\r\n", {400}),
    (b"GET / HTTP/1.1 extra\r\n\r\n", {400}),
    (b"GET / HTTP/x.y\r\n\r\n", {400}),
    (b"\x00\x01\x02\x03 \xff\xfe HTTP/1.0\r\n\r\n", {400, 501}),
    (b"GET /../../etc/passwd HTTP/1.0\r\n\r\n", {400}),
    (b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.0\r\n\r\n", {400}),
    (b"GET /\\..\\..\\etc\\passwd HTTP/1.0\r\n\r\n", {400}),
    (b"GET /%00 HTTP/1.0\r\n\r\n", {400}),
    (b"GET /%ff%fe HTTP/1.0\r\n\r\n", {400}),
    (b"GET index.html HTTP/1.0\r\n\r\n", {400}),
    (b"GET / HTTP/1.0\r\nNo colon header\r\n\r\n", {200, 400}),
    (b"GET / HTTP/9.9\r\n\r\n", {505}),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", {414}),
    (b"GET / HTTP/1.0\r\n" + b"X-Long: " + b"b" * 70_000 + b"\r\n\r\n", {400, 431}),
    (b"GET / HTTP/1.0\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n", {431, 400}),
    (b"BREW /pot HTTP/1.0\r\n\r\n", {501}),
]


@pytest.fixture
def server(site, tmp_path: Path):
    for index in range(12):
        site.item(f"item-{index}.md", news(
            title=f"Story number {index} about {['robots', 'chips', 'models', 'agents'][index % 4]} {index * 37}",
            url=f"https://n{index}.example.com/{index}", domain=f"n{index}.example.com", outlet=f"Outlet {index}",
            when=f"2026-11-{1 + index:02d}T10:00:00Z", body=f"Body {index}: " + "words " * (20 + index)))
    (site.root / "secret.txt").write_bytes(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    stop = threading.Event()
    started: queue.Queue[str] = queue.Queue()
    lines: list[str] = []
    thread = threading.Thread(target=serve, daemon=True, kwargs=dict(
        project=site.root, content=site.root / "content", output=site.root / "public", port=0, search=False,
        stop=stop, log=lines.append, ready=started.put))
    thread.start()
    url = started.get(timeout=120)
    output = site.root / "public"
    # links that a careless server would follow out of the folder
    os.symlink(outside / "secret.txt", output / "link-out.txt")
    os.symlink(outside, output / "link-out-dir")
    yield urlsplit(url).hostname, urlsplit(url).port, output
    stop.set()
    thread.join(timeout=30)


def get(host: str, port: int, target: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        # non-ASCII is percent-encoded, as a browser sends it; everything else goes as written
        connection.putrequest("GET", quote(target, safe="".join(map(chr, range(33, 127)))), skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def raw(host: str, port: int, data: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=30) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_two_thousand_requests_fifty_at_a_time(server) -> None:
    host, port, output = server
    assert host == "127.0.0.1"
    files = {"/" + p.relative_to(output).as_posix(): p.read_bytes() for p in output.rglob("*")
             if p.is_file() and not p.is_symlink() and not p.relative_to(output).as_posix().startswith(".")}
    folders = ["/" + p.relative_to(output).as_posix() + "/" for p in output.rglob("*") if p.is_dir() and (p / "index.html").is_file()]
    rng = random.Random(7)
    plan = []
    for index in range(REQUESTS):
        kind = rng.random()
        if kind < 0.6:
            plan.append(("file", rng.choice(sorted(files))))
        elif kind < 0.75:
            plan.append(("folder", rng.choice(sorted(folders))))
        elif kind < 0.95:
            plan.append(("hostile", rng.choice(TRAVERSALS)))
        else:
            plan.append(("missing", f"/no/such/page-{index}/"))

    def fetch(entry: tuple[str, str]) -> tuple[str, str, int, bytes]:
        kind, target = entry
        status, body = get(host, port, target)
        return kind, target, status, body

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        results = list(pool.map(fetch, plan))
    seconds = time.perf_counter() - started
    assert seconds < 120, f"{REQUESTS} requests took {seconds:.1f} s"
    statuses: dict[str, dict[int, int]] = {}
    for kind, target, status, body in results:
        statuses.setdefault(kind, {}).setdefault(status, 0)
        statuses[kind][status] += 1
        assert SECRET not in body, target
        assert b"root:x:0:0" not in body, target
        if kind == "file":
            assert status == 200, (target, status)
            expected = files[target]
            if target.endswith(".html"):  # the reload script goes in before </body>; the page is otherwise the file
                assert body.startswith(expected[: expected.lower().rfind(b"</body")]), target
            else:
                assert body == expected, target
        elif kind == "folder":
            assert status == 200, (target, status)
        elif kind == "hostile":
            assert status in (400, 404), (target, status)
        else:
            assert status == 404, (target, status)
    assert statuses["hostile"].get(400, 0) > 0 and not any(s >= 500 for k in statuses.values() for s in k)
    print(f"{REQUESTS} requests, {CONCURRENCY} at a time, in {seconds:.1f} s: {statuses}")


def test_every_traversal_is_refused(server) -> None:
    host, port, _ = server
    for target in TRAVERSALS:
        status, body = get(host, port, target)
        assert status in (400, 404), (target, status)
        assert SECRET not in body


@pytest.mark.parametrize("request_bytes, allowed", MALFORMED, ids=[repr(m[0][:24]) for m in MALFORMED])
def test_malformed_requests_get_a_4xx_and_the_server_keeps_serving(server, request_bytes: bytes, allowed: set[int]) -> None:
    host, port, _ = server
    answer = raw(host, port, request_bytes)
    # A request line that cannot be read has no HTTP version, so the answer is HTTP/0.9-style: the body only.
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer) or re.search(rb"Error code: (\d{3})", answer)
    assert match, answer[:200]
    status = int(match.group(1))
    assert status in allowed, (request_bytes[:40], answer[:200])
    assert SECRET not in answer and b"root:x:0:0" not in answer and b"Traceback" not in answer
    assert get(host, port, "/")[0] == 200


def test_half_open_and_idle_connections_do_not_stop_the_server(server) -> None:
    host, port, _ = server
    idle = [socket.create_connection((host, port), timeout=5) for _ in range(20)]
    try:
        for connection in idle[:10]:
            connection.sendall(b"GET / HTTP/1.0\r\nHost: x")  # never finished
        status, _ = get(host, port, "/")
        assert status == 200
    finally:
        for connection in idle:
            connection.close()
