"""An account with two-factor takes its second step after an outside provider too."""

import pyotp
import pytest
from django.test import Client

from accounts.models import TotpDevice, User
from accounts.totp import totp_secret_new
from tests.accounts.test_oauth import _oidc_settings, provider, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_an_oauth_login_of_an_account_with_two_factor_asks_for_the_code(
    client: Client,
    provider: str,  # noqa: F811
    user: User,
) -> None:
    secret = totp_secret_new()
    TotpDevice.objects.create(user=user, secret=secret)
    _, response = sign_in(client, provider, "ann-sub", {"email": user.email, "email_verified": True})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/verify/"
    assert "_auth_user_id" not in client.session
    done = client.post("/accounts/login/verify/", {"code": pyotp.TOTP(secret).now()})
    assert done["Location"] == "/dashboard/"
    assert client.session["_auth_user_id"] == str(user.pk)
