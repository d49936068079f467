"""Work on teams and memberships: the rules the pages and the API share.

The last owner rule lives here, checked under a row lock on the team, so two admins demoting the last two
owners at once cannot leave a team without one.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User, email_canonical
from accounts.signals import DeletionRefused
from accounts.verification import EMAIL_UNVERIFIED_MESSAGE, email_verified, mark_verified
from core.mail import send_readable
from teams.models import INVITATION_DAYS, Invitation, Membership, Role, Team
from teams.roles import Permission, can, can_manage
from teams.signals import membership_changed, teams_deleting

logger = logging.getLogger(__name__)

SESSION_KEY = "team_id"


class LastOwner(Exception):
    """The change would leave the team without an owner (the API's 409)."""

    def __init__(self) -> None:
        super().__init__("A team needs an owner: make someone else an owner first.")


class AlreadyMember(Exception):
    def __init__(self, message: str = "That person is already a member of this team.") -> None:
        super().__init__(message)


class NotAllowed(Exception):
    """The actor's role does not allow this (the API's 403); the message says why, `code` says it to a
    program: "forbidden" for the role, "email_unverified" where the address must be confirmed first."""

    def __init__(self, message: str, code: str = "forbidden") -> None:
        self.code = code
        super().__init__(message)


class TeamRuleError(Exception):
    """A request the rules refuse whoever asks (the API's 400): deleting a personal team, say."""


def _unique_slug(name: str) -> str:
    base = slugify(name)[:80] or "team"
    slug = base
    while Team.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def team_create(*, user: User, name: str, personal: bool = False) -> Team:
    """A new team with `user` as its owner."""
    with transaction.atomic():
        team = Team.objects.create(name=name.strip(), slug=_unique_slug(name), personal=personal)
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
    return team


def personal_team_name(user: User) -> str:
    return f"{user.name}'s team"


def personal_team_ensure(*, user: User) -> Team:
    team = Team.objects.filter(personal=True, memberships__user=user, memberships__role=Role.OWNER).first()
    return team or team_create(user=user, name=personal_team_name(user), personal=True)


def membership_of(*, user: User, team_id: int | str) -> Membership | None:
    """The user's membership of the team, with the team; None for a team they are not in (the API's 404)."""
    try:
        team_pk = int(team_id)
    except (TypeError, ValueError):
        return None
    return Membership.objects.select_related("team").filter(user=user, team_id=team_pk).first()


def _my_memberships(request: HttpRequest) -> list[Membership]:
    """All the signed-in person's memberships with their teams, in the switcher's order: one query per
    request, shared by `request_membership` and the top bar's switcher."""
    assert isinstance(request.user, User)
    cached: list[Membership] | None = getattr(request, "_teams_choices", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=request.user)
            .select_related("team")
            .order_by("-team__personal", "team__name", "team_id")
        )
        request._teams_choices = cached  # type: ignore[attr-defined]
    return cached


def _chosen_or_personal(choices: list[Membership], chosen: object) -> Membership | None:
    """The team switched to (kept in the session), else the personal team: a team left since falls back
    to the personal one."""
    return next((m for m in choices if chosen is not None and m.team_id == chosen), None) or next(
        (m for m in choices if m.team.personal and m.role == Role.OWNER), None
    )


def request_membership(request: HttpRequest) -> Membership | None:
    """The membership a request acts in, looked up once per request: an API token's own team when the
    request came with one (a token acts within the team it was made for; None once its owner has left
    it), else the team chosen in the session, else the personal team, read from the one query of all
    the person's memberships that the switcher shows too. None for an anonymous request."""
    cached: Membership | None = getattr(request, "_teams_membership", None)
    if cached is not None:
        return cached
    if not request.user.is_authenticated:
        return None
    assert isinstance(request.user, User)
    token_team_id = getattr(getattr(request, "auth", None), "team_id", None)
    membership: Membership | None
    if token_team_id is not None:
        membership = membership_of(user=request.user, team_id=token_team_id)
    else:
        chosen = request.session.get(SESSION_KEY)
        membership = _chosen_or_personal(_my_memberships(request), chosen)
        if membership is None:  # an account made without its personal team (bulk_create): made now
            personal_team_ensure(user=request.user)
            request._teams_choices = None  # type: ignore[attr-defined]
            membership = _chosen_or_personal(_my_memberships(request), chosen)
    request._teams_membership = membership  # type: ignore[attr-defined]
    return membership


