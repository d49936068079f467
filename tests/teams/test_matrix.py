"""The role matrix: every team page, action and endpoint x owner / admin / member / non-member /
anonymous, with the status each must get. A route under /teams/, /team/, /invitations/ or /api/v1/teams/
that has no row here fails `test_every_team_route_has_a_row`.

The pages and actions act on the caller's *current* team: the non-member here has Acme in their session
(say they were removed), which falls back to their own personal team, so nothing of Acme is reachable.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from core.operations import iter_routes
from teams.models import Invitation, Membership, Role, Team
from teams.services import SESSION_KEY, invitation_create, member_add, team_create
from tests.conftest import PASSWORD

ROLES = ("owner", "admin", "member", "nonmember", "anonymous")
PREFIXES = ("/teams/", "/team/", "/invitations/", "/api/v1/teams/")


@dataclass
class World:
    acme: Team
    people: dict[str, User]
    target: User  # a plain member every actor tries to change or remove
    invitation: Invitation
    token: str


@pytest.fixture
def world(db: None) -> World:
    def person(key: str) -> User:
        return User.objects.create_user(
            email=f"{key}@example.com",
            password=PASSWORD,
            display_name=key.title(),
            email_verified_at=timezone.now(),  # inviting needs a confirmed address
        )

    people = {key: person(key) for key in ("owner", "admin", "member", "nonmember")}
    acme = team_create(user=people["owner"], name="Acme")
    member_add(team=acme, user=people["admin"], role=Role.ADMIN)
    member_add(team=acme, user=people["member"])
    target = person("target")
    member_add(team=acme, user=target)
    owner = Membership.objects.select_related("team", "user").get(team=acme, user=people["owner"])
    invitation = invitation_create(actor=owner, email="carol@example.com")
    token = mail.outbox[-1].body.split("/invitations/", 1)[1].split("/", 1)[0]
    return World(acme, people, target, invitation, token)


def client_as(role: str, world: World) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world.people[role])
        session = client.session
        session[SESSION_KEY] = world.acme.pk
        session.save()
    return client


type Url = Callable[[World], str]


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    url: Url
    expect: tuple[int, int, int, int, int]  # owner, admin, member, non-member, anonymous
    data: Callable[[World], dict[str, Any]] = lambda w: {}


def acme_api(suffix: str = "") -> Url:
    return lambda w: f"/api/v1/teams/{w.acme.pk}/{suffix}"


MATRIX = [
    Row("teams:team_list", "GET", lambda w: "/teams/", (200, 200, 200, 200, 302)),
    Row("teams:team_list", "POST", lambda w: "/teams/", (302, 302, 302, 302, 302), lambda w: {"name": "New"}),
    Row(
        "teams:team_switch",
        "POST",
        lambda w: "/teams/switch/",
        (302, 302, 302, 404, 302),
        lambda w: {"team": w.acme.pk},
    ),
    Row("teams:team_detail", "GET", lambda w: "/team/", (200, 200, 200, 200, 302)),
    Row(
        "teams:team_rename",
        "POST",
        lambda w: "/team/rename/",
        (302, 302, 403, 302, 302),
        lambda w: {"name": "Renamed"},
    ),
    # The non-member's current team is their personal one: the name typed is Acme's, so the form says no.
    Row(
        "teams:team_delete",
        "POST",
        lambda w: "/team/delete/",
        (302, 403, 403, 200, 302),
        lambda w: {"confirm": "Acme"},
    ),
    # The owner is Acme's only owner, the non-member their personal team's: the form says why not.
    Row("teams:team_leave", "POST", lambda w: "/team/leave/", (200, 302, 302, 200, 302)),
    Row(
        "teams:team_transfer",
        "POST",
        lambda w: "/team/transfer/",
        (302, 403, 403, 200, 302),
        lambda w: {"user_id": w.target.pk},
    ),
    Row(
        "teams:member_role",
        "POST",
        lambda w: f"/team/members/{w.target.pk}/role/",
        (302, 302, 403, 404, 302),
        lambda w: {"role": "admin"},
    ),
    Row(
        "teams:member_remove",
        "POST",
        lambda w: f"/team/members/{w.target.pk}/remove/",
        (302, 302, 403, 404, 302),
    ),
    Row(
        "teams:invitation_create",
        "POST",
        lambda w: "/team/invitations/",
        (302, 302, 403, 302, 302),
        lambda w: {"email": "dan@example.com", "role": "member"},
    ),
    Row(
        "teams:invitation_resend",
        "POST",
        lambda w: f"/team/invitations/{w.invitation.pk}/resend/",
        (302, 302, 403, 404, 302),
    ),
    Row(
        "teams:invitation_revoke",
        "POST",
        lambda w: f"/team/invitations/{w.invitation.pk}/revoke/",
        (302, 302, 403, 404, 302),
    ),
    # The invitation is for carol@example.com: every signed-in account here is the wrong one.
    Row("teams:invitation_detail", "GET", lambda w: f"/invitations/{w.token}/", (200, 200, 200, 200, 200)),
    Row("teams:invitation_detail", "POST", lambda w: f"/invitations/{w.token}/", (403, 403, 403, 403, 200)),
    Row("teams_api:team_list", "GET", lambda w: "/api/v1/teams/", (200, 200, 200, 200, 401)),
    Row(
        "teams_api:team_list",
        "POST",
        lambda w: "/api/v1/teams/",
        (201, 201, 201, 201, 401),
        lambda w: {"name": "New"},
    ),
    Row("teams_api:team_detail", "GET", acme_api(), (200, 200, 200, 404, 401)),
    Row(
        "teams_api:team_detail", "PATCH", acme_api(), (200, 200, 403, 404, 401), lambda w: {"name": "Renamed"}
    ),
    Row("teams_api:team_detail", "DELETE", acme_api(), (204, 403, 403, 404, 401)),
    Row("teams_api:member_list", "GET", acme_api("members/"), (200, 200, 200, 404, 401)),
    Row(
        "teams_api:member_detail",
        "PATCH",
        lambda w: f"/api/v1/teams/{w.acme.pk}/members/{w.target.pk}/",
        (200, 200, 403, 404, 401),
        lambda w: {"role": "admin"},
    ),
    Row(
        "teams_api:member_detail",
        "DELETE",
        lambda w: f"/api/v1/teams/{w.acme.pk}/members/{w.target.pk}/",
        (204, 204, 403, 404, 401),
    ),
    Row("teams_api:invitation_list", "GET", acme_api("invitations/"), (200, 200, 403, 404, 401)),
    Row(
        "teams_api:invitation_list",
        "POST",
        acme_api("invitations/"),
        (201, 201, 403, 404, 401),
        lambda w: {"email": "dan@example.com", "role": "member"},
    ),
    Row(
        "teams_api:invitation_detail",
        "DELETE",
        lambda w: f"/api/v1/teams/{w.acme.pk}/invitations/{w.invitation.pk}/",
        (204, 204, 403, 404, 401),
    ),
]


def _cases() -> list[Any]:
    return [
        pytest.param(row, role, status, id=f"{row.route}-{row.method}-{role}")
        for row in MATRIX
        for role, status in zip(ROLES, row.expect, strict=True)
    ]


@pytest.mark.parametrize(("row", "role", "status"), _cases())
def test_role_matrix(world: World, row: Row, role: str, status: int) -> None:
    client = client_as(role, world)
    url, data = row.url(world), row.data(world)
    if row.route.startswith("teams_api:"):
        response = client.generic(row.method, url, json.dumps(data), content_type="application/json")
    else:
        response = client.generic(
            row.method,
            url,
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
        )

    assert response.status_code == status, response.content[:400]
    if role in ("nonmember", "anonymous") or status in (403, 404, 401):
        # Refused: Acme and its people are as they were.
        acme = Team.objects.get(pk=world.acme.pk)
        assert acme.name == "Acme"
        assert acme.memberships.count() == 4
        assert acme.memberships.get(user=world.target).role == Role.MEMBER


def _filled(pattern: str) -> str:
    for name in ("<id:team_id>", "<id:user_id>", "<id:pk>", "<id:invitation_id>"):
        pattern = pattern.replace(name, "1")
    return pattern.replace("<str:token>", "x")


def test_every_team_route_has_a_row(world: World) -> None:
    client = client_as("owner", world)
    seen: set[tuple[str, str]] = set()
    for route in iter_routes():
        if not route.pattern.startswith(PREFIXES):
            continue
        allow = client.options(_filled(route.pattern)).headers.get("Allow", "")
        methods = {m.strip() for m in allow.split(",")} - {"HEAD", "OPTIONS", ""}
        assert methods, f"{route.name}: no Allow header"
        seen |= {(route.name, method) for method in methods}

    assert seen == {(row.route, row.method) for row in MATRIX}


def test_the_api_takes_a_bearer_token(world: World) -> None:
    from accounts.tokens import api_token_create

    _, secret = api_token_create(user=world.people["member"], name="cli")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert client.get(f"/api/v1/teams/{world.acme.pk}/members/").status_code == 200
    assert (
        client.patch(
            f"/api/v1/teams/{world.acme.pk}/", {"name": "X"}, content_type="application/json"
        ).status_code
        == 403
    )


def test_the_last_owner_demoting_or_leaving_is_a_409(world: World) -> None:
    client = client_as("owner", world)
    url = f"/api/v1/teams/{world.acme.pk}/members/{world.people['owner'].pk}/"

    demote = client.patch(url, {"role": "member"}, content_type="application/json")
    leave = client.delete(url)

    assert (demote.status_code, demote.json()["code"]) == (409, "last_owner")
    assert (leave.status_code, leave.json()["code"]) == (409, "last_owner")
    assert Membership.objects.get(team=world.acme, user=world.people["owner"]).role == Role.OWNER


def test_the_team_page_offers_the_sole_owner_no_leave_or_demotion_until_there_is_a_second(
    world: World,
) -> None:
    client = client_as("owner", world)
    owner = world.people["owner"].pk
    leave, own_role = 'action="/team/leave/"', f'action="/team/members/{owner}/role/"'

    page = client.get("/team/").content.decode()
    assert "Only owner" in page
    assert leave not in page
    assert own_role not in page
    assert f'action="/team/members/{world.target.pk}/remove/"' in page  # the others still can be

    Membership.objects.filter(team=world.acme, user=world.people["admin"]).update(role=Role.OWNER)
    page = client.get("/team/").content.decode()
    assert "Only owner" not in page
    assert leave in page
    assert own_role in page


def test_inviting_a_member_is_a_400_and_re_inviting_updates(world: World) -> None:
    client = client_as("admin", world)
    url = f"/api/v1/teams/{world.acme.pk}/invitations/"

    member = client.post(url, {"email": "Member@example.com"}, content_type="application/json")
    again = client.post(url, {"email": "carol@example.com", "role": "admin"}, content_type="application/json")

    assert member.status_code == 400
    assert "already a member" in member.json()["email"][0]
    assert again.status_code == 201
    assert again.headers["Location"].endswith(f"/invitations/{world.invitation.pk}/")
    assert Invitation.objects.pending().filter(team=world.acme).count() == 1


def test_admins_cannot_touch_owners(world: World) -> None:
    client = client_as("admin", world)
    url = f"/api/v1/teams/{world.acme.pk}/members/{world.people['owner'].pk}/"

    refused = client.patch(url, {"role": "member"}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert refused.json()["detail"].startswith("Only an owner can change an owner's role")
    assert client.delete(url).status_code == 403
    target = f"/api/v1/teams/{world.acme.pk}/members/{world.target.pk}/"
    assert client.patch(target, {"role": "owner"}, content_type="application/json").status_code == 403


def _grow(world: World, to: int) -> None:
    for index in range(to - world.acme.memberships.count()):
        extra = User.objects.create_user(email=f"extra{index}@example.com", password=PASSWORD)
        member_add(team=world.acme, user=extra)


@pytest.mark.parametrize("url", ["/team/", "api"])
def test_query_counts_do_not_grow_with_the_members(world: World, url: str) -> None:
    client = client_as("owner", world)
    target = f"/api/v1/teams/{world.acme.pk}/members/" if url == "api" else url
    Membership.objects.filter(team=world.acme).exclude(user=world.people["owner"]).exclude(
        user=world.people["admin"]
    ).delete()
    client.get(target)  # warm the session and caches

    with CaptureQueriesContext(connection) as two:
        assert client.get(target).status_code == 200
    assert world.acme.memberships.count() == 2
    _grow(world, 12)
    with CaptureQueriesContext(connection) as twelve:
        response = client.get(target)
    assert response.status_code == 200
    assert b"extra9@example.com" in response.content
    assert len(twelve) == len(two)


def test_the_staff_tab_searches_by_member_email_and_shows_a_dash_without_billing(
    world: World, staff_client: Client
) -> None:
    response = staff_client.get("/staff/teams/", {"q": "target@example"})

    assert response.status_code == 200
    assert b"Acme" in response.content
    assert b"Bob" not in response.content
    assert "—".encode() in response.content
    assert client_as("member", world).get("/staff/teams/").status_code == 403
