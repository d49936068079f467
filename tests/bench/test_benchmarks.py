"""`make bench` end to end, kept short: one round of one second per side."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert re.search(r"≥ 0\.8\s+(✔|✘ MISSED)\s+\d+ MB", bare)
    javascript = next(line for line in done.stdout.splitlines() if "/dashboard/profile/" in line)
    assert re.search(r"\d+\.\d KB .*≤ 20 KB", javascript)


def test_an_unknown_benchmark_is_a_usage_error() -> None:
    done = bench("no-such-benchmark")

    assert done.returncode == 2
    assert "unknown benchmark" in done.stderr
