"""A small planning round end to end in the browser: open, request, solve with live progress, publish, accept."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from groups.access import actor_of
from groups.models import Booking
from itineraries import planning
from itineraries.models import PlanningRequest
from itineraries.tasks import solve_round
from tests.factories import BaseFactory, RoomTypeFactory, open_nights
from tests.itineraries.planning.conftest import FIRST_NIGHT, make_batch

pytestmark = pytest.mark.browser


def _worker_in_a_thread(run_id: int) -> None:
    """Stands in for a Celery worker: the solve starts a moment later, so the page sees it queued and running."""

    def work():
        try:
            time.sleep(1.5)
            solve_round(run_id)
        finally:
            connection.close()

    threading.Thread(target=work, daemon=True).start()


def test_a_small_round_from_request_to_accepted_booking(page, log_in, union_tree, users, monkeypatch):
    monkeypatch.setattr(planning, "_enqueue_solve", _worker_in_a_thread)
    heyuan = BaseFactory(name="河源温泉基地", operator=union_tree["operator"], city_code="441600", is_rural=True)
    room_type = RoomTypeFactory(base=heyuan, rooms=10, beds_per_room=2, price_per_night=Decimal("200.00"))
    open_nights(room_type, FIRST_NIGHT, 10)
    admin = actor_of(users["province_admin"])
    planning_round = planning.round_open(actor=admin, round_id=planning.round_create(
        actor=admin, name="浏览器测试轮次", first_night=FIRST_NIGHT, last_night=FIRST_NIGHT + dt.timedelta(days=9),
        union_ids=[union_tree["dongguan"].pk], base_ids=[heyuan.pk], programme_ids=[],
        settings=planning.RoundSettings(time_limit_seconds=5, workers=1, seed=1),
    ).pk)
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="东莞一线职工团", people=6)

    # The organiser asks for 河源 as first choice.
    log_in(users["factory_organiser"].username)
    page.goto(f"/planning/{planning_round.pk}/")
    form = page.locator("#request-form")
    form.locator("select[name=batch]").select_option(str(batch.pk))
    form.locator("input[name=people]").fill("6")
    form.locator("input[name=rooms]").fill("3")
    form.locator("input[name=nights]").fill("3")
    form.locator("input[name=earliest_arrival]").fill(FIRST_NIGHT.isoformat())
    form.locator("input[name=latest_arrival]").fill((FIRST_NIGHT + dt.timedelta(days=3)).isoformat())
    form.locator(f"input[name=rank_{heyuan.pk}]").fill("1")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "需求已提交" in page.inner_text("main")

    # The administrator solves; the page follows the run live and shows the result when it ends.
    log_in(users["province_admin"].username)
    page.goto(f"/planning/{planning_round.pk}/")
    with page.expect_navigation():
        page.click("#solve-button")
    assert "求解中" in page.inner_text("#round-status")
    page.wait_for_selector("#publish-button", timeout=30_000)
    assert page.inner_text("#run-status") == "已完成"
    assert "东莞" in page.locator("svg").text_content()
    assert "100.0%" in page.inner_text("main")
    with page.expect_navigation():
        page.click("#publish-button")
    assert "方案已发布" in page.inner_text("main")

    # The organiser accepts: the hold becomes a confirmed booking.
    log_in(users["factory_organiser"].username)
    page.goto(f"/planning/{planning_round.pk}/")
    with page.expect_navigation():
        page.click("button[name=answer][value=accept]")
    assert "已接受安排" in page.inner_text("main")
    request = PlanningRequest.objects.get(batch=batch)
    assert request.status == PlanningRequest.Status.ACCEPTED
    assert request.booking.status == Booking.Status.CONFIRMED
    assert (request.booking.base, request.booking.people) == (heyuan, 6)
