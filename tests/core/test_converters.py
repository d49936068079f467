"""An id past any database integer is a URL that does not exist (404), not a query that fails (500)."""

import pytest
from django.test import Client

from core.operations import iter_routes

TOO_BIG = "2517160982511700414226759680"  # what the schema fuzzer sent: 28 digits


def test_every_route_with_an_id_uses_the_id_converter() -> None:
    assert not [route.pattern for route in iter_routes() if "<int:" in route.pattern]


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/teams/{TOO_BIG}/",
        f"/api/v1/teams/{TOO_BIG}/members/",
        f"/api/v1/teams/1/members/{TOO_BIG}/",
        f"/api/v1/teams/1/invitations/{TOO_BIG}/",
        f"/team/members/{TOO_BIG}/remove/",
        f"/dashboard/tokens/{TOO_BIG}/revoke/",
    ],
)
def test_an_id_too_big_for_the_database_is_not_found(user_client: Client, path: str) -> None:
    assert user_client.get(path).status_code == 404
    assert user_client.post(path).status_code == 404


def test_the_largest_bigint_still_resolves_to_its_view(user_client: Client) -> None:
    # 18 nines fit a signed 64-bit integer: the view runs and finds no such team.
    response = user_client.get(f"/api/v1/teams/{'9' * 18}/")

    assert response.status_code == 404
    assert response.json()["detail"] == "No such team."
