import io

import pytest
from django.core.management import call_command

from posts.models import Post

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_demo_posts_once() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    assert Post.objects.filter(author__email="demo@example.com").count() == 3
