"""Writing, changing and deleting posts: the business rules, shared by the actions and the JSON API.

Contract for callers (views and DRF endpoints alike):
- A post belongs to the team it was written in, and its members see it. Look posts up through
  `Post.objects.in_team(membership.team)` (the request's team: `teams.services.request_membership`), so
  another team's post is simply not found (a 404, never a 403: ids leak nothing). The services check the
  team again and raise `PermissionDenied` if handed another team's post, as a guard against a caller that
  forgot.
- Who may change a post: its author edits it; its author deletes it, and so may the team's admins and
  owners (`Permission.POSTS_DELETE_ANY` in teams.roles). Anything else is `PermissionDenied` (a 403: the
  post is visible to the member, so nothing leaks by saying no).
- A rule the user can fix (the plan's post limit) raises `django.core.exceptions.ValidationError`;
  a form shows it as a form error, an API answers 400 with it.
- Each service returns what it changed and runs in one transaction.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import User
from core.audit import audit_record
from core.entitlements import limit_for
from posts.models import Post
from teams.models import Membership, Team
from teams.roles import Permission, can


def _ensure_team(*, post: Post, membership: Membership) -> None:
    if post.team_id != membership.team_id:
        raise PermissionDenied("This post belongs to another team.")


def may_edit(*, post: Post, membership: Membership) -> bool:
    return post.team_id == membership.team_id and post.author_id == membership.user_id


def may_delete(*, post: Post, membership: Membership) -> bool:
    return post.team_id == membership.team_id and (
        post.author_id == membership.user_id or can(membership.role, Permission.POSTS_DELETE_ANY)
    )


@transaction.atomic
def post_create(*, membership: Membership, title: str, body: str) -> Post:
    """Create a post by the member in their team, within the number of posts the team's plan allows."""
    team = membership.team
    limit = limit_for(team, "max_posts")
    if limit is not None:
        # Lock the team's row so two concurrent creates (by two members, too) cannot both pass the count.
        Team.objects.select_for_update().filter(pk=team.pk).exists()
        if Post.objects.in_team(team).count() >= limit:
            raise ValidationError(
                f"Your team has reached its plan's limit of {limit} posts. "
                "Delete one, or upgrade to Pro for unlimited posts.",
                code="post_limit",
            )
    return Post.objects.create(author_id=membership.user_id, team=team, title=title, body=body)


@transaction.atomic
def post_update(*, post: Post, membership: Membership, title: str, body: str) -> Post:
    """Change the title and body of the member's own post."""
    _ensure_team(post=post, membership=membership)
    if not may_edit(post=post, membership=membership):
        raise PermissionDenied("Only the author may edit this post.")
    post.title, post.body = title, body
    post.save(update_fields=["title", "body", "updated_at"])
    post.__dict__.pop("body_html", None)  # the cached rendering belongs to the old body
    return post


@transaction.atomic
def post_delete(*, post: Post, membership: Membership) -> None:
    """Delete a post of the member's team: their own, or any one for an admin or owner."""
    _ensure_team(post=post, membership=membership)
    if not may_delete(post=post, membership=membership):
        raise PermissionDenied("Only the author, or an admin or owner of the team, may delete this post.")
    post.delete()


@transaction.atomic
def post_moderate_delete(*, actor: User, post_id: int) -> Post | None:
    """A staff member deletes any post, recorded in the audit log in the same transaction.

    Returns the deleted post, or None when it was already gone: deleting twice (two staff members,
    a double click) is not an error, there is just nothing left to do or to record.
    """
    if not actor.is_staff:
        raise PermissionDenied("Only staff may moderate posts.")
    post = Post.objects.select_for_update().with_author().filter(pk=post_id).first()
    if post is None:
        return None
    audit_record(
        actor=actor,
        action="post.delete",
        target=post,
        detail={"author": post.author.email, "title": post.title},
    )
    post.delete()
    return post
