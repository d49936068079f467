"""Billing's part in deleting teams, by their owner or with an account (teams.signals.teams_deleting)."""

from typing import Any

from django.dispatch import receiver

from accounts.signals import DeletionRefused
from billing.models import Subscription
from teams.signals import teams_deleting


@receiver(teams_deleting, dispatch_uid="billing.refuse_while_subscribed")
def refuse_while_subscribed(sender: Any, teams: Any, **kwargs: Any) -> None:
    # Deleting the row would not stop Stripe charging the card: the person cancels first, in the
    # portal, where Stripe says what is refunded. A subscription already set to end may go.
    running = [
        subscription
        for subscription in Subscription.objects.filter(team__in=[team.pk for team in teams]).select_related(
            "team"
        )
        if subscription.is_entitled and not subscription.cancel_at_period_end
    ]
    if running:
        names = ", ".join(f"“{subscription.team.name}”" for subscription in running)
        raise DeletionRefused(
            f"The paid plan of {names} is still active. Cancel it first from the Billing page "
            "(Manage billing), then delete."
        )
