"""The teams JSON API: the caller's teams, their members and invitations, addressed by id.

The rules live in `teams.services` and `teams.roles`, shared with the pages; this module speaks HTTP:
a team the caller is not in is 404 (ids leak nothing), what the caller's role forbids is 403 `{"detail",
"code": "forbidden"}` (`"email_unverified"` for an invitation from an unconfirmed address), the last
owner's demotion or departure is 409 `{"detail", "code": "last_owner"}`, 201 with `Location` on create.
"""

from typing import Any

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from core.operations import operation
from core.types import AuthedRequest
from teams import services
from teams.models import Invitation, Membership, Role
from teams.roles import Permission, can


def _membership(request: AuthedRequest, team_id: int) -> Membership:
    membership = services.membership_of(user=request.user, team_id=team_id)
    if membership is None:
        raise Http404("No such team.")
    membership.user = request.user
    return membership


def _forbidden(message: str, code: str = "forbidden") -> PermissionDenied:
    """A 403 shaped as every error here is, `{"detail", "code"}`."""
    return PermissionDenied({"detail": message, "code": code})


def _require(actor: Membership, permission: Permission, message: str) -> None:
    if not can(actor.role, permission):
        raise _forbidden(message)


def _conflict(error: Exception, code: str) -> Response:
    return Response({"detail": str(error), "code": code}, status=status.HTTP_409_CONFLICT)


ERROR = inline_serializer("TeamError", {"detail": serializers.CharField(), "code": serializers.CharField()})
LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    description="The new resource's URL.",
    response=[201],
)


class TeamOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="team.id")
    name = serializers.CharField(source="team.name")
    slug = serializers.CharField(source="team.slug")
    role = serializers.ChoiceField(choices=Role.choices)


class TeamInput(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=80, trim_whitespace=True)


