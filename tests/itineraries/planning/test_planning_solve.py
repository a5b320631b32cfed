"""Solving a round: determinism, reasons, re-planning, and the run's life (progress, cancel, dead runs)."""

import datetime as dt
import importlib
import time

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from billing.models import FundProgramme
from groups.models import Booking
from itineraries import planning, planning_problem, planning_selectors
from itineraries.models import PlanningRequest, PlanningRound, SolveRun
from itineraries.planning_reasons import reason_in_words
from retreat.errors import Conflict
from tests.itineraries.planning.conftest import FIRST_NIGHT, NOW, make_batch, submit


def _solve(planning_round, admin, *, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = planning.solve_start(actor=admin, round_id=planning_round.pk, now=timezone.now())
    run.refresh_from_db()
    planning_round.refresh_from_db()
    return run


@pytest.fixture
def crowded(world, open_round, union_tree, users, organiser, sz_organiser):
    """Five groups after 河源 (20 beds) in the same week; 韶关 is everyone's second choice."""
    requests = []
    for index, (union, actor, people) in enumerate(
        [("factory", organiser, 12), ("factory", organiser, 10), ("sz_enterprise", sz_organiser, 8),
         ("sz_enterprise", sz_organiser, 6), ("factory", organiser, 16)]
    ):
        user = users["factory_organiser"] if union == "factory" else users["shenzhen_organiser"]
        batch = make_batch(union=union_tree[union], user=user, title=f"批次{index}", people=people)
        requests.append(submit(
            actor=actor, planning_round=open_round, batch=batch, people=people, rooms=people // 2,
            earliest=FIRST_NIGHT, latest=FIRST_NIGHT + dt.timedelta(days=2),
            preferences=[{"base": world["heyuan"].pk}, {"base": world["shaoguan"].pk}],
        ))
    return requests


def test_solve_places_and_explains_in_words(crowded, open_round, admin, django_capture_on_commit_callbacks):
    run = _solve(open_round, admin, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert run.status == SolveRun.Status.FINISHED
    assert open_round.status == PlanningRound.Status.PROPOSED
    assert run.result["format"] == "retreat-plan-result/1"
    assert run.best_objective == run.result["objective"] > 0
    assert run.instance["format"] == "retreat-plan/1"
    statuses = {r.pk: r.status for r in PlanningRequest.objects.filter(round=open_round)}
    assert set(statuses.values()) <= {PlanningRequest.Status.PLACED, PlanningRequest.Status.UNPLACED}
    for request in PlanningRequest.objects.filter(round=open_round, status=PlanningRequest.Status.UNPLACED):
        assert request.reason and "基地" in reason_in_words(request.reason)
        assert "B" + str(request.round.bases.first().pk) not in request.reason  # names, not ids
    placed = PlanningRequest.objects.filter(round=open_round, status=PlanningRequest.Status.PLACED)
    assert sum(r.people for r in placed) <= 40  # two bases of 20 beds, all in one week


def test_same_seed_same_plan(crowded, open_round, admin, django_capture_on_commit_callbacks):
    first = _solve(open_round, admin, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    second = _solve(open_round, admin, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert first.pk != second.pk
    assert first.result["assignments"] == second.result["assignments"]
    assert first.result["objective"] == second.result["objective"]


def test_unplaced_reasons_name_the_constraint(world, open_round, union_tree, users, organiser, admin,
                                             django_capture_on_commit_callbacks):
    too_big = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="大团", people=30)
    accessible = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="无障碍团", people=4)
    costly = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="经费团", people=4)
    big = submit(actor=organiser, planning_round=open_round, batch=too_big, people=30, rooms=15,
                 preferences=[{"base": world["heyuan"].pk}])
    needs = submit(actor=organiser, planning_round=open_round, batch=accessible, people=4, rooms=2, accessible_rooms=2,
                   preferences=[{"base": world["qingyuan"].pk}])
    money = submit(actor=organiser, planning_round=open_round, batch=costly, people=4, rooms=2,
                   preferences=[{"base": world["shaoguan"].pk}])
    FundProgramme.objects.filter(pk=world["programme"].pk).update(committed="99000.00", available="1000.00")

    _solve(open_round, admin, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    big.refresh_from_db(), needs.refresh_from_db(), money.refresh_from_db()
    assert big.status == needs.status == money.status == PlanningRequest.Status.UNPLACED
    assert "base 河源温泉基地 has 20 beds, the group needs 30" in big.reason.split("; ")  # stored language-neutral
    assert "只有 20 张空床，该批次需 30 张" in reason_in_words(big.reason)
    assert needs.reason == "the group lists no options; base 清远山水基地 lacks the required rooms: 2 accessible rooms"
    assert "无障碍房" in reason_in_words(needs.reason)
    money_in_words = reason_in_words(money.reason)
    assert "仅余 ¥1,000.00" in money_in_words and "东莞市职工疗休养专项资金" in money_in_words


def test_replan_keeps_accepted_places_and_fills_what_declines_freed(
    world, open_round, union_tree, users, organiser, admin, django_capture_on_commit_callbacks
):
    batches = [make_batch(union=union_tree["factory"], user=users["factory_organiser"], title=f"团{i}", people=10)
               for i in range(3)]
    requests = [submit(actor=organiser, planning_round=open_round, batch=batch, people=10, rooms=5,
                       earliest=FIRST_NIGHT, latest=FIRST_NIGHT, preferences=[{"base": world["heyuan"].pk}])
                for batch in batches]
    _solve(open_round, admin, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    placed = [r for r in requests if PlanningRequest.objects.get(pk=r.pk).status == PlanningRequest.Status.PLACED]
    waiting = next(r for r in requests if r not in placed)
    assert len(placed) == 2  # 20 beds: two of the three
    planning.round_publish(actor=admin, round_id=open_round.pk, now=timezone.now())
    accepted, declined = placed
    planning.request_accept(actor=organiser, request_id=accepted.pk, now=timezone.now())
    planning.request_decline(actor=organiser, request_id=declined.pk, now=timezone.now())

    run = _solve(open_round, admin, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert {"group": planning_problem.group_id(accepted.pk), "base": planning_problem.base_id(world["heyuan"].pk),
            "arrival": FIRST_NIGHT.isoformat()} in run.instance["fixed"]
    # The accepted group's commitment (¥100 × 10 people × 4 days) is given back to the fund and drawn by it again.
    assert FundProgramme.objects.get(pk=world["programme"].pk).committed == 4000
    (fund,) = [f for f in run.instance["funds"] if f["id"] == planning_problem.fund_id(world["programme"].pk)]
    assert fund["budget"] == "100000.00"
    (fixed_group,) = [g for g in run.instance["groups"] if g["id"] == planning_problem.group_id(accepted.pk)]
    assert fixed_group["options"][0]["subsidy"] == "4000.00"
    accepted.refresh_from_db(), declined.refresh_from_db(), waiting.refresh_from_db()
    assert accepted.status == PlanningRequest.Status.ACCEPTED
    assert accepted.booking.status == Booking.Status.CONFIRMED
    assert declined.status == PlanningRequest.Status.DECLINED
    assert (waiting.status, waiting.proposed_base) == (PlanningRequest.Status.PLACED, world["heyuan"])
    held = planning.round_publish(actor=admin, round_id=open_round.pk, now=timezone.now())
    assert [booking.planning_request.pk for booking in held] == [waiting.pk]


def test_a_second_solve_is_refused_while_one_runs(crowded, open_round, admin):
    planning.solve_start(actor=admin, round_id=open_round.pk, now=NOW)  # queued; on_commit never fires here

    with pytest.raises(Conflict) as refused:
        planning.solve_start(actor=admin, round_id=open_round.pk, now=NOW)

    assert refused.value.code == "solve_running"


def test_a_dead_run_does_not_block_and_leaves_the_round_as_it_was(crowded, open_round, admin):
    dead = planning.solve_start(actor=admin, round_id=open_round.pk, now=NOW)
    SolveRun.objects.filter(pk=dead.pk).update(status=SolveRun.Status.RUNNING, heartbeat_at=NOW)

    later = NOW + planning.STALE_AFTER + dt.timedelta(seconds=1)
    again = planning.solve_start(actor=admin, round_id=open_round.pk, now=later)

    dead.refresh_from_db()
    assert dead.status == SolveRun.Status.FAILED and dead.error == "求解进程失联超过 30 秒，本次求解作废"
    assert again.status == SolveRun.Status.QUEUED
    planning.solve_cancel(actor=admin, round_id=open_round.pk, now=later)
    open_round.refresh_from_db()
    assert open_round.status == PlanningRound.Status.OPEN
    assert not PlanningRequest.objects.filter(round=open_round).exclude(status=PlanningRequest.Status.SUBMITTED).exists()


def test_a_redelivered_run_is_abandoned_not_solved_twice(crowded, open_round, admin):
    run = planning.solve_start(actor=admin, round_id=open_round.pk, now=NOW)
    SolveRun.objects.filter(pk=run.pk).update(status=SolveRun.Status.RUNNING, heartbeat_at=NOW)

    again = planning.solve_run_execute(run_id=run.pk, now=NOW)

    assert again.status == SolveRun.Status.FAILED and again.error == "求解进程中断后任务被重新投递，本次求解作废"
    open_round.refresh_from_db()
    assert open_round.status == PlanningRound.Status.OPEN


def test_run_errors_stored_bilingual_are_rewritten_in_the_site_language(crowded, open_round, admin):
    migration = importlib.import_module("itineraries.migrations.0003_run_errors_in_site_language")
    run = planning.solve_start(actor=admin, round_id=open_round.pk, now=NOW)

    def run_failed_with(error: str) -> int:
        run.pk, run.status, run.error = None, SolveRun.Status.FAILED, error
        run.save()
        return run.pk

    silent = run_failed_with("求解进程失联超过 30 秒，已作废 (worker lost; run abandoned)")
    redelivered = run_failed_with(migration.OLD_REDELIVERED)
    kept = run_failed_with("HiGHS failed (abandoned)")

    migration.forwards(django_apps, None)

    assert SolveRun.objects.get(pk=silent).error == "求解进程失联超过 30 秒，本次求解作废"
    assert SolveRun.objects.get(pk=redelivered).error == "求解进程中断后任务被重新投递，本次求解作废"
    assert SolveRun.objects.get(pk=kept).error == "HiGHS failed (abandoned)"


@pytest.mark.django_db(transaction=True)
def test_the_task_saves_progress_while_running_and_the_plan_at_the_end(crowded, open_round, admin, monkeypatch):
    monkeypatch.setattr(planning, "HEARTBEAT_SECONDS", 0.05)
    real_solve = planning.solve_problem
    seen = []

    def slow_solve(problem, **kwargs):
        result = real_solve(problem, **kwargs)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # let the monitor write what the solver reported
            run = SolveRun.objects.filter(round=open_round).first()
            if run.best_objective is not None:
                seen.append((run.status, run.best_objective, run.heartbeat_at))
                break
            time.sleep(0.05)
        return result

    monkeypatch.setattr(planning, "solve_problem", slow_solve)
    run = planning.solve_start(actor=admin, round_id=open_round.pk, now=timezone.now())  # eager task on commit

    run.refresh_from_db()
    assert seen and seen[0][0] == SolveRun.Status.RUNNING and seen[0][1] > 0
    assert run.status == SolveRun.Status.FINISHED
    assert run.best_objective == run.result["objective"] >= seen[0][1]


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_the_solve_and_keeps_the_best_plan(crowded, open_round, admin, monkeypatch):
    monkeypatch.setattr(planning, "HEARTBEAT_SECONDS", 0.05)
    open_round.time_limit_seconds = 600
    open_round.save()
    real_solve = planning.solve_problem
    asked = {}

    def solve_until_cancelled(problem, *, should_stop, **kwargs):
        # The admin presses cancel while the search runs; the search then notices through should_stop.
        planning.solve_cancel(actor=admin, round_id=open_round.pk, now=timezone.now())
        deadline = time.monotonic() + 5
        while not should_stop() and time.monotonic() < deadline:
            time.sleep(0.02)
        asked["stopped"] = should_stop()
        return real_solve(problem, should_stop=should_stop, **kwargs)

    monkeypatch.setattr(planning, "solve_problem", solve_until_cancelled)
    started = time.monotonic()
    run = planning.solve_start(actor=admin, round_id=open_round.pk, now=timezone.now())

    run.refresh_from_db()
    open_round.refresh_from_db()
    assert asked["stopped"] is True
    assert time.monotonic() - started < 60
    assert run.status == SolveRun.Status.CANCELLED
    assert run.result["assignments"]  # the plan found before the stop (first come, first served at least)
    assert open_round.status == PlanningRound.Status.PROPOSED
    assert PlanningRequest.objects.filter(round=open_round, status=PlanningRequest.Status.PLACED).exists()


@pytest.mark.parametrize("balance", ["off", "min_share"])
def test_a_minimum_city_share_gives_way_to_the_other_city(
    balance, world, open_round, union_tree, users, organiser, sz_organiser, admin, django_capture_on_commit_callbacks
):
    """河源 sleeps 20 on the same nights: Dongguan's two high-priority groups fill it on score alone;
    with every city's minimum at 50 % (Dongguan 10 of 20 people, Shenzhen 4 of 8) Shenzhen's group goes in."""
    open_round.regional_balance, open_round.min_city_share_percent = balance, 50
    open_round.save()

    def ask(union, user, actor, people, priority):
        batch = make_batch(union=union_tree[union], user=users[user], title=f"{union}{people}", people=people)
        return submit(actor=actor, planning_round=open_round, batch=batch, people=people, rooms=people // 2,
                      latest=FIRST_NIGHT, priority=priority, preferences=[{"base": world["heyuan"].pk}])

    dg_big = ask("factory", "factory_organiser", organiser, 12, 2)
    dg_small = ask("factory", "factory_organiser", organiser, 8, 2)
    sz = ask("sz_enterprise", "shenzhen_organiser", sz_organiser, 8, 0)

    problem = planning_problem.round_problem_build(planning_round=open_round)
    run = _solve(open_round, admin, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    placed = set(PlanningRequest.objects.filter(round=open_round, status=PlanningRequest.Status.PLACED)
                 .values_list("pk", flat=True))
    requests = planning_selectors.request_list(actor=admin, round_id=open_round.pk)
    shares = {share.city_code: share
              for share in planning_selectors.round_city_shares(planning_round=open_round, requests=requests)}
    assert "shortfall" not in run.result
    if balance == "off":
        assert problem.instance.region_minimums == {}
        assert placed == {dg_big.pk, dg_small.pk}
        assert shares["440300"].minimum_people == shares["440300"].short_people == 0
    else:
        assert problem.instance.region_minimums == {"441900": 10, "440300": 4}
        assert placed == {dg_big.pk, sz.pk}
        assert (shares["441900"].minimum_people, shares["441900"].placed_people, shares["441900"].short_people) == (10, 12, 0)
        assert (shares["440300"].minimum_people, shares["440300"].placed_people, shares["440300"].short_people) == (4, 8, 0)


def test_a_minimum_the_bases_cannot_meet_is_reported_short(
    world, open_round, union_tree, users, organiser, admin, django_capture_on_commit_callbacks, client
):
    """A 30-person group fits no base: Dongguan stays short of its 100 % minimum, and the page says by how much."""
    open_round.regional_balance, open_round.min_city_share_percent = "min_share", 100
    open_round.save()
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="大团", people=30)
    submit(actor=organiser, planning_round=open_round, batch=batch, people=30, rooms=15,
           preferences=[{"base": world["heyuan"].pk}])

    run = _solve(open_round, admin, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)

    assert run.result["shortfall"] == {"441900": 30}
    client.force_login(users["province_admin"])
    page = client.get(f"/planning/{open_round.pk}/").content.decode()
    assert "保底人数" in page and '<td class="error">30</td>' in page
    assert '<line x1="420" y1="1" x2="420" y2="23"' in page  # the minimum's mark: the whole bar
