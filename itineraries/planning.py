"""Planning-round services: open and close rounds, take requests, solve, publish, accept.

The life of a round: an administrator creates it (draft) and opens it; organisers
submit requests for their batches; a solve (a Celery task, one at a time per
round) turns the requests into a proposal; publishing turns the proposal into
holds, all or none; organisers accept (the hold is confirmed) or decline (the
hold is cancelled); a re-plan keeps what stands and fills what declines freed.

A solve writes progress while it runs but the plan only at the end, in one
transaction, so a worker that dies mid-solve changes nothing; a run not heard
from for ``STALE_AFTER`` is declared dead and the round goes back to how it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bases.models import Base, NightInventory, RoomType, RouteDay
from billing.funding import fen_to_decimal, format_fen, to_fen
from billing.ledger import lock_programmes
from billing.models import FundProgramme
from groups import bookings
from groups.access import Actor, Role, union_subtree_q, visible_unions
from groups.models import Batch, Booking
from itineraries import planning_problem, planning_reasons
from itineraries import planning_selectors as selectors
from itineraries.models import PlanningRequest, PlanningRound, SolveRun
from itineraries.room_allocation import RoomOffer, allocate_rooms
from itineraries.solver import instance as plan_format
from retreat.bulk import bulk_update_rows
from retreat.errors import Conflict, NotFound, ValidationFailed
from retreat.i18n import in_site_language, listed
from retreat.locking import locked_transaction

logger = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(seconds=30)
HEARTBEAT_SECONDS = 1.0
PUBLISHED_HOLD_DAYS = 7
PUBLISH_FAILURES_LISTED = 10  # in the message; every one is in the detail
MAX_REQUEST_NIGHTS = 14

RoundStatus = PlanningRound.Status
RequestStatus = PlanningRequest.Status
RunStatus = SolveRun.Status


# --- rounds -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RoundSettings:
    """What an administrator may change on a round before it is solved."""

    regional_balance: str = PlanningRound.RegionalBalance.OFF
    min_city_share_percent: int = 0
    off_season_weight: int = 0
    rural_weight: int = 0
    time_limit_seconds: int = 60
    workers: int = 2
    seed: int = 1


def _check_settings(settings: RoundSettings) -> None:
    problems = {}
    if settings.regional_balance not in PlanningRound.RegionalBalance.values:
        problems["regional_balance"] = _("未知的地区均衡方式：%(value)s") % {"value": settings.regional_balance}
    if not 0 <= settings.min_city_share_percent <= 100:
        problems["min_city_share_percent"] = _("保底比例须在 0 到 100 之间")
    if not 0 <= settings.off_season_weight <= 1000 or not 0 <= settings.rural_weight <= 1000:
        problems["weights"] = _("权重须在 0 到 1000 之间")
    if not 1 <= settings.time_limit_seconds <= 3600:
        problems["time_limit_seconds"] = _("求解时限须在 1 到 3600 秒之间")
    if not 1 <= settings.workers <= 16:
        problems["workers"] = _("线程数须在 1 到 16 之间")
    if not 0 <= settings.seed < 2**31:
        problems["seed"] = _("随机种子须为非负整数")
    if problems:
        raise ValidationFailed(_("统筹设置有误：%(problems)s") % {"problems": listed(problems.values())}, detail=problems)


def round_create(
    *, actor: Actor, name: str, first_night: dt.date, last_night: dt.date, union_ids: list[int], base_ids: list[int],
    programme_ids: list[int], settings: RoundSettings,
) -> PlanningRound:
    actor.require(Role.ADMINISTRATOR)
    _check_settings(settings)
    if not name.strip():
        raise ValidationFailed(_("请填写轮次名称"), detail={"name": name})
    if first_night > last_night:
        raise ValidationFailed(
            _("首晚 %(first_night)s 晚于末晚 %(last_night)s") % {"first_night": first_night, "last_night": last_night},
            detail={"first_night": first_night.isoformat(), "last_night": last_night.isoformat()},
        )
    if (last_night - first_night).days > 366:
        raise ValidationFailed(_("统筹时段不能超过一年"), detail={"last_night": last_night.isoformat()})
    unions = list(visible_unions(actor).filter(pk__in=union_ids))
    bases = list(Base.objects.filter(pk__in=base_ids))
    own_tree = Q(union_id__in=actor.organisation.ancestor_ids()) | Q(union__path__startswith=actor.organisation.path)
    programmes = list(FundProgramme.objects.filter(own_tree, pk__in=programme_ids))
    _require_all_found("union_ids", union_ids, unions, none=_("请至少选择一个工会"), missing=_("工会不存在或无权使用：%(ids)s"))
    _require_all_found("base_ids", base_ids, bases, none=_("请至少选择一个基地"), missing=_("基地不存在或无权使用：%(ids)s"))
    _require_all_found("programme_ids", programme_ids, programmes, missing=_("专项经费不存在或无权使用：%(ids)s"))
    with transaction.atomic():
        planning_round = PlanningRound(
            name=name.strip(), organiser=actor.organisation, first_night=first_night, last_night=last_night,
            created_by_id=actor.user_id, **asdict(settings),
        )
        planning_round.full_clean()
        planning_round.save()
        planning_round.unions.set(unions)
        planning_round.bases.set(bases)
        planning_round.programmes.set(programmes)
    return planning_round


def _require_all_found(field: str, wanted: list[int], found: list, *, none: str | None = None, missing: str) -> None:
    """``none`` (when given) refuses an empty choice; ``missing`` names the ids not found (``%(ids)s``)."""
    if none is not None and not wanted:
        raise ValidationFailed(none, detail={field: []})
    not_found = sorted(set(wanted) - {row.pk for row in found})
    if not_found:
        raise ValidationFailed(missing % {"ids": ", ".join(map(str, not_found))}, detail={field: not_found})


def _locked_round(*, actor: Actor, round_id: int) -> PlanningRound:
    selectors.round_for_admin(actor=actor, round_id=round_id)
    return PlanningRound.objects.select_for_update().get(pk=round_id)


def _require_round_status(planning_round: PlanningRound, *allowed: str) -> None:
    if planning_round.status not in allowed:
        names = _("、").join(str(RoundStatus(status).label) for status in allowed)
        raise Conflict(
            _("轮次当前状态为「%(status)s」，此操作仅限：%(allowed)s")
            % {"status": planning_round.get_status_display(), "allowed": names},
            code="round_status", detail={"status": planning_round.status, "allowed": list(allowed)},
        )


def round_settings_update(*, actor: Actor, round_id: int, settings: RoundSettings) -> PlanningRound:
    _check_settings(settings)
    with locked_transaction():
        planning_round = _locked_round(actor=actor, round_id=round_id)
        _require_round_status(planning_round, RoundStatus.DRAFT, RoundStatus.OPEN, RoundStatus.PROPOSED, RoundStatus.PUBLISHED)
        for field, value in asdict(settings).items():
            setattr(planning_round, field, value)
        planning_round.full_clean()
        planning_round.save()
    return planning_round


def round_open(*, actor: Actor, round_id: int) -> PlanningRound:
    with locked_transaction():
        planning_round = _locked_round(actor=actor, round_id=round_id)
        _require_round_status(planning_round, RoundStatus.DRAFT)
        planning_round.status = RoundStatus.OPEN
        planning_round.save(update_fields=["status"])
    return planning_round


def round_close(*, actor: Actor, round_id: int) -> PlanningRound:
    with locked_transaction():
        planning_round = _locked_round(actor=actor, round_id=round_id)
        _require_round_status(planning_round, RoundStatus.DRAFT, RoundStatus.OPEN, RoundStatus.PROPOSED, RoundStatus.PUBLISHED)
        planning_round.status = RoundStatus.CLOSED
        planning_round.save(update_fields=["status"])
    return planning_round


# --- requests ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RequestTerms:
    batch_id: int
    people: int
    rooms: int
    nights: int
    earliest_arrival: dt.date
    latest_arrival: dt.date
    preferences: list[dict]
    accessible_rooms: int = 0
    room_mix: dict[str, int] | None = None
    priority: int = 0


def _clean_preferences(preferences: list[dict], planning_round: PlanningRound) -> list[dict]:
    """``[{"base": id} | {"city": "441600"} | {"route": id}]``, each naming something of the round."""
    if not preferences:
        raise ValidationFailed(_("请至少填写一个意向基地、线路或地区"), detail={"preferences": []})
    if len(preferences) > 10:
        raise ValidationFailed(_("意向最多 10 项"), detail={"preferences": len(preferences)})
    round_bases = set(planning_round.bases.values_list("pk", flat=True))
    cleaned, problems = [], []
    for position, preference in enumerate(preferences, start=1):
        if not isinstance(preference, dict) or len(preference) != 1:
            problems.append(_("第 %(position)s 项格式有误") % {"position": position})
            continue
        (kind, value), = preference.items()
        if kind == "base" and isinstance(value, int) and value in round_bases:
            cleaned.append({"base": value})
        elif kind == "city" and isinstance(value, str) and len(value) == 6 and value.isdigit():
            cleaned.append({"city": value})
        elif kind == "route" and isinstance(value, int):
            lodging = set(RouteDay.objects.filter(route_id=value, route__published=True, night_base__isnull=False)
                          .values_list("night_base_id", flat=True))
            if not lodging:
                problems.append(_("第 %(position)s 项：线路 #%(route)s 不存在或没有住宿") % {"position": position, "route": value})
            elif len(lodging) > 1:
                problems.append(
                    _("第 %(position)s 项：线路 #%(route)s 跨多个基地住宿，暂不能统筹") % {"position": position, "route": value}
                )
            elif not lodging <= round_bases:
                problems.append(_("第 %(position)s 项：线路 #%(route)s 的基地未参加本轮") % {"position": position, "route": value})
            else:
                cleaned.append({"route": value})
        else:
            problems.append(
                _("第 %(position)s 项 %(item)s 不是本轮的基地、线路或地区") % {"position": position, "item": f"{kind}={value!r}"}
            )
    if problems:
        raise ValidationFailed(_("意向有误：%(problems)s") % {"problems": listed(problems)}, detail={"preferences": problems})
    return cleaned


def _check_request_terms(terms: RequestTerms, planning_round: PlanningRound) -> dict[str, int]:
    problems = {}
    if terms.people < 1 or terms.rooms < 1:
        problems["people"] = _("人数和房间数须至少为 1")
    elif terms.rooms > terms.people:
        problems["rooms"] = _("房间数 %(rooms)s 多于人数 %(people)s") % {"rooms": terms.rooms, "people": terms.people}
    if not 1 <= terms.nights <= MAX_REQUEST_NIGHTS:
        problems["nights"] = _("晚数须在 1 到 %(most)s 之间") % {"most": MAX_REQUEST_NIGHTS}
    if terms.earliest_arrival > terms.latest_arrival:
        problems["latest_arrival"] = _("最晚抵达早于最早抵达")
    elif terms.earliest_arrival < planning_round.first_night or (
        terms.latest_arrival + dt.timedelta(days=max(terms.nights, 1) - 1) > planning_round.last_night
    ):
        problems["earliest_arrival"] = (
            _("住宿须在 %(first_night)s 至 %(last_night)s 之内")
            % {"first_night": planning_round.first_night, "last_night": planning_round.last_night}
        )
    if not 0 <= terms.priority <= planning_problem.MAX_PRIORITY:
        problems["priority"] = _("优先级须在 0 到 %(most)s 之间") % {"most": planning_problem.MAX_PRIORITY}
    if terms.accessible_rooms < 0 or terms.accessible_rooms > terms.rooms:
        problems["accessible_rooms"] = _("无障碍房间数须在 0 到房间数之间")
    room_mix = {}
    for beds, count in (terms.room_mix or {}).items():
        if not str(beds).isdigit() or not isinstance(count, int) or count < 1 or int(beds) < 1:
            problems["room_mix"] = _("房型需求格式为 {每间床位: 间数}")
            break
        room_mix[str(int(beds))] = count
    if room_mix and sum(room_mix.values()) != terms.rooms:
        problems["room_mix"] = (
            _("房型需求合计 %(total)s 间，与房间数 %(rooms)s 不符") % {"total": sum(room_mix.values()), "rooms": terms.rooms}
        )
    if room_mix and sum(int(beds) * count for beds, count in room_mix.items()) < terms.people:
        problems["room_mix"] = _("房型需求的床位不够全部人员")
    if problems:
        raise ValidationFailed(_("统筹需求有误：%(problems)s") % {"problems": listed(problems.values())}, detail=problems)
    return room_mix


def request_submit(*, actor: Actor, round_id: int, terms: RequestTerms, now: dt.datetime) -> PlanningRequest:
    actor.require(Role.ORGANISER)
    with locked_transaction():
        selectors.round_get(actor=actor, round_id=round_id)
        planning_round = PlanningRound.objects.select_for_update().get(pk=round_id)
        _require_round_status(planning_round, RoundStatus.OPEN, RoundStatus.PROPOSED, RoundStatus.PUBLISHED)
        batch = Batch.objects.filter(union_subtree_q(actor, "union"), pk=terms.batch_id).select_related("union").first()
        if batch is None:
            raise NotFound(_("批次不存在"), detail={"batch_id": terms.batch_id})
        chain = {*batch.union.ancestor_ids(), batch.union_id}
        if not planning_round.unions.filter(pk__in=chain).exists():
            raise Conflict(_("%(union)s 未参加本轮统筹") % {"union": batch.union.name}, code="union_not_in_round")
        room_mix = _check_request_terms(terms, planning_round)
        preferences = _clean_preferences(terms.preferences, planning_round)
        try:
            with transaction.atomic():
                return PlanningRequest.objects.create(
                    round=planning_round, batch=batch, union=batch.union, people=terms.people, rooms=terms.rooms,
                    nights=terms.nights, earliest_arrival=terms.earliest_arrival, latest_arrival=terms.latest_arrival,
                    preferences=preferences, accessible_rooms=terms.accessible_rooms, room_mix=room_mix,
                    priority=terms.priority, submitted_by_id=actor.user_id, submitted_at=now,
                )
        except IntegrityError as error:
            raise Conflict(_("该批次已在本轮提交过需求"),
                           code="request_exists", detail={"batch_id": batch.pk}) from error


def request_withdraw(*, actor: Actor, request_id: int, now: dt.datetime) -> PlanningRequest:
    actor.require(Role.ORGANISER)
    with locked_transaction():
        selectors.request_get(actor=actor, request_id=request_id)
        request = PlanningRequest.objects.select_for_update().get(pk=request_id)
        if request.status not in (RequestStatus.SUBMITTED, RequestStatus.UNPLACED):
            raise Conflict(
                _("需求状态为「%(status)s」，不能撤回；已安排的请放弃") % {"status": request.get_status_display()},
                code="request_status", detail={"status": request.status},
            )
        request.status, request.decided_at = RequestStatus.WITHDRAWN, now
        request.save(update_fields=["status", "decided_at"])
    return request


# --- solving ----------------------------------------------------------------------------


def _restore_round_after(run: SolveRun) -> None:
    """Put the round back as it was before ``run`` was queued (its result is not kept)."""
    PlanningRound.objects.filter(pk=run.round_id, status=RoundStatus.SOLVING).update(status=run.round_status_before)


def _reap_stale_runs(*, round_id: int, now: dt.datetime) -> list[SolveRun]:
    """Fail the round's active runs nobody has heard from; runs inside the caller's transaction."""
    reaped = []
    for run in SolveRun.objects.select_for_update().filter(round_id=round_id, status__in=SolveRun.ACTIVE):
        if selectors.solve_run_is_stale(run, now=now, stale_after=STALE_AFTER):
            run.status, run.finished_at = RunStatus.FAILED, now
            run.error = in_site_language(gettext_lazy("求解进程失联超过 %(seconds)s 秒，本次求解作废"),
                                         seconds=int(STALE_AFTER.total_seconds()))
            run.save(update_fields=["status", "finished_at", "error", "updated_at"])
            _restore_round_after(run)
            reaped.append(run)
    return reaped


def solve_runs_reap_stale(*, round_id: int, now: dt.datetime) -> list[SolveRun]:
    with locked_transaction():
        PlanningRound.objects.select_for_update().get(pk=round_id)
        return _reap_stale_runs(round_id=round_id, now=now)


def solve_runs_reap_all(*, now: dt.datetime) -> list[SolveRun]:
    """Reap every round's dead runs (the periodic sweep; each round in its own transaction)."""
    round_ids = SolveRun.objects.filter(status__in=SolveRun.ACTIVE).values_list("round_id", flat=True).distinct()
    return [run for round_id in sorted(set(round_ids)) for run in solve_runs_reap_stale(round_id=round_id, now=now)]


