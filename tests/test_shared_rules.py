"""Each field rule that a page's form and the JSON API both enforce reads the same in both: the form's
error (as the page shows it) and the API's 400 carry identical text, for every way to break the rule."""

from typing import Any

import pytest
from django.forms import Form
from django.test import Client

from accounts.forms import ApiTokenForm, ProfileForm
from accounts.models import User
from tests.conftest import PASSWORD, needs


def form_errors(form: Form, field: str) -> list[str]:
    assert not form.is_valid()
    return [str(message) for message in form.errors[field]]


def api_errors(response: Any, field: str) -> list[str]:
    assert response.status_code == 400, response.content
    return [str(message) for message in response.json()[field]]


@needs("posts")
@pytest.mark.parametrize(
    ("field", "value"),
    [("title", ""), ("title", "   "), ("title", "t" * 121), ("body", ""), ("body", "b" * 5001)],
)
def test_a_post_rule_reads_the_same_in_the_form_and_the_api(
    user_client: Client, field: str, value: str
) -> None:
    from posts.forms import PostForm

    valid = {"title": "A title", "body": "A body"}
    form = PostForm({**valid, field: value})

    response = user_client.post("/api/v1/posts/", {**valid, field: value}, "application/json")

    assert api_errors(response, field) == form_errors(form, field)


@needs("posts")
def test_a_missing_or_null_post_title_reads_as_an_empty_one(user_client: Client) -> None:
    from posts.forms import PostForm

    expected = form_errors(PostForm({"body": "A body"}), "title")

    missing = user_client.post("/api/v1/posts/", {"body": "A body"}, "application/json")
    null = user_client.post("/api/v1/posts/", {"title": None, "body": "A body"}, "application/json")

    assert expected == ["Give your post a title."]
    assert api_errors(missing, "title") == api_errors(null, "title") == expected


@needs("posts")
def test_the_post_body_help_says_what_happens_to_html() -> None:
    from core.markdown import render_markdown
    from posts.forms import PostForm

    help_text = str(PostForm().fields["body"].help_text)

    # Tags are shown as typed (escaped), not removed and not run: the help text says just that.
    assert "&lt;b&gt;hi&lt;/b&gt;" in render_markdown("<b>hi</b>")
    assert "shown as typed" in help_text
    assert "removed" not in help_text


@needs("chat")
@pytest.mark.parametrize("value", ["", "   ", "m" * 4001])
def test_a_chat_message_rule_reads_the_same_on_the_page_and_in_the_stream_api(
    user_client: Client, value: str
) -> None:
    from chat.forms import MessageForm

    form = MessageForm({"message": value})

    response = user_client.post("/api/v1/chat/stream/", {"message": value}, "application/json")

    assert api_errors(response, "message") == form_errors(form, "message")


@needs("chat")
def test_the_chat_limit_says_the_limit_and_the_length(user_client: Client, settings: Any) -> None:
    from chat.forms import MessageForm

    settings.CHAT_MAX_MESSAGE_CHARS = 10

    assert form_errors(MessageForm({"message": "x" * 12}), "message") == [
        "Keep your message to 10 characters or fewer (this one has 12)."
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("display_name", ""), ("display_name", "  "), ("display_name", "n" * 61), ("display_name", "a\x07b"),
     ("bio", "b" * 281)],
)  # fmt: skip
def test_a_profile_rule_reads_the_same_on_the_page_and_in_the_api(
    user_client: Client, user: User, field: str, value: str
) -> None:
    current = {"display_name": user.display_name, "bio": user.bio, "time_zone": user.time_zone}
    form = ProfileForm({**current, field: value}, instance=user)

    response = user_client.patch("/api/v1/me/", {field: value}, "application/json")

    assert api_errors(response, field) == form_errors(form, field)


@pytest.mark.parametrize("value", ["", "   ", "t" * 61])
def test_a_token_name_rule_reads_the_same_on_the_page_and_in_the_api(
    client: Client, user: User, value: str
) -> None:
    form = ApiTokenForm({"name": value}, user=user)

    response = client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": PASSWORD, "device_name": value},
        "application/json",
    )

    assert api_errors(response, "device_name") == form_errors(form, "name")


def test_wrong_credentials_read_the_same_on_the_login_page_and_in_the_api(client: Client, user: User) -> None:
    page = client.post("/accounts/login/", {"username": user.email, "password": "wrong"})

    response = client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, "application/json"
    )

    assert response.status_code == 401
    assert response.json()["detail"] in page.content.decode()
    assert response.json()["detail"] == "That email and password do not match an account."
