"""The planning API (mounted at /api/v1/planning): thin endpoints over the planning services."""

from django.utils import timezone
from ninja import Router
from ninja.pagination import paginate

from groups.access import actor_of
from groups.idempotency import idempotent
from itineraries import planning
from itineraries import planning_selectors as selectors
from itineraries.models import PlanningRequest
from itineraries.planning_problem import round_problem_build
from itineraries.planning_schemas import (
    BookingHeldOut,
    ProgressOut,
    RequestIn,
    RequestOut,
    RoundIn,
    RoundOut,
    RoundResultOut,
    RoundSettingsIn,
    SolveRunOut,
)
from retreat.pagination import BoundedPagination
from retreat.schemas import ERRORS

router = Router(tags=["planning"])


def _settings(payload: RoundSettingsIn) -> planning.RoundSettings:
    return planning.RoundSettings(**{field: getattr(payload, field) for field in RoundSettingsIn.model_fields})


@router.get("/rounds", response={200: list[RoundOut], **ERRORS})
@paginate(BoundedPagination)
def round_list(request):
    return selectors.round_list(actor=actor_of(request.user)).prefetch_related("unions", "bases", "programmes")


@router.post("/rounds", response={201: RoundOut, **ERRORS})
def round_create(request, payload: RoundIn):
    planning_round = planning.round_create(
        actor=actor_of(request.user), name=payload.name, first_night=payload.first_night, last_night=payload.last_night,
        union_ids=payload.union_ids, base_ids=payload.base_ids, programme_ids=payload.programme_ids,
        settings=_settings(payload),
    )
    return 201, planning_round


@router.get("/rounds/{round_id}", response={200: RoundOut, **ERRORS})
def round_detail(request, round_id: int):
    return selectors.round_get(actor=actor_of(request.user), round_id=round_id)


@router.put("/rounds/{round_id}/settings", response={200: RoundOut, **ERRORS})
def round_settings_update(request, round_id: int, payload: RoundSettingsIn):
    return planning.round_settings_update(actor=actor_of(request.user), round_id=round_id, settings=_settings(payload))


@router.post("/rounds/{round_id}/open", response={200: RoundOut, **ERRORS})
def round_open(request, round_id: int):
    return planning.round_open(actor=actor_of(request.user), round_id=round_id)


@router.post("/rounds/{round_id}/close", response={200: RoundOut, **ERRORS})
def round_close(request, round_id: int):
    return planning.round_close(actor=actor_of(request.user), round_id=round_id)


@router.get("/rounds/{round_id}/export", response={200: dict, **ERRORS})
def round_export(request, round_id: int):
    """The round as a `retreat-plan/1` problem (with the nightly_capacity and fixed extensions)."""
    planning_round = selectors.round_for_admin(actor=actor_of(request.user), round_id=round_id)
    return round_problem_build(planning_round=planning_round).to_dict()


@router.get("/rounds/{round_id}/requests", response={200: list[RequestOut], **ERRORS})
@paginate(BoundedPagination)
def request_list(request, round_id: int, status: str | None = None):
    return selectors.request_list(actor=actor_of(request.user), round_id=round_id, status=status)


@router.post("/rounds/{round_id}/requests", response={201: RequestOut, **ERRORS})
def request_submit(request, round_id: int, payload: RequestIn):
    terms = planning.RequestTerms(**payload.dict())
    planning_request = planning.request_submit(actor=actor_of(request.user), round_id=round_id, terms=terms, now=timezone.now())
    return 201, planning_request


@router.get("/requests/{request_id}", response={200: RequestOut, **ERRORS})
def request_detail(request, request_id: int):
    return selectors.request_get(actor=actor_of(request.user), request_id=request_id)


@router.post("/requests/{request_id}/withdraw", response={200: RequestOut, **ERRORS})
def request_withdraw(request, request_id: int):
    return planning.request_withdraw(actor=actor_of(request.user), request_id=request_id, now=timezone.now())


@router.post("/requests/{request_id}/accept", response={200: RequestOut, **ERRORS})
@idempotent
def request_accept(request, request_id: int):
    planning_request = planning.request_accept(actor=actor_of(request.user), request_id=request_id, now=timezone.now())
    return selectors.request_get(actor=actor_of(request.user), request_id=planning_request.pk)


@router.post("/requests/{request_id}/decline", response={200: RequestOut, **ERRORS})
@idempotent
def request_decline(request, request_id: int):
    planning_request = planning.request_decline(actor=actor_of(request.user), request_id=request_id, now=timezone.now())
    return selectors.request_get(actor=actor_of(request.user), request_id=planning_request.pk)


@router.post("/rounds/{round_id}/solve", response={202: SolveRunOut, **ERRORS})
def solve_start(request, round_id: int):
    run = planning.solve_start(actor=actor_of(request.user), round_id=round_id, now=timezone.now())
    run.refresh_from_db()
    return 202, run


@router.post("/rounds/{round_id}/solve/cancel", response={200: SolveRunOut, **ERRORS})
def solve_cancel(request, round_id: int):
    return planning.solve_cancel(actor=actor_of(request.user), round_id=round_id, now=timezone.now())


@router.get("/rounds/{round_id}/progress", response={200: ProgressOut, **ERRORS})
def solve_progress(request, round_id: int):
    """The latest solve's progress; polled every second by the round page."""
    actor = actor_of(request.user)
    now = timezone.now()
    run = selectors.solve_run_latest(actor=actor, round_id=round_id)
    if run is not None and selectors.solve_run_is_stale(run, now=now, stale_after=planning.STALE_AFTER):
        planning.solve_runs_reap_stale(round_id=round_id, now=now)
        run.refresh_from_db()
    return {"round_status": selectors.round_get(actor=actor, round_id=round_id).status, "run": run}


@router.get("/rounds/{round_id}/runs", response={200: list[SolveRunOut], **ERRORS})
@paginate(BoundedPagination)
def solve_run_list(request, round_id: int):
    return selectors.solve_run_list(actor=actor_of(request.user), round_id=round_id)


@router.get("/rounds/{round_id}/result", response={200: RoundResultOut, **ERRORS})
def round_result(request, round_id: int):
    actor = actor_of(request.user)
    planning_round = selectors.round_get(actor=actor, round_id=round_id)
    requests = selectors.request_list(actor=actor, round_id=round_id)
    placed = (PlanningRequest.Status.PLACED, PlanningRequest.Status.ACCEPTED)
    return {
        "round_id": planning_round.pk,
        "round_status": planning_round.status,
        "run": selectors.solve_run_latest(actor=actor, round_id=round_id),
        "placed_requests": requests.filter(status__in=placed).count(),
        "unplaced_requests": requests.filter(status=PlanningRequest.Status.UNPLACED).count(),
        "city_shares": selectors.round_city_shares(planning_round=planning_round, requests=requests),
    }


@router.post("/rounds/{round_id}/publish", response={200: list[BookingHeldOut], **ERRORS})
@idempotent
def round_publish(request, round_id: int):
    held = planning.round_publish(actor=actor_of(request.user), round_id=round_id, now=timezone.now())
    return [
        {"request_id": booking.planning_request.pk, "reference": booking.reference, "base_id": booking.base_id,
         "arrival": booking.arrival, "nights": booking.nights}
        for booking in held
    ]
