"""Rows the benchmarks need, written into a bench database by Django code (run through
`manage.py shell -c` for the servers' database, or in-process by `bench.queries`)."""

from accounts.models import User
from accounts.tokens import api_token_create
from posts.models import Post
from teams.services import personal_team_ensure

API_EMAIL = "bench-api@example.com"
API_POSTS = 20  # one full page of GET /api/v1/posts/


def posts_create(*, author: User, count: int) -> None:
    """`count` posts with a little Markdown each (rendered to HTML in every list response), in the
    author's personal team."""
    team = personal_team_ensure(user=author)
    start = Post.objects.filter(author=author).count()
    Post.objects.bulk_create(
        Post(
            author=author,
            team=team,
            title=f"Benchmark post {n}",
            body=f"Post **{n}** of the benchmark, with a [link](https://example.com/{n}) and `code`.",
        )
        for n in range(start, start + count)
    )


def api_user_setup() -> str:
    """The API benchmark's user with exactly `API_POSTS` posts and a new bearer token; the token."""
    user, _ = User.objects.get_or_create(email=API_EMAIL, defaults={"display_name": "Bench API"})
    Post.objects.filter(author=user).delete()
    posts_create(author=user, count=API_POSTS)
    _, secret = api_token_create(user=user, name="make bench")
    return secret
