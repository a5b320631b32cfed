import datetime as dt

from django.contrib.auth import authenticate, login, logout
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from groups import bookings, selectors, services
from groups.access import actor_of
from groups.idempotency import idempotent
from groups.models import Booking
from groups.rooming import Placement
from groups.schemas import (
    BatchIn,
    BatchOut,
    BookingDetailOut,
    BookingOut,
    CancellationQuoteOut,
    CancelIn,
    EligibilityOut,
    ExportFormat,
    HoldIn,
    ImportOut,
    LoginIn,
    MeOut,
    OrganisationOut,
    ParticipantOut,
    ReduceIn,
    RoomingIn,
    RoomingOut,
    RoomTypeAvailabilityOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    WaitlistIn,
    WaitlistOut,
)
from retreat.errors import ApplicationError, ValidationFailed
from retreat.pagination import BoundedPagination
from retreat.schemas import ERRORS

router = Router(tags=["accounts"])


class UnionFilter(Schema):
    kind: str | None = None
    region: str | None = None
    q: str | None = None


@router.post("/auth/login", auth=None, response={200: MeOut, **ERRORS})
def auth_login(request, payload: LoginIn):
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        raise ApplicationError(_("用户名或密码错误"), code="bad_credentials")
    login(request, user)
    return me(request)


@router.post("/auth/logout", response={204: None, **ERRORS})
def auth_logout(request):
    logout(request)
    return 204, None


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request):
    actor = actor_of(request.user)
    return MeOut(
        username=request.user.username,
        full_name=request.user.first_name,
        role=actor.role,
        organisation_id=actor.organisation.pk,
        organisation_name=actor.organisation.name,
        organisation_kind=actor.organisation.kind,
    )


@router.get("/unions", response={200: list[OrganisationOut], **ERRORS})
@paginate(BoundedPagination)
def union_list(request, filters: Query[UnionFilter]):
    return selectors.union_list(actor=actor_of(request.user), **filters.dict())


@router.get("/unions/{union_id}", response={200: OrganisationOut, **ERRORS})
def union_detail(request, union_id: int):
    return selectors.union_get(actor=actor_of(request.user), union_id=union_id)


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
@paginate(BoundedPagination)
def token_list(request):
    return selectors.api_token_list(actor=actor_of(request.user))


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS})
def token_create(request, payload: TokenIn):
    token, raw = services.api_token_create(actor=actor_of(request.user), name=payload.name)
    return 201, {**TokenOut.from_orm(token).dict(), "token": raw}


@router.delete("/tokens/{token_id}", response={200: TokenOut, **ERRORS})
def token_revoke(request, token_id: int):
    return services.api_token_revoke(actor=actor_of(request.user), token_id=token_id)


# --- batches and participants -----------------------------------------------------------


class BatchFilter(Schema):
    q: str | None = None


@router.get("/batches", response={200: list[BatchOut], **ERRORS}, tags=["batches"])
@paginate(BoundedPagination)
def batch_list(request, filters: Query[BatchFilter]):
    return selectors.batch_list(actor=actor_of(request.user), q=filters.q)


@router.post("/batches", response={201: BatchOut, **ERRORS}, tags=["batches"])
def batch_create(request, payload: BatchIn):
    return 201, services.batch_create(actor=actor_of(request.user), **payload.dict())


@router.get("/batches/{batch_id}", response={200: BatchOut, **ERRORS}, tags=["batches"])
def batch_detail(request, batch_id: int):
    return selectors.batch_get(actor=actor_of(request.user), batch_id=batch_id)


@router.get("/batches/{batch_id}/participants", response={200: list[ParticipantOut], **ERRORS}, tags=["batches"])
@paginate(BoundedPagination)
def participant_list(request, batch_id: int):
    actor = actor_of(request.user)
    batch = selectors.batch_get(actor=actor, batch_id=batch_id)
    full = selectors.may_see_full_ids(actor=actor, batch=batch)
    return [_participant_out(p, full) for p in selectors.participant_list(actor=actor, batch_id=batch_id)]


