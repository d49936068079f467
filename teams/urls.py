from django.urls import path

from teams import views

app_name = "teams"

urlpatterns = [
    path("teams/", views.team_list, name="team_list"),
    path("teams/switch/", views.team_switch_view, name="team_switch"),
    path("team/", views.team_detail, name="team_detail"),
    path("team/rename/", views.team_rename_view, name="team_rename"),
    path("team/delete/", views.team_delete_view, name="team_delete"),
    path("team/leave/", views.team_leave, name="team_leave"),
    path("team/transfer/", views.team_transfer_view, name="team_transfer"),
    path("team/members/<id:user_id>/role/", views.member_role, name="member_role"),
    path("team/members/<id:user_id>/remove/", views.member_remove_view, name="member_remove"),
    path("team/invitations/", views.invitation_create_view, name="invitation_create"),
    path("team/invitations/<id:pk>/resend/", views.invitation_resend_view, name="invitation_resend"),
    path("team/invitations/<id:pk>/revoke/", views.invitation_revoke_view, name="invitation_revoke"),
    path("invitations/<str:token>/", views.invitation_detail, name="invitation_detail"),
    path("staff/teams/", views.staff_team_list, name="staff_team_list"),
]
