from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    """The one shape of every 4xx answer."""

    code: str
    message: str
    detail: Any = None


# Spread into ``response={...}`` so every endpoint declares its error codes.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
