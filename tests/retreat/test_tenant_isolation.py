"""Tenant isolation on every endpoint of the API, in one table.

The table below lists every operation of the NinjaAPI that names an object in its
path. Each is called by users of other organisations on one small world's objects:
the answer is a 404 in the error shape, never data, and nothing in the database
changes. ``test_every_endpoint_with_an_object_in_its_path_is_in_the_table`` reads
the API itself, so an endpoint added without an entry here fails the suite.

Every list and search is called by the same outsiders too: none of the world's
marks (a booking reference, a batch title, a programme name, a settlement number,
a token prefix) may appear in what they get back.

(The bases endpoints with an object in the path are tested in depth, per status
and role, in ``tests/bases/test_api_isolation.py`` and counted from its tables.)
"""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from billing import services as billing_services
from billing.models import MonthBatch
from groups.access import actor_of
from groups.identity import encrypt_resident_id
from groups.models import Batch, Membership, WaitlistEntry
from groups.services import api_token_create
from itineraries import planning
from retreat.api import api
from tests.billing.conftest import NOW, make_booking, make_programme
from tests.factories import BaseFactory, OrganisationFactory, RoomTypeFactory, member, open_nights
from tests.groups.conftest import resident_id

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ROUND_FIRST_NIGHT = TODAY + dt.timedelta(days=60)

