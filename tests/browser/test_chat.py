"""The chat page in a real Chromium, against the production ASGI app (live_server is WSGI and would
deliver the stream in one piece)."""

import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from chat.models import Message
from tests.browser.conftest import log_in
from tests.chat import conftest as chat
from tests.chat.conftest import AsgiServer
from tests.chat.fake_anthropic import FakeAnthropic, Script

pytestmark = pytest.mark.django_db(transaction=True)

# The chat tests' servers, shared with this module.
asgi_server = chat.asgi_server
_fake_anthropic_server = chat._fake_anthropic_server
fake_anthropic = chat.fake_anthropic
demo_model = chat.demo_model


def test_the_answer_grows_token_by_token_can_be_stopped_and_is_kept(
    js_page: Page, asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, user: User
) -> None:
    fake_anthropic.script = Script(tokens=200, token_interval=0.04)
    page = js_page
    log_in(page, asgi_server.url, user.email)
    page.goto(f"{asgi_server.url}/chat/")

    page.fill("textarea[name=message]", "Tell me about streaming")
    page.keyboard.press("Enter")

    answer = page.locator(".msg-assistant .msg-body.streaming")
    expect(answer).to_contain_text("Streaming keeps")
    first = len(answer.inner_text())
    time.sleep(0.5)
    assert len(answer.inner_text()) > first  # it grows while we watch
    page.click("[data-stop]")
    expect(page.locator(".msg-assistant .badge")).to_have_text("Stopped")
    expect(page.locator("[data-stop]")).to_be_hidden()
    assert page.url.rstrip("/").split("/")[-1].isdigit()  # the address is now the conversation's

    # The server keeps the partial answer as the stream closes; reload until the page shows it.
    deadline = time.monotonic() + 3
    page.reload()
    while not page.locator(".msg-assistant .prose").count():
        assert time.monotonic() < deadline, "the partial answer was not kept"
        time.sleep(0.1)
        page.reload()
    assert fake_anthropic.records[0].closed_early_at is not None

    expect(page.locator(".msg-user .msg-body")).to_have_text("Tell me about streaming")
    expect(page.locator(".msg-assistant .prose")).to_contain_text("Streaming keeps people reading")
    expect(page.locator(".msg-assistant .badge")).to_have_text("Stopped")
    expect(page.locator(".chat-list a[aria-current=page]")).to_have_text("Tell me about streaming")
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert reply.status == Message.Status.INCOMPLETE


def test_a_finished_answer_is_shown_as_rendered_markdown_and_counted(
    js_page: Page, asgi_server: AsgiServer, demo_model: None, user: User
) -> None:
    page = js_page
    log_in(page, asgi_server.url, user.email)
    page.goto(f"{asgi_server.url}/chat/")

    page.fill("textarea[name=message]", "<img src=x onerror=alert(1)>")
    page.click("[data-send]")

    expect(page.locator(".msg-assistant .prose strong").first).to_have_text("Demo mode")
    expect(page.locator("#chat-usage")).to_contain_text("1 of 20 messages today")
    expect(page.locator(".msg-user .msg-body")).to_have_text("<img src=x onerror=alert(1)>")
    assert page.locator(".chat-thread img").count() == 0


def test_without_javascript_the_form_posts_and_the_page_comes_back_with_the_answer(
    nojs_page: Page, asgi_server: AsgiServer, demo_model: None, user: User, settings: Any
) -> None:
    page = nojs_page
    log_in(page, asgi_server.url, user.email)
    page.goto(f"{asgi_server.url}/chat/")

    page.fill("textarea[name=message]", "Hello from a browser without JavaScript")
    with page.expect_navigation():
        page.click("[data-send]")

    expect(page.locator(".msg-user .msg-body")).to_have_text("Hello from a browser without JavaScript")
    expect(page.locator(".msg-assistant .prose")).to_contain_text("offline demo model")
    assert page.url.rstrip("/").split("/")[-1].isdigit()
