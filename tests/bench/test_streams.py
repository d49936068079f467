from datetime import date
from pathlib import Path

import pytest

from accounts.models import User
from accounts.tokens import api_token_authenticate
from bench.harness import Context
from bench.streams import LoadRun, StreamBench, bench_users_ensure
from chat.models import Conversation, DailyUsage
from tests.conftest import personal_team

pytestmark = pytest.mark.bench


def run(*, errors: int = 0, p99_ms: float | None = 10.0) -> LoadRun:
    return LoadRun(
        streams=10,
        completed=10 - errors,
        errors=errors,
        ends={},
        measured=100,
        p50_ms=5.0,
        p99_ms=p99_ms,
        seconds=4.0,
    )


def test_a_level_is_sustained_only_with_every_stream_done_and_p99_under_the_limit() -> None:
    assert run().sustained
    assert not run(p99_ms=25.0).sustained
    assert not run(errors=1).sustained
    assert not run(p99_ms=None).sustained


@pytest.mark.django_db
def test_bench_users_get_fresh_tokens_and_a_fresh_day(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"

    bench_users_ensure(3, str(tokens))

    first = tokens.read_text().split()
    users = {api_token_authenticate(raw).user for raw in first}  # type: ignore[union-attr]
    assert len(users) == 3
    assert all(not user.has_usable_password() for user in users)
    user = users.pop()
    Conversation.objects.create(user=user, team=personal_team(user), title="Earlier run")
    DailyUsage.objects.create(team=personal_team(user), day=date.today(), messages=20)

    bench_users_ensure(3, str(tokens))

    assert User.objects.filter(email__endswith="@bench.invalid").count() == 3
    assert all(api_token_authenticate(raw) is None for raw in first)
    assert len({api_token_authenticate(raw) for raw in tokens.read_text().split()}) == 3
    assert not Conversation.objects.filter(user=user).exists()
    assert not DailyUsage.objects.filter(team=personal_team(user)).exists()


def test_the_production_chat_stream_and_the_proxy_are_loaded_end_to_end() -> None:
    ctx = Context(processes=1, rounds=1, seconds=1)
    try:
        bench = StreamBench(ctx, tokens=20, users=3)
        try:
            assert bench.proxy is not None
            for server in (bench.production, bench.proxy):
                report = bench.load(server, 3, ramp=0.1)
                assert (report.completed, report.errors) == (3, 0)
                assert report.measured > 0
                assert report.p99_ms is not None
        finally:
            bench.stop()
    finally:
        ctx.close()
