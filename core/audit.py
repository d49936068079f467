"""The audit log of staff actions. Call `audit_record` inside the transaction that makes the change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from core.models import AuditEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import _User  # settings.AUTH_USER_MODEL, as mypy reads it


def audit_record(
    *, actor: _User, action: str, target: models.Model, detail: dict[str, Any] | None = None
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
