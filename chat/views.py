"""The chat page and its actions. The answer itself streams from the API (`chat.api.chat_stream`),
read by static/js/chat.js; without JavaScript, `message_create` waits for the whole answer instead."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect

from chat import services
from chat.forms import MessageForm
from chat.models import Conversation
from chat.providers import chat_provider
from core.flags import flag_is_active
from core.operations import operation
from core.types import AuthedHttpRequest
from teams.models import Team
from teams.services import acting_membership

TEMPLATE = "chat/chat.html"


def _team(request: AuthedHttpRequest) -> Team:
    return acting_membership(request).team


def _mine(request: AuthedHttpRequest) -> Any:
    # The person's own conversations in the team they work in; another's, or another team's, is a 404.
    return services.conversations_of(user=request.user, team=_team(request))


def _page(
    request: AuthedHttpRequest, *, conversation: Conversation | None, form: MessageForm | None = None
) -> dict[str, Any]:
    if form is None:
        form = MessageForm(initial={"conversation_id": conversation.pk if conversation else None})
    team = _team(request)
    return {
        "team": team,
        "conversations": _mine(request).only("id", "title")[:50],
        "conversation": conversation,
        "thread": list(conversation.messages.all()) if conversation else [],
        "quota": services.chat_quota(team),
        "chat_enabled": flag_is_active("chat"),
        "form": form,
    }


@operation("The chat page", why="Shows your conversations; sending goes through the stream API.")
def conversation_list(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, _page(request, conversation=None))


@operation(
    "One conversation",
    why="Shows a conversation; under htmx, its thread with the list and usage (after a streamed answer), "
    "or the list and usage alone (as an answer starts).",
)
def conversation_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(_mine(request), pk=pk)
    context = _page(request, conversation=conversation)
    if request.htmx:
        # When a stream starts, the page asks for the sidebar alone: the thread is still streaming.
        partial = "#chat-side-refresh" if request.htmx.target == "conversation-list" else "#chat-refresh"
        response = render(request, TEMPLATE + partial, context)
        patch_vary_headers(response, ["HX-Target"])
        return response
    return render(request, TEMPLATE, context)


@operation(
    "Send a message and wait for the whole answer",
    why="The chat form without JavaScript: a plain POST that redirects back to the conversation.",
    methods=["POST"],
)
def message_create(request: AuthedHttpRequest) -> HttpResponse:
    form = MessageForm(request.POST)
    conversation_id = form.data.get("conversation_id") or None
    conversation = None
    if conversation_id and str(conversation_id).isdigit():
        conversation = get_object_or_404(_mine(request), pk=int(conversation_id))
    if form.is_valid():
        try:
            turn = services.chat_turn_begin(
                user=request.user,
                team=_team(request),
                text=form.cleaned_data["message"],
                conversation_id=conversation.pk if conversation else None,
            )
        except Conversation.DoesNotExist:
            raise Http404("No such conversation.") from None
        except (services.ChatUnavailable, services.QuotaExceeded) as refused:
            form.add_error(None, refused.message)
        else:
            last = services.chat_reply_complete(turn=turn, provider=chat_provider())
            if last.name == "error":
                messages.error(request, last.data.get("detail", "The answer failed."))
            return redirect("chat:conversation_detail", pk=turn.conversation.pk)
    return render(request, TEMPLATE, _page(request, conversation=conversation, form=form))


@operation(
    "Delete a conversation",
    why="A button on our page: htmx removes the row, a plain POST redirects back.",
    methods=["POST"],
)
def conversation_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    if not services.conversation_delete(user=request.user, team=_team(request), conversation_id=pk):
        raise Http404("No such conversation.")
    messages.success(request, "Conversation deleted.")
    open_one = reverse("chat:conversation_detail", kwargs={"pk": pk})
    if request.htmx and not (request.htmx.current_url_abs_path or "").startswith(open_one):
        return HttpResponse("")  # the row swaps out; the toast is added by HtmxMessagesMiddleware
    if request.htmx:
        return HttpResponseClientRedirect(reverse("chat:conversation_list"))
    return redirect("chat:conversation_list")
