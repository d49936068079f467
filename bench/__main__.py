"""`make bench` (`python -m bench [names…]`): every figure a ratio against the anchor of the same run.

Never fails on speed: a missed target is marked in the table and the exit status stays 0. It exits
non-zero only when the harness itself breaks (a server that does not start, a wrong response).
"""

import argparse
import os
import sys
import time

from bench.benchmarks import REGISTRY
from bench.harness import HarnessError, Result, context
from bench.streams import chat_many_streams  # noqa: F401 - registers the chat stream benchmarks


def table(results: list[Result]) -> str:
    header: tuple[str, ...] = ("benchmark", "rate / size", "anchor", "ratio", "target")
    header += ("÷ floor", "floor target", "", "peak RSS")
    rows = [
        (
            r.name,
            r.value,
            r.anchor,
            f"{r.ratio:.2f}" if r.ratio is not None else "—",
            r.target.label,
            f"{r.floor_ratio:.2f}" if r.floor_ratio is not None else "—",
            r.floor_target.label if r.floor_target is not None else "—",
            "✔" if r.passed else "✘ MISSED",
            f"{r.rss_mb:.0f} MB" if r.rss_mb is not None else "—",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    rule = "  ".join("-" * width for width in widths)
    head = "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))
    return "\n".join([head, rule, *lines])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(REGISTRY)}")
    parser.add_argument(
        "--processes",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "1")),
        help="server processes, the same for the production command and the anchor (WEB_CONCURRENCY, 1)",
    )
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "3")))
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", "4")), help="per wrk run"
    )
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")

    started = time.monotonic()
    results: list[Result] = []
    print(
        f"Benchmarks: {args.processes} process(es), {args.rounds} alternating rounds of {args.seconds:g} s, "
        "wrk -t1 -c20 on loopback. Anchor: the bare view on gunicorn sync workers; Django's signed-in "
        "floor: a view that loads the session's user and renders a small template, on the same gunicorn.",
        flush=True,
    )
    try:
        with context(processes=args.processes, rounds=args.rounds, seconds=args.seconds) as ctx:
            for name in args.names or list(REGISTRY):
                print(f"… {name}", file=sys.stderr, flush=True)
                result = REGISTRY[name](ctx)
                if result is not None:
                    results.append(result)
    except HarnessError as error:
        print(table(results) if results else "", file=sys.stderr)
        print(f"\nThe benchmark harness broke: {error}", file=sys.stderr)
        return 2
    print(table(results))
    notes = [f"- {r.name}: {r.note}" for r in results if r.note and r.note != "gzip"]
    if notes:
        print("\nNotes:\n" + "\n".join(notes))
    missed = sum(not r.passed for r in results)
    print(f"\n{len(results)} benchmarks in {time.monotonic() - started:.0f} s; {missed} below target.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
