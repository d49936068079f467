from django.urls import path

from posts import views

app_name = "posts"

urlpatterns = [
    path("dashboard/posts/", views.post_list, name="post_list"),
    path("dashboard/posts/new/", views.post_create, name="post_create"),
    path("dashboard/posts/<id:pk>/", views.post_detail, name="post_detail"),
    path("dashboard/posts/<id:pk>/edit/", views.post_edit, name="post_edit"),
    path("dashboard/posts/<id:pk>/delete/", views.post_delete, name="post_delete"),
    path("staff/posts/", views.staff_post_list, name="staff_post_list"),
    path("staff/posts/<id:pk>/delete/", views.staff_post_delete, name="staff_post_delete"),
]