def solve_start(*, actor: Actor, round_id: int, now: dt.datetime) -> SolveRun:
    """Queue a solve of the round; refused while another is queued or running."""
    with locked_transaction():
        planning_round = _locked_round(actor=actor, round_id=round_id)
        _reap_stale_runs(round_id=round_id, now=now)
        planning_round.refresh_from_db(fields=["status"])
        if SolveRun.objects.filter(round=planning_round, status__in=SolveRun.ACTIVE).exists():
            raise Conflict(_("本轮已有求解在进行中"), code="solve_running")
        _require_round_status(planning_round, RoundStatus.OPEN, RoundStatus.PROPOSED, RoundStatus.PUBLISHED)
        if not planning_round.requests.exclude(status__in=[RequestStatus.WITHDRAWN, RequestStatus.DECLINED]).exists():
            raise Conflict(_("本轮还没有需求"), code="no_requests")
        try:
            with transaction.atomic():
                run = SolveRun.objects.create(
                    round=planning_round, round_status_before=planning_round.status,
                    time_limit_seconds=planning_round.time_limit_seconds, workers=planning_round.workers,
                    seed=planning_round.seed, created_by_id=actor.user_id, created_at=now,
                )
        except IntegrityError as error:
            raise Conflict(_("本轮已有求解在进行中"), code="solve_running") from error
        planning_round.status = RoundStatus.SOLVING
        planning_round.save(update_fields=["status"])
        transaction.on_commit(lambda: _enqueue_solve(run.pk))
    return run


