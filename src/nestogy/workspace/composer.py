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
            self.fields["attachments"].help_text = (
                f"Up to {max_files()} files: {attachments.ALLOWED_LABEL}, each up to "
                f"{company.get_setting('portal.max_attachment_mb')} MB.")

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        if len(files) > max_files():
            raise forms.ValidationError(f"Attach at most {max_files()} files.")
        for upload in files:
            try:
                attachments.check_upload(upload, self.company, "attachments")
            except ValidationError as exc:
                name = attachments.clean_name(upload.name)
                raise forms.ValidationError(f"The file {name} {exc.message}.") from None
        return files


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
