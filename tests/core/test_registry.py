from collections.abc import Iterator

import pytest
from django.test import Client, RequestFactory

from core import registry
from core.registry import Link, fragment_add, fragments, menu, menu_add


@pytest.fixture(autouse=True)
def _restore_registry() -> Iterator[None]:
    saved = {name: list(links) for name, links in registry._menus.items()}
    saved_slots = {name: list(items) for name, items in registry._fragments.items()}
    yield
    registry._menus.update(saved)
    registry._fragments.update(saved_slots)


def test_a_menu_resolves_its_links_and_marks_the_current_one() -> None:
    registry._menus["footer"] = []
    menu_add("footer", Link("Guide", "core:guide", order=20))
    menu_add("footer", Link("Home", "core:landing", order=10))
    menu_add("footer", Link("Nowhere", "gone:page"))  # an app that was removed: left out

    entries = menu("footer", RequestFactory().get("/guide/"))

    assert [(entry.label, entry.url, entry.is_current) for entry in entries] == [
        ("Home", "/", False),
        ("Guide", "/guide/", True),
    ]


def test_adding_twice_keeps_one_and_unknown_names_are_refused() -> None:
    registry._fragments["banners"] = []
    fragment_add("banners", "x.html")
    fragment_add("banners", "x.html")

    assert fragments("banners") == ["x.html"]
    with pytest.raises(ValueError, match="Unknown slot"):
        fragment_add("sidebar", "x.html")
    with pytest.raises(ValueError, match="Unknown menu"):
        menu_add("top", Link("x", "core:guide"))


@pytest.mark.django_db
def test_the_base_template_shows_what_the_apps_added(client: Client) -> None:
    menu_add("site", Link("Added here", "core:guide", order=99))

    assert '<a href="/guide/" >Added here</a>' in client.get("/").content.decode()


def test_the_platform_mounts_the_urls_of_our_apps_only() -> None:
    mounted = {resolver.urlconf_module.__name__ for resolver in registry.app_urls("urls")}  # type: ignore[union-attr]

    assert "accounts.urls" in mounted
    assert "core.urls" not in mounted  # mounted by saas/urls.py itself, first
    assert not any(name.startswith(("django", "rest_framework", "drf_")) for name in mounted)