# (method, path as the OpenAPI schema spells it) -> (the URL with the world's objects, body or None, outsiders, insider or None)
# The insider is someone who does see the object (a GET answers 200), which proves the 404s are isolation, not absence.
BOOKING_OUTSIDERS = ["shenzhen_organiser", "other_operator", "shenzhen_fund"]
BATCH_OUTSIDERS = ["shenzhen_organiser", "other_operator"]
ROUND_OUTSIDERS = ["hunan_admin", "hunan_organiser"]
TABLE = {
    # groups
    ("GET", "/api/v1/unions/{union_id}"): ("/api/v1/unions/{shenzhen}", None, ["dongguan_organiser", "factory_organiser"], "province_admin"),
    ("DELETE", "/api/v1/tokens/{token_id}"): ("/api/v1/tokens/{token}", None, ["dongguan_organiser", "shenzhen_organiser"], None),
    ("GET", "/api/v1/batches/{batch_id}"): ("/api/v1/batches/{batch}", None, BATCH_OUTSIDERS, "factory_organiser"),
    ("GET", "/api/v1/batches/{batch_id}/eligibility"): ("/api/v1/batches/{batch}/eligibility", None, BATCH_OUTSIDERS, None),
    ("GET", "/api/v1/batches/{batch_id}/participants"): ("/api/v1/batches/{batch}/participants", None, BATCH_OUTSIDERS, "factory_organiser"),
    ("GET", "/api/v1/batches/{batch_id}/participants/export"): ("/api/v1/batches/{batch}/participants/export", None, BATCH_OUTSIDERS, None),
    ("DELETE", "/api/v1/batches/{batch_id}/participants/{participant_id}"): ("/api/v1/batches/{batch}/participants/{participant}", None, BATCH_OUTSIDERS, None),
    ("POST", "/api/v1/batches/{batch_id}/participants/import"): ("/api/v1/batches/{batch}/participants/import", "FILE", BATCH_OUTSIDERS, None),
    ("GET", "/api/v1/batches/{batch_id}/rooming"): ("/api/v1/batches/{batch}/rooming", None, BATCH_OUTSIDERS, "factory_organiser"),
    ("PUT", "/api/v1/batches/{batch_id}/rooming"): ("/api/v1/batches/{batch}/rooming", {"placements": []}, BATCH_OUTSIDERS, None),
    ("POST", "/api/v1/batches/{batch_id}/rooming/propose"): ("/api/v1/batches/{batch}/rooming/propose", None, BATCH_OUTSIDERS, None),
    ("GET", "/api/v1/bookings/{booking_id}"): ("/api/v1/bookings/{booking}", None, BOOKING_OUTSIDERS, "factory_organiser"),
    ("GET", "/api/v1/bookings/{booking_id}/cancellation-quote"): ("/api/v1/bookings/{booking}/cancellation-quote", None, BOOKING_OUTSIDERS, None),
    ("POST", "/api/v1/bookings/{booking_id}/confirm"): ("/api/v1/bookings/{booking}/confirm", None, BOOKING_OUTSIDERS, None),
    ("POST", "/api/v1/bookings/{booking_id}/cancel"): ("/api/v1/bookings/{booking}/cancel", {"reason": "x"}, BOOKING_OUTSIDERS, None),
    ("POST", "/api/v1/bookings/{booking_id}/reduce"): ("/api/v1/bookings/{booking}/reduce", {"nights": 1}, BOOKING_OUTSIDERS, None),
    ("POST", "/api/v1/waitlist/{entry_id}/cancel"): ("/api/v1/waitlist/{entry}/cancel", None, BATCH_OUTSIDERS, None),
    # billing
    ("GET", "/api/v1/billing/bookings/{booking_id}/cost-split"): ("/api/v1/billing/bookings/{booking}/cost-split", None, BOOKING_OUTSIDERS, "factory_organiser"),
    ("POST", "/api/v1/billing/bookings/{booking_id}/settlement"): ("/api/v1/billing/bookings/{booking}/settlement", {"arrivals": []}, ["other_operator", "shenzhen_organiser"], None),
    ("GET", "/api/v1/billing/bookings/{booking_id}/settlement-prefill"): ("/api/v1/billing/bookings/{booking}/settlement-prefill", None, ["other_operator", "shenzhen_organiser"], None),
    ("GET", "/api/v1/billing/programmes/{programme_id}"): ("/api/v1/billing/programmes/{programme}", None, ["shenzhen_fund", "shenzhen_organiser"], "dongguan_fund"),
    ("PATCH", "/api/v1/billing/programmes/{programme_id}"): ("/api/v1/billing/programmes/{programme}", {"name": "改名"}, ["shenzhen_fund"], None),
    ("DELETE", "/api/v1/billing/programmes/{programme_id}"): ("/api/v1/billing/programmes/{programme}", None, ["shenzhen_fund"], None),
    ("GET", "/api/v1/billing/programmes/{programme_id}/usage"): ("/api/v1/billing/programmes/{programme}/usage", None, ["shenzhen_fund"], "dongguan_fund"),
    ("GET", "/api/v1/billing/programmes/{programme_id}/statement.pdf"): ("/api/v1/billing/programmes/{programme}/statement.pdf?month=2026-11", None, ["shenzhen_fund"], None),
    ("GET", "/api/v1/billing/settlements/{settlement_id}"): ("/api/v1/billing/settlements/{settlement}", None, ["shenzhen_fund", "other_operator", "shenzhen_organiser"], "dongguan_fund"),
    ("GET", "/api/v1/billing/settlements/{settlement_id}/pdf"): ("/api/v1/billing/settlements/{settlement}/pdf", None, ["shenzhen_fund", "other_operator"], None),
    ("POST", "/api/v1/billing/settlements/{settlement_id}/approve"): ("/api/v1/billing/settlements/{settlement}/approve", None, ["shenzhen_fund"], None),
    ("POST", "/api/v1/billing/settlements/{settlement_id}/reject"): ("/api/v1/billing/settlements/{settlement}/reject", {"reason": "x"}, ["shenzhen_fund"], None),
    ("GET", "/api/v1/billing/unions/{union_id}/funding-policy"): ("/api/v1/billing/unions/{factory}/funding-policy", None, ["shenzhen_fund", "shenzhen_organiser", "hunan_admin"], "dongguan_fund"),
    ("PUT", "/api/v1/billing/unions/{union_id}/funding-policy"): ("/api/v1/billing/unions/{factory}/funding-policy", {"cost_standard_per_person_day": "500.00"}, ["shenzhen_fund", "hunan_admin"], None),
    ("GET", "/api/v1/billing/statements/bases/{base_id}.pdf"): ("/api/v1/billing/statements/bases/{base}.pdf?month=2026-11", None, ["other_operator"], None),
    ("GET", "/api/v1/billing/month-batches/{batch_id}"): ("/api/v1/billing/month-batches/{month_batch}", None, ["shenzhen_fund", "province_admin"], "dongguan_fund"),
    ("GET", "/api/v1/billing/month-batches/{batch_id}/download"): ("/api/v1/billing/month-batches/{month_batch}/download", None, ["shenzhen_fund"], None),
    # itineraries and arrivals
    ("GET", "/api/v1/itineraries/bookings/{reference}"): ("/api/v1/itineraries/bookings/{reference}", None, BOOKING_OUTSIDERS, "factory_organiser"),
    ("GET", "/api/v1/itineraries/bookings/{reference}/arrivals"): ("/api/v1/itineraries/bookings/{reference}/arrivals", None, BOOKING_OUTSIDERS, None),
    ("POST", "/api/v1/itineraries/bookings/{reference}/check-ins"): ("/api/v1/itineraries/bookings/{reference}/check-ins", {"participant_ids": ["{participant}"]}, ["other_operator", "shenzhen_organiser"], None),
    ("GET", "/api/v1/itineraries/bookings/{reference}/codes"): ("/api/v1/itineraries/bookings/{reference}/codes", None, BOOKING_OUTSIDERS, None),
    ("GET", "/api/v1/itineraries/bookings/{reference}/codes/qr"): ("/api/v1/itineraries/bookings/{reference}/codes/qr", None, BOOKING_OUTSIDERS, None),
    ("POST", "/api/v1/itineraries/bookings/{reference}/complete"): ("/api/v1/itineraries/bookings/{reference}/complete", None, ["other_operator", "shenzhen_organiser"], None),
    ("GET", "/api/v1/itineraries/bookings/{reference}/itinerary.ics"): ("/api/v1/itineraries/bookings/{reference}/itinerary.ics", None, BOOKING_OUTSIDERS, None),
    ("GET", "/api/v1/itineraries/bookings/{reference}/itinerary.pdf"): ("/api/v1/itineraries/bookings/{reference}/itinerary.pdf", None, ["shenzhen_organiser"], None),
    # planning
    ("GET", "/api/v1/planning/rounds/{round_id}"): ("/api/v1/planning/rounds/{round}", None, ROUND_OUTSIDERS + ["dongguan_admin"], "province_admin"),
    ("PUT", "/api/v1/planning/rounds/{round_id}/settings"): ("/api/v1/planning/rounds/{round}/settings", {"seed": 5}, ["hunan_admin", "dongguan_admin"], None),
    ("POST", "/api/v1/planning/rounds/{round_id}/open"): ("/api/v1/planning/rounds/{round}/open", None, ["hunan_admin", "dongguan_admin"], None),
    ("POST", "/api/v1/planning/rounds/{round_id}/close"): ("/api/v1/planning/rounds/{round}/close", None, ["hunan_admin", "dongguan_admin"], None),
    ("POST", "/api/v1/planning/rounds/{round_id}/solve"): ("/api/v1/planning/rounds/{round}/solve", None, ["hunan_admin", "dongguan_admin"], None),
    ("POST", "/api/v1/planning/rounds/{round_id}/solve/cancel"): ("/api/v1/planning/rounds/{round}/solve/cancel", None, ["hunan_admin", "dongguan_admin"], None),
    ("POST", "/api/v1/planning/rounds/{round_id}/publish"): ("/api/v1/planning/rounds/{round}/publish", None, ["hunan_admin", "dongguan_admin"], None),
    ("GET", "/api/v1/planning/rounds/{round_id}/export"): ("/api/v1/planning/rounds/{round}/export", None, ["hunan_admin", "dongguan_admin"], None),
    ("GET", "/api/v1/planning/rounds/{round_id}/progress"): ("/api/v1/planning/rounds/{round}/progress", None, ROUND_OUTSIDERS, None),
    ("GET", "/api/v1/planning/rounds/{round_id}/result"): ("/api/v1/planning/rounds/{round}/result", None, ROUND_OUTSIDERS, None),
    ("GET", "/api/v1/planning/rounds/{round_id}/runs"): ("/api/v1/planning/rounds/{round}/runs", None, ROUND_OUTSIDERS, None),
    ("GET", "/api/v1/planning/rounds/{round_id}/requests"): ("/api/v1/planning/rounds/{round}/requests", None, ROUND_OUTSIDERS, None),
    ("POST", "/api/v1/planning/rounds/{round_id}/requests"): ("/api/v1/planning/rounds/{round}/requests", "REQUEST", ["hunan_organiser"], None),
    ("GET", "/api/v1/planning/requests/{request_id}"): ("/api/v1/planning/requests/{request}", None, ["shenzhen_organiser", "hunan_admin"], "factory_organiser"),
    ("POST", "/api/v1/planning/requests/{request_id}/accept"): ("/api/v1/planning/requests/{request}/accept", None, ["shenzhen_organiser"], None),
    ("POST", "/api/v1/planning/requests/{request_id}/decline"): ("/api/v1/planning/requests/{request}/decline", None, ["shenzhen_organiser"], None),
    ("POST", "/api/v1/planning/requests/{request_id}/withdraw"): ("/api/v1/planning/requests/{request}/withdraw", None, ["shenzhen_organiser"], None),
}

