"""The chat page in a real Chromium, against the production ASGI app (live_server is WSGI and would
deliver the stream in one piece)."""

import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from bench.fake_anthropic import FakeAnthropic, Script
from chat.models import Message
from tests.browser.conftest import log_in
from tests.chat import conftest as chat
from tests.chat.conftest import AsgiServer

pytestmark = pytest.mark.django_db(transaction=True)

# The chat tests' servers, shared with this module.
asgi_server = chat.asgi_server
_fake_anthropic_server = chat._fake_anthropic_server
fake_anthropic = chat.fake_anthropic
demo_model = chat.demo_model


def test_the_answer_grows_token_by_token_can_be_stopped_and_is_kept(
    js_page: Page, asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, user: User
) -> None:
    fake_anthropic.script = Script(tokens=200, token_interval=0.04)
    page = js_page
    log_in(page, asgi_server.url, user.email)
    page.goto(f"{asgi_server.url}/chat/")

    page.fill("textarea[name=message]", "Tell me about streaming")
    page.keyboard.press("Enter")

    answer = page.locator(".msg-assistant .msg-body.streaming")
    # The first stream imports the Anthropic SDK: seconds, or tens of seconds on a busy machine.
    expect(answer).to_contain_text("Streaming keeps", timeout=90_000)
    first = len(answer.inner_text())
    time.sleep(0.5)
    assert len(answer.inner_text()) > first  # it grows while we watch
    page.click("[data-stop]")
    expect(page.locator(".msg-assistant .badge")).to_have_text("Stopped")
    expect(page.locator("[data-stop]")).to_be_hidden()
    assert page.url.rstrip("/").split("/")[-1].isdigit()  # the address is now the conversation's

    # The server keeps the partial answer as the stream closes; reload until the page shows it.
    deadline = time.monotonic() + 3
    page.reload()
    while not page.locator(".msg-assistant .prose").count():
        assert time.monotonic() < deadline, "the partial answer was not kept"
        time.sleep(0.1)
        page.reload()
    assert fake_anthropic.records[0].closed_early_at is not None

    expect(page.locator(".msg-user .msg-body")).to_have_text("Tell me about streaming")
    expect(page.locator(".msg-assistant .prose")).to_contain_text("Streaming keeps people reading")
    expect(page.locator(".msg-assistant .badge")).to_have_text("Stopped")
    expect(page.locator(".chat-list a[aria-current=page]")).to_have_text("Tell me about streaming")
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert reply.status == Message.Status.INCOMPLETE


def test_a_finished_answer_is_shown_as_rendered_markdown_and_counted(
    js_page: Page, asgi_server: AsgiServer, demo_model: None, user: User
) -> None:
    page = js_page
    log_in(page, asgi_server.url, user.email)
    page.goto(f"{asgi_server.url}/chat/")

    page.fill("textarea[name=message]", "<img src=x onerror=alert(1)>")
    page.click("[data-send]")

    expect(page.locator(".msg-assistant .prose strong").first).to_have_text("Demo mode")
    expect(page.locator("#chat-usage")).to_contain_text("1 of 20 messages today")
    expect(page.locator(".msg-user .msg-body")).to_have_text("<img src=x onerror=alert(1)>")
    assert page.locator(".chat-thread img").count() == 0


def test_without_javascript_the_form_posts_and_the_page_comes_back_with_the_answer(
    nojs_page: Page, asgi_server: AsgiServer, demo_model: None, user: User, settings: Any
) -> None:
    page = nojs_page
    log_in(page, asgi_server.url, user.email)
    page.goto(f"{asgi_server.url}/chat/")
    # innerText is what is drawn: a browser without JavaScript draws the <noscript> text (Playwright's own
    # text matchers skip <noscript> whatever the browser does).
    drawn = page.locator(".page-header").inner_text()
    assert "Without JavaScript, the page comes back with the whole answer" in drawn

    page.fill("textarea[name=message]", "Hello from a browser without JavaScript")
    with page.expect_navigation():
        page.click("[data-send]")

    expect(page.locator(".msg-user .msg-body")).to_have_text("Hello from a browser without JavaScript")
    expect(page.locator(".msg-assistant .prose")).to_contain_text("offline demo model")
    assert page.url.rstrip("/").split("/")[-1].isdigit()