TOKEN_TEAM_LEFT = "This token's team is not one of yours any more."


def acting_membership(request: HttpRequest) -> Membership:
    """`request_membership` for a view behind a login or an API permission: the membership, or a 404 for
    a token whose owner has left its team (it acts nowhere, and sees nothing of that team)."""
    membership = request_membership(request)
    if membership is None:
        raise Http404(TOKEN_TEAM_LEFT)
    return membership


def request_team(request: HttpRequest) -> Team | None:
    """The team a request acts in (`request_membership`'s team), None for an anonymous one."""
    membership = request_membership(request)
    return membership.team if membership is not None else None


def team_switch(*, request: HttpRequest, team_id: int | str) -> Membership | None:
    """Work in another of one's teams from now on; None (nothing changes) for a team one is not in."""
    assert isinstance(request.user, User)
    membership = membership_of(user=request.user, team_id=team_id)
    if membership is not None:
        request.session[SESSION_KEY] = membership.team_id
        request._teams_membership = membership  # type: ignore[attr-defined]
    return membership


def _owners_left(team: Team, *, without: Membership) -> int:
    return team.memberships.filter(role=Role.OWNER).exclude(pk=without.pk).count()


def _changed(team: Team) -> None:
    transaction.on_commit(lambda: membership_changed.send(sender=Team, team=team))


def member_add(*, team: Team, user: User, role: str = Role.MEMBER) -> Membership:
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=team.pk)
        if team.memberships.filter(user=user).exists():
            raise AlreadyMember
        membership = Membership.objects.create(team=team, user=user, role=role)
        _changed(team)
    return membership


def member_set_role(*, membership: Membership, role: str) -> Membership:
    """Change a member's role; refuses (LastOwner) to demote the team's last owner."""
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=membership.team_id)
        membership = Membership.objects.get(pk=membership.pk)
        if (
            membership.role == Role.OWNER
            and role != Role.OWNER
            and not _owners_left(team, without=membership)
        ):
            raise LastOwner
        membership.role = Role(role)
        membership.save(update_fields=["role"])
    return membership


def member_remove(*, membership: Membership) -> None:
    """Remove a member (or leave, for oneself); refuses (LastOwner) to remove the last owner."""
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=membership.team_id)
        membership = Membership.objects.get(pk=membership.pk)
        if membership.role == Role.OWNER and not _owners_left(team, without=membership):
            raise LastOwner
        membership.delete()
        _changed(team)


# --- Acting as a member: every page and endpoint goes through these, so the role rules are checked once ---


def _require(actor: Membership, permission: Permission, message: str) -> None:
    if not can(actor.role, permission):
        raise NotAllowed(message)


def team_rename(*, actor: Membership, name: str) -> Team:
    _require(actor, Permission.RENAME, "Only owners and admins can rename the team.")
    team = actor.team
    team.name = name.strip()
    team.save(update_fields=["name"])
    return team


def team_delete(*, actor: Membership) -> None:
    """Delete the team and everything that belongs to it (owners only; never a personal team). The
    receivers of `teams_deleting` may refuse (billing: a paid plan still running), a TeamRuleError."""
    _require(actor, Permission.DELETE, "Only an owner can delete the team.")
    if actor.team.personal:
        raise TeamRuleError("Your personal team goes with your account; it cannot be deleted on its own.")
    with transaction.atomic():
        try:
            teams_deleting.send(sender=Team, teams=[actor.team])
        except DeletionRefused as refusal:
            raise TeamRuleError(str(refusal)) from None
        actor.team.delete()


