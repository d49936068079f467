"""A pytest plugin loaded first (`-p saas.pytest_env`), before pytest-django reads the settings."""

import os

# The suite runs with production-shaped settings (DEBUG off); only the secret key is a test one.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("TWOFOLD_TESTING", "true")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
