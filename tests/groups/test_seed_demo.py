"""The demo seed: deterministic with its seed, and consistent with the domain's rules."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Sum
from django.test import Client
from django.utils import timezone

from bases.models import Base, CertificationEvent, NightInventory, RoomType, Route, RouteDay, RouteDeparture, RouteItem
from groups.demo import geography as geo
from groups.demo.build import DEMO_PASSWORD, LOGIN_URL
from groups.models import Membership, Organisation
from groups.services import organisation_create

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SMALL = ("--bases", "12", "--nights", "60")
ROLE_USERS = {
    "admin": (Membership.Role.ADMINISTRATOR, Organisation.Kind.PROVINCE),
    "dg_admin": (Membership.Role.ADMINISTRATOR, Organisation.Kind.CITY),
    "organiser": (Membership.Role.ORGANISER, Organisation.Kind.ENTERPRISE),
    "dg_organiser": (Membership.Role.ORGANISER, Organisation.Kind.CITY),
    "operator": (Membership.Role.OPERATOR, Organisation.Kind.OPERATOR),
    "fund": (Membership.Role.FUND_MANAGER, Organisation.Kind.CITY),
    "prov_fund": (Membership.Role.FUND_MANAGER, Organisation.Kind.PROVINCE),
    "root": (Membership.Role.ADMINISTRATOR, Organisation.Kind.PROVINCE),
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The seed hashes the demo password once and each test logs in eight times: skip PBKDF2's cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Everything the seed decides, without database ids."""
    inventory = NightInventory.objects.aggregate(rows=Count("id"), rooms=Sum("rooms"))
    return {
        "orgs": sorted(Organisation.objects.values_list("name", "kind", "division_code", "parent__name", "contact_phone"), key=str),
        "bases": sorted(Base.objects.values_list(
            "name", "operator__name", "kind", "status", "level", "certificate_number", "valid_from", "valid_until",
            "county_code", "latitude", "longitude", "address", "description", "discount_percent",
        )),
        "themes": sorted(Base.themes.through.objects.values_list("base__name", "theme__slug")),
        "room_types": sorted(RoomType.objects.values_list(
            "base__name", "name", "beds_per_room", "rooms", "price_per_night", "meals_per_day", "accessible",
        )),
        "inventory": (inventory["rows"], inventory["rooms"], NightInventory.objects.filter(closed=True).count()),
        "events": sorted(CertificationEvent.objects.values_list("base__name", "action", "to_status", "at", "reason")),
        "routes": sorted(Route.objects.values_list("title", "operator__name", "price_per_head", "summary")),
        "route_items": sorted(RouteItem.objects.values_list("day__route__title", "day__number", "time", "place", "activity")),
        "departures": sorted(RouteDeparture.objects.values_list("route__title", "date", "seats")),
        "users": sorted(Membership.objects.values_list("user__username", "user__first_name", "role", "organisation__name")),
    }


def test_same_seed_gives_the_same_data_and_a_rerun_changes_nothing():
    fixed = ("--seed", "2025", *SMALL, "--today", "2026-11-23")
    seed(*fixed)
    first = snapshot()

    again = seed(*fixed)
    assert "已存在" in again and "admin" in again
    assert snapshot() == first

    seed(*fixed, "--flush")
    assert snapshot() == first

    seed("--seed", "7", *SMALL, "--today", "2026-11-23", "--flush")
    other = snapshot()
    assert other["bases"] != first["bases"]
    assert len(other["bases"]) == len(first["bases"])


