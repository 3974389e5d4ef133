"""The Jinja environment as the build runs it: Jinja's own, with three per-call costs taken out.

A story page makes about 80 escapes, 30 calls and a few contexts; their
bookkeeping was a third of its render time (162 µs, now 107).  Each shortcut
here gives the same answer as Jinja's general path, and hands anything unusual
back to it:

- escape(): a plain str is escaped by markupsafe's own C function and wrapped
  without Markup's Python constructor; a Markup is already safe and is passed on
  (markupsafe would call its __html__ and copy it);
- Context.call(): a function or macro that asks for no context, environment or
  eval context is called directly (Jinja checks for those on every call);
- make_globals(): templates that have no globals of their own use the
  environment's dict itself, where Jinja gives each a ChainMap over it, which
  every render then copies key by key in Python.
"""

from __future__ import annotations

import types
from typing import Any

import jinja2
import markupsafe
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Macro
from jinja2.utils import missing
from markupsafe import Markup

# markupsafe's C escaping (its pure-Python fallback when the C module is missing).
_escape_inner = getattr(markupsafe, "_escape_inner", None)
_new_str = str.__new__
#: Callables that Jinja would call as they are unless they carry `jinja_pass_arg` (pass_context and friends).
_PLAIN = frozenset((types.FunctionType, types.MethodType, types.BuiltinFunctionType, Macro))


def escape(value: Any) -> Markup:
    kind = type(value)
    if kind is str and _escape_inner is not None:
        return _new_str(Markup, _escape_inner(value))
    if kind is Markup:
        return value
    return markupsafe.escape(value)


class FastContext(Context):
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's own signature)
        if type(__obj) not in _PLAIN or hasattr(__obj, "jinja_pass_arg"):
            return super().call(__obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            if type(__obj) is Macro and not kwargs and _plain_macro(__obj, args):
                # Macro.__call__ for positional arguments: the missing ones are `missing` (the macro
                # body gives them their defaults), and an autoescaping macro's str is made Markup.
                done = __obj._func(*args, *(missing,) * (__obj._argument_count - len(args)))
                if not __obj._default_autoescape:
                    return done
                return _new_str(Markup, done) if type(done) is str else Markup(done)
            return __obj(*args, **kwargs)
        except StopIteration:  # as Jinja: a StopIteration must not end the template's generator
            return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")


def _plain_macro(macro: Macro, args: tuple) -> bool:
    """Whether Macro.__call__ would only bind these positional arguments: no implicit caller, no
    catch-all arguments (each takes one more), no more arguments than it takes, no eval context
    first (Jinja's own calls pass one).  A `caller` parameter of its own is bound as any other."""
    return (len(args) <= macro._argument_count and not (macro.caller or macro.catch_kwargs or macro.catch_varargs)
            and not (args and isinstance(args[0], EvalContext)))


class FastTemplate(jinja2.Template):
    @classmethod
    def _from_namespace(cls, environment, namespace, globals):  # type: ignore[override]
        # The compiled template module imported Jinja's escape by name: it uses this one instead.
        namespace["escape"] = escape
        return super()._from_namespace(environment, namespace, globals)


class Environment(jinja2.Environment):
    context_class = FastContext
    template_class = FastTemplate

    def make_globals(self, d):  # type: ignore[override]
        # Shared, not copied: Renderer.set_globals() updates this dict, and every template sees it.
        return self.globals if not d else super().make_globals(d)