# Operations with an object in the path that are tested per status and role in their app's own table.
BASES_TABLE = "tests/bases/test_api_isolation.py"


def api_operations() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations}


def test_every_endpoint_with_an_object_in_its_path_is_in_the_table():
    from tests.bases.test_api_isolation import BASE_ENDPOINTS, DRAFT_READ_ENDPOINTS, ROUTE_ENDPOINTS

    bases_covered = {
        (method.upper(), path.split("?")[0].replace("{base}", "{base_id}").replace("{room_type}", "{room_type_id}")
         .replace("{route}", "{route_id}").replace("{departure}", "{departure_id}"))
        for method, path, _body in BASE_ENDPOINTS + DRAFT_READ_ENDPOINTS + ROUTE_ENDPOINTS
    }
    with_object = {(method, path) for method, path in api_operations() if "{" in path}
    missing = sorted(with_object - set(TABLE) - bases_covered)
    assert not missing, f"add these endpoints to TABLE in tests/retreat/test_tenant_isolation.py (or {BASES_TABLE}): {missing}"
    assert not set(TABLE) - with_object, f"the table names endpoints the API no longer has: {sorted(set(TABLE) - with_object)}"


@pytest.fixture
def world(union_tree, users):
    """One Dongguan enterprise union's things, and the people of other organisations who must not reach them."""
    t, u = union_tree, users
    base = BaseFactory(operator=t["operator"], name="河源万绿湖温泉疗休养基地")
    room_type = RoomTypeFactory(base=base, price_per_night=Decimal("260.00"), meals_per_day=Decimal("90.00"))
    open_nights(room_type, TODAY + dt.timedelta(days=1), 90)
    programme = make_programme(union=t["dongguan"], user=u["dongguan_fund"], name="东莞市职工疗休养专项经费", budget="50000.00",
                               cap_per_person_day=Decimal("150.00"))
    booking = make_booking(union=t["factory"], base=base, room_type=room_type, user=u["factory_organiser"], people=4)
    for number, participant in enumerate(booking.batch.participants.all(), start=1):  # real ciphertexts: the insider reads them
        participant.id_encrypted = encrypt_resident_id(resident_id(sequence=number))
        participant.save(update_fields=["id_encrypted"])
    organiser, operator = actor_of(u["factory_organiser"]), actor_of(u["operator"])
    billing_services.funding_commit_for_booking(booking=booking, actor=organiser, now=NOW)
    arrivals = [billing_services.ArrivalActual(participant_id=p.pk, nights=3) for p in booking.batch.participants.all()]
    settlement = billing_services.settlement_submit(actor=operator, booking_id=booking.pk, arrivals=arrivals, extras=[], now=NOW)
    entry = WaitlistEntry.objects.create(
        batch=booking.batch, union=t["factory"], base=base, room_type=room_type, arrival=TODAY + dt.timedelta(days=20),
        nights=2, people=2, rooms=1, created_by=u["factory_organiser"],
    )
    token, _raw = api_token_create(actor=organiser, name="手机")
    month_batch = MonthBatch.objects.create(month=dt.date(2026, 11, 1), requested_by=u["dongguan_fund"], created_at=NOW)

    admin = actor_of(u["province_admin"])
    planning_round = planning.round_create(
        actor=admin, name="统筹轮次", first_night=ROUND_FIRST_NIGHT, last_night=ROUND_FIRST_NIGHT + dt.timedelta(days=9),
        union_ids=[t["dongguan"].pk, t["shenzhen"].pk], base_ids=[base.pk], programme_ids=[],
        settings=planning.RoundSettings(time_limit_seconds=5, workers=1, seed=1),
    )
    planning.round_open(actor=admin, round_id=planning_round.pk)
    terms = planning.RequestTerms(
        batch_id=booking.batch.pk, people=4, rooms=2, nights=3, earliest_arrival=ROUND_FIRST_NIGHT,
        latest_arrival=ROUND_FIRST_NIGHT + dt.timedelta(days=5), preferences=[{"base": base.pk}],
    )
    request = planning.request_submit(actor=organiser, round_id=planning_round.pk, terms=terms, now=NOW)

    hunan = OrganisationFactory(name="湖南省总工会", kind="province", division_code="430000")
    people = {
        **u,
        "shenzhen_fund": member(organisation=t["shenzhen"], role=Membership.Role.FUND_MANAGER, username="sz_fund"),
        "hunan_admin": member(organisation=hunan, role=Membership.Role.ADMINISTRATOR, username="hn_admin"),
        "hunan_organiser": member(organisation=hunan, role=Membership.Role.ORGANISER, username="hn_org"),
    }
    # Hunan's own batch: submitting it to a round Hunan is not part of must not reveal the round.
    hunan_batch = Batch.objects.create(union=hunan, title="湖南职工疗休养团", nights=3, created_by=people["hunan_organiser"])
    ids = {
        "shenzhen": t["shenzhen"].pk, "factory": t["factory"].pk, "token": token.pk, "batch": booking.batch.pk,
        "booking": booking.pk, "entry": entry.pk,
        "programme": programme.pk, "settlement": settlement.pk, "base": base.pk, "month_batch": month_batch.pk,
        "reference": booking.reference, "participant": booking.batch.participants.first().pk,
        "round": planning_round.pk, "request": request.pk,
    }
    bodies = {
        "REQUEST": {"batch_id": hunan_batch.pk, "people": 2, "rooms": 1, "nights": 2, "earliest_arrival": str(ROUND_FIRST_NIGHT),
                    "latest_arrival": str(ROUND_FIRST_NIGHT + dt.timedelta(days=3)), "preferences": [{"base": base.pk}]},
    }
    markers = [booking.reference, booking.batch.title, programme.name, settlement.number, token.prefix]
    return {"ids": ids, "people": people, "bodies": bodies, "markers": markers, "round_name": planning_round.name}


