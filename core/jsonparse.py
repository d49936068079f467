"""Parse a JSON request body that a stranger sent, without letting its shape crash the request.

`json.loads` recurses once per level of nesting: `"[" * 100000` raises `RecursionError`, which no
view expects and which becomes a 500. And a document just under the interpreter's limit parses, then
breaks whatever walks it next (a serializer, a renderer, a `repr` in a log line). So a body is refused
as invalid when it nests deeper than any real request of ours (Stripe's events nest about eight
levels), and every way a body can be malformed raises one exception, `InvalidJSON` (an integer of more
than 4300 digits too, which `json.loads` lets escape as a plain `ValueError`).

Every JSON body goes through here: DRF's parser (`core.parsers.JSONParser`), the chat stream's own
parsing and the Stripe webhook.
"""

import json
from typing import Any

# Far deeper than any request the app takes, far shallower than the interpreter's recursion limit.
MAX_JSON_DEPTH = 64


class InvalidJSON(ValueError):
    """The body is not JSON the app accepts. The message is safe to show to the client."""


class JSONTooDeep(InvalidJSON):
    """The body nests arrays and objects deeper than allowed."""


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are Python's extension, not JSON (RFC 8259): PostgreSQL's jsonb refuses them.
    raise InvalidJSON(f"Invalid JSON: {name} is not a JSON value.")


def json_depth(value: Any) -> int:
    """How deeply lists and dicts nest in `value` (a scalar is 0), walked level by level, not recursively."""
    level = [value] if isinstance(value, list | dict) else []
    depth = 0
    while level:
        depth += 1
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, list | dict)
        ]
    return depth


def json_loads_limited(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode a JSON document (bytes in UTF-8/16/32 or str), refusing one nested deeper than `max_depth`.

    Raises `JSONTooDeep` for too deep a document and `InvalidJSON` for anything else that is not
    JSON (a syntax error, bytes that are not Unicode, NaN or Infinity).
    """
    # Each level opens with "[" or "{": a document with fewer of them cannot be too deep, and counting
    # is a fast scan in C, so ordinary bodies are never walked.
    if isinstance(data, bytes):
        openers = data.count(b"[") + data.count(b"{")
    else:
        openers = data.count("[") + data.count("{")
    try:
        value = json.loads(data, parse_constant=_reject_constant)
    except RecursionError:
        raise JSONTooDeep(f"Invalid JSON: nested deeper than {max_depth} levels.") from None
    except UnicodeDecodeError as error:
        raise InvalidJSON(f"Invalid JSON: the body is not UTF-8 ({error.reason}).") from None
    except json.JSONDecodeError as error:
        raise InvalidJSON(f"Invalid JSON: {error.msg} (line {error.lineno} column {error.colno}).") from None
    except ValueError:
        # An integer longer than the interpreter's int/str conversion limit (4300 digits): int()
        # raises a plain ValueError from inside the decoder.
        raise InvalidJSON("Invalid JSON: a number has too many digits.") from None
    if openers > max_depth and json_depth(value) > max_depth:
        raise JSONTooDeep(f"Invalid JSON: nested deeper than {max_depth} levels.")
    return value
