"""Rendering a delivery's message from templates.

Files (shipped by the app that registers the event), looked up in each installed app's
``templates/`` directory and in ``NESTOGY_NOTIFY_TEMPLATE_DIRS``::

    notifications/<event.type>/title.txt     subject / in-app title / first line
    notifications/<event.type>/body.txt      plain text: email text part, in-app, SMS, Slack
    notifications/<event.type>/body.html     optional HTML email part
    notifications/<event.type>/<channel>.txt optional, replaces body.txt on that channel

A company's :class:`~nestogy.notifications.models.TemplateOverride` rows win over the files
(a channel-specific override over an all-channel one). Text parts render without HTML
escaping; the HTML part renders with autoescaping; when there is no HTML template the HTML
part is the escaped text with line breaks. A missing template, a template error or an empty
result raises :class:`RenderError`: the delivery fails with that message and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.template import Context, Engine, Template, TemplateDoesNotExist
from django.utils.html import escape, linebreaks

from nestogy.notifications import conf
from nestogy.notifications.models import TemplateOverride


class RenderError(Exception):
    """The message cannot be rendered (missing template, template error, empty result)."""


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
    return Engine(dirs=conf.template_dirs(), app_dirs=True, autoescape=autoescape)


def reset_engines() -> None:
    _engine.cache_clear()


def load_overrides(company_ids, event_types) -> dict[tuple, str]:
    """``{(company_id, event_type, channel, part): content}`` for the given rows, one query."""
    rows = TemplateOverride.objects.filter(company_id__in=set(company_ids),
                                           event_type__in=set(event_types))
    return {(r.company_id, r.event_type, r.channel, r.part): r.content for r in rows}


class Renderer:
    """Renders many deliveries, compiling each template once."""

    def __init__(self, overrides: dict[tuple, str] | None = None):
        self.overrides = overrides or {}
        self._compiled: dict[tuple, Any] = {}

    def _template(self, key: tuple, source: str | None, names: list[str], autoescape: bool):
        """A compiled template from an override source, or the first existing file name."""
        if key in self._compiled:
            return self._compiled[key]
        try:
            if source is not None:
                template = _engine(autoescape).from_string(source)
            else:
                template = _engine(autoescape).select_template(names) if names else None
        except TemplateDoesNotExist:
            template = None
        except Exception as exc:  # a syntax error in a template
            raise RenderError(f"template {names[0] if names else key} is invalid: {exc}") from exc
        self._compiled[key] = template
        return template

    def _part(self, company_id: int, event_type: str, channel: str, part: str,
              names: list[str], autoescape: bool = False) -> tuple[Template | None, bool]:
        specific = self.overrides.get((company_id, event_type, channel, part))
        general = self.overrides.get((company_id, event_type, "", part))
        if specific is not None:
            return self._template(("o", company_id, event_type, channel, part), specific,
                                  [], autoescape), True
        if general is not None:
            return self._template(("o", company_id, event_type, "", part), general, [],
                                  autoescape), False
        template = self._template(("f", event_type, part, channel, tuple(names)), None, names,
                                  autoescape)
        return template, False

    def render(self, company_id: int, event_type: str, channel: str,
               context: dict[str, Any]) -> Rendered:
        base = f"notifications/{event_type}"
        title_t, _ = self._part(company_id, event_type, channel, "title",
                                [f"{base}/title.txt"])
        body_t, _ = self._part(company_id, event_type, channel, "body",
                               [f"{base}/{channel}.txt", f"{base}/body.txt"])
        if title_t is None:
            raise RenderError(f"no template {base}/title.txt")
        if body_t is None:
            raise RenderError(f"no template {base}/body.txt")
        channel_specific = self._is_channel_file(body_t, base, channel) or (
            (company_id, event_type, channel, "body") in self.overrides)
        ctx = Context(context, autoescape=False)
        title = " ".join(self._run(title_t, ctx, "title").split())
        body = self._run(body_t, ctx, "body").strip()
        if not title:
            raise RenderError(f"{base}: the title rendered empty")
        if not body:
            raise RenderError(f"{base}: the body rendered empty")
        html = ""
        if channel == "email":
            html_t, _ = self._part(company_id, event_type, channel, "html",
                                   [f"{base}/body.html"], autoescape=True)
            if html_t is not None:
                html = self._run(html_t, Context(context, autoescape=True), "html").strip()
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
    def _run(template, context: Context, part: str) -> str:
        try:
            return template.render(context)
        except Exception as exc:
            raise RenderError(f"rendering the {part} failed: {type(exc).__name__}: {exc}") \
                from exc