# Records, from the first byte of the page, anything in the thread the server's sanitiser would not let
# through (a tag outside its allow-list, an event handler, a javascript: URL) and every raw Markdown
# marker visible in an answer, at any moment of the stream, not only at the end.
WATCH_THE_THREAD = """
window.__unsafe = []; window.__raw = []; window.__rendered = [];
const ALLOWED = new Set(("article div span p br strong em code pre blockquote ul ol li a h1 h2 h3 h4 h5 "
  + "h6 hr table thead tbody tr th td del").toUpperCase().split(" "));
const check = (node) => {
  if (node.nodeType !== 1 || !node.closest("[data-thread]")) return;
  for (const el of [node, ...node.querySelectorAll("*")]) {
    if (!ALLOWED.has(el.tagName)) window.__unsafe.push(el.outerHTML);
    for (const attr of el.attributes) {
      const bad = attr.name.startsWith("on") || /^\\s*(javascript|data|vbscript):/i.test(attr.value);
      if (bad) window.__unsafe.push(el.outerHTML);
    }
  }
};
new MutationObserver((records) => {
  for (const record of records) {
    record.addedNodes.forEach(check);
    if (record.type === "attributes") check(record.target);
    const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
    const body = node?.closest(".msg-assistant .msg-body");
    if (body) {
      if (/\\*\\*|`/.test(body.textContent)) window.__raw.push(body.textContent);
      const rendered = body.classList.contains("streaming") && body.querySelector("strong");
      if (rendered) window.__rendered.push(body.innerHTML);
    }
  }
}).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
"""


def test_the_demo_answer_streams_as_rendered_markdown_and_the_sidebar_follows(
    js_page: Page, asgi_server: AsgiServer, demo_model: None, user: User, settings: Any
) -> None:
    settings.CHAT_DEMO_DELAY = 0.03  # word by word, as `make run` shows it
    page = js_page
    page.add_init_script(WATCH_THE_THREAD)
    log_in(page, asgi_server.url, user.email)
    page.goto(f"{asgi_server.url}/chat/")
    expect(page.locator("#conversation-list")).to_contain_text("No conversations yet.")
    expect(page.locator("#chat-usage")).to_contain_text("0 of 20 messages today")

    page.fill("textarea[name=message]", "What is this?")
    page.click("[data-send]")

    streaming = page.locator(".msg-assistant .msg-body.streaming")
    expect(streaming.locator("strong").first).to_have_text("Demo mode")
    # Stored and counted as the stream starts: the sidebar says so while the answer is still coming.
    expect(page.locator("#conversation-list a")).to_have_text(["What is this?"])
    expect(page.locator("#chat-usage")).to_contain_text("1 of 20 messages today")
    assert streaming.count() == 1, "the answer finished before the sidebar was checked"
    expect(streaming.locator("code").first).to_have_text("ANTHROPIC_API_KEY")

    expect(page.locator(".msg-assistant .prose pre code")).to_contain_text("curl -N", timeout=20_000)
    expect(streaming).to_have_count(0)
    expect(page.locator(".msg-assistant .prose em").first).to_have_text("What is this?")
    expect(page.locator("#conversation-list a[aria-current=page]")).to_have_text("What is this?")
    assert page.evaluate("window.__rendered.length") > 0
    assert page.evaluate("window.__raw") == []
    assert page.evaluate("window.__unsafe") == []


HOSTILE = (
    "Look ",
    "<img src=x onerror=alert(1)> ",
    "and [click](javascript:alert(1)) or [up](JaVaScRiPt:alert(2)) ",
    "or [data](data:text/html;base64,PHNjcmlwdD4=) <script>alert(3)</script> ",
    "<javascript:alert(4)> [ctl](\x01javascript:alert(5)) ![x](javascript:alert(6)) ",
    '<a href="javascript:alert(7)" onclick="alert(8)">raw</a>\n\n',
    "**bo",
    "ld** and [safe](https://example.com/ok",
    ' "Title") <svg onload=alert(9)>',
)


