"""The staff panel's hook for what teams cannot know: a team's plan and seats belong to billing, a feature
app that `teams` (the foundation below it) must not import. Billing fills the hook from its `ready()`:

    from teams.staff import team_billing_provider_set
    team_billing_provider_set(lambda teams: {t.pk: TeamBilling(plan="Pro", seats=3) for t in teams})

One call for the whole page of teams (no query per row). Nothing set: the tab shows "—".
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from teams.models import Team


@dataclass(frozen=True)
class TeamBilling:
    plan: str  # what the staff panel shows, e.g. "Pro"
    seats: int | None = None  # the subscription's quantity, where it has one


type TeamBillingProvider = Callable[[Sequence[Team]], dict[int, TeamBilling]]

_provider: list[TeamBillingProvider] = []


def team_billing_provider_set(provider: TeamBillingProvider) -> None:
    _provider[:] = [provider]


def team_billing_summaries(teams: Sequence[Team]) -> dict[int, TeamBilling]:
    return _provider[0](teams) if _provider and teams else {}
