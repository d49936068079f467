"""The platform's own tables: feature flags and the audit log.

They were born in the `staff` app and keep its table names (`staff_flag`, `staff_auditentry`), so a
database that has them keeps its rows; `core/migrations/0001_initial.py` creates them on a fresh one.
"""

from typing import Any

from django.conf import settings
from django.db import models


class Flag(models.Model):
    """A site-wide switch that staff turn on and off from the staff panel.

    Read through `core.flags.flag_is_active()`, which caches briefly and is invalidated on change.
    """

    name = models.SlugField(max_length=50, unique=True)
    enabled = models.BooleanField(default=False)
    label = models.CharField(max_length=100)
    description = models.CharField(max_length=255, blank=True)
    message = models.CharField(
        max_length=280, blank=True, help_text="Text shown by flags that display something (the banner)."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        db_table = "staff_flag"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({'on' if self.enabled else 'off'})"


class AuditEntry(models.Model):
    """One staff action: who did what to which object, and when. Written in the same transaction as
    the change it records, so the log never claims a change that did not happen (or misses one)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.EmailField(help_text="Kept even if the account is deleted later.")
    action = models.CharField(max_length=64, db_index=True)  # e.g. "post.delete", "flag.toggle"
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=200)
    detail: "models.JSONField[dict[str, Any], dict[str, Any]]" = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "staff_auditentry"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_email} {self.action} {self.target_type}:{self.target_id}"