def state() -> list:
    """Every row of the product's own tables."""
    return [
        (model._meta.label, list(model.objects.order_by("pk").values()))
        for app in ("groups", "bases", "itineraries", "billing")
        for model in apps.get_app_config(app).get_models()
    ]


def fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


def call(client, method, url, body, world):
    if body == "FILE":
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("名单.csv", "姓名,身份证号\n张三,110101199003071234\n".encode(), content_type="text/csv")
        return client.post(url, {"file": upload})
    if isinstance(body, str):
        body = world["bodies"][body]
    if body is None and method in ("GET", "DELETE"):
        return getattr(client, method.lower())(url)
    return getattr(client, method.lower())(url, json.dumps(fill(body or {}, world["ids"])), content_type="application/json")


def ghost(ids: dict) -> dict:
    """The same kinds of ids, of objects that do not exist."""
    return {key: ("BK999999999" if key == "reference" else 999_999_999) for key in ids}


@pytest.mark.parametrize("operation", sorted(TABLE), ids=lambda op: f"{op[0]} {op[1]}")
def test_another_tenants_object_is_a_404_and_nothing_changes(world, client_for, operation):
    """A 404 — or, for a role that may never do this, the very 403 an object that does not exist gets: no oracle either way."""
    url_template, body, outsiders, insider = TABLE[operation]
    url = url_template.format(**world["ids"])
    before = state()
    for who in outsiders:
        client = client_for(world["people"][who])
        response = call(client, operation[0], url, body, world)
        assert response.status_code in (403, 404), (who, url, response.content[:300])
        assert response["Content-Type"].startswith("application/json")
        assert set(response.json()) == {"code", "message", "detail"}
        said = json.dumps(response.json(), ensure_ascii=False)
        assert not [mark for mark in world["markers"] if mark in said and mark not in url], (who, url, said)
        if response.status_code == 403:
            unknown = call(client, operation[0], url_template.format(**ghost(world["ids"])), body, world)
            assert (unknown.status_code, unknown.json()) == (403, response.json()), (who, url)
    assert state() == before
    if insider:
        response = call(client_for(world["people"][insider]), operation[0], url, body, world)
        assert response.status_code == 200, (insider, url, response.content[:300])


