from django.contrib import admin

from teams.models import Membership, Team


class MembershipInline(admin.TabularInline[Membership, Team]):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "slug", "personal", "created_at")
    search_fields = ("name", "slug", "memberships__user__email")
    inlines = (MembershipInline,)
