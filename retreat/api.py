"""The API root: one NinjaAPI, one router per app, one error shape."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from retreat.auth import api_auth
from retreat.errors import ApplicationError
from retreat.locking import is_busy_error
from retreat.parsers import NUL_MESSAGE, RejectingNulParser

api = NinjaAPI(
    title="职工疗休养预订与统筹 API",
    version="1",
    urls_namespace="api-v1",
    docs_url=None,
    auth=api_auth,
    parser=RejectingNulParser(),
)


def error_response(request, status: int, code: str, message: str, detail=None):
    return api.create_response(request, {"code": code, "message": message, "detail": detail}, status=status)


@api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    return error_response(request, exc.status, exc.code, exc.message, exc.detail)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    detail = [
        {"loc": [str(part) for part in error.get("loc", [])], "msg": error.get("msg", ""), "type": error.get("type", "")}
        for error in exc.errors
    ]
    where = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in detail)
    return error_response(request, 422, "validation_error", _("请求参数有误：%(where)s") % {"where": where}, detail)


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request, exc: DjangoValidationError):
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return error_response(request, 422, "validation_error", "; ".join(exc.messages), detail)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return error_response(request, 401, "unauthenticated", _("请先登录或提供有效令牌"))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return error_response(request, 403, "forbidden", str(exc) or _("无权访问"))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, 404, "not_found", _("对象不存在"))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, NinjaValidationError):  # the parser refused the body (a NUL character)
        return on_validation_error(request, exc.__cause__)
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return error_response(request, 400, "bad_request", _("请求体不是有效的 JSON"))
    return error_response(request, exc.status_code, "error", str(exc))


@api.exception_handler(ValueError)
def on_value_error(request, exc: ValueError):
    # A NUL in a path parameter: the parser never sees those, the database refuses them.
    if "NUL (0x00)" in str(exc):
        return error_response(request, 422, "validation_error", _("请求参数有误：%(where)s") % {"where": NUL_MESSAGE})
    raise exc


@api.exception_handler(DatabaseError)
def on_database_error(request, exc: DatabaseError):
    if is_busy_error(exc):
        return error_response(request, 409, "busy", _("系统繁忙，请重试"))
    if isinstance(exc, DataError):  # a number or date the database cannot hold; the transaction was rolled back
        return error_response(request, 422, "validation_error", _("请求参数超出可接受范围"))
    raise exc


def _mount_routers() -> None:
    from bases.api import router as bases_router
    from billing.api import router as billing_router
    from groups.api import router as groups_router
    from itineraries.api import router as itineraries_router
    from itineraries.planning_api import router as planning_router

    api.add_router("/", groups_router)
    api.add_router("/bases", bases_router)
    api.add_router("/itineraries", itineraries_router)
    api.add_router("/billing", billing_router)
    api.add_router("/planning", planning_router)


_mount_routers()
