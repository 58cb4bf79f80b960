"""In-app: an entry in the user's inbox (``GET /notifications``), written per batch."""

from __future__ import annotations

from typing import Any

from nestogy.notifications.models import Notification
from nestogy.notifications.transports.base import PermanentError, Transport


class InAppTransport(Transport):
    def open(self) -> None:
        self.pending: list[Notification] = []

    def send(self, delivery: Any, rendered: Any) -> None:
        if not delivery.recipient_user_id:
            raise PermanentError("in-app notifications need a user recipient")
        if not hasattr(self, "pending"):
            self.open()
        self.pending.append(Notification(
            company_id=delivery.company_id, user_id=delivery.recipient_user_id,
            event_type=delivery.event_type, title=rendered.title[:300], body=rendered.body,
            delivery=delivery))

    def close(self) -> None:
        """Write the batch's inbox entries with one INSERT (in the sender's transaction)."""
        pending, self.pending = getattr(self, "pending", []), []
        if pending:
            # ignore_conflicts: a retry after a crash between this insert and the
            # status update must not fail on the one-entry-per-delivery constraint.
            Notification.objects.bulk_create(pending, batch_size=1000, ignore_conflicts=True)
