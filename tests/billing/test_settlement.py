from decimal import Decimal

import pytest

from billing import services
from billing.ledger import reconcile
from billing.models import FundingAllocation, FundProgramme, LedgerEntry, Settlement, SettlementEvent
from groups.models import Booking
from retreat.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.billing.conftest import NOW, check_in_all


def actuals(booking, *, skip=(), nights=None):
    return [
        services.ArrivalActual(participant_id=p.pk, nights=nights or booking.nights)
        for p in booking.batch.participants.order_by("pk")
        if p.name not in skip
    ]


@pytest.fixture
def committed(world, booking):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    return booking


def submit(world, booking, **kwargs):
    return services.settlement_submit(
        actor=world["operator"], booking_id=booking.pk, arrivals=actuals(booking, **kwargs),
        extras=[services.ExtraActual(name="大巴接送", amount=Decimal("800.00"))], now=NOW,
    )


@pytest.mark.django_db
def test_no_shows_get_no_subsidy_and_the_base_is_paid_for_what_it_delivered(world, committed):
    settlement = submit(world, committed, skip=("张伟", "王芳"))  # two members stayed home

    assert settlement.arrived_count == 8
    # 7 members × ¥1,140 + the family member ¥1,140 + the bus ¥800
    assert settlement.total_cost == Decimal("9920.00")
    assert settlement.programmes_total == Decimal("7000.00")  # 7 × (¥400 + ¥600)
    assert settlement.own_payment == Decimal("1140.00")
    assert settlement.union_amount == Decimal("1780.00")  # 7 × ¥140 + the bus
    no_shows = settlement.arrivals.filter(arrived=False)
    assert sorted(no_shows.values_list("participant__name", flat=True)) == ["张伟", "王芳"]
    assert all(arrival.programmes_amount == 0 and arrival.cost == 0 for arrival in no_shows)
    assert LedgerEntry.objects.filter(kind="spend").count() == 0  # nothing moves before approval


@pytest.mark.django_db
def test_approval_turns_commitments_into_spend_releases_the_rest_and_freezes(world, committed):
    settlement = submit(world, committed, skip=("张伟", "王芳"))

    approved = services.settlement_approve(actor=world["fund"], settlement_id=settlement.pk, now=NOW)

    assert approved.status == Settlement.Status.APPROVED
    province = FundProgramme.objects.get(pk=world["province_flat"].pk)
    dongguan = FundProgramme.objects.get(pk=world["dongguan_cover"].pk)
    assert (province.committed, province.spent, province.available) == (0, Decimal("2800.00"), Decimal("97200.00"))
    assert (dongguan.committed, dongguan.spent, dongguan.available) == (0, Decimal("4200.00"), Decimal("45800.00"))
    kinds = sorted(LedgerEntry.objects.filter(settlement=settlement).values_list("kind", "committed_delta", "spent_delta"))
    assert kinds == [
        ("settlement_release", Decimal("-1200.00"), Decimal("0.00")),
        ("settlement_release", Decimal("-800.00"), Decimal("0.00")),
        ("spend", Decimal("-4200.00"), Decimal("4200.00")),
        ("spend", Decimal("-2800.00"), Decimal("2800.00")),
    ]
    assert FundingAllocation.objects.filter(booking=committed).count() == 14  # actual arrivals only
    assert reconcile() == []
    assert list(settlement.events.values_list("action", flat=True)) == ["submit", "approve"]

    with pytest.raises(Conflict, match="已批准"):
        services.settlement_approve(actor=world["fund"], settlement_id=settlement.pk, now=NOW)
    with pytest.raises(Conflict, match="已批准"):
        submit(world, committed)
    with pytest.raises(Conflict, match="已结算"):
        services.funding_release_for_booking(booking=committed, actor=world["organiser"], now=NOW)
    assert LedgerEntry.objects.count() == 6


@pytest.mark.django_db
def test_rejection_needs_a_reason_and_the_base_can_resubmit(world, committed):
    settlement = submit(world, committed)
    with pytest.raises(ValidationFailed):
        services.settlement_reject(actor=world["fund"], settlement_id=settlement.pk, reason="  ", now=NOW)

    services.settlement_reject(actor=world["fund"], settlement_id=settlement.pk, reason="签到表缺少两人签名", now=NOW)
    with pytest.raises(Conflict, match="已退回"):
        services.settlement_approve(actor=world["fund"], settlement_id=settlement.pk, now=NOW)

    resubmitted = submit(world, committed, skip=("张伟",))
    assert resubmitted.pk == settlement.pk and resubmitted.status == Settlement.Status.SUBMITTED
    assert resubmitted.reject_reason == ""
    trail = list(SettlementEvent.objects.filter(settlement=settlement).values_list("action", "reason"))
    assert trail == [("submit", ""), ("reject", "签到表缺少两人签名"), ("resubmit", "")]