def members_of(team: Team) -> QuerySet[Membership]:
    """The team's memberships with their users, in one query however many there are."""
    return team.memberships.select_related("user").order_by("created_at", "id")


def member_role_change(*, actor: Membership, target: Membership, role: str) -> Membership:
    """`actor` moves `target` to `role`: owners anyone anywhere, admins between admin and member."""
    if role not in Role.values:
        raise TeamRuleError("Choose owner, admin or member.")
    _require(actor, Permission.CHANGE_ROLE, "Only owners and admins can change roles.")
    if not can_manage(actor.role, target.role, role):
        raise NotAllowed("Only an owner can change an owner's role or make someone an owner.")
    return member_set_role(membership=target, role=role)


def member_kick(*, actor: Membership, target: Membership) -> None:
    """`actor` removes `target` from the team; oneself is leaving, which everyone may do (but the last
    owner, LastOwner)."""
    if actor.pk != target.pk:
        _require(actor, Permission.REMOVE, "Only owners and admins can remove members.")
        if not can_manage(actor.role, target.role):
            raise NotAllowed("Only an owner can remove an owner.")
    member_remove(membership=target)


def team_transfer(*, actor: Membership, target: Membership) -> Membership:
    """Hand ownership to another member: they become an owner, the actor an admin."""
    _require(actor, Permission.TRANSFER, "Only an owner can transfer ownership.")
    if target.team_id != actor.team_id or target.pk == actor.pk:
        raise TeamRuleError("Choose another member of this team.")
    with transaction.atomic():
        member_set_role(membership=target, role=Role.OWNER)
        return member_set_role(membership=actor, role=Role.ADMIN)


def teams_of(user: User) -> QuerySet[Membership]:
    """The user's memberships with their teams and each team's member count, in one query."""
    return (
        Membership.objects.filter(user=user)
        .select_related("team")
        .annotate(member_count=Count("team__memberships"))
        .order_by("-team__personal", "team__name", "team_id")
    )


# --- Invitations ---------------------------------------------------------------------------------

INVITATION_SALT = "teams.invitation"


def invite_requirements_check(*, user: User) -> str | None:
    """THE one place that decides whether `user` may invite teammates at all, asked by the invite action
    and the invitations endpoint: a refusal message, or None. The rule "inviting teammates needs a verified
    email address" (accounts.verification) is wired in here."""
    return None if email_verified(user) else EMAIL_UNVERIFIED_MESSAGE


def invitation_email_verified(*, user: User) -> None:
    """Accepting an emailed invitation proves the address: the link reached it."""
    mark_verified(user=user)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def invitation_token(invitation: Invitation, key: str) -> str:
    return signing.dumps([invitation.pk, key], salt=INVITATION_SALT, compress=False)


def invitation_url(invitation: Invitation, key: str) -> str:
    path = reverse("teams:invitation_detail", args=[invitation_token(invitation, key)])
    return f"{settings.SITE_URL}{path}"


@dataclass(frozen=True)
class InvitationLookup:
    """What a link leads to: the invitation, and whether it can still be accepted (`problem` says why
    not: "invalid", "expired", "revoked", "accepted")."""

    invitation: Invitation | None
    problem: str | None = None


def invitation_from_token(token: str) -> InvitationLookup:
    """The invitation a link names. A link with a bad signature, an old key (resent since), or for an
    invitation that no longer exists is "invalid"; never an exception."""
    try:
        pk, key = signing.loads(token, salt=INVITATION_SALT)
        pk, key = int(pk), str(key)
    except (signing.BadSignature, ValueError, TypeError):
        return InvitationLookup(None, "invalid")
    invitation = Invitation.objects.select_related("team", "invited_by").filter(pk=pk).first()
    if invitation is None or not secrets.compare_digest(invitation.key_hash, _key_hash(key)):
        return InvitationLookup(None, "invalid")
    if invitation.state != "pending":
        return InvitationLookup(invitation, invitation.state)
    return InvitationLookup(invitation)


