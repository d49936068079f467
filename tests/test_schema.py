"""The OpenAPI schema describes the API: checked on its own, and by schemathesis fuzzing the running
production app (uvicorn serving saas.server:app) with a bearer token.

Left out of the fuzzing: the Stripe webhook (every request without a valid signature is a 400 by
design, so random bodies test nothing) and the chat stream (text/event-stream, which schemathesis
cannot check against a schema, and each call runs a model answer). Both have their own tests.
"""

import subprocess
import sys
from pathlib import Path
from typing import Any

from django.test import Client

from tests.conftest import needs
from tests.prod_server import ROOT, manage, running_app


def _schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


@needs("posts")  # it reads and fuzzes the posts endpoints
def test_the_post_list_is_described_as_the_paginated_object_it_is(client: Client, db: None) -> None:
    schema = _schema(client)
    ok = schema["paths"]["/api/v1/posts/"]["get"]["responses"]["200"]["content"]["application/json"]

    page = _resolve(schema, ok["schema"])

    assert page["type"] == "object"
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    assert page["properties"]["results"]["type"] == "array"
    assert {p["name"] for p in schema["paths"]["/api/v1/posts/"]["get"]["parameters"]} >= {
        "page",
        "page_size",
    }


def test_the_profile_patch_is_described_with_the_rules_it_enforces(client: Client, db: None) -> None:
    schema = _schema(client)
    body = schema["paths"]["/api/v1/me/"]["patch"]["requestBody"]["content"]["application/json"]

    fields = _resolve(schema, body["schema"])["properties"]

    assert fields["display_name"]["type"] == "string"
    assert (fields["display_name"]["minLength"], fields["display_name"]["maxLength"]) == (1, 60)
    assert fields["bio"]["maxLength"] == 280
    zone = _resolve(schema, fields["time_zone"])
    assert "UTC" in zone["enum"]
    assert "Mars/Base" not in zone["enum"]


@needs("posts")  # it reads and fuzzes the posts endpoints
def test_created_responses_document_location(client: Client, db: None) -> None:
    schema = _schema(client)

    for path in ("/api/v1/posts/", "/api/v1/auth/token/"):
        created = schema["paths"][path]["post"]["responses"]["201"]
        assert "Location" in created["headers"], path


@needs("posts")  # it reads and fuzzes the posts endpoints
def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    with running_app(
        tmp_path,
        API_THROTTLE_USER="100000/min",
        API_THROTTLE_ANON="100000/min",
        API_THROTTLE_AUTH="100000/min",
        # The fuzzer sends wrong passwords for the account whose token it uses.
        LOGIN_THROTTLE_LIMIT="100000",
    ) as (base, env):
        token = manage(
            env,
            "shell",
            "-c",
            "from accounts.models import User; from accounts.tokens import api_token_create;"
            "user = User.objects.create_user(email='fuzz@example.com', password='fuzz-password-42');"
            "print(api_token_create(user=user, name='fuzz')[1])",
        ).splitlines()[-1]  # the shell may print its auto-imports first
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{base}/api/schema/",
                "--url",
                base,
                "--header",
                f"Authorization:Bearer {token}",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_headers_conformance,response_schema_conformance",
                "--exclude-path",
                "/api/webhooks/stripe/",
                # (The chat stream is not in the schema: an SSE body has none to check.)
                # Revoking the token the fuzzer authenticates with would leave it nothing but 401s.
                "--exclude-operation-id",
                "api_v1_auth_token_destroy",
                "--max-examples",
                "15",
                "--max-time",
                "30",
                "--seed",
                "1",
                "--workers",
                "1",
                "--generation-database",
                "none",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
