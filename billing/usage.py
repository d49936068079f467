"""How much of each quota a user has used, counted by the app that owns the thing counted.

Billing does not know what a chat message or a post is. An app registers a counter once, from its
`AppConfig.ready()`:

    usage_register("chat_messages_today", lambda user: Message.objects.sent_today(user).count())

and `/api/v1/subscription/` reports every registered counter next to the quota it is measured against.
"""

from collections.abc import Callable

from accounts.models import User

Counter = Callable[[User], int]

_counters: dict[str, Counter] = {}


def usage_register(name: str, counter: Counter) -> None:
    """Register (or replace) the counter named `name`."""
    _counters[name] = counter


def usage_for(user: User) -> dict[str, int]:
    """Every registered counter's value for `user`, by name."""
    return {name: counter(user) for name, counter in sorted(_counters.items())}
