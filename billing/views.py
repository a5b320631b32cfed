"""Pages of the fund manager, the base operator and the organiser: thin over selectors and services."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import charts, documents, selectors, services
from billing.models import Settlement
from groups.access import actor_of
from retreat.errors import ApplicationError, NotFound, ValidationFailed


def billing_page(view):
    """Signed in, acting as someone; a missing or foreign object is a plain 404.

    Any other domain error (a bad month, a role that may not do this, a booking
    that cannot be priced) is a page with its message and the error's 4xx status,
    never a 500.
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, actor_of(request.user), *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except ApplicationError as error:
            return render(request, "billing/refused.html", {"error": error}, status=error.status)

    return wrapper


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _month(request) -> dt.date:
    text = request.GET.get("month") or timezone.localdate().strftime("%Y-%m")
    return selectors.parse_month(text)


@billing_page
def programme_list(request, actor):
    programmes = list(selectors.programme_list(actor=actor))
    return render(request, "billing/programme_list.html", {"programmes": programmes})


@billing_page
def programme_detail(request, actor, programme_id: int):
    programme = selectors.programme_get(actor=actor, programme_id=programme_id)
    chart = charts.usage_chart_svg(points=selectors.programme_usage(actor=actor, programme_id=programme_id), budget=programme.budget)
    return render(
        request,
        "billing/programme_detail.html",
        {
            "programme": programme,
            "chart": mark_safe(chart),  # built from numbers and escaped dates only
            "entries": selectors.ledger_entry_list(actor=actor, programme_id=programme_id)[:100],
        },
    )


@billing_page
def settlement_queue(request, actor):
    status = request.GET.get("status", "submitted" if actor.is_fund_manager else "")
    if status and status not in Settlement.Status.values:
        status = ""
    return render(
        request,
        "billing/settlement_queue.html",
        {
            "settlements": selectors.settlement_list(actor=actor, status=status or None)[:200],
            "status": status,
            "statuses": Settlement.Status.choices,
            "to_settle": selectors.bookings_to_settle(actor=actor, today=timezone.localdate())[:200],
        },
    )


@billing_page
def settlement_detail(request, actor, settlement_id: int):
    settlement = selectors.settlement_get(actor=actor, settlement_id=settlement_id)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "approve":
                services.settlement_approve(
                    actor=actor, settlement_id=settlement.pk, now=timezone.now(), expected_submitted_at=_submitted_at(request)
                )
                messages.success(request, _("结算单 %(number)s 已批准") % {"number": settlement.number})
            else:
                services.settlement_reject(
                    actor=actor, settlement_id=settlement.pk, reason=request.POST.get("reason", ""), now=timezone.now()
                )
                messages.success(request, _("结算单 %(number)s 已退回") % {"number": settlement.number})
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("billing-settlement", settlement_id=settlement.pk)
    context = documents.settlement_context(settlement, documents.page_language())
    return render(request, "billing/settlement_detail.html", context | {"actor": actor})


def _submitted_at(request) -> dt.datetime | None:
    """The submission the approve form was rendered for (a hidden field); absent for older forms."""
    text = request.POST.get("submitted_at")
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("表单已过期，请刷新后重试")) from None
    return value if timezone.is_aware(value) else None


@billing_page
def settlement_pdf(request, actor, settlement_id: int):
    settlement = selectors.settlement_get(actor=actor, settlement_id=settlement_id)
    return _pdf(documents.settlement_pdf(settlement=settlement), f"{settlement.number}.pdf")


@billing_page
def settlement_submit(request, actor, booking_id: int):
    """The operator's actuals: prefilled from the check-ins, editable, with extras."""
    rows = selectors.settlement_prefill(actor=actor, booking_id=booking_id)
    booking = selectors.booking_for_operator(actor=actor, booking_id=booking_id)
    if request.method == "POST":
        try:
            arrivals = [
                services.ArrivalActual(participant_id=row.participant_id, nights=int(request.POST.get(f"nights-{row.participant_id}") or 0))
                for row in rows
                if request.POST.get(f"arrived-{row.participant_id}")
            ]
            extras = [
                services.ExtraActual(name=name.strip(), amount=Decimal(amount), basis=basis)
                for name, amount, basis in zip(
                    request.POST.getlist("extra-name"), request.POST.getlist("extra-amount"), request.POST.getlist("extra-basis")
                )
                if name.strip() or amount.strip()
            ]
            settlement = services.settlement_submit(actor=actor, booking_id=booking_id, arrivals=arrivals, extras=extras, now=timezone.now())
        except (ValueError, InvalidOperation):
            messages.error(request, _("晚数或金额格式有误"))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("结算单 %(number)s 已提交") % {"number": settlement.number})
            return redirect("billing-settlement", settlement_id=settlement.pk)
    return render(request, "billing/settlement_submit.html", {"booking": booking, "rows": rows, "extra_slots": range(3)})


