"""Where feature apps plug into the pages the platform draws.

The base templates, the dashboard and the staff panel name no feature app: they show what the installed
apps added here from their `AppConfig.ready()`. Removing an app removes its links, cards, tabs and
banners with it.

    class PostsConfig(AppConfig):
        def ready(self) -> None:
            menu_add("dashboard", Link("Posts", "posts:post_list", current="/dashboard/posts/", order=10))
            menu_add("staff_tabs", Link("Posts", "posts:staff_post_list", order=10))
            fragment_add("dashboard_cards", "posts/_dashboard_card.html", order=30)

Menus (lists of links): `site` (the top bar, for everyone), `dashboard` (the sidebar), `account` (the
sidebar's Account section), `staff` (the sidebar's Staff section, shown to staff), `staff_tabs` (the
staff panel's tabs), `footer`.
Fragments (templates included in place, with the page's context): `banners` (above the top bar),
`nav_user` (the end of the top bar: who is signed in), `dashboard_cards`, `get_started` (the
dashboard's list of first steps, one `<li>` each), `account_delete` (`<li>` items added to the "delete your
account" page's list of what goes with the account).
URL routes: every installed app's `urls.py` (pages and actions) and `api_urls.py` (the JSON API) are
mounted by `app_urls()` from `saas/urls.py` and `saas/api.py`, each module writing its own full paths.
Data export sections: `export_add("posts", lambda user: [...])` adds a section to the person's "export my
data" download; the callable returns anything JSON can hold (dates as ISO strings).
Context values: `context_add("billing_plan", lambda request: ...)` puts a lazily computed value in every
template's context, computed only if a template reads it.
"""

import functools
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.urls import NoReverseMatch, URLResolver, get_script_prefix, get_urlconf, include, path, reverse

MENUS = ("site", "dashboard", "account", "staff", "staff_tabs", "footer")
SLOTS = ("banners", "nav_user", "dashboard_cards", "get_started", "account_delete")


@dataclass(frozen=True)
class Link:
    label: str
    url_name: str
    # A path prefix under which the link is the current page ("/dashboard/posts/" for a post's edit page
    # too); empty: only the link's own URL.
    current: str = ""
    order: int = 50

    def url(self) -> str:
        return _reverse(self.url_name, get_urlconf(), get_script_prefix())


@functools.cache
def _reverse(url_name: str, urlconf: str | None, prefix: str) -> str:
    # A link's URL depends only on the URLconf and the script prefix, never on the request: resolved
    # once per process, not on every page (the menus are a third of the dashboard's reverse() calls).
    return reverse(url_name, urlconf=urlconf)


def _forget_urls(**kwargs: Any) -> None:
    _reverse.cache_clear()


setting_changed.connect(_forget_urls)  # tests that swap ROOT_URLCONF


@dataclass(frozen=True)
class MenuEntry:
    """A link as a template shows it: label, URL and whether it is the page being shown."""

    label: str
    url: str
    is_current: bool


@dataclass(frozen=True)
class Fragment:
    template: str
    order: int = 50


_menus: dict[str, list[Link]] = {menu: [] for menu in MENUS}
_fragments: dict[str, list[Fragment]] = {slot: [] for slot in SLOTS}
_context: dict[str, Callable[[HttpRequest], Any]] = {}
_exports: dict[str, Callable[[Any], Any]] = {}


def _check(name: str, known: tuple[str, ...], what: str) -> None:
    if name not in known:
        raise ValueError(f"Unknown {what} {name!r}: one of {', '.join(known)}.")


def menu_add(menu: str, link: Link) -> None:
    """Add a link to a menu, or replace the one with the same URL name (a second `ready()` is harmless)."""
    _check(menu, MENUS, "menu")
    links = [known for known in _menus[menu] if known.url_name != link.url_name]
    _menus[menu] = sorted([*links, link], key=lambda known: known.order)


def fragment_add(slot: str, template: str, *, order: int = 50) -> None:
    """Include `template` in a slot of the platform's pages (once, however often it is added)."""
    _check(slot, SLOTS, "slot")
    fragments = [known for known in _fragments[slot] if known.template != template]
    _fragments[slot] = sorted([*fragments, Fragment(template, order)], key=lambda known: known.order)


def context_add(name: str, value: Callable[[HttpRequest], Any]) -> None:
    """Offer `name` to every template, computed from the request the first time a template reads it."""
    _context[name] = value


def export_add(name: str, section: Callable[[Any], Any]) -> None:
    """Add a section to a person's data export: `section(user)` returns what JSON can hold. Adding the
    same name again replaces it."""
    _exports[name] = section


def exports() -> dict[str, Callable[[Any], Any]]:
    """The export sections, by name, in the order they were added."""
    return dict(_exports)


def menu(name: str, request: HttpRequest) -> list[MenuEntry]:
    """A menu's links for this request. A link whose URL no longer resolves is left out, not an error."""
    _check(name, MENUS, "menu")
    entries = []
    for link in _menus[name]:
        try:
            url = link.url()
        except NoReverseMatch:
            continue
        current = request.path.startswith(link.current) if link.current else request.path == url
        entries.append(MenuEntry(link.label, url, current))
    return entries


def fragments(slot: str) -> list[str]:
    """The templates of a slot, in order."""
    _check(slot, SLOTS, "slot")
    return [fragment.template for fragment in _fragments[slot]]


def context_values() -> dict[str, Callable[[HttpRequest], Any]]:
    return dict(_context)


def app_urls(module: str, *, skip: tuple[str, ...] = ("core",)) -> list[URLResolver]:
    """`include()` the `module` (e.g. "urls", "api_urls") of every app of this project (a folder beside
    `saas/`) that has one, in the order of INSTALLED_APPS, under the module's own `app_name`."""
    found = []
    for config in apps.get_app_configs():
        if config.name in skip or Path(config.path).parent != settings.BASE_DIR:
            continue  # Django's and third-party apps are routed by hand, if at all
        name = f"{config.name}.{module}"
        if importlib.util.find_spec(name) is not None:
            found.append(path("", include(importlib.import_module(name))))
    return found
