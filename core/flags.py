"""Feature flags: which exist, whether each is on, and changing them.

Why not django-waffle: its flags are per-user rollouts; what Twofold needs is a handful of site-wide
switches, one of which carries a staff-edited message (the maintenance banner), read on every request
and never stale in another process for more than a few seconds. That is one small model and a cache
entry with a short lifetime, invalidated on every change: with Redis every process sees a change at
once; with the per-process local-memory cache, within FLAG_CACHE_SECONDS.
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

from core.models import Flag

FLAG_CACHE_KEY = "flags:v1"
FLAG_CACHE_SECONDS = 3


@dataclass(frozen=True)
class FlagSpec:
    name: str
    label: str
    description: str
    default: bool
    has_message: bool = False  # the flag shows a staff-written text (the maintenance banner)


# The flags the product knows about: the platform's own, and those each feature app registers from its
# `AppConfig.ready()` (`flag_register(FlagSpec("chat", ...))`). A flag missing from the database reads as
# its default; a row whose app was removed is ignored.
KNOWN_FLAGS: list[FlagSpec] = []
DEFAULTS: dict[str, FlagSpec] = {}


def flag_register(spec: FlagSpec) -> None:
    """Make a flag known (again: registering the same name replaces it, so a reload is harmless)."""
    if spec.name in DEFAULTS:
        KNOWN_FLAGS[:] = [known for known in KNOWN_FLAGS if known.name != spec.name]
    KNOWN_FLAGS.append(spec)
    DEFAULTS[spec.name] = spec


flag_register(
    FlagSpec(
        "maintenance_banner",
        "Maintenance banner",
        "Show a banner with the message below on every page.",
        default=False,
        has_message=True,
    )
)


@dataclass(frozen=True)
class FlagState:
    enabled: bool
    message: str = ""


def _load() -> dict[str, FlagState]:
    states = {name: FlagState(spec.default) for name, spec in DEFAULTS.items()}
    for name, enabled, message in Flag.objects.filter(name__in=DEFAULTS).values_list(
        "name", "enabled", "message"
    ):
        states[name] = FlagState(enabled, message)
    return states


def flag_states() -> dict[str, FlagState]:
    """All flags' states: one cache read per request, at most one query every few seconds."""
    states = cache.get(FLAG_CACHE_KEY)
    if states is None:
        states = _load()
        cache.set(FLAG_CACHE_KEY, states, FLAG_CACHE_SECONDS)
    return states  # type: ignore[no-any-return]


def flag_is_active(name: str) -> bool:
    state = flag_states().get(name)
    return state.enabled if state else False


def flags_ensure() -> None:
    """Create the rows of known flags that do not exist yet (with their defaults). Idempotent."""
    for spec in KNOWN_FLAGS:
        Flag.objects.get_or_create(
            name=spec.name,
            defaults={"enabled": spec.default, "label": spec.label, "description": spec.description},
        )


def flags_invalidate() -> None:
    # After the transaction commits: another process must not reload the old state in between.
    transaction.on_commit(lambda: cache.delete(FLAG_CACHE_KEY))
