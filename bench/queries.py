"""SQL queries per page at N rows and at ten times as many: `python -m bench.queries N` prints JSON.

Runs in-process against a throwaway test database (created and dropped here, on whatever database
DATABASE_URL names), with Django's test client and `CaptureQueriesContext`. At each scale the
signed-in user owns that many posts and as many other users have written one post each, so a page
that queries per row (a post's author, a lazy relation in a loop) shows up as growth.
"""

import json
import os
import sys

import django
from django.db import connection
from django.test import Client
from django.test.runner import DiscoverRunner
from django.test.utils import CaptureQueriesContext, setup_test_environment

# Page name (as printed by `make bench`) → path, requested as the demo user (or the staff user).
PAGES = {
    "dashboard": "/dashboard/",
    "posts list": "/dashboard/posts/",
    "staff posts list": "/staff/posts/",
    "billing page": "/billing/",
    "GET /api/v1/posts/": "/api/v1/posts/",
}
STAFF_PAGES = {"staff posts list"}


def queries_per_page(rows: int) -> dict[str, list[int]]:
    """For each page, its query count with `rows` rows and with ten times as many."""
    from accounts.models import User
    from accounts.tokens import api_token_create
    from bench.data import posts_create

    user = User.objects.create_user(email="reader@example.com", password=None)
    staff = User.objects.create_user(email="staff@example.com", password=None, is_staff=True)
    _, token = api_token_create(user=user, name="queries")
    member, admin = Client(), Client()
    member.force_login(user)
    admin.force_login(staff)
    counts: dict[str, list[int]] = {name: [] for name in PAGES}
    made = 0
    for scale in (rows, 10 * rows):
        posts_create(author=user, count=scale - made)
        for n in range(made, scale):
            posts_create(
                author=User.objects.create_user(email=f"writer{n}@example.com", password=None), count=1
            )
        made = scale
        for name, path in PAGES.items():
            client = admin if name in STAFF_PAGES else member
            headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
            client.get(path, headers=headers)  # warm: caches filled once (flags, plans) are not per row
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}")
            counts[name].append(len(captured.captured_queries))
    return counts


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    if connection.vendor != "sqlite":
        # Not the test database pytest may be using at this moment on the same server.
        connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_bench_queries"
    setup_test_environment()
    runner = DiscoverRunner(verbosity=0, interactive=False)
    databases = runner.setup_databases()
    try:
        counts = queries_per_page(rows)
    finally:
        runner.teardown_databases(databases)
    print(json.dumps({"rows": rows, "counts": counts}))


if __name__ == "__main__":
    main()
