from core.operations import Kind, iter_routes


def test_every_routed_view_declares_its_kind_of_operation() -> None:
    undeclared = [f"{route.pattern} ({route.name})" for route in iter_routes() if route.operation is None]

    assert undeclared == [], "Declare these views with core.operations.operation / declare: " + ", ".join(
        undeclared
    )


def test_the_profile_update_is_an_action() -> None:
    routes = {route.name: route for route in iter_routes()}

    profile = routes["accounts:profile_edit"]
    assert profile.pattern == "/dashboard/profile/"
    assert profile.operation is not None
    assert profile.operation.kind is Kind.ACTION
