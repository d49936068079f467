import pytest

from core.rules import duration, plural


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "1 second"), (0.2, "1 second"), (1, "1 second"), (2, "2 seconds"), (59, "59 seconds"),
     (60, "1 minute"), (61, "2 minutes"), (900, "15 minutes"), (3599, "about 1 hour"),
     (7200, "about 2 hours"), (86400, "about 1 day"), (3 * 86400, "about 3 days"), (-30, "1 second")],
)  # fmt: skip
def test_a_wait_is_said_with_the_right_number_and_word(seconds: float, said: str) -> None:
    assert duration(seconds) == said


def test_plural_picks_the_word_for_the_count() -> None:
    assert plural(1, "post") == "1 post"
    assert plural(0, "post") == "0 posts"
    assert plural(2, "reply", "replies") == "2 replies"
