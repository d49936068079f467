import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from accounts.models import User
from bench.fake_anthropic import FakeAnthropic, Script
from chat.models import Conversation, DailyUsage, Message
from chat.providers import DemoProvider, ProviderMessage, ReplyProgress, chat_provider
from chat.services import (
    QuotaExceeded,
    chat_messages_used_today,
    chat_quota,
    chat_reply_complete,
    chat_reply_stream,
    chat_turn_begin,
)
from tests.conftest import personal_team

pytestmark = pytest.mark.django_db


def test_a_first_message_starts_a_conversation_titled_after_it(user: User) -> None:
    text = "How do I deploy this starter kit to a small virtual machine with PostgreSQL and Redis?"

    turn = chat_turn_begin(user=user, team=personal_team(user), text=text)

    assert turn.conversation.user == user
    assert turn.conversation.title == "How do I deploy this starter kit to a small virtual machine…"
    assert turn.user_message.content == text
    assert turn.history == [ProviderMessage(role="user", content=text)]
    assert chat_messages_used_today(personal_team(user)) == 1


def test_the_history_skips_failed_answers_and_starts_with_the_user(user: User, settings: Any) -> None:
    settings.CHAT_HISTORY_MESSAGES = 3
    conversation = Conversation.objects.create(user=user, team=personal_team(user), title="t")
    for role, content in [("user", "one"), ("assistant", "two"), ("user", "three"), ("assistant", "")]:
        Message.objects.create(conversation=conversation, role=role, content=content)

    turn = chat_turn_begin(user=user, team=personal_team(user), text="four", conversation_id=conversation.pk)

    # The last 3 non-empty messages would start with "two"; the API wants a user turn first.
    assert [m.content for m in turn.history] == ["three", "four"]


def test_the_quota_stops_at_the_plans_limit_and_nothing_is_stored(
    user: User, plan_limits: Callable[..., None]
) -> None:
    plan_limits(chat_messages_per_day=20)
    for n in range(20):
        chat_turn_begin(user=user, team=personal_team(user), text=f"message {n}")

    with pytest.raises(QuotaExceeded) as refused:
        chat_turn_begin(user=user, team=personal_team(user), text="one too many")

    assert refused.value.limit == 20
    assert 0 < refused.value.retry_after <= 86400
    assert Message.objects.count() == 20
    assert Conversation.objects.count() == 20
    quota = chat_quota(personal_team(user))
    assert (quota.used, quota.limit, quota.remaining) == (20, 20, 0)


def test_someone_elses_conversation_is_not_found_and_nothing_is_counted(user: User, other_user: User) -> None:
    theirs = Conversation.objects.create(user=other_user, team=personal_team(other_user), title="theirs")

    with pytest.raises(Conversation.DoesNotExist):
        chat_turn_begin(user=user, team=personal_team(user), text="hi", conversation_id=theirs.pk)

    assert chat_messages_used_today(personal_team(user)) == 0
    assert not Message.objects.exists()


def test_the_demo_model_answers_to_completion_from_sync_code(user: User) -> None:
    turn = chat_turn_begin(user=user, team=personal_team(user), text="Is this *real*?")

    last = chat_reply_complete(turn=turn, provider=DemoProvider(delay=0))

    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert last.name == "done"
    assert last.data["message_id"] == reply.pk
    assert reply.status == Message.Status.COMPLETE
    assert reply.stop_reason == "end_turn"
    # The user's Markdown is quoted literally, not interpreted.
    assert r"Is this \*real\*?" in reply.content
    assert "<em>real</em>" not in reply.html
    assert reply.output_tokens > 50
    assert DailyUsage.objects.get(team=personal_team(user)).output_tokens == reply.output_tokens


def test_the_demo_model_reports_usage_as_it_goes() -> None:
    progress = ReplyProgress()

    async def first_words() -> list[str]:
        words = []
        async for word in DemoProvider(delay=0).stream(
            system="Be brief.", messages=[ProviderMessage("user", "Hi there")], progress=progress
        ):
            words.append(word)
            if len(words) == 5:
                break
        return words

    assert len(asyncio.run(first_words())) == 5

    assert progress.output_tokens == 5
    assert progress.input_tokens == 4
    assert progress.stop_reason == ""


@pytest.mark.django_db(transaction=True)
def test_closing_the_stream_at_a_delta_closes_the_upstream_at_once_and_keeps_the_partial(
    fake_anthropic: FakeAnthropic, user: User
) -> None:
    """What Django does when the client leaves while the server waits to write: it closes the event
    generator at its `yield`, not while it awaits the upstream."""
    fake_anthropic.script = Script(tokens=100, token_interval=0.05)
    turn = chat_turn_begin(user=user, team=personal_team(user), text="Hi")
    provider = chat_provider()

    async def two_deltas_then_leave() -> tuple[list[str], float, list[asyncio.Task[Any]]]:
        events = chat_reply_stream(turn=turn, provider=provider)
        names = []
        async for event in events:
            names.append(event.name)
            if names.count("delta") == 2:
                break
        await events.aclose()
        closed_at = time.monotonic()
        # Nothing is left to finish the job later (such as the garbage collector's aclose of the
        # provider's stream): it was all done before aclose() returned.
        await asyncio.sleep(0)  # a finalizer's aclose() would be a task by now
        left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        await provider.release()  # type: ignore[attr-defined]
        return names, closed_at, left

    # Its own thread: Playwright may keep an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        names, closed_at, left = pool.submit(asyncio.run, two_deltas_then_leave()).result(10)

    assert names == ["start", "delta", "delta"]
    assert left == []
    deadline = time.monotonic() + 1
    while fake_anthropic.records[0].closed_early_at is None:
        assert time.monotonic() < deadline, "the upstream request was left open"
        time.sleep(0.01)
    assert fake_anthropic.records[0].closed_early_at - closed_at < 0.5
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert (reply.status, reply.content) == (Message.Status.INCOMPLETE, "Streaming keeps")