def _enqueue_solve(run_id: int) -> None:
    from itineraries.tasks import solve_round

    task = solve_round.apply_async(args=[run_id])
    SolveRun.objects.filter(pk=run_id, task_id="").update(task_id=task.id or "")


def solve_cancel(*, actor: Actor, round_id: int, now: dt.datetime) -> SolveRun:
    """Ask the running solve to stop; it keeps the best plan found so far. A queued one just stops."""
    with locked_transaction():
        _locked_round(actor=actor, round_id=round_id)
        run = SolveRun.objects.select_for_update().filter(round_id=round_id, status__in=SolveRun.ACTIVE).first()
        if run is None:
            raise Conflict(_("本轮没有进行中的求解"), code="no_solve_running")
        run.cancel_requested = True
        if run.status == RunStatus.QUEUED:
            run.status, run.finished_at = RunStatus.CANCELLED, now
            _restore_round_after(run)
        run.save(update_fields=["cancel_requested", "status", "finished_at", "updated_at"])
    return run


class _SolveMonitor(threading.Thread):
    """Beside the solver: saves progress and the heartbeat every second, watches for cancel.

    The solver's callbacks only touch memory; this thread alone writes, on its own
    database connection, so a slow write never slows the search.
    """

    def __init__(self, run_id: int, started: float):
        super().__init__(daemon=True, name=f"solve-monitor-{run_id}")
        self.run_id = run_id
        self.started = started
        self.stop_requested = threading.Event()
        self.finished = threading.Event()
        self.lock = threading.Lock()
        self.best_objective: int | None = None
        self.bound: int | None = None

    def report(self, best_objective: int, bound: int | None, gap: float | None, elapsed: float) -> None:
        """The solver's progress callback: remember the figures; ``beat`` writes them."""
        with self.lock:
            self.best_objective = best_objective
            if bound is not None:
                self.bound = bound

    def should_stop(self) -> bool:
        return self.stop_requested.is_set()

    def run(self) -> None:
        try:
            while not self.finished.wait(HEARTBEAT_SECONDS):
                self.beat()
        finally:
            connection.close()

    def beat(self) -> None:
        with self.lock:
            objective, bound = self.best_objective, self.bound
        SolveRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(
            heartbeat_at=timezone.now(), best_objective=objective, bound=bound, gap=solve_gap(objective, bound),
            elapsed_seconds=round(time.monotonic() - self.started, 1), updated_at=timezone.now(),
        )
        state = SolveRun.objects.filter(pk=self.run_id).values_list("cancel_requested", "status").first()
        if state is not None and (state[0] or state[1] != RunStatus.RUNNING):
            self.stop_requested.set()


