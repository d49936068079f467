"""Chat turns: the user's message and quota in, the model's answer streamed out and stored.

The stream endpoint (`chat.api.chat_stream`) and the no-JavaScript action (`chat.views.message_create`)
both run `chat_turn_begin` and then consume `chat_reply_stream`; they differ only in how the events
leave the server.
"""

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import User
from chat.models import Conversation, DailyUsage, Message
from chat.providers import (
    INTERNAL_ERROR,
    AnthropicProvider,
    ChatProvider,
    ProviderError,
    ProviderMessage,
    ReplyProgress,
)
from core.entitlements import limit_for
from core.flags import flag_is_active
from teams.models import Team

logger = logging.getLogger(__name__)

TITLE_CHARS = 60


def db_task[**P, R](func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run synchronous ORM work from async code on the event loop's small thread pool.

    Not in a thread of the request's own (sync_to_async's default): a few hundred streams that start
    or end together then share a handful of database connections instead of opening one each, which
    PostgreSQL would refuse past its max_connections. Each call gives its connection back when it ends,
    as request_finished does for a request: to the pool on PostgreSQL (CONN_MAX_AGE 0), where an idle
    executor thread must not keep one checked out; a persistent connection (SQLite) is kept."""

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()  # what request_started does for a request's thread: drop broken/old ones
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False)


LIMIT = "chat_messages_per_day"  # the limit chat declares (chat.apps); plans supply the number


class ChatUnavailable(Exception):
    """Staff switched the `chat` flag off: nothing is sent or stored."""

    message = "Chat is switched off for now. Please try again later."
    retry_after = 300

    def __init__(self) -> None:
        super().__init__(self.message)


class QuotaExceeded(Exception):
    def __init__(self, *, limit: int, retry_after: int) -> None:
        self.message = f"You have used today's {limit} chat messages. The quota resets at midnight UTC."
        super().__init__(self.message)
        self.limit = limit
        self.retry_after = retry_after


@dataclass(frozen=True)
class Quota:
    used: int
    limit: int | None  # None: unlimited
    resets_at: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


@dataclass(frozen=True)
class Turn:
    """A user's message, stored, and the history to send with it (oldest first, ending with it)."""

    conversation: Conversation
    user_message: Message
    history: list[ProviderMessage]


@dataclass(frozen=True)
class ChatEvent:
    """One server-sent event of the stream: `start`, `delta`, `error` or `done` (CONTRACT.md)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


def _today() -> date:
    # Quotas run on UTC days: one reset time for every client, whatever its clock or time zone.
    return timezone.now().astimezone(UTC).date()


def _next_reset() -> datetime:
    return datetime.combine(_today() + timedelta(days=1), time.min, tzinfo=UTC)


def chat_quota(team: Team) -> Quota:
    """Today's chat usage of the team, all members together, against the team's plan."""
    return Quota(
        used=chat_messages_used_today(team),
        limit=limit_for(team, LIMIT),
        resets_at=_next_reset(),
    )


def chat_messages_used_today(team: Team) -> int:
    """How many chat messages the team's members sent today (UTC), deleted conversations included."""
    used = DailyUsage.objects.filter(team=team, day=_today()).values_list("messages", flat=True).first()
    return used or 0


def _quota_reserve(team: Team) -> None:
    """Count one message against today's quota, or raise QuotaExceeded. One conditional UPDATE, so two
    requests racing for the last message cannot both get it."""
    limit = limit_for(team, LIMIT)
    today = _today()
    DailyUsage.objects.get_or_create(team=team, day=today)
    usage = DailyUsage.objects.filter(team=team, day=today)
    if limit is not None:
        usage = usage.filter(messages__lt=limit)
    reserved = usage.update(messages=F("messages") + 1)
    if not reserved and limit is not None:
        retry_after = max(int((_next_reset() - timezone.now()).total_seconds()) + 1, 1)
        raise QuotaExceeded(limit=limit, retry_after=retry_after)


