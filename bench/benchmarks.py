"""The benchmarks of `make bench`, in the order they are printed.

Each one is a function registered with `@benchmark`, taking the run's `Context` and returning a
`Result` (or None when what it measures does not exist yet). To add one: ask `ctx.stack()` for
servers (`ctx.stack(postgres_url())` for one on PostgreSQL; skip it when that is None), measure it in
alternation with `ctx.anchor_rate(stack)` through `alternate`, and return the ratio with its target.
"""

import gzip
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin

from bench.harness import (
    BARE_PATH,
    ROOT,
    SIGNED_IN_PATH,
    WEBHOOK_SECRET,
    Context,
    HarnessError,
    Load,
    Result,
    Server,
    Stack,
    Target,
    alternate,
    alternate_all,
    checked,
    free_port,
    manage,
    mb,
    postgres_url,
    production_env,
    request,
    signed_events_script,
    stripe_signature,
    wrk,
)

Benchmark = Callable[[Context], Result | None]
REGISTRY: dict[str, Benchmark] = {}

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "twofold-demo"  # seed_demo's default (DEMO_PASSWORD is not set for the bench)


def benchmark(name: str) -> Callable[[Benchmark], Benchmark]:
    def register(function: Benchmark) -> Benchmark:
        REGISTRY[name] = function
        return function

    return register


def rate_result(
    name: str,
    ctx: Context,
    *,
    anchor: float,
    rate: float,
    target: Target,
    server: Server,
    unit: str = "req/s",
    note: str = "",
) -> Result:
    ratio = rate / anchor
    return Result(
        name=name,
        value=f"{rate:,.0f} {unit}",
        anchor=f"{anchor:,.0f} req/s",
        ratio=ratio,
        target=target,
        measured=ratio,
        rss_mb=mb(server.peak_rss),
        note=note,
    )


# --- A logged-in session, as a browser has it -------------------------------------------------


