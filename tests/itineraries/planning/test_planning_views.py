"""The planning pages: admins create and run rounds, organisers submit and answer."""

from decimal import Decimal

from django.utils import timezone

from itineraries.models import PlanningRequest, PlanningRound
from tests.itineraries.planning.conftest import FIRST_NIGHT, make_batch, propose, submit


def test_admin_creates_a_round_from_the_page(world, union_tree, users, client_for):
    client = client_for(users["province_admin"])
    assert client.get("/planning/new/").status_code == 200
    response = client.post("/planning/new/", {
        "name": "七月统筹", "first_night": "2031-07-01", "last_night": "2031-07-31",
        "unions": [union_tree["dongguan"].pk], "bases": [world["heyuan"].pk, world["shaoguan"].pk],
        "programmes": [world["programme"].pk], "regional_balance": "maximin", "time_limit_seconds": "5",
        "workers": "1", "seed": "4",
    })
    planning_round = PlanningRound.objects.get()
    assert response.status_code == 302 and response.url == f"/planning/{planning_round.pk}/"
    assert planning_round.regional_balance == "maximin"
    page = client.get(response.url).content.decode()
    assert "七月统筹" in page and "开始征集需求" in page


def test_bad_form_input_shows_a_message(world, union_tree, users, client_for):
    client = client_for(users["province_admin"])
    response = client.post("/planning/new/", {"name": "x", "first_night": "2031-07-31", "last_night": "2031-07-01",
                                              "unions": [union_tree["dongguan"].pk], "bases": [world["heyuan"].pk]},
                           follow=True)
    assert response.status_code == 200
    assert "晚于末晚" in response.content.decode()
    assert not PlanningRound.objects.exists()
    english = client.post("/planning/new/", {"name": "x", "first_night": "2031-07-31", "last_night": "2031-07-01",
                                             "unions": [union_tree["dongguan"].pk], "bases": [world["heyuan"].pk]},
                          follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "The first night 2031-07-31 is after the last night 2031-07-01" in english.content.decode()
    assert not PlanningRound.objects.exists()


def test_organiser_submits_from_the_page_and_sees_only_their_requests(world, open_round, union_tree, users, client_for,
                                                                     sz_organiser):
    other = make_batch(union=union_tree["sz_enterprise"], user=users["shenzhen_organiser"], title="深圳团", people=4)
    submit(actor=sz_organiser, planning_round=open_round, batch=other, people=4, rooms=2, preferences=[{"base": world["heyuan"].pk}])
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="东莞一线团", people=6)
    client = client_for(users["factory_organiser"])
    response = client.post(f"/planning/{open_round.pk}/requests/", {
        "batch": batch.pk, "people": "6", "rooms": "3", "nights": "3", "earliest_arrival": "2031-05-01",
        "latest_arrival": "2031-05-04", "priority": "1", f"rank_{world['shaoguan'].pk}": "1",
        f"rank_{world['heyuan'].pk}": "2", "mix_2": "3",
    }, follow=True)
    request = PlanningRequest.objects.get(batch=batch)
    assert request.preferences == [{"base": world["shaoguan"].pk}, {"base": world["heyuan"].pk}]
    assert request.room_mix == {"2": 3}
    page = response.content.decode()
    assert "东莞一线团" in page and "深圳团" not in page


def test_round_page_shows_result_shares_and_answers(world, open_round, union_tree, users, client_for, organiser, admin):
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="东莞一线团", people=6)
    request = submit(actor=organiser, planning_round=open_round, batch=batch, people=6, rooms=3,
                     preferences=[{"base": world["heyuan"].pk}])
    propose(planning_round=open_round, placements={request: (world["heyuan"], FIRST_NIGHT)})
    admin_page = client_for(users["province_admin"]).get(f"/planning/{open_round.pk}/").content.decode()
    assert "各地市安排比例" in admin_page and "<svg" in admin_page and "东莞" in admin_page
    assert "发布方案" in admin_page

    client_for(users["province_admin"]).post(f"/planning/{open_round.pk}/action/", {"action": "publish"})
    organiser_client = client_for(users["factory_organiser"])
    assert "接受" in organiser_client.get(f"/planning/{open_round.pk}/").content.decode()
    organiser_client.post(f"/planning/requests/{request.pk}/answer/", {"answer": "decline"})
    request.refresh_from_db()
    assert request.status == PlanningRequest.Status.DECLINED


def test_pages_hide_other_tenants(open_round, users, client_for):
    assert client_for(users["dongguan_admin"]).get(f"/planning/{open_round.pk}/").status_code == 404
    assert client_for(users["factory_organiser"]).get("/planning/new/").status_code == 404
    response = client_for(users["factory_organiser"]).post(f"/planning/{open_round.pk}/action/", {"action": "publish"},
                                                           follow=True)
    assert "只有管理员可以管理统筹轮次" in response.content.decode()
    open_round.refresh_from_db()
    assert open_round.status == PlanningRound.Status.OPEN


def test_the_round_page_pages_and_filters_the_requests(world, open_round, union_tree, users, client_for, monkeypatch):
    from itineraries import planning_views

    monkeypatch.setattr(planning_views, "REQUESTS_PER_PAGE", 2)
    batches = [make_batch(union=union_tree["factory"], user=users["factory_organiser"], title=f"分页团{n}", people=2) for n in range(3)]
    requests = [PlanningRequest.objects.create(
        round=open_round, batch=batch, union=batch.union, people=2, rooms=1, nights=2, earliest_arrival=FIRST_NIGHT,
        latest_arrival=FIRST_NIGHT, preferences=[{"base": world["heyuan"].pk}], submitted_by=users["factory_organiser"],
        submitted_at=timezone.now(),
    ) for batch in batches]
    PlanningRequest.objects.filter(pk=requests[2].pk).update(status=PlanningRequest.Status.UNPLACED, reason="测试原因")
    admin = client_for(users["province_admin"])

    first = admin.get(f"/planning/{open_round.pk}/").content.decode()
    assert "需求（3）" in first and "分页团0" in first and "分页团2" not in first and "第 1 / 2 页" in first
    assert "分页团2" in admin.get(f"/planning/{open_round.pk}/?page=2").content.decode()
    unplaced = admin.get(f"/planning/{open_round.pk}/?status=unplaced").content.decode()
    assert "需求（1）" in unplaced and "分页团2" in unplaced and "分页团0" not in unplaced
    assert "未能安排 1" in unplaced
    assert admin.get(f"/planning/{open_round.pk}/?status=nonsense&page=99").status_code == 200


def test_the_new_round_form_shows_programme_balances_with_thousands_separators(world, users, client_for):
    assert world["programme"].available == Decimal("100000.00")
    client = client_for(users["province_admin"])
    page = client.get("/planning/new/").content.decode()
    assert "（可用 ¥100,000.00）" in page and "100000.00" not in page
    english = client.get("/planning/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "(¥100,000.00 available)" in english
