"""Route pages: the public directory and route page, and the operator's routes, days and departures."""

import datetime as dt
from decimal import Decimal

import pytest

from bases.models import Route, RouteDay, RouteDeparture, RouteItem, Theme

pytestmark = pytest.mark.django_db


@pytest.fixture
def hot_spring(db):
    return Theme.objects.create(slug="hot-spring", name="温泉康养")


@pytest.fixture
def red_education(db):
    return Theme.objects.create(slug="red-education", name="红色教育")


def make_route(operator, title, *, nights, price="1280.00", published=True, themes=()) -> Route:
    """A route whose day ``n`` is spent at ``nights[n-1]`` (a room type, or None), plus a last day home."""
    route = Route.objects.create(operator=operator, title=title, price_per_head=Decimal(price), published=published)
    route.themes.set(themes)
    for number, room_type in enumerate([*nights, None], start=1):
        day = RouteDay.objects.create(route=route, number=number, night_base=room_type.base if room_type else None,
                                      night_room_type=room_type)
        RouteItem.objects.create(day=day, time=dt.time(9, 30), place=f"第{number}站", activity=f"活动{number}", meals="午餐")
    return route


@pytest.fixture
def routes(union_tree, heyuan_base, shaoguan_base, hot_spring, red_education, today):
    """A published Heyuan hot-spring route, a published Shaoguan one, and a draft."""
    heyuan_twin, shaoguan_view = heyuan_base.room_types.get(), shaoguan_base.room_types.get()
    heyuan = make_route(union_tree["operator"], "河源温泉康养三日游", nights=[heyuan_twin, heyuan_twin], themes=[hot_spring])
    shaoguan = make_route(union_tree["other_operator"], "韶关丹霞红色研学两日游", nights=[shaoguan_view], price="980.00",
                          themes=[red_education])
    draft = make_route(union_tree["operator"], "河源客家围屋草稿线路", nights=[heyuan_twin], published=False)
    RouteDeparture.objects.create(route=heyuan, date=today + dt.timedelta(days=10), seats=40, seats_held=35)
    RouteDeparture.objects.create(route=heyuan, date=today + dt.timedelta(days=20), seats=40)
    RouteDeparture.objects.create(route=shaoguan, date=today + dt.timedelta(days=12), seats=30, seats_booked=10)
    return {"heyuan": heyuan, "shaoguan": shaoguan, "draft": draft}


def listed(response) -> set[int]:
    page = response.content.decode()
    return {route.pk for route in Route.objects.all() if f'data-route="{route.pk}"' in page}


# --- the directory and the route page -----------------------------------------------------


def test_the_directory_lists_published_routes_and_filters_them(users, client_for, routes, today):
    client = client_for(users["dongguan_organiser"])
    heyuan, shaoguan = routes["heyuan"].pk, routes["shaoguan"].pk
    assert listed(client.get("/bases/routes/")) == {heyuan, shaoguan}
    assert listed(client.get("/bases/routes/", {"theme": "red-education"})) == {shaoguan}
    assert listed(client.get("/bases/routes/", {"region": "441600"})) == {heyuan}  # nights spent in Heyuan
    # Twenty free seats between day 5 and day 15: Heyuan's day-10 departure has only five, Shaoguan's has twenty.
    window = {"departing_from": today + dt.timedelta(days=5), "departing_until": today + dt.timedelta(days=15)}
    assert listed(client.get("/bases/routes/", {**window, "seats": 20})) == {shaoguan}
    assert listed(client.get("/bases/routes/", {**window, "seats": 5})) == {heyuan, shaoguan}
    assert listed(client.get("/bases/routes/", {"seats": 40})) == {heyuan}  # from today on: the day-20 departure
    page = client.get("/bases/routes/").content.decode()
    assert "河源" in page and "¥1,280.00" in page and "温泉康养" in page


