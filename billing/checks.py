"""Billing's `check --deploy` warnings: configurations that run, but not as a production should."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

from billing import stripe as stripe_api


@register("billing", deploy=True)
def billing_deploy_check(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if stripe_api.simulation_mode():
        messages.append(
            Warning(
                "BILLING_SIMULATION is on: anyone can upgrade to Pro on the simulated checkout "
                "without paying.",
                hint="Set STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_PRICE_PRO to take payments "
                "with Stripe, or unset BILLING_SIMULATION to turn billing off.",
                id="billing.W001",
            )
        )
    if stripe_api.billing_mode() == "stripe" and not settings.STRIPE_WEBHOOK_SECRET:
        messages.append(
            Warning(
                "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: every webhook delivery is "
                "refused, so no payment ever changes a plan.",
                hint="Copy the signing secret (whsec_…) of your webhook endpoint from Stripe's dashboard.",
                id="billing.W002",
            )
        )
    return messages
