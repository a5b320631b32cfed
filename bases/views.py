"""Pages of the bases app: thin views over the same selectors and services as the API."""

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bases import selectors, services
from bases.filters import BaseFilter, RouteFilter, apply_filter
from bases.forms import (
    CERTIFICATION_FORMS,
    INVENTORY_OPERATIONS,
    MAX_ROUTE_DAYS,
    AvailabilityForm,
    BaseForm,
    DepartureForm,
    DepartureSeatsForm,
    RoomTypeForm,
    RouteForm,
    RouteSearchForm,
    route_day_formset,
)
from bases.models import Base, RoomType, Route, RouteDay, RouteDeparture
from bases.regions import city_name
from groups.access import Role, actor_of
from groups.selectors import batch_get, batch_list
from retreat.errors import ApplicationError, Forbidden, NotFound
from retreat.i18n import listed

DIRECTORY_PAGE_SIZE = 30


def _or_404(error: NotFound):
    raise Http404(error.message) from error


@login_required
def base_directory(request):
    actor = actor_of(request.user)
    filterset = BaseFilter(request.GET or None, queryset=selectors.base_list(actor=actor))
    bases = filterset.qs if filterset.is_bound and filterset.is_valid() else selectors.base_list(actor=actor)
    availability_form = AvailabilityForm(request.GET if "first_night" in request.GET else None)
    available = None
    if availability_form.is_bound and availability_form.is_valid():
        search = availability_form.cleaned_data
        try:
            available = selectors.available_bases(
                actor=actor, first_night=search["first_night"], nights=search["nights"], people=search["people"],
                rooms=search["rooms"], bases=bases, max_price=search["max_price"],
            )
        except ApplicationError as error:
            availability_form.add_error(None, error.message)
    page = Paginator(bases, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "bases/directory.html",
        {
            "filter_form": filterset.form, "availability_form": availability_form, "page": page,
            "available": available, "people": availability_form.cleaned_data.get("people") if available is not None else None,
            "query": query.urlencode(),
        },
    )


@login_required
def base_page(request, base_id: int):
    actor = actor_of(request.user)
    try:
        base = selectors.base_get(actor=actor, base_id=base_id)
    except NotFound as error:
        _or_404(error)
    manages = selectors.managed_bases(actor).filter(pk=base.pk).exists()
    routes = selectors.route_list(actor=actor).filter(route_days__night_base=base).distinct()
    return render(
        request, "bases/base_page.html",
        {
            "base": base, "manages": manages, "room_types": base.room_types.all(), "routes": routes,
            "events": base.certification_events.select_related("actor") if manages else None,
            "certification_forms": {name: form() for name, form in CERTIFICATION_FORMS.items()},
        },
    )


@login_required
def operator_bases(request):
    actor = actor_of(request.user)
    return render(request, "bases/operator_bases.html", {"bases": selectors.operator_base_list(actor=actor)})


@login_required
def base_create_page(request):
    actor = actor_of(request.user)
    form = BaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            base = services.base_create(actor=actor, **form.service_arguments())
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("基地已登记，请添加房型后申请认证。"))
            return redirect("base-edit", base_id=base.pk)
    return render(request, "bases/base_form.html", {"form": form, "base": None})


@login_required
def base_edit_page(request, base_id: int):
    """Base details and its room types; each form posts here with its own ``form`` name."""
    actor = actor_of(request.user)
    try:
        base = selectors.managed_base_get(actor=actor, base_id=base_id)
    except NotFound as error:
        _or_404(error)
    base_form = BaseForm(instance=base, initial={"themes": base.themes.all()})
    room_type_form = RoomTypeForm(prefix="room_type")
    if request.method == "POST":
        try:
            if request.POST.get("form") == "base":
                base_form = BaseForm(request.POST, instance=selectors.managed_base_get(actor=actor, base_id=base_id))
                if base_form.is_valid():
                    services.base_update(actor=actor, base_id=base_id, **base_form.service_arguments())
                    messages.success(request, _("基地信息已保存"))
                    return redirect("base-edit", base_id=base_id)
            elif request.POST.get("form") == "room_type":
                room_type_form = RoomTypeForm(request.POST, prefix="room_type")
                if room_type_form.is_valid():
                    services.room_type_create(actor=actor, base_id=base_id, **room_type_form.cleaned_data)
                    messages.success(request, _("房型已添加"))
                    return redirect("base-edit", base_id=base_id)
            elif request.POST.get("form") == "delete_room_type":
                services.room_type_delete(actor=actor, base_id=base_id, room_type_id=int(request.POST["room_type_id"]))
                messages.success(request, _("房型已删除"))
                return redirect("base-edit", base_id=base_id)
        except ApplicationError as error:
            messages.error(request, error.message)
        except (KeyError, ValueError):
            messages.error(request, _("请求参数有误"))
    return render(
        request, "bases/base_form.html",
        {"form": base_form, "base": base, "room_types": base.room_types.all(), "room_type_form": room_type_form},
    )


