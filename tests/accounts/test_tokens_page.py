from django.test import Client

from accounts.models import ApiToken, User
from accounts.tokens import api_token_create
from tests.conftest import HTMX

URL = "/dashboard/tokens/"


def test_create_plain_post_redirects_and_shows_the_secret_once(user_client: Client, user: User) -> None:
    response = user_client.post(URL, {"name": "Laptop"})

    assert response.status_code == 302
    assert response["Location"] == URL
    page = user_client.get(URL).content.decode()
    token = ApiToken.objects.get(user=user)
    assert 'id="new-token"' in page
    assert token.prefix in page
    assert 'id="new-token"' not in user_client.get(URL).content.decode()  # once


def test_create_htmx_returns_the_section_with_the_secret(user_client: Client, user: User) -> None:
    response = user_client.post(URL, {"name": "Laptop"}, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="tokens"')
    assert 'id="new-token">tf_' in html
    assert "Laptop" in html
    assert ApiToken.objects.filter(user=user, name="Laptop").exists()


def test_create_with_empty_name_shows_the_error_both_ways(user_client: Client, user: User) -> None:
    for headers in ({}, HTMX):
        response = user_client.post(URL, {"name": "   "}, **headers)
        assert response.status_code == 200
        assert "Give the token a name." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_plain_and_htmx(user_client: Client, user: User) -> None:
    first, _ = api_token_create(user=user, name="One")
    second, _ = api_token_create(user=user, name="Two")

    plain = user_client.post(f"{URL}{first.pk}/revoke/")
    htmx = user_client.post(f"{URL}{second.pk}/revoke/", **HTMX)

    assert plain.status_code == 302
    assert htmx.status_code == 200
    assert "No active tokens" in htmx.content.decode()
    assert ApiToken.objects.active().count() == 0


def test_cannot_revoke_someone_elses_token(user_client: Client, other_user: User) -> None:
    theirs, _ = api_token_create(user=other_user, name="Theirs")

    user_client.post(f"{URL}{theirs.pk}/revoke/")

    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_token_list_queries_do_not_grow_with_tokens(
    user_client: Client, user: User, django_assert_max_num_queries: object
) -> None:
    for i in range(15):
        api_token_create(user=user, name=f"T{i}")
    # 7, one added with tenancy: the form's team choices (the user's memberships, through the reverse
    # relation: accounts imports no teams code, so it cannot reuse the switcher's list).
    with django_assert_max_num_queries(7):  # type: ignore[operator]
        response = user_client.get(URL)
    assert response.content.decode().count("<tr id=") == 15
