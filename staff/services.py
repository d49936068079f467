"""Staff changes to feature flags. Each one is audited in its own transaction and invalidates the
flag cache when it commits, so every process serving the app sees it within seconds."""

from django.db import transaction

from accounts.models import User
from core.audit import audit_record
from core.flags import DEFAULTS, flags_invalidate
from core.models import Flag


def _flag_for_update(name: str) -> Flag:
    spec = DEFAULTS[name]  # KeyError for a flag the product does not know: the view answers 404
    flag, _ = Flag.objects.select_for_update().get_or_create(
        name=name, defaults={"enabled": spec.default, "label": spec.label, "description": spec.description}
    )
    return flag


@transaction.atomic
def flag_set(*, actor: User, name: str, enabled: bool) -> Flag:
    """Turn a known flag on or off. Setting the state it already has changes and records nothing,
    so a double click or a replayed form is harmless."""
    flag = _flag_for_update(name)
    if flag.enabled == enabled:
        return flag
    flag.enabled, flag.updated_by = enabled, actor
    flag.save(update_fields=["enabled", "updated_by", "updated_at"])
    audit_record(actor=actor, action="flag.toggle", target=flag, detail={"enabled": enabled})
    flags_invalidate()
    return flag


@transaction.atomic
def flag_message_set(*, actor: User, name: str, message: str) -> Flag:
    """Change the text a flag displays (the maintenance banner's message)."""
    flag = _flag_for_update(name)
    if flag.message == message:
        return flag
    previous = flag.message
    flag.message, flag.updated_by = message, actor
    flag.save(update_fields=["message", "updated_by", "updated_at"])
    audit_record(actor=actor, action="flag.message", target=flag, detail={"from": previous, "to": message})
    flags_invalidate()
    return flag
