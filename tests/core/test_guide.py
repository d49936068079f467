import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.views import APIView

from core.guide import guide_rows, view_methods
from core.operations import Kind, iter_routes


def test_view_methods_reads_the_decorators_of_function_views() -> None:
    @require_http_methods(["POST", "GET"])
    def both(request: object) -> None: ...

    @require_POST
    def post_only(request: object) -> None: ...

    @require_GET
    def get_only(request: object) -> None: ...

    def anything(request: object) -> None: ...

    assert view_methods(both) == ("GET", "POST")
    assert view_methods(post_only) == ("POST",)
    assert view_methods(get_only) == ("GET",)
    assert view_methods(anything) == ()


def test_view_methods_reads_the_handlers_of_class_views() -> None:
    class ThingApi(APIView):
        def get(self, request: object) -> None: ...

        def delete(self, request: object) -> None: ...

    assert view_methods(ThingApi.as_view()) == ("GET", "DELETE")


def test_every_action_and_page_says_which_methods_it_takes() -> None:
    # Actions and pages are ours: each restricts its methods, so the guide never shows "any".
    loose = [
        route.name
        for route in iter_routes()
        if route.operation and route.operation.kind is not Kind.API and not view_methods(route.callback)
    ]

    assert loose == []


def test_rows_come_from_the_code_with_kind_methods_path_and_why() -> None:
    rows = {row.name: row for row in guide_rows()}

    profile = rows["accounts:profile_edit"]
    assert (profile.kind, profile.methods, profile.path) == (
        Kind.ACTION,
        ("GET", "POST"),
        "/dashboard/profile/",
    )
    toggle = rows["staff:flag_toggle"]
    assert (toggle.methods, toggle.path, toggle.try_url) == (
        ("POST",),
        "/staff/flags/{name}/toggle/",
        "/staff/flags/",
    )
    assert rows["accounts:profile_edit"].try_url == "/dashboard/profile/"
    assert rows["core:readyz"].kind is Kind.API
    assert "core:dashboard" not in rows  # pages are not operations
    assert "core:dashboard" in {row.name for row in guide_rows(include_pages=True)}
    kinds = [row.kind for row in guide_rows()]
    assert kinds == sorted(kinds, key=list(Kind).index)  # actions first, then API endpoints


@pytest.mark.django_db
def test_guide_page_is_public_and_lists_every_operation(client: Client) -> None:
    html = client.get("/guide/").content.decode()

    assert "Action or API endpoint?" in html
    for row in guide_rows():
        assert f"<code>{row.path}</code>" in html
        assert row.why.replace("'", "&#x27;") in html


def test_routes_command_prints_the_same_rows() -> None:
    out = io.StringIO()
    call_command("routes", stdout=out, no_color=True)

    text = out.getvalue()
    assert text.startswith("Actions")
    assert "API endpoints" in text
    assert "POST               /staff/flags/{name}/toggle/" in text
    for row in guide_rows():
        assert row.summary in text
