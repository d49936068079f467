"""Chat within a team: every conversation, and every day's usage, goes to its user's personal team
(teams' 0002 made one for every account). 0003 then makes the columns required and drops the usage's
user: PostgreSQL refuses to alter a table in the transaction that has just updated its foreign keys."""

import django.db.models.deletion
from django.db import migrations, models


def to_personal_teams(apps, schema_editor):
    Conversation = apps.get_model("chat", "Conversation")
    DailyUsage = apps.get_model("chat", "DailyUsage")
    Membership = apps.get_model("teams", "Membership")
    personal = dict(
        Membership.objects.filter(role="owner", team__personal=True).values_list("user_id", "team_id")
    )
    for user_id in Conversation.objects.values_list("user_id", flat=True).distinct():
        Conversation.objects.filter(user_id=user_id).update(team_id=personal[user_id])
    for user_id in DailyUsage.objects.values_list("user_id", flat=True).distinct():
        DailyUsage.objects.filter(user_id=user_id).update(team_id=personal[user_id])


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
        ("teams", "0002_personal_teams"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="team",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="conversations",
                to="teams.team",
            ),
        ),
        migrations.AddField(
            model_name="dailyusage",
            name="team",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="teams.team"
            ),
        ),
        migrations.RunPython(to_personal_teams, migrations.RunPython.noop),
    ]
