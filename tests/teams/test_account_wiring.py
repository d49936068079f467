"""Where teams meet accounts: inviting needs a confirmed address, an accepted invitation confirms one, and an
account goes with the teams only it uses, but not while it is the last owner of a team others still use."""

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import account_delete
from accounts.signals import DeletionRefused
from teams.models import Membership, Role, Team
from teams.services import (
    NotAllowed,
    invitation_accept,
    invitation_create,
    member_add,
    membership_of,
    team_create,
)
from tests.conftest import PASSWORD


def test_an_unconfirmed_address_cannot_invite(unverified_user: User) -> None:
    team = team_create(user=unverified_user, name="Acme")
    actor = membership_of(user=unverified_user, team_id=team.pk)
    assert actor is not None

    with pytest.raises(NotAllowed, match="Confirm your email address"):
        invitation_create(actor=actor, email="new@example.com")


def test_the_invitations_endpoint_says_so_with_a_403(client: Client, unverified_user: User) -> None:
    team = team_create(user=unverified_user, name="Acme")
    client.force_login(unverified_user)

    response = client.post(
        f"/api/v1/teams/{team.pk}/invitations/", {"email": "new@example.com"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "email_unverified"
    assert "Confirm your email address" in response.json()["detail"]


def test_accepting_an_invitation_confirms_the_address(user: User, db: None) -> None:
    invited = User.objects.create_user(email="new@example.com", password=PASSWORD)
    actor = membership_of(user=user, team_id=team_create(user=user, name="Acme").pk)
    assert actor is not None
    assert invited.email_verified_at is None

    invitation_accept(invitation=invitation_create(actor=actor, email="new@example.com"), user=invited)

    invited.refresh_from_db()
    assert invited.email_verified_at is not None


def test_an_account_goes_with_its_own_teams_and_leaves_the_others(user: User, other_user: User) -> None:
    solo = team_create(user=user, name="Solo")
    shared = team_create(user=other_user, name="Shared")
    member_add(team=shared, user=user, role=Role.ADMIN)
    personal = Team.objects.get(personal=True, memberships__user=user)

    account_delete(user=user)

    assert not Team.objects.filter(pk__in=[solo.pk, personal.pk]).exists()
    assert list(Membership.objects.filter(team=shared).values_list("user", flat=True)) == [other_user.pk]


def test_the_last_owner_of_a_shared_team_is_refused_and_nothing_changes(user: User, other_user: User) -> None:
    shared = team_create(user=user, name="Shared")
    member_add(team=shared, user=other_user)

    with pytest.raises(DeletionRefused, match="last owner of “Shared”"):
        account_delete(user=user)

    assert User.objects.filter(pk=user.pk).exists()
    assert Team.objects.filter(memberships__user=user).count() == 2


def test_the_delete_page_shows_the_refusal_in_the_form(
    user_client: Client, user: User, other_user: User
) -> None:
    shared = team_create(user=user, name="Shared")
    member_add(team=shared, user=other_user)

    response = user_client.post("/accounts/delete/", {"confirm_email": user.email})

    assert response.status_code == 200
    assert "last owner of “Shared”" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()


def test_the_delete_page_says_what_becomes_of_each_team_before_anything_is_tried(
    user_client: Client, user: User, other_user: User
) -> None:
    team_create(user=user, name="Solo")
    blocking = team_create(user=user, name="Acme Rockets")
    member_add(team=blocking, user=other_user)
    shared = team_create(user=other_user, name="Shared")
    member_add(team=shared, user=user)
    personal = Team.objects.get(personal=True, memberships__user=user)

    html = user_client.get("/accounts/delete/").content.decode()

    deleted = html.split('id="teams-deleted"', 1)[1].split("</li>", 1)[0]
    assert personal.name.replace("'", "&#x27;") in deleted
    assert "Solo" in deleted
    assert "Shared" in html.split('id="teams-left"', 1)[1].split("</li>", 1)[0]
    blocked = html.split('id="teams-blocking"', 1)[1].split("</p>", 1)[0]
    assert "last owner of “Acme Rockets”" in blocked
    assert 'href="/teams/"' in blocked
