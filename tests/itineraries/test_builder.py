"""The itinerary layout, as plain data: no database."""

import datetime as dt

from itineraries.builder import Contact, LodgingLine, Place, ProgrammeDay, ProgrammeItem, StayFacts, Traveller, build_itinerary

HOT_SPRING = Place(base_id=1, name="河源温泉疗休养基地", address="河源市和平县温泉大道1号", contact_name="钟经理", contact_phone="0762-5551234", contact_email="")
LODGE = Place(base_id=2, name="万绿湖景区酒店", address="河源市东源县万绿湖", contact_name="叶主管", contact_phone="0762-5559876", contact_email="")
ORGANISER = Contact(kind="organiser", of="东莞某电子厂工会", name="周敏", phone="0769-22223333", email="")
TRAVELLERS = (Traveller(participant_id=1, name="张伟", gender="男", category="一线职工", employer="东莞某电子厂", room="301"),)


def stay(**changes) -> StayFacts:
    facts = dict(
        reference="BK000001",
        title="2025年劳模疗休养第一批",
        union_name="东莞某电子厂工会",
        arrival_place=HOT_SPRING,
        arrival=dt.date(2025, 5, 12),
        nights=3,
        people=22,
        lodging=(LodgingLine(place=HOT_SPRING, room_type="标准双床房", first_night=dt.date(2025, 5, 12), nights=3, rooms=11, people=22),),
        organiser=ORGANISER,
        travellers=TRAVELLERS,
    )
    return StayFacts(**{**facts, **changes})


def test_a_plain_stay_is_arrival_full_days_and_departure():
    itinerary = build_itinerary(stay())
    assert [day.date for day in itinerary.days] == [dt.date(2025, 5, d) for d in (12, 13, 14, 15)]
    assert itinerary.departure == dt.date(2025, 5, 15) and not itinerary.is_route
    first, middle, _, last = itinerary.days
    assert (first.is_arrival, first.headline, first.meals) == (True, "抵达 河源温泉疗休养基地", ("晚餐",))
    assert middle.meals == ("早餐", "午餐", "晚餐") and middle.headline == "第 2 天"
    assert (last.is_departure, last.meals, last.lodging) == (True, ("早餐",), ())
    assert last.headline == "离开 河源温泉疗休养基地，返程"
    assert [(lodging.place.name, lodging.room_type, lodging.rooms) for lodging in first.lodging] == [("河源温泉疗休养基地", "标准双床房", 11)]
    assert all(day.programme == () for day in itinerary.days)
    assert [c.name for c in itinerary.contacts] == ["钟经理", "周敏"]


def test_a_mix_of_room_types_lodges_on_every_night():
    lines = (
        LodgingLine(place=HOT_SPRING, room_type="标准双床房", first_night=dt.date(2025, 5, 12), nights=2, rooms=8, people=16),
        LodgingLine(place=HOT_SPRING, room_type="家庭房", first_night=dt.date(2025, 5, 12), nights=2, rooms=2, people=6),
    )
    itinerary = build_itinerary(stay(nights=2, lodging=lines))
    assert [len(day.lodging) for day in itinerary.days] == [2, 2, 0]


def test_a_route_follows_its_programme_and_changes_base():
    programme = (
        ProgrammeDay(number=1, items=(
            ProgrammeItem(time=dt.time(14, 0), place="和平县劳模馆", activity="参观劳模馆", meals="晚餐"),
            ProgrammeItem(time=dt.time(9, 30), place="东莞", activity="集合出发", meals=""),
        )),
        ProgrammeDay(number=2, items=(ProgrammeItem(time=dt.time(9, 0), place="万绿湖", activity="游湖", meals="早餐、午餐，晚餐"),)),
        ProgrammeDay(number=3, items=(ProgrammeItem(time=dt.time(8, 0), place="万绿湖", activity="返程", meals="早餐"),)),
    )
    lines = (
        LodgingLine(place=HOT_SPRING, room_type="标准双床房", first_night=dt.date(2025, 5, 12), nights=1, rooms=10, people=20),
        LodgingLine(place=LODGE, room_type="湖景双床房", first_night=dt.date(2025, 5, 13), nights=1, rooms=10, people=20),
    )
    itinerary = build_itinerary(stay(nights=2, lodging=lines, route_title="河源红色文化两晚游", programme=programme))
    assert itinerary.is_route and len(itinerary.days) == 3
    day1, day2, day3 = itinerary.days
    assert [item.activity for item in day1.programme] == ["集合出发", "参观劳模馆"]
    assert day1.meals == ("晚餐",) and day2.meals == ("早餐", "午餐", "晚餐")
    assert day1.lodging[0].place.name == "河源温泉疗休养基地" and day2.lodging[0].place.name == "万绿湖景区酒店"
    assert itinerary.departure_place == LODGE and day3.headline == "离开 万绿湖景区酒店，返程"
    assert [c.role for c in itinerary.contacts] == ["基地联系人 · 河源温泉疗休养基地", "基地联系人 · 万绿湖景区酒店", ORGANISER.role]


def test_a_route_longer_than_its_nights_keeps_every_programme_day():
    programme = tuple(ProgrammeDay(number=n, items=(ProgrammeItem(time=dt.time(9), place="p", activity=f"a{n}", meals=""),)) for n in (1, 2, 3, 4))
    itinerary = build_itinerary(stay(nights=2, programme=programme, route_title="r"))
    assert len(itinerary.days) == 4 and itinerary.departure == dt.date(2025, 5, 15)
