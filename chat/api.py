"""The chat's JSON API: conversation history (DRF) and the answer stream (a plain async Django view).

The stream is an `async def` view so that `saas.server` routes it to Django's ASGI handler: every
delta leaves the server as it arrives, and an open stream costs a coroutine, not a thread. DRF has
no async views, so it does DRF's authentication by hand: a bearer token, or the session with CSRF.
"""

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.tokens import api_token_authenticate
from chat.models import Conversation, Message
from chat.providers import chat_provider
from chat.rules import MESSAGE_MESSAGES, validate_message_length
from chat.services import (
    ChatEvent,
    ChatUnavailable,
    QuotaExceeded,
    chat_reply_stream,
    chat_turn_begin,
    conversation_delete,
    conversations_of,
    db_task,
)
from core.errors import async_database_errors
from core.jsonparse import InvalidJSON, json_loads_limited
from core.operations import operation
from core.types import AuthedRequest
from teams.models import Team
from teams.services import TOKEN_TEAM_LEFT, acting_membership, membership_of, request_team


def _team(request: AuthedRequest) -> Team:
    return acting_membership(request).team  # a token's own team, else the session's current one


@extend_schema_serializer(component_name="ChatMessage")
class MessageOutput(serializers.ModelSerializer[Message]):
    class Meta:
        model = Message
        fields = [
            "id",
            "role",
            "content",
            "status",
            "stop_reason",
            "error_code",
            "input_tokens",
            "output_tokens",
            "created_at",
        ]


@extend_schema_serializer(component_name="Conversation")
class ConversationOutput(serializers.ModelSerializer[Conversation]):
    class Meta:
        model = Conversation
        fields = ["id", "title", "created_at", "updated_at"]


@operation("List your conversations", why="History for mobile and other clients; JSON over HTTP.")
class ConversationListApi(APIView):
    @extend_schema_serializer(component_name="ConversationList")
    class OutputSerializer(serializers.Serializer[Any]):
        results = ConversationOutput(many=True)

    @extend_schema(operation_id="chat_conversation_list", responses=OutputSerializer)
    def get(self, request: AuthedRequest) -> Response:
        conversations = conversations_of(user=request.user, team=_team(request))[:100]
        return Response(self.OutputSerializer({"results": conversations}).data)


