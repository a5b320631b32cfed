"""Bad input on pages and the API is a clear 4xx that changes nothing, never a 500."""

import json
from decimal import Decimal

import pytest

from billing import services
from billing.models import FundingAllocation, FundProgramme, LedgerEntry, Settlement
from billing.services import MAX_AMOUNT
from groups.models import Booking, BookingLine
from retreat.errors import Conflict
from tests.billing.conftest import NOW

API = "/api/v1/billing"


@pytest.fixture
def committed(world, booking):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    return booking


def ledger_state():
    return (
        list(LedgerEntry.objects.order_by("pk").values_list("pk", "committed_delta", "spent_delta")),
        list(FundProgramme.objects.order_by("pk").values_list("committed", "spent", "available")),
        sorted(FundingAllocation.objects.values_list("programme_id", "person_key", "amount")),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/billing/statements/bases/{base}.pdf?month=bad",
        "/billing/programmes/{programme}/statement.pdf?month=2026-13",
        "/billing/statements/export.xlsx?month=November",
        "/billing/statements/export.csv?month=x",
    ],
)
def test_a_bad_month_on_a_download_page_is_a_422_page(world, users, client_for, url):
    url = url.format(base=world["base"].pk, programme=world["dongguan_cover"].pk)
    response = client_for(users["dongguan_fund"]).get(url)
    assert response.status_code == 422
    assert "YYYY-MM" in response.content.decode()


@pytest.mark.django_db
def test_cost_split_page_refuses_clearly(world, booking, users, client_for):
    operator = client_for(users["operator"]).get(f"/billing/bookings/{booking.pk}/cost-split/")
    assert operator.status_code == 403 and "无权" in operator.content.decode()
    BookingLine.objects.filter(booking=booking).delete()
    unpriceable = client_for(users["factory_organiser"]).get(f"/billing/bookings/{booking.pk}/cost-split/")
    assert unpriceable.status_code == 422 and "没有房型明细" in unpriceable.content.decode()


@pytest.mark.django_db
def test_an_extra_too_large_to_record_is_refused_on_the_page_and_in_the_api(world, committed, users, client_for):
    participant = committed.batch.participants.order_by("pk").first()
    before = ledger_state()
    page = client_for(users["operator"]).post(
        f"/billing/bookings/{committed.pk}/settle/",
        {f"arrived-{participant.pk}": "1", f"nights-{participant.pk}": "3",
         "extra-name": ["保险"], "extra-amount": [str(MAX_AMOUNT)], "extra-basis": ["per_person"]},
    )
    assert page.status_code == 200 and "超出可记录的上限" in page.content.decode()
    page = client_for(users["operator"]).post(
        f"/billing/bookings/{committed.pk}/settle/",
        {f"arrived-{participant.pk}": "1", f"nights-{participant.pk}": "3",
         "extra-name": ["保险"], "extra-amount": ["1e400"], "extra-basis": ["per_person"]},
    )
    assert page.status_code == 200 and "金额" in page.content.decode()
    api = client_for(users["operator"]).post(
        f"{API}/bookings/{committed.pk}/settlement",
        json.dumps({"arrivals": [{"participant_id": p.pk, "nights": 3} for p in committed.batch.participants.all()],
                    "extras": [{"name": "保险", "amount": "20000000000.00", "basis": "per_person"}]}),
        content_type="application/json",
    )
    assert api.status_code == 422, api.content
    assert api.json()["code"] == "amount_too_large"
    assert not Settlement.objects.exists()
    assert ledger_state() == before


@pytest.mark.django_db
def test_a_settlement_of_a_booking_cancelled_meanwhile_cannot_be_approved(world, committed):
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in committed.batch.participants.all()]
    settlement = services.settlement_submit(actor=world["operator"], booking_id=committed.pk, arrivals=arrivals, extras=[], now=NOW)
    services.funding_release_for_booking(booking=committed, actor=world["organiser"], now=NOW)
    Booking.objects.filter(pk=committed.pk).update(status=Booking.Status.CANCELLED)
    before = ledger_state()

    with pytest.raises(Conflict) as refused:
        services.settlement_approve(actor=world["fund"], settlement_id=settlement.pk, now=NOW)

    assert refused.value.code == "not_settleable" and committed.reference in refused.value.message
    assert Settlement.objects.get(pk=settlement.pk).status == Settlement.Status.SUBMITTED
    assert ledger_state() == before


@pytest.mark.django_db
def test_committing_again_after_the_rules_changed_changes_nothing(world, committed):
    before = ledger_state()
    FundProgramme.objects.filter(pk=world["dongguan_cover"].pk).update(cap_per_person_day=Decimal("200.00"))

    again = services.funding_commit_for_booking(booking=committed, actor=world["organiser"], now=NOW)

    assert again.entries == []
    assert ledger_state() == before  # not even the allocations the yearly caps count on


@pytest.mark.django_db
def test_operator_queue_lists_stays_awaiting_actuals(world, committed, users, client_for):
    operator = client_for(users["operator"])
    page = operator.get("/billing/settlements/").content.decode()
    assert committed.reference in page and f"/billing/bookings/{committed.pk}/settle/" in page
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in committed.batch.participants.all()]
    settlement = services.settlement_submit(actor=world["operator"], booking_id=committed.pk, arrivals=arrivals, extras=[], now=NOW)
    assert f"/billing/bookings/{committed.pk}/settle/" not in operator.get("/billing/settlements/").content.decode()
    services.settlement_reject(actor=world["fund"], settlement_id=settlement.pk, reason="缺签名", now=NOW)
    assert f"/billing/bookings/{committed.pk}/settle/" in operator.get("/billing/settlements/").content.decode()
    assert 'id="to-settle"' not in client_for(users["other_operator"]).get("/billing/settlements/").content.decode()
    assert 'id="to-settle"' not in client_for(users["dongguan_fund"]).get("/billing/settlements/").content.decode()
