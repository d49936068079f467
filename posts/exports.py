"""The posts section of a person's data export (`core.registry.export_add`, registered in apps.py)."""

from typing import Any

from posts.models import Post


def posts_export(user: Any) -> list[dict[str, Any]]:
    """Every post the person wrote, as written (Markdown), oldest first."""
    return [
        {
            "id": post.pk,
            "title": post.title,
            "body": post.body,
            "created_at": post.created_at.isoformat(),
            "updated_at": post.updated_at.isoformat(),
        }
        for post in Post.objects.filter(author=user).order_by("created_at", "id")
    ]