def solve_gap(objective: int | None, bound: int | None) -> float | None:
    if objective is None or not bound:
        return None
    return max(bound - objective, 0) / bound


def solve_run_execute(*, run_id: int, now: dt.datetime) -> SolveRun:
    """The body of the Celery task: build, solve with progress and cancel, save at the end."""
    run = _solve_run_begin(run_id=run_id, now=now)
    if run.status != RunStatus.RUNNING:
        return run
    monitor = _SolveMonitor(run.pk, time.monotonic())
    monitor.start()  # beating from here on: a long build must not look like a dead worker
    try:
        problem = planning_problem.round_problem_build(planning_round=run.round)
        SolveRun.objects.filter(pk=run.pk).update(instance=problem.to_dict())
        result = solve_problem(
            problem, time_limit=run.time_limit_seconds, workers=run.workers, seed=run.seed,
            progress=monitor.report, should_stop=monitor.should_stop,
        )
    except Exception as error:  # noqa: BLE001 - the run records any failure; the round goes back as it was
        logger.exception("solve run %s failed", run.pk)
        return _solve_run_fail(run_id=run.pk, error=error)
    finally:
        monitor.finished.set()
        monitor.join()
    return solve_result_save(run_id=run.pk, problem=problem, result=result, now=timezone.now())


