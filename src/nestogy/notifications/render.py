"""Rendering a delivery's message from templates.

Files (shipped by the app that registers the event), looked up in each installed app's
``templates/`` directory and in ``NESTOGY_NOTIFY_TEMPLATE_DIRS``::

    notifications/<event.type>/title.txt     subject / in-app title / first line
    notifications/<event.type>/body.txt      plain text: email text part, in-app, SMS, Slack
    notifications/<event.type>/body.html     optional HTML email part
    notifications/<event.type>/<channel>.txt optional, replaces body.txt on that channel

A company's :class:`~nestogy.notifications.models.TemplateOverride` rows win over the files
(a channel-specific override over an all-channel one), except for the event types in
:data:`PROTECTED_EVENT_TYPES` (the sender verification mail). Overrides are tenant input: they
compile and render in the sandbox of :mod:`nestogy.core.sandbox` (allow-listed
tags and filters, read-only plain-data context, limits on size, output and time); the
shipped files render with Django's full engine. Text parts render without HTML escaping;
the HTML part renders with autoescaping; when there is no HTML template the HTML part is the
escaped text with line breaks. A missing template, a template error, a sandbox refusal or an
empty result raises :class:`RenderError`: the delivery fails with that message and nothing
is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.template import Context, Engine, Template, TemplateDoesNotExist
from django.utils.html import escape, linebreaks

from nestogy.core import sandbox
from nestogy.notifications import conf
from nestogy.notifications.models import TemplateOverride

# Event types whose wording a company cannot override (the platform's own security mail).
PROTECTED_EVENT_TYPES: set[str] = set()


class RenderError(Exception):
    """The message cannot be rendered (missing template, template error, empty result)."""


def check_override(content: str) -> None:
    """Raise :class:`RenderError` unless ``content`` is an acceptable template override
    (called when an override is saved; the same checks run again when it is compiled)."""
    try:
        sandbox.compile_template(content, max_chars=conf.override_max_chars())
    except sandbox.SandboxError as exc:
        raise RenderError(str(exc)) from exc


class _Override:
    """A compiled override: renders in the sandbox with its limits."""

    def __init__(self, template: sandbox.SandboxedTemplate, label: str):
        self.template = template
        self.label = label

    def render(self, context: dict[str, Any], *, autoescape: bool) -> str:
        try:
            return self.template.render(context, autoescape=autoescape,
                                        max_output=conf.override_max_output(),
                                        max_seconds=conf.override_max_seconds())
        except sandbox.SandboxError as exc:
            raise RenderError(f"template {self.label}: {exc}") from exc


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    html: str = ""
    # True when ``body`` came from a channel-specific template (sms.txt, slack.txt): it is
    # then the whole message for that channel.
    channel_specific: bool = False

    def short_text(self) -> str:
        """Title and body as one message, for SMS and chat channels."""
        if self.channel_specific:
            return self.body
        return f"{self.title}\n\n{self.body}" if self.body else self.title


@lru_cache(maxsize=2)
def _engine(autoescape: bool) -> Engine:
    # A standalone engine (text templates must not autoescape) still needs the installed
    # apps' tag libraries, e.g. ``nestogy_format``'s ``day`` filter.
    from django.template.backends.django import get_installed_libraries

    return Engine(dirs=conf.template_dirs(), app_dirs=True, autoescape=autoescape,
                  libraries=get_installed_libraries())


def reset_engines() -> None:
    _engine.cache_clear()


def load_overrides(company_ids, event_types) -> dict[tuple, str]:
    """``{(company_id, event_type, channel, part): content}`` for the given rows, one query."""
    rows = TemplateOverride.objects.filter(company_id__in=set(company_ids),
                                           event_type__in=set(event_types)
                                           - PROTECTED_EVENT_TYPES)
    return {(r.company_id, r.event_type, r.channel, r.part): r.content for r in rows}


class Renderer:
    """Renders many deliveries, compiling each template once."""

    def __init__(self, overrides: dict[tuple, str] | None = None):
        self.overrides = overrides or {}
        self._compiled: dict[tuple, Any] = {}

    def _compile(self, key: tuple, source: str, label: str):
        if key not in self._compiled:
            try:
                compiled = sandbox.compile_template(source, max_chars=conf.override_max_chars())
            except sandbox.SandboxError as exc:
                raise RenderError(f"template {label} is refused: {exc}") from exc
            except Exception as exc:  # anything else the compiler raises
                raise RenderError(f"template {label} is invalid: {exc}") from exc
            self._compiled[key] = _Override(compiled, label)
        return self._compiled[key]

    def _file(self, names: list[str], autoescape: bool):
        """The first of ``names`` that exists, compiled (cached), or None."""
        key = ("f", autoescape, tuple(names))
        if key not in self._compiled:
            found = None
            for name in names:
                try:
                    found = _engine(autoescape).get_template(name)
                    break
                except TemplateDoesNotExist:
                    continue
                except Exception as exc:  # a syntax error in the file
                    raise RenderError(f"template {name} is invalid: {exc}") from exc
            self._compiled[key] = found
        return self._compiled[key]

    def _part(self, company_id: int, event_type: str, channel: str, part: str,
              names: list[str], autoescape: bool = False) -> Template | _Override | None:
        """A company override for this channel, else one for all channels, else the files."""
        for chan in (channel, ""):
            source = self.overrides.get((company_id, event_type, chan, part))
            if source is not None:
                label = f"override {event_type}/{chan or '*'}/{part}"
                return self._compile(("o", company_id, event_type, chan, part), source, label)
        return self._file(names, autoescape)

    def render(self, company_id: int, event_type: str, channel: str,
               context: dict[str, Any]) -> Rendered:
        base = f"notifications/{event_type}"
        title_t = self._part(company_id, event_type, channel, "title",
                                [f"{base}/title.txt"])
        body_t = self._part(company_id, event_type, channel, "body",
                               [f"{base}/{channel}.txt", f"{base}/body.txt"])
        if title_t is None:
            raise RenderError(f"no template {base}/title.txt")
        if body_t is None:
            raise RenderError(f"no template {base}/body.txt")
        channel_specific = self._is_channel_file(body_t, base, channel) or (
            (company_id, event_type, channel, "body") in self.overrides)
        title = " ".join(self._run(title_t, context, "title", autoescape=False).split())
        body = self._run(body_t, context, "body", autoescape=False).strip()
        if not title:
            raise RenderError(f"{base}: the title rendered empty")
        if not body:
            raise RenderError(f"{base}: the body rendered empty")
        html = ""
        if channel == "email":
            html_t = self._part(company_id, event_type, channel, "html",
                                   [f"{base}/body.html"], autoescape=True)
            if html_t is not None:
                html = self._run(html_t, context, "html", autoescape=True).strip()
                if not html:
                    raise RenderError(f"{base}: the HTML body rendered empty")
            else:
                html = linebreaks(escape(body))
        return Rendered(title=title[:300], body=body, html=html,
                        channel_specific=channel_specific)

    @staticmethod
    def _is_channel_file(template, base: str, channel: str) -> bool:
        origin = getattr(getattr(template, "origin", None), "template_name", None)
        return origin == f"{base}/{channel}.txt"

    @staticmethod
    def _run(template, context: dict[str, Any], part: str, *, autoescape: bool) -> str:
        if isinstance(template, _Override):
            return template.render(context, autoescape=autoescape)
        try:
            return template.render(Context(context, autoescape=autoescape))
        except Exception as exc:
            raise RenderError(f"rendering the {part} failed: {type(exc).__name__}: {exc}") \
                from exc
