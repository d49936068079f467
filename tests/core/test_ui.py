"""The shared look: the icon tag, the status page, and what pages show around the feature flags."""

from pathlib import Path

import pytest
from django.core.cache import cache
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client

from accounts.models import User
from core.models import Flag


def render(source: str) -> str:
    return Template("{% load icons %}" + source).render(Context())


def test_icon_is_inline_svg_hidden_from_screen_readers() -> None:
    html = render('{% icon "zap" %}')
    assert html.startswith('<svg class="icon icon-zap" width="20" height="20" viewBox="0 0 24 24"')
    assert 'aria-hidden="true"' in html
    assert "<path" in html
    assert "\n" not in html


def test_icon_with_a_label_is_an_image_with_that_name() -> None:
    html = render('{% icon "check" label="Done <now>" size=16 %}')
    assert 'role="img" aria-label="Done &lt;now&gt;"' in html
    assert 'width="16"' in html
    assert "aria-hidden" not in html


def test_templates_draw_no_icons_of_their_own() -> None:
    """Every icon comes from the one set, through the tag: a hand-drawn <svg> would not match the rest."""
    root = Path(__file__).resolve().parents[2]
    drawn = [
        str(path.relative_to(root))
        for path in [*root.glob("templates/**/*.html"), *root.glob("*/templates/**/*.html")]
        if ".venv" not in path.parts and "<svg" in path.read_text()
    ]
    assert drawn == []


@pytest.mark.parametrize("name", ["no-such-icon", "../LICENSE", "Zap"])
def test_unknown_icon_fails_loudly(name: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        render('{% icon "' + name + '" %}')


@pytest.mark.django_db
def test_status_page_is_a_page_of_the_product(client: Client) -> None:
    response = client.get("/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "All systems working" in html
    assert html.count("Working</span>") == 3
    assert '<link rel="stylesheet"' in html


@pytest.mark.django_db
def test_footer_links_the_status_page_not_raw_json(client: Client) -> None:
    html = client.get("/").content.decode()
    assert 'href="/status/">Status</a>' in html
    assert 'href="/healthz"' not in html


@pytest.mark.django_db
def test_every_page_has_a_meta_description(client: Client) -> None:
    for path in ("/", "/guide/", "/accounts/login/", "/status/"):
        assert '<meta name="description" content="' in client.get(path).content.decode(), path


@pytest.mark.django_db
def test_pricing_offers_sign_up_only_while_signups_are_open(client: Client) -> None:
    pytest.importorskip("billing")
    assert "Start free" in client.get("/pricing/").content.decode()

    Flag.objects.create(name="signups", label="Sign-ups", enabled=False)
    cache.clear()  # the flags are cached; the staff toggle clears them, a bare create does not
    html = client.get("/pricing/").content.decode()
    assert "Start free" not in html
    assert "Start with Pro" not in html
    assert "/accounts/signup/" not in html
    assert 'href="/accounts/login/">Log in</a>' in html


@pytest.mark.django_db
def test_new_token_hint_shows_the_whole_token(client: Client, user: User) -> None:
    client.force_login(user)
    response = client.post("/dashboard/tokens/", {"name": "CI"}, follow=True)
    html = response.content.decode()
    start = html.index('<code id="new-token">') + len('<code id="new-token">')
    token = html[start : html.index("</code>", start)]
    assert len(token) > 20
    assert f"<code>Authorization: Bearer {token}</code>" in html
