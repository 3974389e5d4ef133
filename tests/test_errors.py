"""Bad input: every problem reported as path:line, the rest of the site built, nothing lost."""

from __future__ import annotations

from conftest import news


def test_every_bad_file_is_reported_at_once_and_good_files_still_build(site) -> None:
    site.item("good.md", news(title="A good story"))
    site.item("bad-yaml.md", "---\ntitle: ok\nheat: [unclosed\n---\nbody\n")
    site.item("bad-heat.md", news(title="Heat is wrong", url="https://x.example.com/h").replace("heat: 50", "heat: hot"))
    site.item("unclosed.md", "---\ntitle: never closed\n")
    result = site.build()
    assert result.code == 0
    assert "bad-yaml.md:4: invalid YAML" in result.err
    assert "bad-heat.md:11: heat: expected a number, got 'hot'" in result.err
    assert "unclosed.md:1: front-matter starts with '---' but is never closed" in result.err
    assert "Traceback" not in result.err + result.out
    assert "(3 errors" in result.out
    assert (result.output / "stories/a-good-story/index.html").is_file()
    # a bad field costs the field, not the story
    assert (result.output / "stories/heat-is-wrong/index.html").is_file()


def test_strict_turns_content_errors_into_exit_1(site) -> None:
    site.item("good.md", news())
    site.item("bad.md", news(url="not a url", title="Bad URL"))
    assert site.build().code == 0
    result = site.build("--strict")
    assert result.code == 1
    assert "bad.md:5: webUrl: expected an http(s) URL, got 'notaurl'" in result.err


def test_template_error_names_template_and_line_and_keeps_previous_site(site) -> None:
    site.item("a.md", news())
    assert site.build().code == 0
    before = (site.root / "public/index.html").read_text()
    site.write("templates/story.html", "{% extends 'base.html' %}\n{% block main %}\n{{ story.no_such_field }}\n{% endblock %}\n")
    result = site.build()
    assert result.code == 1
    assert "templates/story.html:3:" in result.err and "no_such_field" in result.err
    assert "Traceback" not in result.err
    assert (site.root / "public/index.html").read_text() == before
    site.write("templates/story.html", "{% extends 'base.html' %}\n{% block main %}\n{% if %}\n{% endblock %}\n")
    result = site.build()
    assert result.code == 1 and "templates/story.html:3:" in result.err


def test_unknown_config_key_and_wrong_type_name_the_key(site) -> None:
    site.item("a.md", news())
    site.config("titel = 'typo'\n")
    result = site.build()
    assert result.code == 1 and "titel: unknown key" in result.err
    site.config("page_size = 'ten'\n")
    result = site.build()
    assert result.code == 1 and "page_size: expected int, got 'ten'" in result.err
    site.config("ranking = { heat = true }\n")
    result = site.build()
    assert result.code == 1 and "ranking.heat: expected float" in result.err


def test_opaque_fields_and_hostile_markup_never_reach_the_output(site) -> None:
    secret = "c2VjcmV0LXRva2VuLW5ldmVyLXJlbmRlcmVk"
    item = news(title="<script>alert(1)</script> {{ 7*7 }}", excerpt="<img src=x onerror=alert(2)>",
                body="<script>alert(3)</script>\n\n[click](javascript:alert(4)) [data](data:text/html,x)")
    site.item("evil.md", item.replace("heat: 50", f"heat: 50\nsecured: \"{secret}\""))
    result = site.build()
    everything = "".join(p.read_text(errors="replace") for p in result.output.rglob("*") if p.is_file())
    assert secret not in everything
    assert "<script>alert" not in everything and "<img src=x" not in everything
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in everything  # shown as text, not run
    assert 'href="javascript:' not in everything and 'href="data:' not in everything
    assert "{{ 7*7 }}" in everything and ">49<" not in everything


def test_content_folder_missing_is_a_clear_error(site, tmp_path) -> None:
    result = site.run("build", "--content", str(tmp_path / "nope"))
    assert result.code == 1 and "content folder not found" in result.err


def test_template_error_in_a_parallel_render_names_template_and_line(site, monkeypatch) -> None:
    monkeypatch.setattr("site_builder.parallel.MINIMUM", 2)  # render in forked workers even for a small site
    for n in range(6):
        site.item(f"{n}.md", news(title=f"Parallel story {n}", url=f"https://x.example.com/{n}"))
    site.write("templates/story.html", "{% extends 'base.html' %}\n{% block main %}\n{{ story.no_such_field }}\n{% endblock %}\n")
    result = site.build("-j", "2")
    assert result.code == 1
    assert "templates/story.html:3:" in result.err and "no_such_field" in result.err and "Traceback" not in result.err
