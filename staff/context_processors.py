import logging
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from staff.flags import DEFAULTS, FlagState, flag_states

logger = logging.getLogger(__name__)


def _states() -> dict[str, FlagState]:
    try:
        return flag_states()
    except DatabaseError:
        # The page that says "something went wrong" must still render when the database is down.
        logger.warning("Feature flags unreadable; using defaults", exc_info=True)
        return {name: FlagState(spec.default) for name, spec in DEFAULTS.items()}


def flags(request: HttpRequest) -> dict[str, Any]:
    """`{{ flags.signups.enabled }}`, `{{ flags.maintenance_banner.message }}` in every template,
    read only if a template looks (one cache read)."""
    return {"flags": SimpleLazyObject(_states)}
