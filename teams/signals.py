"""Every account has a personal team from the moment it exists, however it was made (sign-up, OAuth,
`createsuperuser`, `seed_demo`, the admin): one receiver on the user's first save. And `membership_changed`
tells other apps (billing's seats) that a team's members changed."""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from accounts.signals import DeletionRefused, account_deleting

# Sent after a member joins or leaves a team, once the change is committed: `team` (a Team).
membership_changed = Signal()
# Sent inside the transaction, before teams are deleted (one by its owner, or those that go with a deleted
# account): `teams` (a list of Team). A receiver may refuse with accounts.signals.DeletionRefused (billing: a
# paid plan still running), and nothing is deleted. Feature apps hear of the teams here, before their rows
# cascade away.
teams_deleting = Signal()


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="teams.personal_team")
def personal_team(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        from teams.services import personal_team_ensure

        personal_team_ensure(user=instance)


@receiver(account_deleting, dispatch_uid="teams.account_deleting")
def account_teams(sender: Any, user: Any, **kwargs: Any) -> None:
    """An account goes with its personal team and the teams only it is in; the last owner of a team
    others still use is refused (the message names the team) until they hand it on."""
    from teams.services import AccountDeletionBlocked, account_teams_delete

    try:
        account_teams_delete(user)
    except AccountDeletionBlocked as refusal:
        raise DeletionRefused(str(refusal)) from None
