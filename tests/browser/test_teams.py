import os
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from teams.models import Invitation
from tests.browser.conftest import log_in

SHOTS = os.environ.get("TEAMS_SCREENSHOTS")  # a folder: save the pages at 1366/390 px, light and dark


def _invite(page: Page, base: str, email: str) -> str:
    page.goto(f"{base}/teams/")
    page.fill("#id_name", "Acme")
    page.click("#team-create-form button[type=submit]")
    page.wait_for_url(f"{base}/team/")
    page.fill("#invite-email", email)
    page.click("#team-invitations button[type=submit]")
    page.locator(f"#team-invitations td:has-text('{email}')").wait_for()
    body = mail.outbox[-1].body
    return "/invitations/" + body.split("/invitations/", 1)[1].split("/", 1)[0] + "/"


def _shoot(browser: Browser, base: str, paths: dict[str, str], email: str | None) -> None:
    if not SHOTS:
        return
    for width in (1366, 390):
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)  # type: ignore[arg-type]
            page = context.new_page()
            if email:
                log_in(page, base, email)
            for name, path in paths.items():
                page.goto(base + path)
                page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}-{scheme}.png"), full_page=True)
            context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_invite_and_accept_as_a_new_user_then_the_link_is_used(
    browser: Browser, live_server: object, user: User, javascript: bool
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    owner = browser.new_context(java_script_enabled=javascript).new_page()
    log_in(owner, base, user.email)
    link = _invite(owner, base, "carol@example.com")
    if javascript:
        _shoot(browser, base, {"teams": "/teams/", "team": "/team/"}, user.email)
        _shoot(browser, base, {"invitation": link}, None)

    invitee = browser.new_context(java_script_enabled=javascript).new_page()
    invitee.goto(base + link)
    assert "Join Acme" in invitee.content()
    invitee.fill("#id_display_name", "Carol")
    invitee.fill("#id_password", "a-long-enough-password-1")
    invitee.click("form.form button[type=submit]")
    invitee.wait_for_url(f"{base}/team/")
    assert "carol@example.com" in invitee.content()
    assert Invitation.objects.get().accepted_at is not None

    invitee.goto(base + link)  # used: refused with a page that says so
    assert "already used" in invitee.content()


def test_accept_as_an_existing_user_and_an_expired_link_is_refused(
    browser: Browser, live_server: object, user: User, other_user: User
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    owner = browser.new_context().new_page()
    log_in(owner, base, user.email)
    link = _invite(owner, base, other_user.email)

    invitee = browser.new_context(java_script_enabled=False).new_page()
    log_in(invitee, base, other_user.email)
    invitee.goto(base + link)
    invitee.click("text=Accept and join Acme")
    invitee.wait_for_url(f"{base}/team/")
    assert "Acme" in invitee.content()

    from django.utils import timezone

    link = _invite_again(owner, base)
    Invitation.objects.filter(email="dan@example.com").update(expires_at=timezone.now())
    response = invitee.goto(base + link)
    assert response is not None
    assert response.status == 410
    assert "expired" in invitee.content()


def _invite_again(page: Page, base: str) -> str:
    page.goto(f"{base}/team/")
    page.fill("#invite-email", "dan@example.com")
    page.click("#team-invitations button[type=submit]")
    page.locator("#team-invitations td:has-text('dan@example.com')").wait_for()
    body = mail.outbox[-1].body
    return "/invitations/" + body.split("/invitations/", 1)[1].split("/", 1)[0] + "/"


def _accept_as_new(browser: Browser, base: str, link: str, name: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(base + link)
    page.fill("#id_display_name", name)
    page.fill("#id_password", "a-long-enough-password-1")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/team/")
    return page


@pytest.mark.django_db(transaction=True)
def test_the_newcomers_story_a_team_shares_its_posts_and_pro_follows_the_members(
    browser: Browser, live_server: object, user: User, settings: Any
) -> None:
    """The teams issue's "done when", as a newcomer does it: create a team, invite an address, accept in
    another browser, both see the team's post; the owner upgrades in simulation mode and the seats
    follow a third member."""
    settings.BILLING_SIMULATION = True
    base = live_server.url  # type: ignore[attr-defined]
    owner = browser.new_context().new_page()
    log_in(owner, base, user.email)
    carol = _accept_as_new(browser, base, _invite(owner, base, "carol@example.com"), "Carol")

    owner.goto(f"{base}/dashboard/posts/")
    owner.fill("#post-create-form [name=title]", "Our launch plan")
    owner.fill("#post-create-form [name=body]", "Ship on Monday.")
    owner.click("#post-create-form button[type=submit]")
    expect(owner.locator("#posts-region")).to_contain_text("Our launch plan")
    carol.goto(f"{base}/dashboard/posts/")
    expect(carol.locator("main")).to_contain_text("Our launch plan")

    owner.goto(f"{base}/billing/")
    owner.click("text=Upgrade to Pro")
    expect(owner.locator("main")).to_contain_text("2 seats")
    expect(owner.locator("main button[type=submit]")).to_have_text("Pay $24 and subscribe")  # every seat
    owner.click("text=Pay")
    owner.wait_for_url(f"{base}/billing/?checkout=success")
    expect(owner.locator("[data-seats]")).to_have_text("2")

    owner.goto(f"{base}/team/")
    owner.fill("#invite-email", "dave@example.com")
    owner.click("#team-invitations button[type=submit]")
    owner.locator("#team-invitations td:has-text('dave@example.com')").wait_for()
    body = mail.outbox[-1].body
    _accept_as_new(
        browser, base, "/invitations/" + body.split("/invitations/", 1)[1].split("/", 1)[0] + "/", "Dave"
    )

    owner.goto(f"{base}/billing/")
    expect(owner.locator("[data-seats]")).to_have_text("3")
    carol.goto(f"{base}/billing/")
    expect(carol.locator("main")).to_contain_text("Only the team's owners can change its plan")