def solve_problem(
    problem: planning_problem.PlanningProblem, *, time_limit: float, workers: int, seed: int, progress=None, should_stop=None
) -> plan_format.Result:
    """Run the pure solver on a built problem (the one call into ``itineraries.solver``)."""
    from itineraries.solver.engine import solve

    return solve(
        problem.instance, time_limit=time_limit, workers=workers, seed=seed, fixed=problem.fixed,
        progress=progress, should_stop=should_stop,
    )


def _solve_run_begin(*, run_id: int, now: dt.datetime) -> SolveRun:
    with locked_transaction():
        run = SolveRun.objects.select_for_update().select_related("round").get(pk=run_id)
        if run.status == RunStatus.RUNNING:
            # Delivered again after its worker died: that attempt is void and the round goes back.
            run.status, run.finished_at = RunStatus.FAILED, now
            run.error = in_site_language(gettext_lazy("求解进程中断后任务被重新投递，本次求解作废"))
            run.save(update_fields=["status", "finished_at", "error", "updated_at"])
            _restore_round_after(run)
            return run
        if run.status != RunStatus.QUEUED:
            return run
        if run.cancel_requested:
            run.status, run.finished_at = RunStatus.CANCELLED, now
            run.save(update_fields=["status", "finished_at", "updated_at"])
            _restore_round_after(run)
            return run
        run.status, run.started_at, run.heartbeat_at = RunStatus.RUNNING, now, now
        run.save(update_fields=["status", "started_at", "heartbeat_at", "updated_at"])
    return run