def _month_of(value: str | None, today: dt.date) -> dt.date:
    """The asked-for month, or this month when the value is missing, malformed or outside what the calendar shows."""
    try:
        return selectors.parse_month(value, today=today)
    except ApplicationError:
        return today.replace(day=1)


@login_required
def inventory_calendar(request, base_id: int):
    """A month grid per room type with the four bulk operations; a refused operation shows its error inline."""
    actor = actor_of(request.user)
    try:
        base = selectors.managed_base_get(actor=actor, base_id=base_id)
    except NotFound as error:
        _or_404(error)
    today = timezone.localdate()
    month = _month_of(request.GET.get("month"), today)
    room_types = list(base.room_types.all())
    operation = request.POST.get("operation") if request.method == "POST" else None
    forms = {
        name: form_class(request.POST if name == operation else None, room_types=room_types, prefix=name)
        for name, (form_class, _label) in INVENTORY_OPERATIONS.items()
    }
    if operation in forms and forms[operation].is_valid():
        data = dict(forms[operation].cleaned_data)
        room_type_id = data.pop("room_type")
        run = {
            "open_season": services.inventory_open_season,
            "close": services.inventory_close,
            "reopen": services.inventory_reopen,
            "capacity": services.inventory_change_capacity,
        }[operation]
        try:
            change = run(actor=actor, base_id=base_id, room_type_id=room_type_id, **data)
        except ApplicationError as error:
            forms[operation].add_error(None, error.message)
        else:
            messages.success(
                request,
                _("%(first)s 至 %(last)s：新开放 %(created)s 晚，修改 %(changed)s 晚")
                % {"first": change.first_night, "last": change.last_night,
                   "created": change.nights_created, "changed": change.nights_changed},
            )
            return redirect(f"{reverse('inventory-calendar', args=[base_id])}?month={data['first_night']:%Y-%m}")
    months = selectors.inventory_month(actor=actor, base_id=base_id, month=month)
    previous_month = (month - dt.timedelta(days=1)).replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    return render(
        request, "bases/calendar.html",
        {
            "base": base, "month": month, "months": months, "leading_blanks": range(month.weekday()),
            "previous_month": previous_month, "next_month": next_month, "today": today,
            "weekdays": [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")],
            "operations": [(name, forms[name], label) for name, (_form, label) in INVENTORY_OPERATIONS.items()],
        },
        status=422 if operation in forms and forms[operation].errors else 200,
    )


@login_required
def certification_queue(request):
    actor = actor_of(request.user)
    if not actor.is_admin:
        raise Http404(_("仅管理员可见"))
    bases = selectors.certification_queue(actor=actor, today=timezone.localdate())
    return render(
        request, "bases/certification_queue.html",
        {"bases": bases, "certification_forms": {name: form() for name, form in CERTIFICATION_FORMS.items()}},
    )


@login_required
@require_POST
def certification_action(request, base_id: int):
    """One lifecycle step from the queue or the base page; the outcome is shown as a message."""
    actor = actor_of(request.user)
    action = request.POST.get("action", "")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("base-page", args=[base_id])
    form_class = CERTIFICATION_FORMS.get(action)
    if form_class is None:
        messages.error(request, _("未知的操作"))
        return redirect(next_url)
    form = form_class(request.POST)
    if not form.is_valid():
        errors = listed(f"{form.fields[name].label if name in form.fields else ''} {' '.join(msgs)}" for name, msgs in form.errors.items())
        messages.error(request, errors)
        return redirect(next_url)
    run = {
        "apply": services.certification_apply,
        "certify": services.certification_certify,
        "suspend": services.certification_suspend,
        "reinstate": services.certification_reinstate,
        "revoke": services.certification_revoke,
        "renew": services.certification_renew,
    }[action]
    arguments = {k: v for k, v in form.cleaned_data.items() if v not in ("", None) or k == "reason"}
    try:
        event = run(actor=actor, base_id=base_id, **arguments)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(base)s：%(action)s，当前状态 %(status)s")
            % {"base": event.base.name, "action": event.get_action_display(), "status": Base.Status(event.to_status).label},
        )
    return redirect(next_url)


# --- routes -----------------------------------------------------------------------------

ROUTE_PAGE_SIZE = 30


