"""File attachments that events can ask a channel to carry (an invoice PDF on an email).

Events travel through the notification outbox as JSON, so they cannot hold file contents.
Instead an event's data may carry ``attachments``: a list of specs such as
``{"builder": "invoice_pdf", "invoice_id": 42}``. A domain app registers the builder under
that name; the sending channel calls :func:`build` at send time, inside the company's scope,
and gets the bytes. ``notifications`` therefore never imports the domain app that owns them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


BUILDERS: dict[str, Callable[..., Attachment]] = {}


def register(name: str, builder: Callable[..., Attachment]) -> None:
    """Declare how to build attachment ``name`` from the spec's other keys."""
    BUILDERS[name] = builder


def build(spec: dict[str, Any]) -> Attachment:
    """Build one attachment from its spec; unknown builders raise ``KeyError``."""
    params = dict(spec)
    name = params.pop("builder", None)
    if name not in BUILDERS:
        raise KeyError(f"no attachment builder named {name!r}")
    return BUILDERS[name](**params)
