import json
import string
from fractions import Fraction

import pytest

from billing.funding import Explanation, ExtraBasis, ExtraCharge, FlatSubsidy, Matching, Rule, compute_split
from billing.funding.explain import _TEMPLATES, format_ratio
from tests.billing.funding.builders import booking, person, programme


def test_every_rule_has_a_chinese_and_an_english_template():
    assert set(_TEMPLATES) == set(Rule)


@pytest.mark.parametrize("rule", list(Rule))
def test_chinese_and_english_templates_use_the_same_parameters(rule):
    def fields(template):
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    zh, en = _TEMPLATES[rule]
    assert fields(zh) == fields(en)


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(1), "1"), (Fraction(1, 2), "0.5"), (Fraction(1, 3), "1/3"), (Fraction(25, 2), "12.5"), (Fraction(1, 20), "0.05"), (Fraction(-3, 4), "-0.75")],
)
def test_format_ratio(value, text):
    assert format_ratio(value) == text


def test_money_parameters_print_as_yuan():
    line = Explanation(
        person_key="p1",
        rule=Rule.CAP_PER_PERSON_DAY,
        amount_fen=10000,
        programme_id="prog",
        params={"programme": "东莞市疗休养专项", "cap_per_day_fen": 40000, "days": 5, "limit_fen": 200000},
    )
    assert line.text("zh") == "东莞市疗休养专项：每人每天上限 ¥400.00 × 5 天 = ¥2,000.00，核减 ¥100.00"
    assert line.text("en") == "东莞市疗休养专项: cap ¥400.00 per person per day × 5 days = ¥2,000.00, less ¥100.00"


def test_every_line_of_a_busy_split_renders_in_both_languages_and_stores_as_json():
    extras = (
        ExtraCharge(name="大巴", amount_fen=120000, basis=ExtraBasis.PER_BOOKING),
        ExtraCharge(name="非遗体验", amount_fen=3000, basis=ExtraBasis.PER_PERSON),
    )
    split = compute_split(
        booking=booking(extras=extras, meals_per_person_day_fen=6000, cost_standard_per_person_day_fen=15000),
        participants=[person("a", nights=4), person("b", is_family=True), person("c", category="office")],
        programmes=[
            programme("flat", order=1, contribution=FlatSubsidy(amount_per_person_day_fen=10000), flat_received=frozenset({"c"})),
            programme("match", order=2, contribution=Matching(ratio="0.5", cap_per_head_fen=5000), allowance=3000, balance=2000),
        ],
    )
    lines = [*split.explanations, *(line for p in split.participants for line in p.explanations)]
    assert {line.rule for line in lines} >= {
        Rule.COST_LODGING,
        Rule.COST_MEALS,
        Rule.COST_EXTRA,
        Rule.OWN_PAYMENT_ABOVE_STANDARD,
        Rule.OWN_PAYMENT_FAMILY,
        Rule.CONTRIBUTION_FLAT_SUBSIDY,
        Rule.FLAT_SUBSIDY_ALREADY_RECEIVED,
        Rule.CONTRIBUTION_MATCHING,
        Rule.CAP_MATCHING_PER_HEAD,
        Rule.CAP_MATCHING_ALLOWANCE,
        Rule.CAP_BALANCE,
        Rule.PROGRAMME_SHARE,
        Rule.PROGRAMME_TOTAL,
        Rule.UNION_SHARE,
        Rule.SHARED_COST_PAID_BY_UNION,
    }
    for line in lines:
        assert line.text("zh") and line.text("en")
    json.dumps([line.as_dict() for line in lines], ensure_ascii=False)


def test_a_certification_level_prints_as_a_word_not_its_code():
    line = Explanation(
        person_key=None, rule=Rule.NOT_APPLICABLE_CERTIFICATION, amount_fen=0, programme_id="prog",
        params={"programme": "省级定额补助", "certification_level": "city"},
    )
    assert line.text("zh") == "省级定额补助：基地认定级别（市级）不符合"
    assert line.text("en") == "省级定额补助: base certification level (city) not eligible"
    assert "（省级）" in Explanation(person_key=None, rule=Rule.NOT_APPLICABLE_CERTIFICATION, amount_fen=0,
                                   params={"programme": "p", "certification_level": "provincial"}).text("zh")
