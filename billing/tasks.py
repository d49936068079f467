"""Background work of billing, through Django's tasks API (inline in development and tests;
django-tasks-db's `db_worker` in docker compose and production)."""

from django.tasks import task


@task()
def stripe_event_process_task(event_id: str) -> None:
    """Process one stored Stripe event; safe to run any number of times for the same id."""
    from billing.services import stripe_event_process

    stripe_event_process(event_id=event_id)


@task()
def seats_sync_task(team_id: int) -> None:
    """Bring a team's Pro quantity to its number of members; safe to run any number of times."""
    from billing.services import seats_sync

    seats_sync(team_id=team_id)
