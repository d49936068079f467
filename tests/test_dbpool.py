"""The PostgreSQL pool's connection check (saas.dbpool): no round trip for a live idle connection, a
refusal for one whose server ended it (as a restart does), so the pool replaces it before a request."""

import select
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from saas.dbpool import connection_check

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (DATABASE_URL)"),
    pytest.mark.django_db,
]


@pytest.fixture
def raw() -> Iterator[psycopg.Connection[Any]]:
    conn = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    yield conn
    conn.close()


def test_a_live_idle_connection_passes_without_a_round_trip(
    raw: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw.execute("SELECT 1").fetchone()

    def no_round_trip(conn: psycopg.Connection[Any]) -> None:
        raise AssertionError("the check sent a query to a connection with nothing to read")

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(no_round_trip))
    connection_check(raw)


def test_a_connection_the_server_ended_is_refused(raw: psycopg.Connection[Any]) -> None:
    pid = raw.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5  # the backend says goodbye and closes its socket, asynchronously
    while not select.select([raw.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the ended connection never became readable"

    with pytest.raises(psycopg.OperationalError):
        connection_check(raw)


def test_a_closed_connection_is_refused(raw: psycopg.Connection[Any]) -> None:
    raw.close()

    with pytest.raises(psycopg.OperationalError):
        connection_check(raw)


def test_a_connection_with_something_to_read_but_alive_passes(raw: psycopg.Connection[Any]) -> None:
    # A notification waiting on the socket (as a notice or a changed server parameter would be): the
    # round trip reads it and finds the connection alive.
    raw.execute("LISTEN twofold_pool_check")
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("NOTIFY twofold_pool_check")
    deadline = time.monotonic() + 5
    while not select.select([raw.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the notification never arrived"

    connection_check(raw)
    assert raw.execute("SELECT 1").fetchone() == (1,)
