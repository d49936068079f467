"""System checks of the project's own settings (run by `check`, `migrate` and the test runner)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

MISSING_SECRET_KEY = "Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=true for local development)."


@register()
def secret_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        settings.SECRET_KEY  # noqa: B018  (Django raises on an empty key when it is read)
    except ImproperlyConfigured:
        return [Error(MISSING_SECRET_KEY, id="core.E001")]
    return []
