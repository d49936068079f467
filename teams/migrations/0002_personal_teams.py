"""Every existing account gets its personal team, as new ones do on their first save."""

import secrets

from django.db import migrations
from django.utils.text import slugify


def personal_teams(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Team = apps.get_model("teams", "Team")
    Membership = apps.get_model("teams", "Membership")
    owned = set(Membership.objects.filter(role="owner", team__personal=True).values_list("user_id", flat=True))
    for user in User.objects.exclude(pk__in=owned).iterator():
        name = f"{user.display_name or user.email.split('@', 1)[0]}'s team"
        base = slugify(name)[:80] or "team"
        slug = base
        while Team.objects.filter(slug=slug).exists():
            slug = f"{base}-{secrets.token_hex(3)}"
        team = Team.objects.create(name=name, slug=slug, personal=True)
        Membership.objects.create(team=team, user=user, role="owner")


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial")]

    operations = [migrations.RunPython(personal_teams, migrations.RunPython.noop)]
