from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from billing import ledger, services
from billing.ledger import reconcile
from billing.models import FundingAllocation, FundProgramme, LedgerEntry
from groups.models import BookingLine
from retreat.errors import Conflict
from tests.billing.conftest import NOW, make_booking, make_programme
from tests.factories import OrganisationFactory


def balances(*programmes):
    return [FundProgramme.objects.values_list("committed", "spent", "available").get(pk=p.pk) for p in programmes]


@pytest.mark.django_db
def test_commit_writes_one_entry_per_paying_programme_and_moves_balances(world, booking):
    funding = services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)

    assert funding.split["total_fen"] == 1_140_000
    assert funding.split["programmes_fen"] == 900_000  # 9 members × (¥400 flat + ¥600 city)
    assert funding.split["own_payment_fen"] == 114_000  # the family member
    assert {(e.programme.name, e.kind, e.committed_delta) for e in funding.entries} == {
        ("省总疗休养定额补助", "commitment", Decimal("3600.00")),
        ("东莞市职工疗休养专项经费", "commitment", Decimal("5400.00")),
    }
    assert balances(world["province_flat"], world["dongguan_cover"]) == [
        (Decimal("3600.00"), Decimal("0.00"), Decimal("96400.00")),
        (Decimal("5400.00"), Decimal("0.00"), Decimal("44600.00")),
    ]
    assert FundingAllocation.objects.filter(booking=booking).count() == 18
    assert reconcile() == []


@pytest.mark.django_db
def test_commit_twice_changes_nothing(world, booking):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    again = services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    assert again.entries == []
    assert LedgerEntry.objects.count() == 2


@pytest.mark.django_db
def test_overdraw_is_refused_naming_the_programme_and_the_shortfall(world, booking):
    FundProgramme.objects.filter(pk=world["dongguan_cover"].pk).update(budget=Decimal("5000.00"), available=Decimal("5000.00"))

    with pytest.raises(Conflict) as refused:
        services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)

    assert "东莞市职工疗休养专项经费" in refused.value.message
    assert refused.value.detail["shortfall"] == "¥400.00"
    assert LedgerEntry.objects.count() == 0
    assert balances(world["province_flat"])[0][2] == Decimal("100000.00")


@pytest.mark.django_db
def test_release_gives_everything_back(world, booking):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    entries = services.funding_release_for_booking(booking=booking, actor=world["organiser"], now=NOW)

    assert sorted(e.committed_delta for e in entries) == [Decimal("-5400.00"), Decimal("-3600.00")]
    assert balances(world["province_flat"], world["dongguan_cover"]) == [
        (Decimal("0.00"), Decimal("0.00"), Decimal("100000.00")),
        (Decimal("0.00"), Decimal("0.00"), Decimal("50000.00")),
    ]
    assert not FundingAllocation.objects.exists()
    assert services.funding_release_for_booking(booking=booking, actor=world["organiser"], now=NOW) == []


@pytest.mark.django_db
def test_partial_cancellation_adjusts_the_commitment_down(world, booking):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    booking.people = 6
    booking.save(update_fields=["people"])
    BookingLine.objects.filter(booking=booking).update(people=6, rooms=3)

    funding = services.funding_adjust_for_booking(booking=booking, actor=world["organiser"], now=NOW)

    assert {e.kind for e in funding.entries} == {"adjustment"}
    assert balances(world["province_flat"], world["dongguan_cover"]) == [
        (Decimal("2400.00"), Decimal("0.00"), Decimal("97600.00")),
        (Decimal("3600.00"), Decimal("0.00"), Decimal("46400.00")),
    ]
    assert services.funding_adjust_for_booking(booking=booking, actor=world["organiser"], now=NOW).entries == []
    assert reconcile() == []