def test_the_directory_explains_bad_filters_inline(users, client_for, routes, today):
    response = client_for(users["dongguan_organiser"]).get(
        "/bases/routes/", {"departing_from": today, "departing_until": today - dt.timedelta(days=1), "seats": 0}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "结束日期不能早于开始日期" in page and 'class="error"' in page
    assert client_for(users["dongguan_organiser"]).get("/bases/routes/", {"departing_from": "2026-02-30"}).status_code == 422


def test_drafts_show_only_to_their_operator(users, client_for, routes):
    draft = routes["draft"].pk
    assert draft not in listed(client_for(users["dongguan_organiser"]).get("/bases/routes/"))
    assert draft in listed(client_for(users["operator"]).get("/bases/routes/"))
    for user in ("dongguan_organiser", "other_operator"):
        assert client_for(users[user]).get(f"/bases/routes/{draft}/").status_code == 404
    assert client_for(users["operator"]).get(f"/bases/routes/{draft}/").status_code == 200


def test_the_route_page_shows_the_programme_nights_price_and_departures(users, client_for, routes, heyuan_base, today):
    route = routes["heyuan"]
    RouteDeparture.objects.create(route=route, date=today - dt.timedelta(days=3), seats=40)  # gone: not shown
    page = client_for(users["dongguan_organiser"]).get(f"/bases/routes/{route.pk}/").content.decode()
    for text in ("河源温泉康养三日游", "¥1,280.00", "第 1 天", "第 3 天", "09:30", "第2站", "活动2", "午餐", "标准双床房",
                 f'href="/bases/{heyuan_base.pk}/"', str(today + dt.timedelta(days=10)), str(today + dt.timedelta(days=20))):
        assert text in page, text
    assert str(today - dt.timedelta(days=3)) not in page
    assert page.count("data-departure=") == 2
    assert "编辑线路与日程" not in page  # only for the operator who runs it
    assert "编辑线路与日程" in client_for(users["operator"]).get(f"/bases/routes/{route.pk}/").content.decode()


def test_the_directories_link_to_the_routes(users, client_for):
    assert 'href="/bases/routes/"' in client_for(users["dongguan_organiser"]).get("/bases/").content.decode()
    assert 'href="/bases/routes/mine/"' in client_for(users["operator"]).get("/bases/mine/").content.decode()


# --- the operator's routes ---------------------------------------------------------------


def route_post(title="河源温泉康养三日游", price="1280.00", themes=(), days=(), initial=0) -> dict:
    data = {"title": title, "summary": "温泉与客家文化", "price_per_head": price, "themes": [t.pk for t in themes],
            "days-TOTAL_FORMS": len(days), "days-INITIAL_FORMS": initial, "days-MIN_NUM_FORMS": 0, "days-MAX_NUM_FORMS": 30}
    for index, (room_type, items) in enumerate(days):
        data[f"days-{index}-night_room_type"] = room_type.pk if room_type else ""
        data[f"days-{index}-items"] = items
    return data


def test_an_operator_creates_a_route_with_its_days_items_and_nights(users, client_for, heyuan_base, shaoguan_base, hot_spring):
    heyuan_twin, shaoguan_view = heyuan_base.room_types.get(), shaoguan_base.room_types.get()
    days = [
        (heyuan_twin, "09:00 | 河源市劳模馆 | 参观学习 | 午餐\n15:00 | 温泉 | 康养理疗 | 晚餐"),
        (shaoguan_view, "8:30 ｜ 丹霞山 ｜ 徒步"),
        (None, "10:00 | 返程 | 返回 | 早餐"),
        (None, ""),  # blank days at the end are left out
    ]
    response = client_for(users["operator"]).post("/bases/routes/new/", route_post(themes=[hot_spring], days=days))
    route = Route.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bases/routes/{route.pk}/departures/"
    assert (route.title, route.price_per_head, route.published, route.operator_id) == (
        "河源温泉康养三日游", Decimal("1280.00"), False, heyuan_base.operator_id,
    )
    assert list(route.themes.values_list("slug", flat=True)) == ["hot-spring"]
    assert [(d.number, d.night_base_id, d.night_room_type_id) for d in route.route_days.all()] == [
        (1, heyuan_base.pk, heyuan_twin.pk), (2, shaoguan_base.pk, shaoguan_view.pk), (3, None, None),
    ]
    assert [(i.time, i.place, i.activity, i.meals) for i in RouteItem.objects.filter(day__number=2)] == [
        (dt.time(8, 30), "丹霞山", "徒步", ""),
    ]


def test_bad_days_are_shown_next_to_the_day_and_nothing_is_saved(users, client_for, heyuan_base, draft_base, union_tree):
    operator = client_for(users["operator"])
    heyuan_twin = heyuan_base.room_types.get()
    bad_lines = [(heyuan_twin, "9点 | 温泉 | 康养\n只有地点")]
    response = operator.post("/bases/routes/new/", route_post(days=bad_lines))
    assert response.status_code == 422
    page = response.content.decode()
    assert "第 1 行：时间“9点”应为 时:分" in page and "第 2 行：应为“时间 | 地点 | 活动 | 餐食”" in page

    gap = [(heyuan_twin, "09:00 | 温泉 | 康养"), (None, ""), (None, "10:00 | 返程 | 返回")]
    response = operator.post("/bases/routes/new/", route_post(days=gap))
    assert response.status_code == 422 and "此日未填写" in response.content.decode()

    # Another operator's draft base is not one of the choices.
    hidden = [(draft_base.room_types.get(), "09:00 | 围屋 | 参观")]
    response = client_for(users["other_operator"]).post("/bases/routes/new/", route_post(days=hidden))
    assert response.status_code == 422 and 'class="error"' in response.content.decode()

    assert operator.post("/bases/routes/new/", route_post(price="-1", days=gap[:1])).status_code == 422
    assert not Route.objects.exists()


def test_only_operators_have_route_pages_of_their_own(users, client_for):
    organiser = client_for(users["dongguan_organiser"])
    assert organiser.get("/bases/routes/mine/").status_code == 403
    assert organiser.get("/bases/routes/new/").status_code == 403


def test_the_operator_lists_edits_and_publishes_its_routes(users, client_for, routes, heyuan_base):
    operator = client_for(users["operator"])
    assert listed(operator.get("/bases/routes/mine/")) == {routes["heyuan"].pk, routes["draft"].pk}

    draft = routes["draft"]
    edit_page = operator.get(f"/bases/routes/{draft.pk}/edit/").content.decode()
    assert "09:30 | 第1站 | 活动1 | 午餐" in edit_page  # the days come back as editable lines
    heyuan_twin = heyuan_base.room_types.get()
    days = [(heyuan_twin, "09:30 | 客家围屋 | 参观"), (heyuan_twin, "09:00 | 万绿湖 | 游船 | 午餐"), (None, "10:00 | 返程 | 返回")]
    response = operator.post(f"/bases/routes/{draft.pk}/edit/", route_post(title="河源客家围屋三日游", price="1080.00", days=days, initial=2))
    assert response.status_code == 302, response.content.decode()
    draft.refresh_from_db()
    assert (draft.title, draft.price_per_head, draft.days) == ("河源客家围屋三日游", Decimal("1080.00"), 3)

    published = operator.post(f"/bases/routes/{draft.pk}/publish/", {"published": "1", "next": "/bases/routes/mine/"})
    assert published.status_code == 302 and published["Location"] == "/bases/routes/mine/"
    draft.refresh_from_db()
    assert draft.published
    operator.post(f"/bases/routes/{draft.pk}/publish/", {"published": "0", "next": "https://evil.example/"})
    draft.refresh_from_db()
    assert not draft.published

    other = client_for(users["other_operator"])
    assert other.post(f"/bases/routes/{draft.pk}/publish/", {"published": "1"}).status_code == 404
    assert other.get(f"/bases/routes/{draft.pk}/edit/").status_code == 404
    assert other.get(f"/bases/routes/{draft.pk}/departures/").status_code == 404


def test_days_are_fixed_once_seats_are_taken(users, client_for, routes):
    route = routes["heyuan"]  # its day-10 departure has 35 seats held
    operator = client_for(users["operator"])
    page = operator.get(f"/bases/routes/{route.pk}/edit/").content.decode()
    assert "日程不能再修改" in page and "days-TOTAL_FORMS" not in page
    response = operator.post(f"/bases/routes/{route.pk}/edit/", {"title": "河源温泉康养三日游（升级版）", "summary": "", "price_per_head": "1380.00"})
    assert response.status_code == 302
    route.refresh_from_db()
    assert (route.title, route.price_per_head, route.days) == ("河源温泉康养三日游（升级版）", Decimal("1380.00"), 3)


def test_the_operator_adds_changes_and_deletes_departures_with_errors_inline(users, client_for, routes, today):
    route = routes["heyuan"]
    url = f"/bases/routes/{route.pk}/departures/"
    operator = client_for(users["operator"])

    added = operator.post(url, {"form": "add", "new-date": today + dt.timedelta(days=30), "new-seats": 45})
    assert added.status_code == 302
    new = route.departures.get(date=today + dt.timedelta(days=30))
    assert new.seats == 45

    past = operator.post(url, {"form": "add", "new-date": today - dt.timedelta(days=1), "new-seats": 45})
    assert past.status_code == 422 and "出发日期已过" in past.content.decode()
    duplicate = operator.post(url, {"form": "add", "new-date": today + dt.timedelta(days=30), "new-seats": 10})
    assert duplicate.status_code == 422 and "该日期已有团期" in duplicate.content.decode()
    assert operator.post(url, {"form": "add", "new-date": "", "new-seats": -3}).status_code == 422

    busy = route.departures.get(date=today + dt.timedelta(days=10))  # 35 seats held
    too_few = operator.post(url, {"form": "seats", "departure_id": busy.pk, f"seats-{busy.pk}-seats": 30})
    assert too_few.status_code == 422 and "缺 5 座" in too_few.content.decode()
    assert operator.post(url, {"form": "seats", "departure_id": new.pk, f"seats-{new.pk}-seats": 50}).status_code == 302
    new.refresh_from_db()
    assert new.seats == 50

    refused = operator.post(url, {"form": "delete", "departure_id": busy.pk})
    assert refused.status_code == 422 and "已有预订，不能删除" in refused.content.decode()
    assert operator.post(url, {"form": "delete", "departure_id": new.pk}).status_code == 302
    assert set(route.departures.values_list("date", flat=True)) == {today + dt.timedelta(days=10), today + dt.timedelta(days=20)}

    shaoguan_departure = routes["shaoguan"].departures.get()  # another operator's
    assert operator.post(url, {"form": "delete", "departure_id": shaoguan_departure.pk}).status_code == 404
    assert RouteDeparture.objects.filter(pk=shaoguan_departure.pk).exists()
