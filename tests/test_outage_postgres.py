"""PostgreSQL stops mid-load under the production command: no acknowledged write is lost, every
other request is a 503 (not a 500, not a hang), and requests succeed again once it is back.

Clients create posts through the API, each with its own user and token, while the test stops the
throwaway cluster of tests/test_readyz_postgres.py and starts it again. Then every post whose
request got a 201 must be in the database, with the id the client was given.
"""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.conftest import needs
from tests.test_readyz_postgres import ROOT, Cluster, cluster, free_port, readyz

__all__ = ["cluster"]  # the fixture, used by name below

CLIENTS = 4
# Free accounts may keep 50 posts; a client stops well before (a 503'd create may have committed).
MAX_ATTEMPTS = 45

SETUP = """
import json
from accounts.models import User
from accounts.tokens import api_token_create
tokens = []
for n in range({clients}):
    user = User.objects.create_user(email=f"load{{n}}@example.com", password="x" * 20, display_name=f"L{{n}}")
    tokens.append(api_token_create(user=user, name="load")[1])
print(json.dumps(tokens))
"""


@dataclass
class Server:
    port: int
    tokens: list[str]
    database_url: str


def run_manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def server(cluster: Cluster, tmp_path: Path) -> Iterator[Server]:
    database_url = f"postgres://postgres@127.0.0.1:{cluster.port}/postgres"
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "WEB_ACCESS_LOG": "false",
        "API_THROTTLE_USER": "100000/min",  # the load is the test's, not an abuse
    }
    env.pop("REDIS_URL", None)  # only the database goes down here
    run_manage(env, "migrate", "--noinput")
    tokens = json.loads(
        run_manage(env, "shell", "-c", SETUP.format(clients=CLIENTS)).strip().splitlines()[-1]
    )
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "saas.serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 90
        while readyz(f"http://127.0.0.1:{port}")[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.1)
        yield Server(port=port, tokens=tokens, database_url=database_url)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@dataclass
class Answer:
    phase: str
    title: str
    status: int  # 0: no answer (a timeout or a dropped connection)
    headers: dict[str, str]
    body: bytes


def request(
    port: int, method: str, path: str, token: str, payload: object
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            method,
            path,
            body=json.dumps(payload),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    except (OSError, http.client.HTTPException):
        return 0, {}, b""
    finally:
        conn.close()


@dataclass
class Load:
    """Clients creating posts until told to stop, each answer recorded with the phase it was sent in."""

    server: Server
    phase: str = "up"
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[list[Answer]] = field(default_factory=lambda: [[] for _ in range(CLIENTS)])

    def client(self, n: int) -> None:
        for attempt in range(MAX_ATTEMPTS):
            if self.stop.is_set():
                return
            phase, title = self.phase, f"load {n}-{attempt}"
            status, headers, body = request(
                self.server.port,
                "POST",
                "/api/v1/posts/",
                self.server.tokens[n],
                {"title": title, "body": "b"},
            )
            self.answers[n].append(Answer(phase, title, status, headers, body))
            time.sleep(0.03)

    def count(self, phase: str, *, ok: bool) -> list[int]:
        return [sum(1 for a in mine if a.phase == phase and (a.status == 201) == ok) for mine in self.answers]

    def wait_until(self, predicate: object, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.answers}"
            time.sleep(0.02)


@needs("posts", "chat")  # the load is posts created through the API, and a chat stream
def test_no_acknowledged_write_is_lost_when_postgresql_stops_mid_load(
    cluster: Cluster, server: Server
) -> None:
    load = Load(server)
    threads = [threading.Thread(target=load.client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()

    load.wait_until(lambda: min(load.count("up", ok=True)) >= 3, "writes before the stop")
    load.phase = "down"
    cluster.stop()  # fast shutdown: in-flight transactions are cut off
    load.wait_until(lambda: min(load.count("down", ok=False)) >= 3, "refusals while down")
    # The chat stream is an async view, served by another handler: a 503 there too.
    stream = request(server.port, "POST", "/api/v1/chat/stream/", server.tokens[0], {"message": "Hi"})
    load.phase = "back"
    cluster.start()
    load.wait_until(lambda: min(load.count("back", ok=True)) >= 3, "writes after the restart")
    load.stop.set()
    for thread in threads:
        thread.join(30)

    answers = [answer for mine in load.answers for answer in mine]
    acknowledged = {a.title: json.loads(a.body)["id"] for a in answers if a.status == 201}
    refused = [a for a in answers if a.status != 201]
    with psycopg.connect(server.database_url.replace("postgres://", "postgresql://")) as db:
        stored = dict(db.execute("SELECT title, id FROM posts_post").fetchall())

    assert {title: stored.get(title) for title in acknowledged} == acknowledged  # none lost
    assert refused, "the outage was not seen by any client"
    assert {a.status for a in refused} == {503}, [(a.phase, a.status, a.body[:200]) for a in refused]
    for answer in refused:
        assert answer.headers["retry-after"] == "5"
        assert json.loads(answer.body)["detail"]
    assert stream[0] == 503
    assert json.loads(stream[2])["detail"]
