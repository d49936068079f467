from accounts.models import User
from posts.models import Post
from teams.services import personal_team_ensure

DEMO_POSTS = [
    (
        "Hello, Twofold",
        "This post was written from **the dashboard**. Editing it swaps the row in place with htmx,"
        " and the same form works with JavaScript turned off.",
    ),
    (
        "Actions or API endpoints?",
        "- An *action* is called from our own pages\n- An *API endpoint* speaks HTTP on purpose\n\n"
        "See [the guide](/guide/) for every operation.",
    ),
    ("Markdown, safely", "`<script>` tags and other raw HTML never survive: try it in a post of your own."),
]


def seed() -> None:
    """A few posts for the demo user, created once."""
    author = User.objects.filter(email="demo@example.com").first()
    if author is None:
        return
    team = personal_team_ensure(user=author)
    for title, body in DEMO_POSTS:
        Post.objects.get_or_create(author=author, title=title, defaults={"body": body, "team": team})