def _invitation_send(invitation: Invitation, key: str) -> None:
    context = {
        "invitation": invitation,
        "url": invitation_url(invitation, key),
        "site_url": settings.SITE_URL,
    }
    subject = "".join(loader.render_to_string("teams/email/invitation_subject.txt", context).splitlines())
    body = loader.render_to_string("teams/email/invitation.txt", context)
    send_readable(subject=subject, body=body, to=[invitation.email])


def invitation_create(*, actor: Membership, email: str, role: str = Role.MEMBER) -> Invitation:
    """Invite `email` into the actor's team with `role`, and email the link. An address already in the
    team is refused (AlreadyMember); one with a pending invitation has it updated (new role, new link,
    seven more days) rather than a second one."""
    _require(actor, Permission.INVITE, "Only owners and admins can invite people.")
    if role not in Role.values:
        raise TeamRuleError("Choose owner, admin or member.")
    if not can_manage(actor.role, role, role):
        raise NotAllowed("Only an owner can invite an owner.")
    refusal = invite_requirements_check(user=actor.user)
    if refusal:
        raise NotAllowed(refusal, code="email_unverified")
    email = email_canonical(email)
    team = actor.team
    if team.memberships.filter(user__email=email).exists():
        raise AlreadyMember(f"{email} is already a member of {team.name}.")
    key = secrets.token_urlsafe(24)
    now = timezone.now()
    fields = {
        "role": Role(role),
        "invited_by": actor.user,
        "key_hash": _key_hash(key),
        "sent_at": now,
        "expires_at": now + timedelta(days=INVITATION_DAYS),
    }
    try:
        with transaction.atomic():
            invitation, _ = Invitation.objects.pending().update_or_create(
                team=team, email=email, defaults=fields
            )
    except IntegrityError:  # a second invite of the same address at the same moment: update that one
        invitation = Invitation.objects.pending().get(team=team, email=email)
        for name, value in fields.items():
            setattr(invitation, name, value)
        invitation.save()
    invitation.team = team
    _invitation_send(invitation, key)
    return invitation


def _pending_of(actor: Membership, invitation_id: int | str) -> Invitation:
    _require(actor, Permission.INVITE, "Only owners and admins can manage invitations.")
    try:
        return Invitation.objects.pending().select_related("team").get(team=actor.team, pk=int(invitation_id))
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise Invitation.DoesNotExist("That invitation was accepted, revoked or never existed.") from None


def invitation_resend(*, actor: Membership, invitation_id: int | str) -> Invitation:
    """Email a fresh link with seven more days; the earlier link stops working."""
    invitation = _pending_of(actor, invitation_id)
    return invitation_create(actor=actor, email=invitation.email, role=invitation.role)


def invitation_revoke(*, actor: Membership, invitation_id: int | str) -> Invitation:
    invitation = _pending_of(actor, invitation_id)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    return invitation


