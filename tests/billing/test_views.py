import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from billing import documents, services
from billing.models import Settlement
from groups.models import Membership
from tests.billing.conftest import NOW, check_in_all
from tests.factories import member


@pytest.fixture
def committed(world, booking):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    return booking


@pytest.mark.django_db
def test_programme_pages_show_balances_and_a_usage_chart(world, committed, users, client_for, union_tree):
    client = client_for(users["dongguan_fund"])
    listing = client.get("/billing/").content.decode()
    assert "东莞市职工疗休养专项经费" in listing and "¥44,600.00" in listing and "省总疗休养定额补助" not in listing
    detail = client.get(f"/billing/programmes/{world['dongguan_cover'].pk}/").content.decode()
    assert "<svg" in detail and "<polyline" in detail and "确认承诺" in detail and "结算审核" in detail  # nav link
    outsider = member(organisation=union_tree["shenzhen"], role=Membership.Role.FUND_MANAGER)
    assert client_for(outsider).get(f"/billing/programmes/{world['dongguan_cover'].pk}/").status_code == 404


@pytest.mark.django_db
def test_the_usage_chart_speaks_the_readers_language(world, committed, users, client_for):
    client = client_for(users["dongguan_fund"])
    path = f"/billing/programmes/{world['dongguan_cover'].pk}/"
    chinese = client.get(path).content.decode()
    assert 'aria-label="经费使用趋势"' in chinese and "已支出 ¥" in chinese
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chart = english[english.index("<svg"):english.index("</svg>")]
    assert 'aria-label="Fund use over time"' in chart and "Budget ¥" in chart and "Spent ¥" in chart
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in chart)


@pytest.mark.django_db
def test_operator_submits_from_the_check_ins_and_the_fund_manager_approves(world, committed, users, client_for):
    check_in_all(committed, user=users["operator"], except_names=("张伟",))
    operator = client_for(users["operator"])
    form = operator.get(f"/billing/bookings/{committed.pk}/settle/").content.decode()
    assert form.count('checked>') == 9
    data = {f"arrived-{p.pk}": "1" for p in committed.batch.participants.exclude(name="张伟")}
    data |= {f"nights-{p.pk}": "3" for p in committed.batch.participants.all()}
    data |= {"extra-name": ["大巴接送", ""], "extra-amount": ["800", ""], "extra-basis": ["per_booking", "per_booking"]}
    response = operator.post(f"/billing/bookings/{committed.pk}/settle/", data)
    settlement = Settlement.objects.get()
    assert response.status_code == 302 and settlement.arrived_count == 9 and str(settlement.total_cost) == "11060.00"
    assert client_for(users["other_operator"]).get(f"/billing/bookings/{committed.pk}/settle/").status_code == 404

    fund = client_for(users["dongguan_fund"])
    queue = fund.get("/billing/settlements/").content.decode()
    assert settlement.number in queue
    page = fund.get(f"/billing/settlements/{settlement.pk}/").content.decode()
    assert "批准" in page and "每人每天上限" in page and "张伟" in page
    fund.post(f"/billing/settlements/{settlement.pk}/", {"action": "approve"})
    assert Settlement.objects.get().status == "approved"
    pdf = fund.get(f"/billing/settlements/{settlement.pk}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_rejecting_without_a_reason_shows_the_error_and_changes_nothing(world, committed, users, client_for):
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in committed.batch.participants.all()]
    settlement = services.settlement_submit(actor=world["operator"], booking_id=committed.pk, arrivals=arrivals, extras=[], now=NOW)
    fund = client_for(users["dongguan_fund"])
    page = fund.post(f"/billing/settlements/{settlement.pk}/", {"action": "reject", "reason": " "}, follow=True).content.decode()
    assert "退回原因" in page and Settlement.objects.get().status == "submitted"


@pytest.mark.django_db
def test_organiser_sees_the_cost_split_before_confirming(world, booking, users, client_for):
    page = client_for(users["factory_organiser"]).get(f"/billing/bookings/{booking.pk}/cost-split/").content.decode()
    assert "费用分担预估" in page and "¥11,400.00" in page and "家属自费" in page
    partial = client_for(users["factory_organiser"]).get(f"/billing/bookings/{booking.pk}/cost-split/?partial=1").content.decode()
    assert "<html" not in partial and "省总疗休养定额补助" in partial
    assert client_for(users["shenzhen_organiser"]).get(f"/billing/bookings/{booking.pk}/cost-split/").status_code == 404


@pytest.mark.django_db
def test_statement_page_links_downloads(world, committed, users, client_for):
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in committed.batch.participants.all()]
    services.settlement_submit(actor=world["operator"], booking_id=committed.pk, arrivals=arrivals, extras=[], now=NOW)
    fund = client_for(users["dongguan_fund"])
    page = fund.get("/billing/statements/?month=2026-11").content.decode()
    assert "河源万绿湖温泉疗休养基地" in page and "export.xlsx" in page
    assert fund.get("/billing/statements/export.xlsx?month=2026-11")["Content-Type"].startswith("application/vnd.openxml")
    assert fund.get(f"/billing/statements/bases/{world['base'].pk}.pdf?month=2026-11").content.startswith(b"%PDF")
    assert fund.get("/billing/statements/?month=bad").status_code == 200  # falls back with a message


