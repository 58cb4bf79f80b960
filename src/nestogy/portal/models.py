"""Portal models: the files contacts attach to their tickets. (Failed sign-ins are counted by
the shared throttle, :mod:`nestogy.core.throttle`.)"""

from __future__ import annotations

from django.db import models

from nestogy.tenancy.models import TenantOwnedModel


def _attachment_path(instance: TicketAttachment, filename: str) -> str:
    """Files live under a random name per company; the original name is kept in the row."""
    import secrets
    from pathlib import PurePosixPath

    ext = PurePosixPath(filename).suffix.lower()[:10]
    return f"portal/attachments/{instance.company_id}/{secrets.token_hex(16)}{ext}"


class TicketAttachment(TenantOwnedModel):
    """A file a contact attached to a ticket from the portal (stored through Django storage,
    downloaded only through the portal's access-checked view)."""

    public_id_prefix = "att"

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE,
                               related_name="portal_attachments")
    reply = models.ForeignKey("tickets.Reply", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="portal_attachments")
    uploaded_by_contact = models.ForeignKey("clients.Contact", on_delete=models.SET_NULL,
                                            null=True, blank=True, related_name="+")
    file = models.FileField(upload_to=_attachment_path, max_length=255)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["company", "ticket", "created_at"],
                                name="portal_attachment_ticket_idx")]

    def __str__(self) -> str:
        return self.original_name
