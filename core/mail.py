"""Email as people read it: every message the app sends goes out through `ReadableEmail`."""

import email.policy
from typing import Any

from django.core.mail import EmailMultiAlternatives


class ReadableEmail(EmailMultiAlternatives):
    """Plain text kept as written: lines up to RFC 5322's 998 characters go out as 7bit/8bit, not
    quoted-printable, whose soft line breaks (`=` at column 76) cut a link in two wherever the message
    is read raw (the console mailer in development, a terminal, a log). Reset, confirmation and
    invitation links and Stripe's invoice links are all longer than 76 characters."""

    def message(self, *, policy: Any = email.policy.default) -> Any:
        return super().message(policy=(policy or email.policy.default).clone(max_line_length=998))


def send_readable(*, subject: str, body: str, to: list[str], from_email: str | None = None) -> int:
    """`django.core.mail.send_mail`, sent as a `ReadableEmail`."""
    return ReadableEmail(subject, body, from_email, to).send()
