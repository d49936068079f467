from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"

    def ready(self) -> None:
        from core.entitlements import Limit, limit_register
        from core.registry import Link, export_add, fragment_add, menu_add
        from posts.exports import posts_export
        from posts.models import Post

        limit_register(
            Limit(
                key="max_posts",
                usage="posts",
                counter=lambda team: Post.objects.in_team(team).count(),
                default=None,  # unlimited where no plan says otherwise
                describe="Up to {} posts",
                describe_unlimited="Unlimited posts",
                order=20,
            )
        )
        menu_add("dashboard", Link("Posts", "posts:post_list", current="/dashboard/posts/", order=10))
        menu_add("staff_tabs", Link("Posts", "posts:staff_post_list", current="/staff/posts/", order=10))
        fragment_add("dashboard_cards", "posts/_dashboard_card.html", order=30)
        fragment_add("get_started", "posts/_get_started.html", order=20)
        export_add("posts", posts_export)
