"""The rules of a chat message, read by the page's form and the stream API's serializer, so each one
reads the same on the page and in the API."""

from django.conf import settings
from django.core.exceptions import ValidationError

from core.rules import text_messages

MESSAGE_MESSAGES = text_messages(empty="Write a message first.")


def validate_message_length(text: str) -> None:
    """At most CHAT_MAX_MESSAGE_CHARS characters, read when it runs (so tests and deployments can
    change it). A validator rather than `max_length`: it says how long the message was."""
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if len(text) > limit:
        raise ValidationError(
            f"Keep your message to {limit:,} characters or fewer (this one has {len(text):,}).",
            code="max_length",
        )
