"""What the portal's dashboard shows: one section per domain the portal knows about.

Each provider takes the signed-in contact and returns a dict for the template, or None to
hide its section. Ticket and billing pages add their providers here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PROVIDERS: list[tuple[str, Callable[[Any], dict | None]]] = []


def dashboard_sections(contact) -> list[dict]:
    sections = []
    for name, provider in PROVIDERS:
        data = provider(contact)
        if data is not None:
            sections.append({"name": name, **data})
    return sections