@pytest.mark.django_db
def test_yearly_cap_counts_the_same_person_across_batches(world, union_tree, users, booking):
    FundProgramme.objects.filter(pk=world["dongguan_cover"].pk).update(cap_per_person_year=Decimal("1000.00"))
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    second = make_booking(union=union_tree["factory"], base=world["base"], room_type=world["room_type"], user=users["factory_organiser"], people=10, family=1)

    funding = services.funding_commit_for_booking(booking=second, actor=world["organiser"], now=NOW)

    dongguan = str(world["dongguan_cover"].pk)
    member = funding.split["participants"][0]
    assert member["shares"][dongguan] == 40_000  # ¥1,000 a year, ¥600 already committed
    province = str(world["province_flat"].pk)
    assert member["shares"][province] == 0  # the flat subsidy is once a year


@pytest.mark.django_db
def test_reconcile_command_passes_then_reports_a_corrupted_balance(world, booking):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    out = StringIO()
    call_command("reconcile_ledger", stdout=out)
    assert "一致" in out.getvalue()

    with connection.cursor() as cursor:  # a consistent row that no longer matches its entries
        cursor.execute(
            "UPDATE billing_fundprogramme SET committed = committed - 1, available = available + 1 WHERE id = %s",
            [world["dongguan_cover"].pk],
        )
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("reconcile_ledger", stdout=StringIO(), stderr=err)
    assert failed.value.returncode == 1  # the exit code of `manage.py reconcile_ledger`
    assert "东莞市职工疗休养专项经费" in err.getvalue() and "committed" in err.getvalue()


@pytest.mark.django_db
def test_ledger_entries_cannot_be_edited_or_deleted_in_the_database(world, booking):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    entry = LedgerEntry.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(committed_delta=Decimal("1.00"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).committed_delta == entry.committed_delta
    assert reconcile() == []


@pytest.mark.django_db
def test_full_funding_by_a_matching_programme_does_not_use_its_matching_cap(world, union_tree, users):
    """A city matching fund (1:1, ¥1,000 in all) that also pays 100 % for a key enterprise."""
    FundProgramme.objects.filter(pk__in=[world["province_flat"].pk, world["dongguan_cover"].pk]).update(is_active=False)
    key_enterprise = OrganisationFactory(name="东莞某重点企业工会", kind="enterprise", division_code="441900", parent=union_tree["humen"])
    matching = make_programme(
        union=union_tree["dongguan"], user=users["dongguan_fund"], name="东莞市配套资金", budget="100000.00",
        contribution=FundProgramme.Contribution.MATCHING, matching_ratio=Decimal("1"), matching_total_cap=Decimal("1000.00"),
    )
    matching.fully_funded_unions.set([key_enterprise])
    key_booking = make_booking(union=key_enterprise, base=world["base"], room_type=world["room_type"], user=users["factory_organiser"], people=2)
    paid_in_full = services.funding_commit_for_booking(booking=key_booking, actor=world["organiser"], now=NOW)
    assert paid_in_full.split["programmes_fen"] == 228_000  # 2 × ¥1,140, not matching

    factory_booking = make_booking(union=union_tree["factory"], base=world["base"], room_type=world["room_type"], user=users["factory_organiser"], people=4)
    matched = services.funding_commit_for_booking(booking=factory_booking, actor=world["organiser"], now=NOW)

    assert matched.split["programmes_fen"] == 100_000  # 4 × ¥570 asked, the whole ¥1,000 cap left
    assert reconcile() == []


@pytest.mark.django_db
def test_a_replayed_posting_changes_nothing_and_a_different_one_under_its_key_is_refused(world, booking):
    posting = ledger.Posting(
        programme_id=world["dongguan_cover"].pk, booking_id=booking.pk, kind="commitment",
        committed_delta=Decimal("100.00"), idempotency_key="test:once",
    )
    assert len(ledger.post_entries(postings=[posting], actor=world["organiser"], now=NOW)) == 1
    assert ledger.post_entries(postings=[posting], actor=world["organiser"], now=NOW) == []
    with pytest.raises(Conflict) as refused:
        ledger.post_entries(
            postings=[ledger.Posting(**{**posting.__dict__, "committed_delta": Decimal("200.00")})], actor=world["organiser"], now=NOW
        )
    assert refused.value.code == "idempotency_key_reused"
    assert balances(world["dongguan_cover"]) == [(Decimal("100.00"), Decimal("0.00"), Decimal("49900.00"))]
    assert reconcile() == []
