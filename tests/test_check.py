"""`site-builder check`: nothing broken on a good site under a subpath; every broken thing named on a bad one."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO, news

BASE = "https://user.github.io/digest/"


def test_the_sample_site_has_nothing_broken_under_a_subpath(tmp_path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "site_builder", "check", "--project", str(REPO), "--base-url", BASE, "--output", str(tmp_path / "untouched")],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "nothing broken" in run.stdout and BASE in run.stdout
    assert not (tmp_path / "untouched").exists()  # the check builds in a temporary folder


def test_a_template_override_that_breaks_links_is_named(site) -> None:
    site.config(f'base_url = "{BASE}"\n')
    site.item("a.md", news())
    site.write("templates/topic.html", """
        {% extends "base.html" %}
        {% block main %}
        <h1 id="top">{{ topic.name }}</h1>
        <a href="/stories/">leaves the subpath</a>
        <a href="{{ url('nowhere/') }}">missing page</a>
        <a href="{{ url('topics/') }}#no-such-id">missing fragment</a>
        <a href="#top">fine</a>
        <img src="{{ url('assets/missing.png') }}" alt="">
        <a href="https://example.com/elsewhere">another site: not checked</a>
        {% endblock %}
    """)
    result = site.run("check")
    assert result.code == 1
    lines = result.out.splitlines()
    assert "topics/robotics/index.html: /stories/: outside the site's base path /digest/" in lines
    assert "topics/robotics/index.html: /digest/nowhere/: not found" in lines
    assert "topics/robotics/index.html: /digest/topics/#no-such-id: no element with id 'no-such-id'" in lines
    assert "topics/robotics/index.html: /digest/assets/missing.png: not found" in lines
    assert not any("#top" in line or "example.com/elsewhere" in line for line in lines)
    assert "4 problems" in lines[-1]


def test_a_page_without_title_or_lang_is_named(site) -> None:
    site.item("a.md", news())
    site.write("templates/404.html", "<!doctype html><html><head></head><body>gone</body></html>")
    result = site.run("check")
    assert result.code == 1
    assert "404.html: <html lang>: missing" in result.out
    assert "404.html: <title>: missing or empty" in result.out
