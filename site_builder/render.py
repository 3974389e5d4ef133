"""Rendering: the Jinja environment, Markdown, and the helpers templates call.

Templates are looked up in an ordered list of folders, first match wins: the
site's `templates/`, then the package's defaults.  Autoescape is on and
Markdown has raw HTML disabled, so nothing from content reaches a page
unescaped; only http(s), mailto and relative links survive.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import traceback
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import jinja2
from markupsafe import Markup, escape

from .config import SiteConfig
from . import usercache
from .errors import TemplateError
from .incremental import code_version
from .models import Item, Page
from .templating import Environment

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

THEME = Path(__file__).parent / "theme"
_RTL = {"ar", "he", "fa", "ur", "ps", "sd", "yi", "dv", "ug", "ku"}
#: Static files that get a content-hashed name (assets/style.css -> assets/style.<hash>.css) for long caching.
_FINGERPRINTED = (".css", ".js")
# Arguments of `once` compared by value (these exact types); anything else by identity.
_KEY_ATOMS = frozenset((str, int, float, bool, type(None)))
# "./" and "../" but not "//host" (protocol-relative: another site, under no scheme we checked).
_SAFE_LINK = re.compile(r"^(https?:|mailto:|#|/(?![/\\])|\.{1,2}/|[\w.-]+(/|$))", re.IGNORECASE)


def markdown_parser() -> MarkdownIt:
    # Imported here, when a body first needs it: most news bodies are plain paragraphs, which
    # plain_paragraphs() writes without it, and importing markdown-it was 17 ms of every start.
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])
    # markdown-it already refuses javascript:/vbscript:/file:; we also refuse data: and other schemes.
    md.validateLink = lambda url: bool(_SAFE_LINK.match(url.strip()))
    return md


class Renderer:
    """Turns planned Pages into HTML, with one Jinja environment compiled once per build."""

    def __init__(self, config: SiteConfig, template_dirs: list[Path], static_files: set[str], globals_: dict[str, Any],
                 assets: dict[str, str] | None = None) -> None:
        self.config = config
        self.static_files = static_files
        self.assets = assets or {}
        self.template_dirs = [d for d in template_dirs if d.is_dir()] + [THEME / "templates"]
        self.env = Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in self.template_dirs]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            cache_size=-1,
            bytecode_cache=ThemeCache.open(),
        )
        self._markdown: MarkdownIt | None = None  # made on first use (see markdown_parser)
        #: HTML that `once` has rendered, by its arguments; one per Renderer, so a rebuild never sees the last one's.
        self._once: dict[tuple, tuple[tuple, Markup]] = {}
        tz = config.tz
        base_path = config.base_path
        site_url = config.site_url

        def url(path: str = "") -> str:
            return base_path + path.lstrip("/")

        def abs_url(path: str = "") -> str:
            return site_url + path.lstrip("/")

        def asset(path: str) -> str:
            """The fingerprinted URL of a static asset ("assets/style.css" -> "/assets/style.1a2b3c4d5e.css")."""
            path = path.lstrip("/")
            return url(self.assets.get(path, path))

        def local_time(moment: datetime | None, fmt: str = "%b %-d, %Y %H:%M") -> str:
            return moment.astimezone(tz).strftime(fmt) if moment else ""

        self.env.globals.update(site=config, url=url, abs_url=abs_url, asset=asset, image_src=self.image_src, text_dir=text_dir,
                                once=self.once, memo=self.memo, **globals_)
        self.env.filters.update(
            local_time=local_time,
            iso=lambda m: m.isoformat() if m else "",
            body_html=self.body_html,
            plural=lambda n, word: f"{n} {word}" if n == 1 else f"{n} {word}s",
        )

    def compile_all(self) -> list[str]:
        """Compile every HTML template now (forked workers then inherit them compiled); returns their names.

        A template that does not compile is left for render() to report, with its line."""
        names = self.env.list_templates(filter_func=lambda name: name.endswith(".html"))
        for name in names:
            try:
                self.env.get_template(name)
            except jinja2.TemplateError:
                pass
        return names

    def image_src(self, url: str | None) -> str | None:
        """A remote image as is; a root-relative one only if the site ships it in static/."""
        if not url:
            return None
        if url.startswith("/"):
            return self.config.base_path + url.lstrip("/") if url.lstrip("/") in self.static_files else None
        return url

    def once(self, *key: Any, caller: Any) -> Markup:
        """`{% call once(name, *arguments) %}...{% endcall %}`: the block's HTML, rendered the first time only.

        For blocks whose output depends on nothing but their arguments and the globals (the story card:
        its URLs are absolute, so one card serves the front page, topic, source and day pages alike).
        Objects are compared by identity; they are kept alive with the HTML, so an id is never reused.
        The block's own compiled code is part of the key, so two templates (a site's copy of base.html
        beside the default one) never share an entry even when they pass the same name.
        """
        return self._remembered(getattr(getattr(caller, "_func", None), "__code__", None), key, caller, key)

    def memo(self, macro: Any, *arguments: Any) -> Markup:
        """`{{ memo(story_card, story, ...) }}`: macro(*arguments), called the first time only, on the terms
        of `once`.  For a list of cards: where `once` inside the macro still pays for the macro call and
        its call block each time (a third of a topic page), this pays for a lookup."""
        code = getattr(getattr(macro, "_func", None), "__code__", None)
        return self._remembered(code if code is not None else id(macro), arguments, lambda: macro(*arguments), (macro, arguments))

    def _remembered(self, block: Any, parts: tuple, render: Callable[[], Markup], keep: tuple) -> Markup:
        """The HTML `render()` made for the first call with this block and these parts (see once);
        `keep` is held with it, so that no id in the key is ever reused."""
        # Atoms with their type, as True == 1; a list, not a generator: this runs four times per page and once per card.
        ids = (block, *[(type(part), part) if type(part) in _KEY_ATOMS else id(part) for part in parts])
        found = self._once.get(ids)
        if found is None:
            found = self._once[ids] = (keep, render())
        return found[1]

    def set_globals(self, helpers: dict[str, Any]) -> None:
        """New link maps: the build's, once the digest is made (the renderer is made before, while the files
        load), and the preview server's after an in-place edit, for a renderer that has rendered pages.

        Jinja keeps each template imported without context (`{% from "_macros.html" import ... %}`)
        as a module made once with the globals of that moment: the modules are dropped so that the
        macros see the new maps, and so are the blocks `once` kept (they hold their stories alive).
        """
        self.env.globals.update(helpers)
        for template in list(self.env.cache.values() if self.env.cache is not None else ()):
            template._module = None
        self._once.clear()

    def body_html(self, item: Item) -> Markup:
        return _body_html(self._markdown_parser, item.body_format, item.body)

    def _markdown_parser(self) -> MarkdownIt:
        if self._markdown is None:
            self._markdown = markdown_parser()
        return self._markdown

    def render(self, page: Page, context: dict[str, Any]) -> str:
        try:
            template = self.env.get_template(page.template)
            return template.render(page=page, **context)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(_template_name(exc.filename or exc.name or page.template, self.template_dirs), exc.lineno, exc.message or "syntax error") from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(exc.name or page.template, None, f"template not found (looked in {', '.join(map(str, self.template_dirs))})") from None
        except Exception as exc:  # an error inside a template: name the template frame, not our code
            name, line = _template_frame(exc, self.template_dirs, page.template)
            raise TemplateError(name, line, f"{type(exc).__name__}: {exc}") from None


class ThemeCache(jinja2.FileSystemBytecodeCache):
    """The default theme's templates compiled, and what each reads, kept in the user's cache folder.

    Compiling the theme is 60 ms of every build, always to the same code: Jinja's own bytecode
    cache keeps it (each file checked against its source's checksum), in a folder named after
    this version of site_builder (the environment's options shape the code) and of Jinja.  A
    site's own templates are compiled every time: caching them per project in a shared folder
    would keep every template ever built.
    """

    _THEME = os.path.join(str(THEME / "templates"), "")
    _FACTS = "template-facts.json"

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.folder = folder
        try:
            self._facts: dict[str, list] = json.loads((folder / self._FACTS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._facts = {}
        self._new_facts = False

    @classmethod
    def open(cls) -> "ThemeCache | None":
        root = usercache.root()
        if root is None:
            return None
        folder = root / f"templates-{jinja2.__version__}-{code_version()[:16]}"
        if not folder.is_dir():
            try:
                folder.mkdir(parents=True)
            except FileExistsError:
                pass  # another build made it meanwhile
            except OSError:
                return None
            else:
                usercache.prune(folder, "templates-")
        return cls(folder)

    @classmethod
    def keeps(cls, filename: str | None) -> bool:
        """Whether the template at `filename` is one of the theme's: the only ones kept here."""
        return filename is not None and filename.startswith(cls._THEME)

    def get_bucket(self, environment, name, filename, source):  # type: ignore[override]
        if not self.keeps(filename):
            return _Uncached(environment, "", "")
        try:
            return super().get_bucket(environment, name, filename, source)
        except Exception:  # a damaged file: compiled again, and written over
            return jinja2.bccache.Bucket(environment, self.get_cache_key(name, filename), self.get_source_checksum(source))

    def set_bucket(self, bucket: jinja2.bccache.Bucket) -> None:
        if isinstance(bucket, _Uncached):
            return
        try:
            super().set_bucket(bucket)
        except OSError:
            pass  # not kept: the next build compiles it again

    def facts(self, filename: str | None, source: str) -> list | None:
        """What template_facts() found in this source, when the theme's file was read before."""
        return self._facts.get(self.get_source_checksum(source)) if self.keeps(filename) else None

    def remember(self, filename: str | None, source: str, facts: list) -> None:
        if self.keeps(filename):
            self._facts[self.get_source_checksum(source)] = facts
            self._new_facts = True

    def save(self) -> None:
        if not self._new_facts:
            return
        temporary = self.folder / f".{self._FACTS}.{os.getpid()}"
        try:
            temporary.write_text(json.dumps(self._facts, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.folder / self._FACTS)
        except OSError:
            try:
                temporary.unlink(missing_ok=True)
            except OSError:
                pass
        self._new_facts = False


class _Uncached(jinja2.bccache.Bucket):
    """The bucket of a template ThemeCache does not keep: it never has code, and is never written."""


def fingerprint_assets(folders: list[Path]) -> dict[str, tuple[str, Path]]:
    """Path -> (fingerprinted path, source file) for every CSS and JS file of the static folders (later folders win).

    The name carries the first ten hex digits of the file's sha256, so the same bytes always get
    the same name (reproducible builds) and a changed file gets a new one (safe to cache forever).
    """
    winners: dict[str, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for file in sorted(folder.rglob("*")):
                relative = file.relative_to(folder)
                if file.is_file() and file.suffix in _FINGERPRINTED and not any(part.startswith(".") for part in relative.parts):
                    winners[relative.as_posix()] = file
    named = {}
    for relative, file in sorted(winners.items()):
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:10]
        stem, dot, suffix = relative.rpartition(".")
        named[relative] = (f"{stem}.{digest}.{suffix}", file)
    return named


_BODY_CACHE: dict[tuple[str, str], Markup] = {}


def text_dir(lang: str | None) -> str:
    return "rtl" if (lang or "").split("-")[0].lower() in _RTL else "ltr"


def _body_html(parser: Callable[[], MarkdownIt], body_format: str, body: str) -> Markup:
    # One parse per item per process: story pages, feeds and search all reuse it.
    key = (body_format, body)
    cached = _BODY_CACHE.get(key)
    if cached is None:
        if body_format == "markdown":
            plain = plain_paragraphs(body)
            cached = Markup(parser().render(body) if plain is None else plain)
        else:
            cached = text_to_html(body)
        if len(_BODY_CACHE) > 50_000:
            _BODY_CACHE.clear()
        _BODY_CACHE[key] = cached
    return cached


# What makes markdown-it read a body as more than paragraphs of plain text: a character of
# its inline syntax (escape, code, emphasis, strikethrough, link, image, autolink, entity,
# table cell, heading) or NUL; any whitespace but spaces and newlines (it strips Unicode
# whitespace at a paragraph's ends); a line opening with a space (indented code; continuation
# lines are stripped) or a block marker (a list item, a rule or a setext underline: -, +, =,
# "1." or "1)"); a line ending with a space (a hard break).
# (Every whitespace character, listed: a class of ranges is tested 7x faster than [^\S \n].)
_NOT_PLAIN = re.compile(r"[\\`*_~\[\]<>&|#\x00\t\x0b-\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
# The same characters in ASCII text (most bodies), as bytes that bytes.translate deletes: a
# length check finds them five times faster than the pattern.
_NOT_PLAIN_BYTES = b"\\`*_~[]<>&|#\x00\t\r\x0b\x0c\x1c\x1d\x1e\x1f"
_LIST_ITEM = re.compile(r"\d{1,9}[.)](?: |$)")
_BLANK_LINES = re.compile(r"\n\n+")  # not \n{2,}: a pattern opening with a literal is searched 6x faster


def plain_paragraphs(body: str) -> str | None:
    """markdown-it's HTML for a body of plain paragraphs (most news bodies), without its parse;
    None for any other body.  The same bytes: one <p> per run of lines, lines kept as written
    (soft breaks), `"` escaped (&, < and > never get here).  A parse costs 50-100 µs an item,
    this a few; tests/test_render.py checks it against markdown-it."""
    if body.isascii():
        encoded = body.encode()
        if len(encoded.translate(None, _NOT_PLAIN_BYTES)) != len(encoded):
            return None
    elif _NOT_PLAIN.search(body):
        return None
    for line in body.split("\n"):
        if line and (line[0] in " -+=" or line[-1] == " " or (line[0].isdigit() and _LIST_ITEM.match(line))):
            return None
    return "".join([f"<p>{block}</p>\n" for block in _BLANK_LINES.split(body.strip("\n")) if block]).replace('"', "&quot;")


def text_to_html(body: str) -> Markup:
    """Plain text: one paragraph per line; a short line with no full stop before a longer one is a heading."""
    lines = [" ".join(line.split()) for line in body.splitlines()]
    lines = [line for line in lines if line]
    parts = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        heading = len(line) < 90 and not line.endswith((".", "!", "?", ":", "…", '"', "”")) and len(following) > len(line)
        tag = "h2" if heading else "p"
        parts.append(f"<{tag}>{escape(line)}</{tag}>")
    return Markup("\n".join(parts))


def _template_name(filename: str, dirs: list[Path]) -> str:
    path = Path(filename)
    for folder in dirs:
        try:
            relative = path.resolve().relative_to(folder.resolve())
        except ValueError:
            continue
        return f"templates/{relative.as_posix()}" if folder.name == "templates" and folder.parent != THEME else f"(default theme) {relative.as_posix()}"
    return filename


def _template_frame(exc: BaseException, dirs: list[Path], fallback: str) -> tuple[str, int | None]:
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if any(str(frame.filename).startswith(str(folder)) for folder in dirs):
            return _template_name(frame.filename, dirs), frame.lineno
    return fallback, None
