"""bench.settings with only the bare view routed: what gunicorn starts for the cold-start anchor."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_bare"
