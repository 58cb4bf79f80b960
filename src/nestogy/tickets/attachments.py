"""Files attached to tickets, by contacts in the portal and by staff in the workspace:
the checks on an upload (size, extension, declared type and content), storing it and
serving it back.

A file is accepted only when its extension is on the list, the browser's declared content
type is one that belongs to that extension, and the first bytes look like that kind of file
(a ``.pdf`` must start with ``%PDF-``, a ``.png`` with the PNG signature, Office files are
ZIP containers, text files contain no NUL bytes and decode as UTF-8 or Latin-1). The size
limit is the company setting ``portal.max_attachment_mb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse, Http404

from nestogy.core.errors import ValidationError

_OCTET = "application/octet-stream"


@dataclass(frozen=True)
class Kind:
    content_type: str  # what we store and serve
    declared: frozenset[str]  # what browsers send for it
    magic: tuple[bytes, ...] = ()  # accepted leading bytes; empty = text file
    text: bool = False


_ZIP = (b"PK\x03\x04",)
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALLOWED: dict[str, Kind] = {
    ".pdf": Kind("application/pdf", frozenset({"application/pdf", "application/x-pdf"}),
                 (b"%PDF-",)),
    ".png": Kind("image/png", frozenset({"image/png"}), (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": Kind("image/jpeg", frozenset({"image/jpeg", "image/pjpeg"}), (b"\xff\xd8\xff",)),
    ".jpeg": Kind("image/jpeg", frozenset({"image/jpeg", "image/pjpeg"}), (b"\xff\xd8\xff",)),
    ".txt": Kind("text/plain", frozenset({"text/plain"}), text=True),
    ".log": Kind("text/plain", frozenset({"text/plain", "text/x-log", _OCTET}), text=True),
    ".csv": Kind("text/csv", frozenset({"text/csv", "text/plain", "application/csv",
                                        "application/vnd.ms-excel"}), text=True),
    ".docx": Kind(_DOCX, frozenset({_DOCX, "application/zip", _OCTET}), _ZIP),
    ".xlsx": Kind(_XLSX, frozenset({_XLSX, "application/zip", _OCTET}), _ZIP),
}
ALLOWED_LABEL = "PDF, PNG, JPG, TXT, LOG, CSV, DOCX or XLSX"


def max_bytes(company) -> int:
    return int(company.get_setting("portal.max_attachment_mb")) * 1024 * 1024


def check_upload(upload: UploadedFile, company, field: str = "attachment") -> Kind:
    """The kind of an acceptable upload; raises ``ValidationError(field, ...)`` otherwise."""
    limit = max_bytes(company)
    if upload.size is None or upload.size > limit:
        raise ValidationError(field, f"is larger than {limit // (1024 * 1024)} MB")
    if upload.size == 0:
        raise ValidationError(field, "is empty")
    ext = PurePosixPath(upload.name or "").suffix.lower()
    kind = ALLOWED.get(ext)
    if kind is None:
        raise ValidationError(field, f"must be a {ALLOWED_LABEL} file")
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared not in kind.declared:
        raise ValidationError(field, f"content type {declared or 'unknown'} does not match "
                                     f"a {ext} file")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if kind.text:
        if b"\x00" in head:
            raise ValidationError(field, f"is not a text file, as {ext} requires")
    elif not head.startswith(kind.magic):
        raise ValidationError(field, f"content is not a {ext} file")
    return kind


def clean_name(name: str) -> str:
    base = PurePosixPath((name or "file").replace("\\", "/")).name
    return "".join(ch for ch in base if ch.isprintable())[:200] or "file"


@transaction.atomic
def attach(ticket, upload: UploadedFile, *, contact=None, user=None, reply=None,
           field: str = "attachment"):
    """Store an upload for ``ticket``, from a contact (portal) or a staff ``user``
    (workspace), linked to the ``reply`` or note it came with. The checks of
    :func:`check_upload` run again here; a refused file raises ``ValidationError(field)``."""
    from nestogy.audit.actions import log_action
    from nestogy.tickets.models import TicketAttachment

    kind = check_upload(upload, ticket.company, field)
    attachment = TicketAttachment(company_id=ticket.company_id, ticket=ticket, reply=reply,
                                  uploaded_by_contact=contact, uploaded_by_user=user,
                                  original_name=clean_name(upload.name),
                                  size=upload.size, content_type=kind.content_type)
    attachment.file.save(upload.name or "file", upload, save=False)
    stored = attachment.file.name
    # Storage is not transactional: if writing the row fails, the file goes away again.
    # (The portal's and the workspace's views call this last in their transaction, so
    # nothing rolls back after.)
    try:
        attachment.save()
        data = {"attachment_id": attachment.public_id, "name": attachment.original_name,
                "size": attachment.size}
        if reply is not None:
            data |= {"reply_id": reply.public_id, "public": reply.public}
        if contact is not None:
            log_action(ticket, "ticket.attachment_added", actor=None,
                       actor_label=f"contact {contact.email}"[:200],
                       data={**data, "by_contact": contact.public_id})
        else:
            log_action(ticket, "ticket.attachment_added", actor=user, data=data)
    except Exception:
        attachment.file.storage.delete(stored)
        raise
    return attachment


def download_response(attachment) -> FileResponse:
    """Serve a stored attachment as a download that browsers will not render or sniff
    (used by the portal and the staff admin alike); a missing file is a 404."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("attachment not found") from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
