# ruff: noqa: RUF001  (the look-alike letters are what these tests are about)
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from accounts.models import User, email_canonical, validate_time_zone


def test_time_zone_choices_are_not_part_of_the_schema() -> None:
    # The tz database differs between machines; a migration that froze it would make
    # `makemigrations --check` fail wherever it is newer or older.
    _, _, _, kwargs = User._meta.get_field("time_zone").deconstruct()
    assert "choices" not in kwargs


def test_time_zone_is_still_validated_on_the_model() -> None:
    validate_time_zone("Europe/Paris")
    validate_time_zone("UTC")
    with pytest.raises(ValidationError):
        validate_time_zone("Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Ann@Example.COM", "ann@example.com"),
        ("  ann@example.com ", "ann@example.com"),
        ("ſam@example.com", "sam@example.com"),  # long s
        ("ｓａｍ@ｅｘａｍｐｌｅ.com", "sam@example.com"),  # full-width
        ("STRASSE@example.com", "strasse@example.com"),
        ("straße@example.com", "strasse@example.com"),  # casefold, not lower()
        ("alıce@example.com", "alıce@example.com"),  # dotless i stays itself: another address
        ("ALİCE@example.com", "ali\u0307ce@example.com"),
    ],
)
def test_email_canonical(typed: str, canonical: str) -> None:
    assert email_canonical(typed) == canonical
    assert email_canonical(canonical) == canonical  # applied twice, nothing changes


def test_every_way_of_storing_an_email_stores_the_canonical_form(db: None) -> None:
    created = User.objects.create_user(email="ſAM@Example.com", password="x")
    saved = User(email="ＢＯＢ@example.com")
    saved.save()

    assert list(User.objects.values_list("email", flat=True).order_by("pk")) == [
        "sam@example.com",
        "bob@example.com",
    ]
    assert User.objects.get_by_natural_key("SAM@example.com") == created
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("alıce@example.com")


def test_signup_refuses_a_look_alike_of_a_taken_address(client: Client, db: None) -> None:
    User.objects.create_user(email="sam@example.com", password="x")
    data = {"display_name": "Sam", "password": "a-long-good-passphrase"}

    taken = client.post("/accounts/signup/", {**data, "email": "ſam@example.com"})
    assert "already exists" in taken.content.decode()

    assert client.post("/accounts/signup/", {**data, "email": "New.Person@Example.com"}).status_code == 302
    assert User.objects.filter(email="new.person@example.com").exists()


def test_the_migration_canonicalises_rows_and_reports_collisions(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    migration = importlib.import_module("accounts.migrations.0004_canonical_emails")
    keep = User.objects.create_user(email="ann@example.com")
    fold = User.objects.create_user(email="placeholder-1@example.com")
    clash = User.objects.create_user(email="placeholder-2@example.com")
    # Rows as they were stored before: update() bypasses save(), which would canonicalise them.
    User.objects.filter(pk=fold.pk).update(email="ſam@Example.com")
    User.objects.filter(pk=clash.pk).update(email="ANN@example.com")

    migration.canonicalise(django_apps, SimpleNamespace(connection=connection))

    emails = dict(User.objects.values_list("pk", "email"))
    assert emails == {keep.pk: "ann@example.com", fold.pk: "sam@example.com", clash.pk: "ANN@example.com"}
    report = capsys.readouterr().err
    assert f"user {clash.pk}: 'ANN@example.com' -> 'ann@example.com'" in report