def cookies_from(headers: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            found[key.strip()] = rest.split(";", 1)[0]
    return found


def csrf_field(html: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise HarnessError("no CSRF token in the login form")
    return match[1].decode()


def log_in(server: Server, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """Log in through the real login form; the session and CSRF cookies a browser would hold."""
    status, headers, body = request("GET", server.base_url + "/accounts/login/")
    cookies = cookies_from(headers)
    form = urlencode({"csrfmiddlewaretoken": csrf_field(body), "username": email, "password": password})
    status, headers, body = request(
        "POST",
        server.base_url + "/accounts/login/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        },
        body=form.encode(),
    )
    cookies.update(cookies_from(headers))
    if status != 302 or "sessionid" not in cookies:
        raise HarnessError(f"logging in as {email} failed: {status} {body[:300]!r}")
    return cookies


# --- The benchmarks -----------------------------------------------------------------------------


def session_cookies(cookies: dict[str, str]) -> dict[str, str]:
    """The cookies of a signed-in browser that a GET sends (the session; CSRF's for POSTs)."""
    return {key: cookies[key] for key in ("sessionid", "csrftoken") if key in cookies}


def wrk_against_anchor(
    ctx: Context,
    stack: Stack,
    url: str,
    *,
    name: str,
    target: Target,
    load: Load | None = None,
    note: str = "",
    floor: tuple[dict[str, str], Target] | None = None,
) -> Result:
    """wrk on `url` of the production command, alternated with the anchor's bare view, as one row.
    With `floor` (a signed-in session and a target), Django's signed-in floor is measured in the same
    alternation and the row carries its ratio to the floor too."""
    ctx.warm_up(url, load)
    sides = [ctx.anchor_rate(stack)]
    if floor is not None:
        sides.append(ctx.floor_rate(stack, floor[0]))
        ctx.warm_up(stack.anchor.base_url + SIGNED_IN_PATH, Load(headers=cookie_header(floor[0])))
    stack.production.reset_peak()

    def production() -> float:
        return checked(
            wrk(url, seconds=ctx.seconds, load=load, scratch=ctx.scratch), name
        ).requests_per_second

    medians = alternate_all([*sides, production], rounds=ctx.rounds)
    result = rate_result(
        name, ctx, anchor=medians[0], rate=medians[-1], target=target, server=stack.production, note=note
    )
    if floor is None:
        return result
    return replace(result, floor_ratio=medians[-1] / medians[1], floor_target=floor[1])


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


@benchmark("bare")
def bare_view(ctx: Context) -> Result:
    """The bare view through the production command against the same view on gunicorn."""
    stack = ctx.stack()
    ctx.warm_up(stack.anchor.base_url + BARE_PATH)
    return wrk_against_anchor(
        ctx,
        stack,
        stack.production.base_url + BARE_PATH,
        name="bare view (production command)",
        target=Target(">=", 0.8, "≥ 0.8"),
    )


@benchmark("signed-in-floor")
def signed_in_floor(ctx: Context) -> Result:
    """Django's signed-in floor against fastest Django: both on the anchor's gunicorn, the floor with a
    session cookie (the session and its user read, a small template rendered). Printed so the rows
    measured against the floor can be read against fastest Django too."""
    stack = ctx.stack()
    session = session_cookies(log_in(stack.production))
    floor = ctx.floor_rate(stack, session)
    ctx.warm_up(stack.anchor.base_url + SIGNED_IN_PATH, Load(headers=cookie_header(session)))
    stack.anchor.reset_peak()
    anchor, rate = alternate(ctx.anchor_rate(stack), floor, rounds=ctx.rounds)
    return rate_result(
        "Django's signed-in floor (gunicorn sync)",
        ctx,
        anchor=anchor,
        rate=rate,
        target=Target(">=", 0.0, "— (anchor)"),
        server=stack.anchor,
        note="the floor: a view that loads the session's user and renders a small template, same middleware.",
    )


@benchmark("dashboard")
def dashboard(ctx: Context) -> Result:
    """The signed-in dashboard (`GET /dashboard/`) through the production command, against fastest
    Django and against Django's signed-in floor, in one alternation."""
    stack = ctx.stack()
    session = session_cookies(log_in(stack.production))
    url = stack.production.base_url + "/dashboard/"
    load = Load(headers=cookie_header(session))
    status, _, body = request("GET", url, headers=load.headers)
    if status != 200 or b"<h1>Welcome" not in body:
        raise HarnessError(f"the dashboard did not render for a signed-in user: {status} {body[:300]!r}")
    return wrk_against_anchor(
        ctx,
        stack,
        url,
        name="signed-in dashboard",
        target=Target(">=", 0.0, "—"),
        load=load,
        floor=(session, Target(">=", 0.5, "≥ 0.5")),
    )


@benchmark("profile")
def profile_action(ctx: Context) -> Result:
    """The profile update action as htmx posts it (logged in, CSRF token in a header), each request
    saving the user and rendering the form partial, through the production command."""
    stack = ctx.stack()
    cookies = log_in(stack.production)
    url = stack.production.base_url + "/dashboard/profile/"
    load = Load(
        method="POST",
        headers={
            "Cookie": f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}",
            "X-CSRFToken": cookies["csrftoken"],
            "HX-Request": "true",
            "HX-Current-URL": stack.production.base_url + "/dashboard/profile/",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=urlencode({"display_name": "Demo User", "bio": "Benchmarking.", "time_zone": "UTC"}),
    )
    # Check once that the load does what it claims: the partial comes back with the saved toast.
    status, _, body = request("POST", url, headers=load.headers, body=load.body.encode(), timeout=10)
    if status != 200 or b"Profile saved" not in body:
        raise HarnessError(f"the profile action did not save: {status} {body[:300]!r}")
    return wrk_against_anchor(
        ctx,
        stack,
        url,
        name="profile update action (htmx POST)",
        target=Target(">=", 1 / 3, "≥ 0.33"),
        load=load,
        floor=(session_cookies(cookies), Target(">=", 0.7, "≥ 0.7")),
    )


@benchmark("posts-api")
def posts_api(ctx: Context) -> Result | None:
    """`GET /api/v1/posts/`: a page of 20 posts (Markdown rendered to HTML) for a bearer token, on
    PostgreSQL, through the production command."""
    url_of_database = postgres_url()
    if url_of_database is None:
        return None
    stack = ctx.stack(url_of_database)
    token = manage(stack.env, "shell", "-c", "from bench.data import api_user_setup; print(api_user_setup())")
    load = Load(headers={"Authorization": f"Bearer {token.strip().splitlines()[-1]}"})
    url = stack.production.base_url + "/api/v1/posts/"
    status, _, body = request("GET", url, headers=load.headers)
    if status != 200 or len(json.loads(body)["results"]) != 20:
        raise HarnessError(f"GET /api/v1/posts/ did not list 20 posts: {status} {body[:300]!r}")
    return wrk_against_anchor(
        ctx,
        stack,
        url,
        name="GET /api/v1/posts/ (20 posts, bearer, PostgreSQL)",
        target=Target(">=", 1 / 3, "≥ 0.33"),
        load=load,
        note="API throttles raised for the bench servers (API_THROTTLE_USER/ANON), else they answer 429.",
    )


# Stripe's own event (a copy of the billing tests' fixture: the bench reads nothing from tests/);
# each posted copy gets a new id.
WEBHOOK_EVENT = ROOT / "bench" / "fixtures" / "invoice.paid.json"
# Events signed per second of a run: several times what ingest reaches here (a run that outlasts them
# fails loudly). Signed just before each run: Stripe's five-minute tolerance would refuse older ones.
WEBHOOK_EVENTS_PER_SECOND = 1500


def signed_events(path: Path, *, count: int, prefix: str, secret: str = WEBHOOK_SECRET) -> Path:
    """Write `count` distinct signed events (ids `evt_<prefix>_<n>`) for `signed_events_script`."""
    event = json.loads(WEBHOOK_EVENT.read_text())
    timestamp = int(time.time())
    with path.open("w") as out:
        for n in range(count):
            event["id"] = f"evt_{prefix}_{n:07d}"
            body = json.dumps(event, separators=(",", ":"))
            out.write(f"{stripe_signature(body, secret=secret, timestamp=timestamp)}\t{body}\n")
    return path


@benchmark("webhook")
def stripe_webhook(ctx: Context) -> Result | None:
    """Signed Stripe events posted to `/api/webhooks/stripe/`, each a new event: ingest is the
    signature check, the insert of the event, its task stored for the worker, and the 200 — on
    PostgreSQL, through the production command. Processing is the worker's, not measured here."""
    url_of_database = postgres_url()
    if url_of_database is None:
        return None
    stack = ctx.stack(url_of_database)
    url = stack.production.base_url + "/api/webhooks/stripe/"
    run_id = f"{int(time.time())}"
    runs = 0

    def events_run(seconds: float) -> float:
        nonlocal runs
        runs += 1
        count = int(WEBHOOK_EVENTS_PER_SECOND * max(1, round(seconds)))
        events = signed_events(ctx.scratch / "events.tsv", count=count, prefix=f"bench{run_id}r{runs}")
        run = wrk(url, seconds=seconds, load=Load(script=signed_events_script(events)), scratch=ctx.scratch)
        if run.requests >= count:  # wrk spends the first event checking the script
            raise HarnessError(f"webhook: {run.requests} requests outran the {count} signed events")
        return checked(run, "webhook ingest").requests_per_second

    check = signed_events(ctx.scratch / "check.tsv", count=1, prefix=f"check{run_id}").read_text()
    signature, payload = check.rstrip("\n").split("\t")
    status, _, body = request(
        "POST",
        url,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        body=payload.encode(),
    )
    if status != 200 or json.loads(body).get("duplicate") is not False:
        raise HarnessError(f"the webhook did not take a signed event: {status} {body[:300]!r}")
    events_run(1)  # warm-up
    stack.production.reset_peak()
    anchor, rate = alternate(ctx.anchor_rate(stack), lambda: events_run(ctx.seconds), rounds=ctx.rounds)
    return rate_result(
        "signed Stripe webhook ingest (PostgreSQL)",
        ctx,
        anchor=anchor,
        rate=rate,
        unit="events/s",
        target=Target(">=", 1 / 3, "≥ 0.33"),
        server=stack.production,
        note="ingest = verify + store + enqueue (django-tasks-db) + 200, every event new; throttles raised.",
    )


# --- Queries per page ---------------------------------------------------------------------------------

# Counted at this many rows and ten times as many. Both more than a page of every list: the API
# counts a first page that holds everything without a COUNT query, one query fewer than in general.
QUERY_ROWS = 25


def query_counts(ctx: Context) -> dict[str, list[int]]:
    """Every page's query counts at QUERY_ROWS rows and ten times as many (`bench.queries`, once a run)."""
    if "queries" not in ctx.memo:
        url = postgres_url() or f"sqlite:///{ctx.scratch / 'queries.sqlite3'}"
        env = {**production_env(database_url=url), "TWOFOLD_TESTING": "true"}
        out = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.queries", str(QUERY_ROWS)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if out.returncode != 0:
            raise HarnessError(f"counting queries failed:\n{out.stdout}{out.stderr}")
        ctx.memo["queries"] = json.loads(out.stdout.strip().splitlines()[-1])["counts"]
    counts: dict[str, list[int]] = ctx.memo["queries"]  # type: ignore[assignment]
    return counts


def queries_result(name: str, counts: list[int]) -> Result:
    few, many = counts
    growth = many - few
    return Result(
        name=f"SQL queries: {name}",
        value=f"{few} → {many} ({'constant' if growth == 0 else f'{growth:+d}'})",
        anchor="—",
        ratio=None,
        target=Target("<=", 0, "constant"),
        measured=growth,
        rss_mb=None,
        note="" if growth == 0 else f"grows by {growth} queries from {QUERY_ROWS} to {10 * QUERY_ROWS} rows",
    )


def register_queries(key: str, page: str) -> None:
    benchmark(f"queries-{key}")(lambda ctx: queries_result(page, query_counts(ctx)[page]))


register_queries("dashboard", "dashboard")
register_queries("posts", "posts list")
register_queries("staff-posts", "staff posts list")
register_queries("billing", "billing page")
register_queries("posts-api", "GET /api/v1/posts/")


class ScriptFinder(HTMLParser):
    """The external script URLs and inline script bodies of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.inline: list[str] = []
        self._in_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            src = dict(attrs).get("src")
            if src:
                self.sources.append(src)
            else:
                self._in_inline = True
                self.inline.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline = False

    def handle_data(self, data: str) -> None:
        if self._in_inline:
            self.inline[-1] += data


def javascript_bytes(server: Server, path: str, cookies: dict[str, str] | None) -> int | None:
    """gzip-compressed bytes of every script the page references (and any inline script), or None
    when the page does not exist."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())}
    page_url = server.base_url + path
    status, _, body = request("GET", page_url, headers=headers)
    if status == 404:
        return None
    if status != 200:
        raise HarnessError(f"GET {path}: {status}")
    finder = ScriptFinder()
    finder.feed(body.decode())
    total = sum(len(gzip.compress(text.encode())) for text in finder.inline if text.strip())
    for src in finder.sources:
        status, _, script = request("GET", urljoin(page_url, src))
        if status != 200:
            raise HarnessError(f"{path} references {src}, which answers {status}")
        total += len(gzip.compress(script))
    return total


def javascript_per_page(
    ctx: Context, *, name: str, path: str, limit_kb: int, logged_in: bool
) -> Result | None:
    stack = ctx.stack()
    cookies = log_in(stack.production) if logged_in else None
    size = javascript_bytes(stack.production, path, cookies)
    if size is None:
        return None
    kb = size / 1024
    return Result(
        name=name,
        value=f"{kb:.1f} KB",
        anchor="—",
        ratio=None,
        target=Target("<=", limit_kb, f"≤ {limit_kb} KB"),
        measured=kb,
        rss_mb=None,
        note="gzip",
    )


def register_javascript(key: str, path: str, *, limit_kb: int = 20, logged_in: bool = False) -> None:
    benchmark(f"js-{key}")(
        lambda ctx: javascript_per_page(
            ctx, name=f"JavaScript on {path} (gzip)", path=path, limit_kb=limit_kb, logged_in=logged_in
        )
    )


register_javascript("landing", "/")
register_javascript("login", "/accounts/login/")
register_javascript("dashboard", "/dashboard/", logged_in=True)
register_javascript("profile", "/dashboard/profile/", logged_in=True)
register_javascript("chat", "/chat/", limit_kb=25, logged_in=True)  # skipped until /chat/ exists


def first_200(ctx: Context, name: str, command: list[str], env: dict[str, str], port: int) -> float:
    """Seconds from starting `command` to its first 200 on `/`."""
    started = time.monotonic()
    server = Server(name, command, env, port, ctx.scratch / f"cold-{free_port()}.log")
    try:
        server.wait_ready("/")
        return time.monotonic() - started
    finally:
        server.stop()


@benchmark("cold-start")
def cold_start(ctx: Context) -> Result:
    """Process start to the first 200 on `/`: the production command against gunicorn serving only
    the bare view under the same settings."""
    stack = ctx.stack()
    env = dict(stack.env)

    def production() -> float:
        port = free_port()
        command = [sys.executable, "-m", "saas.serve"]
        return first_200(
            ctx, "production (cold)", command, {**env, "PORT": str(port), "HOST": "127.0.0.1"}, port
        )

    def anchor() -> float:
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "saas.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        return first_200(
            ctx, "gunicorn (cold)", command, {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_bare"}, port
        )

    anchor_s, production_s = alternate(anchor, production, rounds=ctx.rounds)
    ratio = production_s / anchor_s
    return Result(
        name="cold start to first 200 on /",
        value=f"{production_s:.2f} s",
        anchor=f"{anchor_s:.2f} s",
        ratio=ratio,
        target=Target("<=", 1.5, "≤ 1.5"),
        measured=ratio,
        rss_mb=None,
    )
