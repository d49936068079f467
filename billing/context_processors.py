from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from billing.plans import plan_for


def billing(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's plan and payment state, for the banner and the dashboard. Lazy: a page
    that never shows them costs no query, and one that does costs one (cached on the user)."""
    user = getattr(request, "user", None)

    def payment_failed() -> bool:
        if user is None or not user.is_authenticated:
            return False
        from billing.services import subscription_get

        subscription = subscription_get(user=user)
        return bool(subscription and subscription.payment_failed)

    return {
        "billing_plan": SimpleLazyObject(lambda: plan_for(user)),
        "billing_payment_failed": SimpleLazyObject(payment_failed),
    }