@operation(
    "Read or delete a conversation",
    why="History for mobile and other clients: 200 with its messages, 204 on delete, 404 if not yours.",
)
class ConversationDetailApi(APIView):
    @extend_schema_serializer(component_name="ConversationDetail")
    class OutputSerializer(ConversationOutput):
        messages = MessageOutput(many=True, read_only=True)

        class Meta(ConversationOutput.Meta):
            fields = [*ConversationOutput.Meta.fields, "messages"]

    @extend_schema(operation_id="chat_conversation_retrieve", responses=OutputSerializer)
    def get(self, request: AuthedRequest, pk: int) -> Response:
        conversation = get_object_or_404(
            conversations_of(user=request.user, team=_team(request)).prefetch_related("messages"), pk=pk
        )
        return Response(self.OutputSerializer(conversation).data)

    @extend_schema(operation_id="chat_conversation_delete", responses={204: None})
    def delete(self, request: AuthedRequest, pk: int) -> Response:
        if not conversation_delete(user=request.user, team=_team(request), conversation_id=pk):
            return Response({"detail": "No such conversation."}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StreamInput(serializers.Serializer[dict[str, Any]]):
    message = serializers.CharField(
        trim_whitespace=True, error_messages=MESSAGE_MESSAGES, validators=[validate_message_length]
    )
    conversation_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, answering the reason instead of a 403 page (as DRF's SessionAuthentication)."""

    def _reject(self, request: HttpRequest, reason: str) -> str:
        return reason


def _csrf_failure(request: HttpRequest) -> str | None:
    check = _CsrfCheck(lambda _: HttpResponse())
    check.process_request(request)
    reason = check.process_view(request, lambda _: HttpResponse(), (), {})
    return reason if isinstance(reason, str) else None


CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


def _refuse(status_code: int, detail: Any, headers: dict[str, str] | None = None) -> JsonResponse:
    """A refusal before any stream: JSON `{"detail": ...}` (or DRF's field errors), as DRF would."""
    body = detail if isinstance(detail, dict) else {"detail": detail}
    return JsonResponse(body, status=status_code, headers=headers)


def _close_db_connections() -> None:
    """Close the request thread's database connections (opened to load a session's user), unless in
    a transaction (tests). A stream stays open for seconds or minutes and must not hold one meanwhile."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


release_db_connections = sync_to_async(_close_db_connections)


def _token_team(user: User, team_id: int) -> Team | None:
    membership = membership_of(user=user, team_id=team_id)
    return membership.team if membership else None


async def _authenticate(request: HttpRequest) -> tuple[User, Team] | JsonResponse:
    """The caller and the team they act in (a token's own, else the session's current one), or the
    refusal: 401 without valid credentials, 403 for a session without CSRF, 404 for a token whose
    owner has left its team."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() == "bearer":
        token = await db_task(api_token_authenticate)(raw.strip())
        if token is None:
            return _refuse(401, "Invalid or revoked token.", CHALLENGE)
        team = await db_task(_token_team)(token.user, token.team_id)
        if team is None:
            return _refuse(404, TOKEN_TEAM_LEFT)
        return token.user, team
    user = await request.auser()
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return _refuse(401, "Authentication credentials were not provided.", CHALLENGE)
    # Cookies ride along with cross-site requests; the CSRF token proves the request is our page's.
    reason = _csrf_failure(request)
    if reason is not None:
        return _refuse(403, f"CSRF Failed: {reason}")
    assert isinstance(user, User)
    session_team = await sync_to_async(request_team)(request)  # in the request's thread, as the user
    await release_db_connections()  # loading the session's user opened one in the request's thread
    assert session_team is not None  # a signed-in person always has a team (their personal one)
    return user, session_team


# One encoder for every event: json.dumps with options builds a new JSONEncoder per call, once per delta.
_event_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class EventStreamResponse(StreamingHttpResponse):
    """`text/event-stream`, unbuffered, whose event source is always closed when the response ends,
    even when the client leaves while the server is waiting to write (Django then closes only the
    outer iterator)."""

    def __init__(self, events: AsyncGenerator[ChatEvent]) -> None:
        self._events = events
        super().__init__(self._encode(), content_type="text/event-stream")
        self["Cache-Control"] = "no-cache"
        self["X-Accel-Buffering"] = "no"  # nginx and friends: pass each event on at once

    async def _encode(self) -> AsyncIterator[bytes]:
        async with aclosing(self._events) as events:
            async for event in events:
                data = _event_json(event.data)
                yield f"event: {event.name}\ndata: {data}\n\n".encode()


@operation(
    "Stream an answer from the AI model",
    why="A stream, not a page: server-sent events, status codes before it starts, used by our page and "
    "mobile apps alike.",
    methods=["POST"],
)
@csrf_exempt  # for bearer clients; session requests are CSRF-checked in _authenticate
@async_database_errors
async def chat_stream(request: HttpRequest) -> HttpResponseBase:
    """POST {"message": str, "conversation_id": int?} → text/event-stream (README, "Streaming chat")."""
    caller = await _authenticate(request)
    if isinstance(caller, JsonResponse):
        return caller
    user, team = caller
    try:
        payload = json_loads_limited(request.body or b"null")
    except RequestDataTooBig:  # only under a server other than saas.server, which refuses it earlier
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _refuse(413, f"Request body too large: the limit is {limit} bytes.")
    except InvalidJSON as error:
        return _refuse(400, f"The body must be JSON. {error}")
    if not isinstance(payload, dict):
        return _refuse(400, 'The body must be a JSON object: {"message": "..."}.')
    data = StreamInput(data=payload)
    if not data.is_valid():
        return _refuse(400, data.errors)
    try:
        turn = await db_task(chat_turn_begin)(
            user=user,
            team=team,
            text=data.validated_data["message"],
            conversation_id=data.validated_data.get("conversation_id"),
        )
    except Conversation.DoesNotExist:
        return _refuse(404, "No such conversation.")
    except ChatUnavailable as off:
        return _refuse(503, off.message, {"Retry-After": str(off.retry_after)})
    except QuotaExceeded as exceeded:
        return _refuse(429, exceeded.message, {"Retry-After": str(exceeded.retry_after)})
    return EventStreamResponse(chat_reply_stream(turn=turn, provider=chat_provider()))
