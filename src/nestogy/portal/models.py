"""The portal stores no models of its own any more: the files contacts attach to their
tickets are :class:`nestogy.tickets.models.TicketAttachment` (staff attach files to replies
and notes too). Failed sign-ins are counted by the shared throttle,
:mod:`nestogy.core.throttle`."""

from __future__ import annotations

# Migration 0002 names the upload path function by this module.
from nestogy.tickets.models import attachment_path as _attachment_path  # noqa: F401
