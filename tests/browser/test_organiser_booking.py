"""In chromium, end to end: an organiser creates a batch, imports its participant file, finds a
base, holds and confirms; the base operator scans the group code and the arrival shows."""

import datetime as dt

import pytest
from django.utils import timezone

from groups.models import Booking, CheckIn
from tests.browser.fixtures import log_in_on
from tests.factories import BaseFactory, RoomTypeFactory, open_nights
from tests.groups.conftest import resident_id

pytestmark = pytest.mark.browser

PEOPLE = [("张伟", False), ("王芳", True), ("李娜", True), ("刘洋", False)]


@pytest.fixture
def base_with_rooms(union_tree):
    base = BaseFactory(operator=union_tree["operator"], name="河源万绿湖疗休养基地")
    room_type = RoomTypeFactory(base=base, name="标准双床房", beds_per_room=2, rooms=10)
    open_nights(room_type, timezone.localdate(), 5)
    return base


@pytest.fixture
def participant_file(tmp_path):
    lines = ["姓名,身份证号,手机,性别,工作单位,岗位,类别"]
    for sequence, (name, female) in enumerate(PEOPLE, start=1):
        lines.append(f"{name},{resident_id(sequence=sequence, female=female)},1380013800{sequence},{'女' if female else '男'},东莞某电子厂,装配工,一线职工")
    path = tmp_path / "名单.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_organiser_books_and_the_operator_scans_the_group_in(new_page, users, base_with_rooms, participant_file):
    today = timezone.localdate()
    organiser = new_page()
    log_in_on(organiser, users["factory_organiser"].username)

    organiser.goto("/batches/")
    form = organiser.locator("main form[method=post]")
    form.locator("input[name=title]").fill("2026年一线职工疗休养第一批")
    form.locator("input[name=arrival]").fill(today.isoformat())
    form.locator("input[name=nights]").fill("2")
    with organiser.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "批次已创建" in organiser.content()

    organiser.set_input_files("input[name=file]", str(participant_file))
    with organiser.expect_navigation():
        organiser.get_by_role("button", name="导入", exact=True).click()
    assert "已导入 4 人" in organiser.content()
    assert "440***********" in organiser.inner_text("main")  # IDs masked on the page

    with organiser.expect_navigation():
        organiser.get_by_role("link", name="查询空房并预订").click()
    row = organiser.locator("tr", has_text="河源万绿湖疗休养基地")
    with organiser.expect_navigation():
        row.get_by_role("link", name="选择房型").click()
    organiser.fill("input[name^=rooms_]", "2")
    organiser.fill("input[name^=people_]", "4")
    with organiser.expect_navigation():
        organiser.get_by_role("button", name="暂留（全部晚数，要么全部成功要么不占用）").click()
    assert "已暂留" in organiser.content()
    booking = Booking.objects.get(base=base_with_rooms)
    assert (booking.status, booking.people, booking.rooms, booking.nights) == ("held", 4, 2, 2)

    with organiser.expect_navigation():
        organiser.get_by_role("button", name="确认预订").click()
    assert "预订已确认" in organiser.content()
    with organiser.expect_navigation():
        organiser.locator("#itinerary").click()
    group_code = organiser.inner_text(".code-text").strip()
    assert "河源万绿湖疗休养基地" in organiser.inner_text("main")

    operator = new_page()
    log_in_on(operator, users["operator"].username)
    operator.goto("/itineraries/scan/")
    operator.fill("#code-input", group_code)
    operator.click("#scan-form button[type=submit]")
    operator.wait_for_function("document.getElementById('result').className.trim() !== 'result'")
    assert "本次核销 4 人" in operator.inner_text("#result")

    operator.goto(f"/itineraries/bookings/{booking.reference}/arrivals/")
    assert "已到 4 / 4" in operator.inner_text("main")
    assert CheckIn.objects.filter(booking=booking).count() == 4
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CHECKED_IN
    assert booking.arrival == today and booking.arrival + dt.timedelta(days=2) > today
