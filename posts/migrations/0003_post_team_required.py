import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("posts", "0002_post_team")]

    operations = [
        migrations.AlterField(
            model_name="post",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="posts", to="teams.team"
            ),
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(fields=["team", "-created_at"], name="posts_post_team_created"),
        ),
    ]