def _solve_run_fail(*, run_id: int, error: Exception) -> SolveRun:
    with locked_transaction():
        run = SolveRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return run
        run.status, run.finished_at, run.error = RunStatus.FAILED, timezone.now(), f"{type(error).__name__}: {error}"[:2000]
        run.save(update_fields=["status", "finished_at", "error", "updated_at"])
        _restore_round_after(run)
    return run


def unplaced_reason(*, solver_reason: str, notes: list[str], names: dict[str, str]) -> str:
    """The solver's clauses with base and fund ids as names, plus our notes: language-neutral (see planning_reasons)."""
    named = re.sub(r"\b([BF]\d+|F-none)\b", lambda match: names.get(match.group(1), match.group(1)), solver_reason)
    clauses = [*named.split(planning_reasons.CLAUSE_SEPARATOR), *notes]
    return planning_reasons.CLAUSE_SEPARATOR.join(dict.fromkeys(clause for clause in clauses if clause))


def solve_result_save(
    *, run_id: int, problem: planning_problem.PlanningProblem, result: plan_format.Result, now: dt.datetime
) -> SolveRun:
    """Write the plan onto the requests and the round, in one transaction; a dead run saves nothing."""
    with locked_transaction():
        run = SolveRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return run
        planning_round = PlanningRound.objects.select_for_update().get(pk=run.round_id)
        fixed_groups = {assignment.group for assignment in problem.fixed}
        names = {item.id: item.name for item in (*problem.instance.bases, *problem.instance.funds)}
        requests = {
            planning_problem.group_id(request.pk): request
            for request in planning_round.requests.select_for_update().filter(
                pk__in=[planning_problem.request_pk(group.id) for group in problem.instance.groups]
            )
        }
        for assignment in result.assignments:
            request = requests.get(assignment.group)
            if request is None or assignment.group in fixed_groups:
                continue
            programme_pk, subsidies = problem.funding[assignment.group]
            request.status = RequestStatus.PLACED
            request.proposed_base_id = planning_problem.base_pk(assignment.base)
            request.proposed_arrival = assignment.arrival
            request.proposed_programme_id = programme_pk
            request.proposed_subsidy = fen_to_decimal(subsidies.get(assignment.base, 0))
            request.reason = ""
        for unplaced in result.unplaced:
            request = requests.get(unplaced.group)
            if request is None or unplaced.group in fixed_groups:
                continue
            request.status = RequestStatus.UNPLACED
            request.proposed_base_id = request.proposed_arrival = request.proposed_programme_id = None
            request.proposed_subsidy = None
            request.reason = unplaced_reason(
                solver_reason=unplaced.reason, notes=problem.notes.get(unplaced.group, []), names=names
            )
        bulk_update_rows(
            [request for group, request in requests.items() if group not in fixed_groups],
            ["status", "proposed_base", "proposed_arrival", "proposed_programme", "proposed_subsidy", "reason"],
        )
        run.status = RunStatus.CANCELLED if run.cancel_requested else RunStatus.FINISHED
        run.result = plan_format.result_to_dict(result)
        run.best_objective, run.bound = result.objective, result.bound
        run.gap = solve_gap(result.objective, result.bound)
        run.elapsed_seconds = round(result.wall_seconds, 1)
        run.finished_at = run.heartbeat_at = now
        run.save()
        planning_round.status = RoundStatus.PROPOSED
        planning_round.save(update_fields=["status"])
    return run


# --- publishing -------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishFailure:
    request_id: int
    batch: str
    reason: str


