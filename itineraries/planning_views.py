"""Planning-round pages: thin views over the planning services and selectors."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from bases.models import Base
from billing.models import FundProgramme
from groups.access import actor_of, visible_unions
from itineraries import planning
from itineraries import planning_selectors as selectors
from itineraries.models import PlanningRequest, PlanningRound
from retreat.errors import ApplicationError, NotFound

BAR_CHART_WIDTH = 360
REQUESTS_PER_PAGE = 100  # a province round has thousands


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.strip().isdigit()]


def _int(request, name: str, default: int = 0) -> int:
    value = request.POST.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ApplicationError(_("「%(field)s」须为整数") % {"field": name}) from None


def _date(request, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(request.POST.get(name, "").strip())
    except ValueError:
        raise ApplicationError(_("「%(field)s」须为日期 YYYY-MM-DD") % {"field": name}) from None


def _settings_from(request) -> planning.RoundSettings:
    return planning.RoundSettings(
        regional_balance=request.POST.get("regional_balance", "off"),
        min_city_share_percent=_int(request, "min_city_share_percent"),
        off_season_weight=_int(request, "off_season_weight"),
        rural_weight=_int(request, "rural_weight"),
        time_limit_seconds=_int(request, "time_limit_seconds", 60),
        workers=_int(request, "workers", 2),
        seed=_int(request, "seed", 1),
    )


@login_required
def round_list(request):
    actor = actor_of(request.user)
    return render(request, "planning/round_list.html", {"rounds": selectors.round_list(actor=actor), "actor": actor})


@login_required
def round_create(request):
    actor = actor_of(request.user)
    if not actor.is_admin:
        raise Http404
    if request.method == "POST":
        try:
            planning_round = planning.round_create(
                actor=actor, name=request.POST.get("name", ""), first_night=_date(request, "first_night"),
                last_night=_date(request, "last_night"), union_ids=_ids(request.POST.getlist("unions")),
                base_ids=_ids(request.POST.getlist("bases")), programme_ids=_ids(request.POST.getlist("programmes")),
                settings=_settings_from(request),
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("已创建统筹轮次「%(name)s」") % {"name": planning_round.name})
            return redirect("planning-round", round_id=planning_round.pk)
    context = {
        "unions": visible_unions(actor),
        "bases": Base.objects.filter(status=Base.Status.CERTIFIED),
        "programmes": FundProgramme.objects.filter(is_active=True).select_related("union"),
        "balances": PlanningRound.RegionalBalance.choices,
    }
    return render(request, "planning/round_create.html", context)


def _city_bars(shares: list[selectors.CityShare]) -> list[dict]:
    """Rows of the inline SVG bar chart: one bar per city, its length the placed share, a mark at its minimum."""
    return [
        {"share": share, "y": index * 26, "width": round(BAR_CHART_WIDTH * share.share_percent / 100),
         "minimum_x": 60 + BAR_CHART_WIDTH * share.minimum_people // share.requested_people if share.minimum_people else None}
        for index, share in enumerate(shares)
    ]


@login_required
def round_page(request, round_id: int):
    actor = actor_of(request.user)
    try:
        planning_round = selectors.round_get(actor=actor, round_id=round_id)
    except NotFound:
        raise Http404 from None
    latest = selectors.solve_run_latest(actor=actor, round_id=round_id)
    now = timezone.now()
    if latest is not None and selectors.solve_run_is_stale(latest, now=now, stale_after=planning.STALE_AFTER):
        planning.solve_runs_reap_stale(round_id=round_id, now=now)
        planning_round.refresh_from_db()
        latest.refresh_from_db()
    status = request.GET.get("status") if request.GET.get("status") in PlanningRequest.Status.values else None
    every_request = selectors.request_list(actor=actor, round_id=round_id)
    requests = Paginator(every_request.filter(status=status) if status else every_request, REQUESTS_PER_PAGE)
    shares = selectors.round_city_shares(planning_round=planning_round, requests=every_request)
    context = {
        "round": planning_round,
        "actor": actor,
        "requests": requests.get_page(request.GET.get("page")),
        "request_count": requests.count,
        "status": status,
        "status_counts": selectors.request_status_counts(every_request),
        "run": latest,
        "bars": _city_bars(shares),
        "chart_height": max(len(shares), 1) * 26,
        "chart_width": BAR_CHART_WIDTH,
        "balances": PlanningRound.RegionalBalance.choices,
        "can_submit": actor.is_organiser and planning_round.status in (
            PlanningRound.Status.OPEN, PlanningRound.Status.PROPOSED, PlanningRound.Status.PUBLISHED
        ),
        "batches": selectors.batches_to_request(actor=actor, planning_round=planning_round) if actor.is_organiser else [],
        "round_bases": planning_round.bases.all(),
    }
    return render(request, "planning/round_page.html", context)


ROUND_ACTIONS = {
    "open": lambda actor, round_id, now, request: planning.round_open(actor=actor, round_id=round_id),
    "close": lambda actor, round_id, now, request: planning.round_close(actor=actor, round_id=round_id),
    "solve": lambda actor, round_id, now, request: planning.solve_start(actor=actor, round_id=round_id, now=now),
    "cancel": lambda actor, round_id, now, request: planning.solve_cancel(actor=actor, round_id=round_id, now=now),
    "publish": lambda actor, round_id, now, request: planning.round_publish(actor=actor, round_id=round_id, now=now),
    "settings": lambda actor, round_id, now, request: planning.round_settings_update(
        actor=actor, round_id=round_id, settings=_settings_from(request)
    ),
}
ROUND_ACTION_DONE = {
    "open": gettext_lazy("已开始征集需求"), "close": gettext_lazy("轮次已结束"), "solve": gettext_lazy("已开始求解"),
    "cancel": gettext_lazy("已请求停止求解（保留当前最好方案）"),
    "publish": gettext_lazy("方案已发布，已为各批次暂留房间"), "settings": gettext_lazy("设置已保存"),
}


@login_required
@require_POST
def round_action(request, round_id: int):
    actor = actor_of(request.user)
    action = request.POST.get("action", "")
    if action not in ROUND_ACTIONS:
        messages.error(request, _("未知操作：%(action)s") % {"action": action})
        return redirect("planning-round", round_id=round_id)
    try:
        ROUND_ACTIONS[action](actor, round_id, timezone.now(), request)
    except NotFound:
        raise Http404 from None
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(ROUND_ACTION_DONE[action]))
    return redirect("planning-round", round_id=round_id)


def _preferences_from(request) -> list[dict]:
    """Bases ranked by the numbers typed next to them (1 = first choice), then regions."""
    ranked = []
    for key, value in request.POST.items():
        if key.startswith("rank_") and value.strip():
            ranked.append((_int(request, key), {"base": int(key.removeprefix("rank_"))}))
    preferences = [preference for _, preference in sorted(ranked, key=lambda item: (item[0], item[1]["base"]))]
    preferences += [{"city": code.strip()} for code in request.POST.get("cities", "").split(",") if code.strip()]
    return preferences


@login_required
@require_POST
def request_submit(request, round_id: int):
    actor = actor_of(request.user)
    try:
        room_mix = {}
        for beds in ("1", "2", "3", "4"):
            count = _int(request, f"mix_{beds}")
            if count:
                room_mix[beds] = count
        terms = planning.RequestTerms(
            batch_id=_int(request, "batch"), people=_int(request, "people"), rooms=_int(request, "rooms"),
            nights=_int(request, "nights"), earliest_arrival=_date(request, "earliest_arrival"),
            latest_arrival=_date(request, "latest_arrival"), preferences=_preferences_from(request),
            accessible_rooms=_int(request, "accessible_rooms"), room_mix=room_mix, priority=_int(request, "priority"),
        )
        planning.request_submit(actor=actor, round_id=round_id, terms=terms, now=timezone.now())
    except NotFound:
        raise Http404 from None
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("需求已提交"))
    return redirect("planning-round", round_id=round_id)


REQUEST_ANSWERS = {
    "accept": (planning.request_accept, gettext_lazy("已接受安排，预订已确认")),
    "decline": (planning.request_decline, gettext_lazy("已放弃安排，房间已释放")),
    "withdraw": (planning.request_withdraw, gettext_lazy("需求已撤回")),
}


@login_required
@require_POST
def request_answer(request, request_id: int):
    actor = actor_of(request.user)
    answer = request.POST.get("answer", "")
    try:
        planning_request = selectors.request_get(actor=actor, request_id=request_id)
    except NotFound:
        raise Http404 from None
    if answer not in REQUEST_ANSWERS:
        messages.error(request, _("未知操作：%(action)s") % {"action": answer})
    else:
        service, done = REQUEST_ANSWERS[answer]
        try:
            service(actor=actor, request_id=request_id, now=timezone.now())
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, str(done))
    return redirect("planning-round", round_id=planning_request.round_id)

