from django.contrib import admin

from posts.models import Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    list_display = ["title", "author", "created_at"]
    search_fields = ["title", "author__email"]
    list_select_related = ["author"]
    raw_id_fields = ["author"]