@pytest.mark.django_db
def test_spend_above_the_commitment_needs_available_money(world, committed):
    dongguan = world["dongguan_cover"]
    FundProgramme.objects.filter(pk=dongguan.pk).update(cap_per_person_day=Decimal("200.00"))  # raised after confirmation
    settlement = submit(world, committed)
    assert settlement.shares.get(programme=dongguan).amount == Decimal("6660.00")  # 9 × ¥740 against ¥5,400 committed
    FundProgramme.objects.filter(pk=dongguan.pk).update(budget=Decimal("6400.00"), available=Decimal("1000.00"))

    with pytest.raises(Conflict) as refused:
        services.settlement_approve(actor=world["fund"], settlement_id=settlement.pk, now=NOW)
    assert refused.value.detail["shortfall"] == "¥260.00"
    assert Settlement.objects.get(pk=settlement.pk).status == Settlement.Status.SUBMITTED
    assert not LedgerEntry.objects.filter(settlement=settlement).exists()

    FundProgramme.objects.filter(pk=dongguan.pk).update(budget=Decimal("50000.00"), available=Decimal("44600.00"))
    services.settlement_approve(actor=world["fund"], settlement_id=settlement.pk, now=NOW)
    dongguan.refresh_from_db()
    assert (dongguan.committed, dongguan.spent, dongguan.available) == (0, Decimal("6660.00"), Decimal("43340.00"))
    assert reconcile() == []


@pytest.mark.django_db
def test_prefill_ticks_the_checked_in(world, committed, users):
    from billing import selectors

    check_in_all(committed, user=users["operator"], except_names=("李娜",))
    rows = selectors.settlement_prefill(actor=world["operator"], booking_id=committed.pk)
    assert [row.name for row in rows if not row.checked_in] == ["李娜"]
    assert all(row.nights == 3 for row in rows if row.checked_in)


@pytest.mark.django_db
def test_who_may_submit_and_decide(world, committed, users):
    from groups.access import actor_of

    with pytest.raises(NotFound):  # another operator's base looks absent
        services.settlement_submit(actor=world["other_operator"], booking_id=committed.pk, arrivals=[], extras=[], now=NOW)
    with pytest.raises(Forbidden):
        services.settlement_submit(actor=world["organiser"], booking_id=committed.pk, arrivals=[], extras=[], now=NOW)
    settlement = submit(world, committed)
    with pytest.raises(Forbidden):
        services.settlement_approve(actor=world["organiser"], settlement_id=settlement.pk, now=NOW)
    shenzhen_fund = actor_of(_fund_manager(users, "shenzhen"))
    with pytest.raises(NotFound):
        services.settlement_approve(actor=shenzhen_fund, settlement_id=settlement.pk, now=NOW)
    assert Settlement.objects.get(pk=settlement.pk).status == Settlement.Status.SUBMITTED


def _fund_manager(users, city):
    from groups.models import Membership, Organisation
    from tests.factories import member

    return member(organisation=Organisation.objects.get(name=f"{'深圳' if city == 'shenzhen' else '东莞'}市总工会"), role=Membership.Role.FUND_MANAGER)


@pytest.mark.django_db
def test_bad_actuals_change_nothing(world, committed):
    bad = [
        dict(arrivals=[services.ArrivalActual(participant_id=10**9, nights=3)], extras=[]),
        dict(arrivals=[services.ArrivalActual(participant_id=committed.batch.participants.first().pk, nights=9)], extras=[]),
        dict(arrivals=actuals(committed) + actuals(committed)[:1], extras=[]),
        dict(arrivals=actuals(committed), extras=[services.ExtraActual(name="导游", amount=Decimal("-1"))]),
        dict(arrivals=actuals(committed), extras=[services.ExtraActual(name="导游", amount=Decimal("1.005"))]),
        dict(arrivals=actuals(committed), extras=[services.ExtraActual(name="", amount=Decimal("1"))]),
    ]
    for kwargs in bad:
        with pytest.raises(ValidationFailed):
            services.settlement_submit(actor=world["operator"], booking_id=committed.pk, now=NOW, **kwargs)
    assert not Settlement.objects.exists()


@pytest.mark.django_db
def test_only_stays_that_began_can_be_settled(world, committed):
    Booking.objects.filter(pk=committed.pk).update(status=Booking.Status.CANCELLED)
    with pytest.raises(Conflict, match="不能结算"):
        submit(world, committed)
