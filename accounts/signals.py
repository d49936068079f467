"""API tokens and signed-in sessions die with the password; `account_deleting` before an account goes.

Every way Django changes a password (the password change and reset views, the admin's password
form, `manage.py changepassword`, `User.set_password()` anywhere) ends in `User.save()` with the new
raw password held in `_password` until the row is written: Django's own hook for password
validators (`password_changed`). Listening on the save catches all of them, and a rehash on login
(`check_password` upgrading the hasher) clears `_password` first, so it keeps the tokens.
"""

from typing import Any

from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal, receiver

from accounts.models import User
from accounts.tokens import api_tokens_revoke_all

# Sent with `user=` just before an account is deleted (accounts.services.account_delete), inside the
# transaction that deletes it. A receiver cleans up what it owns that would not simply cascade (a team
# the person owns: transfer it or delete it), or refuses by raising DeletionRefused("why, and what to
# do first"): nothing is deleted and the message is shown in the delete form. Anything else raised
# rolls the deletion back too, and is a bug of the receiver.
account_deleting = Signal()


class DeletionRefused(Exception):
    """Raised by an `account_deleting` receiver: the account cannot be deleted yet; the message says why."""


def _writes_password(update_fields: frozenset[str] | None) -> bool:
    return update_fields is None or "password" in update_fields


@receiver(pre_save, sender=User, dispatch_uid="accounts.password_disabled")
def password_disabled(sender: type[User], instance: User, update_fields: Any, **kwargs: Any) -> None:
    # The admin can also take the password away (set_unusable_password): no new raw password, so
    # compare with the stored hash — only in that rare case, never on an ordinary save.
    if instance.pk is None or instance.has_usable_password() or not _writes_password(update_fields):
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        instance.__dict__["_password_disabled"] = True


@receiver(post_save, sender=User, dispatch_uid="accounts.password_changed")
def password_changed(
    sender: type[User], instance: User, created: bool, update_fields: Any, **kwargs: Any
) -> None:
    if created or not _writes_password(update_fields):
        return
    disabled = instance.__dict__.pop("_password_disabled", False)
    if getattr(instance, "_password", None) is not None or disabled:
        api_tokens_revoke_all(user=instance)
        # Every signed-in browser too; the one changing it is kept by Django, which gives it a new key.
        from accounts.sessions import sessions_end_all

        sessions_end_all(user=instance)
