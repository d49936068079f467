# syntax=docker/dockerfile:1
# Twofold's production image: Python 3.13, the locked dependencies (no dev tools), static files
# collected and compressed at build time, a non-root user, and the one production web command.
FROM python:3.13-slim-bookworm

# uv, pinned, from its official image (https://docs.astral.sh/uv/guides/integration/docker/).
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /uvx /bin/

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH="/app/.venv/bin:$PATH" \
    PORT=8000

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when the lock file changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project

COPY . .

# Static files are hashed and compressed once, here; whitenoise serves them with far-future caching.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0

RUN useradd --create-home --uid 10001 app && chown -R app /app
USER app

EXPOSE 8000
# For the web command only: docker-compose.yml disables it for the worker and migrate containers,
# which run this image with another command and serve no HTTP.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=2)"

# The production web command (same as `make serve-prod`). Migrations run as a release step:
# `python manage.py migrate --noinput` (docker compose's `migrate` service does it).
CMD ["python", "-m", "saas.serve"]