@dataclass(frozen=True)
class RouteRow:
    """A route in a list, with the cities of its nights and the departures worth showing."""

    route: Route
    night_cities: list[str]
    departures: list[RouteDeparture]


def _route_row(route: Route, *, first: dt.date, last: dt.date | None = None, seats: int = 1) -> RouteRow:
    cities = []
    for day in route.route_days.all():
        if day.night_base and city_name(day.night_base.city_code) not in cities:
            cities.append(city_name(day.night_base.city_code))
    departures = [
        d for d in route.departures.all() if first <= d.date and (last is None or d.date <= last) and d.seats_free >= seats
    ]
    return RouteRow(route=route, night_cities=cities, departures=departures)


def _with_nights_and_departures(routes):
    return routes.prefetch_related(
        Prefetch("route_days", queryset=RouteDay.objects.select_related("night_base")), "departures"
    ).order_by("title", "pk")


def _operator_only(actor) -> None:
    try:
        actor.require(Role.OPERATOR)
    except Forbidden as error:
        raise PermissionDenied(error.message) from error


def _show_refusal(error: ApplicationError, form, formset=None) -> None:
    """A service's refusal next to what it is about: the day it names, else the form as a whole."""
    day = error.detail.get("day") if isinstance(error.detail, dict) else None
    day_form = formset.form_of_day(day) if formset is not None else None
    (day_form or form).add_error(None, error.message)


@login_required
def route_directory(request):
    """Published routes, filtered by theme, the region of their nights and departures with free seats."""
    actor = actor_of(request.user)
    today = timezone.localdate()
    search = RouteSearchForm(request.GET or None)
    routes = selectors.route_list(actor=actor)
    window = {"first": today}
    if search.is_bound and search.is_valid():
        arguments = search.filter_arguments(today=today)
        try:
            routes = apply_filter(RouteFilter, arguments, routes)
        except ApplicationError as error:  # e.g. departures until a day before today, which the search starts from
            search.add_error(None, error.message)
        else:
            window = {"first": arguments["departing_from"] or today, "last": arguments["departing_until"],
                      "seats": arguments["seats"] or 1}
    page = Paginator(_with_nights_and_departures(routes), ROUTE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "bases/route_directory.html",
        {"search_form": search, "page": page, "rows": [_route_row(route, **window) for route in page],
         "query": query.urlencode()},
        status=422 if search.errors else 200,
    )


@login_required
def route_page(request, route_id: int):
    """The programme day by day, the night bases, the price and the departures still to come.

    An organiser picks one of its batches (``?batch=``) to hold seats on a departure for it."""
    actor = actor_of(request.user)
    try:
        route = selectors.route_get(actor=actor, route_id=route_id)
        batch = None
        if actor.is_organiser and request.GET.get("batch", "").isdigit():
            batch = batch_get(actor=actor, batch_id=int(request.GET["batch"]))
    except NotFound as error:
        _or_404(error)
    today = timezone.localdate()
    return render(
        request, "bases/route_page.html",
        {
            "route": route, "days": route.route_days.all(),
            "departures": [d for d in route.departures.all() if d.date >= today],
            "owns": actor.is_operator and route.operator_id == actor.organisation.pk,
            "batches": batch_list(actor=actor).order_by("-arrival", "-pk")[:200] if actor.is_organiser else None,
            "batch": batch, "people": (batch.participants.count() or None) if batch else None,
        },
    )


@login_required
def operator_routes(request):
    actor = actor_of(request.user)
    _operator_only(actor)
    routes = _with_nights_and_departures(selectors.route_list(actor=actor).filter(operator_id=actor.organisation.pk))
    return render(
        request, "bases/route_mine.html", {"rows": [_route_row(route, first=timezone.localdate(), seats=0) for route in routes]}
    )


def _lodging_choices(actor) -> list[RoomType]:
    """Room types a route may spend its nights in: those of every base the operator can see."""
    return list(
        RoomType.objects.filter(base__in=selectors.visible_bases(actor)).select_related("base")
        .order_by("base__city_code", "base__name", "pk")
    )


def _blank_days(request, default: int) -> int:
    """Empty day forms to show; ``?more=`` asks for more when a programme is long."""
    more = request.GET.get("more", "")
    return min(default + int(more), MAX_ROUTE_DAYS) if more.isdigit() else default


