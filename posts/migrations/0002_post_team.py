"""Posts belong to a team: every existing post goes to its author's personal team (teams' 0002 made
one for every account). The column becomes required in 0003: PostgreSQL refuses to alter a table in the
transaction that has just updated its rows' foreign keys."""

import django.db.models.deletion
from django.db import migrations, models


def to_personal_teams(apps, schema_editor):
    Post = apps.get_model("posts", "Post")
    Membership = apps.get_model("teams", "Membership")
    personal = dict(
        Membership.objects.filter(role="owner", team__personal=True).values_list("user_id", "team_id")
    )
    for author_id in Post.objects.filter(team__isnull=True).values_list("author_id", flat=True).distinct():
        Post.objects.filter(author_id=author_id, team__isnull=True).update(team_id=personal[author_id])


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0001_initial"),
        ("teams", "0002_personal_teams"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="team",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="posts", to="teams.team"
            ),
        ),
        migrations.RunPython(to_personal_teams, migrations.RunPython.noop),
    ]
