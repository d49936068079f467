from django.urls import path

from teams import api

app_name = "teams_api"

urlpatterns = [
    path("v1/teams/", api.TeamListCreateApi.as_view(), name="team_list"),
    path("v1/teams/<id:team_id>/", api.TeamDetailApi.as_view(), name="team_detail"),
    path("v1/teams/<id:team_id>/members/", api.MemberListApi.as_view(), name="member_list"),
    path("v1/teams/<id:team_id>/members/<id:user_id>/", api.MemberDetailApi.as_view(), name="member_detail"),
    path("v1/teams/<id:team_id>/invitations/", api.InvitationListCreateApi.as_view(), name="invitation_list"),
    path(
        "v1/teams/<id:team_id>/invitations/<id:invitation_id>/",
        api.InvitationDetailApi.as_view(),
        name="invitation_detail",
    ),
]
