"""Browser fixtures: Debian's chromium driven headless by Playwright, and a static server on 127.0.0.1.

Nothing downloads a browser: Playwright launches /usr/bin/chromium (installed by .ci/run
with apt-get).  The tests skip when chromium or playwright is missing on a developer machine,
but CI installs both.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run should have installed it")
        pytest.skip("chromium is not installed")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))  # type: ignore[attr-defined]
    yield page
    context.close()


class StaticServer:
    """Serves `root` at http://127.0.0.1:PORT{prefix} (prefix such as "/digest/"), like GitHub Pages."""

    def __init__(self, root: Path, prefix: str = "/") -> None:
        self.root, self.prefix = root, prefix
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def translate_path(self, path: str) -> str:
                if not path.startswith(server.prefix):
                    return str(server.root / "__outside_prefix__")
                return super().translate_path("/" + path[len(server.prefix):])

            def send_error(self, code, message=None, explain=None):  # the site's own 404 page, as Pages does
                not_found = server.root / "404.html"
                if code == 404 and not_found.is_file():
                    body = not_found.read_bytes()
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                super().send_error(code, message, explain)

            def log_message(self, *args) -> None:
                pass

        class QuietServer(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:  # a browser cancelling a request is normal
                import sys

                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
                    super().handle_error(request, client_address)

        self.httpd = QuietServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{prefix}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "StaticServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve_static() -> Iterator:
    servers: list[StaticServer] = []

    def start(root: Path, prefix: str = "/") -> StaticServer:
        server = StaticServer(root, prefix).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
