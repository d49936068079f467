from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.safestring import SafeString

from core.markdown import render_markdown
from posts.rules import BODY_MAX, TITLE_MAX

if TYPE_CHECKING:
    from teams.models import Team


class PostQuerySet(models.QuerySet["Post"]):
    def in_team(self, team: Team) -> PostQuerySet:
        """The only posts a member may see from their dashboard and the API: their team's. Whether they
        may change one is `posts.services`' rule (the author edits; admins and owners also delete)."""
        return self.filter(team=team)

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
    # The team the post was written in; its members see it. Goes with the team.
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=TITLE_MAX)
    # The pages and the API say what happens to HTML (posts.rules.BODY_HELP); changing this help text
    # would be a migration for the admin's sake alone.
    body = models.TextField(max_length=BODY_MAX, help_text="Markdown. Raw HTML is not allowed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["author", "-created_at"]),
            models.Index(fields=["team", "-created_at"], name="posts_post_team_created"),
        ]

    def __str__(self) -> str:
        return self.title

    @cached_property
    def body_html(self) -> SafeString:
        return render_markdown(self.body)
