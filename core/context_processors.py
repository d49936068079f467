from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from core import registry
from core.flags import DEFAULTS, FlagState, flag_states

logger = logging.getLogger(__name__)


def site(request: HttpRequest) -> dict[str, Any]:
    return {"SITE_NAME": settings.SITE_NAME, "DEBUG": settings.DEBUG}


def _flag_states() -> dict[str, FlagState]:
    try:
        return flag_states()
    except DatabaseError:
        # The page that says "something went wrong" must still render when the database is down.
        logger.warning("Feature flags unreadable; using defaults", exc_info=True)
        return {name: FlagState(spec.default) for name, spec in DEFAULTS.items()}


def flags(request: HttpRequest) -> dict[str, Any]:
    """`{{ flags.signups.enabled }}`, `{{ flags.maintenance_banner.message }}` in every template,
    read only if a template looks (one cache read)."""
    return {"flags": SimpleLazyObject(_flag_states)}


class _Menus:
    """`{% for link in menus.dashboard %}`: a menu's links, resolved when a template reads them."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def __getitem__(self, name: str) -> list[registry.MenuEntry]:
        if name not in registry.MENUS:
            raise KeyError(name)  # the template engine then tries attributes, then shows nothing
        return registry.menu(name, self._request)


class _Slots:
    """`{% for template in slots.banners %}{% include template %}{% endfor %}`."""

    def __getitem__(self, name: str) -> list[str]:
        if name not in registry.SLOTS:
            raise KeyError(name)
        return registry.fragments(name)


def platform(request: HttpRequest) -> dict[str, Any]:
    """What the installed apps added to the platform's pages (core.registry), and their context values."""

    def lazy(value: Any) -> SimpleLazyObject[Any]:
        return SimpleLazyObject(lambda: value(request))

    return {
        "menus": _Menus(request),
        "slots": _Slots(),
        **{name: lazy(value) for name, value in registry.context_values().items()},
    }
