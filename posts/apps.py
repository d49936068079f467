from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"

    def ready(self) -> None:
        from billing.usage import usage_register
        from posts.models import Post

        # /api/v1/subscription/ reports it next to the plan's max_posts.
        usage_register("posts", lambda user: Post.objects.owned_by(user).count())
