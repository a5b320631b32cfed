"""Unplaced reasons: stored as neutral clauses, shown in the reader's language, old bilingual rows converted."""

import importlib

import pytest

from itineraries import planning, planning_reasons
from itineraries.planning_reasons import reason_in_words
from tests.itineraries.planning.conftest import make_batch, propose, submit

API = "/api/v1/planning"
neutral_reason = importlib.import_module("itineraries.migrations.0002_neutral_unplaced_reasons").neutral_reason


@pytest.mark.parametrize(("clause", "chinese"), [
    ("no option has 6 beds free on any arrival 2031-05-01..2031-05-03", "意向基地在 2031-05-01 至 2031-05-03 的任何抵达日都没有 6 张空床"),
    ("not placed: lower score than the groups that took the capacity (best option base 河源温泉基地 would need 6 rooms "
     "on 2031-05-02, 2 free)", "名额已安排给得分更高的批次（首选「河源温泉基地」2031-05-02 需 6 间房，仅余 2）"),
    ("fund 东莞 (专项) has ¥1,000.00 left, option 韶关丹霞基地 needs ¥2,400.00",
     "专项经费「东莞 (专项)」仅余 ¥1,000.00，安排到「韶关丹霞基地」需 ¥2,400.00"),
    ("base 河源温泉基地 has fewer than 6 beds or 3 rooms on some night of every possible stay arriving 2031-05-01..2031-05-03",
     "「河源温泉基地」在 2031-05-01 至 2031-05-03 抵达的每种安排中，都有某晚空床不足 6 张或空房不足 3 间"),
    (planning_reasons.base_not_in_round_clause(12), "基地 #12 未参加本轮统筹"),
    (planning_reasons.no_base_in_region_clause("441600"), "地区 441600 无参加本轮的基地"),
    (planning_reasons.base_not_certified_clause("清远山水基地"), "清远山水基地 在该时段无有效认证"),
    (planning_reasons.base_lacks_rooms_clause("清远山水基地", accessible_rooms=2, room_mix={"2": 10, "1": 1}),
     "清远山水基地 无法满足房型需求：2 间无障碍房、1 间1床房、10 间2床房"),
    ("some clause nobody taught us", "some clause nobody taught us"),
])
def test_each_clause_is_shown_in_chinese(clause, chinese):
    assert reason_in_words(clause) == chinese


def test_a_reason_joins_its_clauses_in_the_readers_language():
    stored = planning.unplaced_reason(
        solver_reason="base B3 has 20 beds, the group needs 30; base B3 has 20 beds, the group needs 30",
        notes=[planning_reasons.base_not_in_round_clause(12)], names={"B3": "河源温泉基地"},
    )

    assert stored == "base 河源温泉基地 has 20 beds, the group needs 30; base #12 not in this round"
    assert reason_in_words(stored) == "「河源温泉基地」只有 20 张空床，该批次需 30 张；基地 #12 未参加本轮统筹"
    assert reason_in_words("") == ""


def test_the_api_and_the_page_show_the_reason_in_the_readers_language(
    world, open_round, union_tree, users, organiser, client_for
):
    batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title="大团", people=6)
    request = submit(actor=organiser, planning_round=open_round, batch=batch, people=6, rooms=3,
                     preferences=[{"base": world["heyuan"].pk}, {"city": "440100"}])
    propose(planning_round=open_round, placements={},
            unplaced={request: "no option has 6 beds free on any arrival 2031-05-01..2031-05-06"})
    client = client_for(users["factory_organiser"])

    chinese = client.get(f"{API}/requests/{request.pk}").json()["reason"]
    english = client.get(f"{API}/requests/{request.pk}", HTTP_ACCEPT_LANGUAGE="en").json()["reason"]
    page = client.get(f"/planning/{open_round.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert chinese == "意向基地在 2031-05-01 至 2031-05-06 的任何抵达日都没有 6 张空床；地区 440100 无参加本轮的基地"
    assert english == ("No preferred base has 6 beds free on any arrival from 2031-05-01 to 2031-05-06; "
                       "No base in region 440100 is part of this planning round")
    assert english in page


def test_the_migration_turns_bilingual_reasons_into_clauses():
    old = ("意向基地在 2031-05-01 至 2031-05-03 的任何抵达日都没有 6 张空床 (no option has 6 beds free on any arrival "
           "2031-05-01..2031-05-03)；名额已安排给得分更高的批次（首选「河源」2031-05-01 需 6 张床，仅余 2） (not placed: lower "
           "score than the groups that took the capacity (best option base 河源 would need 6 beds on 2031-05-01, 2 free))；"
           "fund F9 is not in the instance；基地 #12 未参加本轮统筹 (base not in this round)；"
           "清远 无法满足房型需求：2 间无障碍房、10 间2床房 (base 清远 lacks the required rooms)；"
           "清远 在该时段关闭或无空房 (base 清远 closed or full for these dates)")

    assert neutral_reason(old) == (
        "no option has 6 beds free on any arrival 2031-05-01..2031-05-03; "
        "not placed: lower score than the groups that took the capacity (best option base 河源 would need 6 beds on 2031-05-01, "
        "2 free); fund F9 is not in the instance; base #12 not in this round; "
        "base 清远 lacks the required rooms: 2 accessible rooms, 10 rooms of 2 beds; base 清远 closed or full for these dates"
    )
    assert neutral_reason(neutral_reason(old)) == neutral_reason(old)
    assert neutral_reason("") == "" and neutral_reason("测试原因") == "测试原因"
