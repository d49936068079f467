"""The chat page and its actions. The answer itself streams from the API (`chat.api.chat_stream`),
read by static/js/chat.js; without JavaScript, `message_create` waits for the whole answer instead."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from chat import services
from chat.forms import MessageForm
from chat.models import Conversation
from chat.providers import chat_provider
from core.operations import Kind, operation
from core.types import AuthedHttpRequest
from staff.flags import flag_is_active

TEMPLATE = "chat/chat.html"


def _page(
    request: AuthedHttpRequest, *, conversation: Conversation | None, form: MessageForm | None = None
) -> dict[str, Any]:
    if form is None:
        form = MessageForm(initial={"conversation_id": conversation.pk if conversation else None})
    return {
        "conversations": Conversation.objects.filter(user=request.user).only("id", "title")[:50],
        "conversation": conversation,
        "thread": list(conversation.messages.all()) if conversation else [],
        "quota": services.chat_quota(request.user),
        "chat_enabled": flag_is_active("chat"),
        "form": form,
    }


@operation(Kind.PAGE, "The chat page", why="Shows your conversations; sending goes through the stream API.")
@login_required
@require_GET
def conversation_list(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, _page(request, conversation=None))


@operation(
    Kind.PAGE,
    "One conversation",
    why="Shows a conversation; under htmx, its thread with the list and usage (after a streamed answer).",
)
@login_required
@require_GET
def conversation_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, user=request.user, pk=pk)
    context = _page(request, conversation=conversation)
    if request.htmx:
        response = render(request, TEMPLATE + "#chat-refresh", context)
    else:
        response = render(request, TEMPLATE, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@operation(
    Kind.ACTION,
    "Send a message and wait for the whole answer",
    why="The chat form without JavaScript: a plain POST that redirects back to the conversation.",
)
@login_required
@require_POST
def message_create(request: AuthedHttpRequest) -> HttpResponse:
    form = MessageForm(request.POST)
    conversation_id = form.data.get("conversation_id") or None
    conversation = None
    if conversation_id and str(conversation_id).isdigit():
        conversation = get_object_or_404(Conversation, user=request.user, pk=int(conversation_id))
    if not flag_is_active("chat"):
        form.add_error(None, "Chat is switched off for now. Please try again later.")
    elif form.is_valid():
        try:
            turn = services.chat_turn_begin(
                user=request.user,
                text=form.cleaned_data["message"],
                conversation_id=conversation.pk if conversation else None,
            )
        except Conversation.DoesNotExist:
            raise Http404("No such conversation.") from None
        except services.QuotaExceeded as exceeded:
            form.add_error(
                None,
                f"You have used today's {exceeded.limit} chat messages. The quota resets at midnight UTC.",
            )
        else:
            last = services.chat_reply_complete(turn=turn, provider=chat_provider())
            if last.name == "error":
                messages.error(request, last.data.get("detail", "The answer failed."))
            return redirect("chat:conversation_detail", pk=turn.conversation.pk)
    return render(request, TEMPLATE, _page(request, conversation=conversation, form=form))


@operation(
    Kind.ACTION,
    "Delete a conversation",
    why="A button on our page: htmx removes the row, a plain POST redirects back.",
)
@login_required
@require_POST
def conversation_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    if not services.conversation_delete(user=request.user, conversation_id=pk):
        raise Http404("No such conversation.")
    messages.success(request, "Conversation deleted.")
    open_one = reverse("chat:conversation_detail", kwargs={"pk": pk})
    if request.htmx and not (request.htmx.current_url_abs_path or "").startswith(open_one):
        return HttpResponse("")  # the row swaps out; the toast is added by HtmxMessagesMiddleware
    if request.htmx:
        return HttpResponseClientRedirect(reverse("chat:conversation_list"))
    return redirect("chat:conversation_list")
