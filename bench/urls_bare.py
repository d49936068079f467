"""The cold-start anchor's URLconf: only the bare view, so its start-up is Django's own floor."""

from django.urls import path

from bench.urls import bare

urlpatterns = [path("", bare, name="bench_bare")]
