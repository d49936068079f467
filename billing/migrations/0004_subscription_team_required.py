import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_subscription_team")]

    operations = [
        migrations.RemoveField(model_name="subscription", name="user"),
        migrations.AlterField(
            model_name="subscription",
            name="team",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE, related_name="billing_subscription", to="teams.team"
            ),
        ),
    ]
