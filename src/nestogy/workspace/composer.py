"""The ticket page's composer: its form (message, kind, attachments, canned response) and
what the page needs to draw it. Shared by the ticket page (``views``) and the composer's
own views (``views_composer``)."""

from __future__ import annotations

from django import forms
from django.conf import settings

from nestogy.core.errors import ValidationError
from nestogy.tickets import attachments, canned


def max_files() -> int:
    """Files per message: the server's per-request limit (a request with more is refused
    before any view runs)."""
    return settings.DATA_UPLOAD_MAX_NUMBER_FILES or 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>``: a list, maybe empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def files_help(company) -> str:
    return (f"Up to {max_files()} files: {attachments.ALLOWED_LABEL}, each up to "
            f"{company.get_setting('portal.max_attachment_mb')} MB.")


def checked_files(files: list, company) -> list:
    """The uploads of an attachments field, each checked as the portal checks one (type by
    content, size limit): a form error naming the first refused file."""
    if len(files) > max_files():
        raise forms.ValidationError(f"Attach at most {max_files()} files.")
    for upload in files:
        try:
            attachments.check_upload(upload, company, "attachments")
        except ValidationError as exc:
            name = attachments.clean_name(upload.name)
            raise forms.ValidationError(f"The file {name} {exc.message}.") from None
    return files


def attach_files(ticket, files: list, *, user, reply=None) -> list:
    """Store checked uploads on the ticket (or on one of its replies), inside the caller's
    transaction. Storage is not transactional: if a file is refused, the ones already
    written are deleted again before the error goes on (and the transaction rolls back)."""
    stored = []
    try:
        for upload in files:
            stored.append(attachments.attach(ticket, upload, user=user, reply=reply,
                                             field="attachments"))
    except ValidationError:
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return stored


class ComposerForm(forms.Form):
    body = forms.CharField(label="Message", max_length=20000,
                           error_messages={"required": "Write a message first."},
                           widget=forms.Textarea(attrs={"rows": 6}))
    kind = forms.ChoiceField(choices=[("reply", "Reply"), ("note", "Internal note")])
    attachments = MultipleFileField(label="Attachments", required=False)
    canned = forms.CharField(required=False, max_length=40, label="Canned response")
    canned_error = ""  # set by the picker when the chosen response cannot be inserted

    def __init__(self, *args, company=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        if company is not None:
            self.fields["attachments"].help_text = files_help(company)

    def clean_attachments(self):
        return checked_files(self.cleaned_data.get("attachments") or [], self.company)


class InsertForm(forms.Form):
    """The canned-response picker: what is written so far and the response to add."""

    body = forms.CharField(required=False, max_length=20000, strip=False)
    canned = forms.CharField(label="Canned response", max_length=40,
                             error_messages={"required": "Choose a canned response first."})


def picker(request) -> dict:
    """The composer's canned-response choices (active ones, grouped by category)."""
    from nestogy.workspace.auth import can

    return {"canned_choices": list(canned.canned_responses(active_only=True)
                                   .only("public_id", "title", "category")),
            "can_manage_canned": can(request, "canned.manage")}
