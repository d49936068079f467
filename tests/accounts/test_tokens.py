from typing import Any

from django.forms.models import model_to_dict

from accounts.models import ApiToken, User
from accounts.tokens import api_token_authenticate, api_token_create, api_token_revoke


def _fields(instance: ApiToken | User) -> dict[str, object]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_authenticate_loads_the_token_and_its_user_as_the_orm_would(user: User) -> None:
    token, raw = api_token_create(user=user, name="CI")

    found = api_token_authenticate(raw)

    assert found is not None
    fresh = ApiToken.objects.select_related("user").get(pk=token.pk)
    assert _fields(found) == _fields(fresh)  # last_used_at included: just written, and returned
    assert _fields(found.user) == _fields(fresh.user)
    assert found.last_used_at is not None
    assert found.last_used_at.tzinfo is not None
    assert not found._state.adding  # a saved row: save() would UPDATE, not INSERT
    assert model_to_dict(found.user)["email"] == user.email


def test_authenticate_refuses_revoked_tokens_inactive_users_and_strangers(user: User) -> None:
    token, raw = api_token_create(user=user, name="CI")
    _, other_raw = api_token_create(user=user, name="Phone")

    assert api_token_authenticate("tf_" + "x" * 43) is None
    assert api_token_authenticate("not-a-token") is None
    api_token_revoke(user=user, token_id=token.pk)
    assert api_token_authenticate(raw) is None
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert api_token_authenticate(other_raw) is None


def test_last_used_is_written_at_most_once_a_minute(user: User, django_assert_num_queries: Any) -> None:
    _, raw = api_token_create(user=user, name="CI")
    api_token_authenticate(raw)

    with django_assert_num_queries(1):
        assert api_token_authenticate(raw) is not None
