"""A programme's eligibility switches against the database: the repeat look-up through the
ID hash across batches, the share rule at confirmation, the API and the programme page.

World (conftest): per member of a 3-night stay ¥1,140; the province pays a flat ¥400,
Dongguan covers up to ¥600, the union the remaining ¥140.
"""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from billing import inputs, services
from billing.models import FundingAllocation, FundProgramme, LedgerEntry
from groups.models import Booking, Participant
from tests.billing.conftest import NOW, make_booking, make_programme
from tests.retreat.test_i18n import english_catalogue  # noqa: F401  (the compiled English catalogue)

API = "/api/v1/billing"
EARLIER = dt.date(2026, 3, 10)  # eight months before conftest.ARRIVAL (2026-11-10)

pytestmark = pytest.mark.django_db


def book(world, union_tree, users, *, people, arrival=dt.date(2026, 11, 10), family=0, status=Booking.Status.CONFIRMED):
    return make_booking(
        union=union_tree["factory"], base=world["base"], room_type=world["room_type"], user=users["factory_organiser"],
        people=people, arrival=arrival, family=family, status=status,
    )


def dongguan_shares(split, programme):
    return {person["name"]: person["shares"][str(programme.pk)] for person in split["participants"]}


def switch_on(programme, **rules):
    FundProgramme.objects.filter(pk=programme.pk).update(**rules)
    programme.refresh_from_db()


# --- the repeat look-up ---------------------------------------------------------------------


def test_people_this_programme_funded_earlier_are_found_by_id_hash_in_another_batch(world, union_tree, users, booking):
    cover = world["dongguan_cover"]
    switch_on(cover, no_repeat_years=3)
    switch_on(world["province_flat"], flat_once_per_year=False)
    earlier = book(world, union_tree, users, people=3, arrival=EARLIER)  # the same three people (same ID hashes)
    services.funding_commit_for_booking(booking=earlier, actor=world["organiser"], now=NOW)

    funding = services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    shares = dongguan_shares(funding.split, cover)
    repeaters = set(earlier.batch.participants.values_list("name", flat=True))
    assert {name for name, amount in shares.items() if amount == 0} == repeaters | {"吴婷"}  # 吴婷 is family
    assert sum(shares.values()) == 6 * 60000
    # The province still pays them, and the union takes what Dongguan does not: the booking went ahead.
    assert all(person["shares"][str(world["province_flat"].pk)] == 40000 for person in funding.split["participants"][:9])
    repeater = next(person for person in funding.split["participants"] if person["name"] in repeaters)
    assert repeater["union_fen"] == 114000 - 40000
    assert any(item["rule"] == "eligibility.repeat_funded" and item["params"]["last_trip"] == "2026-03-10" for item in repeater["explanations"])
    assert any(item["rule"] == "programme.excluded.repeat" and item["params"]["count"] == 3 for item in funding.split["explanations"])
    committed = LedgerEntry.objects.get(booking=booking, programme=cover).committed_delta
    assert committed == Decimal("3600.00")


def test_the_same_name_with_another_id_number_is_not_a_repeat(world, union_tree, users, booking):
    cover = world["dongguan_cover"]
    switch_on(cover, no_repeat_years=3)
    earlier = book(world, union_tree, users, people=1, arrival=EARLIER)
    services.funding_commit_for_booking(booking=earlier, actor=world["organiser"], now=NOW)
    Participant.objects.filter(batch=booking.batch, name="张伟").update(id_hash="f" * 64)

    shares = dongguan_shares(services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW).split, cover)
    assert shares["张伟"] == 60000


