"""`make bench` end to end, kept short: one round of one second per side."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe

from bench.benchmarks import queries_result, signed_events
from bench.harness import WEBHOOK_SECRET, postgres_url

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent.parent


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
def test_bench_prints_the_bare_view_ratio_and_the_javascript_per_page() -> None:
    done = bench("bare", "js-profile", "--rounds", "1", "--seconds", "1")

    assert done.returncode == 0, done.stderr
    bare = next(line for line in done.stdout.splitlines() if line.startswith("bare view"))
    rate, anchor, ratio = re.search(r"([\d,]+) req/s\s+([\d,]+) req/s\s+([\d.]+)", bare).groups()  # type: ignore[union-attr]
    assert float(ratio) == pytest.approx(int(rate.replace(",", "")) / int(anchor.replace(",", "")), abs=0.01)
    assert re.search(r"≥ 0\.8\s+.*?(✔|✘ MISSED)\s+\d+ MB", bare)
    javascript = next(line for line in done.stdout.splitlines() if "/dashboard/profile/" in line)
    assert re.search(r"\d+\.\d KB .*≤ 20 KB", javascript)


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
def test_bench_prints_the_signed_in_floor_and_each_signed_in_rows_ratio_to_it() -> None:
    done = bench("signed-in-floor", "dashboard", "profile", "--rounds", "1", "--seconds", "1")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    floor = next(line for line in lines if line.startswith("Django's signed-in floor"))
    rate, anchor, ratio = re.search(r"([\d,]+) req/s\s+([\d,]+) req/s\s+([\d.]+)", floor).groups()  # type: ignore[union-attr]
    assert float(ratio) == pytest.approx(int(rate.replace(",", "")) / int(anchor.replace(",", "")), abs=0.01)
    assert re.search(r"— \(anchor\)\s+—\s+—\s+✔", floor)  # no ratio to itself, no target to miss
    dashboard = next(line for line in lines if line.startswith("signed-in dashboard"))
    assert re.search(r"[\d,]+ req/s\s+[\d,]+ req/s\s+[\d.]+\s+—\s+[\d.]+\s+≥ 0\.5\s+(✔|✘ MISSED)", dashboard)
    profile = next(line for line in lines if line.startswith("profile update action"))
    assert re.search(r"≥ 0\.33\s+[\d.]+\s+≥ 0\.7\s+(✔|✘ MISSED)", profile)


def test_an_unknown_benchmark_is_a_usage_error() -> None:
    done = bench("no-such-benchmark")

    assert done.returncode == 2
    assert "unknown benchmark" in done.stderr


def test_signed_events_are_distinct_and_verify(tmp_path: Path) -> None:
    lines = signed_events(tmp_path / "events.tsv", count=3, prefix="t1").read_text().splitlines()

    ids = []
    for line in lines:
        signature, body = line.split("\t")
        stripe.WebhookSignature.verify_header(body, signature, WEBHOOK_SECRET, tolerance=300)
        event = json.loads(body)
        assert event["type"] == "invoice.paid"
        ids.append(event["id"])
    assert ids == ["evt_t1_0000000", "evt_t1_0000001", "evt_t1_0000002"]
    assert abs(int(lines[0].split(",")[0].removeprefix("t=")) - time.time()) < 60


def test_query_counts_are_constant_or_show_their_growth() -> None:
    constant = queries_result("posts list", [5, 5])
    growing = queries_result("posts list", [5, 95])

    assert (constant.value, constant.passed, constant.note) == ("5 → 5 (constant)", True, "")
    assert (growing.value, growing.passed) == ("5 → 95 (+90)", False)
    assert growing.note == "grows by 90 queries from 25 to 250 rows"


def test_bench_queries_counts_every_page_at_two_scales(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "test-bench-queries-" + "k" * 40,
        "TWOFOLD_TESTING": "true",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path / 'q.sqlite3'}"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.queries", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)["counts"]
    assert set(counts) == {
        "dashboard",
        "posts list",
        "staff posts list",
        "billing page",
        "GET /api/v1/posts/",
    }
    for few, many in counts.values():
        assert 0 < few == many


# Only with a database set aside for benchmarks: the run migrates, seeds and writes events into it.
@pytest.mark.skipif(
    not shutil.which("wrk") or not os.environ.get("BENCH_DATABASE_URL") or not postgres_url(),
    reason="needs wrk and BENCH_DATABASE_URL (PostgreSQL)",
)
def test_bench_measures_the_posts_api_and_webhook_ingest_on_postgresql() -> None:
    done = bench("posts-api", "webhook", "--rounds", "1", "--seconds", "1")

    assert done.returncode == 0, done.stderr
    api = next(line for line in done.stdout.splitlines() if line.startswith("GET /api/v1/posts/"))
    webhook = next(line for line in done.stdout.splitlines() if line.startswith("signed Stripe webhook"))
    assert re.search(r"[\d,]+ req/s\s+[\d,]+ req/s\s+[\d.]+\s+≥ 0\.33", api)
    assert re.search(r"[\d,]+ events/s\s+[\d,]+ req/s\s+[\d.]+\s+≥ 0\.33", webhook)
    assert "API throttles raised" in done.stdout


def test_bench_prints_the_cold_start_ratio() -> None:
    done = bench("cold-start", "--rounds", "1", "--seconds", "1")

    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("cold start"))
    production, anchor, ratio = re.search(r"([\d.]+) s\s+([\d.]+) s\s+([\d.]+)", row).groups()  # type: ignore[union-attr]
    assert float(ratio) == pytest.approx(float(production) / float(anchor), abs=0.01)
    assert re.search(r"≤ 1\.5\s+.*?(✔|✘ MISSED)", row)
