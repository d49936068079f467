"""The chat section of a person's data export (`core.registry.export_add`, registered in apps.py)."""

from typing import Any

from django.db.models import Prefetch

from chat.models import Conversation, Message


def conversations_export(user: Any) -> list[dict[str, Any]]:
    """Every conversation with its messages (two queries, however many there are), oldest first."""
    conversations = (
        Conversation.objects.filter(user=user)
        .order_by("created_at", "id")
        .prefetch_related(Prefetch("messages", queryset=Message.objects.order_by("created_at", "id")))
    )
    return [
        {
            "id": conversation.pk,
            "title": conversation.title,
            "created_at": conversation.created_at.isoformat(),
            "messages": [
                {
                    "role": message.role,
                    "content": message.content,
                    "status": message.status,
                    "created_at": message.created_at.isoformat(),
                }
                for message in conversation.messages.all()
            ],
        }
        for conversation in conversations
    ]
