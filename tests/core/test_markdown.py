from html.parser import HTMLParser

import pytest

from core.markdown import ALLOWED_TAGS, render_markdown


def test_markdown_renders_formatting() -> None:
    html = render_markdown("# Title\n\nSome **bold** and `code`.\n\n- one\n- two")

    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](JaVaScRiPt:alert(1))",
        '<a href="https://ok.example" onclick="alert(1)">x</a>',
    ],
)
def test_no_html_or_script_survives(evil: str) -> None:
    parser = TagCollector()
    parser.feed(render_markdown(evil))

    assert parser.tags <= ALLOWED_TAGS
    for tag, attrs in parser.attrs:
        assert not any(name.startswith("on") for name, _ in attrs), tag
        href = dict(attrs).get("href") or ""
        assert not href or href.startswith(("http://", "https://", "mailto:")), href


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.append((tag, attrs))


def test_links_are_kept_with_safe_rel() -> None:
    html = render_markdown("[docs](https://docs.djangoproject.com/)")

    assert 'href="https://docs.djangoproject.com/"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_markdown_is_rendered_once_per_text() -> None:
    first = render_markdown("Cached **once**, unique text 7f3a.")

    assert render_markdown("Cached **once**, unique text 7f3a.") is first
    assert render_markdown("Cached **once**, unique text 7f3b.") is not first
