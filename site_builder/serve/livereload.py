"""Live reload: the hub that tells every open page to reload or to show the build error.

Pages connect to an event stream (Server-Sent Events).  The hub keeps the
site's generation (one more after every good rebuild) and the error that
stands, if any, so a page that connects late still learns both: the first
event of every stream is `hello` with the current state.  The script and the
overlay markup are added to HTML responses by the server, never to `build`
output.
"""

from __future__ import annotations

import html
import json
import queue
import threading
from dataclasses import asdict, dataclass

EVENTS_PATH = "/__site-builder/events"


@dataclass(frozen=True, slots=True)
class Problem:
    """One line of the error overlay: `file:line: message`."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" if where else self.message


class LiveReload:
    """Broadcasts `reload` and `error` events to every connected page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: set[queue.Queue[str | None]] = set()
        self.generation = 0
        self.problems: tuple[Problem, ...] = ()
        #: True when the problems stopped the rebuild (the last good site is still served).
        self.failed = False
        self.closed = threading.Event()

    def subscribe(self) -> queue.Queue[str | None]:
        client: queue.Queue[str | None] = queue.Queue()
        with self._lock:
            self._clients.add(client)
            client.put(_event("hello", self._state()))
        return client

    def unsubscribe(self, client: queue.Queue[str | None]) -> None:
        with self._lock:
            self._clients.discard(client)

    def built(self, problems: tuple[Problem, ...] = ()) -> None:
        """A rebuild succeeded: pages reload; content problems, if any, stay in the overlay."""
        with self._lock:
            self.generation += 1
            self.problems, self.failed = problems, False
            self._broadcast(_event("reload", self._state()))

    def failed_with(self, problems: tuple[Problem, ...]) -> None:
        """A rebuild failed: pages keep the last good site and show the overlay."""
        with self._lock:
            self.problems, self.failed = problems, True
            self._broadcast(_event("failed", self._state()))

    def close(self) -> None:
        with self._lock:
            self.closed.set()
            for client in self._clients:
                client.put(None)
            self._clients.clear()

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    def _state(self) -> dict:
        return {"generation": self.generation, "failed": self.failed, "problems": [asdict(p) for p in self.problems]}

    def _broadcast(self, message: str) -> None:
        for client in self._clients:
            client.put(message)

    def snippet(self) -> bytes:
        """What the server adds before `</body>` of every HTML response: the overlay (while an error stands) and the script."""
        with self._lock:
            state = self._state()
        overlay = overlay_html(self.problems, self.failed) if self.problems else ""
        script = _SCRIPT.replace("__STATE__", json.dumps(state).replace("</", "<\\/"))
        return (overlay + script).encode("utf-8")


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def overlay_html(problems: tuple[Problem, ...], failed: bool) -> str:
    heading = "Rebuild failed: showing the last good site" if failed else "Content problems (the site was rebuilt without them)"
    lines = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems)
    return (f'<div id="site-builder-overlay" role="alert" style="{_OVERLAY_STYLE}">'
            f'<strong>{html.escape(heading)}</strong><ul style="margin:.5em 0 0;padding-left:1.2em">{lines}</ul></div>')


_OVERLAY_STYLE = ("position:fixed;inset:auto 0 0 0;z-index:2147483647;max-height:60vh;overflow:auto;margin:0;"
                  "padding:1em 1.5em;background:#2b0b0b;color:#ffd7d7;font:14px/1.5 ui-monospace,monospace;"
                  "border-top:4px solid #e5484d;white-space:pre-wrap")

# The page's own generation is baked in, so a rebuild that happened between
# the page's load and the stream's connection still reloads it.
_SCRIPT = """<script>(function(){
var state=__STATE__, style=%s;
function esc(s){return String(s).replace(/[&<>"]/g,function(c){return {"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;"}[c]})}
function show(s){var old=document.getElementById("site-builder-overlay");if(old)old.remove();
 if(!s.problems.length)return;var box=document.createElement("div");box.id="site-builder-overlay";box.setAttribute("role","alert");box.style.cssText=style;
 var head=s.failed?"Rebuild failed: showing the last good site":"Content problems (the site was rebuilt without them)";
 box.innerHTML="<strong>"+esc(head)+"</strong><ul style=\\"margin:.5em 0 0;padding-left:1.2em\\">"+s.problems.map(function(p){
  return "<li>"+esc((p.file?p.file+(p.line?":"+p.line:"")+": ":"")+p.message)+"</li>"}).join("")+"</ul>";document.body.appendChild(box)}
var source=new EventSource("%s");
source.addEventListener("hello",function(e){var s=JSON.parse(e.data);if(s.generation!==state.generation){location.reload()}else{show(s)}});
source.addEventListener("reload",function(){location.reload()});
source.addEventListener("failed",function(e){show(JSON.parse(e.data))});
})();</script>""" % (json.dumps(_OVERLAY_STYLE), EVENTS_PATH)
