"""The teams pages and actions: your teams, the switcher, the current team (settings, members, roles,
invitations) and the invitation link. Every rule is in `teams.services` / `teams.roles`; these only
speak HTML: a plain POST redirects back (POST/redirect/GET), under htmx the page's region comes back.

What a role forbids is a 403 (the page never offers it); what the rules refuse whoever asks (the last
owner leaving, a name left empty) is said in the form, with a 200, input kept.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import User
from core.operations import operation
from core.types import AuthedHttpRequest
from teams import services
from teams.forms import InvitationSignupForm, InviteForm, TeamDeleteForm, TeamForm, TransferForm
from teams.models import Invitation, Membership, Role, Team
from teams.roles import Permission, can, can_manage
from teams.staff import team_billing_summaries

TEAM_REGION = "teams/team.html#team-region"


def _role_choices(actor: Membership) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if can_manage(actor.role, value, value)]


def _team_context(request: AuthedHttpRequest, actor: Membership, **extra: Any) -> dict[str, Any]:
    team = actor.team
    members = list(services.members_of(team))
    may_change = can(actor.role, Permission.CHANGE_ROLE)
    owners = sum(1 for member in members if member.role == Role.OWNER)
    for member in members:
        # The services refuse to demote or remove the last owner; the page does not offer it.
        sole_owner = member.role == Role.OWNER and owners == 1
        member.sole_owner = sole_owner  # type: ignore[attr-defined]
        is_self = member.user_id == actor.user_id
        manageable = can_manage(actor.role, member.role)
        member.is_self = is_self  # type: ignore[attr-defined]
        member.may_change = not sole_owner and may_change and manageable  # type: ignore[attr-defined]
        member.may_remove = not sole_owner and (  # type: ignore[attr-defined]
            is_self or (can(actor.role, Permission.REMOVE) and manageable)
        )
    may_invite = can(actor.role, Permission.INVITE)
    invitations = (
        list(Invitation.objects.pending().filter(team=team).select_related("invited_by"))
        if may_invite
        else []
    )
    candidates = [
        (m.user_id, f"{m.user.name} ({m.user.email})") for m in members if m.user_id != actor.user_id
    ]
    context: dict[str, Any] = {
        "actor": actor,
        "team": team,
        "members": members,
        "invitations": invitations,
        "role_choices": _role_choices(actor),
        "may_rename": can(actor.role, Permission.RENAME),
        "may_delete": can(actor.role, Permission.DELETE) and not team.personal,
        "may_transfer": can(actor.role, Permission.TRANSFER) and bool(candidates),
        "may_invite": may_invite,
        "rename_form": TeamForm(instance=Team(name=team.name)),
        "delete_form": TeamDeleteForm(team=team, auto_id="delete-%s"),
        "invite_form": InviteForm(auto_id="invite-%s"),
        "transfer_form": TransferForm(candidates=candidates, auto_id="transfer-%s"),
        "members_error": None,
    }
    context.update(extra)
    return context


def _region(request: AuthedHttpRequest, actor: Membership, **extra: Any) -> HttpResponse:
    template = TEAM_REGION if request.htmx else "teams/team.html"
    return render(request, template, _team_context(request, actor, **extra))


def _done(request: AuthedHttpRequest, text: str, to: str = "teams:team_detail") -> HttpResponse:
    """After a change: a toast, and the page again (the region under htmx, a redirect without JS)."""
    messages.success(request, text)
    if not request.htmx:
        return redirect(to)
    if to != "teams:team_detail":
        return HttpResponseClientRedirect(reverse(to))
    # The actor may have changed (their own role, a transfer): read it again.
    request._teams_membership = None  # type: ignore[attr-defined]
    request._teams_choices = None  # type: ignore[attr-defined]
    return _region(request, services.acting_membership(request))


def _target(actor: Membership, user_id: int) -> Membership:
    target = services.members_of(actor.team).filter(user_id=user_id).first()
    if target is None:
        raise Http404("No such member of this team.")
    return target


# --- Your teams and the switcher -----------------------------------------------------------------


@operation(
    "Your teams",
    why="Lists the teams you belong to and creates one; a form on our page, works without JavaScript.",
    methods=["GET", "POST"],
)
def team_list(request: AuthedHttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = services.team_create(user=request.user, name=form.cleaned_data["name"])
        services.team_switch(request=request, team_id=team.pk)
        messages.success(request, f"Created “{team.name}”. You are working in it now.")
        if request.htmx:
            return HttpResponseClientRedirect(reverse("teams:team_detail"))
        return redirect("teams:team_detail")
    memberships = list(services.teams_of(request.user))
    current = services.request_membership(request)
    template = "teams/teams.html"
    if request.htmx and request.method == "POST":
        template += "#team-create-form"
    return render(
        request,
        template,
        {"form": form, "memberships": memberships, "current_team_id": current.team_id if current else None},
    )


@operation(
    "Switch team",
    why="The team switcher in the top bar: a form POST remembered in the session, back to the same page.",
    methods=["POST"],
    try_at="teams:team_list",
)
def team_switch_view(request: AuthedHttpRequest) -> HttpResponse:
    membership = services.team_switch(request=request, team_id=request.POST.get("team", ""))
    if membership is None:
        raise Http404("You are not a member of that team.")
    messages.success(request, f"Now working in “{membership.team.name}”.")
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("core:dashboard")
    if request.htmx:
        return HttpResponseClientRedirect(target)
    return redirect(target)


# --- The current team ----------------------------------------------------------------------------


@operation("The current team", why="Settings, members, roles and invitations of the team you work in.")
def team_detail(request: AuthedHttpRequest) -> HttpResponse:
    actor = services.acting_membership(request)
    template = "teams/team.html"
    if request.htmx and not request.htmx.history_restore_request:
        template = TEAM_REGION
    return render(request, template, _team_context(request, actor))


@operation(
    "Rename the team",
    why="A form on the team page (owners and admins): htmx refreshes it in place, a plain POST redirects.",
    methods=["POST"],
    try_at="teams:team_detail",
)
def team_rename_view(request: AuthedHttpRequest) -> HttpResponse:
    actor = services.acting_membership(request)
    if not can(actor.role, Permission.RENAME):
        raise PermissionDenied("Only owners and admins can rename the team.")
    form = TeamForm(request.POST, instance=Team(name=actor.team.name))
    if not form.is_valid():
        return _region(request, actor, rename_form=form)
    services.team_rename(actor=actor, name=form.cleaned_data["name"])
    return _done(request, "Team renamed.")


@operation(
    "Delete the team",
    why="Owners only, confirmed by typing the name: works as a plain POST and under htmx.",
    methods=["POST"],
    try_at="teams:team_detail",
)
def team_delete_view(request: AuthedHttpRequest) -> HttpResponse:
    actor = services.acting_membership(request)
    if not can(actor.role, Permission.DELETE):
        raise PermissionDenied("Only an owner can delete the team.")
    form = TeamDeleteForm(request.POST, team=actor.team, auto_id="delete-%s")
    if form.is_valid():
        name = actor.team.name
        try:
            services.team_delete(actor=actor)
        except services.TeamRuleError as error:
            form.add_error(None, str(error))
        else:
            request.session.pop(services.SESSION_KEY, None)
            return _done(request, f"Deleted “{name}”.", to="teams:team_list")
    return _region(request, actor, delete_form=form)


@operation(
    "Leave the team",
    why="A button on the team page; the last owner is told to hand ownership on first.",
    methods=["POST"],
    try_at="teams:team_detail",
)
def team_leave(request: AuthedHttpRequest) -> HttpResponse:
    return _leave(request, services.acting_membership(request))


def _leave(request: AuthedHttpRequest, actor: Membership) -> HttpResponse:
    try:
        services.member_kick(actor=actor, target=actor)
    except services.LastOwner as error:
        return _region(request, actor, members_error=str(error))
    request.session.pop(services.SESSION_KEY, None)
    return _done(request, f"You left “{actor.team.name}”.", to="teams:team_list")


@operation(
    "Transfer ownership",
    why="Owners hand the team to another member (who becomes owner; they become admin).",
    methods=["POST"],
    try_at="teams:team_detail",
)
def team_transfer_view(request: AuthedHttpRequest) -> HttpResponse:
    actor = services.acting_membership(request)
    if not can(actor.role, Permission.TRANSFER):
        raise PermissionDenied("Only an owner can transfer ownership.")
    context = _team_context(request, actor)
    form = TransferForm(
        request.POST, candidates=context["transfer_form"].fields["user_id"].choices, auto_id="transfer-%s"
    )
    if form.is_valid():
        target = _target(actor, form.cleaned_data["user_id"])
        services.team_transfer(actor=actor, target=target)
        return _done(request, f"{target.user.name} now owns “{actor.team.name}”; you are an admin.")
    return _region(request, actor, transfer_form=form)


@operation(
    "Change a member's role",
    why="A select on each member's row (owners and admins, within the role rules).",
    methods=["POST"],
    try_at="teams:team_detail",
)
def member_role(request: AuthedHttpRequest, user_id: int) -> HttpResponse:
    actor = services.acting_membership(request)
    if not can(actor.role, Permission.CHANGE_ROLE):
        raise PermissionDenied("Only owners and admins can change roles.")
    target = _target(actor, user_id)
    role = request.POST.get("role", "")
    try:
        services.member_role_change(actor=actor, target=target, role=role)
    except services.NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except (services.LastOwner, services.TeamRuleError) as error:
        return _region(request, actor, members_error=str(error))
    return _done(request, f"{target.user.name} is now {Role(role).label.lower()}.")


@operation(
    "Remove a member",
    why="A button on each member's row (owners and admins); your own row's button is Leave.",
    methods=["POST"],
    try_at="teams:team_detail",
)
def member_remove_view(request: AuthedHttpRequest, user_id: int) -> HttpResponse:
    actor = services.acting_membership(request)
    target = _target(actor, user_id)
    if target.pk == actor.pk:
        return _leave(request, actor)
    try:
        services.member_kick(actor=actor, target=target)
    except services.NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except services.LastOwner as error:
        return _region(request, actor, members_error=str(error))
    return _done(request, f"Removed {target.user.name} from “{actor.team.name}”.")


# --- Invitations ---------------------------------------------------------------------------------


@operation(
    "Invite someone",
    why="A form on the team page (owners and admins): emails a single-use link; errors shown in the form.",
    methods=["POST"],
    try_at="teams:team_detail",
)
def invitation_create_view(request: AuthedHttpRequest) -> HttpResponse:
    actor = services.acting_membership(request)
    if not can(actor.role, Permission.INVITE):
        raise PermissionDenied("Only owners and admins can invite people.")
    form = InviteForm(request.POST, auto_id="invite-%s")
    if form.is_valid():
        try:
            invitation = services.invitation_create(actor=actor, **form.cleaned_data)
        except (services.AlreadyMember, services.NotAllowed, services.TeamRuleError) as error:
            form.add_error("email" if isinstance(error, services.AlreadyMember) else None, str(error))
        else:
            return _done(request, f"Invitation sent to {invitation.email}.")
    return _region(request, actor, invite_form=form)


def _invitation_action(request: AuthedHttpRequest, pk: int, *, resend: bool) -> HttpResponse:
    actor = services.acting_membership(request)
    if not can(actor.role, Permission.INVITE):
        raise PermissionDenied("Only owners and admins can manage invitations.")
    try:
        if resend:
            invitation = services.invitation_resend(actor=actor, invitation_id=pk)
        else:
            invitation = services.invitation_revoke(actor=actor, invitation_id=pk)
    except Invitation.DoesNotExist:
        raise Http404("That invitation was accepted, revoked or never existed.") from None
    verb = "Sent a new link to" if resend else "Revoked the invitation of"
    return _done(request, f"{verb} {invitation.email}.")


@operation(
    "Resend an invitation",
    why="A button on the invitation's row: a fresh link for seven more days; the old one stops working.",
    methods=["POST"],
    try_at="teams:team_detail",
)
def invitation_resend_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(request, pk, resend=True)


@operation(
    "Revoke an invitation",
    why="A button on the invitation's row: the link stops working.",
    methods=["POST"],
    try_at="teams:team_detail",
)
def invitation_revoke_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(request, pk, resend=False)


PROBLEM_STATUS = {"invalid": 404, "expired": 410, "revoked": 410, "accepted": 410}


@operation(
    "Accept an invitation",
    why="The emailed link: GET shows the invitation, POST accepts (signed in, or signing up through it "
    "even when sign-ups are closed). A form on our page; works without JavaScript.",
    methods=["GET", "POST"],
    public=True,
)
def invitation_detail(request: HttpRequest, token: str) -> HttpResponse:
    found = services.invitation_from_token(token)
    invitation = found.invitation
    if found.problem or invitation is None:
        status = PROBLEM_STATUS[found.problem or "invalid"]
        return render(
            request,
            "teams/invitation.html",
            {"problem": found.problem, "invitation": invitation},
            status=status,
        )
    context: dict[str, Any] = {"invitation": invitation, "token": token}
    user = request.user
    if user.is_authenticated:
        assert isinstance(user, User)
        if user.email != invitation.email:
            # Safest: only the invited address joins. Say so, and offer to sign out and come back.
            return render(
                request,
                "teams/invitation.html",
                {**context, "wrong_account": True},
                status=403 if request.method == "POST" else 200,
            )
        if request.method == "POST":
            return _accept(request, invitation, user, token)
        return render(request, "teams/invitation.html", context)
    if User.objects.filter(email=invitation.email).exists():
        # An account exists: log in (and come back here) to accept.
        return render(request, "teams/invitation.html", {**context, "needs_login": True})
    form = InvitationSignupForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return _accept(request, invitation, user, token)
    return render(request, "teams/invitation.html", {**context, "signup_form": form})


def _accept(request: HttpRequest, invitation: Invitation, user: User, token: str) -> HttpResponse:
    try:
        membership = services.invitation_accept(invitation=invitation, user=user)
    except services.InvitationUnusable as error:
        return render(
            request, "teams/invitation.html", {"problem": error.problem, "invitation": invitation}, status=410
        )
    services.team_switch(request=request, team_id=membership.team_id)
    messages.success(request, f"Welcome to “{membership.team.name}”!")
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(reverse("teams:team_detail"))
    return redirect("teams:team_detail")


# --- Staff: the teams tab ------------------------------------------------------------------------

STAFF_PER_PAGE = 20


@operation(
    "Staff: every team", why="Search teams by name, slug or member email; changes nothing.", staff=True
)
def staff_team_list(request: AuthedHttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:100]
    teams = Team.objects.annotate(member_count=Count("memberships", distinct=True)).order_by("name", "id")
    if query:
        teams = teams.filter(
            Q(name__icontains=query) | Q(slug__icontains=query) | Q(memberships__user__email__icontains=query)
        ).distinct()
    page = Paginator(teams, STAFF_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    owners: dict[int, list[str]] = {}
    for membership in Membership.objects.filter(team__in=rows, role=Role.OWNER).select_related("user"):
        owners.setdefault(membership.team_id, []).append(membership.user.email)
    billing = team_billing_summaries(rows)
    for team in rows:
        team.owner_emails = owners.get(team.pk, [])  # type: ignore[attr-defined]
        team.billing = billing.get(team.pk)  # type: ignore[attr-defined]
    template = "teams/staff_teams.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#team-table"
    return render(request, template, {"query": query, "page": page, "rows": rows})
