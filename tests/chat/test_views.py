"""The chat page and its actions: each action as htmx (partial back) and as a plain POST (redirect)."""

from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from accounts.models import User
from chat.models import Conversation, DailyUsage, Message
from chat.services import _today, chat_messages_used_today
from core.models import Flag
from tests.conftest import HTMX, personal_team


def conversation_of(user: User, *contents: str, title: str = "Thread") -> Conversation:
    conversation = Conversation.objects.create(user=user, team=personal_team(user), title=title)
    for index, content in enumerate(contents):
        role = Message.Role.USER if index % 2 == 0 else Message.Role.ASSISTANT
        Message.objects.create(conversation=conversation, role=role, content=content)
    return conversation


def test_the_chat_page_needs_login(client: Client, db: None) -> None:
    assert client.get("/chat/")["Location"] == "/accounts/login/?next=/chat/"


def test_the_chat_page_lists_conversations_and_usage_with_its_module_script(
    user_client: Client, user: User, other_user: User
) -> None:
    conversation_of(user, title="Deploying Twofold")
    conversation_of(other_user, title="Someone else's")
    DailyUsage.objects.create(team=personal_team(user), day=_today(), messages=7)

    response = user_client.get("/chat/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Deploying Twofold" in html
    assert "Someone else" not in html
    assert "<strong>7</strong> of 20 messages today" in html
    assert 'type="module" src="/static/js/chat.js" nonce="' in html
    assert 'data-stream-url="/api/v1/chat/stream/"' in html
    assert 'aria-current="page">Chat</a>' in html


def test_a_conversation_renders_model_markdown_safely(user_client: Client, user: User) -> None:
    conversation = conversation_of(
        user, "Show me", "**Bold** and <script>alert(1)</script> [x](javascript:alert(1))"
    )

    html = user_client.get(f"/chat/{conversation.pk}/").content.decode()

    assert "<strong>Bold</strong>" in html
    assert "<script>alert(1)" not in html
    assert 'href="javascript' not in html  # left as plain text, never a link


def test_the_page_costs_the_same_queries_for_many_conversations_and_messages(
    user_client: Client, user: User, django_assert_max_num_queries: Any
) -> None:
    for n in range(15):
        conversation_of(user, "q", "a", title=f"T{n}")
    big = conversation_of(user, *(["question", "answer"] * 20))

    # 9, one added with tenancy: the person's memberships (the current team, shared with the switcher),
    # which the team-scoped conversation, list and usage queries need before they run.
    with django_assert_max_num_queries(9):
        response = user_client.get(f"/chat/{big.pk}/")

    assert response.status_code == 200


def test_someone_elses_conversation_is_404(user_client: Client, other_user: User) -> None:
    theirs = conversation_of(other_user, "Private")

    assert user_client.get(f"/chat/{theirs.pk}/").status_code == 404


def test_under_htmx_a_conversation_answers_the_thread_with_out_of_band_list_and_usage(
    user_client: Client, user: User
) -> None:
    conversation = conversation_of(user, "Question", "Answer", title="Mine")

    response = user_client.get(f"/chat/{conversation.pk}/", **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="chat-thread"')
    assert '<ul id="conversation-list" class="chat-list" hx-swap-oob="true">' in html
    assert '<div id="chat-usage" class="chat-usage" hx-swap-oob="true">' in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_as_a_stream_starts_the_page_gets_the_list_and_usage_alone(user_client: Client, user: User) -> None:
    conversation = conversation_of(user, "Question", title="Just started")
    DailyUsage.objects.create(team=personal_team(user), day=_today(), messages=1)

    response = user_client.get(f"/chat/{conversation.pk}/", **HTMX, HTTP_HX_TARGET="conversation-list")

    html = response.content.decode()
    assert html.lstrip().startswith('<ul id="conversation-list" class="chat-list">')  # the target itself
    assert "Just started" in html
    assert '<div id="chat-usage" class="chat-usage" hx-swap-oob="true">' in html
    assert "<strong>1</strong> of 20 messages today" in html
    assert "chat-thread" not in html  # the answer streaming there is left alone
    assert {"HX-Request", "HX-Target"} <= {v.strip() for v in response["Vary"].split(",")}


def test_sending_without_javascript_waits_for_the_answer_and_redirects(
    user_client: Client, user: User, demo_model: None
) -> None:
    response = user_client.post("/chat/send/", {"message": "Hello without JS"})

    conversation = Conversation.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == f"/chat/{conversation.pk}/"
    assert [m.role for m in conversation.messages.all()] == ["user", "assistant"]
    page = user_client.get(response["Location"]).content.decode()
    assert "Hello without JS" in page
    assert "<strong>Demo mode</strong>" in page


def test_sending_without_javascript_continues_a_conversation(
    user_client: Client, user: User, demo_model: None
) -> None:
    conversation = conversation_of(user, "First", "Answer")

    response = user_client.post("/chat/send/", {"message": "Second", "conversation_id": conversation.pk})

    assert response["Location"] == f"/chat/{conversation.pk}/"
    assert conversation.messages.count() == 4


def test_an_upstream_failure_without_javascript_redirects_with_the_error(
    user_client: Client, user: User, fake_anthropic: Any
) -> None:
    from bench.fake_anthropic import Script

    fake_anthropic.script = Script(http_status=529)

    response = user_client.post("/chat/send/", {"message": "Hi"}, follow=True)

    html = response.content.decode()
    assert "overloaded" in html
    assert "No answer: the AI service failed" in html
    assert chat_messages_used_today(personal_team(user)) == 0


def test_an_empty_message_without_javascript_shows_the_error_in_the_form(
    user_client: Client, user: User
) -> None:
    response = user_client.post("/chat/send/", {"message": "   "})

    assert response.status_code == 200
    assert "Write a message first." in response.content.decode()
    assert not Message.objects.exists()


def test_the_quota_without_javascript_shows_in_the_form(user_client: Client, user: User) -> None:
    DailyUsage.objects.create(team=personal_team(user), day=_today(), messages=20)

    response = user_client.post("/chat/send/", {"message": "Hi"})

    assert response.status_code == 200
    assert "used today&#x27;s 20 chat messages" in response.content.decode()
    assert not Message.objects.exists()


def test_chat_switched_off_shows_in_the_page_and_refuses_to_send(user_client: Client, user: User) -> None:
    Flag.objects.create(name="chat", enabled=False, label="AI chat")

    page = user_client.get("/chat/").content.decode()
    response = user_client.post("/chat/send/", {"message": "Hi"})

    assert "Chat is switched off" in page
    assert response.status_code == 200
    assert "Chat is switched off" in response.content.decode()
    assert not Message.objects.exists()


def test_sending_into_someone_elses_conversation_is_404(user_client: Client, other_user: User) -> None:
    theirs = conversation_of(other_user, "Private")

    response = user_client.post("/chat/send/", {"message": "Hi", "conversation_id": theirs.pk})

    assert response.status_code == 404
    assert theirs.messages.count() == 1


@pytest.mark.parametrize("conversation_id", ["9" * 19, "9" * 40])
def test_sending_into_a_conversation_id_past_any_database_integer_is_404(
    user_client: Client, conversation_id: str
) -> None:
    response = user_client.post("/chat/send/", {"message": "Hi", "conversation_id": conversation_id})

    assert response.status_code == 404
    assert not Message.objects.exists()


def test_delete_with_htmx_removes_the_row_and_toasts(user_client: Client, user: User) -> None:
    keep = conversation_of(user, "Keep")
    drop = conversation_of(user, "Drop")

    response = user_client.post(
        f"/chat/{drop.pk}/delete/", **{**HTMX, "HTTP_HX_CURRENT_URL": f"http://testserver/chat/{keep.pk}/"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Conversation deleted." in html
    assert 'hx-swap-oob="beforeend"' in html  # the toast, out of band; the row swaps to nothing
    assert list(Conversation.objects.all()) == [keep]


def test_delete_with_htmx_of_the_open_conversation_goes_back_to_the_chat_page(
    user_client: Client, user: User
) -> None:
    drop = conversation_of(user, "Drop")

    response = user_client.post(
        f"/chat/{drop.pk}/delete/", **{**HTMX, "HTTP_HX_CURRENT_URL": f"http://testserver/chat/{drop.pk}/"}
    )

    assert response["HX-Redirect"] == "/chat/"
    assert not Conversation.objects.exists()


def test_delete_without_javascript_redirects_with_a_message(user_client: Client, user: User) -> None:
    drop = conversation_of(user, "Drop")

    response = user_client.post(f"/chat/{drop.pk}/delete/", follow=True)

    assert response.redirect_chain == [("/chat/", 302)]
    assert "Conversation deleted." in response.content.decode()
    assert not Conversation.objects.exists()


def test_deleting_someone_elses_conversation_is_404(user_client: Client, other_user: User) -> None:
    theirs = conversation_of(other_user, "Private")

    assert user_client.post(f"/chat/{theirs.pk}/delete/").status_code == 404
    assert Conversation.objects.filter(pk=theirs.pk).exists()


def test_the_chat_page_ships_at_most_25_kb_of_compressed_javascript(user_client: Client) -> None:
    import gzip
    import re
    from pathlib import Path

    from django.contrib.staticfiles import finders

    html = user_client.get("/chat/").content.decode()
    sources = re.findall(r'<script[^>]* src="/static/([^"]+)"', html)
    inline = re.findall(r"<script[^>]*>(.+?)</script>", html)
    total = sum(len(gzip.compress(Path(str(finders.find(src))).read_bytes(), 9)) for src in sources)
    total += sum(len(gzip.compress(code.encode(), 9)) for code in inline)

    assert "js/chat.js" in sources
    assert total <= 25 * 1024, f"{total} bytes of compressed JavaScript"


def test_admins_see_conversations_and_usage_in_the_admin(client: Client, user: User) -> None:
    conversation = conversation_of(user, "Question", "Answer", title="In the admin")
    DailyUsage.objects.create(team=personal_team(user), day=_today(), messages=2)
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    staff_client = client

    listing = staff_client.get("/control-room/chat/conversation/")
    detail = staff_client.get(f"/control-room/chat/conversation/{conversation.pk}/change/")
    usage = staff_client.get("/control-room/chat/dailyusage/")

    assert "In the admin" in listing.content.decode()
    assert detail.status_code == 200
    assert "Answer" in detail.content.decode()
    # The usage is the team's (all its members together): the admin lists it under the team.
    assert escape(personal_team(user).name) in usage.content.decode()


def test_the_dashboard_card_shows_todays_messages_against_the_limit(
    user_client: Client, user: User, plan_limits: Any
) -> None:
    plan_limits(chat_messages_per_day=20)
    DailyUsage.objects.create(team=personal_team(user), day=_today(), messages=3)

    html = user_client.get("/dashboard/").content.decode()

    assert '>3</a> <small class="muted">/ 20</small>' in html
    assert '<a href="/chat/"' in html  # the sidebar link chat adds
