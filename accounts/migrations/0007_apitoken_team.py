"""API tokens act within a team: every existing token gets its user's personal team (teams' 0002 made
one for every account). 0008 makes the column required: PostgreSQL refuses to alter a table in the
transaction that has just updated its foreign keys."""

import django.db.models.deletion
from django.db import migrations, models


def to_personal_teams(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    Membership = apps.get_model("teams", "Membership")
    personal = dict(
        Membership.objects.filter(role="owner", team__personal=True).values_list("user_id", "team_id")
    )
    for user_id in ApiToken.objects.values_list("user_id", flat=True).distinct():
        ApiToken.objects.filter(user_id=user_id).update(team_id=personal[user_id])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_totp_passkeys"),
        ("teams", "0002_personal_teams"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="team",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_tokens",
                to="teams.team",
            ),
        ),
        migrations.RunPython(to_personal_teams, migrations.RunPython.noop),
    ]
