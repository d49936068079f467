"""Form fields and widgets that keep forms with long choice lists fast."""

import copy
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


class LongSelect(forms.Select):
    """A `<select>` for a long, flat list of choices (the ~600 time zones of the profile form).

    Django renders every option through its own template and copies and re-normalizes the choices
    for each form instance: the profile action spent 25 ms per request on time zones. Here copies of
    the widget share one choices list, its options are rendered once, and the chosen one is marked
    by a string replacement. The markup is `forms.Select`'s, attributes (required, aria-invalid,
    aria-describedby) included.
    """

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__(attrs, choices)
        # Shared by every copy: (the choices list it was rendered from, its options).
        self._rendered: dict[int, tuple[object, SafeString | None]] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> "LongSelect":
        widget = copy.copy(self)  # the same choices list and render cache, not copies of them
        widget.attrs = self.attrs.copy()
        memo[id(self)] = widget
        return widget

    def rendered_options(self) -> SafeString | None:
        """The rendered options, or None when the choices have groups (left to Django)."""
        choices = self.choices
        cached = self._rendered.get(id(choices))
        if cached is None or cached[0] is not choices:
            grouped = any(isinstance(label, list | tuple) for _, label in choices)
            options = None if grouped else format_html_join("", '<option value="{}">{}</option>', choices)
            cached = self._rendered[id(choices)] = (choices, options)
        return cached[1]

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        options = self.rendered_options()
        if options is None:
            return super().render(name, value, attrs, renderer)
        for chosen in self.format_value(value)[:1]:
            opening = format_html('<option value="{}">', chosen)
            # Both halves are escaped HTML already: the options when rendered, `opening` just above.
            options = mark_safe(options.replace(opening, opening[:-1] + " selected>", 1))  # noqa: S308
        final_attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, final_attrs, options)


class LongChoiceField(forms.TypedChoiceField):
    """A choice field for a long, fixed list: every form shares the choices instead of deep-copying
    them (Django copies each field per form instance)."""

    widget = LongSelect

    def __deepcopy__(self, memo: dict[int, Any]) -> "LongChoiceField":
        # Field's copy (widget, validators, messages) without ChoiceField's deep copy of the choices:
        # nothing changes them per form.
        result: LongChoiceField = forms.Field.__deepcopy__(self, memo)
        result._choices = self._choices  # type: ignore[attr-defined]  # set by ChoiceField.__init__
        return result
