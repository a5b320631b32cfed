import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from groups import selectors, services
from groups.access import actor_of
from groups.models import Booking
from retreat.errors import ApplicationError
from retreat.pages import application_errors_as_pages


def tenant_page(view):
    """Signed in; another tenant's object is a 404 page and a role that may not act is a 403; any other
    refusal (input the database cannot hold, say) is a page saying why, with its status."""
    return login_required(application_errors_as_pages(view))


@login_required
def home(request):
    return render(request, "groups/home.html")


@tenant_page
def token_page(request):
    actor = actor_of(request.user)
    created_token = None
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                services.api_token_revoke(actor=actor, token_id=int(request.POST["revoke"]))
                messages.success(request, _("令牌已撤销"))
                return redirect("tokens")
            name = request.POST.get("name", "").strip()[:80]
            if not name:
                raise ApplicationError(_("请填写令牌名称"))
            _token, created_token = services.api_token_create(actor=actor, name=name)
        except (ApplicationError, ValueError) as error:
            messages.error(request, getattr(error, "message", str(error)))
    return render(request, "groups/tokens.html", {"tokens": selectors.api_token_list(actor=actor), "created_token": created_token})


# --- organiser pages: batches, participants, availability, bookings, waitlist -------------


def _date(value: str | None):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@tenant_page
def batch_list_page(request):
    actor = actor_of(request.user)
    if request.method == "POST":
        try:
            batch = services.batch_create(
                actor=actor, title=request.POST.get("title", "")[:120], purpose=request.POST.get("purpose", ""),
                arrival=_date(request.POST.get("arrival")), nights=_int(request.POST.get("nights"), 3),
                min_front_line_percent=_int(request.POST.get("min_front_line_percent")),
                no_repeat_years=_int(request.POST.get("no_repeat_years")),
                max_stay_days=_int(request.POST.get("max_stay_days")),
                family_allowed=request.POST.get("family_allowed") == "on",
            )
            messages.success(request, _("批次已创建"))
            return redirect("batch-detail", batch_id=batch.pk)
        except ApplicationError as error:
            messages.error(request, error.message)
    return render(request, "groups/batch_list.html", {"batches": selectors.batch_list(actor=actor, q=request.GET.get("q"))[:200]})


@tenant_page
def batch_page(request, batch_id: int):
    actor = actor_of(request.user)
    batch = selectors.batch_get(actor=actor, batch_id=batch_id)
    import_errors = None
    if request.method == "POST":
        try:
            if "file" in request.FILES:
                upload = request.FILES["file"]
                result = services.participants_import(actor=actor, batch_id=batch_id, content=upload.read(), filename=upload.name)
                messages.success(request, _("已导入 %(n)d 人") % {"n": result.created})
            elif "propose_rooming" in request.POST:
                services.rooming_propose(actor=actor, batch_id=batch_id)
                messages.success(request, _("已生成排房表"))
            elif "remove_participant" in request.POST:
                removed = services.participant_remove(actor=actor, batch_id=batch_id,
                                                      participant_id=_int(request.POST.get("remove_participant"), 0))
                messages.success(request, _("已从名单移除 %(name)s") % {"name": removed.name})
            elif "save_rooming" in request.POST:
                services.rooming_save(actor=actor, batch_id=batch_id, placements=_posted_placements(request.POST, batch))
                messages.success(request, _("排房表已保存"))
            return redirect("batch-detail", batch_id=batch_id)
        except ApplicationError as error:
            messages.error(request, error.message)
            import_errors = (error.detail or {}).get("rows") if isinstance(error.detail, dict) else None
    full_ids = selectors.may_see_full_ids(actor=actor, batch=batch)
    active = selectors.active_booking_of(batch=batch) if actor.is_organiser else None  # only organisers edit the rooming
    rooming_types = [line.room_type for line in active.lines.all() if line.first_night == active.arrival] if active else []
    return render(request, "groups/batch_detail.html", {
        "rooming_types": rooming_types,
        "batch": batch, "participants": selectors.participant_list(actor=actor, batch_id=batch_id), "full_ids": full_ids,
        "import_errors": import_errors, "failures": selectors.batch_eligibility(actor=actor, batch_id=batch_id),
        "bookings": selectors.booking_list(actor=actor, batch_id=batch_id),
    })


def _posted_placements(post, batch) -> dict:
    """``room_type_<participant id>`` and ``room_label_<participant id>`` of the rooming form; a person left
    without a room type or label is left out, and the service says who is not placed."""
    from groups.rooming import Placement

    placements = {}
    for participant_id in batch.participants.values_list("pk", flat=True):
        room_type_id = _int(post.get(f"room_type_{participant_id}"))
        label = (post.get(f"room_label_{participant_id}") or "").strip()[:20]
        if room_type_id is not None and label:
            placements[participant_id] = Placement(room_type_id, label)
    return placements


