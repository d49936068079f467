"""The audit log of staff actions. Call `audit_record` inside the transaction that makes the change."""

from typing import Any

from django.db import models

from accounts.models import User
from staff.models import AuditEntry


def audit_record(
    *, actor: User, action: str, target: models.Model, detail: dict[str, Any] | None = None
) -> AuditEntry:
    """Record that `actor` did `action` (e.g. "post.delete") to `target`. Works for a target that is
    about to be deleted: its type, id and description are copied, not referenced."""
    return AuditEntry.objects.create(
        actor=actor,
        actor_email=actor.email,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        detail=detail or {},
    )
