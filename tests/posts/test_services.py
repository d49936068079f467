from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from core.models import AuditEntry
from posts.models import Post
from posts.services import post_create, post_delete, post_moderate_delete, post_update
from tests.conftest import personal_membership, personal_team

pytestmark = pytest.mark.django_db


def test_post_create_returns_the_saved_post(user: User) -> None:
    post = post_create(membership=personal_membership(user), title="Hi", body="**there**")

    assert Post.objects.get() == post
    assert post.author == user
    assert post.body_html == "<p><strong>there</strong></p>\n"


def test_post_create_refuses_beyond_the_plan_limit(user: User, plan_limits: Callable[..., None]) -> None:
    limit = 3
    plan_limits(max_posts=limit)
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"p{i}", body="b") for i in range(limit)
    )

    with pytest.raises(ValidationError) as error:
        post_create(membership=personal_membership(user), title="one too many", body="b")

    assert error.value.code == "post_limit"
    assert Post.objects.count() == limit


def test_the_limit_counts_only_the_authors_own_posts(
    user: User, other_user: User, plan_limits: Callable[..., None]
) -> None:
    limit = 3
    plan_limits(max_posts=limit)
    Post.objects.bulk_create(
        Post(author=other_user, team=personal_team(other_user), title=f"p{i}", body="b") for i in range(limit)
    )

    assert post_create(membership=personal_membership(user), title="mine", body="b").pk


def test_post_update_changes_title_and_body_and_the_rendering(user: User) -> None:
    post = post_create(membership=personal_membership(user), title="Old", body="old")
    assert "old" in post.body_html

    updated = post_update(post=post, membership=personal_membership(user), title="New", body="*new*")

    assert updated.body_html == "<p><em>new</em></p>\n"
    post.refresh_from_db()
    assert (post.title, post.body) == ("New", "*new*")


def test_only_the_author_may_update_or_delete(user: User, other_user: User) -> None:
    post = post_create(membership=personal_membership(user), title="Mine", body="b")

    with pytest.raises(PermissionDenied):
        post_update(post=post, membership=personal_membership(other_user), title="Stolen", body="b")
    with pytest.raises(PermissionDenied):
        post_delete(post=post, membership=personal_membership(other_user))

    post.refresh_from_db()
    assert post.title == "Mine"


def test_moderation_deletes_and_audits_in_one_go(user: User, staff_user: User) -> None:
    post = post_create(membership=personal_membership(user), title="Spam", body="buy now")

    deleted = post_moderate_delete(actor=staff_user, post_id=post.pk)

    assert deleted is not None
    assert deleted.title == "Spam"
    assert not Post.objects.exists()
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_type, entry.target_id) == (
        staff_user,
        "post.delete",
        "posts.post",
        str(post.pk),
    )
    assert entry.detail == {"author": "ann@example.com", "title": "Spam"}


def test_moderating_a_post_already_gone_is_not_an_error_and_records_nothing(staff_user: User) -> None:
    assert post_moderate_delete(actor=staff_user, post_id=12345) is None
    assert not AuditEntry.objects.exists()


def test_moderation_is_for_staff_only(user: User, other_user: User) -> None:
    post = post_create(membership=personal_membership(user), title="Keep", body="b")

    with pytest.raises(PermissionDenied):
        post_moderate_delete(actor=other_user, post_id=post.pk)

    assert Post.objects.filter(pk=post.pk).exists()


def test_search_matches_title_body_and_author_email(user: User, other_user: User) -> None:
    a = post_create(membership=personal_membership(user), title="Django tips", body="b")
    b = post_create(membership=personal_membership(user), title="x", body="Try DJANGO")
    c = post_create(membership=personal_membership(other_user), title="y", body="z")

    assert set(Post.objects.search("django")) == {a, b}
    assert set(Post.objects.search("bob@")) == {c}
    assert set(Post.objects.search("  ")) == {a, b, c}