class InvitationUnusable(Exception):
    """The link can no longer be used (the page says which of expired, revoked, accepted, invalid)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


class WrongAccount(Exception):
    """The signed-in account is not the invited address."""


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """`user` joins the team with the invitation's role; the invitation is used up. Only the invited
    address may accept (WrongAccount otherwise); a link already used, revoked or expired, checked again
    under a row lock so two clicks cannot both join, raises InvitationUnusable."""
    if email_canonical(user.email) != invitation.email:
        raise WrongAccount(f"This invitation is for {invitation.email}; you are signed in as {user.email}.")
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().select_related("team").get(pk=invitation.pk)
        if locked.state != "pending":
            raise InvitationUnusable(locked.state)
        existing = Membership.objects.select_related("team").filter(team=locked.team, user=user).first()
        membership = existing or member_add(team=locked.team, user=user, role=locked.role)
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
    invitation_email_verified(user=user)
    return membership


# --- Account deletion ---------------------------------------------------------------------------


class AccountDeletionBlocked(Exception):
    """The account is the last owner of a team others still use: they must hand it on first."""


def _last_owned_shared(user: User) -> list[Team]:
    """Non-personal teams where `user` is the only owner and someone else is a member."""
    owned = Membership.objects.filter(user=user, role=Role.OWNER, team__personal=False).values("team_id")
    return list(
        Team.objects.filter(pk__in=owned)
        .annotate(
            owners=Count("memberships", filter=Q(memberships__role=Role.OWNER), distinct=True),
            people=Count("memberships", distinct=True),
        )
        .filter(owners=1, people__gt=1)
        .order_by("name")
    )


def account_deletion_check(user: User) -> None:
    """Refuse (AccountDeletionBlocked, naming the teams) to delete an account that is the last owner of
    a team with other members. The receiver of accounts.signals.account_deleting."""
    blocking = _last_owned_shared(user)
    if blocking:
        names = ", ".join(f"“{team.name}”" for team in blocking)
        raise AccountDeletionBlocked(
            f"You are the last owner of {names}. Transfer ownership to another member first, "
            "or delete the team."
        )


def _going_with(user: User) -> QuerySet[Team]:
    """The teams that go with the account: its personal team and every team where it is the only member."""
    mine = Membership.objects.filter(user=user)
    personal = mine.filter(role=Role.OWNER, team__personal=True).values("team_id")
    return (
        Team.objects.filter(pk__in=mine.values("team_id"))
        .annotate(people=Count("memberships"))
        .filter(Q(pk__in=personal) | Q(people=1))
    )


@dataclass(frozen=True)
class AccountTeams:
    """What deleting the account would do to its teams, for the page that asks: `deleted` go with it,
    `left` keep their other members, `blocking` (the last owner of a team others use) refuse it."""

    deleted: list[Team]
    left: list[Team]
    blocking: list[Team]


def account_teams_fate(user: User) -> AccountTeams:
    deleted = list(_going_with(user).order_by("-personal", "name"))
    blocking = _last_owned_shared(user)
    gone = {team.pk for team in deleted} | {team.pk for team in blocking}
    left = [
        team for team in Team.objects.filter(memberships__user=user).order_by("name") if team.pk not in gone
    ]
    return AccountTeams(deleted=deleted, left=left, blocking=blocking)


def request_account_teams(request: HttpRequest) -> AccountTeams | None:
    """`account_teams_fate` of the signed-in person (the delete page's context value)."""
    return account_teams_fate(request.user) if isinstance(request.user, User) else None


def account_teams_delete(user: User) -> list[int]:
    """With the account go its personal team and every team where it is the only member (the rest it
    simply leaves, as its memberships go with it). Returns the ids of the teams deleted."""
    account_deletion_check(user)
    with transaction.atomic():
        doomed = list(_going_with(user).values_list("pk", flat=True))
        others = list(
            Team.objects.filter(memberships__user=user).exclude(pk__in=doomed).values_list("pk", flat=True)
        )
        teams_deleting.send(sender=Team, teams=list(Team.objects.filter(pk__in=doomed)))
        Team.objects.filter(pk__in=doomed).delete()
        Membership.objects.filter(user=user).delete()
        for team in Team.objects.filter(pk__in=others):
            _changed(team)
    return doomed


def switcher_choices(request: HttpRequest) -> list[Membership]:
    """The teams the top bar's switcher offers, the current one marked `is_current`: the one query of the
    person's memberships on every signed-in page, which also settles the request's current team
    (`request_membership`), so the page asks no more."""
    if not request.user.is_authenticated:
        return []
    current = request_membership(request)
    choices = _my_memberships(request)
    for choice in choices:
        choice.is_current = current is not None and choice.pk == current.pk  # type: ignore[attr-defined]
    return choices
