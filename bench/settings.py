"""The settings `make bench` serves with (DJANGO_SETTINGS_MODULE=bench.settings): the project's own,
production-shaped from the environment, plus the URLconf that adds the bare view. Nothing here
changes how the app runs: a benchmark of other settings would measure another app."""

import os
from pathlib import Path

from saas.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The harness collects static files into its own scratch directory, never into the checkout's
# `staticfiles/`: the test suite's other workers read that one while the bench's tests run.
if "BENCH_STATIC_ROOT" in os.environ:
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