def _allocate_rooms(
    request: PlanningRequest, room_types: list[RoomType], free: dict[tuple[int, dt.date], int], nights: list[dt.date]
) -> list[bookings.Leg] | str:
    """Legs giving the request its rooms and beds at the base (``room_allocation``), or why that cannot be done.
    ``free`` counts the rooms of a type free on a night (none without a row); a stay needs them on every night."""
    offers = [
        RoomOffer(room_type.pk, room_type.beds_per_room, room_type.accessible,
                  min(free.get((room_type.pk, night), 0) for night in nights))
        for room_type in room_types
    ]
    taken = allocate_rooms(
        people=request.people, rooms=request.rooms, offers=offers, accessible_rooms=request.accessible_rooms,
        room_mix={int(beds): int(count) for beds, count in request.room_mix.items()},
    )
    if isinstance(taken, str):
        return taken
    used = sorted(((room_type, taken[room_type.pk]) for room_type in room_types if taken.get(room_type.pk)),
                  key=lambda item: (-item[0].beds_per_room, item[0].pk))
    legs, people_left, rooms_left = [], request.people, sum(count for _, count in used)
    for room_type, count in used:
        rooms_left -= count
        # Fill this leg's beds, leaving at least one person for every later room.
        people = min(room_type.beds_per_room * count, people_left - rooms_left)
        legs.append(bookings.Leg(room_type, nights[0], len(nights), count, people))
        people_left -= people
    return legs


def round_publish(*, actor: Actor, round_id: int, now: dt.datetime) -> list[Booking]:
    """Hold every placed request's rooms, re-checking capacity and money now: all of it or none."""
    with locked_transaction():
        planning_round = _locked_round(actor=actor, round_id=round_id)
        _require_round_status(planning_round, RoundStatus.PROPOSED)
        to_hold = list(
            planning_round.requests.select_for_update(of=("self",))
            .filter(status=RequestStatus.PLACED)
            .filter(Q(booking__isnull=True) | ~Q(booking__status__in=Booking.ACTIVE))
            .select_related("batch__union", "proposed_base", "proposed_programme")
            .order_by("pk")
        )
        stays = {request.pk: planning_problem.nights_of(request.proposed_arrival, request.nights) for request in to_hold}
        spans: dict[int, tuple[dt.date, dt.date]] = {}
        for request in to_hold:
            first, last = spans.get(request.proposed_base_id, (stays[request.pk][0], stays[request.pk][-1]))
            spans[request.proposed_base_id] = (min(first, stays[request.pk][0]), max(last, stays[request.pk][-1]))
        wanted = Q(pk__in=[])
        for base_pk, night_range in sorted(spans.items()):
            wanted |= Q(room_type__base_id=base_pk, night__range=night_range)
        # Every night from each base's first planned stay to its last, locked once in primary-key
        # order (the order bookings lock in).
        locked = NightInventory.objects.select_for_update(of=("self",)).filter(wanted).order_by("pk")
        free = {
            (room_type_id, night): 0 if closed else rooms - held - booked
            for room_type_id, night, rooms, held, booked, closed
            in locked.values_list("room_type_id", "night", "rooms", "rooms_held", "rooms_booked", "closed")
        }
        # Programmes after nights: the order a confirmation takes them in, so the two never deadlock.
        failures = _check_budgets(to_hold)
        room_types: dict[int, list[RoomType]] = {}
        for room_type in RoomType.objects.filter(base_id__in=spans).order_by("pk"):
            room_types.setdefault(room_type.base_id, []).append(room_type)
        plans = []
        # Rooms are chosen stay by stay in order of arrival, every group the same way (smallest rooms
        # first), so the nights of one stay tend to have the same room types left: a stay needs its
        # rooms free on every one of its nights.
        for request in sorted(to_hold, key=lambda request: (request.proposed_arrival, request.pk)):
            base = request.proposed_base
            nights = stays[request.pk]
            if not base.is_bookable_on(nights[0], nights[-1]):
                failures.append(PublishFailure(
                    request.pk, request.batch.title,
                    _("%(base)s 的认证未覆盖 %(first)s 至 %(last)s") % {"base": base.name, "first": nights[0], "last": nights[-1]},
                ))
                continue
            legs = _allocate_rooms(request, room_types.get(base.pk, []), free, nights)
            if isinstance(legs, str):
                failures.append(PublishFailure(
                    request.pk, request.batch.title,
                    _("%(base)s %(first)s 起：%(reason)s") % {"base": base.name, "first": nights[0], "reason": legs},
                ))
                continue
            for leg in legs:  # count the rooms as taken so later requests see them gone
                for night in leg.night_list:
                    free[(leg.room_type.pk, night)] -= leg.rooms
            plans.append((request, legs))
        if failures:
            shown = [
                _("需求 #%(request)s（%(batch)s）：%(reason)s") % {"request": f.request_id, "batch": f.batch, "reason": f.reason}
                for f in failures[:PUBLISH_FAILURES_LISTED]
            ]
            more = len(failures) - PUBLISH_FAILURES_LISTED
            if more > 0:
                shown.append(_("另有 %(more)s 项，见 detail") % {"more": more})
            raise Conflict(
                _("发布未完成，未做任何修改：%(problems)s") % {"problems": listed(shown)},
                code="publish_failed",
                detail={"failures": [asdict(f) for f in failures]},
            )
        try:
            held = bookings._holds_create_many(
                [bookings.PlannedHold(request.batch, request.proposed_base, legs, request.people, request.rooms)
                 for request, legs in plans],
                created_by_id=actor.user_id, now=now, hold_expires_at=now + dt.timedelta(days=PUBLISHED_HOLD_DAYS),
                action="plan_hold",
            )
        except Conflict as error:
            raise Conflict(
                _("发布未完成，未做任何修改：%(problems)s") % {"problems": error.message},
                code="publish_failed", detail={"failures": [], "cause": error.detail},
            ) from error
        for (request, _legs), booking in zip(plans, held):
            request.booking = booking
        bulk_update_rows([request for request, _ in plans], ["booking"])
        planning_round.status, planning_round.published_at = RoundStatus.PUBLISHED, now
        planning_round.save(update_fields=["status", "published_at"])
    return held


