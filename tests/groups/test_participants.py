import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from groups.identity import decrypt_resident_id
from groups.models import Participant
from tests.groups.conftest import resident_id

pytestmark = pytest.mark.django_db
HEADER = ["姓名", "身份证号", "手机", "性别", "工作单位", "岗位", "类别", "随行职工身份证号"]


def csv_file(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def good_rows():
    worker = resident_id(sequence=1)
    return [
        ["张三", worker, "13800138000", "男", "东莞某电子厂", "装配工", "一线职工", ""],
        ["李梅", resident_id(sequence=2, female=True), "13800138001", "女", "东莞某电子厂", "质检员", "front_line", ""],
        ["张三妻", resident_id(sequence=3, female=True), "13800138002", "", "无", "", "家属", worker],
    ]


def upload(client, batch, content, name="list.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"/api/v1/batches/{batch.pk}/participants/import", {"file": SimpleUploadedFile(name, content)})


def test_csv_import_encrypts_and_links_family(users, batch, client_for):
    response = upload(client_for(users["factory_organiser"]), batch, csv_file(good_rows()))
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 3}
    wife = Participant.objects.get(name="张三妻")
    assert wife.family_of.name == "张三" and wife.gender == "F"
    assert wife.id_masked.startswith("440") and "*" in wife.id_masked
    assert decrypt_resident_id(wife.id_encrypted) == good_rows()[2][1]
    assert good_rows()[2][1] not in wife.id_encrypted


def test_bad_rows_are_all_reported_and_nothing_is_imported(users, batch, client_for):
    rows = good_rows()
    rows[0][1] = rows[0][1][:-1] + ("0" if rows[0][1][-1] != "0" else "1")  # check digit wrong (line 2)
    rows.append(["王五", resident_id(sequence=4, birth="19900230"), "12345", "男", "", "", "工程师", ""])  # line 5
    rows.append(["赵六", resident_id(sequence=2, female=True), "13800138003", "女", "某厂", "", "一线职工", ""])  # line 6
    rows.append(["钱七", resident_id(sequence=7), "13800138004", "女", "某厂", "", "一线职工", ""])  # line 7
    response = upload(client_for(users["factory_organiser"]), batch, csv_file(rows))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import_rejected"
    by_line = {row["line"]: " ".join(row["problems"]) for row in body["detail"]["rows"]}
    assert set(by_line) == {2, 4, 5, 6, 7}
    assert "校验位" in by_line[2]
    assert "随行职工" in by_line[4]  # their worker's row was bad
    assert "出生日期" in by_line[5] and "手机号" in by_line[5] and "工作单位" in by_line[5] and "类别" in by_line[5]
    assert "与第 3 行重复" in by_line[6]
    assert "性别与身份证号不符" in by_line[7]
    assert not Participant.objects.exists()
    assert rows[0][1] not in response.content.decode()


def test_xlsx_import_and_a_second_import_of_the_same_people_is_refused(users, batch, client_for):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in good_rows():
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = client_for(users["factory_organiser"])
    assert upload(client, batch, buffer.getvalue(), "名单.xlsx").status_code == 201
    again = upload(client, batch, buffer.getvalue(), "名单.xlsx")
    assert again.status_code == 422
    assert [row["line"] for row in again.json()["detail"]["rows"]] == [2, 3, 4]
    assert Participant.objects.count() == 3


def test_missing_columns_and_garbage_are_422(users, batch, client_for):
    client = client_for(users["factory_organiser"])
    assert upload(client, batch, "姓名,手机\n张三,13800138000\n".encode()).json()["code"] == "import_rejected"
    assert upload(client, batch, b"\x00\x01garbage", "x.xlsx").status_code == 422
    assert upload(client, batch, b"").status_code == 422


def test_export_shows_full_ids_only_to_the_batch_own_organiser(users, batch, client_for):
    upload(client_for(users["factory_organiser"]), batch, csv_file(good_rows()))
    number = good_rows()[0][1]
    own = client_for(users["factory_organiser"]).get(f"/api/v1/batches/{batch.pk}/participants/export?format=csv")
    assert own.status_code == 200 and number in own.content.decode("utf-8-sig")
    higher = client_for(users["dongguan_organiser"]).get(f"/api/v1/batches/{batch.pk}/participants/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(higher.content)).active
    ids = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert number not in ids and ids[0] == number[:3] + "*" * 11 + number[-4:]
    listed = client_for(users["dongguan_organiser"]).get(f"/api/v1/batches/{batch.pk}/participants").json()["items"]
    assert listed[0]["id_number"].count("*") == 11


def test_a_list_exported_in_english_imports_again(users, batch, client_for):
    client = client_for(users["factory_organiser"])
    upload(client, batch, csv_file(good_rows()))
    exported = client.get(f"/api/v1/batches/{batch.pk}/participants/export?format=csv", HTTP_ACCEPT_LANGUAGE="en")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row[3] for row in rows[1:]] == ["男", "女", "女"] and rows[1][6] == "一线职工"
    batch.participants.all().delete()
    again = upload(client, batch, exported.content)
    assert again.status_code == 201, again.content
    assert batch.participants.count() == 3


def test_formula_cells_are_neutralised_on_export(users, batch, client_for):
    rows = good_rows()
    rows[0][4] = "=HYPERLINK(\"http://x\")"
    upload(client_for(users["factory_organiser"]), batch, csv_file(rows))
    content = client_for(users["factory_organiser"]).get(f"/api/v1/batches/{batch.pk}/participants/export").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in content


def test_rooming_and_eligibility_endpoints(users, batch, twin, client_for):
    import json

    from groups import bookings
    from groups.access import actor_of
    from tests.groups.conftest import ARRIVAL, NOW

    client = client_for(users["factory_organiser"])
    upload(client, batch, csv_file(good_rows()))
    assert client.post(f"/api/v1/batches/{batch.pk}/rooming/propose").json()["code"] == "no_booking"
    bookings.booking_hold(actor=actor_of(users["factory_organiser"]), batch_id=batch.pk, base_id=twin.base_id, arrival=ARRIVAL,
                          nights=3, rooms=[bookings.RoomRequest(twin.pk, 2, 3)], now=NOW)
    proposed = client.post(f"/api/v1/batches/{batch.pk}/rooming/propose").json()
    rooms = {p["name"]: p["room_label"] for p in proposed}
    assert rooms["张三"] == rooms["张三妻"] != rooms["李梅"]
    ids = {p["name"]: p["participant_id"] for p in proposed}
    bad = [{"participant_id": ids["李梅"], "room_type_id": twin.pk, "room_label": rooms["张三"]}] + [
        {"participant_id": ids[n], "room_type_id": twin.pk, "room_label": rooms[n]} for n in ("张三", "张三妻")]
    refused = client.put(f"/api/v1/batches/{batch.pk}/rooming", json.dumps({"placements": bad}), content_type="application/json")
    assert refused.status_code == 422 and "超过 2 张床" in refused.json()["message"]
    batch.family_allowed = False
    batch.save()
    report = client.get(f"/api/v1/batches/{batch.pk}/eligibility").json()
    assert report["eligible"] is False and report["failures"][0]["people"] == ["张三妻"]


def test_unreadable_csv_lines_and_odd_ids_are_a_422_naming_the_line(users, batch, client_for):
    client = client_for(users["factory_organiser"])
    huge = csv_file(good_rows()[:1]) + ("王五," + "1" * 200_000 + ",13800138000,男,某厂,,一线职工,\n").encode()
    response = upload(client, batch, huge)
    assert response.status_code == 422 and response.json()["code"] == "import_rejected"
    assert response.json()["detail"]["rows"][0]["line"] == 3
    rows = good_rows()
    rows[1][1] = rows[1][1][:14] + "²" + rows[1][1][15:]  # a superscript two passes str.isdigit()
    response = upload(client, batch, csv_file(rows))
    assert response.status_code == 422
    assert [row["line"] for row in response.json()["detail"]["rows"]] == [3]
    assert not Participant.objects.exists()


def test_family_must_name_a_worker_other_than_themselves(users, batch, client_for):
    rows = good_rows()
    worker, wife = rows[0][1], rows[2][1]
    rows.append(["张三子", resident_id(sequence=5), "13800138005", "男", "无", "", "家属", wife])  # the wife is family herself
    rows.append(["李四", resident_id(sequence=6), "13800138006", "男", "无", "", "家属", resident_id(sequence=6)])  # himself
    response = upload(client_for(users["factory_organiser"]), batch, csv_file(rows))
    assert response.status_code == 422
    by_line = {row["line"]: " ".join(row["problems"]) for row in response.json()["detail"]["rows"]}
    assert set(by_line) == {5, 6}
    assert "不能是另一位家属" in by_line[5] and "不能是本人" in by_line[6]
    assert worker not in response.content.decode()
    assert not Participant.objects.exists()


def test_removing_a_person_before_check_in(users, batch, client_for):
    from django.utils import timezone

    from groups.models import Booking, CheckIn
    from tests.factories import BaseFactory, RoomTypeFactory

    client = client_for(users["factory_organiser"])
    upload(client, batch, csv_file(good_rows()))
    worker, colleague, wife = batch.participants.order_by("pk")
    url = f"/api/v1/batches/{batch.pk}/participants"
    refused = client.delete(f"{url}/{worker.pk}")
    assert refused.status_code == 409 and refused.json()["code"] == "family_listed" and "张三妻" in refused.json()["message"]
    assert client.delete(f"{url}/{wife.pk}").status_code == 204
    assert client.delete(f"{url}/{worker.pk}").status_code == 204
    assert client.delete(f"{url}/{worker.pk}").status_code == 404
    assert client_for(users["shenzhen_organiser"]).delete(f"{url}/{colleague.pk}").status_code == 404
    assert client_for(users["operator"]).delete(f"{url}/{colleague.pk}").status_code in (403, 404)
    assert list(batch.participants.values_list("name", flat=True)) == ["李梅"]
    # Once the group has checked in, the list is final.
    room_type = RoomTypeFactory(base=BaseFactory(operator=users["operator"].membership.organisation))
    booking = Booking.objects.create(reference="LXTEST", batch=batch, union=batch.union, base=room_type.base, arrival=batch.arrival,
                                     nights=3, people=1, rooms=1, status="checked_in", created_by=users["factory_organiser"])
    CheckIn.objects.create(booking=booking, participant=colleague, checked_in_by=users["operator"], at=timezone.now())
    final = client.delete(f"{url}/{colleague.pk}")
    assert final.status_code == 409 and final.json()["code"] == "list_final"
    assert batch.participants.count() == 1


def test_a_confirmed_booking_takes_no_more_people_than_its_places(users, batch, client_for):
    from groups.models import Booking
    from tests.factories import BaseFactory, RoomTypeFactory

    room_type = RoomTypeFactory(base=BaseFactory())
    Booking.objects.create(reference="LXCONF", batch=batch, union=batch.union, base=room_type.base, arrival=batch.arrival,
                           nights=3, people=2, rooms=1, status="confirmed", created_by=users["factory_organiser"])
    response = upload(client_for(users["factory_organiser"]), batch, csv_file(good_rows()))
    assert response.status_code == 409 and response.json()["code"] == "places_exceeded"
    assert "2" in response.json()["message"]
    assert not Participant.objects.exists()
    assert upload(client_for(users["factory_organiser"]), batch, csv_file(good_rows()[:2])).status_code == 201


def test_names_with_invisible_control_characters_are_refused(users, batch, client_for):
    rows = good_rows()
    rows[0][0] = "张\x01三"
    rows[1][4] = "东莞\u202e厂子电"  # a right-to-left override disguises the text
    response = upload(client_for(users["factory_organiser"]), batch, csv_file(rows))
    assert response.status_code == 422
    by_line = {row["line"]: " ".join(row["problems"]) for row in response.json()["detail"]["rows"]}
    assert "姓名含有不可见的控制字符" in by_line[2] and "工作单位含有不可见的控制字符" in by_line[3]
    assert not Participant.objects.exists()