@operation(
    "List and create your teams", why="For clients outside our pages: JSON, 201 with Location on create."
)
class TeamListCreateApi(APIView):
    @extend_schema(responses={200: TeamOutput(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        return Response(TeamOutput(list(services.teams_of(request.user)), many=True).data)

    @extend_schema(request=TeamInput, responses={201: TeamOutput}, parameters=[LOCATION_HEADER])
    def post(self, request: AuthedRequest) -> Response:
        data = TeamInput(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_create(user=request.user, name=data.validated_data["name"])
        membership = Membership.objects.select_related("team").get(team=team, user=request.user)
        location = request.build_absolute_uri(reverse("teams_api:team_detail", args=[team.pk]))
        return Response(
            TeamOutput(membership).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )


@operation(
    "Read, rename or delete a team",
    why="For clients outside our pages: 404 outside the team, 403 below the role (rename admin+).",
)
class TeamDetailApi(APIView):
    @extend_schema(responses={200: TeamOutput})
    def get(self, request: AuthedRequest, team_id: int) -> Response:
        return Response(TeamOutput(_membership(request, team_id)).data)

    @extend_schema(request=TeamInput, responses={200: TeamOutput, 403: ERROR})
    def patch(self, request: AuthedRequest, team_id: int) -> Response:
        actor = _membership(request, team_id)
        _require(actor, Permission.RENAME, "Only owners and admins can rename the team.")
        data = TeamInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.team_rename(actor=actor, name=data.validated_data["name"])
        return Response(TeamOutput(actor).data)

    @extend_schema(responses={204: None, 400: ERROR, 403: ERROR})
    def delete(self, request: AuthedRequest, team_id: int) -> Response:
        actor = _membership(request, team_id)
        _require(actor, Permission.DELETE, "Only an owner can delete the team.")
        try:
            services.team_delete(actor=actor)
        except services.TeamRuleError as error:
            return Response(
                {"detail": str(error), "code": "personal_team"}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberOutput(serializers.Serializer[Any]):
    user_id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")
    display_name = serializers.CharField(source="user.display_name")
    role = serializers.ChoiceField(choices=Role.choices)


class RoleInput(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices)


@operation("A team's members", why="For clients outside our pages: every member's id, email, name and role.")
class MemberListApi(APIView):
    @extend_schema(responses={200: MemberOutput(many=True)})
    def get(self, request: AuthedRequest, team_id: int) -> Response:
        actor = _membership(request, team_id)
        return Response(MemberOutput(list(services.members_of(actor.team)), many=True).data)


def _member(actor: Membership, user_id: int) -> Membership:
    target = services.members_of(actor.team).filter(user_id=user_id).first()
    if target is None:
        raise Http404("No such member of this team.")
    return target


@operation(
    "Change a member's role, remove a member, or leave",
    why="For clients outside our pages: 403 below the role, 409 for the last owner's demotion or departure.",
)
class MemberDetailApi(APIView):
    @extend_schema(request=RoleInput, responses={200: MemberOutput, 403: ERROR, 409: ERROR})
    def patch(self, request: AuthedRequest, team_id: int, user_id: int) -> Response:
        actor = _membership(request, team_id)
        target = _member(actor, user_id)
        data = RoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            changed = services.member_role_change(
                actor=actor, target=target, role=data.validated_data["role"]
            )
        except services.NotAllowed as error:
            raise _forbidden(str(error), error.code) from None
        except services.LastOwner as error:
            return _conflict(error, "last_owner")
        changed.user = target.user
        return Response(MemberOutput(changed).data)

    @extend_schema(responses={204: None, 403: ERROR, 409: ERROR})
    def delete(self, request: AuthedRequest, team_id: int, user_id: int) -> Response:
        actor = _membership(request, team_id)
        target = actor if user_id == actor.user_id else _member(actor, user_id)
        try:
            services.member_kick(actor=actor, target=target)
        except services.NotAllowed as error:
            raise _forbidden(str(error), error.code) from None
        except services.LastOwner as error:
            return _conflict(error, "last_owner")
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class InvitationInput(serializers.Serializer[Any]):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


@operation(
    "List and send a team's invitations",
    why="For clients outside our pages (owners and admins): POST emails the accept link, 201 with Location.",
)
class InvitationListCreateApi(APIView):
    @extend_schema(responses={200: InvitationOutput(many=True), 403: ERROR})
    def get(self, request: AuthedRequest, team_id: int) -> Response:
        actor = _membership(request, team_id)
        _require(actor, Permission.INVITE, "Only owners and admins can see invitations.")
        pending = Invitation.objects.pending().filter(team=actor.team).select_related("invited_by")
        return Response(InvitationOutput(list(pending), many=True).data)

    @extend_schema(
        request=InvitationInput,
        responses={201: InvitationOutput, 400: OpenApiResponse(description="Already a member"), 403: ERROR},
        parameters=[LOCATION_HEADER],
    )
    def post(self, request: AuthedRequest, team_id: int) -> Response:
        actor = _membership(request, team_id)
        _require(actor, Permission.INVITE, "Only owners and admins can invite people.")
        data = InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            invitation = services.invitation_create(actor=actor, **data.validated_data)
        except services.NotAllowed as error:
            raise _forbidden(str(error), error.code) from None
        except services.AlreadyMember as error:
            return Response({"email": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        location = request.build_absolute_uri(
            reverse("teams_api:invitation_detail", args=[actor.team_id, invitation.pk])
        )
        return Response(
            InvitationOutput(invitation).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )


@operation(
    "Revoke an invitation",
    why="For clients outside our pages (owners and admins): 204, the link stops working.",
)
class InvitationDetailApi(APIView):
    @extend_schema(responses={204: None, 403: ERROR})
    def delete(self, request: AuthedRequest, team_id: int, invitation_id: int) -> Response:
        actor = _membership(request, team_id)
        _require(actor, Permission.INVITE, "Only owners and admins can revoke invitations.")
        try:
            services.invitation_revoke(actor=actor, invitation_id=invitation_id)
        except Invitation.DoesNotExist:
            raise Http404("No such pending invitation.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
