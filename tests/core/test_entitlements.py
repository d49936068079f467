from collections.abc import Iterator

import pytest

from accounts.models import User
from core import entitlements
from core.entitlements import (
    Limit,
    entitlements_for,
    entitlements_provider_set,
    limit_for,
    limit_register,
    limits,
    usage_for,
)


@pytest.fixture(autouse=True)
def _only_our_limits() -> Iterator[None]:
    """These tests declare their own limits and provider; the installed apps' come back after."""
    saved_limits, saved_provider = dict(entitlements._limits), list(entitlements._provider)
    entitlements._limits.clear()
    entitlements._provider.clear()
    yield
    entitlements._limits.clear()
    entitlements._limits.update(saved_limits)
    entitlements._provider[:] = saved_provider


def widgets(default: int | None = 5) -> Limit:
    return Limit(
        key="max_widgets",
        usage="widgets",
        counter=lambda user: 2,
        default=default,
        describe="Up to {} widgets",
        describe_unlimited="Unlimited widgets",
    )


def test_without_a_provider_a_limit_is_its_default() -> None:
    limit_register(widgets())
    user = User(email="a@example.com")

    assert limit_for(user, "max_widgets") == 5
    assert entitlements_for(user) == {"max_widgets": 5}
    assert usage_for(user) == {"widgets": 2}


def test_the_provider_supplies_the_numbers_and_only_for_declared_limits() -> None:
    limit_register(widgets())
    entitlements_provider_set(lambda user: {"max_widgets": None, "max_gadgets": 3})
    user = User(email="a@example.com")

    assert limit_for(user, "max_widgets") is None
    assert entitlements_for(user) == {"max_widgets": None}  # the gadgets app is not installed


def test_a_provider_silent_on_a_limit_leaves_its_default() -> None:
    limit_register(widgets(default=7))
    entitlements_provider_set(lambda user: {})

    assert limit_for(User(email="a@example.com"), "max_widgets") == 7


def test_an_undeclared_limit_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        limit_for(User(email="a@example.com"), "max_widgets")


def test_registering_again_replaces_and_pricing_lines_read_the_number() -> None:
    limit_register(widgets())
    limit_register(widgets(default=9))

    assert [limit.default for limit in limits()] == [9]
    assert widgets().line(1000) == "Up to 1,000 widgets"
    assert widgets().line(None) == "Unlimited widgets"