@login_required
def route_create_page(request):
    actor = actor_of(request.user)
    _operator_only(actor)
    room_types = _lodging_choices(actor)
    form = RouteForm(request.POST or None)
    days = route_day_formset(data=request.POST or None, room_types=room_types, blank_days=_blank_days(request, 4))
    if request.method == "POST" and form.is_valid() and days.is_valid():
        try:
            route = services.route_create(actor=actor, days=days.day_specs(), **form.service_arguments())
        except ApplicationError as error:
            _show_refusal(error, form, days)
        else:
            messages.success(request, _("线路已保存为草稿，请添加团期后发布。"))
            return redirect("route-departures", route_id=route.pk)
    return render(
        request, "bases/route_form.html", {"form": form, "days": days, "route": None, "days_locked": False},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def route_edit_page(request, route_id: int):
    """Title, price, themes and the days; the days are fixed once seats on a departure are held or booked."""
    actor = actor_of(request.user)
    try:
        route = selectors.owned_route_get(actor=actor, route_id=route_id)
    except NotFound as error:
        _or_404(error)
    days_locked = any(d.seats_held or d.seats_booked for d in route.departures.all())
    data = request.POST if request.method == "POST" else None
    form = RouteForm(data, instance=route, initial={"themes": route.themes.all()})
    days = None if days_locked else route_day_formset(
        data=data, route=route, room_types=_lodging_choices(actor), blank_days=_blank_days(request, 2)
    )
    if data is not None and form.is_valid() and (days is None or days.is_valid()):
        try:
            services.route_update(
                actor=actor, route_id=route_id, days=days.day_specs() if days else None, **form.service_arguments()
            )
        except ApplicationError as error:
            _show_refusal(error, form, days)
        else:
            messages.success(request, _("线路已保存"))
            return redirect("route-page", route_id=route_id)
    return render(
        request, "bases/route_form.html", {"form": form, "days": days, "route": route, "days_locked": days_locked},
        status=422 if data is not None else 200,
    )


@login_required
@require_POST
def route_publish_action(request, route_id: int):
    actor = actor_of(request.user)
    published = request.POST.get("published") == "1"
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("operator-routes")
    try:
        route = services.route_publish(actor=actor, route_id=route_id, published=published)
    except NotFound as error:
        _or_404(error)
    except ApplicationError as error:  # e.g. a night at a base that is no longer certified
        messages.error(request, error.message)
        return redirect(next_url)
    messages.success(request, (_("%(title)s 已发布") if published else _("%(title)s 已下架")) % {"title": route.title})
    return redirect(next_url)


@login_required
def route_departures_page(request, route_id: int):
    """Add departures, change a departure's seats or delete it; a refusal is shown on the form that asked."""
    actor = actor_of(request.user)
    try:
        route = selectors.owned_route_get(actor=actor, route_id=route_id)
    except NotFound as error:
        _or_404(error)
    posted = request.POST.get("form") if request.method == "POST" else None
    departure_id = int(request.POST["departure_id"]) if posted and request.POST.get("departure_id", "").isdigit() else None
    add_form = DepartureForm(request.POST if posted == "add" else None, prefix="new")
    seats_forms = {
        departure.pk: DepartureSeatsForm(
            request.POST if posted == "seats" and departure_id == departure.pk else None,
            initial={"seats": departure.seats}, prefix=f"seats-{departure.pk}",
        )
        for departure in route.departures.all()
    }
    if posted in ("seats", "delete") and departure_id not in seats_forms:
        raise Http404(_("团期不存在"))
    delete_errors = {}
    try:
        if posted == "add" and add_form.is_valid():
            departure = services.departure_create(actor=actor, route_id=route_id, **add_form.cleaned_data)
            messages.success(request, _("已添加 %(date)s 的团期") % {"date": departure.date})
            return redirect("route-departures", route_id=route_id)
        if posted == "seats" and seats_forms[departure_id].is_valid():
            departure = services.departure_change_seats(
                actor=actor, route_id=route_id, departure_id=departure_id, seats=seats_forms[departure_id].cleaned_data["seats"]
            )
            messages.success(request, _("%(date)s 的团期座位数已改为 %(seats)s") % {"date": departure.date, "seats": departure.seats})
            return redirect("route-departures", route_id=route_id)
        if posted == "delete":
            services.departure_delete(actor=actor, route_id=route_id, departure_id=departure_id)
            messages.success(request, _("团期已删除"))
            return redirect("route-departures", route_id=route_id)
    except NotFound as error:
        _or_404(error)
    except ApplicationError as error:
        if posted == "add":
            add_form.add_error(None, error.message)
        elif posted == "seats":
            seats_forms[departure_id].add_error(None, error.message)
        else:
            delete_errors[departure_id] = error.message
    return render(
        request, "bases/route_departures.html",
        {
            "route": route, "add_form": add_form,
            "departures": [(d, seats_forms[d.pk], delete_errors.get(d.pk)) for d in route.departures.all()],
        },
        status=422 if posted else 200,
    )