# --- lists: what they leave out ----------------------------------------------------------------

# Every list and search of the API, with the world's ids in its filters where it takes them. None of
# the world's marks (booking reference, batch title, programme name, settlement number, token prefix)
# may appear in what an outsider gets back.
LIST_OUTSIDERS = ["shenzhen_organiser", "other_operator", "shenzhen_fund", "hunan_admin", "hunan_organiser"]
LISTS = {
    ("GET", "/api/v1/unions"): "/api/v1/unions?limit=200",
    ("GET", "/api/v1/tokens"): "/api/v1/tokens",
    ("GET", "/api/v1/batches"): "/api/v1/batches?limit=200",
    ("GET", "/api/v1/bookings"): "/api/v1/bookings?limit=200&batch_id={batch}",
    ("GET", "/api/v1/waitlist"): "/api/v1/waitlist",
    ("GET", "/api/v1/availability"): "/api/v1/availability?base_id={base}&arrival=" + str(TODAY + dt.timedelta(days=20)) + "&nights=2",
    ("GET", "/api/v1/billing/programmes"): "/api/v1/billing/programmes?limit=200",
    ("GET", "/api/v1/billing/ledger"): "/api/v1/billing/ledger?limit=200&booking_id={booking}",
    ("GET", "/api/v1/billing/settlements"): "/api/v1/billing/settlements?limit=200",
    ("GET", "/api/v1/billing/exports/settlements.csv"): "/api/v1/billing/exports/settlements.csv?month=2026-11",
    ("GET", "/api/v1/billing/exports/settlements.xlsx"): "/api/v1/billing/exports/settlements.xlsx?month=2026-11",
    ("GET", "/api/v1/itineraries/arrivals"): "/api/v1/itineraries/arrivals?limit=200&date=2026-11-10",
    ("GET", "/api/v1/itineraries/arrivals/figures"): "/api/v1/itineraries/arrivals/figures?date_from=2026-11-01&date_to=2026-11-30",
    ("GET", "/api/v1/planning/rounds"): "/api/v1/planning/rounds",
    ("GET", "/api/v1/bases"): "/api/v1/bases?limit=200",
    ("GET", "/api/v1/bases/routes"): "/api/v1/bases/routes?limit=200",
    ("GET", "/api/v1/bases/certification-queue"): "/api/v1/bases/certification-queue?limit=200",
    ("GET", "/api/v1/bases/availability"): "/api/v1/bases/availability?limit=200&first_night=" + str(TODAY + dt.timedelta(days=20)) + "&nights=2&people=2&rooms=1",
}
# Reads without an object or a list of other tenants' things.
NOT_LISTS = {("GET", "/api/v1/me"), ("GET", "/api/v1/itineraries/public-key")}


