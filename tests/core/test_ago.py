"""`{{ when|ago }}`: "last used just now", never "last used 0 minutes ago"."""

from datetime import timedelta

from django.template import Context, Template
from django.utils import timezone


def render(when: object) -> str:
    return Template("{% load when %}last used {{ when|ago }}").render(Context({"when": when}))


def test_under_a_minute_is_just_now() -> None:
    assert render(timezone.now() - timedelta(seconds=20)) == "last used just now"


def test_later_it_is_the_time_since() -> None:
    assert render(timezone.now() - timedelta(hours=2, seconds=5)) == "last used 2\xa0hours ago"


def test_nothing_says_nothing() -> None:
    assert render(None) == "last used "
