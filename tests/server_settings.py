"""Settings for tests/test_server.py's server process: the project's, serving tests/server_urls.py."""

from saas.settings import *  # noqa: F403

ROOT_URLCONF = "tests.server_urls"
