"""The one production web command: `python -m saas.serve`.

Used by the Dockerfile, docker-compose.yml, `make serve-prod` and the deploy docs alike, so the
server is configured in one place: uvicorn (httptools, uvloop) serving `saas.server:app`, which sends
sync views to Django's WSGI handler and async views (the chat stream) to its ASGI handler.

Environment: PORT (8000), HOST (0.0.0.0), WEB_CONCURRENCY (1 process), WEB_THREADS (threads per process
for sync views), FORWARDED_ALLOW_IPS (proxies trusted for X-Forwarded-For/-Proto; 127.0.0.1),
WEB_ACCESS_LOG (true).
"""

import os

import uvicorn


def main() -> None:
    uvicorn.run(
        "saas.server:app",
        host=os.environ.get("HOST", "0.0.0.0"),  # noqa: S104 - a server in a container listens on all interfaces
        port=int(os.environ.get("PORT", "8000")),
        workers=int(os.environ.get("WEB_CONCURRENCY", "1")),
        http="httptools",
        loop="uvloop",
        lifespan="on",
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        server_header=False,
        access_log=os.environ.get("WEB_ACCESS_LOG", "true").lower() in {"1", "true", "yes", "on"},
        timeout_graceful_shutdown=20,
        timeout_keep_alive=5,
    )


if __name__ == "__main__":
    main()
