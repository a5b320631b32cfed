import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from billing import services
from billing.documents import verify_url
from billing.models import FundProgramme, LedgerEntry, MonthBatch, Settlement
from groups.models import Membership
from tests.billing.conftest import NOW
from tests.factories import member

API = "/api/v1/billing"


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def assert_error(response, status):
    assert response.status_code == status, response.content
    assert set(response.json()) == {"code", "message", "detail"}


@pytest.fixture
def shenzhen_fund(union_tree):
    return member(organisation=union_tree["shenzhen"], role=Membership.Role.FUND_MANAGER, username="sz_fund")


@pytest.fixture
def submitted(world, booking):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in booking.batch.participants.exclude(name="张伟")]
    return services.settlement_submit(actor=world["operator"], booking_id=booking.pk, arrivals=arrivals, extras=[], now=NOW)


PROGRAMME = {
    "union_id": None, "name": "东莞市职工疗休养配套资金", "valid_from": "2026-01-01", "valid_until": "2026-12-31",
    "budget": "2000000.00", "contribution": "matching", "matching_ratio": "1", "matching_cap_per_head": "500.00",
    "matching_total_cap": "1000000.00", "order": 30, "base_region_prefixes": ["4416", "4402"],
}


@pytest.mark.django_db
def test_fund_manager_creates_reads_updates_and_deletes_a_programme(world, union_tree, users, client_for):
    client = client_for(users["dongguan_fund"])
    created = post(client, f"{API}/programmes", {**PROGRAMME, "union_id": union_tree["dongguan"].pk, "fully_funded_union_ids": [union_tree["factory"].pk]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["available"] == "2000000.00" and body["fully_funded_union_ids"] == [union_tree["factory"].pk]

    listed = client.get(f"{API}/programmes").json()
    assert {item["name"] for item in listed["items"]} == {"东莞市职工疗休养专项经费", "东莞市职工疗休养配套资金"}  # not the province's
    updated = patch(client, f"{API}/programmes/{body['id']}", {"budget": "1500000.00", "cap_per_person_day": None})
    assert updated.status_code == 200 and updated.json()["available"] == "1500000.00"
    assert client.delete(f"{API}/programmes/{body['id']}").status_code == 204


@pytest.mark.django_db
def test_programme_bad_input_is_a_422_and_creates_nothing(world, union_tree, users, client_for):
    client = client_for(users["dongguan_fund"])
    before = FundProgramme.objects.count()
    cases = [
        {"budget": "-1"},
        {"contribution": "lottery"},
        {"valid_from": "2027-01-01"},
        {"matching_ratio": None},
        {"base_levels": ["national"]},
        {"participant_categories": ["astronaut"]},
        {"budget": "1.001"},
        {"fully_funded_union_ids": [union_tree["sz_enterprise"].pk]},
    ]
    for case in cases:
        assert_error(post(client, f"{API}/programmes", {**PROGRAMME, "union_id": union_tree["dongguan"].pk, **case}), 422)
    assert_error(patch(client, f"{API}/programmes/{world['dongguan_cover'].pk}", {"budget": None}), 422)
    assert FundProgramme.objects.count() == before


@pytest.mark.django_db
def test_programme_scoping(world, union_tree, users, client_for, shenzhen_fund):
    dongguan_fund = client_for(users["dongguan_fund"])
    assert_error(post(dongguan_fund, f"{API}/programmes", {**PROGRAMME, "union_id": union_tree["shenzhen"].pk}), 404)
    assert_error(post(client_for(users["factory_organiser"]), f"{API}/programmes", {**PROGRAMME, "union_id": union_tree["factory"].pk}), 403)
    province_programme = world["province_flat"].pk
    for client in (dongguan_fund, client_for(shenzhen_fund)):
        assert_error(client.get(f"{API}/programmes/{province_programme}"), 404)
        assert_error(patch(client, f"{API}/programmes/{province_programme}", {"name": "x"}), 404)
        assert_error(client.delete(f"{API}/programmes/{province_programme}"), 404)
        assert_error(client.get(f"{API}/programmes/{province_programme}/usage"), 404)
    assert_error(client_for(shenzhen_fund).get(f"{API}/programmes/{world['dongguan_cover'].pk}"), 404)
    assert client_for(users["province_admin"]).get(f"{API}/programmes/{world['dongguan_cover'].pk}").status_code == 200


@pytest.mark.django_db
def test_budget_and_deletion_are_guarded_by_the_ledger(world, booking, users, client_for):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    client = client_for(users["dongguan_fund"])
    url = f"{API}/programmes/{world['dongguan_cover'].pk}"
    assert_error(patch(client, url, {"budget": "5000.00"}), 409)  # ¥5,400 is committed
    assert_error(client.delete(url), 409)
    assert FundProgramme.objects.get(pk=world["dongguan_cover"].pk).budget == Decimal("50000.00")

    entries = client.get(f"{API}/ledger", {"booking_id": booking.pk}).json()
    assert [item["kind"] for item in entries["items"]] == ["commitment"]  # only Dongguan's; the province's is not visible
    usage = client.get(f"{url}/usage").json()
    assert usage[-1]["committed"] == "5400.00"


@pytest.mark.django_db
def test_cost_split_preview_for_the_organiser(world, booking, users, client_for):
    response = client_for(users["factory_organiser"]).get(f"{API}/bookings/{booking.pk}/cost-split")
    assert response.status_code == 200
    body = response.json()
    assert (body["total_fen"], body["programmes_fen"], body["own_payment_fen"]) == (1_140_000, 900_000, 114_000)
    assert_error(client_for(users["shenzhen_organiser"]).get(f"{API}/bookings/{booking.pk}/cost-split"), 404)
    assert_error(client_for(users["operator"]).get(f"{API}/bookings/{booking.pk}/cost-split"), 403)
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_operator_submits_through_the_api(world, booking, users, client_for):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    operator = client_for(users["operator"])
    prefill = operator.get(f"{API}/bookings/{booking.pk}/settlement-prefill").json()
    assert len(prefill) == 10
    arrivals = [{"participant_id": row["participant_id"], "nights": 3} for row in prefill]
    url = f"{API}/bookings/{booking.pk}/settlement"

    assert_error(post(client_for(users["other_operator"]), url, {"arrivals": arrivals}), 404)
    assert_error(client_for(users["other_operator"]).get(f"{API}/bookings/{booking.pk}/settlement-prefill"), 404)
    assert_error(post(operator, url, {"arrivals": [{"participant_id": 999999, "nights": 3}]}), 422)
    assert_error(post(operator, url, {"arrivals": arrivals, "extras": [{"name": "导游", "amount": "-5"}]}), 422)
    assert_error(post(operator, url, {"arrivals": "everyone"}), 422)
    assert not Settlement.objects.exists()

    created = post(operator, url, {"arrivals": arrivals, "extras": [{"name": "导游", "amount": "300.00"}]})
    assert created.status_code == 201, created.content
    assert created.json()["total_cost"] == "11700.00"


@pytest.mark.django_db
def test_settlement_endpoints_are_scoped_and_decisions_checked(world, submitted, users, client_for, shenzhen_fund):
    fund = client_for(users["dongguan_fund"])
    url = f"{API}/settlements/{submitted.pk}"
    for outsider in (client_for(shenzhen_fund), client_for(users["shenzhen_organiser"]), client_for(users["other_operator"])):
        assert_error(outsider.get(url), 404)
        assert_error(outsider.get(f"{url}/pdf"), 404)
        assert outsider.get(f"{API}/settlements").json()["count"] == 0
    assert_error(post(client_for(shenzhen_fund), f"{url}/approve", {}), 404)
    assert_error(post(client_for(users["factory_organiser"]), f"{url}/approve", {}), 403)
    assert_error(post(fund, f"{url}/reject", {"reason": ""}), 422)
    assert Settlement.objects.get(pk=submitted.pk).status == "submitted"

    detail = fund.get(url).json()
    assert detail["split"]["programmes_fen"] == 800_000 and detail["events"][0]["action"] == "submit"
    assert client_for(users["operator"]).get(url).status_code == 200
    assert client_for(users["factory_organiser"]).get(url).status_code == 200

    approved = post(fund, f"{url}/approve", {})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert_error(post(fund, f"{url}/approve", {}), 409)
    assert_error(post(fund, f"{url}/reject", {"reason": "晚了"}), 409)
    pdf = fund.get(f"{url}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_statements_and_exports(world, submitted, users, client_for, shenzhen_fund):
    fund = client_for(users["dongguan_fund"])
    services.settlement_approve(actor=world["fund"], settlement_id=submitted.pk, now=NOW)
    workbook = openpyxl.load_workbook(io.BytesIO(fund.get(f"{API}/exports/settlements.xlsx", {"month": "2026-11"}).content))
    assert list(workbook.active.values)[1][0] == submitted.number
    assert client_for(shenzhen_fund).get(f"{API}/exports/settlements.csv", {"month": "2026-11"}).content.decode("utf-8-sig").count("\n") == 1
    assert_error(fund.get(f"{API}/exports/settlements.csv", {"month": "November"}), 422)
    base_pdf = client_for(users["operator"]).get(f"{API}/statements/bases/{world['base'].pk}.pdf", {"month": "2026-11"})
    assert base_pdf.status_code == 200 and base_pdf.content.startswith(b"%PDF")
    assert_error(client_for(users["other_operator"]).get(f"{API}/statements/bases/{world['base'].pk}.pdf", {"month": "2026-11"}), 404)
    programme_pdf = fund.get(f"{API}/programmes/{world['dongguan_cover'].pk}/statement.pdf", {"month": "2026-11"})
    assert programme_pdf.status_code == 200
    assert_error(client_for(shenzhen_fund).get(f"{API}/programmes/{world['dongguan_cover'].pk}/statement.pdf", {"month": "2026-11"}), 404)


@pytest.mark.django_db
def test_month_batch_renders_a_zip_in_eager_mode(world, submitted, users, client_for, shenzhen_fund, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    fund = client_for(users["dongguan_fund"])
    assert_error(post(fund, f"{API}/month-batches", {"month": "2026-13"}), 422)
    with django_capture_on_commit_callbacks(execute=True):
        started = post(fund, f"{API}/month-batches", {"month": "2026-11"})
    assert started.status_code == 202
    progress = fund.get(f"{API}/month-batches/{started.json()['id']}").json()
    assert (progress["status"], progress["done"], progress["total"]) == ("done", 4, 4)  # 1 settlement, 1 base, 2 programmes
    download = fund.get(progress["download_url"])
    names = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert f"结算单/{submitted.number}.pdf" in names and len(names) == 4
    assert_error(client_for(shenzhen_fund).get(f"{API}/month-batches/{started.json()['id']}"), 404)
    assert_error(client_for(shenzhen_fund).get(progress["download_url"]), 404)
    assert MonthBatch.objects.get().archive.name.startswith("billing/month-batches/")


@pytest.mark.django_db
def test_public_verification_page_shows_totals_and_no_personal_data(submitted, client):
    page = client.get(verify_url(submitted).split("8000", 1)[1])
    text = page.content.decode()
    assert page.status_code == 200 and submitted.number in text and "¥10260.00" in text.replace(",", "")
    assert "王芳" not in text and "********" not in text
    assert client.get("/billing/verify/forged-token/").status_code == 404


@pytest.mark.django_db
def test_union_spending_standard_is_set_read_and_applied(world, booking, union_tree, users, client_for, shenzhen_fund):
    fund = client_for(users["dongguan_fund"])
    url = f"{API}/unions/{union_tree['dongguan'].pk}/funding-policy"
    assert fund.get(url).json()["effective_cost_standard_per_person_day"] is None

    put = fund.put(url, json.dumps({"cost_standard_per_person_day": "250.00"}), content_type="application/json")
    assert put.status_code == 200, put.content
    factory = fund.get(f"{API}/unions/{union_tree['factory'].pk}/funding-policy").json()
    assert factory["cost_standard_per_person_day"] is None
    assert (factory["effective_cost_standard_per_person_day"], factory["effective_from_union_id"]) == ("250.00", union_tree["dongguan"].pk)
    # ¥1,140 per member for 4 days against a ¥1,000 standard: each of 9 members pays ¥140, the family member ¥1,140.
    split = client_for(users["factory_organiser"]).get(f"{API}/bookings/{booking.pk}/cost-split").json()
    assert split["own_payment_fen"] == 9 * 14_000 + 114_000

    for bad in ({"cost_standard_per_person_day": "-1"}, {"cost_standard_per_person_day": "1.001"}, {"cost_standard_per_person_day": "abc"}, {}):
        assert_error(fund.put(url, json.dumps(bad), content_type="application/json"), 422)
    assert_error(client_for(shenzhen_fund).get(url), 404)
    assert_error(client_for(shenzhen_fund).put(url, json.dumps({"cost_standard_per_person_day": "1.00"}), content_type="application/json"), 404)
    assert_error(client_for(users["factory_organiser"]).put(url, json.dumps({"cost_standard_per_person_day": "1.00"}), content_type="application/json"), 403)
    assert fund.get(url).json()["cost_standard_per_person_day"] == "250.00"  # none of that changed it

    cleared = fund.put(url, json.dumps({"cost_standard_per_person_day": None}), content_type="application/json")
    assert cleared.status_code == 200 and cleared.json()["effective_cost_standard_per_person_day"] is None


@pytest.mark.django_db
def test_settlement_without_an_arrival_list_counts_the_check_ins(world, booking, users, client_for):
    from tests.billing.conftest import check_in_all

    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    check_in_all(booking, user=users["operator"], except_names=("张伟", "王芳"))
    created = post(client_for(users["operator"]), f"{API}/bookings/{booking.pk}/settlement", {"extras": []})
    assert created.status_code == 201, created.content
    settlement = Settlement.objects.get()
    assert settlement.arrived_count == 8
    assert sorted(settlement.arrivals.filter(arrived=False).values_list("participant__name", flat=True)) == ["张伟", "王芳"]
    assert set(settlement.arrivals.filter(arrived=True).values_list("nights", flat=True)) == {3}


@pytest.mark.django_db
def test_approving_what_was_read_refuses_a_settlement_resubmitted_since(world, submitted, users, client_for):
    fund = client_for(users["dongguan_fund"])
    url = f"{API}/settlements/{submitted.pk}"
    read = fund.get(url).json()["submitted_at"]
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in submitted.booking.batch.participants.all()]
    services.settlement_submit(
        actor=world["operator"], booking_id=submitted.booking_id, arrivals=arrivals, extras=[],
        now=NOW + dt.timedelta(minutes=5),
    )
    stale = post(fund, f"{url}/approve", {"submitted_at": read})
    assert_error(stale, 409)
    assert stale.json()["code"] == "settlement_changed"
    assert Settlement.objects.get(pk=submitted.pk).status == "submitted" and not LedgerEntry.objects.filter(kind="spend").exists()

    fresh = post(fund, f"{url}/approve", {"submitted_at": fund.get(url).json()["submitted_at"]})
    assert fresh.status_code == 200 and fresh.json()["status"] == "approved"


@pytest.mark.django_db
def test_month_batch_renders_on_a_process_pool(world, submitted, users, client_for, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    from retreat import pdf

    settings.MEDIA_ROOT = tmp_path
    settings.PDF_RENDER_PROCESSES = 2
    monkeypatch.setattr(pdf, "PARALLEL_MIN_DOCUMENTS", 1)
    fund = client_for(users["dongguan_fund"])
    with django_capture_on_commit_callbacks(execute=True):
        started = post(fund, f"{API}/month-batches", {"month": "2026-11"})
    progress = fund.get(f"{API}/month-batches/{started.json()['id']}").json()
    assert (progress["status"], progress["done"], progress["total"]) == ("done", 4, 4)
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(fund.get(progress["download_url"]).streaming_content)))
    assert all(bundle.read(name).startswith(b"%PDF") for name in bundle.namelist()) and len(bundle.namelist()) == 4
