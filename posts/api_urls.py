from django.urls import path

from posts import api

urlpatterns = [
    path("posts/", api.PostListCreateApi.as_view(), name="post_list"),
    path("posts/<int:pk>/", api.PostDetailApi.as_view(), name="post_detail"),
]