def test_only_earlier_confirmed_trips_within_the_years_count(world, union_tree, users, booking):
    cover = world["dongguan_cover"]
    switch_on(cover, no_repeat_years=1)
    people = inputs.booked_people(booking)
    keys = [person.cost.person_key for person in people]
    hash_of = {person.name: person.cost.person_key for person in people}
    cancelled = book(world, union_tree, users, people=1, arrival=EARLIER)
    FundingAllocation.objects.create(programme=cover, booking=cancelled, person_key=hash_of["张伟"], year=2026, amount=Decimal("600.00"))
    Booking.objects.filter(pk=cancelled.pk).update(status=Booking.Status.CANCELLED)
    later = book(world, union_tree, users, people=2, arrival=dt.date(2026, 12, 1))
    services.funding_commit_for_booking(booking=later, actor=world["organiser"], now=NOW)
    too_old = Booking.objects.create(
        reference="BK-OLD", batch=later.batch, union=later.union, base=later.base, arrival=dt.date(2025, 11, 9), nights=3,
        people=1, rooms=1, status=Booking.Status.COMPLETED, created_by=users["factory_organiser"],
    )
    FundingAllocation.objects.create(programme=cover, booking=too_old, person_key=hash_of["李娜"], year=2025, amount=Decimal("600.00"))

    assert inputs.earlier_trips(programmes=[cover], booking=booking, person_keys=keys) == {cover.pk: {}}

    counted = book(world, union_tree, users, people=1, arrival=dt.date(2025, 11, 11), status=Booking.Status.COMPLETED)
    FundingAllocation.objects.create(programme=cover, booking=counted, person_key=hash_of["张伟"], year=2025, amount=Decimal("600.00"))
    assert inputs.earlier_trips(programmes=[cover], booking=booking, person_keys=keys) == {cover.pk: {hash_of["张伟"]: dt.date(2025, 11, 11)}}


def test_the_any_trip_scope_counts_unfunded_trips_of_other_batches(world, union_tree, users, booking):
    cover = world["dongguan_cover"]
    switch_on(cover, no_repeat_years=2, no_repeat_scope="any")
    own_scope = make_programme(union=union_tree["dongguan"], user=users["dongguan_fund"], name="东莞二期", budget="1000.00", no_repeat_years=2, is_active=False)
    book(world, union_tree, users, people=2, arrival=EARLIER)  # confirmed, never funded
    book(world, union_tree, users, people=3, arrival=dt.date(2026, 2, 1), status=Booking.Status.HELD)  # a hold is no trip
    keys = [person.cost.person_key for person in inputs.booked_people(booking)]
    trips = inputs.earlier_trips(programmes=[cover, own_scope], booking=booking, person_keys=keys)
    assert sorted(trips[cover.pk].values()) == [EARLIER, EARLIER] and trips[own_scope.pk] == {}

    shares = dongguan_shares(services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW).split, cover)
    assert shares["张伟"] == shares["王芳"] == 0 and shares["李娜"] == 60000


def test_the_look_up_takes_a_fixed_number_of_queries(world, union_tree, users, booking):
    keys = [person.cost.person_key for person in inputs.booked_people(booking)]
    book(world, union_tree, users, people=4, arrival=EARLIER)
    few = [make_programme(union=union_tree["dongguan"], user=users["dongguan_fund"], name="甲", budget="1", no_repeat_years=3)]
    many = few + [
        make_programme(union=union_tree["dongguan"], user=users["dongguan_fund"], name=f"乙{index}", budget="1",
                       no_repeat_years=index + 1, no_repeat_scope="any" if index % 2 else "programme")
        for index in range(6)
    ]
    with CaptureQueriesContext(connection) as one:
        inputs.earlier_trips(programmes=few, booking=booking, person_keys=keys)
    with CaptureQueriesContext(connection) as seven:
        inputs.earlier_trips(programmes=many, booking=booking, person_keys=keys)
    assert len(one) == 1 and len(seven) == 2
    with CaptureQueriesContext(connection) as none:
        inputs.earlier_trips(programmes=[world["dongguan_cover"]], booking=booking, person_keys=keys)
    assert len(none) == 0  # no programme has the rule on


# --- the share rule at confirmation -----------------------------------------------------------


