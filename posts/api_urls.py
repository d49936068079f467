from django.urls import path

from posts import api

app_name = "posts_api"

urlpatterns = [
    path("v1/posts/", api.PostListCreateApi.as_view(), name="post_list"),
    path("v1/posts/<id:pk>/", api.PostDetailApi.as_view(), name="post_detail"),
]
