"""Twofold's one settings module: every knob comes from the environment (or a `.env` file).

Defaults make a fresh clone run with nothing installed (SQLite, local-memory cache, console
email); production turns them into PostgreSQL, Redis and SMTP through the variables in
`.env.example`. Nothing exists only in production.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env.bool("DJANGO_DEBUG", default=False)
TESTING: bool = env.bool("TWOFOLD_TESTING", default=False)

# Without a key outside debug, the settings still load, so commands that read only the code
# (`manage.py routes`) work on a fresh clone; `check`, `migrate` and the server refuse (core/checks.py,
# saas/server.py), and Django itself refuses to sign anything with an empty key.
SECRET_KEY: str = env.str("DJANGO_SECRET_KEY", default="") or (
    "django-insecure-twofold-development-only-key" if DEBUG else ""
)

ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list(
    "DJANGO_CSRF_TRUSTED_ORIGINS", default=["http://localhost:8000", "http://127.0.0.1:8000"]
)
# Unset, it follows `PORT` (`PORT=9000 make run`), so emailed links and the passkeys' origin match the server.
SITE_URL: str = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}").rstrip("/")
SITE_NAME = "Twofold"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: the CSP allows only 'self'
    "django_tasks_db",
    "axes",
    # The platform first, then the feature apps. Each app mounts its own URLs and adds its links, cards,
    # tabs and limits from its AppConfig.ready() (core.registry): removing one is deleting its line here.
    "core",
    "accounts",
    "teams",  # the tenant the features' data belongs to: beneath them, like accounts
    "billing",
    "chat",
    "posts",
    "staff",
]

MIDDLEWARE = [
    "core.request_id.RequestIdMiddleware",  # first: every response carries X-Request-ID, /healthz too
    "core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sessions.SessionActivityMiddleware",  # the security page's "last seen", once a minute
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",  # STAFF_REQUIRE_2FA: no staff panel without it
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.HtmxLoginRedirectMiddleware",
    "core.middleware.HtmxMessagesMiddleware",
    "core.middleware.UserTimezoneMiddleware",
    # Last, as axes asks: turns a locked login's answer into a 429 with Retry-After.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "saas.urls"
WSGI_APPLICATION = "saas.wsgi.application"
ASGI_APPLICATION = "saas.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "core.context_processors.site",
                "core.context_processors.flags",  # feature flags in every template
                "core.context_processors.platform",  # what the installed apps add (core.registry)
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's connection pool (psycopg_pool), one per process: a request takes a connection when it
    # first queries and gives it back when it ends. The pool checks each one as it hands it out, so a
    # restarted PostgreSQL is survived; Django's own check (a `SELECT 1` per request) is then skipped.
    # The check (saas.dbpool) costs a round trip only when the server has closed or written to the
    # idle connection; DJANGO_DB_POOL_CHECK=query: psycopg_pool's empty query on every checkout.
    # Its default size is every thread of the production server that may hold one at once: the
    # WEB_THREADS serving sync views, the event loop's default executor (the chat stream's database
    # work, chat.services.db_task) and the ASGI handler's thread. So no thread waits for a connection,
    # and a process opens no more than it did with persistent connections, one per thread.
    # DJANGO_DB_POOL_MAX_SIZE=0: no pool, persistent connections checked by Django before reuse.
    _db_threads = env.int("WEB_THREADS", default=4) + min(32, (os.process_cpu_count() or 1) + 4) + 1
    DB_POOL_MAX_SIZE: int = env.int("DJANGO_DB_POOL_MAX_SIZE", default=_db_threads)
    if DB_POOL_MAX_SIZE > 0:
        from psycopg_pool import ConnectionPool

        from saas.dbpool import connection_check

        _pool_checks = {"socket": connection_check, "query": ConnectionPool.check_connection}
        _pool_check = env.str("DJANGO_DB_POOL_CHECK", default="socket")
        if _pool_check not in _pool_checks:
            raise ImproperlyConfigured(f"DJANGO_DB_POOL_CHECK must be socket or query, not {_pool_check!r}")
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django requires 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "check": _pool_checks[_pool_check],
            # Opened in the background when the pool is first used; more as threads ask, up to max_size.
            "min_size": min(2, DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            # Seconds a request waits for a connection before its 503. Sized as above, only while
            # PostgreSQL is unreachable (the pool reconnecting in the background) does anyone wait.
            "timeout": 3.0,
            # A failed (re)connection is retried with a doubling delay for this long, then dropped; the
            # next request that finds no connection starts a fresh attempt. psycopg_pool's default
            # (5 minutes, the delay doubling to minutes) would keep a restarted PostgreSQL unused for that
            # long; two seconds bounds the wait after a restart by about one second.
            "reconnect_timeout": 2.0,
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # the pool's own check stands in for it above
else:
    # SQLite: wait on a locked database instead of failing, and take the write lock up front.
    # WAL with synchronous=NORMAL (SQLite's advice for WAL) syncs at checkpoints, not at every commit:
    # a commit costs microseconds instead of an fsync; a power cut may lose the last commits, never
    # the database. Connections are kept per thread, as on PostgreSQL.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests use a file too, not SQLite's in-memory database: that one is shared between threads in
    # shared-cache mode, where a write meeting a reader fails at once with "database table is locked"
    # instead of waiting (the chat stream saving its answer while the page reloads, under uvicorn).
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(BASE_DIR / "db.sqlite3-test"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL: str | None = env.str("REDIS_URL", default=None) or None
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="twofold"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {
    "default": {
        # Inline in development and tests; docker compose and production run `manage.py db_worker`.
        "BACKEND": env.str("TASKS_BACKEND", default="django.tasks.backends.immediate.ImmediateBackend"),
    }
}

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:landing"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins, on every path that takes a password (accounts/services.py): django-axes in front of the
# backends, counting per canonical email and per client address, each locked after AXES_FAILURE_LIMIT
# failures for AXES_COOLOFF_TIME after its last one.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_LOCKOUT_SECONDS: int = env.int("LOGIN_THROTTLE_LOCKOUT", default=900)
AXES_FAILURE_LIMIT: int = env.int("LOGIN_THROTTLE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # one count for every process, row-locked
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # two counters, either one locks
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.services.login_username"  # the canonical email
AXES_CLIENT_IP_CALLABLE = "accounts.services.login_client_ip"  # REMOTE_ADDR, as the server resolved it
AXES_LOCKOUT_CALLABLE = "accounts.services.login_lockout_response"
# A refused attempt while locked does not push the end of the lock further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Not axes' reset on success: it clears the address's counter too (accounts.services.login_attempts_clear).
AXES_RESET_ON_SUCCESS = False
AXES_DISABLE_ACCESS_LOG = True  # counters only; no row per successful login
# Password-reset emails, per canonical address and per client address (cache counters).
PASSWORD_RESET_THROTTLE = {
    "window_seconds": env.int("PASSWORD_RESET_WINDOW", default=3600),
    "per_email": env.int("PASSWORD_RESET_PER_EMAIL", default=3),
    "per_ip": env.int("PASSWORD_RESET_PER_IP", default=10),
}
# Accounts created from one client address per window (the public sign-up form).
SIGNUP_THROTTLE = {
    "window_seconds": env.int("SIGNUP_WINDOW", default=3600),
    "per_ip": env.int("SIGNUP_PER_IP", default=10),
}
# Two-factor (docs/two-factor.md). A deploy setting, not a feature flag: a flag is switched from the
# staff panel, by the very staff accounts this protects, so a stolen password could switch it off.
STAFF_REQUIRE_2FA: bool = env.bool("STAFF_REQUIRE_2FA", default=False)
SECOND_STEP_SECONDS: int = env.int("SECOND_STEP_SECONDS", default=300)
SECOND_FACTOR_THROTTLE = {
    "window_seconds": env.int("SECOND_FACTOR_WINDOW", default=900),
    "per_account": env.int("SECOND_FACTOR_PER_ACCOUNT", default=5),
    "per_ip": env.int("SECOND_FACTOR_PER_IP", default=20),
}
ADMIN_URL: str = env.str("DJANGO_ADMIN_URL", default="control-room/").strip("/") + "/"

# Django 6.1's MAILERS, built from one EMAIL_URL (smtp://user:pass@host:587/?tls=True, consolemail://…).
_email = env.email_url("EMAIL_URL", default="consolemail://")
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": {}}}
if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": _email.get("EMAIL_HOST") or "localhost",
        "port": _email.get("EMAIL_PORT") or 25,
        "username": _email.get("EMAIL_HOST_USER") or None,
        "password": _email.get("EMAIL_HOST_PASSWORD") or None,
        "use_tls": bool(_email.get("EMAIL_USE_TLS")),
        "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
        "timeout": 10,
    }
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="Twofold <hello@twofold.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Email verification links (accounts.verification): how long one works, and how many a person may ask for.
EMAIL_VERIFY_MAX_AGE: int = env.int("EMAIL_VERIFY_MAX_AGE", default=3 * 24 * 3600)
EMAIL_VERIFY_THROTTLE = {"per_user": env.int("EMAIL_VERIFY_PER_HOUR", default=3), "window_seconds": 3600}

DEMO_PASSWORD: str = env.str("DEMO_PASSWORD", default="twofold-demo")

# --- Internationalization ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise: compressed, cache-busted, served by the app itself) -------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept default
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF, "https://checkout.stripe.com", "https://billing.stripe.com"],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if not DEBUG:
    SECURE_SSL_REDIRECT: bool = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS: int = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# One limit on request bodies, kept in one place: the production server refuses a larger body before
# reading it (saas/server.py), and Django (forms, request.body) and the API's JSON parser refuse it
# under any other server. There are no file uploads, so Django's form-data limit is the whole body.
WEB_MAX_BODY_BYTES: int = env.int("WEB_MAX_BODY_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = WEB_MAX_BODY_BYTES

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],  # depth- and size-limited (core.jsonparse)
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # Throttles key on REMOTE_ADDR only. The server already set it from X-Forwarded-For when, and only
    # when, the request came through a trusted proxy (uvicorn's FORWARDED_ALLOW_IPS); without this DRF
    # would read the raw header, and rotating it would escape every throttle.
    "NUM_PROXIES": 0,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "auth": env.str("API_THROTTLE_AUTH", default="20/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Twofold API",
    "DESCRIPTION": "The JSON API of Twofold: token auth for mobile and other clients.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # "Try it out" keeps the bearer token across reloads of the docs page.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True},
    # A team member's role, named apart from a chat message's role (user/assistant).
    "ENUM_NAME_OVERRIDES": {"TeamRoleEnum": "teams.models.Role"},
    # The 400/401/403/404/413/429 answers that come from the layers around the views (saas/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "saas.openapi.add_error_responses",
    ],
}

# --- Integrations (each one optional: unset keys switch to a local mode) -----------------------
STRIPE_SECRET_KEY: str = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY: str = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET: str = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_PRICE_PRO: str = env.str("STRIPE_PRICE_PRO", default="price_pro_demo")
STRIPE_API_BASE: str = env.str("STRIPE_API_BASE", default="")
# Without a Stripe key: the offline simulation (free "upgrades", for trying the app) or billing off.
# Never on by accident in production; `check --deploy` warns when it is on (billing.W001).
BILLING_SIMULATION: bool = env.bool("BILLING_SIMULATION", default=DEBUG)

ANTHROPIC_API_KEY: str = env.str("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL: str = env.str("ANTHROPIC_BASE_URL", default="")
CHAT_MODEL: str = env.str("CHAT_MODEL", default="claude-sonnet-5-5")
CHAT_SYSTEM_PROMPT: str = env.str(
    "CHAT_SYSTEM_PROMPT",
    default="You are the helpful assistant inside Twofold, a SaaS starter kit. Answer concisely in Markdown.",
)
# Chat (the `chat` app): limits of one answer, and how long to wait on the upstream.
CHAT_MAX_TOKENS: int = env.int("CHAT_MAX_TOKENS", default=1024)
CHAT_MAX_MESSAGE_CHARS: int = env.int("CHAT_MAX_MESSAGE_CHARS", default=4000)
CHAT_HISTORY_MESSAGES: int = env.int("CHAT_HISTORY_MESSAGES", default=40)  # earlier turns sent as context
CHAT_UPSTREAM_TIMEOUT: float = env.float("CHAT_UPSTREAM_TIMEOUT", default=60.0)  # seconds without a byte
CHAT_UPSTREAM_RETRIES: int = env.int("CHAT_UPSTREAM_RETRIES", default=1)  # SDK retries before streaming
CHAT_DEMO_DELAY: float = env.float("CHAT_DEMO_DELAY", default=0.045)  # the demo model's seconds per word

OAUTH_PROVIDERS: dict[str, dict[str, str]] = {
    key: config
    for key, config in {
        "github": {
            "name": "GitHub",
            "client_id": env.str("GITHUB_CLIENT_ID", default=""),
            "client_secret": env.str("GITHUB_CLIENT_SECRET", default=""),
            # GitHub Enterprise Server: https://github.example.com and https://github.example.com/api/v3/
            "web_url": env.str("GITHUB_URL", default="https://github.com").rstrip("/"),
            "api_url": env.str("GITHUB_API_URL", default="https://api.github.com/"),
        },
        "google": {
            "name": "Google",
            "client_id": env.str("GOOGLE_CLIENT_ID", default=""),
            "client_secret": env.str("GOOGLE_CLIENT_SECRET", default=""),
            "discovery_url": "https://accounts.google.com/.well-known/openid-configuration",
        },
        "oidc": {
            "name": env.str("OIDC_NAME", default="") or "Single sign-on",
            "client_id": env.str("OIDC_CLIENT_ID", default=""),
            "client_secret": env.str("OIDC_CLIENT_SECRET", default=""),
            "discovery_url": env.str("OIDC_DISCOVERY_URL", default=""),
        },
    }.items()
    if config["client_id"] and config["client_secret"]
}

# --- Logging ----------------------------------------------------------------------------------
# Every line carries the request id (core.request_id). LOG_FORMAT=json: one JSON object per line, for
# log drains; uvicorn's own loggers are taken over too, so the production command's output is uniform.
LOG_FORMAT: str = env.str("LOG_FORMAT", default="text")
_log_handler = {
    "class": "logging.StreamHandler",
    "formatter": "json" if LOG_FORMAT == "json" else "plain",
    "filters": ["request_id"],
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.request_id.JsonFormatter"},
    },
    "handlers": {"console": _log_handler},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes logs every failure at WARNING (kept) and its bookkeeping at INFO (not).
    "loggers": {
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "uvicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
if LOG_FORMAT == "json":
    import logging

    logging.captureWarnings(True)  # Python warnings as JSON lines too (py.warnings), not bare stderr text

# --- Error reporting (optional) ----------------------------------------------------------------
# SENTRY_DSN set: unhandled errors and error log lines go to Sentry (or any Sentry-compatible
# service), tagged with the request id. Unset: the SDK is not even imported.
SENTRY_DSN: str = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    from core.request_id import sentry_before_send

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration()],
        # Only what we name: auto-enabling would import every SDK it knows (anthropic alone costs seconds
        # at start-up) to patch it.
        auto_enabling_integrations=False,
        environment=env.str("SENTRY_ENVIRONMENT", default="production" if not DEBUG else "development"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
        before_send=sentry_before_send,
    )
