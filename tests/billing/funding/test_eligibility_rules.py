"""A programme's eligibility switches (front-line share, no repeat, family, stay length).

Default person: twin room ¥200 × 2 nights = ¥400, 3 stay days, front-line; arrival 2025-05-10.
A failed rule never raises: the programme pays nothing for those it excludes and the
next programme or the union pays, each step explained.
"""

from datetime import date

import pytest

from billing.funding import CoverCost, Eligibility, Matching, RepeatScope, Rule, compute_split
from billing.funding.explain import format_percent
from billing.funding.rules import years_before
from tests.billing.funding.builders import booking, person, programme


def split_of(participants, *programmes, **booking_overrides):
    return compute_split(booking=booking(**booking_overrides), participants=participants, programmes=list(programmes))


def workers(front_line: int, others: int, family: int = 0):
    people = [person(f"f{i}") for i in range(front_line)]
    people += [person(f"o{i}", category="manager") for i in range(others)]
    people += [person(f"fam{i}", category="family", is_family=True) for i in range(family)]
    return people


def lines(split, rule):
    return [line for line in split.explanations if line.rule is rule]


def person_lines(split, rule):
    return [line for p in split.participants for line in p.explanations if line.rule is rule]


# --- front-line share ----------------------------------------------------------------------


def test_a_booking_below_the_front_line_share_gets_nothing_from_that_programme_and_the_union_pays():
    strict = programme("strict", eligibility=Eligibility(min_front_line_percent=90))
    split = split_of(workers(9, 2), strict)  # 9 of 11 = 81.8 %
    (outcome,) = split.programmes
    assert not outcome.applicable and outcome.paid_fen == 0
    assert split.union_fen == split.total_cost_fen == 11 * 40000
    (line,) = lines(split, Rule.NOT_APPLICABLE_FRONT_LINE_SHARE)
    assert line.text("zh") == "经费strict：一线职工占比 81.8%（职工 11 人中一线 9 人），低于本专项要求的 90%，本团不予资助"
    assert "front-line workers are 81.8% (9 of 11 workers), below the 90% this programme requires" in line.text("en")


def test_the_share_counts_workers_only_and_exactly_the_minimum_passes():
    strict = programme("strict", eligibility=Eligibility(min_front_line_percent=90))
    split = split_of(workers(9, 1, family=3), strict)  # family not counted: 9 of 10 = 90 %
    (outcome,) = split.programmes
    assert outcome.applicable and outcome.paid_fen == 10 * 40000
    assert not lines(split, Rule.NOT_APPLICABLE_FRONT_LINE_SHARE)


def test_a_failed_share_rule_leaves_other_programmes_paying():
    strict = programme("strict", order=1, eligibility=Eligibility(min_front_line_percent=90))
    lenient = programme("lenient", order=2)
    split = split_of(workers(1, 1), strict, lenient)
    assert [o.paid_fen for o in split.programmes] == [0, 2 * 40000]
    assert split.union_fen == 0


def test_a_booking_of_family_only_fails_the_share_rule():
    strict = programme("strict", eligibility=Eligibility(min_front_line_percent=50))
    split = split_of(workers(0, 0, family=2), strict)
    assert not split.programmes[0].applicable
    assert lines(split, Rule.NOT_APPLICABLE_FRONT_LINE_SHARE)[0].params["workers"] == 0


@pytest.mark.parametrize(("part", "whole", "text"), [(9, 11, "81.8"), (1, 2, "50"), (899, 1000, "89.9"), (8999, 10000, "89.9"), (0, 5, "0"), (3, 3, "100")])
def test_percent_is_cut_never_rounded_up_to_the_minimum(part, whole, text):
    assert format_percent(part, whole) == text


# --- no repeat -----------------------------------------------------------------------------


