"""One family of domain errors, mapped to one error shape by one handler.

Services raise these; the API turns them into ``{"code", "message", "detail"}``
with the status below, and pages show the message. Nothing is changed when one
is raised inside a service's transaction.
"""

from typing import Any

from django.utils.translation import gettext


class ApplicationError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, detail: Any = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        if code:
            self.code = code


class ValidationFailed(ApplicationError):
    status = 422
    code = "validation_error"


class NotFound(ApplicationError):
    """Also raised for another tenant's object: it must look like it does not exist."""

    status = 404
    code = "not_found"


class Forbidden(ApplicationError):
    status = 403
    code = "forbidden"


class Conflict(ApplicationError):
    """The request is valid but the current state does not allow it."""

    status = 409
    code = "conflict"


class Busy(Conflict):
    """A lock timeout or deadlock: nothing changed, the client may retry."""

    code = "busy"

    def __init__(self, message: str | None = None, **kwargs):
        super().__init__(message or gettext("系统繁忙，请重试"), **kwargs)
