import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from core.flags import FLAG_CACHE_KEY, KNOWN_FLAGS, flag_is_active
from core.models import AuditEntry, Flag
from tests.conftest import HTMX

BOTH = pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
STAFF_PAGES = ["/staff/flags/", "/staff/audit/"]


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_are_for_staff(client: Client, user: User, staff_user: User, path: str) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")

    client.force_login(user)
    forbidden = client.get(path)
    assert forbidden.status_code == 403
    assert "reserved for other accounts" in forbidden.content.decode()

    client.force_login(staff_user)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/staff/flags/signups/toggle/", {"enabled": "off"}),
        ("/staff/flags/maintenance_banner/message/", {"message": "x"}),
    ],
)
def test_staff_actions_refuse_everyone_else(
    client: Client, user: User, path: str, data: dict[str, str]
) -> None:
    url = path

    assert client.post(url, data)["Location"].startswith("/accounts/login/")
    client.force_login(user)
    assert client.post(url, data).status_code == 403
    assert client.post(url, data, **HTMX).status_code == 403

    assert not Flag.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/staff/flags/signups/toggle/", {"enabled": "off"}),
        ("/staff/flags/maintenance_banner/message/", {"message": "x"}),
    ],
)
def test_staff_actions_need_the_csrf_token(staff_user: User, path: str, data: dict[str, str]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)

    response = client.post(path, data, **HTMX)

    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_the_panel_opens_its_first_tab(client: Client, user: User, staff_client: Client) -> None:
    home = staff_client.get("/staff/")
    assert home.status_code == 302
    assert staff_client.get(home["Location"]).status_code == 200
    client.force_login(user)
    assert client.get("/staff/").status_code == 403


def test_every_staff_tab_has_the_same_header_and_a_line_on_what_it_does(staff_client: Client) -> None:
    first_tab = staff_client.get("/staff/", follow=True)
    tabs = re.findall(r'<a href="([^"]+)"[^>]*>[^<]+</a>', _tabs_nav(first_tab))
    assert len(tabs) >= 2
    for path in tabs:
        html = staff_client.get(path).content.decode()
        assert "<h1>Staff</h1>" in html, path
        assert _tabs_nav(staff_client.get(path)).count("<a ") == len(tabs), path
        assert re.search(r'<p class="muted staff-lead">[^<\s]', html), f"{path} says nothing under the tabs"


def _tabs_nav(response: Any) -> str:
    html = response.content.decode()
    match = re.search(r'<nav class="tabs" aria-label="Staff panel">(.*?)</nav>', html, re.S)
    assert match
    return match.group(1)


# --- Feature flags ----------------------------------------------------------------------------


def test_flags_page_lists_every_known_flag(staff_client: Client) -> None:
    html = staff_client.get("/staff/flags/").content.decode()

    for name in ("signups", "maintenance_banner"):
        assert f'id="flag-{name}"' in html
    assert html.count('role="switch"') == len(KNOWN_FLAGS)


def test_toggle_htmx_returns_the_row_and_the_banner_out_of_band(
    staff_client: Client, staff_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/staff/flags/maintenance_banner/toggle/", {"enabled": "on"}, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card flag-row" id="flag-maintenance_banner"')
    assert 'aria-checked="true"' in html
    assert '<div id="site-banner" hx-swap-oob="true"><div class="banner banner-warning"' in html
    assert flag_is_active("maintenance_banner")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.detail) == (staff_user, "flag.toggle", {"enabled": True})


def test_toggle_plain_post_redirects_and_the_product_changes_at_once(
    staff_client: Client, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    assert flag_is_active("signups")  # the state is now cached, as in every running process

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/staff/flags/signups/toggle/", {"enabled": "off"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/flags/"
    assert cache.get(FLAG_CACHE_KEY) is None
    staff_client.logout()
    assert "Sign-ups are closed" in staff_client.get("/accounts/signup/").content.decode()


def test_toggle_sends_the_wanted_state_so_a_replay_changes_nothing(
    staff_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/staff/flags/signups/toggle/", {"enabled": "off"})
        staff_client.post("/staff/flags/signups/toggle/", {"enabled": "off"})

    assert Flag.objects.get(name="signups").enabled is False
    assert AuditEntry.objects.count() == 1


def test_toggle_an_unknown_flag_is_404(staff_client: Client) -> None:
    assert staff_client.post("/staff/flags/nope/toggle/", {"enabled": "on"}).status_code == 404
    assert not Flag.objects.exists()


@BOTH
def test_banner_message_is_saved_and_shown_on_every_page(
    staff_client: Client,
    client: Client,
    user: User,
    headers: dict[str, str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/staff/flags/maintenance_banner/toggle/", {"enabled": "on"})
        response = staff_client.post(
            "/staff/flags/maintenance_banner/message/", {"message": "  Back at 22:00 UTC.  "}, **headers
        )

    assert response.status_code == (200 if headers else 302)
    assert Flag.objects.get(name="maintenance_banner").message == "Back at 22:00 UTC."
    client.force_login(user)
    for path in ("/", "/dashboard/", "/guide/"):
        assert (
            '<div class="banner banner-warning" role="status">Back at 22:00 UTC.</div>'
            in client.get(path).content.decode()
        )
    assert [entry.action for entry in AuditEntry.objects.order_by("id")] == ["flag.toggle", "flag.message"]


@BOTH
def test_banner_message_too_long_is_a_form_error(staff_client: Client, headers: dict[str, str]) -> None:
    response = staff_client.post(
        "/staff/flags/maintenance_banner/message/", {"message": "x" * 281}, **headers
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "at most 280 characters" in html
    assert not AuditEntry.objects.exists()


# --- Audit log --------------------------------------------------------------------------------


def test_audit_log_lists_newest_first(
    staff_client: Client,
    django_capture_on_commit_callbacks: Any,
    django_assert_max_num_queries: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/staff/flags/signups/toggle/", {"enabled": "off"})
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/staff/flags/maintenance_banner/message/", {"message": "Back soon"})

    with django_assert_max_num_queries(7):  # +1: the team switcher in the top bar lists the person's teams
        html = staff_client.get("/staff/audit/").content.decode()

    assert html.index("flag.message") < html.index("flag.toggle")
    assert "staff@example.com" in html
    assert "Back soon" in html