def _check_budgets(to_hold: list[PlanningRequest]) -> list[PublishFailure]:
    """Each programme's available balance, net of plans already published, against this publication."""
    wanted: dict[int, list[PlanningRequest]] = {}
    for request in to_hold:
        if request.proposed_programme_id and request.proposed_subsidy:
            wanted.setdefault(request.proposed_programme_id, []).append(request)
    if not wanted:
        return []
    programmes = lock_programmes(wanted)
    pending = planning_problem.pending_plan_subsidies_fen(list(wanted))
    failures = []
    for programme_id, requests in sorted(wanted.items()):
        programme = programmes[programme_id]
        left = to_fen(programme.available) - pending.get(programme_id, 0)
        for request in requests:
            subsidy = to_fen(request.proposed_subsidy)
            if subsidy > left:
                failures.append(PublishFailure(
                    request.pk, request.batch.title,
                    _("专项经费「%(programme)s」仅余 %(left)s，不够补助 %(subsidy)s")
                    % {"programme": programme.name, "left": format_fen(max(left, 0)), "subsidy": format_fen(subsidy)},
                ))
            else:
                left -= subsidy
    return failures


# --- organisers' answers ----------------------------------------------------------------


def _offered_request(*, actor: Actor, request_id: int) -> PlanningRequest:
    actor.require(Role.ORGANISER)
    selectors.request_get(actor=actor, request_id=request_id)
    request = PlanningRequest.objects.select_for_update(of=("self",)).select_related("booking").get(pk=request_id)
    if request.status != RequestStatus.PLACED or request.booking is None or request.booking.status != Booking.Status.HELD:
        raise Conflict(
            _("需求状态为「%(status)s」，没有待答复的安排") % {"status": request.get_status_display()},
            code="request_status", detail={"status": request.status},
        )
    return request


def request_accept(*, actor: Actor, request_id: int, now: dt.datetime) -> PlanningRequest:
    """Accept the published place: its hold is confirmed and the programmes' shares committed, or nothing."""
    with locked_transaction():
        request = _offered_request(actor=actor, request_id=request_id)
        bookings.booking_confirm(actor=actor, booking_id=request.booking_id, now=now)  # commits the programmes' shares too
        request.status, request.decided_at = RequestStatus.ACCEPTED, now
        request.save(update_fields=["status", "decided_at"])
    return request


def request_decline(*, actor: Actor, request_id: int, now: dt.datetime) -> PlanningRequest:
    """Decline the published place: its hold is cancelled and a re-plan may give the rooms to others."""
    with locked_transaction():
        request = _offered_request(actor=actor, request_id=request_id)
        reason = in_site_language(gettext_lazy("放弃统筹安排的名额"))
        bookings.booking_cancel(actor=actor, booking_id=request.booking_id, reason=reason, now=now)
        request.status, request.decided_at = RequestStatus.DECLINED, now
        request.save(update_fields=["status", "decided_at"])
    return request

