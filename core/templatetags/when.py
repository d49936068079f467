"""`{{ when|ago }}`: how long ago, as people say it: "just now" under a minute (Django's `timesince`
alone says "0 minutes"), else "2 hours ago"."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(when: datetime | None) -> str:
    if when is None:
        return ""
    if timezone.now() - when < timedelta(minutes=1):
        return "just now"
    return f"{timesince(when)} ago"