@pytest.mark.django_db
def test_the_approve_form_refuses_a_settlement_resubmitted_after_it_was_shown(world, committed, users, client_for):
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in committed.batch.participants.all()]
    settlement = services.settlement_submit(actor=world["operator"], booking_id=committed.pk, arrivals=arrivals, extras=[], now=NOW)
    fund = client_for(users["dongguan_fund"])
    shown = fund.get(f"/billing/settlements/{settlement.pk}/").content.decode()
    shown_at = re.search(r'name="submitted_at" value="([^"]+)"', shown).group(1)
    assert dt.datetime.fromisoformat(shown_at) == settlement.submitted_at
    services.settlement_submit(actor=world["operator"], booking_id=committed.pk, arrivals=arrivals[1:], extras=[], now=NOW + dt.timedelta(minutes=5))

    page = fund.post(
        f"/billing/settlements/{settlement.pk}/", {"action": "approve", "submitted_at": shown_at}, follow=True
    ).content.decode()
    assert "重新提交" in page and Settlement.objects.get().status == "submitted"
    fund.post(f"/billing/settlements/{settlement.pk}/", {"action": "approve", "submitted_at": "yesterday"})
    assert Settlement.objects.get().status == "submitted"
    fund.post(f"/billing/settlements/{settlement.pk}/", {"action": "approve", "submitted_at": Settlement.objects.get().submitted_at.isoformat()})
    assert Settlement.objects.get().status == "approved"


@pytest.mark.django_db
def test_explanations_follow_the_readers_language_and_the_pdf_stays_chinese(world, committed, users, client_for, settings):
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in committed.batch.participants.all()]
    settlement = services.settlement_submit(actor=world["operator"], booking_id=committed.pk, arrivals=arrivals, extras=[], now=NOW)
    fund = client_for(users["dongguan_fund"])
    assert "每人每天上限" in fund.get(f"/billing/settlements/{settlement.pk}/").content.decode()

    fund.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = fund.get(f"/billing/settlements/{settlement.pk}/").content.decode()
    assert "per person per night" in page and "cap ¥150.00 per person per day" in page and "每人每天上限" not in page
    organiser = client_for(users["factory_organiser"])
    organiser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    preview = organiser.get(f"/billing/bookings/{committed.pk}/cost-split/").content.decode()
    assert "Family member pays their own cost" in preview and "家属自费" not in preview

    with translation.override("en"):
        notes = documents.settlement_context(settlement)["booking_notes"]  # what the PDF prints: Chinese
    assert any("本团合计" in note for note in notes) and not any("total for the booking" in note for note in notes)


@pytest.mark.django_db
def test_the_settlement_page_prints_every_amount_with_thousands_separators(world, committed, users, client_for):
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in committed.batch.participants.all()]
    extras = [services.ExtraActual(name="大巴接送", amount=Decimal("5560"))]
    settlement = services.settlement_submit(actor=world["operator"], booking_id=committed.pk, arrivals=arrivals, extras=extras, now=NOW)
    fund = client_for(users["dongguan_fund"])
    page = fund.get(f"/billing/settlements/{settlement.pk}/").content.decode()
    assert "大巴接送：¥5,560.00（" in page
    assert re.findall(r"¥\d{4,}", page) == []  # extras, cost lines, split and totals alike
    english = fund.get(f"/billing/settlements/{settlement.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "大巴接送: ¥5,560.00 (" in english


@pytest.mark.django_db
def test_the_statements_page_opens_on_the_latest_month_with_settlements(world, committed, users, client_for, union_tree):
    fund = client_for(users["dongguan_fund"])
    current = timezone.localdate().strftime("%Y-%m")
    assert f'name="month" value="{current}"' in fund.get("/billing/statements/").content.decode()  # none yet

    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in committed.batch.participants.all()]
    settlement = services.settlement_submit(actor=world["operator"], booking_id=committed.pk, arrivals=arrivals, extras=[], now=NOW)
    page = fund.get("/billing/statements/").content.decode()
    assert committed.arrival.strftime("%Y-%m") == "2026-11"
    assert 'name="month" value="2026-11"' in page and settlement.number in page

    asked = fund.get("/billing/statements/?month=2026-10").content.decode()
    assert 'name="month" value="2026-10"' in asked and settlement.number not in asked
    outsider = client_for(member(organisation=union_tree["shenzhen"], role=Membership.Role.FUND_MANAGER))
    assert f'name="month" value="{current}"' in outsider.get("/billing/statements/").content.decode()  # sees none of them
