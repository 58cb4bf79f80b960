"""The sandbox tenant-written templates render in: a company's notification template
overrides (:mod:`nestogy.notifications.render`) and its canned responses
(:mod:`nestogy.tickets.canned`).

An override is text a tenant's staff typed into the admin, rendered by the worker for every
matching delivery. Django's full engine would let it load any installed tag library,
include files from disk, dump the context with ``{% debug %}`` and call filters with
arguments that blow up (``{{ 'a'|rjust:'20000000' }}`` is 20 MB). Here instead:

- **Only allow-listed tags and filters** (:data:`TAGS`, :data:`FILTERS`): control flow and
  text formatting. No ``load`` (except the no-op ``{% load nestogy_format %}``, whose
  ``day`` filter is always available), ``include``, ``extends``, ``block``, ``debug``,
  ``url``, ``csrf_token``, ``lorem``, ``widthratio``, ``regroup``, ``autoescape`` or
  ``querystring``; no ``safe``, ``rjust``/``ljust``/``center``, ``stringformat``,
  ``urlize``, ``dictsort``, ``pprint`` or ``unordered_list``. Filter arguments are short
  (:data:`MAX_ARGUMENT_CHARS`) and width-like ones small (:data:`SIZE_ARGUMENTS`).
- **Plain data only**: the context (the event's JSON plus recipient, company and event) is
  frozen into read-only mappings and tuples, so a variable can read values but no method
  with a side effect exists to call (``{{ list.pop }}``, ``{{ dict.clear }}``); Django
  itself refuses names starting with an underscore.
- **Limits**: the source is at most ``max_chars`` long (refused when the override is saved,
  and again when it is compiled); rendering is cut off once its output passes
  ``max_output`` characters or it runs longer than ``max_seconds``. Both are checked while
  rendering (at every loop iteration and every piece of output), so a nested loop stops
  early instead of filling memory.

Errors are :class:`SandboxError` with a message meant for the person who wrote the template.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from django.template import (
    Context,
    Engine,
    Library,
    Node,
    NodeList,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import Lexer, TokenType
from django.template.defaulttags import ForNode, IfNode

from nestogy.core.templatetags import nestogy_format


class SandboxError(Exception):
    """The override is not allowed, or rendering it went over a limit."""


# --- what a template may use ------------------------------------------------------------------

TAGS = ("if", "for", "with", "firstof", "cycle", "resetcycle", "ifchanged", "comment",
        "verbatim", "spaceless", "filter", "now", "templatetag", "load")
# Words that continue or close an allowed tag.
_TAG_WORDS = frozenset(TAGS) | {"elif", "else", "endif", "empty", "endfor", "endwith",
                                "endifchanged", "endcomment", "endverbatim", "endspaceless",
                                "endfilter"}
FILTERS = ("add", "capfirst", "cut", "date", "default", "default_if_none", "divisibleby",
           "escape", "filesizeformat", "first", "floatformat", "force_escape", "join", "last",
           "length", "linebreaks", "linebreaksbr", "lower", "pluralize", "slice", "slugify",
           "striptags", "time", "timesince", "timeuntil", "title", "truncatechars",
           "truncatechars_html", "truncatewords", "truncatewords_html", "upper", "urlencode",
           "wordcount", "wordwrap", "yesno", "day")
# ``{% load %}`` accepts only these (no-op: their filters are built in).
LOADABLE = frozenset({"nestogy_format"})
MAX_ARGUMENT_CHARS = 500
# Filters whose argument sets the size of their output: the largest value allowed.
SIZE_ARGUMENTS = {"truncatechars": 10_000, "truncatewords": 10_000,
                  "truncatechars_html": 10_000, "truncatewords_html": 10_000,
                  "wordwrap": 10_000, "floatformat": 20}
_NUMBER = re.compile(r"-?\d+")


# --- the render budget ------------------------------------------------------------------------

@dataclass
class Budget:
    max_output: int
    max_seconds: float
    deadline: float = 0.0
    spent: int = 0
    exceeded: str = ""
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.deadline = self.started + self.max_seconds

    def check(self) -> None:
        if not self.exceeded and time.monotonic() > self.deadline:
            self.exceeded = (f"rendering took longer than {self.max_seconds:g} s and was "
                             f"cut off")
        if self.exceeded:
            raise SandboxError(self.exceeded)

    def spend(self, chars: int) -> None:
        self.spent += chars
        if not self.exceeded and self.spent > self.max_output:
            self.exceeded = (f"the output is longer than {self.max_output} characters and "
                             f"was cut off")
        self.check()


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "nestogy_sandbox_budget", default=None)


def _check(chars: int = 0) -> None:
    budget = _budget.get()
    if budget is not None:
        budget.spend(chars)


class _Tick(Node):
    """First node of every loop body: checks the budget once per iteration."""

    child_nodelists = ()

    def render(self, context) -> str:
        _check()
        return ""


class _Meter(Node):
    """Wraps a leaf node: counts its output against the budget."""

    child_nodelists = ()

    def __init__(self, inner: Node):
        self.inner = inner
        self.token = getattr(inner, "token", None)
        self.origin = getattr(inner, "origin", None)

    def render_annotated(self, context) -> str:
        _check()
        output = self.inner.render_annotated(context)
        _check(len(output))
        return output

    def render(self, context) -> str:
        return self.render_annotated(context)


def _instrument(nodelist: NodeList) -> None:
    for index, node in enumerate(list(nodelist)):
        if isinstance(node, _Tick | _Meter):
            continue
        if isinstance(node, IfNode):
            for _, branch in node.conditions_nodelists:
                _instrument(branch)
            continue
        children = [getattr(node, name, None) for name in node.child_nodelists]
        children = [child for child in children if isinstance(child, NodeList)]
        if isinstance(node, ForNode):
            node.nodelist_loop.insert(0, _Tick())
        if children:
            for child in children:
                _instrument(child)
        else:
            nodelist[index] = _Meter(node)


# --- the library ------------------------------------------------------------------------------

register = Library()


class _Nothing(Node):
    child_nodelists = ()

    def render(self, context) -> str:
        return ""


def _load(parser, token) -> Node:
    names = token.split_contents()[1:]
    if not names or any(name not in LOADABLE for name in names):
        raise TemplateSyntaxError(
            f"{{% {token.contents} %}} is not allowed in a template override: tag libraries "
            f"cannot be loaded (the 'day' filter is always available)")
    return _Nothing()


def _guard(name: str, func):
    """``func`` with its argument and its output checked against the sandbox's limits."""
    limit = SIZE_ARGUMENTS.get(name)

    def guarded(value, *args, **kwargs):
        for arg in args:
            if isinstance(arg, str) and len(arg) > MAX_ARGUMENT_CHARS:
                raise SandboxError(f"the argument of |{name} is longer than "
                                   f"{MAX_ARGUMENT_CHARS} characters")
            if limit is not None and arg is not None:
                number = _NUMBER.search(str(arg))
                if number and abs(int(number.group())) > limit:
                    raise SandboxError(f"the argument of |{name} is larger than {limit}")
        result = func(value, *args, **kwargs)
        if isinstance(result, str):
            _check(0)
            budget = _budget.get()
            if budget is not None and len(result) > budget.max_output:
                raise SandboxError(f"|{name} made a value longer than {budget.max_output} "
                                   f"characters")
        return result

    # Django reads the argument count and the flags from the wrapped function.
    guarded.__wrapped__ = func
    guarded.__name__ = name
    for flag in ("is_safe", "needs_autoescape", "expects_localtime"):
        if hasattr(func, flag):
            setattr(guarded, flag, getattr(func, flag))
    return guarded


