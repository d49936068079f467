"""The posts JSON API: the posts of the caller's team (a token's own team, else the session's current
one), for mobile and other clients.

The rules live in `posts.services`, shared with the dashboard's actions; this module only speaks HTTP:
201 on create, 400 with field errors (or `{"detail", "code"}` for a plan limit), 401 without
credentials, 404 for a post of another team (ids leak nothing), 403 for changing a teammate's post one
may not change (only the author edits; the author, admins and owners delete), 204 on delete.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.operations import operation
from core.types import AuthedRequest
from posts.models import Post
from posts.rules import BODY_HELP, BODY_MAX, BODY_MESSAGES, TITLE_MAX, TITLE_MESSAGES
from posts.services import post_create, post_delete, post_update
from teams.models import Membership
from teams.services import acting_membership


@extend_schema_serializer(component_name="Post")
class PostOutput(serializers.ModelSerializer[Post]):
    team = serializers.IntegerField(source="team_id", read_only=True, help_text="The team's id.")
    author = serializers.IntegerField(source="author_id", read_only=True, help_text="The author's user id.")
    body_html = serializers.SerializerMethodField(help_text="The body rendered from Markdown and sanitized.")

    class Meta:
        model = Post
        fields = ["id", "team", "author", "title", "body", "body_html", "created_at", "updated_at"]
        read_only_fields = fields

    def get_body_html(self, post: Post) -> str:
        return str(post.body_html)


@extend_schema_serializer(component_name="PostInput")
class PostInput(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=TITLE_MAX, error_messages=TITLE_MESSAGES)
    body = serializers.CharField(max_length=BODY_MAX, error_messages=BODY_MESSAGES, help_text=BODY_HELP)


class PostPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    description="The URL of the new post.",
    response=[201],
)


def _limit_response(error: DjangoValidationError) -> Response:
    return Response({"detail": error.messages[0], "code": error.code}, status=status.HTTP_400_BAD_REQUEST)


@operation(
    "List and create your team's posts",
    why="For clients outside our pages: bearer token, JSON, 201/400/401 status codes, paginated.",
)
class PostListCreateApi(APIView):
    # Read by drf-spectacular too: the list's schema is the paginated object it answers.
    pagination_class = PostPagination

    @extend_schema(responses={200: PostOutput(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        posts = Post.objects.in_team(acting_membership(request).team)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(posts, request, view=self)
        return paginator.get_paginated_response(PostOutput(page, many=True).data)

    @extend_schema(request=PostInput, responses={201: PostOutput}, parameters=[LOCATION_HEADER])
    def post(self, request: AuthedRequest) -> Response:
        data = PostInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            post = post_create(membership=acting_membership(request), **data.validated_data)
        except DjangoValidationError as error:
            return _limit_response(error)
        location = request.build_absolute_uri(reverse("posts_api:post_detail", args=[post.pk]))
        return Response(PostOutput(post).data, status=status.HTTP_201_CREATED, headers={"Location": location})


@operation(
    "Read, change or delete one of your team's posts",
    why="For clients outside our pages: 404 for another team's post, 403 for a teammate's you may not "
    "change, 204 on delete.",
)
class PostDetailApi(APIView):
    def _post(self, request: AuthedRequest, pk: int) -> tuple[Membership, Post]:
        membership = acting_membership(request)
        return membership, get_object_or_404(Post.objects.in_team(membership.team), pk=pk)

    @extend_schema(responses={200: PostOutput})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        _, post = self._post(request, pk)
        return Response(PostOutput(post).data)

    @extend_schema(request=PostInput, responses={200: PostOutput})
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        membership, post = self._post(request, pk)
        data = PostInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {"title": post.title, "body": post.body, **data.validated_data}
        post = post_update(post=post, membership=membership, **changes)
        return Response(PostOutput(post).data)

    @extend_schema(responses={204: None})
    def delete(self, request: AuthedRequest, pk: int) -> Response:
        membership, post = self._post(request, pk)
        post_delete(post=post, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)