def test_a_person_funded_within_the_years_gets_nothing_and_others_are_paid():
    rule = Eligibility(no_repeat_years=3)
    state = programme("p", eligibility=rule, earlier_trips={"f0": date(2023, 6, 1), "f1": date(2022, 5, 10)})
    split = split_of(workers(3, 0), state)
    shares = {p.person_key: p.share_of("p") for p in split.participants}
    # 2023-06-01 is after 2022-05-10 (three years before the arrival): a repeat; exactly three years is not.
    assert shares == {"f0": 0, "f1": 40000, "f2": 40000}
    (note,) = person_lines(split, Rule.NOT_ELIGIBLE_REPEAT_FUNDED)
    assert note.person_key == "f0"
    assert note.text("zh") == "经费p：3 年内不重复资助，本人 2023-06-01 的疗休养已获本专项资助"
    (summary,) = lines(split, Rule.EXCLUDED_REPEAT)
    assert summary.text("zh") == "经费p：3 年内不重复资助，本团 1 人自 2022-05-10 起已参加过，不予资助"
    assert split.participants[0].union_fen == 40000


def test_the_any_trip_scope_explains_itself_differently():
    rule = Eligibility(no_repeat_years=2, no_repeat_scope=RepeatScope.ANY)
    split = split_of([person("f0")], programme("p", eligibility=rule, earlier_trips={"f0": date(2024, 12, 1)}))
    (note,) = person_lines(split, Rule.NOT_ELIGIBLE_REPEAT_ANY)
    assert "went on one arriving 2024-12-01" in note.text("en")
    assert split.programmes_fen == 0


def test_earlier_trips_are_ignored_without_the_rule():
    split = split_of([person("f0")], programme("p", earlier_trips={"f0": date(2025, 1, 1)}))
    assert split.programmes_fen == 40000


def test_years_before_handles_29_february():
    assert years_before(date(2028, 2, 29), 3) == date(2025, 2, 28)
    assert years_before(date(2025, 5, 10), 3) == date(2022, 5, 10)


# --- family and stay length ----------------------------------------------------------------


def test_a_programme_excluding_family_names_them_and_the_money_is_unchanged():
    people = workers(2, 0, family=1)
    excluding = split_of(people, programme("p", eligibility=Eligibility(family_allowed=False)))
    allowing = split_of(people, programme("p"))
    assert [(p.share_of("p"), p.own_payment_fen) for p in excluding.participants] == [
        (p.share_of("p"), p.own_payment_fen) for p in allowing.participants
    ]
    (note,) = person_lines(excluding, Rule.NOT_ELIGIBLE_FAMILY)
    assert note.person_key == "fam0" and note.text("zh") == "经费p：本专项不资助家属"
    (summary,) = lines(excluding, Rule.EXCLUDED_FAMILY)
    assert "本团家属 1 人不予资助" in summary.text("zh")
    assert not person_lines(allowing, Rule.NOT_ELIGIBLE_FAMILY) and not lines(allowing, Rule.EXCLUDED_FAMILY)


def test_a_stay_over_the_limit_is_not_paid_by_that_programme_only():
    short = programme("short", order=1, eligibility=Eligibility(max_stay_days=3))
    matching = programme("match", order=2, contribution=Matching(ratio="1"))
    split = split_of([person("a", nights=2), person("b", nights=4)], short, matching)
    a, b = split.participants
    assert a.share_of("short") == 40000 and b.share_of("short") == 0
    assert b.share_of("match") == 40000  # 4 nights × ¥200 = ¥800, matched 1:1
    assert person_lines(split, Rule.NOT_ELIGIBLE_STAY_LENGTH)[0].params == {"programme": "经费short", "stay_days": 5, "max_stay_days": 3}


# --- defaults and bad rules ----------------------------------------------------------------


def test_the_new_switches_default_to_off():
    rule = Eligibility()
    assert (rule.min_front_line_percent, rule.no_repeat_years, rule.family_allowed) == (None, None, True)
    assert rule.no_repeat_scope is RepeatScope.PROGRAMME
    people = workers(1, 5, family=2)
    assert split_of(people, programme("p", contribution=CoverCost())).programmes_fen == 6 * 40000


@pytest.mark.parametrize(
    "bad", [{"min_front_line_percent": 0}, {"min_front_line_percent": 101}, {"no_repeat_years": 0}, {"no_repeat_scope": "ever"}]
)
def test_bad_switches_are_refused(bad):
    with pytest.raises(ValueError):
        Eligibility(**bad)
