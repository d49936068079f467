from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.safestring import SafeString

from core.markdown import render_markdown

if TYPE_CHECKING:
    from accounts.models import User


class PostQuerySet(models.QuerySet["Post"]):
    def owned_by(self, user: User) -> PostQuerySet:
        """The only posts a user may see or change from their dashboard: their own."""
        return self.filter(author=user)

    def with_author(self) -> PostQuerySet:
        # Lists show the author's name: one join instead of one query per row.
        return self.select_related("author")

    def search(self, query: str) -> PostQuerySet:
        query = query.strip()
        if not query:
            return self
        return self.filter(
            Q(title__icontains=query) | Q(body__icontains=query) | Q(author__email__icontains=query)
        )


class Post(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=5000, help_text="Markdown. Raw HTML is not allowed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["author", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    @cached_property
    def body_html(self) -> SafeString:
        return render_markdown(self.body)