def test_a_batch_below_the_front_line_share_is_confirmed_without_that_programme(world, booking):
    cover = world["dongguan_cover"]
    switch_on(cover, min_front_line_percent=90)
    Participant.objects.filter(batch=booking.batch, name__in=["张伟", "王芳"]).update(category=Participant.Category.MANAGER)

    funding = services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    row = next(row for row in funding.split["programmes"] if row["programme_id"] == cover.pk)
    assert not row["applicable"] and row["paid_fen"] == 0
    assert not LedgerEntry.objects.filter(booking=booking, programme=cover).exists()
    assert LedgerEntry.objects.get(booking=booking, programme=world["province_flat"]).committed_delta == Decimal("3600.00")
    (line,) = [item for item in funding.split["explanations"] if item["rule"] == "programme.not_applicable.front_line_share"]
    assert line["params"] == {"programme": cover.name, "share": "77.7", "front_line": 7, "workers": 9, "min_percent": 90}


def test_existing_programmes_split_exactly_as_before(world, booking):
    funding = services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    assert sorted(LedgerEntry.objects.filter(booking=booking).values_list("committed_delta", flat=True)) == [Decimal("3600.00"), Decimal("5400.00")]
    rules = {item["rule"] for person in funding.split["participants"] for item in person["explanations"]}
    assert not rules & {"eligibility.family", "eligibility.repeat_funded", "eligibility.repeat_any"}
    cover = FundProgramme.objects.get(pk=world["dongguan_cover"].pk)
    assert (cover.min_front_line_percent, cover.no_repeat_years, cover.no_repeat_scope, cover.family_allowed) == (None, None, "programme", True)


# --- the database backs the rules -------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [{"min_front_line_percent": 0}, {"min_front_line_percent": 101}, {"no_repeat_years": 0}, {"no_repeat_years": 21},
            {"no_repeat_scope": "ever"}, {"max_stay_days": 0}],
)
def test_check_constraints_refuse_bad_rules(world, bad):
    with pytest.raises(IntegrityError), transaction.atomic():
        FundProgramme.objects.filter(pk=world["dongguan_cover"].pk).update(**bad)


# --- API and page -----------------------------------------------------------------------------


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


PROGRAMME = {"name": "东莞一线职工疗休养专项", "valid_from": "2026-01-01", "valid_until": "2026-12-31", "budget": "100000.00", "contribution": "cover_cost"}


def test_the_api_creates_reads_and_changes_the_rules(world, union_tree, users, client_for):
    client = client_for(users["dongguan_fund"])
    plain = post(client, f"{API}/programmes", {**PROGRAMME, "union_id": union_tree["dongguan"].pk})
    assert plain.status_code == 201, plain.content
    assert {key: plain.json()[key] for key in ("min_front_line_percent", "no_repeat_years", "no_repeat_scope", "family_allowed")} == {
        "min_front_line_percent": None, "no_repeat_years": None, "no_repeat_scope": "programme", "family_allowed": True,
    }
    rules = {"min_front_line_percent": 90, "no_repeat_years": 3, "no_repeat_scope": "any", "family_allowed": False, "max_stay_days": 5}
    created = post(client, f"{API}/programmes", {**PROGRAMME, "union_id": union_tree["dongguan"].pk, **rules})
    assert created.status_code == 201, created.content
    assert {key: created.json()[key] for key in rules} == rules
    url = f"{API}/programmes/{created.json()['id']}"
    changed = patch(client, url, {"min_front_line_percent": None, "no_repeat_scope": "programme", "family_allowed": True})
    assert changed.status_code == 200, changed.content
    programme = FundProgramme.objects.get(pk=created.json()["id"])
    assert (programme.min_front_line_percent, programme.no_repeat_years, programme.no_repeat_scope, programme.family_allowed) == (None, 3, "programme", True)
    assert client.get(url).json()["no_repeat_years"] == 3


