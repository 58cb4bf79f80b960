"""Keep stored files in step with attachment rows: when a row goes (its ticket was deleted,
or staff deleted it in the admin), its file is removed from storage once the deletion is
committed."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from nestogy.tickets.models import TicketAttachment


@receiver(post_delete, sender=TicketAttachment, dispatch_uid="portal_attachment_file_cleanup")
def delete_stored_file(sender, instance: TicketAttachment, **kwargs) -> None:
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))
