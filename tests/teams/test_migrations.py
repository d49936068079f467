import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_existing_accounts_get_a_personal_team() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("teams", "0001_initial")])
    old = executor.loader.project_state([("teams", "0001_initial")]).apps
    # A historical model: no signal fires, as for the accounts that existed before teams did.
    old.get_model("accounts", "User").objects.create(email="old@example.com", display_name="Old")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("teams", "0002_personal_teams")])
    new = executor.loader.project_state([("teams", "0002_personal_teams")]).apps
    Membership = new.get_model("teams", "Membership")

    (membership,) = Membership.objects.filter(user__email="old@example.com")
    assert (membership.role, membership.team.name, membership.team.personal) == ("owner", "Old's team", True)
    executor.migrate(executor.loader.graph.leaf_nodes())


BEFORE_TEAMS = [("posts", "0001_initial"), ("chat", "0001_initial"), ("billing", "0002_stripe_subscription")]


@pytest.mark.django_db(transaction=True)
def test_every_row_from_before_teams_lands_in_its_owners_personal_team() -> None:
    """The features' migrations to team-owned rows (accounts 0007, billing 0003, chat 0002, posts 0002)
    on data made before teams existed: each row goes to its owner's personal team, and a subscription
    from before seats bills one seat."""
    executor = MigrationExecutor(connection)
    # Back to before personal teams, and each installed app to before its rows had a team.
    before = [("teams", "0001_initial"), ("accounts", "0006_totp_passkeys")] + [
        node for node in BEFORE_TEAMS if node in executor.loader.graph.nodes
    ]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    ann = old.get_model("accounts", "User").objects.create(email="ann@example.com", display_name="Ann")
    bob = old.get_model("accounts", "User").objects.create(email="bob@example.com", display_name="Bob")
    old.get_model("accounts", "ApiToken").objects.create(user=ann, name="phone", prefix="tf_a", digest="a")
    installed = {app for app, _ in before}
    if "posts" in installed:
        old.get_model("posts", "Post").objects.create(author=bob, title="Old post", body="b")
    if "chat" in installed:
        old.get_model("chat", "Conversation").objects.create(user=ann, title="Old chat")
    if "billing" in installed:
        Subscription = old.get_model("billing", "Subscription")
        Subscription.objects.create(user=bob, stripe_customer_id="cus_B", stripe_subscription_id="sub_B")
        Subscription.objects.create(user=ann, stripe_customer_id="cus_A")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    new = executor.loader.project_state(executor.loader.graph.leaf_nodes()).apps
    personal = dict(
        new.get_model("teams", "Membership")
        .objects.filter(team__personal=True, role="owner")
        .values_list("user__email", "team_id")
    )

    assert new.get_model("accounts", "ApiToken").objects.get().team_id == personal["ann@example.com"]
    if "posts" in installed:
        assert new.get_model("posts", "Post").objects.get().team_id == personal["bob@example.com"]
    if "chat" in installed:
        assert new.get_model("chat", "Conversation").objects.get().team_id == personal["ann@example.com"]
    if "billing" in installed:
        seats = dict(new.get_model("billing", "Subscription").objects.values_list("team_id", "quantity"))
        assert seats == {personal["bob@example.com"]: 1, personal["ann@example.com"]: 0}
