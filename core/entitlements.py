"""What a team may do, and how much of it it used: limits declared by the apps that own them.

The subject of every limit is the team a request works in (the tenant: `teams.services.request_membership`),
never the person: quotas and usage are the team's, and so is the plan that supplies the numbers. The
platform names no app, so the team is typed as any object here; the apps that count pass a `teams.Team`.

A feature app declares what it limits and counts, once, from its `AppConfig.ready()`:

    limit_register(Limit(
        key="chat_messages_per_day", usage="chat_messages_today", counter=chat_messages_used_today,
        default=20, describe="{} AI chat messages a day",
    ))

and asks `limit_for(team, "chat_messages_per_day")` before it lets a member do it. The numbers come from
whoever supplies entitlements (the billing app's plans, through `entitlements_provider_set`); with no
provider, or a plan that does not mention a limit, the limit's own default holds. A plan's number for a
limit no installed app declares is ignored: remove an app and its limits go with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    # The tenant (a `teams.Team`): the platform names no app.
    type Counter = Callable[[Any], int]
    type Provider = Callable[[Any], Mapping[str, int | None]]


@dataclass(frozen=True)
class Limit:
    key: str  # the number's name in a plan and in the API's `quota`: "max_posts"
    usage: str  # the counter's name in the API's `usage`: "posts"
    counter: Counter  # how much of it the team has used
    default: int | None  # the number where no plan says one; None: unlimited
    describe: str = ""  # a plan's line on the pricing page, "{}" for the number: "Up to {} posts"
    describe_unlimited: str = ""  # the same line when the plan sets no limit: "Unlimited posts"
    order: int = 50

    def line(self, number: int | None) -> str:
        """The pricing page's line for this limit at `number` ("" when the app gave none)."""
        if number is None:
            return self.describe_unlimited
        return self.describe.format(f"{number:,}") if self.describe else ""


_limits: dict[str, Limit] = {}
_provider: list[Provider] = []
_tenant: list[Callable[[HttpRequest], Any]] = []


def tenant_resolver_set(resolver: Callable[[HttpRequest], Any]) -> None:
    """Let `resolver(request)` name the team a request works in (the teams app does)."""
    _tenant[:] = [resolver]


def tenant_for(request: HttpRequest) -> Any:
    """The team whose limits and usage a request sees: what the teams app says, else the user."""
    return _tenant[0](request) if _tenant else request.user


def limit_register(limit: Limit) -> None:
    """Declare (or replace) a limit and its usage counter."""
    _limits[limit.key] = limit


def limits() -> list[Limit]:
    """Every declared limit, in display order."""
    return sorted(_limits.values(), key=lambda limit: (limit.order, limit.key))


def entitlements_provider_set(provider: Provider) -> None:
    """Let `provider(team)` supply the numbers (the billing app's plans do). One provider at a time."""
    _provider[:] = [provider]


def entitlements_for(team: Any) -> dict[str, int | None]:
    """Every declared limit's number for `team`, by key (None: unlimited)."""
    numbers = _provider[0](team) if _provider else {}
    return {limit.key: numbers.get(limit.key, limit.default) for limit in limits()}


def limit_for(team: Any, key: str) -> int | None:
    """One limit's number for `team` (None: unlimited). KeyError for a limit nobody declared."""
    limit = _limits[key]
    numbers = _provider[0](team) if _provider else {}
    return numbers.get(key, limit.default)


def usage_for(team: Any) -> dict[str, int]:
    """Every declared counter's value for `team`, by usage name."""
    return {limit.usage: limit.counter(team) for limit in limits()}