def test_the_dataset_keeps_the_domain_rules():
    output = seed("--seed", "2025", *SMALL)
    today = timezone.localdate()

    # The union tree: paths match parents, codes are six digits, Guangdong's are 44xxxx.
    orgs = {org.pk: org for org in Organisation.objects.all()}
    for org in orgs.values():
        assert re.fullmatch(r"[0-9]{6}", org.division_code), org
        parent_path = orgs[org.parent_id].path if org.parent_id else "/"
        assert org.path == f"{parent_path}{org.pk}/", org
        if org.kind in (Organisation.Kind.VISITING, Organisation.Kind.OPERATOR):
            assert org.kind == Organisation.Kind.OPERATOR or not org.division_code.startswith("44")
        else:
            assert org.division_code.startswith("44"), org
    province = Organisation.objects.get(kind=Organisation.Kind.PROVINCE)
    assert (province.name, province.division_code) == ("广东省总工会", "440000")
    cities = Organisation.objects.filter(kind=Organisation.Kind.CITY)
    assert sorted(cities.values_list("division_code", flat=True)) == sorted(city.code for city in geo.CITIES)
    assert all(city.parent_id == province.pk for city in cities)
    heyuan = Organisation.objects.get(division_code="441600", kind=Organisation.Kind.CITY)
    assert {"441602", "441621", "441622", "441623", "441624", "441625"} <= set(
        heyuan.children.filter(kind=Organisation.Kind.COUNTY).values_list("division_code", flat=True)
    )
    for kind, at_least in (("town", 50), ("enterprise", 200), ("industry", 5), ("organ", 21), ("visiting", 15)):
        assert Organisation.objects.filter(kind=kind).count() >= at_least, kind
    assert Organisation.objects.filter(name="广州市直机关工会", kind=Organisation.Kind.ORGAN).exists()
    assert Organisation.objects.filter(name="江西省赣州市总工会", division_code="360700").exists()

    # Bases: run by operators, certified ones with a number, a validity covering today and an audit trail.
    bases = list(Base.objects.select_related("operator"))
    certified = [base for base in bases if base.status == Base.Status.CERTIFIED]
    assert len(certified) == 12
    assert {Base.Status.APPLIED, Base.Status.SUSPENDED} <= {base.status for base in bases}
    for base in bases:
        assert base.operator.kind == Organisation.Kind.OPERATOR
        assert base.city_code in geo.CITY_BY_CODE and base.county_code[:4] == base.city_code[:4]
        assert 2 <= base.room_types.count() <= 4
        assert base.certification_events.filter(action=CertificationEvent.Action.APPLY).exists()
    admin = get_user_model().objects.get(username="admin")
    for base in certified:
        assert re.fullmatch(r"(粤|..)工疗〔20[0-9]{2}〕第[0-9]{3,4}号", base.certificate_number), base.certificate_number
        assert base.valid_from <= today <= base.valid_until
        assert base.certification_events.filter(action="certify", actor=admin).exists()
    assert any(base.city_code == "441600" for base in certified)

    # Inventory: every night from the first of last month to 60 nights from the first of this month,
    # for every room type of a base not revoked.
    this_month = today.replace(day=1)
    first = (this_month - dt.timedelta(days=1)).replace(day=1)
    last = this_month + dt.timedelta(days=59)
    for room_type in RoomType.objects.exclude(base__status=Base.Status.REVOKED):
        assert room_type.nights.count() == (last - first).days + 1, room_type
    assert NightInventory.objects.order_by("night").first().night == first
    assert NightInventory.objects.order_by("night").last().night == last
    # Held and booked only by the demo's bookings (groups/demo/activity.py), exactly.
    assert_inventory_matches_lines()

    # Routes: nights at a base with one of its room types, the first at the operator's own base.
    assert Route.objects.count() >= 2
    for route in Route.objects.prefetch_related("route_days__night_base", "route_days__night_room_type", "route_days__items"):
        days = list(route.route_days.all())
        assert 2 <= len(days) <= 5
        assert days[-1].night_base is None
        assert days[0].night_base.operator_id == route.operator_id
        for day in days[:-1]:
            assert day.night_room_type.base_id == day.night_base_id
            assert day.night_base.status == Base.Status.CERTIFIED
        assert all(day.items.exists() for day in days)
        for departure in route.departures.all():
            assert 30 <= departure.seats <= 60 and departure.date > today
    assert RouteDay.objects.filter(night_base__isnull=False, night_room_type__isnull=True).count() == 0

    # Users: one per role, each can log in, and the output says how.
    assert LOGIN_URL in output and DEMO_PASSWORD in output
    for username, (role, kind) in ROLE_USERS.items():
        membership = Membership.objects.select_related("organisation").get(user__username=username)
        assert (membership.role, membership.organisation.kind) == (role, kind), username
        assert username in output
        assert Client().login(username=username, password=DEMO_PASSWORD), username
    assert Membership.objects.get(user__username="dg_admin").organisation.division_code == "441900"
    organiser_union = Membership.objects.get(user__username="organiser").organisation
    assert organiser_union.path.startswith(Organisation.objects.get(division_code="441900", kind="city").path)
    operator = Membership.objects.get(user__username="operator").organisation
    assert operator.bases.filter(city_code="441600", status=Base.Status.CERTIFIED).exists()
    assert get_user_model().objects.get(username="root").is_superuser
    response = Client().post("/login/", {"username": "organiser", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_refuses_a_database_holding_other_data():
    organisation_create(name="某某工会", kind=Organisation.Kind.ENTERPRISE, division_code="441900")
    with pytest.raises(CommandError, match="--flush"):
        seed("--seed", "1", *SMALL)
    assert not Base.objects.exists()


@pytest.mark.parametrize("args", [("--nights", "0"), ("--bases", "0"), ("--routes", "-1"), ("--today", "2026-13-01")])
def test_bad_arguments_are_refused_before_anything_is_written(args):
    with pytest.raises(CommandError):
        seed(*args)
    assert not Organisation.objects.exists()


# --- work in progress for every login (groups/demo/activity.py) ----------------------------------

ACTIVITY_TODAY = "2026-11-23"
START_PAGES = {
    "admin": ("/bases/certification/", "/planning/"),
    "dg_admin": ("/bases/certification/", "/bases/", "/planning/"),
    "organiser": ("/batches/", "/bookings/"),
    "dg_organiser": ("/batches/", "/bookings/"),
    "operator": ("/itineraries/arrivals/", "/itineraries/scan/", "/bases/mine/", "/billing/settlements/"),
    "fund": ("/billing/settlements/", "/billing/"),
    "prov_fund": ("/billing/settlements/", "/billing/"),
    "root": ("/admin/", "/planning/"),
}


def activity_snapshot() -> dict:
    """Everything the activity steps decide, without database ids or the wall-clock ``created_at``."""
    from billing.models import FundProgramme, LedgerEntry, Settlement
    from groups.models import Batch, Booking, BookingLine, CheckIn, Participant, WaitlistEntry
    from itineraries.models import PlanningRequest, PlanningRound

    return {
        "batches": sorted(Batch.objects.values_list("union__name", "title", "arrival", "nights", "min_front_line_percent")),
        "participants": sorted(Participant.objects.values_list(
            "batch__title", "name", "id_hash", "birth_date", "gender", "phone", "employer", "job_title", "category",
            "family_of__id_hash", "room_label",
        ), key=str),
        "bookings": sorted(Booking.objects.values_list(
            "batch__title", "union__name", "base__name", "arrival", "nights", "people", "rooms", "status", "hold_expires_at",
            "confirmed_at", "cancelled_at", "cancellation_fee",
        ), key=str),
        "lines": sorted(BookingLine.objects.values_list("booking__batch__title", "room_type__name", "first_night", "nights", "rooms", "people"), key=str),
        "check_ins": sorted(CheckIn.objects.values_list("participant__id_hash", "at", "method")),
        "waitlist": sorted(WaitlistEntry.objects.values_list("batch__title", "base__name", "arrival", "rooms", "people", "status"), key=str),
        "programmes": sorted(FundProgramme.objects.values_list("name", "budget", "committed", "spent", "available")),
        "ledger": sorted(LedgerEntry.objects.values_list("programme__name", "kind", "committed_delta", "spent_delta", "created_at"), key=str),
        "settlements": sorted(Settlement.objects.values_list(
            "booking__batch__title", "status", "total_cost", "programmes_total", "union_amount", "own_payment", "arrived_count",
            "submitted_at", "decided_at", "reject_reason",
        ), key=str),
        "rounds": list(PlanningRound.objects.values_list("name", "status", "first_night", "last_night")),
        "requests": sorted(PlanningRequest.objects.values_list(
            "union__name", "people", "rooms", "nights", "earliest_arrival", "latest_arrival", "priority", "accessible_rooms", "status",
        ), key=str),
    }


def test_the_activity_steps_are_deterministic_and_leave_the_network_alone(monkeypatch):
    from groups.demo import build

    fixed = ("--seed", "2025", *SMALL, "--today", ACTIVITY_TODAY)
    seed(*fixed)
    first, first_activity = snapshot(), activity_snapshot()
    assert first_activity["bookings"] and first_activity["requests"]
    seed(*fixed, "--flush")
    assert snapshot() == first
    assert activity_snapshot() == first_activity

    # The network does not depend on the activity steps: without them it comes out the same.
    monkeypatch.setattr(build, "STEPS", [step for step in build.STEPS if step.__module__ == build.__name__])
    seed(*fixed, "--flush")
    assert snapshot() | {"users": None} == first | {"users": None}
    assert {row for row in snapshot()["users"]} <= set(first["users"])


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The full demo (139 bases, a year of inventory) with its work in progress, built once for the tests
    below inside a transaction that is rolled back at the end; each test runs in a savepoint of it."""
    import logging

    from django.db import transaction

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep(level=logging.WARNING)
    logger = logging.getLogger("groups.demo.activity")
    logger.addHandler(handler)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            output = seed("--seed", "2025")
            yield {"output": output, "refusals": records}
            transaction.set_rollback(True)
    finally:
        logger.removeHandler(handler)


def test_every_state_of_the_work_in_progress_is_there(seeded):
    from billing.models import FundProgramme, Settlement
    from groups.models import Batch, Booking, CheckIn, Participant, WaitlistEntry
    from groups.identity import decrypt_resident_id, parse_resident_id
    from itineraries.models import PlanningRequest, PlanningRound

    assert seeded["refusals"] == []
    today = timezone.localdate()
    statuses = set(Booking.objects.values_list("status", flat=True))
    assert {"held", "confirmed", "checked_in", "completed", "cancelled", "lapsed"} <= statuses
    assert 20 <= Booking.objects.count() <= 45
    for booking in Booking.objects.select_related("batch"):
        assert 14 <= booking.people <= 60
        if booking.status in ("confirmed", "checked_in", "completed"):
            assert booking.batch.participants.count() == booking.people
    soon = timezone.now() + dt.timedelta(days=2)
    assert Booking.objects.filter(status="held", hold_expires_at__lte=soon, hold_expires_at__gt=timezone.now()).count() >= 2
    assert WaitlistEntry.objects.filter(status="waiting").count() >= 2

    # The operator has people arriving today and in the coming days, and people in the house.
    operator = Membership.objects.get(user__username="operator").organisation
    at_operator = Booking.objects.filter(base__operator=operator)
    assert at_operator.filter(arrival=today, status="confirmed").exists()
    assert at_operator.filter(arrival__gt=today, arrival__lte=today + dt.timedelta(days=7), status="confirmed").exists()
    assert at_operator.filter(status="checked_in").exists()
    # Check-ins only for claimed stays, and some no-shows.
    checked = Booking.objects.filter(status__in=["checked_in", "completed"])
    assert CheckIn.objects.exclude(booking__in=checked).count() == 0
    assert any(b.check_ins.count() < b.batch.participants.count() for b in checked)

    # Real names with valid resident IDs, mostly front-line workers.
    participants = Participant.objects.all()
    for participant in participants.order_by("pk")[:200]:
        resident = parse_resident_id(decrypt_resident_id(participant.id_encrypted), today=today)
        assert (resident.birth_date, resident.gender) == (participant.birth_date, participant.gender)
        assert participant.employer and re.fullmatch(r"1[3-9][0-9]{9}", participant.phone)
    categories = dict(participants.values_list("category").annotate(n=Count("id")))
    assert categories["front_line"] > participants.count() / 2
    assert {"model_worker", "skilled", "family"} <= set(categories)
    organiser_union = Membership.objects.get(user__username="organiser").organisation
    assert Batch.objects.filter(union=organiser_union, bookings__status="confirmed").exists()

    # Fund programmes: the province's flat subsidy and Dongguan's matching, with commitments and settlements.
    assert FundProgramme.objects.filter(union__division_code="440000", contribution="flat_subsidy").exists()
    dongguan = FundProgramme.objects.get(union__division_code="441900", contribution="matching")
    assert dongguan.budget == 2000000 and dongguan.cap_per_person_day == 500 and dongguan.cap_per_person_year == 3000
    assert dongguan.fully_funded_unions.count() == 2 and dongguan.committed > 0
    assert {"submitted", "approved", "rejected"} <= set(Settlement.objects.values_list("status", flat=True))
    fund_union = Membership.objects.get(user__username="fund").organisation
    assert Settlement.objects.filter(status="submitted", booking__union__path__startswith=fund_union.path).exists()

    # Next spring's round, open, ~40 requests, not solved.
    planning_round = PlanningRound.objects.get()
    assert planning_round.status == PlanningRound.Status.OPEN and planning_round.first_night > today
    assert 35 <= planning_round.requests.count() <= 45
    assert not planning_round.solve_runs.exists()
    cities = {request.union.division_code[:4] for request in PlanningRequest.objects.select_related("union")}
    assert cities == {"4419", "4403", "4401"}


def test_inventory_counters_equal_the_booking_lines(seeded):
    assert_inventory_matches_lines()


def assert_inventory_matches_lines():
    """Every night's rooms and people held and booked are the sums of the held and the claimed bookings' lines."""
    from groups.models import BookingLine

    expected: dict[tuple[int, dt.date], list[int]] = {}
    for line in BookingLine.objects.select_related("booking"):
        status = line.booking.status
        column = 0 if status == "held" else 1 if status in ("confirmed", "checked_in", "completed") else None
        if column is None:
            continue
        for i in range(line.nights):
            counts = expected.setdefault((line.room_type_id, line.first_night + dt.timedelta(days=i)), [0, 0, 0, 0])
            counts[column] += line.rooms
            counts[column + 2] += line.people
    touched = NightInventory.objects.exclude(rooms_held=0, rooms_booked=0, people_held=0, people_booked=0)
    found = {(row.room_type_id, row.night): [row.rooms_held, row.rooms_booked, row.people_held, row.people_booked] for row in touched}
    assert found == {key: counts for key, counts in expected.items() if any(counts)}
    assert not NightInventory.objects.filter(rooms__lt=F("rooms_held") + F("rooms_booked")).exists()


def test_programme_balances_reconcile_with_the_ledger(seeded):
    from billing.ledger import reconcile
    from billing.models import FundProgramme

    assert reconcile() == []
    out = StringIO()
    call_command("reconcile_ledger", stdout=out)
    assert "一致" in out.getvalue()
    for programme in FundProgramme.objects.all():
        assert programme.available == programme.budget - programme.committed - programme.spent


def test_the_output_says_where_each_role_starts(seeded):
    for username, pages in START_PAGES.items():
        line = next(line for line in seeded["output"].splitlines() if line.strip().startswith(f"{username} ") and "→" in line)
        assert pages[0] in line, line


@pytest.mark.parametrize("username", list(START_PAGES))
def test_each_role_start_page_renders_with_the_seeded_data(seeded, username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    for page in START_PAGES[username]:
        response = client.get(page)
        assert response.status_code == 200, (username, page, response.status_code)


def test_the_default_139_bases_sit_mostly_in_the_rural_north_and_east():
    from groups.demo.build import DEFAULT_BASES, _allocate

    counts = _allocate(DEFAULT_BASES, geo.BASE_WEIGHTS, must_have="441600")
    assert DEFAULT_BASES == 139 and sum(counts.values()) == 139
    assert set(counts) == {city.code for city in geo.CITIES} and all(counts.values())  # every city has one at least
    north_and_east = sum(counts[code] for code in ("441600", "440200", "441800", "441400"))  # 河源 韶关 清远 梅州
    delta = sum(counts[code] for code in ("440100", "440300", "440600", "441900", "442000", "440400"))  # the PRD
    assert north_and_east >= 65 and delta * 4 < north_and_east
    assert max(counts, key=counts.get) in {"441600", "440200"}


def test_groups_from_other_provinces_stay_at_guangdong_bases(seeded):
    from groups.models import Booking

    visiting = Booking.objects.filter(union__kind=Organisation.Kind.VISITING).select_related("union", "base")
    assert visiting.count() == 3
    assert {booking.status for booking in visiting} == {"checked_in", "confirmed"}
    for booking in visiting:
        assert not booking.union.division_code.startswith("44") and booking.base.city_code.startswith("44")
        assert booking.batch.participants.count() == booking.people
