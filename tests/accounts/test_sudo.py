"""Sudo mode: the window a login or re-authentication opens, and the guard on sensitive actions."""

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django_htmx.middleware import HtmxDetails

from accounts.models import User
from accounts.sudo import SESSION_KEY, sudo_active, sudo_required
from tests.conftest import PASSWORD

REAUTH = "/accounts/reauth/"


def expire(client: Client) -> None:
    session = client.session
    session[SESSION_KEY] = 0
    session.save()


@sudo_required
def sensitive(request: HttpRequest) -> HttpResponse:
    return HttpResponse("done")


def request_with(session_value: object, *, method: str = "get", **headers: str) -> HttpRequest:
    request = getattr(RequestFactory(), method)("/dashboard/tokens/", headers=headers)
    request.session = SessionStore()
    request.htmx = HtmxDetails(request)  # type: ignore[attr-defined]
    if session_value is not None:
        request.session[SESSION_KEY] = session_value
    return request


def test_a_login_opens_the_window(user_client: Client) -> None:
    assert isinstance(user_client.session[SESSION_KEY], int)


@pytest.mark.parametrize("value", [None, 0, "9999999999", 1.5])
def test_outside_the_window_a_get_goes_to_reauthenticate_and_comes_back(value: object) -> None:
    response = sensitive(request_with(value))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauth/?next=%2Fdashboard%2Ftokens%2F"


def test_outside_the_window_htmx_redirects_the_whole_page() -> None:
    response = sensitive(request_with(None, method="post", HX_Request="true"))

    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/reauth/?next=")


def test_a_post_outside_the_window_comes_back_to_the_page_it_came_from_not_to_itself() -> None:
    request = request_with(None, method="post", Referer="http://testserver/dashboard/profile/?tab=1")

    back = "http%3A%2F%2Ftestserver%2Fdashboard%2Fprofile%2F%3Ftab%3D1"
    assert sensitive(request)["Location"] == f"/accounts/reauth/?next={back}"


def test_a_post_from_another_site_comes_back_to_its_own_path() -> None:
    request = request_with(None, method="post", Referer="https://evil.example/x")

    assert sensitive(request)["Location"] == "/accounts/reauth/?next=%2Fdashboard%2Ftokens%2F"


def test_inside_the_window_the_view_runs() -> None:
    assert sensitive(request_with(2**40)).content == b"done"


def test_the_right_password_opens_the_window_and_goes_on(user_client: Client) -> None:
    expire(user_client)

    response = user_client.post(REAUTH, {"password": PASSWORD, "next": "/dashboard/tokens/"})

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/tokens/"
    request = HttpRequest()
    request.session = user_client.session
    assert sudo_active(request)


def test_a_wrong_password_is_said_in_the_form_and_opens_nothing(user_client: Client) -> None:
    expire(user_client)

    response = user_client.post(REAUTH, {"password": "not-it", "next": "/dashboard/tokens/"})

    assert response.status_code == 200
    assert "That is not your password." in response.content.decode()
    assert user_client.session[SESSION_KEY] == 0


def test_wrong_passwords_count_against_the_login_lockout(user_client: Client, settings: object) -> None:
    expire(user_client)
    for _ in range(12):
        response = user_client.post(REAUTH, {"password": "not-it"})
    assert "That is not your password." not in response.content.decode()  # the lock is said instead
    # Locked: even the right password opens nothing now.
    user_client.post(REAUTH, {"password": PASSWORD})
    assert user_client.session[SESSION_KEY] == 0


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_next_never_leaves_the_site(user_client: Client, target: str) -> None:
    response = user_client.post(REAUTH, {"password": PASSWORD, "next": target})

    assert response["Location"] == "/dashboard/"


def test_an_account_without_a_password_is_told_how_to_confirm(client: Client, db: None) -> None:
    user = User.objects.create_user(email="oauth@example.com", password=None)
    client.force_login(user)

    page = client.get(REAUTH).content.decode()

    assert "no password" in page
    assert 'name="password"' not in page
    assert client.post(REAUTH, {"password": ""}).status_code == 200


def test_reauth_needs_a_login(client: Client) -> None:
    assert client.get(REAUTH)["Location"].startswith("/accounts/login/")
