"""The error answers every endpoint can give, added to the OpenAPI schema once instead of on each view.

drf-spectacular documents what a view declares; the errors come from the layers around it (the
authentication classes, the throttles, the body limit, `get_object_or_404`), so a schema built from
the views alone says an endpoint never answers 401 or 429, and a client generated from it breaks on
them. This hook adds them where they can happen, all with the same `{"detail": ...}` body.
"""

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "A stable code where one is given, e.g. `token_limit`."},
    },
    "required": ["detail"],
}
# A 400 is either `{"detail": ...}` (a body that is not JSON) or field errors: `{"title": ["..."]}`.
INVALID_COMPONENT = "ValidationError"
INVALID_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "additionalProperties": {"description": "The errors of the field of this name (a list of messages)."},
}
WRITE_METHODS = {"post", "put", "patch"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _error(
    description: str, *, retry_after: bool = False, component: str = ERROR_COMPONENT
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }
    if retry_after:
        response["headers"] = {
            "Retry-After": {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before trying again.",
            }
        }
    return response


def _requires_auth(operation: dict[str, Any], default_security: list[dict[str, Any]]) -> bool:
    security = operation.get("security", default_security)
    # An empty requirement object ({}) means "anonymous is allowed".
    return bool(security) and all(requirement for requirement in security)


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: document 400/401/403/404/413/429 where they apply."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = ERROR_SCHEMA
    schemas[INVALID_COMPONENT] = INVALID_SCHEMA
    default_security = result.get("security", [])
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            extra: dict[str, dict[str, Any]] = {}
            if method in WRITE_METHODS:
                extra["400"] = _error(
                    "The body is not valid JSON, or fields are invalid.", component=INVALID_COMPONENT
                )
                extra["413"] = _error("The request body is over the size limit.")
            if _requires_auth(operation, default_security):
                extra["401"] = _error("No valid credentials: send `Authorization: Bearer <token>`.")
                extra["403"] = _error("Authenticated, but not allowed to do this.")
            else:
                # Wrong credentials where the body carries them (the token endpoint).
                extra["401"] = _error("The credentials are not valid.")
            if "{" in path:
                extra["404"] = _error("No such object, or not yours.")
            elif any(parameter.get("name") == "page" for parameter in operation.get("parameters", [])):
                extra["404"] = _error("No such page of the list.")
            extra["429"] = _error("Too many requests, or too many failed logins.", retry_after=True)
            for status, response in extra.items():
                responses.setdefault(status, response)
    return result