def test_hostile_model_output_never_reaches_the_dom_while_streaming_or_after(
    js_page: Page, asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, user: User
) -> None:
    fake_anthropic.script = Script(texts=HOSTILE, token_interval=0.05)
    page = js_page
    page.add_init_script(WATCH_THE_THREAD)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, asgi_server.url, user.email)
    page.goto(f"{asgi_server.url}/chat/")

    page.fill("textarea[name=message]", "Say something nasty")
    page.keyboard.press("Enter")

    answer = page.locator(".msg-assistant .msg-body")
    expect(answer.locator("strong")).to_have_text("bold")
    expect(page.locator(".msg-assistant .msg-body.streaming")).to_have_count(0)
    expect(answer.locator("a")).to_have_count(1)
    link = answer.locator("a")
    expect(link).to_have_text("safe")
    expect(link).to_have_attribute("href", "https://example.com/ok")
    expect(link).to_have_attribute("title", "Title")
    expect(link).to_have_attribute("rel", "nofollow noopener noreferrer")
    expect(answer).to_contain_text("<img src=x onerror=alert(1)>")  # shown as text, as the server does
    expect(answer).to_contain_text("[click](javascript:alert(1))")
    assert page.locator(".chat-thread img, .chat-thread script, .chat-thread svg").count() == 0
    assert page.evaluate("window.__unsafe") == []
    assert dialogs == []


# Markdown as the model writes it; the browser's rendering must be the server's, element for element.
SAMPLES = [
    "Plain text, two\nlines.",
    "**Bold**, *italic*, _also italic_, snake_case_name, `code <b>` and \\*escaped\\*.",
    'A [link](https://example.com/a?b=1 "Its title"), a [relative one](/pricing/) and <https://x.test/y>.',
    "[nope](javascript:alert(1)) [ftp](ftp://files.test/x) ![image](https://x.test/i.png)",
    "# Title\n\nSome text.\n\n## Part *two*\n\nMore.\n\nSetext\n---",
    "- one\n- **two**\n- three `x`\n\n1. first\n2. second\n\n3. third",
    "5. five\n6. six",
    "- loose\n\n- list",
    "- outer\n  - inner\n  - inner two\n- outer two",
    "> quoted **text**\n> more\n\n---\n\nafter",
    "```python\ndef f(x):\n    return x * 2  # <script>\n```\n\nand ~~~\n~~~\ntilde\n~~~",
    "*a **b** c* and **a *b* c**",
    "Text\n* item right after",
    "<img src=x onerror=alert(1)> <b>bold?</b> &copy; &amp; &#169; &#x41;",
    "Ends with a [dangling](http://x",
]


def test_the_browser_renders_markdown_as_the_server_does(
    js_page: Page, asgi_server: AsgiServer, user: User
) -> None:
    from core.markdown import render_markdown

    page = js_page
    log_in(page, asgi_server.url, user.email)
    page.goto(f"{asgi_server.url}/chat/")
    url = page.locator("#chat-form").get_attribute("data-markdown-url")

    pairs = page.evaluate(
        """async ([url, samples]) => {
          const { renderMarkdown } = await import(url);
          // markdown-it's line breaks between tags are not content.
          const normal = (root) => {
            const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            const texts = [];
            while (walk.nextNode()) texts.push(walk.currentNode);
            for (const text of texts) {
              if (text.parentElement.closest("pre")) continue;
              if (text.previousSibling?.nodeName === "BR") text.data = text.data.replace(/^\\n/, "");
              if (text.nextSibling?.nodeType === 1) text.data = text.data.replace(/\\n$/, "");
              if (/^\\n*$/.test(text.data)) text.remove();
            }
            return root.innerHTML;
          };
          return samples.map(([text, server]) => {
            const mine = document.createElement("div");
            renderMarkdown(mine, text);
            const theirs = document.createElement("div");
            theirs.innerHTML = server;
            return [normal(mine), normal(theirs)];
          });
        }""",
        [url, [[text, str(render_markdown(text))] for text in SAMPLES]],
    )

    differ = [(text, browser, server) for text, (browser, server) in zip(SAMPLES, pairs, strict=True)]
    assert [case for case in differ if case[1] != case[2]] == []
