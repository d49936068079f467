from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from teams.models import Invitation, Membership, Role, Team
from teams.services import (
    AccountDeletionBlocked,
    AlreadyMember,
    InvitationUnusable,
    NotAllowed,
    WrongAccount,
    account_deletion_check,
    account_teams_delete,
    invitation_accept,
    invitation_create,
    invitation_from_token,
    invitation_resend,
    invitation_revoke,
    member_add,
    team_create,
)
from tests.conftest import PASSWORD


def owner_of(team: Team) -> Membership:
    return Membership.objects.select_related("team", "user").get(team=team, role=Role.OWNER)


def token_from_mail(index: int = -1) -> str:
    body = mail.outbox[index].body
    return body.split("/invitations/", 1)[1].split("/", 1)[0]


@pytest.fixture
def acme(user: User) -> Team:
    return team_create(user=user, name="Acme")


def test_an_invitation_emails_a_link_that_leads_back_to_it(acme: Team, settings: object) -> None:
    invitation = invitation_create(actor=owner_of(acme), email=" Carol@Example.com ", role=Role.ADMIN)

    assert invitation.email == "carol@example.com"
    assert invitation.expires_at - invitation.sent_at == timedelta(days=7)
    (message,) = mail.outbox
    assert message.to == ["carol@example.com"]
    assert "Acme" in message.subject
    assert "http://127.0.0.1:8000/invitations/" in message.body or "/invitations/" in message.body
    assert invitation_from_token(token_from_mail()).invitation == invitation


def test_the_invitation_email_keeps_its_link_on_one_line(acme: Team, settings: object) -> None:
    # Read raw (the console mailer in development, a log), quoted-printable's soft line breaks would cut
    # the link in two: an address at a real domain makes it far longer than 76 characters.
    settings.SITE_URL = "https://app.twofold-starter.example.com"  # type: ignore[attr-defined]
    invitation_create(actor=owner_of(acme), email="carol@example.com")

    (message,) = mail.outbox
    raw = message.message().as_string()
    link = "https://app.twofold-starter.example.com/invitations/" + token_from_mail() + "/"
    assert len(link) > 78
    assert "quoted-printable" not in raw
    assert link in raw


def test_re_inviting_a_pending_address_updates_it_and_kills_the_old_link(acme: Team) -> None:
    first = invitation_create(actor=owner_of(acme), email="carol@example.com")
    old = token_from_mail()
    second = invitation_create(actor=owner_of(acme), email="CAROL@example.com", role=Role.ADMIN)

    assert second.pk == first.pk
    assert second.role == Role.ADMIN
    assert Invitation.objects.count() == 1
    assert invitation_from_token(old).problem == "invalid"
    assert invitation_from_token(token_from_mail()).problem is None


def test_resend_makes_the_old_link_invalid(acme: Team) -> None:
    invitation = invitation_create(actor=owner_of(acme), email="carol@example.com")
    old = token_from_mail()
    invitation_resend(actor=owner_of(acme), invitation_id=invitation.pk)

    assert len(mail.outbox) == 2
    assert invitation_from_token(old).problem == "invalid"
    assert invitation_from_token(token_from_mail()).invitation == invitation


def test_a_member_cannot_be_invited_again(acme: Team, other_user: User) -> None:
    member_add(team=acme, user=other_user)

    with pytest.raises(AlreadyMember, match=r"bob@example\.com is already a member"):
        invitation_create(actor=owner_of(acme), email="Bob@example.com")
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_members_cannot_invite_and_admins_cannot_invite_owners(acme: Team, other_user: User) -> None:
    member = member_add(team=acme, user=other_user)
    with pytest.raises(NotAllowed):
        invitation_create(actor=member, email="x@example.com")
    member.role = Role.ADMIN
    with pytest.raises(NotAllowed):
        invitation_create(actor=member, email="x@example.com", role=Role.OWNER)
    assert invitation_create(actor=member, email="x@example.com", role=Role.ADMIN).role == Role.ADMIN


@pytest.mark.parametrize("token", ["", "nonsense", "1:abc", "WzEsImEiXQ:1abc:bad"])
def test_a_forged_link_is_invalid(db: None, token: str) -> None:
    assert invitation_from_token(token).problem == "invalid"


def test_accepting_joins_with_the_role_once(acme: Team, other_user: User) -> None:
    invitation = invitation_create(actor=owner_of(acme), email="bob@example.com", role=Role.ADMIN)

    membership = invitation_accept(invitation=invitation, user=other_user)

    assert (membership.team, membership.role) == (acme, Role.ADMIN)
    assert invitation_from_token(token_from_mail()).problem == "accepted"
    with pytest.raises(InvitationUnusable):
        invitation_accept(invitation=invitation, user=other_user)


def test_only_the_invited_address_can_accept(acme: Team, other_user: User) -> None:
    invitation = invitation_create(actor=owner_of(acme), email="carol@example.com")

    with pytest.raises(WrongAccount):
        invitation_accept(invitation=invitation, user=other_user)
    assert not acme.memberships.filter(user=other_user).exists()


def test_expired_and_revoked_links_are_refused(acme: Team, other_user: User) -> None:
    invitation = invitation_create(actor=owner_of(acme), email="bob@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert invitation_from_token(token_from_mail()).problem == "expired"
    with pytest.raises(InvitationUnusable):
        invitation_accept(invitation=invitation, user=other_user)

    invitation_resend(actor=owner_of(acme), invitation_id=invitation.pk)  # renewed
    assert invitation_from_token(token_from_mail()).problem is None
    invitation_revoke(actor=owner_of(acme), invitation_id=invitation.pk)
    assert invitation_from_token(token_from_mail()).problem == "revoked"


def test_account_deletion_is_blocked_by_a_shared_team_it_alone_owns(
    acme: Team, user: User, other_user: User
) -> None:
    member_add(team=acme, user=other_user)

    with pytest.raises(AccountDeletionBlocked, match=r"“Acme”\. Transfer ownership"):
        account_deletion_check(user)
    with pytest.raises(AccountDeletionBlocked):
        account_teams_delete(user)
    assert Team.objects.filter(pk=acme.pk).exists()


def test_account_deletion_takes_the_personal_and_solo_teams_and_leaves_the_others(
    user: User, other_user: User
) -> None:
    solo = team_create(user=user, name="Solo")
    shared = team_create(user=other_user, name="Shared")
    member_add(team=shared, user=user, role=Role.ADMIN)
    co_owned = team_create(user=user, name="Co-owned")
    member_add(team=co_owned, user=other_user, role=Role.OWNER)
    personal = Team.objects.get(personal=True, memberships__user=user)
    # Bob joins Ann's personal team: it still goes with Ann's account.
    member_add(team=personal, user=other_user)

    deleted = account_teams_delete(user)

    assert set(deleted) == {personal.pk, solo.pk}
    assert set(Team.objects.filter(memberships__user=other_user).values_list("name", flat=True)) == {
        "Bob's team",
        "Shared",
        "Co-owned",
    }
    assert not Membership.objects.filter(user=user).exists()


def test_a_new_account_can_be_made_and_accept(acme: Team) -> None:
    invitation = invitation_create(actor=owner_of(acme), email="new@example.com")
    newcomer = User.objects.create_user(email="new@example.com", password=PASSWORD)

    assert invitation_accept(invitation=invitation, user=newcomer).team == acme
