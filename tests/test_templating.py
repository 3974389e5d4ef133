"""The build's Jinja environment renders exactly what Jinja's own does (templating.py takes shortcuts)."""

from __future__ import annotations

import jinja2
import markupsafe
import pytest
from hypothesis import given, strategies as st

from site_builder.templating import Environment, escape


class Shouty:
    def __html__(self) -> str:
        return "<b>safe</b>"

    def __str__(self) -> str:
        return "<b>unsafe</b>"


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.none(), st.text().map(markupsafe.Markup)))
def test_escape_is_markupsafes(value):
    ours, theirs = escape(value), markupsafe.escape(value)
    assert type(ours) is markupsafe.Markup
    assert ours == theirs


def test_escape_honours_html_and_subclasses():
    class Text(str):
        pass

    assert escape(Shouty()) == "<b>safe</b>"
    assert escape(Text("<i>")) == markupsafe.escape(Text("<i>")) == "&lt;i&gt;"


TEMPLATES = {
    "macros.html": (
        "{% macro tag(x, y='<y>') %}<i>{{ x }}{{ y }}</i>{% endmacro %}"
        "{% macro many() %}{{ varargs|join(',') }}{{ kwargs|dictsort }}{% endmacro %}"
        "{% macro box(title) %}<div>{{ title }}{{ caller() }}</div>{% endmacro %}"
        "{% macro named(caller='<no caller>') %}{{ caller }}{% endmacro %}"
        "{% macro three(a, b, c='<c>') %}{{ a }}{{ b }}{{ c }}{% endmacro %}"
        "{% macro some(a) %}{{ a }}{{ varargs|length }}{% endmacro %}{% macro keyed(a) %}{{ a }}{{ kwargs|length }}{% endmacro %}"
    ),
    "page.html": (
        "{% from 'macros.html' import tag, many, box, named, three, some, keyed %}{% set local = 'L&' %}"
        "{{ tag(value) }}|{{ tag(value, y=other) }}|{{ tag(other, value) }}|{{ three(value, 2) }}|{{ three(value, '&', value) }}|"
        "{{ many(1, '<2>') }}|{{ many(x='<x>') }}|{% call box(value) %}in{% endcall %}|{{ named('<n>') }}|{{ named() }}|{{ some(value) }}|{{ keyed(value) }}|"
        "{{ (tag(value) ~ '<after>') }}|{{ plain(value) }}|{{ ctx_name() }}|{{ env_name() }}|"
        "{{ caller_test() }}|{{ stop() is undefined }}|{{ value|upper }}|{{ site }}|{% for v in [1, 2] %}{{ looped(v) }}{% endfor %}"
        "{% call wrap() %}[{{ local }}]{% endcall %}|{{ Callable() }}"
    ),
}


class CallableWithContext:
    @jinja2.pass_context
    def __call__(self, context):
        return context["value"]


def render_with(environment_class, autoescape: bool = True) -> str:
    env = environment_class(loader=jinja2.DictLoader(TEMPLATES), autoescape=autoescape, undefined=jinja2.StrictUndefined)

    @jinja2.pass_context
    def ctx_name(context):
        return context["value"] + context.name

    @jinja2.pass_environment
    def env_name(environment):
        return type(environment.undefined).__name__

    def stop():
        raise StopIteration

    env.globals.update(
        plain=lambda v: v + "!", ctx_name=ctx_name, env_name=env_name, stop=stop, site="<site>",
        caller_test=lambda: markupsafe.Markup("<hr>"), looped=lambda v: v * 2, wrap=lambda caller: caller() + "?",
        Callable=CallableWithContext(),
    )
    env.get_template("page.html")
    env.globals["site"] = "<site changed after loading>"  # the build sets its link maps after compiling
    return env.get_template("page.html").render(value="<v>", other=markupsafe.Markup("<o>"))


def test_same_page_as_jinja():
    """Macros called by position take a shortcut (FastContext.call): defaults, escaping and Markup as Jinja's."""
    ours = render_with(Environment)
    assert ours == render_with(jinja2.Environment)
    assert "&lt;site changed after loading&gt;" in ours and "<i>&lt;v&gt;<o></i>" in ours
    assert "<i>&lt;v&gt;&lt;y&gt;</i>" in ours and "<i>&lt;v&gt;&lt;y&gt;</i>&lt;after&gt;" in ours  # a default; a macro's Markup


def test_same_page_as_jinja_without_autoescape():
    assert render_with(Environment, autoescape=False) == render_with(jinja2.Environment, autoescape=False)


@pytest.mark.parametrize("call, error", [("tag(1, 2, 3)", TypeError), ("box(1)", jinja2.UndefinedError)])
def test_a_macro_called_wrongly_fails_as_in_jinja(call: str, error: type) -> None:
    """Too many arguments; a macro that calls caller() outside a call block."""
    for environment_class in (Environment, jinja2.Environment):
        env = environment_class(loader=jinja2.DictLoader({**TEMPLATES, "bad.html": f"{{% from 'macros.html' import tag, box %}}{{{{ {call} }}}}"}),
                                undefined=jinja2.StrictUndefined)
        with pytest.raises(error):
            env.get_template("bad.html").render()
