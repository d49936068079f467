"""A pytest plugin loaded first (`-p saas.pytest_env`), before pytest-django reads the settings."""

import os
from urllib.parse import urlsplit, urlunsplit

# The suite runs with production-shaped settings (DEBUG off); only the secret key is a test one.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("TWOFOLD_TESTING", "true")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")

# Under pytest-xdist each worker gets its own Redis database (REDIS_URL's number plus the worker's),
# since every test empties the cache; pytest-django gives each worker its own test database already.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and os.environ.get("REDIS_URL"):
    _url = urlsplit(os.environ["REDIS_URL"])
    _number = int(_url.path.strip("/") or 0) + int(_worker[2:])
    os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{_number}"))
