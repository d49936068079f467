"""The subscription belongs to a team: each user's billing record moves to their personal team (teams'
0002 made one for every account). The user column goes in 0004, once every row has its team: PostgreSQL
refuses to alter a table in the transaction that has just updated its rows' foreign keys."""

import django.db.models.deletion
from django.db import migrations, models


def to_personal_teams(apps, schema_editor):
    Subscription = apps.get_model("billing", "Subscription")
    Membership = apps.get_model("teams", "Membership")
    personal = dict(
        Membership.objects.filter(role="owner", team__personal=True).values_list("user_id", "team_id")
    )
    for subscription in Subscription.objects.filter(team__isnull=True):
        subscription.team_id = personal[subscription.user_id]
        # A subscription made before seats was for one person: one seat.
        subscription.quantity = 1 if subscription.stripe_subscription_id else 0
        subscription.save(update_fields=["team", "quantity"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_stripe_subscription"),
        ("teams", "0002_personal_teams"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="team",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="billing_subscription",
                to="teams.team",
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="quantity",
            field=models.PositiveIntegerField(default=0, help_text="Seats Stripe bills for (0: none)."),
        ),
        migrations.AddField(
            model_name="stripesubscription",
            name="quantity",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="stripesubscription",
            name="item_id",
            field=models.CharField(blank=True, help_text="The subscription item (the seats).", max_length=255),
        ),
        migrations.RunPython(to_personal_teams, migrations.RunPython.noop),
    ]
