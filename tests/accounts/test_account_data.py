"""Your data: the JSON export (with and without the feature apps' sections) and deleting the account."""

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken, User, UserSession
from accounts.signals import DeletionRefused, account_deleting
from accounts.sudo import SESSION_KEY
from accounts.tokens import api_token_create
from core import registry
from tests.conftest import HTMX, PASSWORD, needs, personal_membership, personal_team

pytestmark = pytest.mark.django_db


def export(client: Client) -> dict[str, Any]:
    response = client.get("/accounts/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="twofold-export-')
    data: dict[str, Any] = json.loads(response.content)
    return data


@pytest.fixture
def only_accounts_sections() -> Iterator[None]:
    """As if no feature app were installed: only the sections accounts registers."""
    saved = dict(registry._exports)
    registry._exports.clear()
    registry._exports.update({k: v for k, v in saved.items() if k in {"profile", "api_tokens", "sessions"}})
    yield
    registry._exports.clear()
    registry._exports.update(saved)


def test_export_has_the_profile_tokens_names_and_sessions_never_secrets(
    user_client: Client, user: User
) -> None:
    token, secret = api_token_create(user=user, name="CI")

    data = export(user_client)
    raw = json.dumps(data)

    assert data["profile"]["email"] == "ann@example.com"
    assert data["profile"]["email_verified"] is True
    assert [t["name"] for t in data["api_tokens"]] == ["CI"]
    assert secret not in raw
    assert token.digest not in raw
    assert len(data["sessions"]) == 1
    assert user_client.session.session_key not in raw


def test_export_without_feature_apps_lists_only_the_accounts_sections(
    user_client: Client, only_accounts_sections: None
) -> None:
    data = export(user_client)

    assert set(data) == {"exported_at", "format", "profile", "api_tokens", "sessions"}


def test_a_registered_section_is_in_the_export(user_client: Client) -> None:
    registry.export_add("extra", lambda user: {"who": user.email})
    try:
        data = export(user_client)
    finally:
        registry._exports.pop("extra")

    assert data["extra"] == {"who": "ann@example.com"}


@needs("posts")
def test_export_with_posts(user_client: Client, user: User, other_user: User) -> None:
    post_create = importlib.import_module("posts.services").post_create
    post_create(membership=personal_membership(user), title="Mine", body="**hello**")
    post_create(membership=personal_membership(other_user), title="Theirs", body="no")

    data = export(user_client)

    assert [(p["title"], p["body"]) for p in data["posts"]] == [("Mine", "**hello**")]


@needs("posts")
def test_export_of_an_account_without_posts_has_an_empty_list(user_client: Client) -> None:
    assert export(user_client)["posts"] == []


@needs("chat")
def test_export_with_conversations(user_client: Client, user: User, other_user: User) -> None:
    models = importlib.import_module("chat.models")
    mine = models.Conversation.objects.create(user=user, team=personal_team(user), title="Trip")
    models.Message.objects.create(conversation=mine, role="user", content="Where to?")
    models.Message.objects.create(conversation=mine, role="assistant", content="Lisbon.")
    models.Conversation.objects.create(user=other_user, team=personal_team(other_user), title="Not mine")

    data = export(user_client)

    (conversation,) = data["chat_conversations"]
    assert conversation["title"] == "Trip"
    assert [(m["role"], m["content"]) for m in conversation["messages"]] == [
        ("user", "Where to?"),
        ("assistant", "Lisbon."),
    ]


@needs("chat")
def test_export_of_an_account_without_conversations_has_an_empty_list(user_client: Client) -> None:
    assert export(user_client)["chat_conversations"] == []


# --- Deleting the account ------------------------------------------------------------------------


def test_deleting_needs_sudo(user_client: Client, user: User) -> None:
    session = user_client.session
    session[SESSION_KEY] = 0
    session.save()

    response = user_client.post("/accounts/delete/", {"confirm_email": user.email})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/")
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.parametrize(
    ("typed", "error"),
    [("", "This field is required."), ("bob@example.com", "That is not your email address")],
)
def test_a_wrong_confirmation_is_shown_in_the_form(
    user_client: Client, user: User, typed: str, error: str
) -> None:
    response = user_client.post("/accounts/delete/", {"confirm_email": typed})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()


def test_deleting_removes_the_account_and_what_hangs_on_it_and_signs_out_everywhere(user: User) -> None:
    other_browser = Client()
    other_browser.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    client = Client()
    client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    api_token_create(user=user, name="CI")

    response = client.post("/accounts/delete/", {"confirm_email": "ANN@example.com"}, follow=True)

    assert response.redirect_chain[-1][0] == "/"
    assert "Your account and its data are deleted" in response.content.decode()
    assert not User.objects.filter(pk=user.pk).exists()
    assert not ApiToken.objects.exists()
    assert not UserSession.objects.exists()
    assert other_browser.get("/dashboard/").status_code == 302


@needs("posts")
def test_deleting_removes_the_posts(user_client: Client, user: User) -> None:
    post_model = importlib.import_module("posts.models").Post
    importlib.import_module("posts.services").post_create(
        membership=personal_membership(user), title="T", body="B"
    )

    user_client.post("/accounts/delete/", {"confirm_email": user.email})

    assert not post_model.objects.exists()


def test_a_receiver_can_refuse_and_its_message_is_shown_in_the_form(user_client: Client, user: User) -> None:
    def refuse(sender: Any, user: User, **kwargs: Any) -> None:
        raise DeletionRefused("You own the team “Acme”: transfer it first.")

    account_deleting.connect(refuse, dispatch_uid="test.refuse")
    try:
        for headers in ({}, HTMX):
            response = user_client.post("/accounts/delete/", {"confirm_email": user.email}, **headers)  # type: ignore[arg-type]
            assert response.status_code == 200
            assert "You own the team “Acme”: transfer it first." in response.content.decode()
    finally:
        account_deleting.disconnect(dispatch_uid="test.refuse")

    assert User.objects.filter(pk=user.pk).exists()
    assert UserSession.objects.filter(user=user).exists()


def test_receivers_get_the_user_before_it_is_gone(user_client: Client, user: User) -> None:
    seen: list[tuple[int, bool]] = []

    def look(sender: Any, user: User, **kwargs: Any) -> None:
        seen.append((user.pk, User.objects.filter(pk=user.pk).exists()))

    account_deleting.connect(look, dispatch_uid="test.look")
    try:
        user_client.post("/accounts/delete/", {"confirm_email": user.email})
    finally:
        account_deleting.disconnect(dispatch_uid="test.look")

    assert seen == [(user.pk, True)]


@needs("billing")
def test_an_active_paid_plan_refuses_until_cancelled(user_client: Client, user: User) -> None:
    subscription_model = importlib.import_module("billing.models").Subscription
    subscription = subscription_model.objects.create(team=personal_team(user), status="active")

    refused = user_client.post("/accounts/delete/", {"confirm_email": user.email})
    subscription.cancel_at_period_end = True
    subscription.save()
    accepted = user_client.post("/accounts/delete/", {"confirm_email": user.email})

    assert "Cancel it first" in refused.content.decode()
    assert accepted.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
