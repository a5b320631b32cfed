import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from groups.access import actor_of
from groups.checkin import FigureGrouping, arrival_figures, arrival_totals, arrivals_on, booking_arrivals, check_in_participants
from groups.models import Booking
from tests.factories import BaseFactory
from tests.groups.factories_booking import confirmed_booking

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2025, 5, 20)
API = "/api/v1/itineraries"


def arrive(booking, users, how_many):
    ids = list(booking.batch.participants.values_list("pk", flat=True))[:how_many]
    operator = users["operator"] if booking.base.operator.name == "河源温泉运营公司" else users["other_operator"]
    check_in_participants(
        actor=actor_of(operator),
        reference=booking.reference,
        participant_ids=ids,
        now=dt.datetime.combine(booking.arrival, dt.time(16), tzinfo=SHANGHAI),
    )


@pytest.fixture
def season(union_tree, users):
    """Two bases of two operators, bookings of a Dongguan and a Shenzhen union over three months."""
    heyuan = BaseFactory(operator=union_tree["operator"], name="河源温泉基地")
    danxia = BaseFactory(operator=union_tree["other_operator"], name="韶关丹霞基地", city_code="440200")
    factory, shenzhen = union_tree["factory"], union_tree["sz_enterprise"]
    bookings = {
        "april_all_came": confirmed_booking(union=factory, base=heyuan, arrival=dt.date(2025, 4, 28), nights=2, people=5),
        "may_one_missing": confirmed_booking(union=factory, base=heyuan, arrival=dt.date(2025, 5, 12), nights=3, people=4),
        "may_today": confirmed_booking(union=shenzhen, base=heyuan, arrival=TODAY, nights=2, people=2),
        "june_future": confirmed_booking(union=factory, base=danxia, arrival=dt.date(2025, 6, 3), nights=2, people=3),
        "may_cancelled": confirmed_booking(union=factory, base=heyuan, arrival=dt.date(2025, 5, 12), people=6, status=Booking.Status.CANCELLED),
    }
    arrive(bookings["april_all_came"], users, 5)
    arrive(bookings["may_one_missing"], users, 3)
    Booking.objects.filter(pk=bookings["april_all_came"].pk).update(status=Booking.Status.COMPLETED)
    return bookings


def counts(figure):
    return (figure.bookings, figure.count.expected, figure.count.arrived, figure.count.no_shows, figure.count.awaited)


def test_figures_per_month(season, users):
    figures = arrival_figures(actor=actor_of(users["province_admin"]), group_by=FigureGrouping.MONTH, today=TODAY)
    assert {f.key: counts(f) for f in figures} == {
        "2025-04": (1, 5, 5, 0, 0),
        "2025-05": (2, 6, 3, 1, 2),  # one no-show from the 12th; today's two are still awaited
        "2025-06": (1, 3, 0, 0, 3),
    }
    assert counts(arrival_totals(figures)) == (4, 14, 8, 1, 5)


def test_the_day_after_arrival_the_missing_become_no_shows(season, users):
    figures = arrival_figures(actor=actor_of(users["province_admin"]), group_by=FigureGrouping.MONTH, today=TODAY + dt.timedelta(days=1))
    assert counts(next(f for f in figures if f.key == "2025-05")) == (2, 6, 3, 3, 0)


def test_figures_per_base_and_union(season, users):
    admin = actor_of(users["province_admin"])
    per_base = arrival_figures(actor=admin, group_by=FigureGrouping.BASE, today=TODAY)
    assert {f.label: counts(f) for f in per_base} == {"河源温泉基地": (3, 11, 8, 1, 2), "韶关丹霞基地": (1, 3, 0, 0, 3)}
    per_union = arrival_figures(actor=admin, group_by=FigureGrouping.UNION, today=TODAY)
    assert {f.label: counts(f) for f in per_union} == {"东莞某电子厂工会": (3, 12, 8, 1, 3), "深圳某科技公司工会": (1, 2, 0, 0, 2)}


def test_figures_per_booking_in_a_date_range(season, users):
    figures = arrival_figures(
        actor=actor_of(users["province_admin"]), group_by=FigureGrouping.BOOKING, date_from=dt.date(2025, 5, 1), date_to=dt.date(2025, 5, 31), today=TODAY
    )
    assert {f.key: counts(f) for f in figures} == {
        season["may_one_missing"].reference: (1, 4, 3, 1, 0),
        season["may_today"].reference: (1, 2, 0, 0, 2),
    }


def test_figures_are_scoped_to_the_actor(season, users, union_tree):
    def seen_by(user, **filters):
        figures = arrival_figures(actor=actor_of(users[user]), group_by=FigureGrouping.BOOKING, today=TODAY, **filters)
        return {f.key for f in figures}

    refs = {name: booking.reference for name, booking in season.items()}
    assert seen_by("operator") == {refs["april_all_came"], refs["may_one_missing"], refs["may_today"]}
    assert seen_by("other_operator") == {refs["june_future"]}
    assert seen_by("dongguan_organiser") == {refs["april_all_came"], refs["may_one_missing"], refs["june_future"]}
    assert seen_by("shenzhen_organiser") == {refs["may_today"]}
    assert seen_by("province_admin", union_id=union_tree["shenzhen"].pk) == {refs["may_today"]}
    assert seen_by("shenzhen_organiser", union_id=union_tree["dongguan"].pk) == set()


