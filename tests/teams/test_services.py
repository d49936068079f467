import threading

import pytest
from django.db import connection, transaction
from django.test import Client, RequestFactory

from accounts.models import User
from teams.models import Membership, Role, Team
from teams.roles import PERMISSIONS, Permission, can, can_manage
from teams.services import (
    AlreadyMember,
    LastOwner,
    member_add,
    member_remove,
    member_set_role,
    membership_of,
    request_membership,
    team_create,
    team_switch,
)
from teams.signals import membership_changed
from tests.conftest import PASSWORD


def owned_teams(user: User) -> list[Team]:
    return list(Team.objects.filter(memberships__user=user, memberships__role=Role.OWNER))


def test_every_new_account_has_a_personal_team_it_owns(user: User) -> None:
    (team,) = owned_teams(user)

    assert team.personal
    assert team.name == "Ann's team"
    assert team.slug == "anns-team"


def test_personal_team_slugs_stay_unique(db: None) -> None:
    first = User.objects.create_user(email="ann@one.example", password=PASSWORD, display_name="Ann")
    second = User.objects.create_user(email="ann@two.example", password=PASSWORD, display_name="Ann")

    assert owned_teams(first)[0].slug != owned_teams(second)[0].slug


def test_a_fixture_load_makes_no_team(db: None) -> None:
    from teams.signals import personal_team

    personal_team(sender=User, instance=User(email="raw@example.com"), created=True, raw=True)

    assert not Team.objects.exists()


def test_team_create_makes_the_creator_its_owner(user: User) -> None:
    team = team_create(user=user, name="  Acme Inc  ")

    assert (team.name, team.slug, team.personal) == ("Acme Inc", "acme-inc", False)
    assert membership_of(user=user, team_id=team.pk).role == Role.OWNER  # type: ignore[union-attr]


@pytest.mark.parametrize("team_id", ["abc", None, "", "999999"])
def test_membership_of_a_team_one_is_not_in_is_none(user: User, team_id: object) -> None:
    assert membership_of(user=user, team_id=team_id) is None  # type: ignore[arg-type]


def test_the_request_works_in_the_personal_team_until_switched(user: User, other_user: User) -> None:
    acme = team_create(user=other_user, name="Acme")
    member_add(team=acme, user=user)
    request = RequestFactory().get("/")
    request.user = user
    request.session = Client().session

    assert request_membership(request).team.personal  # type: ignore[union-attr]

    team_switch(request=request, team_id=acme.pk)
    fresh = RequestFactory().get("/")
    fresh.user, fresh.session = user, request.session
    assert request_membership(fresh).team == acme  # type: ignore[union-attr]


def test_switching_to_a_team_one_is_not_in_changes_nothing(user: User, other_user: User) -> None:
    acme = team_create(user=other_user, name="Acme")
    request = RequestFactory().get("/")
    request.user, request.session = user, Client().session

    assert team_switch(request=request, team_id=acme.pk) is None
    assert request_membership(request).team.personal  # type: ignore[union-attr]


def test_a_team_left_since_falls_back_to_the_personal_one(user: User, other_user: User) -> None:
    acme = team_create(user=other_user, name="Acme")
    membership = member_add(team=acme, user=user)
    request = RequestFactory().get("/")
    request.user, request.session = user, Client().session
    team_switch(request=request, team_id=acme.pk)
    member_remove(membership=membership)

    fresh = RequestFactory().get("/")
    fresh.user, fresh.session = user, request.session
    assert request_membership(fresh).team.personal  # type: ignore[union-attr]


def test_a_member_is_added_once(user: User, other_user: User) -> None:
    acme = team_create(user=other_user, name="Acme")
    member_add(team=acme, user=user)

    with pytest.raises(AlreadyMember):
        member_add(team=acme, user=user)


def test_the_last_owner_can_neither_leave_nor_be_demoted(user: User) -> None:
    team = team_create(user=user, name="Acme")
    owner = Membership.objects.get(team=team, user=user)

    with pytest.raises(LastOwner):
        member_set_role(membership=owner, role=Role.ADMIN)
    with pytest.raises(LastOwner):
        member_remove(membership=owner)
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_with_a_second_owner_the_first_can_go(user: User, other_user: User) -> None:
    team = team_create(user=user, name="Acme")
    member_add(team=team, user=other_user, role=Role.OWNER)

    member_set_role(membership=Membership.objects.get(team=team, user=user), role=Role.MEMBER)

    assert Membership.objects.get(team=team, user=user).role == Role.MEMBER


@pytest.mark.django_db(transaction=True)
def test_membership_changed_is_sent_after_commit_on_join_and_leave(user: User, other_user: User) -> None:
    team = team_create(user=user, name="Acme")
    seen: list[int] = []

    def listener(sender: object, team: Team, **kwargs: object) -> None:
        seen.append(team.memberships.count())

    membership_changed.connect(listener)
    try:
        with transaction.atomic():
            membership = member_add(team=team, user=other_user)
            assert seen == []  # not before the commit
        member_remove(membership=membership)
    finally:
        membership_changed.disconnect(listener)
    assert seen == [2, 1]


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(user: User, other_user: User) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    team = team_create(user=user, name="Acme")
    member_add(team=team, user=other_user, role=Role.OWNER)
    memberships = list(Membership.objects.filter(team=team))
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def demote(membership: Membership) -> None:
        barrier.wait()
        try:
            member_set_role(membership=membership, role=Role.MEMBER)
        except LastOwner as refusal:
            errors.append(refusal)
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=(m,)) for m in memberships]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1
    assert Membership.objects.filter(team=team, role=Role.OWNER).count() == 1


def test_every_permission_has_a_rule() -> None:
    assert set(PERMISSIONS) == set(Permission)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, set(Permission)),
        (
            Role.ADMIN,
            {
                Permission.VIEW,
                Permission.RENAME,
                Permission.INVITE,
                Permission.REMOVE,
                Permission.CHANGE_ROLE,
                Permission.POSTS_DELETE_ANY,
            },
        ),
        (Role.MEMBER, {Permission.VIEW}),
        (None, set()),
    ],
)
def test_the_permission_table(role: str | None, allowed: set[Permission]) -> None:
    assert {permission for permission in Permission if can(role, permission)} == allowed


@pytest.mark.parametrize(
    ("actor", "target", "new_role", "allowed"),
    [
        (Role.OWNER, Role.OWNER, Role.MEMBER, True),
        (Role.ADMIN, Role.MEMBER, Role.ADMIN, True),
        (Role.ADMIN, Role.ADMIN, Role.MEMBER, True),
        (Role.ADMIN, Role.MEMBER, Role.OWNER, False),
        (Role.ADMIN, Role.OWNER, Role.MEMBER, False),
        (Role.ADMIN, Role.OWNER, None, False),
        (Role.MEMBER, Role.MEMBER, None, False),
    ],
)
def test_who_can_manage_whom(actor: str, target: str, new_role: str | None, allowed: bool) -> None:
    assert can_manage(actor, target, new_role) is allowed
