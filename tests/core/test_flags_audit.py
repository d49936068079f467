import pytest
from django.core.cache import cache

from accounts.models import User
from core.audit import audit_record
from core.flags import (
    DEFAULTS,
    FLAG_CACHE_KEY,
    KNOWN_FLAGS,
    FlagSpec,
    flag_is_active,
    flag_register,
    flag_states,
    flags_ensure,
    flags_invalidate,
)
from core.models import AuditEntry, Flag

pytestmark = pytest.mark.django_db


def test_unknown_rows_read_as_defaults() -> None:
    assert flag_is_active("signups") is True
    assert flag_is_active("maintenance_banner") is False
    assert flag_is_active("no-such-flag") is False


def test_a_change_is_seen_once_the_cache_is_invalidated(django_capture_on_commit_callbacks: object) -> None:
    flags_ensure()
    assert flag_is_active("signups") is True

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        Flag.objects.filter(name="signups").update(enabled=False)
        flags_invalidate()

    assert cache.get(FLAG_CACHE_KEY) is None
    assert flag_is_active("signups") is False


def test_states_are_read_with_one_query_then_from_the_cache(django_assert_num_queries: object) -> None:
    with django_assert_num_queries(1):  # type: ignore[operator]
        flag_states()
    with django_assert_num_queries(0):  # type: ignore[operator]
        flag_states()
        flag_is_active("signups")


def test_flags_ensure_is_idempotent() -> None:
    flags_ensure()
    flags_ensure()

    assert Flag.objects.count() == len(KNOWN_FLAGS)


def test_audit_record_copies_the_target(user: User, staff_user: User) -> None:
    entry = audit_record(actor=staff_user, action="user.inspect", target=user, detail={"why": "test"})
    user.delete()

    entry.refresh_from_db()
    assert (entry.actor_email, entry.action, entry.target_type) == (
        "staff@example.com",
        "user.inspect",
        "accounts.user",
    )
    assert entry.target_repr == "ann@example.com"
    assert AuditEntry.objects.get().detail == {"why": "test"}


def test_an_app_registers_its_flags_and_a_row_of_a_removed_app_is_ignored() -> None:
    saved = list(KNOWN_FLAGS), dict(DEFAULTS)
    try:
        flag_register(FlagSpec("widgets", "Widgets", "The widgets app is on.", default=True))
        Flag.objects.create(name="gone", enabled=True, label="An app that was removed")

        assert flag_is_active("widgets") is True
        assert "gone" not in flag_states()
    finally:
        KNOWN_FLAGS[:] = saved[0]
        DEFAULTS.clear()
        DEFAULTS.update(saved[1])