def test_todays_arrivals_show_expected_and_checked_in(season, users):
    rows = arrivals_on(actor=actor_of(users["operator"]), day=dt.date(2025, 5, 12), today=dt.date(2025, 5, 12))
    assert [(row.booking.reference, row.count.expected, row.count.arrived, row.count.awaited) for row in rows] == [
        (season["may_one_missing"].reference, 4, 3, 1)
    ]
    assert arrivals_on(actor=actor_of(users["other_operator"]), day=dt.date(2025, 5, 12)) == []


def test_a_bookings_arrivals_name_the_no_shows(season, users):
    detail = booking_arrivals(actor=actor_of(users["dongguan_organiser"]), reference=season["may_one_missing"].reference, today=TODAY)
    assert [row.no_show for row in detail.participants] == [False, False, False, True]
    assert all(row.check_in.method == "manual" for row in detail.participants[:3])


def test_api_arrivals_today_and_figures(union_tree, users, client_for):
    heyuan = BaseFactory(operator=union_tree["operator"], name="河源温泉基地")
    today = timezone.localdate()
    booking = confirmed_booking(union=union_tree["factory"], base=heyuan, arrival=today, people=3)
    arrive(booking, users, 2)
    operator = client_for(users["operator"])
    listed = operator.get(f"{API}/arrivals").json()
    assert listed["count"] == 1
    assert listed["items"][0]["reference"] == booking.reference
    assert listed["items"][0]["count"] == {"expected": 3, "arrived": 2, "no_shows": 0, "awaited": 1}
    assert operator.get(f"{API}/arrivals?date={today + dt.timedelta(days=1)}").json()["count"] == 0
    assert client_for(users["other_operator"]).get(f"{API}/arrivals").json()["count"] == 0

    figures = client_for(users["dongguan_organiser"]).get(f"{API}/arrivals/figures?group_by=union").json()
    assert figures["group_by"] == "union"
    assert [(row["label"], row["count"]["arrived"]) for row in figures["rows"]] == [("东莞某电子厂工会", 2)]
    assert figures["total"]["count"]["expected"] == 3
    assert client_for(users["shenzhen_organiser"]).get(f"{API}/arrivals/figures").json()["rows"] == []

    detail = client_for(users["factory_organiser"]).get(f"{API}/bookings/{booking.reference}/arrivals").json()
    assert [p["checked_in_at"] is not None for p in detail["participants"]] == [True, True, False]


@pytest.mark.parametrize(
    "query", ["group_by=week", "date_from=2025-13-01", "base_id=abc", "limit=0"], ids=["grouping", "date", "base", "limit"]
)
def test_api_bad_filters_are_422_in_the_error_shape(users, client_for, query):
    path = f"{API}/arrivals?{query}" if query.startswith("limit") else f"{API}/arrivals/figures?{query}"
    response = client_for(users["operator"]).get(path)
    assert response.status_code == 422
    assert set(response.json()) == {"code", "message", "detail"}


def test_api_another_tenants_booking_arrivals_are_404(season, users, client_for):
    reference = season["may_today"].reference  # Shenzhen's, at the Heyuan operator's base
    assert client_for(users["dongguan_organiser"]).get(f"{API}/bookings/{reference}/arrivals").status_code == 404
    assert client_for(users["other_operator"]).get(f"{API}/bookings/{reference}/arrivals").status_code == 404
    assert client_for(users["operator"]).get(f"{API}/bookings/{reference}/arrivals").status_code == 200


def test_the_arrival_rate_counts_only_the_people_who_were_due(season, users):
    figures = {f.key: f for f in arrival_figures(actor=actor_of(users["province_admin"]), group_by=FigureGrouping.MONTH, today=TODAY)}
    assert figures["2025-04"].count.arrival_percent == 100
    assert figures["2025-05"].count.arrival_percent == 75  # 3 of the 4 due (one no-show); today's two awaited do not count
    assert figures["2025-06"].count.arrival_percent is None  # nobody due yet: no rate, not 0 %
    assert arrival_totals(list(figures.values())).count.arrival_percent == 89  # 8 of 9, rounded


def test_the_figures_page_prints_the_rate_of_those_due_and_a_translated_total(season, users, client_for):
    web = client_for(users["province_admin"])
    html = web.get("/itineraries/arrivals/stats/?group_by=month&date_from=2025-05-01&date_to=2025-06-30").content.decode()
    assert "<th>合计</th>" in html and "(total)" not in html
    english = web.get("/itineraries/arrivals/stats/?group_by=month", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<th>Total</th>" in english and "合计" not in english
