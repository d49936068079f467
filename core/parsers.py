"""The API's JSON parser: DRF's, decoding through `core.jsonparse` and within the body limit."""

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

from core.jsonparse import InvalidJSON, json_loads_limited


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 400 what would otherwise be a 500 (deep nesting), and with a
    413 a body over DATA_UPLOAD_MAX_MEMORY_SIZE: DRF reads the request stream itself, past the
    limit Django applies to `request.body` and forms."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        limit: int | None = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise RequestBodyTooLarge(f"Request body too large: the limit is {limit} bytes.")
        try:
            return json_loads_limited(body)
        except InvalidJSON as error:
            raise ParseError(str(error)) from None
