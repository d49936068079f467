from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.forms import ProfileForm
from accounts.models import User


def test_profile_form_writes_only_the_profile_columns(user: User) -> None:
    # Another request changes the password and the email after this one loaded the user.
    User.objects.filter(pk=user.pk).update(password="changed-elsewhere", email="new@example.com")
    form = ProfileForm({"display_name": "Ann Lee", "bio": "Hi.", "time_zone": "Europe/Paris"}, instance=user)
    assert form.is_valid(), form.errors

    with CaptureQueriesContext(connection) as captured:
        form.save()

    (update,) = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
    assert "password" not in update
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.time_zone) == ("Ann Lee", "Hi.", "Europe/Paris")
    assert (user.password, user.email) == ("changed-elsewhere", "new@example.com")