@billing_page
def cost_split(request, actor, booking_id: int):
    """The organiser's view of who pays what before confirming; ``?partial=1`` for embedding."""
    preview = selectors.cost_split_preview(actor=actor, booking_id=booking_id)
    context = documents.preview_context(preview, documents.page_language())
    template = "billing/_cost_split.html" if request.GET.get("partial") else "billing/cost_split.html"
    return render(request, template, context)


@billing_page
def statements(request, actor):
    try:
        month = _month(request) if request.GET.get("month") else _statements_default_month(actor)
    except ApplicationError as error:
        messages.error(request, error.message)
        month = timezone.localdate().replace(day=1)
    settlements = list(selectors.settlements_of_month(actor=actor, month=month))
    return render(
        request,
        "billing/statements.html",
        {
            "month": month,
            "settlements": settlements,
            "bases": sorted({s.booking.base for s in settlements}, key=lambda base: base.pk),
            "programmes": selectors.programmes_of_settlements(settlements=settlements),
            "batches": selectors.month_batch_list(actor=actor)[:10],
        },
    )


def _statements_default_month(actor) -> dt.date:
    """With no month asked for: the latest month that has settlements, else the current month."""
    return selectors.latest_settlement_month(actor=actor) or timezone.localdate().replace(day=1)


@billing_page
def base_statement(request, actor, base_id: int):
    month = _month(request)
    base = selectors.base_of_actor(actor=actor, base_id=base_id)
    settlements = list(selectors.settlements_of_month(actor=actor, month=month))
    return _pdf(documents.base_statement_pdf(base=base, month=month, settlements=settlements), f"base-{base.pk}-{month:%Y-%m}.pdf")


@billing_page
def programme_statement(request, actor, programme_id: int):
    month = _month(request)
    programme = selectors.programme_get(actor=actor, programme_id=programme_id)
    settlements = list(selectors.settlements_of_month(actor=actor, month=month))
    return _pdf(
        documents.programme_statement_pdf(programme=programme, month=month, settlements=settlements),
        f"programme-{programme.pk}-{month:%Y-%m}.pdf",
    )


@billing_page
def export(request, actor, file_format: str):
    month = _month(request)
    settlements = list(selectors.settlements_of_month(actor=actor, month=month))
    if file_format == "xlsx":
        content = documents.settlements_xlsx(settlements=settlements, title=f"{month:%Y-%m}")
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content, content_type = documents.settlements_csv(settlements=settlements), "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="settlements-{month:%Y-%m}.{file_format}"'
    return response


@require_POST
@billing_page
def month_batch_start(request, actor):
    try:
        batch = services.month_batch_start(actor=actor, month=_month(request), now=timezone.now())
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("billing-statements")
    return redirect("billing-month-batch", batch_id=batch.pk)


@billing_page
def month_batch_detail(request, actor, batch_id: int):
    batch = selectors.month_batch_get(actor=actor, batch_id=batch_id)
    return render(request, "billing/month_batch.html", {"batch": batch})


@billing_page
def month_batch_download(request, actor, batch_id: int):
    batch = selectors.month_batch_get(actor=actor, batch_id=batch_id)
    if not batch.archive:
        raise Http404(_("压缩包尚未生成"))
    return FileResponse(batch.archive.open("rb"), as_attachment=True, filename=f"结算单-{batch.month:%Y-%m}.zip")


def verify(request, token: str):
    """Public: what the QR code on a printed settlement opens. Totals only, no personal data."""
    try:
        settlement = selectors.settlement_by_verify_token(token=token)
    except NotFound as error:
        raise Http404(error.message) from error
    return render(request, "billing/verify.html", {"settlement": settlement, "booking": settlement.booking})
