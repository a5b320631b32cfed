"""Arrival verification and itineraries: /api/v1/itineraries/…"""

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate

from groups import checkin
from groups.access import actor_of
from groups.codes import CODE_PREFIX, public_key_hex, qr_png, qr_svg
from groups.idempotency import idempotent
from itineraries import selectors
from itineraries.documents import attachment, itinerary_filename, itinerary_pdf
from itineraries.ics import itinerary_calendar
from itineraries.schemas import (
    ArrivalFiguresOut,
    ArrivalsFilter,
    BookingArrivalDetailOut,
    BookingArrivalOut,
    BookingCodesOut,
    BookingStatusOut,
    CheckInIn,
    CheckInOut,
    FiguresFilter,
    ItineraryOut,
    ManualCheckInIn,
    PublicKeyOut,
    QrFilter,
)
from retreat.errors import NotFound
from retreat.pagination import BoundedPagination
from retreat.schemas import ERRORS

router = Router(tags=["itineraries"])


def _binary(description: str, content_type: str) -> dict:
    return {"responses": {200: {"description": description, "content": {content_type: {}}}}}


@router.get("/public-key", auth=None, response={200: PublicKeyOut, **ERRORS})
def public_key(request):
    """The Ed25519 public key that verifies every arrival code; no secret is needed to check one."""
    return PublicKeyOut(
        public_key_hex=public_key_hex(),
        code_prefix=CODE_PREFIX,
        format="RT1 + base32(body ‖ Ed25519 signature over 'RT1' ‖ body), see groups/codes.py",
    )


@router.post("/check-ins", response={200: CheckInOut, **ERRORS}, url_name="arrival_check_in")
@idempotent
def check_in(request, payload: CheckInIn):
    """Scan a group or personal code at one of the operator's bases; scanning twice is harmless.
    Accepts ``Idempotency-Key`` like every POST that changes a booking."""
    result = checkin.check_in_by_code(
        actor=actor_of(request.user), code=payload.code, participant_ids=payload.participant_ids, base_id=payload.base_id
    )
    return check_in_out(result)


@router.post("/bookings/{reference}/check-ins", response={200: CheckInOut, **ERRORS})
@idempotent
def check_in_manually(request, reference: str, payload: ManualCheckInIn):
    result = checkin.check_in_participants(actor=actor_of(request.user), reference=reference, participant_ids=payload.participant_ids)
    return check_in_out(result)


@router.post("/bookings/{reference}/complete", response={200: BookingStatusOut, **ERRORS})
@idempotent
def complete(request, reference: str):
    booking = checkin.booking_complete(actor=actor_of(request.user), reference=reference)
    return BookingStatusOut(reference=booking.reference, status=booking.status)


@router.get("/arrivals", response={200: list[BookingArrivalOut], **ERRORS})
@paginate(BoundedPagination)
def arrivals(request, filters: Query[ArrivalsFilter]):
    """Bookings arriving on a day (today by default) with expected and checked-in counts."""
    rows = checkin.arrivals_on(actor=actor_of(request.user), day=filters.date or timezone.localdate(), base_id=filters.base_id)
    return [booking_arrival_out(row.booking, row.count) for row in rows]


@router.get("/arrivals/figures", response={200: ArrivalFiguresOut, **ERRORS})
def arrival_figures(request, filters: Query[FiguresFilter]):
    """Arrivals and no-shows per booking, base, union or month of arrival."""
    figures = checkin.arrival_figures(actor=actor_of(request.user), **filters.dict())
    return {"group_by": filters.group_by, "rows": figures, "total": checkin.arrival_totals(figures)}


@router.get("/bookings/{reference}/arrivals", response={200: BookingArrivalDetailOut, **ERRORS})
def booking_arrivals(request, reference: str):
    detail = checkin.booking_arrivals(actor=actor_of(request.user), reference=reference)
    return {
        **booking_arrival_out(detail.booking, detail.count),
        "participants": [
            {
                "participant_id": row.participant.pk,
                "name": row.participant.name,
                "checked_in_at": row.check_in.at if row.check_in else None,
                "method": row.check_in.method if row.check_in else None,
                "no_show": row.no_show,
            }
            for row in detail.participants
        ],
    }


@router.get("/bookings/{reference}", response={200: ItineraryOut, **ERRORS})
def itinerary(request, reference: str):
    return selectors.itinerary_get(actor=actor_of(request.user), reference=reference)


@router.get("/bookings/{reference}/itinerary.pdf", response=ERRORS, openapi_extra=_binary("行程单 PDF", "application/pdf"))
def itinerary_as_pdf(request, reference: str):
    trip, group_code = selectors.printable_itinerary_get(actor=actor_of(request.user), reference=reference)
    pdf = itinerary_pdf(trip, group_code=group_code)
    return attachment(pdf, content_type="application/pdf", filename=itinerary_filename(trip, extension="pdf"))


@router.get("/bookings/{reference}/itinerary.ics", response=ERRORS, openapi_extra=_binary("行程日历", "text/calendar"))
def itinerary_as_ics(request, reference: str):
    trip = selectors.itinerary_get(actor=actor_of(request.user), reference=reference)
    calendar = itinerary_calendar(trip, stamp=timezone.now())
    return attachment(calendar, content_type="text/calendar; charset=utf-8", filename=itinerary_filename(trip, extension="ics"))


@router.get("/bookings/{reference}/codes", response={200: BookingCodesOut, **ERRORS})
def codes(request, reference: str):
    """The group code and every participant's personal code."""
    found = selectors.booking_codes_get(actor=actor_of(request.user), reference=reference)
    return {
        "reference": found.booking.reference,
        "group_code": found.group_code,
        "personal_codes": [
            {"participant_id": code.participant.pk, "name": code.participant.name, "code": code.code}
            for code in found.personal_codes
        ],
    }


@router.get("/bookings/{reference}/codes/qr", response=ERRORS, openapi_extra=_binary("QR 码", "image/svg+xml"))
def code_qr(request, reference: str, filters: Query[QrFilter]):
    found = selectors.booking_codes_get(actor=actor_of(request.user), reference=reference)
    code = found.group_code
    if filters.participant_id is not None:
        code = next((c.code for c in found.personal_codes if c.participant.pk == filters.participant_id), None)
        if code is None:
            raise NotFound(
                _("预订 %(reference)s 没有该参加人员") % {"reference": reference},
                detail={"participant_id": filters.participant_id},
            )
    if filters.image == "png":
        return HttpResponse(qr_png(code), content_type="image/png")
    return HttpResponse(qr_svg(code), content_type="image/svg+xml")


def check_in_out(result: checkin.CheckInResult) -> dict:
    booking = result.booking
    return {
        "reference": booking.reference,
        "batch_title": booking.batch.title,
        "union_name": booking.union.name,
        "base_name": booking.base.name,
        "arrival": booking.arrival,
        "last_night": booking.last_night,
        "status": booking.status,
        "method": result.method.value,
        "message": result.message,
        "people": result.people,
        "checked_in_now": len(result.checked_in_now),
        "already_checked_in": len(result.already_checked_in),
        "expected": result.expected,
        "arrived": result.arrived,
    }


def booking_arrival_out(booking, count) -> dict:
    return {
        "reference": booking.reference,
        "batch_title": booking.batch.title,
        "union_name": booking.union.name,
        "base_id": booking.base_id,
        "base_name": booking.base.name,
        "arrival": booking.arrival,
        "last_night": booking.last_night,
        "status": booking.status,
        "count": count,
    }
