"""Store every email address in its canonical form (NFKC + casefold), as accounts.models.email_canonical.

Lookups are exact from now on, so a row left in another form could no longer log in. Two rows that
fold into one address (`Ann@x` and `ann@x`, `ſam@x` and `sam@x`) cannot both hold it (the column is
unique): the first account keeps the address, the others are left as they are and reported, for a
person to merge or rename. Nothing is deleted, and the migration never fails on them.
"""

import sys
import unicodedata

from django.db import migrations


def _canonical(email):
    # A frozen copy of accounts.models.email_canonical: a migration must not change when the app does.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email.strip()).casefold())


def canonicalise(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    db = schema_editor.connection.alias
    rows = list(User.objects.using(db).order_by("date_joined", "pk").values_list("pk", "email"))
    taken = {email for _, email in rows if _canonical(email) == email}
    collisions = []
    for pk, email in rows:
        canonical = _canonical(email)
        if canonical == email:
            continue
        if canonical in taken:
            collisions.append((pk, email, canonical))
            continue
        User.objects.using(db).filter(pk=pk).update(email=canonical)
        taken.add(canonical)
    if collisions:
        sys.stderr.write(
            "\n  accounts.0004: these accounts fold into an address another account already has and were "
            "left unchanged (they cannot log in with a password until merged or renamed):\n"
        )
        for pk, email, canonical in collisions:
            sys.stderr.write(f"    user {pk}: {email!r} -> {canonical!r}\n")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_time_zone_not_in_migrations")]

    operations = [migrations.RunPython(canonicalise, migrations.RunPython.noop, elidable=True)]
