"""The rules of a post's fields, read by the model, the dashboard's form and the API's serializer, so
each one reads the same on the page and in the API."""

from core.rules import text_messages

TITLE_MAX = 120
BODY_MAX = 5000

TITLE_MESSAGES = text_messages(
    empty="Give your post a title.", too_long=f"Keep the title to {TITLE_MAX} characters or fewer."
)
BODY_MESSAGES = text_messages(
    empty="Write something in the body.", too_long=f"Keep the body to {BODY_MAX:,} characters or fewer."
)
# What core.markdown does: markdown-it with HTML off shows tags as typed; nh3 then cleans the result.
BODY_HELP = "Markdown: bold, italics, lists, links and code. HTML tags are shown as typed, never run."
