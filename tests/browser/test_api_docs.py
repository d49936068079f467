"""/api/docs/ in a real Chromium under our CSP: Swagger UI renders from our own static files, and
"Try it out" calls the API with a bearer token."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.tokens import api_token_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_docs_render_and_try_it_out_works_with_a_bearer_token(
    js_page: Page, live_server: object, user: User
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    _, raw = api_token_create(user=user, name="Docs")
    page = js_page
    violations: list[str] = []
    outside: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("request", lambda request: None if request.url.startswith(base) else outside.append(request.url))

    page.goto(f"{base}/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Twofold API")
    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").first.fill(raw)
    page.locator(".auth-btn-wrapper button.authorize").first.click()
    page.locator(".auth-btn-wrapper button.btn-done").first.click()
    me = page.locator(".opblock-get").filter(has=page.locator('[data-path="/api/v1/me/"]')).first
    me.locator(".opblock-summary").click()
    me.locator("button.try-out__btn").click()
    me.locator("button.execute").click()

    status = me.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text(re.compile(r"^\s*200"))
    expect(me.locator(".live-responses-table .response-col_description").last).to_contain_text(user.email)
    assert violations == []
    assert outside == []
