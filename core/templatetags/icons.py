"""`{% icon "name" %}`: one icon set, inline SVG, on every page.

The icons are Lucide's (ISC licence, `core/icons/LICENSE`), copied as files into `core/icons/`: add one
by copying its SVG from https://lucide.dev (or the `lucide-static` npm package) into that folder. Inline
SVG follows `currentColor` and the text size, costs no request, and needs no JavaScript.
"""

import re
from functools import cache
from pathlib import Path

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ICON_DIR = Path(__file__).resolve().parent.parent / "icons"
_NAME = re.compile(r"^[a-z0-9-]+$")
_BODY = re.compile(r"<svg[^>]*>(.*)</svg>", re.DOTALL)


@cache
def _icon_body(name: str) -> str:
    if not _NAME.match(name):
        raise template.TemplateSyntaxError(f"Icon names are lowercase Lucide names, not {name!r}.")
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        raise template.TemplateSyntaxError(f"No icon {name!r}: copy Lucide's {name}.svg into {ICON_DIR}.")
    match = _BODY.search(path.read_text())
    if match is None:
        raise template.TemplateSyntaxError(f"{path} is not an SVG file.")
    # One line, no indentation: the markup is repeated on every page that shows the icon.
    return re.sub(r">\s+<", "><", match.group(1).strip())


@register.simple_tag
def icon(name: str, label: str = "", size: int = 20, css: str = "") -> SafeString:
    """The icon `name` as inline SVG. Decorative (hidden from screen readers) unless `label` is given,
    in which case it is an image with that accessible name."""
    body = mark_safe(_icon_body(name))  # noqa: S308 - our own files, read from the package
    classes = f"icon icon-{name} {css}".strip()
    if label:
        semantics = format_html('role="img" aria-label="{}"', escape(str(label)))  # text, even from a literal
    else:
        semantics = mark_safe('aria-hidden="true" focusable="false"')
    return format_html(
        '<svg class="{}" width="{}" height="{}" viewBox="0 0 24 24" {} {}>{}</svg>',
        classes,
        size,
        size,
        _STROKE,
        semantics,
        body,
    )


_STROKE = mark_safe(
    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"'
)
