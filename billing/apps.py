from typing import Any

from django.apps import AppConfig
from django.http import HttpRequest


def _team(request: HttpRequest) -> Any:
    from teams.services import request_team

    user = getattr(request, "user", None)
    return request_team(request) if user is not None and user.is_authenticated else None


def _plan(request: HttpRequest) -> Any:
    from billing.plans import plan_for

    return plan_for(_team(request))


def _payment_failed(request: HttpRequest) -> bool:
    team = _team(request)
    if team is None:
        return False
    from billing.models import Subscription

    subscription = Subscription.of(team)
    return bool(subscription and subscription.payment_failed)


def _seats_follow_members(sender: Any, team: Any, **kwargs: Any) -> None:
    from billing.services import seats_sync_enqueue

    seats_sync_enqueue(team=team)


def _staff_team_billing(teams: Any) -> dict[int, Any]:
    """The staff teams tab's plan and seats column: one query for the whole page of teams."""
    from billing.models import Subscription
    from billing.plans import plan_of
    from teams.staff import TeamBilling

    subscriptions = {s.team_id: s for s in Subscription.objects.filter(team__in=[t.pk for t in teams])}
    summaries: dict[int, Any] = {}
    for team in teams:
        subscription = subscriptions.get(team.pk)
        plan = plan_of(subscription)
        seats = subscription.quantity or None if subscription and plan.price_cents else None
        summaries[team.pk] = TeamBilling(plan=plan.name, seats=seats)
    return summaries


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing import (
            checks,  # noqa: F401  (registers the deploy checks)
            signals,  # noqa: F401  (a paid plan is cancelled before the account goes)
        )
        from billing.plans import plan_limits
        from core.entitlements import entitlements_provider_set
        from core.registry import Link, context_add, fragment_add, menu_add
        from teams.signals import membership_changed
        from teams.staff import team_billing_provider_set

        # The plans supply the numbers of the limits the other apps declare.
        entitlements_provider_set(plan_limits)
        # Pro is per seat: a member joining or leaving changes the quantity Stripe bills.
        membership_changed.connect(_seats_follow_members, dispatch_uid="billing.seats")
        # The staff teams tab shows each team's plan and seats.
        team_billing_provider_set(_staff_team_billing)
        # The signed-in user's plan and payment state, for the banner, the dashboard and the pricing page.
        # Lazy: a page that never shows them costs no query, one that does costs one (cached on the team).
        context_add("billing_plan", _plan)
        context_add("billing_payment_failed", _payment_failed)
        menu_add("site", Link("Pricing", "billing:pricing", order=10))
        menu_add("footer", Link("Pricing", "billing:pricing", order=10))
        menu_add("dashboard", Link("Billing", "billing:billing_overview", order=30))
        menu_add("staff_tabs", Link("Webhook events", "billing:stripe_event_list", order=30))
        fragment_add("banners", "billing/_payment_banner.html")
        fragment_add("dashboard_cards", "billing/_dashboard_card.html", order=10)
        fragment_add("get_started", "billing/_get_started.html", order=40)
