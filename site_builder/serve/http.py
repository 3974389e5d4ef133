"""The preview server's HTTP side: files from the output folder, nothing else, plus the reload stream.

Every request resolves its path afresh against the output folder, because a
rebuild swaps a new folder in under the same name.  A path that decodes to
`..`, a backslash or a NUL is refused with 400; one that resolves (through
symbolic links) outside the folder is a 404, as is a folder without
index.html: there is no directory listing.  HTML responses get the live
reload script (and the error overlay while an error stands) before `</body>`.
"""

from __future__ import annotations

import mimetypes
import queue
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .livereload import EVENTS_PATH, LiveReload

#: Types that matter for a static site, fixed here so the answer does not depend on the machine's mime.types.
MIME_TYPES = {
    ".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript", ".mjs": "text/javascript",
    ".json": "application/json", ".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml",
    ".txt": "text/plain", ".md": "text/plain", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
    ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json", ".pdf": "application/pdf",
}
_TEXTUAL = ("text/", "application/json", "application/xml", "application/rss+xml", "application/atom+xml",
            "image/svg+xml", "application/manifest+json", "text/javascript")
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
#: How often an idle event stream is pinged, so a closed tab frees its thread.
PING_SECONDS = 10.0


class BadPath(Exception):
    """The request path can never name a file of the site (400)."""


def mime_type(path: Path) -> str:
    kind = MIME_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith(_TEXTUAL) else kind


def request_parts(target: str) -> tuple[list[str], bool]:
    """The decoded path segments of a request target, and whether it ended in `/`; BadPath for traversal tricks."""
    raw = urlsplit(target).path if not target.startswith("/") else target.split("?", 1)[0].split("#", 1)[0]
    if not raw.startswith("/") or "\\" in raw:
        raise BadPath(target)
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadPath(target) from None
    if "\x00" in decoded or "\\" in decoded:
        raise BadPath(target)
    segments = decoded.split("/")
    if any(segment == ".." for segment in segments):
        raise BadPath(target)
    return [s for s in segments if s not in ("", ".")], decoded.endswith("/")


def find_file(root: Path, parts: list[str]) -> tuple[Path | None, bool]:
    """(the file to serve or None, whether the request should be redirected to add a `/`)."""
    try:
        base = root.resolve(strict=True)
        target = base.joinpath(*parts).resolve()
    except (OSError, RuntimeError):  # missing output folder, symlink loop
        return None, False
    if target != base and not target.is_relative_to(base):
        return None, False
    if target.is_dir():
        index = target / "index.html"
        return (index, True) if index.is_file() else (None, False)
    return (target, False) if target.is_file() else (None, False)


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], root: Path, hub: LiveReload) -> None:
        self.root = root
        self.hub = hub
        super().__init__(address, PreviewHandler)

    def handle_error(self, request, client_address) -> None:
        # A browser that closes a tab or cancels a request mid-response is normal, not an error
        # to print as a traceback; anything else still is.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "site-builder"
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, head: bool) -> None:
        try:
            parts, trailing_slash = request_parts(self.path)
        except BadPath:
            self._send_plain(HTTPStatus.BAD_REQUEST, "bad request path", head)
            return
        if "/" + "/".join(parts) == EVENTS_PATH:
            self._events(head)
            return
        path, is_folder = find_file(self.server.root, parts)
        if path is None:
            self._not_found(head)
        elif is_folder and not trailing_slash:
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", "/" + "".join(p + "/" for p in parts))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send_file(HTTPStatus.OK, path, head)

    def _send_file(self, status: HTTPStatus, path: Path, head: bool) -> None:
        try:
            body = path.read_bytes()
        except OSError:  # swapped away between resolving and reading
            self._send_plain(HTTPStatus.NOT_FOUND, "not found", head)
            return
        kind = mime_type(path)
        if kind.startswith("text/html"):
            body = inject(body, self.server.hub.snippet())
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _not_found(self, head: bool) -> None:
        page, _ = find_file(self.server.root, ["404.html"])
        if page is not None:
            self._send_file(HTTPStatus.NOT_FOUND, page, head)
        else:
            self._send_plain(HTTPStatus.NOT_FOUND, "not found", head)

    def _send_plain(self, status: HTTPStatus, text: str, head: bool) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _events(self, head: bool) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if head:
            return
        hub = self.server.hub
        client = hub.subscribe()
        try:
            while not hub.closed.is_set():
                try:
                    message = client.get(timeout=PING_SECONDS)
                except queue.Empty:
                    message = ": ping\n\n"
                if message is None:
                    break
                self.wfile.write(message.encode("utf-8"))
                self.wfile.flush()
        except OSError:  # the page went away
            pass
        finally:
            hub.unsubscribe(client)
            self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # the terminal shows builds and errors, not every request


def inject(body: bytes, snippet: bytes) -> bytes:
    """Add the snippet before the last `</body>`, or at the end when there is none."""
    matches = list(_BODY_END.finditer(body))
    if not matches:
        return body + snippet
    at = matches[-1].start()
    return body[:at] + snippet + body[at:]