def _participant_out(participant, full_ids: bool) -> dict:
    from groups.identity import decrypt_resident_id

    return {
        "id": participant.pk, "name": participant.name,
        "id_number": decrypt_resident_id(participant.id_encrypted) if full_ids else participant.id_masked,
        "birth_date": participant.birth_date, "gender": participant.gender, "phone": participant.phone,
        "employer": participant.employer, "job_title": participant.job_title, "category": participant.category,
        "family_of_id": participant.family_of_id, "room_type_id": participant.room_type_id, "room_label": participant.room_label,
    }


@router.delete("/batches/{batch_id}/participants/{int:participant_id}", response={204: None, **ERRORS}, tags=["batches"])
def participant_remove(request, batch_id: int, participant_id: int):
    """Take a person off the list before check-in starts; give back their place with ``/bookings/{id}/reduce``."""
    services.participant_remove(actor=actor_of(request.user), batch_id=batch_id, participant_id=participant_id)
    return 204, None


@router.post("/batches/{batch_id}/participants/import", response={201: ImportOut, **ERRORS}, tags=["batches"])
def participant_import(request, batch_id: int, file: File[UploadedFile]):
    """CSV (UTF-8 or GBK) or XLSX; all or nothing. A 422 lists every bad row in ``detail.rows``."""
    result = services.participants_import(
        actor=actor_of(request.user), batch_id=batch_id, content=file.read(), filename=file.name or ""
    )
    return 201, {"created": result.created}