@tenant_page
def availability_page(request, batch_id: int):
    """Find bases with room for the batch, see each room type's free rooms, hold or join the waitlist."""
    from bases.selectors import available_bases

    from groups import bookings

    actor = actor_of(request.user)
    batch = selectors.batch_get(actor=actor, batch_id=batch_id)
    arrival = _date(request.GET.get("arrival")) or batch.arrival
    nights = _int(request.GET.get("nights"), batch.nights)
    people = _int(request.GET.get("people"), batch.participants.count() or 1)
    rooms = _int(request.GET.get("rooms"), max(1, (people + 1) // 2))
    base_id = _int(request.GET.get("base_id"))
    if request.method == "POST":
        try:
            if request.POST.get("action") == "hold_route":
                booking = bookings.booking_hold_route(
                    actor=actor, batch_id=batch_id, departure_id=_int(request.POST.get("departure_id"), 0),
                    people=_int(request.POST.get("people"), 0),
                )
                messages.success(request, _("已暂留线路座位和每晚住宿，请在截止前确认"))
                return redirect("booking-detail", booking_id=booking.pk)
            if request.POST.get("action") == "waitlist":
                bookings.waitlist_join(
                    actor=actor, batch_id=batch_id, base_id=_int(request.POST.get("base_id"), 0),
                    room_type_id=_int(request.POST.get("room_type_id"), 0), arrival=arrival, nights=nights,
                    rooms=_int(request.POST.get("rooms"), 0), people=_int(request.POST.get("people"), 0),
                )
                messages.success(request, _("已加入候补，有房时将自动为您暂留"))
                return redirect("batch-detail", batch_id=batch_id)
            requests = [
                bookings.RoomRequest(int(room_type_id), _int(value, 0), _int(request.POST.get(f"people_{room_type_id}"), 0))
                for key, value in request.POST.items()
                if key.startswith("rooms_") and (room_type_id := key.removeprefix("rooms_")).isascii() and room_type_id.isdigit()
                and _int(value, 0) > 0
            ]
            booking = bookings.booking_hold(actor=actor, batch_id=batch_id, base_id=_int(request.POST.get("base_id"), 0),
                                            arrival=arrival, nights=nights, rooms=requests)
            messages.success(request, _("已暂留，请在截止前确认"))
            return redirect("booking-detail", booking_id=booking.pk)
        except ApplicationError as error:
            messages.error(request, error.message)
    found, room_types = [], []
    today = timezone.localdate()
    if arrival and nights:
        try:
            bookings.check_stay_dates(arrival=arrival, nights=nights, today=today)
            found = available_bases(actor=actor, first_night=arrival, nights=nights, people=people, rooms=rooms)[:50]
            if base_id:
                room_types = selectors.stay_availability(actor=actor, base_id=base_id, arrival=arrival, nights=nights)
        except ApplicationError as error:
            messages.error(request, error.message)
    searchable = bool(arrival) and (today - dt.timedelta(days=ROUTE_DEPARTURE_WINDOW_DAYS)
                                    <= arrival <= today + dt.timedelta(days=settings.INVENTORY_HORIZON_DAYS))
    return render(request, "groups/availability.html", {
        "batch": batch, "arrival": arrival, "nights": nights, "people": people, "rooms": rooms, "found": found,
        "base_id": base_id, "room_types": room_types,
        "departures": _route_departures_near(actor=actor, arrival=arrival, people=max(people, 1)) if searchable else [],
    })


ROUTE_DEPARTURE_WINDOW_DAYS = 7


def _route_departures_near(*, actor, arrival, people: int) -> list:
    """Departures of published routes within a week of the arrival that still have seats for ``people``."""
    from bases.filters import RouteFilter, apply_filter
    from bases.selectors import route_list

    first = max(arrival - dt.timedelta(days=ROUTE_DEPARTURE_WINDOW_DAYS), timezone.localdate())
    last = arrival + dt.timedelta(days=ROUTE_DEPARTURE_WINDOW_DAYS)
    if last < first:
        return []
    routes = apply_filter(
        RouteFilter, {"departing_from": first, "departing_until": last, "seats": people},
        route_list(actor=actor).filter(published=True).prefetch_related("departures", "route_days"),
    )
    departures = [d for route in routes for d in route.departures.all() if first <= d.date <= last and d.seats_free >= people]
    return sorted(departures, key=lambda d: (abs((d.date - arrival).days), d.date, d.route.title))


@tenant_page
def booking_page(request, booking_id: int):
    from groups import bookings

    actor = actor_of(request.user)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "confirm":
                bookings.booking_confirm(actor=actor, booking_id=booking_id)
                messages.success(request, _("预订已确认"))
            elif action == "cancel":
                bookings.booking_cancel(actor=actor, booking_id=booking_id, reason=request.POST.get("reason", ""))
                messages.success(request, _("预订已取消"))
            elif action == "reduce":
                booking = selectors.booking_get(actor=actor, booking_id=booking_id)
                requests = [
                    bookings.RoomRequest(line.room_type_id, _int(request.POST.get(f"rooms_{line.room_type_id}"), line.rooms),
                                         _int(request.POST.get(f"people_{line.room_type_id}"), line.people))
                    for line in booking.lines.all()
                ] if not booking.route_departure_id else None
                bookings.booking_reduce(
                    actor=actor, booking_id=booking_id, arrival=_date(request.POST.get("arrival")),
                    nights=_int(request.POST.get("nights")), rooms=requests,
                    people=_int(request.POST.get("people")) if booking.route_departure_id else None,
                )
                messages.success(request, _("已部分取消"))
            return redirect("booking-detail", booking_id=booking_id)
        except ApplicationError as error:
            messages.error(request, error.message)
    quote = selectors.cancellation_quote(actor=actor, booking_id=booking_id)
    return render(request, "groups/booking_detail.html", {
        "booking": quote.booking, "quote": quote, "can_change": actor.is_organiser,
        "rooming_warning": selectors.rooming_warning(booking=quote.booking) if actor.is_organiser else None,
    })


@tenant_page
def booking_list_page(request):
    """Organisers: their subtree's bookings. Base operators: incoming bookings at their bases."""
    actor = actor_of(request.user)
    status = request.GET.get("status") or None
    return render(request, "groups/booking_list.html", {
        "bookings": selectors.booking_list(actor=actor, status=status)[:200], "status": status,
        "statuses": Booking.Status.choices, "waitlist": selectors.waitlist_list(actor=actor)[:100],
    })
