"""The settings `make bench` serves with (DJANGO_SETTINGS_MODULE=bench.settings): the project's own,
production-shaped from the environment, plus the URLconf that adds the bare view. Nothing here
changes how the app runs: a benchmark of other settings would measure another app."""

from saas.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
