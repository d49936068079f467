"""/readyz follows PostgreSQL down and back up, under the production command.

The test never touches a shared PostgreSQL: it initialises a throwaway cluster of its own in a temp
directory on a free port, stops it and starts it again. Skipped where PostgreSQL's server binaries
are not installed.
"""

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Cluster:
    """A PostgreSQL cluster in `directory`, run as the `postgres` user when we are root (initdb
    refuses to run as root)."""

    def __init__(self, directory: Path, port: int) -> None:
        self.bin = Path(BINARIES[-1])
        self.directory = directory
        self.data = directory / "data"
        self.port = port
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(directory, account.pw_uid, account.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def run(self, *command: str) -> None:
        done = subprocess.run([*self.as_user, *command], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{command[0]} failed: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self.run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        log = str(self.directory / "postgres.log")
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not BINARIES:
        pytest.skip("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are not installed")
    if os.geteuid() == 0 and (not shutil.which("runuser") or not _has_user("postgres")):
        pytest.skip("running as root needs runuser and a postgres user to run initdb")
    # Not under pytest's tmp_path: that is private to us, and the postgres user must reach it.
    directory = Path(tempfile.mkdtemp(prefix="twofold-readyz-pg-"))
    cluster = Cluster(directory, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def production_server(cluster: Cluster, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{cluster.port}/postgres",
        "WEB_ACCESS_LOG": "false",
    }
    env.pop("REDIS_URL", None)  # only the database goes down here
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "saas.serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a cold start on a loaded machine (CI runs beside other work)
        while readyz(base)[0] == 0:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def readyz(base: str) -> tuple[int, dict[str, object]]:
    """Status and JSON of /readyz; status 0 when nothing listens yet."""
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except urllib.error.URLError:
        return 0, {}


def test_readyz_follows_postgresql_down_and_back(cluster: Cluster, production_server: str) -> None:
    # Enough requests to reach every worker thread; the pool keeps at least two connections open.
    assert [readyz(production_server) for _ in range(8)] == [
        (200, {"status": "ok", "database": "postgresql"})
    ] * 8

    cluster.stop()
    down = [readyz(production_server) for _ in range(8)]
    assert down == [(503, {"status": "unavailable", "failing": ["database"]})] * 8

    cluster.start()
    # The pool checks a connection before handing it out (saas.dbpool): the server closed the old ones,
    # so they are replaced, and no request fails.
    back = [readyz(production_server) for _ in range(8)]
    assert back == [(200, {"status": "ok", "database": "postgresql"})] * 8
