"""Answers under /api/ keep the one error shape even when no endpoint was reached."""

import json

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from retreat.errors import ValidationFailed
from retreat.pages import has_nul, refused_page
from retreat.parsers import NUL_MESSAGE

API_PREFIX = "/api/v1/"
MESSAGES = {  # lazy: translated per request, and str()-ed before json.dumps
    404: ("not_found", _("接口不存在")),
    405: ("method_not_allowed", _("该接口不支持此请求方法")),
}


class ApiErrorShapeMiddleware:
    """Turns Django's HTML 404 (no URL matched) and ninja's bare 405 into ``{code, message, detail}``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code in MESSAGES
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = MESSAGES[response.status_code]
            detail = {"path": request.path, "method": request.method}
            if response.status_code == 405:
                detail["allowed"] = [m.strip() for m in response.get("Allow", "").split(",") if m.strip()]
            shaped = HttpResponse(
                json.dumps({"code": code, "message": str(message), "detail": detail}, ensure_ascii=False),
                status=response.status_code, content_type="application/json; charset=utf-8",
            )
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response


class PageNulMiddleware:
    """Every page refuses a NUL in its address or form with a 422 page, before any view runs; the API's
    parser does the same for its JSON and queries, naming the field."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX) and has_nul(request):
            return refused_page(request, ValidationFailed(str(NUL_MESSAGE), code="nul_character"))
        return self.get_response(request)
