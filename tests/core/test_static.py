from pathlib import Path

from django.conf import settings


def test_stylesheet_blocks_are_balanced() -> None:
    # A lost brace silently swallows every rule after it (a merge can do that); catch it here.
    depth = 0
    css = (Path(settings.BASE_DIR) / "static/css/app.css").read_text()
    for number, line in enumerate(css.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"unbalanced '}}' at line {number}"
    assert depth == 0