def _title_from(text: str) -> str:
    words = " ".join(text.split())
    if len(words) <= TITLE_CHARS:
        return words
    return words[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def _history(conversation: Conversation) -> list[ProviderMessage]:
    """The latest turns, as the Messages API wants them: starting with the user, no empty turns
    (answers that failed before any text are not context)."""
    recent = list(
        conversation.messages.exclude(content="")
        .order_by("-created_at", "-id")
        .values_list("role", "content")[: settings.CHAT_HISTORY_MESSAGES]
    )
    recent.reverse()
    while recent and recent[0][0] != Message.Role.USER:
        recent.pop(0)
    return [ProviderMessage(role=role, content=content) for role, content in recent]  # type: ignore[arg-type]


def chat_turn_begin(*, user: User, team: Team, text: str, conversation_id: int | None = None) -> Turn:
    """Store the user's message (in a new conversation in `team` unless one of theirs in it is given)
    and count it against the team's quota for today, atomically. Raises ChatUnavailable while staff have
    chat switched off, Conversation.DoesNotExist for a conversation that is not the user's in that team,
    QuotaExceeded when the team's messages of the day are used up; nothing is stored then."""
    if not flag_is_active("chat"):
        raise ChatUnavailable
    with transaction.atomic():
        if conversation_id is None:
            conversation = Conversation(user=user, team=team, title=_title_from(text))
        else:
            conversation = Conversation.objects.get(user=user, team=team, pk=conversation_id)
        _quota_reserve(team)
        conversation.save()  # a new one, or a bump of updated_at: the list shows recent threads first
        message = Message.objects.create(conversation=conversation, role=Message.Role.USER, content=text)
    return Turn(conversation=conversation, user_message=message, history=_history(conversation))


def chat_reply_save(
    *,
    turn: Turn,
    text: str,
    status: str,
    progress: ReplyProgress,
    deltas: int,
    error_code: str = "",
) -> Message:
    """Store the assistant's message and add its tokens to the day's usage. An answer that failed
    before any text gives the day's message back: nothing was used."""
    # The API reports output tokens only at the end; an interrupted stream counts what it received.
    output_tokens = (
        progress.output_tokens if status == Message.Status.COMPLETE else max(progress.output_tokens, deltas)
    )
    with transaction.atomic():
        reply = Message.objects.create(
            conversation=turn.conversation,
            role=Message.Role.ASSISTANT,
            content=text,
            status=status,
            stop_reason=progress.stop_reason,
            error_code=error_code,
            input_tokens=progress.input_tokens,
            output_tokens=output_tokens,
        )
        refund = 1 if status == Message.Status.ERROR and not text else 0
        DailyUsage.objects.filter(team_id=turn.conversation.team_id, day=_today()).update(
            messages=F("messages") - refund,
            input_tokens=F("input_tokens") + progress.input_tokens,
            output_tokens=F("output_tokens") + output_tokens,
        )
        Conversation.objects.filter(pk=turn.conversation.pk).update(updated_at=timezone.now())
    return reply


async def chat_reply_stream(
    *, turn: Turn, provider: ChatProvider, run_db: Callable[..., Any] = db_task
) -> AsyncGenerator[ChatEvent]:
    """Stream the model's answer to a turn as events, storing it as it ends: complete, or what was
    said so far marked incomplete (upstream failure midway, or the consumer closing this generator
    because the client went away). Always exactly one `done` or `error` event last, unless the
    consumer left first."""
    yield ChatEvent("start", {"conversation_id": turn.conversation.pk, "message_id": turn.user_message.pk})
    progress = ReplyProgress()
    parts: list[str] = []
    failure: ProviderError | None = None
    ended = False
    save = run_db(chat_reply_save)
    texts = provider.stream(system=settings.CHAT_SYSTEM_PROMPT, messages=turn.history, progress=progress)
    try:
        # aclosing: if we are closed while suspended at a yield below, the provider's stream (and its
        # upstream HTTP response) is closed right then, not whenever the garbage collector gets to it.
        async with aclosing(texts):
            async for text in texts:
                parts.append(text)
                yield ChatEvent("delta", {"text": text})
        ended = True
    except ProviderError as error:
        failure = error
    except Exception:
        logger.exception("chat stream failed (conversation %s)", turn.conversation.pk)
        failure = ProviderError(INTERNAL_ERROR)
    finally:
        if not ended and failure is None:
            # The consumer closed us (GeneratorExit) or our task was cancelled: the client left. The
            # provider's stream is closed by now; keep what was said. Shielded, so a second
            # cancellation cannot lose the write halfway.
            await asyncio.shield(
                save(
                    turn=turn,
                    text="".join(parts),
                    status=Message.Status.INCOMPLETE,
                    progress=progress,
                    deltas=len(parts),
                )
            )
    text = "".join(parts)
    if failure is None:
        status = Message.Status.COMPLETE
    else:
        status = Message.Status.INCOMPLETE if text else Message.Status.ERROR
    try:
        reply = await save(
            turn=turn,
            text=text,
            status=status,
            progress=progress,
            deltas=len(parts),
            error_code=failure.code if failure else "",
        )
    except Exception:
        logger.exception("chat reply could not be saved (conversation %s)", turn.conversation.pk)
        failure = failure or ProviderError(INTERNAL_ERROR)
    if failure is not None:
        yield ChatEvent("error", {"code": failure.code, "detail": failure.detail})
        return
    yield ChatEvent(
        "done",
        {
            "message_id": reply.pk,
            "stop_reason": progress.stop_reason,
            "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
        },
    )


def chat_reply_complete(*, turn: Turn, provider: ChatProvider) -> ChatEvent:
    """Run a whole answer to completion from synchronous code (the no-JavaScript action) and return
    its last event, `done` or `error`."""

    async def run() -> ChatEvent:
        last = ChatEvent("error", {"code": INTERNAL_ERROR})
        try:
            # Saved in the calling thread, with its connection (and transaction, in tests).
            async for event in chat_reply_stream(turn=turn, provider=provider, run_db=sync_to_async):
                last = event
        finally:
            if isinstance(provider, AnthropicProvider):
                await provider.release()  # this loop ends with this call
        return last

    return async_to_sync(run)()


def conversations_of(*, user: User, team: Team) -> "QuerySet[Conversation]":
    """The member's own conversations within the team, newest first: what every list and lookup uses."""
    return Conversation.objects.filter(user=user, team=team)


def conversation_delete(*, user: User, team: Team, conversation_id: int) -> bool:
    """Delete one of the member's conversations in the team, with its messages. The day's usage stays."""
    deleted, _ = conversations_of(user=user, team=team).filter(pk=conversation_id).delete()
    return deleted > 0
