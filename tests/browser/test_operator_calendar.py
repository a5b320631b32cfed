import datetime as dt

import pytest
from django.utils import timezone

from bases.models import NightInventory
from groups.models import Membership
from tests.factories import BaseFactory, RoomTypeFactory, member, open_nights

pytestmark = pytest.mark.browser


def test_operator_closes_a_range_in_the_calendar_and_sees_it_closed(page, log_in, union_tree):
    operator = member(organisation=union_tree["operator"], role=Membership.Role.OPERATOR, username="calendar_op")
    base = BaseFactory(operator=union_tree["operator"], name="河源日历测试基地")
    room_type = RoomTypeFactory(base=base, name="标准双床房", rooms=12)
    first_of_next_month = (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    open_nights(room_type, first_of_next_month, 28)
    closing = [first_of_next_month + dt.timedelta(days=d) for d in (9, 10, 11)]

    log_in(operator.username)
    page.goto(f"/bases/{base.pk}/calendar/?month={first_of_next_month:%Y-%m}")
    form = page.locator("#op-close")
    form.locator("select[name=close-room_type]").select_option(str(room_type.pk))
    form.locator("input[name=close-first_night]").fill(closing[0].isoformat())
    form.locator("input[name=close-last_night]").fill(closing[-1].isoformat())
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    grid = page.locator(f"section.room-type[data-room-type='{room_type.pk}']")
    for night in closing:
        cell = grid.locator(f".day[data-night='{night.isoformat()}']")
        assert "closed" in cell.get_attribute("class")
        assert "已关闭" in cell.inner_text()
    before = grid.locator(f".day[data-night='{(closing[0] - dt.timedelta(days=1)).isoformat()}']")
    after = grid.locator(f".day[data-night='{(closing[-1] + dt.timedelta(days=1)).isoformat()}']")
    assert "closed" not in before.get_attribute("class")
    assert "closed" not in after.get_attribute("class")
    assert sorted(NightInventory.objects.filter(room_type=room_type, closed=True).values_list("night", flat=True)) == closing
