"""Writing, changing and deleting posts: the business rules, shared by the actions and the JSON API.

Contract for callers (views and DRF endpoints alike):
- Look posts up through `Post.objects.owned_by(user)`, so another user's post is simply not found
  (a 404, never a 403: ids leak nothing). The services check ownership again and raise
  `PermissionDenied` if handed someone else's post, as a guard against a caller that forgot.
- A rule the user can fix (the plan's post limit) raises `django.core.exceptions.ValidationError`;
  a form shows it as a form error, an API answers 400 with it.
- Each service returns what it changed and runs in one transaction.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import User
from billing.plans import entitlements_for
from posts.models import Post
from staff.audit import audit_record


def _ensure_author(*, post: Post, actor: User) -> None:
    if post.author_id != actor.pk:
        raise PermissionDenied("Only the author may change this post.")


@transaction.atomic
def post_create(*, author: User, title: str, body: str) -> Post:
    """Create a post for `author`, within the number of posts their plan allows."""
    limit = entitlements_for(author).max_posts
    if limit is not None:
        # Lock the author's row so two concurrent creates cannot both pass the count below.
        User.objects.select_for_update().filter(pk=author.pk).exists()
        if Post.objects.owned_by(author).count() >= limit:
            raise ValidationError(
                f"You have reached your plan's limit of {limit} posts. "
                "Delete one, or upgrade to Pro for unlimited posts.",
                code="post_limit",
            )
    return Post.objects.create(author=author, title=title, body=body)


@transaction.atomic
def post_update(*, post: Post, actor: User, title: str, body: str) -> Post:
    """Change the title and body of the actor's own post."""
    _ensure_author(post=post, actor=actor)
    post.title, post.body = title, body
    post.save(update_fields=["title", "body", "updated_at"])
    post.__dict__.pop("body_html", None)  # the cached rendering belongs to the old body
    return post


@transaction.atomic
def post_delete(*, post: Post, actor: User) -> None:
    """Delete the actor's own post."""
    _ensure_author(post=post, actor=actor)
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
