import datetime as dt

from groups.eligibility import EligibilityRules, Person, check_eligibility

ARRIVAL = dt.date(2027, 3, 1)


def people(front_line: int, other: int, family: int = 0) -> list[Person]:
    return (
        [Person(f"一线{i}", "front_line", f"f{i}") for i in range(front_line)]
        + [Person(f"管理{i}", "manager", f"m{i}") for i in range(other)]
        + [Person(f"家属{i}", "family", f"h{i}") for i in range(family)]
    )


def check(rules, group, nights=3, earlier=None):
    return check_eligibility(rules=rules, people=group, arrival=ARRIVAL, nights=nights, earlier_trips=earlier or {})


def test_nothing_switched_on_passes_everyone():
    assert check(EligibilityRules(), people(0, 5, 3), nights=10) == []


def test_front_line_share_counts_workers_not_family():
    rules = EligibilityRules(min_front_line_percent=90)
    assert check(rules, people(9, 1, family=5)) == []
    [failure] = check(rules, people(8, 2))
    assert failure.rule == "front_line_share"
    assert "90%" in failure.message and "当前职工 10 人中一线 8 人" in failure.message


def test_repeat_within_n_years_names_the_people():
    rules = EligibilityRules(no_repeat_years=3)
    group = people(3, 0)
    earlier = {"f0": dt.date(2025, 5, 1), "f1": dt.date(2023, 5, 1)}  # f1 went before 2024-03-01: allowed
    [failure] = check(rules, group, earlier=earlier)
    assert failure.rule == "no_repeat" and failure.people == ["一线0"]
    assert "2024-03-01" in failure.message


def test_stay_length_counts_travel_days():
    rules = EligibilityRules(max_stay_days=5)
    assert check(rules, people(1, 0), nights=4) == []
    [failure] = check(rules, people(1, 0), nights=5)
    assert failure.rule == "stay_length" and "6 天" in failure.message


def test_family_not_allowed_lists_them():
    [failure] = check(EligibilityRules(family_allowed=False), people(2, 0, family=2))
    assert failure.rule == "family_not_allowed" and failure.people == ["家属0", "家属1"]


def test_all_failures_are_reported_together():
    rules = EligibilityRules(min_front_line_percent=100, max_stay_days=2, family_allowed=False)
    assert {f.rule for f in check(rules, people(1, 1, family=1))} == {"front_line_share", "stay_length", "family_not_allowed"}
