from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core.guide import guide_rows
from core.operations import Kind

TITLES = {Kind.ACTION: "Actions", Kind.API: "API endpoints", Kind.PAGE: "Pages"}


class Command(BaseCommand):
    help = 'The "Action or API?" guide in the terminal: every operation, its kind, methods, path and why.'
    # It reads the code only: it works on a fresh clone, without a secret key or a database.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pages", action="store_true", help="Also list the pages that only show things.")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = guide_rows(include_pages=options["pages"])
        width = max((len(row.path) for row in rows), default=0)
        kind = None
        for row in rows:
            if row.kind != kind:
                kind = row.kind
                self.stdout.write(
                    ("\n" if row is not rows[0] else "") + self.style.MIGRATE_HEADING(TITLES[kind])
                )
            methods = ", ".join(row.methods) or "any"
            self.stdout.write(f"  {methods:<18} {row.path:<{width}}  {row.summary}")
            self.stdout.write(self.style.HTTP_INFO(f"  {'':<18} {'':<{width}}  why: {row.why}"))
