"""Sessions and devices: rows written at login, refreshed once a minute, removed at logout, sign-out
and password change; the security page lists them and signs others out."""

from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User, UserSession
from accounts.sessions import device_label
from tests.conftest import HTMX, PASSWORD

pytestmark = pytest.mark.django_db
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


def log_in(user_agent: str, ip: str = "10.0.0.1", email: str = "ann@example.com") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def session_exists(key: str) -> bool:
    return import_module(settings.SESSION_ENGINE).SessionStore().exists(key)


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (FIREFOX, "Firefox on Windows"),
        (IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
            "Chrome on macOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0",
            "Edge on Linux",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
    ],
)
def test_device_label(agent: str, label: str) -> None:
    assert device_label(agent) == label


def test_a_login_records_the_session_with_device_and_address(user: User) -> None:
    client = log_in(FIREFOX, ip="203.0.113.9")

    (row,) = UserSession.objects.filter(user=user)
    assert row.session_key == client.session.session_key
    assert row.user_agent == FIREFOX
    assert row.ip == "203.0.113.9"


def test_the_security_page_lists_both_browsers_and_marks_this_one(user: User) -> None:
    log_in(IPHONE)
    here = log_in(FIREFOX)

    html = here.get("/accounts/security/").content.decode()

    assert "Firefox on Windows" in html
    assert "Safari on iPhone" in html
    assert html.count("This one") == 1
    assert html.index("Firefox on Windows") < html.index("This one") < html.index("Safari on iPhone")


def test_sign_out_one_plain_and_the_other_browser_is_anonymous(user: User) -> None:
    phone = log_in(IPHONE)
    here = log_in(FIREFOX)
    row = UserSession.objects.get(session_key=phone.session.session_key)

    response = here.post(f"/accounts/sessions/{row.pk}/sign-out/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/security/"
    assert not session_exists(row.session_key)
    assert not UserSession.objects.filter(pk=row.pk).exists()
    assert phone.get("/dashboard/").status_code == 302  # sent to log in
    assert here.get("/dashboard/").status_code == 200


def test_sign_out_others_under_htmx_answers_the_section(user: User) -> None:
    phone = log_in(IPHONE)
    laptop = log_in("curl/8.5.0")
    here = log_in(FIREFOX)

    response = here.post("/accounts/sessions/sign-out-others/", **HTMX)  # type: ignore[arg-type]

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<section id="security-sessions"')
    assert "Safari on iPhone" not in html
    assert "Firefox on Windows" in html
    assert phone.get("/dashboard/").status_code == 302
    assert laptop.get("/dashboard/").status_code == 302
    assert list(UserSession.objects.filter(user=user).values_list("session_key", flat=True)) == [
        here.session.session_key
    ]


def test_cannot_sign_out_someone_elses_session_or_this_one(user: User, other_user: User) -> None:
    theirs = log_in(IPHONE, email="bob@example.com")
    here = log_in(FIREFOX)
    their_row = UserSession.objects.get(user=other_user)
    my_row = UserSession.objects.get(session_key=here.session.session_key)

    here.post(f"/accounts/sessions/{their_row.pk}/sign-out/")
    here.post(f"/accounts/sessions/{my_row.pk}/sign-out/")

    assert theirs.get("/dashboard/").status_code == 200
    assert here.get("/dashboard/").status_code == 200


def test_logout_removes_the_row(user: User) -> None:
    client = log_in(FIREFOX)

    client.post("/accounts/logout/")

    assert not UserSession.objects.filter(user=user).exists()


def test_a_password_change_signs_out_the_other_sessions_and_keeps_this_one(user: User) -> None:
    phone = log_in(IPHONE)
    here = log_in(FIREFOX)

    response = here.post(
        "/accounts/password-change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-secret-9",
            "new_password2": "a-new-long-secret-9",
        },
    )

    assert response.status_code == 302
    assert phone.get("/dashboard/").status_code == 302
    assert here.get("/dashboard/").status_code == 200
    rows = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    assert rows == [here.session.session_key]


def test_last_seen_is_written_at_most_once_a_minute(
    user: User, django_assert_max_num_queries: object
) -> None:
    client = log_in(FIREFOX)
    client.get("/dashboard/")
    with django_assert_max_num_queries(20) as queries:  # type: ignore[operator]
        client.get("/dashboard/")
    assert not any("accounts_usersession" in q["sql"] for q in queries.captured_queries)


def test_a_session_from_before_the_list_existed_appears_once_used(user: User, client: Client) -> None:
    client.force_login(user)
    UserSession.objects.all().delete()
    from django.core.cache import cache

    cache.clear()

    client.get("/dashboard/")

    assert UserSession.objects.filter(user=user, session_key=client.session.session_key).exists()


def test_the_security_page_is_in_the_account_menu(user_client: Client) -> None:
    assert 'href="/accounts/security/"' in user_client.get("/dashboard/").content.decode()
