"""A real ASGI server (the production app on uvicorn) and a fake Anthropic, both in this process.

The Django test client drains async iterators, so streaming is tested over real sockets: uvicorn runs
`saas.server:app` on its own event loop in a background thread, sharing pytest-django's test database
(tests that use it need `django_db(transaction=True)`).
"""

import asyncio
import gc
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from bench.fake_anthropic import FakeAnthropic, Script, start_fake_anthropic


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AsgiServer:
    url: str
    server: uvicorn.Server
    loop: asyncio.AbstractEventLoop

    def tasks(self) -> list[str]:
        """The names of the coroutines of the tasks now running on the server's loop."""

        async def snapshot() -> list[str]:
            current = asyncio.current_task()
            return [
                getattr(task.get_coro(), "__qualname__", "?")
                for task in asyncio.all_tasks()
                if task is not current
            ]

        return asyncio.run_coroutine_threadsafe(snapshot(), self.loop).result(5)


@pytest.fixture(scope="session")
def asgi_server() -> Iterator[AsgiServer]:
    from django.db import connections

    from saas.server import app

    # Each request's connection is closed when it ends, so the server's threads hold none when the test
    # database is dropped at the end of the session.
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    loop = asyncio.new_event_loop()

    def serve() -> None:
        loop.run_until_complete(server.serve())
        # The stream's database work ran on this pool; its threads' connections end with them.
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield AsgiServer(url=f"http://127.0.0.1:{port}", server=server, loop=loop)
    server.should_exit = True
    thread.join(5)
    gc.collect()  # the pool threads' connections, now unreachable, close before the test DB is dropped


@pytest.fixture(scope="session")
def _fake_anthropic_server() -> Iterator[FakeAnthropic]:
    fake = start_fake_anthropic()
    yield fake
    fake.stop()


@pytest.fixture
def fake_anthropic(_fake_anthropic_server: FakeAnthropic, settings: Any) -> FakeAnthropic:
    """The fake, reset, with the app's Anthropic provider pointed at it (no retries, short timeout)."""
    fake = _fake_anthropic_server
    fake.script = Script()
    fake.records.clear()
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.ANTHROPIC_BASE_URL = fake.url
    settings.CHAT_UPSTREAM_RETRIES = 0
    settings.CHAT_UPSTREAM_TIMEOUT = 1.0
    return fake


@pytest.fixture
def demo_model(settings: Any) -> None:
    """The offline demo model, without its reading-pace delay."""
    settings.ANTHROPIC_API_KEY = ""
    settings.CHAT_DEMO_DELAY = 0
