"""One wording per field rule, for a form and a serializer alike.

A rule the dashboard's form and the JSON API both enforce must read the same on the page and in the
API. Django's form fields and DRF's fields name their failures differently (a form says `required`
for an empty value; DRF says `required` for a missing key, `blank` for an empty string and `null`
for null) and format their limits differently (`%(limit_value)d` against `{max_length}`), so a rule's
messages are written once here, with the numbers already in them, under every name both use.
"""

from typing import Any


def text_messages(*, empty: str, too_long: str | None = None, **others: str) -> dict[str, Any]:
    """`error_messages` for a text field, good for `forms.CharField` and `serializers.CharField`."""
    messages = {"required": empty, "blank": empty, "null": empty, **others}
    if too_long is not None:
        messages["max_length"] = too_long
    return messages


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 minute`, `2 minutes`: the count with the word that fits it."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def duration(seconds: float) -> str:
    """A wait said the way a person says it, rounded up so it is never "0 minutes": `1 second`,
    `45 seconds`, `2 minutes`, `about 3 hours`, `about 2 days`."""
    seconds = max(1, int(-(-seconds // 1)))  # ceil, at least one
    if seconds < 60:
        return plural(seconds, "second")
    minutes = -(-seconds // 60)
    if minutes < 60:
        return plural(minutes, "minute")
    hours = round(minutes / 60)
    if hours < 24:
        return "about " + plural(hours, "hour")
    return "about " + plural(round(hours / 24), "day")