@router.get("/batches/{batch_id}/participants/export", response={200: None, **ERRORS}, tags=["batches"])
def participant_export(request, batch_id: int, query: Query[ExportFormat]):
    content, content_type, filename = selectors.participant_export(
        actor=actor_of(request.user), batch_id=batch_id, file_format=query.format
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/batches/{batch_id}/rooming", response={200: list[RoomingOut], **ERRORS}, tags=["batches"])
def rooming_list(request, batch_id: int):
    return list(selectors.participant_list(actor=actor_of(request.user), batch_id=batch_id))


@router.post("/batches/{batch_id}/rooming/propose", response={200: list[RoomingOut], **ERRORS}, tags=["batches"])
def rooming_propose(request, batch_id: int):
    return services.rooming_propose(actor=actor_of(request.user), batch_id=batch_id)


@router.put("/batches/{batch_id}/rooming", response={200: list[RoomingOut], **ERRORS}, tags=["batches"])
def rooming_save(request, batch_id: int, payload: RoomingIn):
    placements = {p.participant_id: Placement(p.room_type_id, p.room_label) for p in payload.placements}
    return services.rooming_save(actor=actor_of(request.user), batch_id=batch_id, placements=placements)


@router.get("/batches/{batch_id}/eligibility", response={200: EligibilityOut, **ERRORS}, tags=["batches"])
def batch_eligibility(request, batch_id: int):
    failures = selectors.batch_eligibility(actor=actor_of(request.user), batch_id=batch_id)
    return {"eligible": not failures, "failures": [f.__dict__ for f in failures]}


# --- availability, bookings, waitlist ---------------------------------------------------


class AvailabilityQuery(Schema):
    base_id: int
    arrival: dt.date
    nights: int = Field(..., ge=1, le=30)


@router.get("/availability", response={200: list[RoomTypeAvailabilityOut], **ERRORS}, tags=["bookings"])
def availability(request, query: Query[AvailabilityQuery]):
    return selectors.stay_availability(actor=actor_of(request.user), **query.dict())


class BookingFilter(Schema):
    status: str | None = None
    base_id: int | None = None
    batch_id: int | None = None


@router.get("/bookings", response={200: list[BookingOut], **ERRORS}, tags=["bookings"])
@paginate(BoundedPagination)
def booking_list(request, filters: Query[BookingFilter]):
    return selectors.booking_list(actor=actor_of(request.user), **filters.dict()).prefetch_related("lines__room_type")


@router.get("/bookings/{booking_id}", response={200: BookingDetailOut, **ERRORS}, tags=["bookings"])
def booking_detail(request, booking_id: int):
    return selectors.booking_get(actor=actor_of(request.user), booking_id=booking_id)


@router.post("/bookings", response={201: BookingOut, **ERRORS}, tags=["bookings"])
@idempotent
def booking_hold(request, payload: HoldIn):
    """Hold rooms for every night (``base_id``, ``arrival``, ``nights``, ``rooms``), or seats and lodging of a
    route departure (``route_departure_id``, ``people``); all or nothing. Accepts ``Idempotency-Key``."""
    actor = actor_of(request.user)
    if payload.route_departure_id is not None:
        if payload.people is None or payload.rooms or payload.base_id is not None:
            raise ValidationFailed(_("线路预订只填 route_departure_id 和 people"))
        booking = bookings.booking_hold_route(
            actor=actor, batch_id=payload.batch_id, departure_id=payload.route_departure_id, people=payload.people
        )
    else:
        if payload.base_id is None or payload.arrival is None or payload.nights is None or not payload.rooms:
            raise ValidationFailed(
                _("请填写 base_id、arrival、nights 和 rooms"),
                detail={"required": ["base_id", "arrival", "nights", "rooms"]},
            )
        booking = bookings.booking_hold(
            actor=actor, batch_id=payload.batch_id, base_id=payload.base_id, arrival=payload.arrival, nights=payload.nights,
            rooms=[bookings.RoomRequest(r.room_type_id, r.rooms, r.people) for r in payload.rooms],
        )
    return 201, booking


@router.post("/bookings/{booking_id}/confirm", response={200: BookingOut, **ERRORS}, tags=["bookings"])
@idempotent
def booking_confirm(request, booking_id: int):
    return bookings.booking_confirm(actor=actor_of(request.user), booking_id=booking_id)


@router.post("/bookings/{booking_id}/cancel", response={200: BookingOut, **ERRORS}, tags=["bookings"])
@idempotent
def booking_cancel(request, booking_id: int, payload: CancelIn | None = None):
    return bookings.booking_cancel(actor=actor_of(request.user), booking_id=booking_id, reason=payload.reason if payload else "")


@router.get("/bookings/{booking_id}/cancellation-quote", response={200: CancellationQuoteOut, **ERRORS}, tags=["bookings"])
def booking_cancellation_quote(request, booking_id: int):
    """The base's cancellation policy and what cancelling the whole booking today would cost; changes nothing."""
    quote = selectors.cancellation_quote(actor=actor_of(request.user), booking_id=booking_id)
    return cancellation_quote_out(quote)


def cancellation_quote_out(quote: selectors.CancellationQuote) -> dict:
    booking, fee = quote.booking, quote.fee
    if fee is None:
        explanation = _("当前状态（%(status)s）不能取消") % {"status": booking.get_status_display()}
    elif booking.status == Booking.Status.HELD:
        explanation = _("暂留可免费取消")
    else:
        explanation = fee.explanation
    return {
        "booking_id": booking.pk, "status": booking.status,
        "policy": [{"days_before_arrival": days, "percent": percent} for days, percent in quote.policy],
        "cancellable": quote.cancellable,
        "days_before_arrival": fee.days_before_arrival if fee else None, "percent": fee.percent if fee else None,
        "freed_value": fee.freed_value if fee else None, "fee": fee.fee if fee else None, "explanation": explanation,
    }


@router.post("/bookings/{booking_id}/reduce", response={200: BookingOut, **ERRORS}, tags=["bookings"])
@idempotent
def booking_reduce(request, booking_id: int, payload: ReduceIn):
    """Partial cancellation: a sub-range of the nights, fewer rooms/people per room type, or (routes) fewer people."""
    return bookings.booking_reduce(
        actor=actor_of(request.user), booking_id=booking_id, arrival=payload.arrival, nights=payload.nights,
        rooms=[bookings.RoomRequest(r.room_type_id, r.rooms, r.people) for r in payload.rooms] or None,
        people=payload.people,
    )


@router.get("/waitlist", response={200: list[WaitlistOut], **ERRORS}, tags=["bookings"])
@paginate(BoundedPagination)
def waitlist_list(request, status: str | None = None):
    return selectors.waitlist_list(actor=actor_of(request.user), status=status)


@router.post("/waitlist", response={201: WaitlistOut, **ERRORS}, tags=["bookings"])
@idempotent
def waitlist_join(request, payload: WaitlistIn):
    return 201, bookings.waitlist_join(actor=actor_of(request.user), **payload.dict())


@router.post("/waitlist/{entry_id}/cancel", response={200: WaitlistOut, **ERRORS}, tags=["bookings"])
@idempotent
def waitlist_cancel(request, entry_id: int):
    return bookings.waitlist_cancel(actor=actor_of(request.user), entry_id=entry_id)