@pytest.mark.parametrize(
    "bad",
    [{"min_front_line_percent": 0}, {"min_front_line_percent": 101}, {"min_front_line_percent": "most"}, {"no_repeat_years": 0},
     {"no_repeat_years": 21}, {"no_repeat_scope": "ever"}, {"family_allowed": "perhaps"}, {"max_stay_days": 0}],
)
def test_bad_rules_are_a_422_and_change_nothing(world, union_tree, users, client_for, bad):
    client = client_for(users["dongguan_fund"])
    cover = world["dongguan_cover"]
    before = list(FundProgramme.objects.order_by("pk").values())
    response = post(client, f"{API}/programmes", {**PROGRAMME, "union_id": union_tree["dongguan"].pk, **bad})
    assert response.status_code == 422 and set(response.json()) == {"code", "message", "detail"}
    response = patch(client, f"{API}/programmes/{cover.pk}", bad)
    assert response.status_code == 422 and set(response.json()) == {"code", "message", "detail"}
    assert list(FundProgramme.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("nulled", ["no_repeat_scope", "family_allowed"])
def test_switches_that_are_not_optional_cannot_be_nulled(world, users, client_for, nulled):
    response = patch(client_for(users["dongguan_fund"]), f"{API}/programmes/{world['dongguan_cover'].pk}", {nulled: None})
    assert response.status_code == 422 and nulled in response.json()["message"]
    cover = FundProgramme.objects.get(pk=world["dongguan_cover"].pk)
    assert (cover.no_repeat_scope, cover.family_allowed) == ("programme", True)


def test_an_organiser_may_not_set_rules(world, users, client_for):
    response = patch(client_for(users["factory_organiser"]), f"{API}/programmes/{world['dongguan_cover'].pk}", {"no_repeat_years": 3})
    assert response.status_code in (403, 404)
    assert FundProgramme.objects.get(pk=world["dongguan_cover"].pk).no_repeat_years is None


def test_the_cost_split_explains_a_failed_rule(world, booking, users, client_for):
    switch_on(world["dongguan_cover"], min_front_line_percent=95, family_allowed=False)
    Participant.objects.filter(batch=booking.batch, name__in=["张伟", "王芳"]).update(category=Participant.Category.MANAGER)
    body = client_for(users["factory_organiser"]).get(f"{API}/bookings/{booking.pk}/cost-split").json()
    assert any(item["rule"] == "programme.not_applicable.front_line_share" for item in body["explanations"])
    page = client_for(users["factory_organiser"]).get(f"/billing/bookings/{booking.pk}/cost-split/").content.decode()
    assert "东莞市职工疗休养专项经费：一线职工占比 77.7%（职工 9 人中一线 7 人），低于本专项要求的 95%，本团不予资助" in page
    # The whole booking is out, so the person rules (family) are not reached for that programme.
    assert "本团家属 1 人不予资助" not in page
    switch_on(world["dongguan_cover"], min_front_line_percent=None)
    page = client_for(users["factory_organiser"]).get(f"/billing/bookings/{booking.pk}/cost-split/").content.decode()
    assert "东莞市职工疗休养专项经费：本专项不资助家属随行，本团家属 1 人不予资助（自费）" in page
    assert "东莞市职工疗休养专项经费：本专项不资助家属" in page  # the family member's own note


def test_the_programme_page_shows_the_rules(world, users, client_for):
    url = f"/billing/programmes/{world['dongguan_cover'].pk}/"
    assert "未设置人员与行程条件" in client_for(users["dongguan_fund"]).get(url).content.decode()
    switch_on(world["dongguan_cover"], min_front_line_percent=90, no_repeat_years=3, family_allowed=False, max_stay_days=5)
    page = client_for(users["dongguan_fund"]).get(f"/billing/programmes/{world['dongguan_cover'].pk}/").content.decode()
    for text in ["一线职工占比须不低于 90%", "3 年内已获本专项资助的人员不予资助", "不资助家属随行", "行程最长 5 天（含路途）", "不符合条件时预订照常进行"]:
        assert text in page, text


def test_the_rules_read_in_english(world, users, client_for, english_catalogue):
    switch_on(world["dongguan_cover"], min_front_line_percent=90, no_repeat_years=3, no_repeat_scope="any", family_allowed=False)
    client = client_for(users["dongguan_fund"])
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    page = client.get(f"/billing/programmes/{world['dongguan_cover'].pk}/").content.decode()
    for text in [
        "Eligibility rules",
        "Front-line workers must be at least 90% of the workers",
        "Nothing for anyone who went on any retreat within 3 years",
        "Family members are not funded",
        "A booking that fails a rule still goes ahead",
    ]:
        assert text in page, text


def test_the_admin_edits_the_rules(world, client_for, django_user_model):
    root = django_user_model.objects.create_superuser(username="root-h5", password="x", email="root@example.com")
    page = client_for(root).get(f"/admin/billing/fundprogramme/{world['dongguan_cover'].pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for field in ["min_front_line_percent", "no_repeat_years", "no_repeat_scope", "family_allowed", "max_stay_days", "participant_categories"]:
        assert f'name="{field}"' in html, field


def test_a_stay_not_yet_booked_can_be_looked_up_too(world, union_tree, users, booking):
    """What the planning builder would call: no booking yet, only the batch, the arrival and the people."""
    cover = world["dongguan_cover"]
    switch_on(cover, no_repeat_years=3, no_repeat_scope="any")
    book(world, union_tree, users, people=1, arrival=EARLIER)
    keys = list(booking.batch.participants.values_list("id_hash", flat=True))
    stay = inputs.PlannedStay(batch_id=booking.batch_id, arrival=dt.date(2026, 12, 1), person_keys=keys)
    trips = inputs.earlier_trips_of_stays(programmes=[cover], stays={"stay": stay})["stay"]
    assert list(trips[cover.pk].values()) == [EARLIER]  # the batch's own booking (2026-11-10) is not an earlier trip


def test_of_two_trips_on_the_same_day_the_one_booked_first_is_the_earlier(world, union_tree, users, booking):
    """The same-day tie: by booking id, so exactly one of the two is the repeat; a stay not booked yet ties with none."""
    cover = world["dongguan_cover"]
    switch_on(cover, no_repeat_years=3, no_repeat_scope="any")
    same_day = book(world, union_tree, users, people=1, arrival=booking.arrival)
    key = same_day.batch.participants.get().id_hash
    assert same_day.pk > booking.pk

    assert inputs.earlier_trips(programmes=[cover], booking=same_day, person_keys=[key])[cover.pk] == {key: booking.arrival}
    assert inputs.earlier_trips(programmes=[cover], booking=booking, person_keys=[key])[cover.pk] == {}
    planned = inputs.PlannedStay(batch_id=same_day.batch_id, arrival=booking.arrival, person_keys=[key])
    assert inputs.earlier_trips_of_stays(programmes=[cover], stays={"stay": planned})["stay"] == {cover.pk: {}}


def test_booked_stays_looked_up_together_tie_on_the_same_day_as_one_by_one(world, union_tree, users, booking):
    """The batched look-up given each stay's booking: the same-day tie by booking id, for both scopes, in two queries."""
    cover = world["dongguan_cover"]
    switch_on(cover, no_repeat_years=3, no_repeat_scope="any")
    own_scope = make_programme(union=union_tree["dongguan"], user=users["dongguan_fund"], name="东莞二期", budget="1000.00", no_repeat_years=3, is_active=False)
    same_day = book(world, union_tree, users, people=1, arrival=booking.arrival)
    key = same_day.batch.participants.get().id_hash
    for trip in (booking, same_day):
        FundingAllocation.objects.create(programme=own_scope, booking=trip, person_key=key, year=2026, amount=Decimal("600.00"))
    programmes = [cover, own_scope]
    stays = {
        trip.pk: inputs.PlannedStay(batch_id=trip.batch_id, arrival=trip.arrival, person_keys=[key], booking_id=trip.pk)
        for trip in (booking, same_day)
    }
    # The stay's own booking never counts, even under another batch's stay (else it is a week earlier).
    stays["moved"] = inputs.PlannedStay(
        batch_id=booking.batch_id, arrival=booking.arrival + dt.timedelta(days=7), person_keys=[key], booking_id=same_day.pk
    )

    with CaptureQueriesContext(connection) as queries:
        together = inputs.earlier_trips_of_stays(programmes=programmes, stays=stays)

    assert len(queries) == 2
    assert together[same_day.pk] == {cover.pk: {key: booking.arrival}, own_scope.pk: {key: booking.arrival}}
    assert together[booking.pk] == together["moved"] == {cover.pk: {}, own_scope.pk: {}}
    for trip in (booking, same_day):
        assert inputs.earlier_trips(programmes=programmes, booking=trip, person_keys=[key]) == together[trip.pk]
