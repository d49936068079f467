import importlib
import importlib.util
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User

# (email, display name, is staff)
DEMO_USERS = [("demo@example.com", "Demo User", False), ("admin@example.com", "Ada Admin", True)]


class Command(BaseCommand):
    help = "Create the demo users and data. Safe to run any number of times."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        password = settings.DEMO_PASSWORD
        for email, name, is_staff in DEMO_USERS:
            user, _ = User.objects.get_or_create(email=email, defaults={"display_name": name})
            user.is_staff = user.is_superuser = is_staff
            user.is_active = True
            # The demo addresses cannot receive mail: they count as confirmed, so tokens and checkout work.
            user.email_verified_at = user.email_verified_at or timezone.now()
            user.set_password(password)
            user.save()
        # Each app may ship a `demo.py` with a `seed()` function; it must be idempotent too.
        for app in apps.get_app_configs():
            if importlib.util.find_spec(f"{app.name}.demo") is not None:
                importlib.import_module(f"{app.name}.demo").seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in at /accounts/login/ with:"))
        for email, _, is_staff in DEMO_USERS:
            self.stdout.write(f"  {email:<20} / {password}   ({'staff' if is_staff else 'user'})")
