"""Markdown from users and from the model, rendered to HTML that is safe to show.

markdown-it-py with raw HTML disabled does the rendering; nh3 (the Rust `ammonia` sanitizer) then
keeps only an allow-list of tags and attributes and safe URL schemes, so no script, event handler or
`javascript:` link survives whatever the input.
"""

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}


# Rendering is a pure function of the text and about a third of a page of 20 posts' time (measured by
# py-spy on GET /api/v1/posts/): the same bodies are rendered again and again, so they are kept, per process.
@lru_cache(maxsize=256)  # bodies are at most 5,000 characters: a few MB at most
def render_markdown(text: str) -> SafeString:
    html = _markdown.render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 - sanitized by nh3 just above
