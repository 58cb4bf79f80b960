"""Form pieces shared by admin pages: write-only inputs for secrets.

A write-only input never renders a value (not the stored one, not even what was typed when
the form comes back with an error), so a page never carries a secret. Blank means "keep";
a separate checkbox clears.
"""

from __future__ import annotations

from django import forms


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
