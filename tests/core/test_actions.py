"""A failure the user did not cause, made real: the database refuses every statement on a table, the
way it would while unreachable. The action answers with a friendly error in place, logs it and changes
nothing. (The posts app's actions are tested the same way in tests/posts/test_action_errors.py.)"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from accounts.models import User
from core.models import Flag
from tests.conftest import HTMX


@contextmanager
def database_failing_on(table: str) -> Iterator[None]:
    def refuse(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


def test_a_flag_toggle_failing_leaves_the_flag_as_it_was(staff_client: Client) -> None:
    with database_failing_on('"staff_auditentry"'):
        response = staff_client.post("/staff/flags/signups/toggle/", {"enabled": "off"})

    assert response.status_code == 503
    assert not Flag.objects.filter(name="signups", enabled=False).exists()


# profile_edit saves without a transaction of its own, as Django's forms do: run it in autocommit,
# as in production, not inside the transaction a test normally runs in.
@pytest.mark.django_db(transaction=True)
def test_the_profile_action_is_covered_too(user_client: Client, user: User) -> None:
    with database_failing_on('UPDATE "accounts_user"'):
        response = user_client.post(
            "/dashboard/profile/", {"display_name": "New", "bio": "", "time_zone": "UTC"}, **HTMX
        )

    assert response.status_code == 200
    assert "nothing was changed" in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == "Ann"
