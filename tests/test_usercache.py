"""The user's cache folder: the theme compiled once per version, and old entries pruned."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jinja2.bccache import bc_magic

from site_builder import usercache
from site_builder.config import SiteConfig
from site_builder.incremental import digest_readers
from site_builder.render import THEME, Renderer
from site_builder.templating import Environment

from conftest import news


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "site-builder"


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from source."""
    names: list[str] = []
    compile_ = Environment.compile

    def counting(self, source, name=None, filename=None, *args, **kwargs):
        names.append(name)
        return compile_(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", counting)
    return names


def files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_theme_is_compiled_once_and_a_sites_own_templates_every_time(site, user_cache, compiled) -> None:
    site.item("a.md", news())
    site.write("templates/404.html", "{% extends 'base.html' %}{% block main %}<p>Lost: {{ title }}</p>{% endblock %}")
    theme = sorted(path.name for path in (THEME / "templates").glob("*.html"))

    assert site.build("--no-search").code == 0
    first = files(site.root / "public")
    assert sorted(compiled) == sorted(["404.html", *(name for name in theme if name != "404.html")])
    (folder,) = user_cache.glob("templates-*")
    assert len(list(folder.glob("__jinja2_*.cache"))) == len(theme) - 1  # the site's own 404.html is not kept

    compiled.clear()
    assert site.build("--clean", "--no-search").code == 0
    assert compiled == ["404.html"]
    assert files(site.root / "public") == first
    assert b"Lost: Page not found" in first["404.html"]


def test_a_damaged_cache_is_compiled_again_and_mended(site, user_cache, compiled) -> None:
    site.item("a.md", news())
    assert site.build("--no-search").code == 0
    first = files(site.root / "public")
    (folder,) = user_cache.glob("templates-*")
    for path in folder.iterdir():  # Jinja's header, then what no unpickler reads
        path.write_bytes(bc_magic + b"\x00not what was written" if path.suffix == ".cache" else b"{not json")

    compiled.clear()
    assert site.build("--clean", "--no-search").code == 0
    assert files(site.root / "public") == first
    assert len(compiled) == len(list((THEME / "templates").glob("*.html")))

    compiled.clear()
    assert site.build("--clean", "--no-search").code == 0
    assert compiled == []


def test_the_templates_that_read_the_digest_are_the_same_from_the_cache(user_cache, tmp_path: Path) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    (own / "topic.html").write_text("{% extends 'base.html' %}{% block main %}{{ digest.stories|length }}{% endblock %}")
    names = sorted(path.name for path in (THEME / "templates").glob("*.html"))

    def readers() -> dict[str, bool]:
        env = Renderer(SiteConfig(), [own], set(), {}).env
        return digest_readers(env, names)

    made, read_back = readers(), readers()
    assert (user_cache.glob("templates-*/template-facts.json")).__next__().is_file()
    plain = Renderer(SiteConfig(), [own], set(), {}).env
    plain.bytecode_cache = None
    assert made == read_back == digest_readers(plain, names)
    assert made["topic.html"] and made["index.html"] and not made["404.html"]


def test_only_the_newest_folders_of_a_kind_are_kept(tmp_path: Path) -> None:
    for age, name in enumerate(["langid-e", "langid-d", "templates-x", "langid-c", "langid-b", "langid-a"]):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, ns=(10**18 - age * 10**9, 10**18 - age * 10**9))
    (tmp_path / "langid-new").mkdir()
    usercache.prune(tmp_path / "langid-new", "langid-")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["langid-d", "langid-e", "langid-new", "templates-x"]
