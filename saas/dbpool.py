"""The check the PostgreSQL connection pool runs on a connection before a request gets it.

psycopg_pool's own check (`ConnectionPool.check_connection`) sends an empty query: a round trip per
request, as Django's `SELECT 1` health check did before the pool. But a server that goes away (a restart,
`pg_terminate_backend`, `idle_session_timeout`) tells its idle clients, or at least closes their sockets:
either way an idle connection's socket becomes readable. So a connection with nothing to read is handed
out as it is, and only one with something waiting (an error, end of file, a notice) gets the round trip,
which then proves it alive or has the pool replace it.

What this cannot see is a network path dropped silently (a NAT or firewall forgetting an idle
connection, a host that vanished without a word); the round-trip check would wait on those too, for as
long as TCP retransmits. `DJANGO_DB_POOL_CHECK=query` chooses the round trip anyway.
"""

import select
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool


def connection_check(connection: psycopg.Connection[Any]) -> None:
    """Raise if a pooled connection is dead; no round trip unless the server has said something."""
    if connection.closed:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(connection)