def test_every_list_is_in_the_table():
    reads = {(method, path) for method, path in api_operations() if method == "GET" and "{" not in path}
    assert reads - set(LISTS) - NOT_LISTS == set(), "add these lists to LISTS in tests/retreat/test_tenant_isolation.py"
    assert set(LISTS) <= reads


def readable(response) -> str:
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        import io

        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        return " ".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)
    if response["Content-Type"].startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)  # the raw body spells Chinese as \uXXXX
    return response.content.decode("utf-8-sig", "replace")


@pytest.mark.parametrize("operation", sorted(LISTS), ids=lambda op: op[1])
def test_lists_leave_out_another_tenants_things(world, client_for, operation):
    url = LISTS[operation].format(**world["ids"])
    for who in LIST_OUTSIDERS:
        response = client_for(world["people"][who]).get(url)
        assert response.status_code in (200, 403, 404), (who, url, response.content[:300])
        text = readable(response)
        leaked = [mark for mark in world["markers"] if mark in text]
        if who.startswith("hunan"):
            leaked += [world["round_name"]] if world["round_name"] in text else []
        assert not leaked, (who, url, leaked)
    # The factory's own organiser does see its things where the list holds them.
    own = client_for(world["people"]["factory_organiser"]).get(url)
    assert own.status_code in (200, 403), (url, own.content[:300])


@pytest.mark.parametrize(
    "who, url, mark",
    [
        ("factory_organiser", "/api/v1/batches?limit=200", 1),
        ("factory_organiser", "/api/v1/bookings?limit=200", 0),
        ("factory_organiser", "/api/v1/tokens", 4),
        ("dongguan_fund", "/api/v1/billing/programmes?limit=200", 2),
        ("dongguan_fund", "/api/v1/billing/settlements?limit=200", 3),
        ("dongguan_fund", "/api/v1/billing/exports/settlements.csv?month=2026-11", 3),
        ("dongguan_fund", "/api/v1/billing/exports/settlements.xlsx?month=2026-11", 3),
        ("operator", "/api/v1/itineraries/arrivals?limit=200&date=2026-11-10", 0),
    ],
)
def test_the_marks_are_there_for_those_who_may_see_them(world, client_for, who, url, mark):
    """So that their absence from the outsiders' lists above means something."""
    response = client_for(world["people"][who]).get(url)
    assert response.status_code == 200 and world["markers"][mark] in readable(response)
