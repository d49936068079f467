"""The production app (`python -m saas.serve`: uvicorn serving saas.server:app) on a free port, on a
fresh SQLite database, for tests that attack the running thing rather than Django's test client."""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_app(scratch: Path, **overrides: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Migrate a new database, serve it, and yield the base URL and the environment used (for
    `manage.py` calls against the same database). REDIS_URL, when set, is kept under a fresh prefix."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}},
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "CACHE_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "WEB_ACCESS_LOG": "false",
        **overrides,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True
    )
    log_path = scratch / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "saas.serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120  # a loaded 2-core machine imports slowly
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the server did not start:\n" + log_path.read_text()) from None
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}", env
        finally:
            process.terminate()
            process.wait(timeout=20)


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command against the running app's database; its stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return result.stdout
