"""The base operator's scan page in chromium: typed codes, checked on the device, then checked in."""

import pytest
from django.utils import timezone

from groups.codes import group_code_for, personal_code_for
from groups.models import Booking, CheckIn
from tests.factories import BaseFactory
from tests.groups.factories_booking import confirmed_booking

pytestmark = pytest.mark.browser


@pytest.fixture
def arriving_today(union_tree):
    base = BaseFactory(operator=union_tree["operator"], name="河源扫码测试基地")
    return confirmed_booking(union=union_tree["factory"], base=base, arrival=timezone.localdate(), nights=2, people=3, names=["张伟", "王芳", "李娜"])


def scan(page, code: str) -> str:
    page.fill("#code-input", code)
    page.click("#scan-form button[type=submit]")
    page.wait_for_function("document.getElementById('result').className.trim() !== 'result'")
    text = page.inner_text("#result")
    page.evaluate("document.getElementById('result').className = 'result'")
    return text


def test_operator_scans_a_person_then_the_group(page, log_in, users, arriving_today):
    log_in(users["operator"].username)
    page.goto("/itineraries/scan/")
    assert "河源扫码测试基地" in page.inner_text("main")

    first = arriving_today.batch.participants.order_by("pk").first()
    result = scan(page, personal_code_for(arriving_today, first))
    assert "张伟 核销成功" in result and "东莞某电子厂工会" in result and "已到 1 / 3" in result
    assert "本机用公钥校验" in page.inner_text("#offline-note")  # WebCrypto Ed25519 checked it before posting

    result = scan(page, group_code_for(arriving_today).lower())
    assert "本次核销 2 人" in result and "已到 3 / 3" in result
    result = scan(page, personal_code_for(arriving_today, first))
    assert "已于" in result and "无需重复" in result
    assert CheckIn.objects.filter(booking=arriving_today).count() == 3
    assert Booking.objects.get(pk=arriving_today.pk).status == Booking.Status.CHECKED_IN
    assert page.locator("#history li").count() == 3


def test_operator_sees_refusals(page, log_in, users, union_tree, arriving_today):
    elsewhere = BaseFactory(operator=union_tree["other_operator"], name="韶关丹霞基地")
    foreign = confirmed_booking(union=union_tree["factory"], base=elsewhere, arrival=timezone.localdate())
    log_in(users["operator"].username)
    page.goto("/itineraries/scan/")

    code = group_code_for(arriving_today)
    tampered = code[:20] + ("A" if code[20] != "A" else "B") + code[21:]
    assert "无效的核销码" in scan(page, tampered)
    assert "韶关丹霞基地" in scan(page, group_code_for(foreign))
    Booking.objects.filter(pk=arriving_today.pk).update(status=Booking.Status.CANCELLED)
    assert "已取消" in scan(page, code)
    assert not CheckIn.objects.exists()
