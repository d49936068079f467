from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.entitlements import tenant_resolver_set
        from core.registry import Link, context_add, fragment_add, menu_add
        from teams import signals  # noqa: F401 - every new account gets its personal team
        from teams.services import request_account_teams, request_membership, request_team, switcher_choices

        # The team the page works in (`membership.team`, `membership.role`), read only by pages that show it.
        context_add("membership", request_membership)
        context_add("team_switcher", switcher_choices)
        fragment_add("nav_user", "teams/_switcher.html", order=10)
        # The "delete your account" page says, before anything is tried, what becomes of each team.
        context_add("account_teams", request_account_teams)
        fragment_add("account_delete", "teams/_account_delete.html")
        menu_add("dashboard", Link("Team", "teams:team_detail", current="/team/", order=5))
        menu_add("account", Link("Your teams", "teams:team_list", current="/teams/", order=15))
        menu_add("staff_tabs", Link("Teams", "teams:staff_team_list", current="/staff/teams/", order=15))
        # The platform's dashboard shows the limits and usage of that team.
        tenant_resolver_set(request_team)
