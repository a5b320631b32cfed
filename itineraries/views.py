"""Pages for itineraries and arrival verification: thin views over groups.checkin and itineraries.selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from groups import checkin
from groups.access import Role, actor_of
from groups.codes import CODE_PREFIX, public_key_hex
from itineraries import selectors
from itineraries.documents import attachment, itinerary_filename, itinerary_pdf
from itineraries.ics import itinerary_calendar
from retreat.errors import ApplicationError, Forbidden, NotFound
from retreat.pages import application_errors_as_pages
from retreat.pdf import qr_svg_data_uri

SCAN_PAGE_TEXTS = {
    "invalid": _("无效的核销码"),
    "invalid_detail": _("签名校验失败或格式错误"),
    "verified_here": _("签名已在本机用公钥校验"),
    "refused": _("核销被拒绝"),
    "arrived": _("已到"),
    "network": _("网络错误，请重试"),
    "no_camera": _("无法打开摄像头，请输入核销码"),
}


@login_required
@require_GET
@application_errors_as_pages
def scan_page(request):
    actor = actor_of(request.user)
    actor.require(Role.OPERATOR)
    return render(
        request,
        "groups/scan.html",
        {
            "bases": checkin.scanning_bases(actor),
            "scan_config": {
                "public_key_hex": public_key_hex(),
                "code_prefix": CODE_PREFIX,
                "check_in_url": reverse("api-v1:arrival_check_in"),
                "texts": SCAN_PAGE_TEXTS,
            },
        },
    )


@login_required
@require_GET
@application_errors_as_pages
def arrivals_today(request):
    actor = actor_of(request.user)
    day = _date_or_none(request.GET.get("date")) or timezone.localdate()
    base_id = _int_or_none(request.GET.get("base_id"))
    rows = checkin.arrivals_on(actor=actor, day=day, base_id=base_id)
    return render(
        request,
        "groups/arrivals_today.html",
        {"day": day, "rows": rows, "bases": checkin.scanning_bases(actor), "base_id": base_id, "is_today": day == timezone.localdate()},
    )


@login_required
@require_GET
@application_errors_as_pages
def arrival_stats(request):
    actor = actor_of(request.user)
    try:
        group_by = checkin.FigureGrouping(request.GET.get("group_by", checkin.FigureGrouping.MONTH))
    except ValueError:
        group_by = checkin.FigureGrouping.MONTH
    date_from = _date_or_none(request.GET.get("date_from"))
    date_to = _date_or_none(request.GET.get("date_to"))
    figures = checkin.arrival_figures(actor=actor, group_by=group_by, date_from=date_from, date_to=date_to)
    return render(
        request,
        "groups/arrival_stats.html",
        {
            "figures": figures,
            "total": checkin.arrival_totals(figures),
            "group_by": group_by,
            "groupings": [(g.value, label) for g, label in GROUPING_LABELS.items()],
            "date_from": date_from,
            "date_to": date_to,
        },
    )


GROUPING_LABELS = {
    checkin.FigureGrouping.MONTH: _("按月份"),
    checkin.FigureGrouping.BASE: _("按基地"),
    checkin.FigureGrouping.UNION: _("按工会"),
    checkin.FigureGrouping.BOOKING: _("按预订"),
}


@login_required
@application_errors_as_pages
def booking_arrivals(request, reference: str):
    actor = actor_of(request.user)
    if request.method == "POST":
        try:
            if "complete" in request.POST:
                checkin.booking_complete(actor=actor, reference=reference)
                messages.success(request, gettext("已标记为完成"))
            else:
                ids = [int(value) for value in request.POST.getlist("participant_ids") if value.isascii() and value.isdigit()]
                result = checkin.check_in_participants(actor=actor, reference=reference, participant_ids=ids)
                messages.success(request, result.message)
        except (NotFound, Forbidden):
            raise
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("booking-arrivals", reference=reference)
    detail = checkin.booking_arrivals(actor=actor, reference=reference)
    return render(request, "groups/booking_arrivals.html", {"detail": detail, "booking": detail.booking, "may_check_in": actor.is_operator})


# The builder's meals of a plain stay, Chinese words the page translates with {% translate meal %} (a route's
# own meals are free text and print as written).
PLAIN_STAY_MEALS = (gettext_noop("早餐"), gettext_noop("午餐"), gettext_noop("晚餐"))


@login_required
@require_GET
@application_errors_as_pages
def itinerary_page(request, reference: str):
    actor = actor_of(request.user)
    itinerary = selectors.itinerary_get(actor=actor, reference=reference)
    codes = selectors.booking_codes_get(actor=actor, reference=reference)
    return render(
        request,
        "itineraries/itinerary.html",
        {
            "itinerary": itinerary,
            "booking": codes.booking,
            "group_code": codes.group_code,
            "group_qr": qr_svg_data_uri(codes.group_code),
            "personal_codes": [(code, qr_svg_data_uri(code.code)) for code in codes.personal_codes],
        },
    )


@login_required
@require_GET
@application_errors_as_pages
def itinerary_pdf_download(request, reference: str):
    itinerary, group_code = selectors.printable_itinerary_get(actor=actor_of(request.user), reference=reference)
    return attachment(itinerary_pdf(itinerary, group_code=group_code), content_type="application/pdf", filename=itinerary_filename(itinerary, extension="pdf"))


@login_required
@require_GET
@application_errors_as_pages
def itinerary_ics_download(request, reference: str):
    itinerary = selectors.itinerary_get(actor=actor_of(request.user), reference=reference)
    calendar = itinerary_calendar(itinerary, stamp=timezone.now())
    return attachment(calendar, content_type="text/calendar; charset=utf-8", filename=itinerary_filename(itinerary, extension="ics"))


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def _date_or_none(value: str | None):
    """A well-formed but impossible date (2027-02-31) is ignored like a missing one."""
    try:
        return parse_date(value or "")
    except ValueError:
        return None
