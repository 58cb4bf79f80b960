"""Form pieces shared by admin pages and the workspace: write-only inputs for secrets, and a
select for long choice lists.

A write-only input never renders a value (not the stored one, not even what was typed when
the form comes back with an error), so a page never carries a secret. Blank means "keep";
a separate checkbox clears.
"""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


class WriteOnlyInput(forms.PasswordInput):
    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})},
                         render_value=False)


class WriteOnlyTextarea(forms.Textarea):
    """A textarea for a multi-line secret (one URL per line) that never renders a value."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "off", "rows": 3, "spellcheck": "false",
                                **(attrs or {})})

    def format_value(self, value):
        return None


def secret_help(help_text: str, state_line: str, *, clearable: bool = True) -> str:
    """Help of a write-only field: what it is, its state (``set, ends in …9xQz``), how to
    change it."""
    how = "Type a new value to replace it; leave blank to keep it"
    if clearable:
        how += "; tick Clear to remove it"
    return f"{help_text}. Currently: {state_line}. {how}."


class LongSelect(forms.Select):
    """A ``<select>`` for long choice lists (a client per option), rendered in Python.

    Django's own select renders every option through a template, about 35 µs each: a queue
    filter offering 1,000 clients would spend 35 ms on one field. This renders the same
    markup (attributes, ``selected``, option groups) in one pass.
    """

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(v) for v in self.format_value(value)}

        def options(choices):
            return format_html_join(
                "", "{}", ((format_html('<optgroup label="{}">{}</optgroup>', option,
                                        options(label))
                            if isinstance(label, (list, tuple)) else
                            format_html('<option value="{}"{}>{}</option>', option,
                                        " selected" if str(option) in chosen else "", label),)
                           for option, label in choices))

        final = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final),
                           options(self.choices))
