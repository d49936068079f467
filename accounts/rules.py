"""The rules of the account's fields that a page's form and the API's serializer share, written once
so each reads the same on the page and in the API (the profile, API tokens, logging in)."""

from typing import Any

from core.rules import text_messages

DISPLAY_NAME_MAX = 60
BIO_MAX = 280
TOKEN_NAME_MAX = 60

DISPLAY_NAME_MESSAGES = text_messages(
    empty="Enter a display name.",
    too_long=f"Keep the name to {DISPLAY_NAME_MAX} characters or fewer.",
    min_length="Enter a display name.",
)
DISPLAY_NAME_CONTROL = "The name cannot contain control characters."
BIO_MESSAGES: dict[str, Any] = {
    "max_length": f"Keep the bio to {BIO_MAX} characters or fewer."
}  # empty is allowed
TOKEN_NAME_MESSAGES = text_messages(
    empty="Give the token a name.", too_long=f"Keep the token name to {TOKEN_NAME_MAX} characters or fewer."
)
LOGIN_INVALID = "That email and password do not match an account."
