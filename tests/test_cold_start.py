"""The server starts without importing heavy SDKs it may never use: they load on first use."""

import subprocess
import sys

import pytest

# anthropic costs seconds to import; the server only needs it for the first real model answer. stripe
# (with httpx) and authlib (with joserfc) are needed by the first Stripe call or webhook and the first
# sign-in through a provider, not by the first page.
LAZY_MODULES = ["anthropic", "stripe", "httpx", "authlib", "joserfc"]


@pytest.mark.parametrize("module", LAZY_MODULES)
def test_the_server_and_its_urlconf_do_not_import(module: str) -> None:
    code = (
        "import os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'saas.settings')\n"
        "import saas.server\n"
        "from django.urls import resolve\n"
        "resolve('/')\n"  # the first request loads the whole URLconf, every view module with it
        f"print({module!r} in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False", f"importing saas.server imported {module}"
