from typing import Any

from django.core.management.base import BaseCommand

from billing.services import stripe_events_retry_due


class Command(BaseCommand):
    help = (
        "Retry failed Stripe events whose backoff has elapsed. Needed only where the task backend "
        "cannot schedule (the inline ImmediateBackend); django-tasks-db retries on its own."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = stripe_events_retry_due()
        self.stdout.write(f"Retried {count} event(s).")