for _name in TAGS:
    register.tags[_name] = _load if _name == "load" else defaulttags.register.tags[_name]
for _name in FILTERS:
    _source = nestogy_format.register if _name == "day" else defaultfilters.register
    register.filters[_name] = _guard(_name, _source.filters[_name])


class SandboxEngine(Engine):
    """An engine with no loaders, no libraries and only the sandbox's tags and filters."""

    default_builtins: list[str] = []

    def get_template_builtins(self, builtins):
        return [register]


_engine = SandboxEngine(loaders=[], libraries={})


# --- compiling and rendering --------------------------------------------------------------------

def check_source(source: str, *, max_chars: int) -> None:
    """Refuse an over-long template or one using a tag outside the allow-list."""
    if not isinstance(source, str):
        raise SandboxError("the template must be text")
    if len(source) > max_chars:
        raise SandboxError(f"the template is {len(source)} characters long; at most "
                           f"{max_chars} are allowed")
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK or not token.contents.split():
            continue
        word = token.contents.split()[0]
        if word not in _TAG_WORDS:
            raise SandboxError(f"the tag {{% {word} %}} is not allowed in a template "
                               f"override (allowed: {', '.join(TAGS)})")


_INVALID_FILTER = re.compile(r"Invalid filter: '([^']+)'")


def compile_template(source: str, *, max_chars: int) -> SandboxedTemplate:
    check_source(source, max_chars=max_chars)
    try:
        template = _engine.from_string(source)
    except TemplateSyntaxError as exc:
        message = str(exc)
        found = _INVALID_FILTER.search(message)
        if found:
            message = (f"the filter |{found.group(1)} is not allowed in a template override "
                       f"(allowed: {', '.join(FILTERS)})")
        raise SandboxError(message) from exc
    _instrument(template.nodelist)
    return SandboxedTemplate(template)


def freeze(value: Any) -> Any:
    """The context as read-only plain data: mappings, tuples, text, numbers, dates."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(freeze(v) for v in value)
    if value is None or isinstance(value, str | bool | int | float | Decimal | date | datetime):
        return value
    return str(value)


@dataclass(frozen=True)
class SandboxedTemplate:
    template: Any

    def render(self, context: dict[str, Any], *, autoescape: bool, max_output: int,
               max_seconds: float) -> str:
        budget = Budget(max_output=max_output, max_seconds=max_seconds)
        token = _budget.set(budget)
        try:
            output = self.template.render(Context(dict(freeze(context)), autoescape=autoescape))
        finally:
            _budget.reset(token)
        # A limit hit inside an {% if %} condition is swallowed by Django; it still counts.
        if budget.exceeded:
            raise SandboxError(budget.exceeded)
        if len(output) > max_output:
            raise SandboxError(f"the output is longer than {max_output} characters")
        return output
