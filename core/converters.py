"""`<id:name>` in URL patterns: a database id, the digits of a positive 64-bit integer at most.

Django's `<int:>` matches any run of digits, and an id past the database's integer range then fails in
the query (SQLite: OverflowError; PostgreSQL: out of range), a 500. Eighteen digits always fit a
BIGINT, so a longer id is simply a URL that does not exist: a 404, before any view runs.
"""

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def register() -> None:
    register_converter(IdConverter, "id")
