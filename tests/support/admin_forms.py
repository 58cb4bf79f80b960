"""The admin as a browser uses it: sign in, and submit change forms the way a browser would
(take the page's own form and inline formsets, keep every value, change the ones a test
names)."""

from __future__ import annotations

from django import forms
from django.test import Client as HttpClient

from tests.conftest import PASSWORD


def login(email):
    http = HttpClient()
    assert http.login(username=email, password=PASSWORD)
    return http


def _field_data(form) -> dict:
    data = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        value = form[name].value()
        widget = field.widget
        if isinstance(widget, forms.MultiWidget):
            parts = value if isinstance(value, list | tuple) else widget.decompress(value)
            for suffix, part in zip(widget.widgets_names, parts, strict=False):
                data[f"{key}{suffix}"] = "" if part is None else str(part)
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[key] = "on"
        elif isinstance(field, forms.ModelMultipleChoiceField):
            data[key] = [str(v) for v in (value or [])]
        else:
            data[key] = "" if value is None else str(value)
    return data


def page_data(response) -> dict:
    """The POST data of an admin add/change page as it was rendered."""
    data = _field_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_field_data(formset.management_form))
        for form in formset.forms:
            data.update(_field_data(form))
    return data


def resubmit(http, url: str, **changes):
    """GET ``url``, then POST its form back with ``changes`` applied."""
    page = http.get(url)
    assert page.status_code == 200, (url, page.status_code)
    data = page_data(page)
    data.update({k: "" if v is None else v for k, v in changes.items()})
    return http.post(url, data)


OPERATOR_EMAIL = "operator@nestogy.test"


def operator():
    """A platform operator (a superuser without a company), signed in to the admin."""
    from nestogy.accounts.models import User

    if not User.objects.filter(email=OPERATOR_EMAIL).exists():
        User.objects.create_superuser(OPERATOR_EMAIL, PASSWORD)
    return login(OPERATOR_EMAIL)
