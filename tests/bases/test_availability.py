import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bases.filters import BaseFilter, apply_filter
from bases.models import Base, NightInventory, RoomType, Theme
from bases.selectors import available_bases, base_list
from groups.access import actor_of
from retreat.errors import ValidationFailed
from tests.factories import BaseFactory, RoomTypeFactory, open_nights

pytestmark = pytest.mark.django_db

CITIES = {"441600": ["441622", "441624"], "440200": ["440282", "440204"]}


def random_dataset(rng: random.Random, *, bases: int, first: dt.date, days: int, operator) -> None:
    themes = [Theme.objects.create(slug=slug, name=slug) for slug in ("red", "hot-spring", "tea")]
    for _ in range(bases):
        city = rng.choice(list(CITIES))
        status = rng.choice(["certified"] * 4 + ["suspended", "applied", "expired"])
        base = BaseFactory(
            operator=operator, city_code=city, county_code=rng.choice(CITIES[city]),
            kind=rng.choice(Base.Kind.values), level=rng.choice(Base.Level.values), status=status,
            valid_from=first + dt.timedelta(days=rng.randint(-30, 4)),
            valid_until=first + dt.timedelta(days=rng.randint(2, days + 10)),
        )
        base.themes.set(rng.sample(themes, rng.randint(0, 2)))
        for _ in range(rng.randint(1, 3)):
            room_type = RoomTypeFactory(
                base=base, beds_per_room=rng.randint(1, 4), rooms=rng.randint(2, 16),
                price_per_night=Decimal(rng.randrange(120, 480, 10)),
            )
            rows = []
            for offset in range(days):
                if rng.random() < 0.05:
                    continue  # never opened
                rooms = rng.randint(room_type.rooms // 2, room_type.rooms)
                held = rng.randint(0, rooms // 2)
                booked = rng.randint(0, (rooms - held) // 2) if rng.random() < 0.9 else rooms - held  # some nights sold out
                rows.append(NightInventory(
                    room_type=room_type, night=first + dt.timedelta(days=offset), rooms=rooms, closed=rng.random() < 0.05,
                    rooms_held=held, rooms_booked=booked,
                    people_held=held * room_type.beds_per_room, people_booked=booked,
                ))
            NightInventory.objects.bulk_create(rows)


def brute_force(*, first_night, nights, people, rooms, region=None, kind=None, theme=None, level=None, max_price=None):
    """Night by night in plain Python, straight from the rows: the answer the SQL must match."""
    last_night = first_night + dt.timedelta(days=nights - 1)
    answer = {}
    for base in Base.objects.prefetch_related("themes", "room_types__nights"):
        if base.status != "certified" or not (base.valid_from <= first_night and last_night <= base.valid_until):
            continue
        if region and not (base.city_code == region if region.endswith("00") else base.county_code == region):
            continue
        if (kind and base.kind != kind) or (level and base.level != level):
            continue
        if theme and theme not in {t.slug for t in base.themes.all()}:
            continue
        per_night = []
        for offset in range(nights):
            night = first_night + dt.timedelta(days=offset)
            free_rooms = free_beds = 0
            prices = []
            for room_type in base.room_types.all():
                if max_price is not None and room_type.price_per_night > max_price:
                    continue
                row = next((r for r in room_type.nights.all() if r.night == night), None)
                if row is None or row.closed:
                    continue
                free = row.rooms - row.rooms_held - row.rooms_booked
                free_rooms += free
                free_beds += free * room_type.beds_per_room
                if free > 0:
                    prices.append(room_type.price_per_night)
            if free_rooms < rooms or free_beds < people:
                break
            per_night.append((night, free_rooms, free_beds, min(prices)))
        else:
            answer[base.pk] = per_night
    return answer


def test_availability_matches_a_brute_force_count_on_random_data(users, union_tree, today):
    rng = random.Random(20251123)
    first = today + dt.timedelta(days=10)
    random_dataset(rng, bases=25, first=first, days=14, operator=union_tree["operator"])
    actor = actor_of(users["dongguan_organiser"])
    checked_non_empty = 0
    for _ in range(150):
        query = {
            "first_night": first + dt.timedelta(days=rng.randint(-2, 12)),
            "nights": rng.randint(1, 5),
            "people": rng.randint(1, 20),
            "rooms": rng.randint(1, 8),
        }
        filters = {
            "region": rng.choice([None] * 6 + ["441600", "440200", "441622"]),
            "kind": rng.choice([None] * 12 + Base.Kind.values),
            "theme": rng.choice([None] * 6 + ["red", "tea"]),
            "level": rng.choice([None] * 4 + Base.Level.values),
        }
        max_price = rng.choice([None] * 4 + [Decimal("200"), Decimal("350")])
        expected = brute_force(**query, **filters, max_price=max_price)
        bases = apply_filter(BaseFilter, filters, base_list(actor=actor))
        found = available_bases(actor=actor, **query, bases=bases, max_price=max_price)
        got = {
            item.base.pk: [(n.night, n.rooms_free, n.beds_free, n.cheapest_price) for n in item.nights] for item in found
        }
        assert got == expected, (query, filters, max_price)
        for item in found:
            assert item.price_per_night == max(n.cheapest_price for n in item.nights)
            assert item.lodging_estimate(query["people"]) == sum(n.cheapest_price * query["people"] for n in item.nights)
        checked_non_empty += bool(expected)
    assert checked_non_empty >= 30  # the random requests did find bases, not just agree on nothing


def build_bases(count: int, first: dt.date, operator):
    for _ in range(count):
        base = BaseFactory(operator=operator)
        base.themes.set([Theme.objects.get_or_create(slug="red", name="红色教育")[0]])
        for beds in (2, 3):
            open_nights(RoomTypeFactory(base=base, beds_per_room=beds, rooms=10), first, 10)


@pytest.mark.parametrize("bases, nights", [(2, 1), (30, 7)])
def test_availability_runs_in_a_fixed_number_of_queries(users, union_tree, today, django_assert_max_num_queries, bases, nights):
    build_bases(bases, today, union_tree["operator"])
    actor = actor_of(users["dongguan_organiser"])
    with django_assert_max_num_queries(3):
        found = available_bases(actor=actor, first_night=today, nights=nights, people=20, rooms=8)
        assert len(found) == bases
        assert all(len(item.nights) == nights and item.themes == ["red"] for item in found)


def test_the_search_endpoint_costs_the_same_queries_for_3_or_40_bases(users, union_tree, client_for, today):
    client = client_for(users["dongguan_organiser"])
    url = f"/api/v1/bases/availability?first_night={today}&nights=5&people=10&rooms=4&theme=red&limit=200"
    counts = []
    for extra in (3, 37):
        build_bases(extra, today, union_tree["operator"])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
    assert response.json()["count"] == 40
    assert counts[0] == counts[1]


def test_a_suspended_or_not_yet_valid_base_is_never_offered(users, union_tree, today):
    actor = actor_of(users["dongguan_organiser"])
    build_bases(1, today, union_tree["operator"])
    base = Base.objects.get()
    Base.objects.filter(pk=base.pk).update(status="suspended")
    assert available_bases(actor=actor, first_night=today, nights=2, people=1, rooms=1) == []
    Base.objects.filter(pk=base.pk).update(status="certified", valid_until=today + dt.timedelta(days=1))
    assert available_bases(actor=actor, first_night=today, nights=3, people=1, rooms=1) == []
    assert len(available_bases(actor=actor, first_night=today, nights=2, people=1, rooms=1)) == 1


def test_people_must_fit_in_beds_not_just_rooms(users, heyuan_base, today):
    room_type = RoomType.objects.get(base=heyuan_base)  # 2 beds per room
    open_nights(room_type, today, 2, rooms=5)
    actor = actor_of(users["dongguan_organiser"])
    assert len(available_bases(actor=actor, first_night=today, nights=2, people=10, rooms=5)) == 1
    assert available_bases(actor=actor, first_night=today, nights=2, people=11, rooms=5) == []
    assert available_bases(actor=actor, first_night=today, nights=2, people=2, rooms=6) == []


@pytest.mark.parametrize("bad", [{"nights": 0}, {"people": 0}, {"rooms": -1}, {"nights": 31}])
def test_impossible_requests_are_a_422(users, today, bad):
    request = {"first_night": today, "nights": 2, "people": 4, "rooms": 2, **bad}
    with pytest.raises(ValidationFailed):
        available_bases(actor=actor_of(users["dongguan_organiser"]), **request)


@pytest.mark.parametrize(
    "query",
    ["first_night=2026-13-01&nights=2&people=3&rooms=2", "first_night=tomorrow&nights=2&people=3&rooms=2",
     "first_night=2026-12-01&nights=-2&people=3&rooms=2", "first_night=2026-12-01&nights=2&people=3",
     "first_night=2026-12-01&nights=2&people=3&rooms=2&max_price=-5", "first_night=2099-12-01&nights=2&people=3&rooms=2",
     "first_night=2026-12-01&nights=2&people=3&rooms=2&region=44", "first_night=2026-12-01&nights=2&people=3&rooms=2&theme=nope"],
)
def test_malformed_search_parameters_are_a_clear_422(users, client_for, query):
    response = client_for(users["dongguan_organiser"]).get(f"/api/v1/bases/availability?{query}")
    assert response.status_code == 422, response.json()
    assert set(response.json()) == {"code", "message", "detail"}


def test_the_search_endpoints_agree_with_the_brute_force_count(users, union_tree, client_for, today):
    """What a caller gets over HTTP — the search and the directory's availability filter — is the brute-force answer."""
    rng = random.Random(20261201)
    first = today + dt.timedelta(days=3)
    random_dataset(rng, bases=20, first=first, days=10, operator=union_tree["operator"])
    client = client_for(users["dongguan_organiser"])
    checked_non_empty = 0
    for _ in range(40):
        query = {"first_night": first + dt.timedelta(days=rng.randint(0, 8)), "nights": rng.randint(1, 4),
                 "people": rng.randint(1, 16), "rooms": rng.randint(1, 6)}
        region = rng.choice([None, None, "441600", "440282"])
        max_price = rng.choice([None, None, Decimal("300")])
        expected = brute_force(**query, region=region, max_price=max_price)
        params = {**query, "limit": 200, **({"region": region} if region else {}), **({"max_price": max_price} if max_price else {})}
        search = client.get("/api/v1/bases/availability", params)
        assert search.status_code == 200, search.content
        got = {
            item["base"]["id"]: [(dt.date.fromisoformat(n["night"]), n["rooms_free"], n["beds_free"], Decimal(n["cheapest_price"]))
                                 for n in item["nights"]]
            for item in search.json()["items"]
        }
        assert got == expected, (query, region, max_price)
        for item in search.json()["items"]:
            prices = [Decimal(n["cheapest_price"]) for n in item["nights"]]
            assert Decimal(item["price_per_night"]) == max(prices)
            assert Decimal(item["lodging_estimate"]) == sum(prices) * query["people"]
        directory = client.get("/api/v1/bases", params)
        assert {b["id"] for b in directory.json()["items"]} == set(expected), (query, region, max_price)
        checked_non_empty += bool(expected)
    assert checked_non_empty >= 8
