"""Structured explanations for every figure of a split, renderable in Chinese and English.

An explanation stores a rule code and parameters, not prose, so it can be saved
as JSON and printed later in either language. Parameter convention: names ending
in `_fen` are integer fen and print as money; everything else prints as given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from billing.funding.money import format_fen

Language = Literal["zh", "en"]


class Rule(StrEnum):
    # Cost lines: amount is the line's effect on cost (discounts negative).
    COST_LODGING = "cost.lodging"
    COST_MEALS = "cost.meals"
    COST_ROUTE_FEE = "cost.route_fee"
    COST_EXTRA = "cost.extra"
    COST_DISCOUNT_PERCENT = "cost.discount_percent"
    COST_DISCOUNT_FIXED = "cost.discount_fixed"
    # Booking only: part of the fixed discount larger than the whole bill.
    FIXED_DISCOUNT_UNUSED = "cost.fixed_discount_unused"
    # Booking only: per-booking extras are the union's own cost; no programme pays them.
    SHARED_COST_PAID_BY_UNION = "payer.shared_cost_union"

    # A programme that does not apply to the booking at all (amount 0).
    NOT_APPLICABLE_UNION = "programme.not_applicable.union"
    NOT_APPLICABLE_CERTIFICATION = "programme.not_applicable.certification"
    NOT_APPLICABLE_REGION = "programme.not_applicable.region"
    NOT_APPLICABLE_PERIOD = "programme.not_applicable.period"
    NOT_APPLICABLE_FRONT_LINE_SHARE = "programme.not_applicable.front_line_share"
    # Booking-level counts of the people a programme's person rules excluded (amount 0).
    EXCLUDED_FAMILY = "programme.excluded.family"
    EXCLUDED_REPEAT = "programme.excluded.repeat"
    FULL_FUNDING_UNION = "programme.full_funding_union"

    # A person a programme does not pay for (amount 0).
    NOT_ELIGIBLE_CATEGORY = "eligibility.category"
    NOT_ELIGIBLE_STAY_LENGTH = "eligibility.stay_length"
    NOT_ELIGIBLE_FAMILY = "eligibility.family"
    NOT_ELIGIBLE_REPEAT_FUNDED = "eligibility.repeat_funded"
    NOT_ELIGIBLE_REPEAT_ANY = "eligibility.repeat_any"
    FLAT_SUBSIDY_ALREADY_RECEIVED = "eligibility.flat_subsidy_already_received"
    NOTHING_LEFT_TO_PAY = "eligibility.nothing_left"

    # What the programme's rule would give a person before caps.
    CONTRIBUTION_COVER_COST = "contribution.cover_cost"
    CONTRIBUTION_FULL_FUNDING = "contribution.full_funding"
    CONTRIBUTION_FLAT_SUBSIDY = "contribution.flat_subsidy"
    CONTRIBUTION_MATCHING = "contribution.matching"

    # Caps: amount is how much the cap cut off.
    CAP_REMAINING_COST = "cap.remaining_cost"
    CAP_MATCHING_PER_HEAD = "cap.matching_per_head"
    CAP_PER_PERSON_DAY = "cap.per_person_day"
    CAP_PER_PERSON_YEAR = "cap.per_person_year"
    CAP_MATCHING_ALLOWANCE = "cap.matching_allowance"
    CAP_BALANCE = "cap.balance"

    # Final figures.
    PROGRAMME_SHARE = "share.programme"
    PROGRAMME_TOTAL = "share.programme_total"
    UNION_SHARE = "share.union"
    OWN_PAYMENT_ABOVE_STANDARD = "share.own_above_standard"
    OWN_PAYMENT_FAMILY = "share.own_family"


@dataclass(frozen=True, kw_only=True)
class Explanation:
    # The participant this line is about; None for the booking as a whole.
    person_key: str | None
    rule: Rule
    amount_fen: int
    programme_id: str | None = None
    params: Mapping[str, str | int] = field(default_factory=dict)

    def text(self, language: Language) -> str:
        zh, en = _TEMPLATES[self.rule]
        template = zh if language == "zh" else en
        values = {name: _param_text(name, value, language) for name, value in self.params.items()}
        return template.format(amount=format_fen(self.amount_fen), **values)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form for storing next to a settlement."""
        return {
            "person_key": self.person_key,
            "rule": self.rule.value,
            "amount_fen": self.amount_fen,
            "programme_id": self.programme_id,
            "params": dict(self.params),
        }


# Code-valued parameters printed as words: (Chinese, English) by code.
_CODE_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "certification_level": {"provincial": ("省级", "provincial"), "city": ("市级", "city")},
}


def _param_text(name: str, value: str | int, language: Language) -> str | int:
    if name.endswith("_fen"):
        return format_fen(value)
    words = _CODE_WORDS.get(name, {}).get(value) if isinstance(value, str) else None
    if words:
        return words[0] if language == "zh" else words[1]
    return value


def format_percent(part: int, whole: int) -> str:
    """part / whole as a percentage, cut (never rounded up) to one decimal: 9/11 → "81.8", 1/2 → "50"."""
    if whole <= 0:
        return "0"
    tenths = part * 1000 // whole
    whole_percent, tenth = divmod(tenths, 10)
    return f"{whole_percent}.{tenth}" if tenth else str(whole_percent)


def format_ratio(value: Fraction) -> str:
    """Fraction(1, 2) → "0.5"; Fraction(1, 3) → "1/3"; Fraction(1) → "1"."""
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    digits = str(abs(int(value * 10**places))).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}" if places else digits
    return f"-{text}" if value < 0 else text


_TEMPLATES: dict[Rule, tuple[str, str]] = {
    Rule.COST_LODGING: (
        "住宿（{room_type}）：每人每晚 {nightly_price_fen} × {nights} 晚 = {amount}",
        "Lodging ({room_type}): {nightly_price_fen} per person per night × {nights} nights = {amount}",
    ),
    Rule.COST_MEALS: (
        "餐费：每人每天 {meal_price_fen} × {days} 天 = {amount}",
        "Meals: {meal_price_fen} per person per day × {days} days = {amount}",
    ),
    Rule.COST_ROUTE_FEE: ("线路费：每人 {amount}", "Route fee: {amount} per head"),
    Rule.COST_EXTRA: ("附加项目「{name}」：{amount}", "Extra \u201c{name}\u201d: {amount}"),
    Rule.COST_DISCOUNT_PERCENT: (
        "基地优惠 {percent}%（按 {base_fen} 计）：{amount}",
        "Base discount {percent}% of {base_fen}: {amount}",
    ),
    Rule.COST_DISCOUNT_FIXED: (
        "基地定额优惠（全团 {fixed_fen}，按费用比例分摊）：{amount}",
        "Base fixed discount ({fixed_fen} for the booking, shared in proportion to cost): {amount}",
    ),
    Rule.FIXED_DISCOUNT_UNUSED: (
        "定额优惠超过全团费用，未使用 {amount}",
        "Fixed discount exceeds the whole bill; {amount} unused",
    ),
    Rule.SHARED_COST_PAID_BY_UNION: (
        "按团计费项目由工会自有资金支付：{amount}",
        "Per-booking charges paid from the union's own money: {amount}",
    ),
    Rule.NOT_APPLICABLE_UNION: (
        "{programme}：本团所属工会 {union_id} 不在资助范围",
        "{programme}: union {union_id} is not covered",
    ),
    Rule.NOT_APPLICABLE_CERTIFICATION: (
        "{programme}：基地认定级别（{certification_level}）不符合",
        "{programme}: base certification level ({certification_level}) not eligible",
    ),
    Rule.NOT_APPLICABLE_REGION: (
        "{programme}：基地所在地区（{county_code}/{city_code}）不在资助范围",
        "{programme}: base region ({county_code}/{city_code}) not eligible",
    ),
    Rule.NOT_APPLICABLE_PERIOD: (
        "{programme}：抵达日期 {arrival_date} 不在 {period_start} 至 {period_end} 之内",
        "{programme}: arrival {arrival_date} is outside {period_start} to {period_end}",
    ),
    Rule.NOT_APPLICABLE_FRONT_LINE_SHARE: (
        "{programme}：一线职工占比 {share}%（职工 {workers} 人中一线 {front_line} 人），低于本专项要求的 {min_percent}%，本团不予资助",
        "{programme}: front-line workers are {share}% ({front_line} of {workers} workers), below the {min_percent}% this programme requires; it pays nothing for this booking",
    ),
    Rule.EXCLUDED_FAMILY: (
        "{programme}：本专项不资助家属随行，本团家属 {count} 人不予资助（自费）",
        "{programme}: family members are excluded; {count} in this booking get nothing from it (they pay their own cost)",
    ),
    Rule.EXCLUDED_REPEAT: (
        "{programme}：{years} 年内不重复资助，本团 {count} 人自 {since} 起已参加过，不予资助",
        "{programme}: no repeat within {years} years; {count} people in this booking already went since {since} and get nothing from it",
    ),
    Rule.FULL_FUNDING_UNION: (
        "{programme}：工会 {union_id} 为全额资助单位",
        "{programme}: union {union_id} is fully funded",
    ),
    Rule.NOT_ELIGIBLE_CATEGORY: (
        "{programme}：人员类别「{category}」不在资助范围",
        "{programme}: participant category \u201c{category}\u201d not eligible",
    ),
    Rule.NOT_ELIGIBLE_STAY_LENGTH: (
        "{programme}：行程 {stay_days} 天，超过上限 {max_stay_days} 天",
        "{programme}: stay of {stay_days} days exceeds the limit of {max_stay_days} days",
    ),
    Rule.NOT_ELIGIBLE_FAMILY: (
        "{programme}：本专项不资助家属",
        "{programme}: family members are excluded",
    ),
    Rule.NOT_ELIGIBLE_REPEAT_FUNDED: (
        "{programme}：{years} 年内不重复资助，本人 {last_trip} 的疗休养已获本专项资助",
        "{programme}: no repeat within {years} years; this programme already funded this person's trip arriving {last_trip}",
    ),
    Rule.NOT_ELIGIBLE_REPEAT_ANY: (
        "{programme}：{years} 年内参加过疗休养的不予资助，本人 {last_trip} 已参加过",
        "{programme}: pays nothing for anyone who went on a retreat within {years} years; this person went on one arriving {last_trip}",
    ),
    Rule.FLAT_SUBSIDY_ALREADY_RECEIVED: (
        "{programme}：本年度已享受过定额补助",
        "{programme}: flat subsidy already received this year",
    ),
    Rule.NOTHING_LEFT_TO_PAY: (
        "{programme}：前序经费已付清，无剩余费用",
        "{programme}: nothing left to pay after earlier programmes",
    ),
    Rule.CONTRIBUTION_COVER_COST: (
        "{programme}：支付剩余费用 {amount}",
        "{programme}: pays the remaining cost {amount}",
    ),
    Rule.CONTRIBUTION_FULL_FUNDING: (
        "{programme}：全额资助剩余费用 {amount}",
        "{programme}: full funding of the remaining cost {amount}",
    ),
    Rule.CONTRIBUTION_FLAT_SUBSIDY: (
        "{programme}：定额补助每人每天 {per_day_fen} × {days} 天 = {amount}",
        "{programme}: flat subsidy {per_day_fen} per person per day × {days} days = {amount}",
    ),
    Rule.CONTRIBUTION_MATCHING: (
        "{programme}：按 {ratio}:1 配套，待付 {unpaid_fen} 中工会自付 {union_spend_fen}，配套 {amount}",
        "{programme}: matches {ratio}:1; of {unpaid_fen} unpaid the union spends {union_spend_fen}, matched {amount}",
    ),
    Rule.CAP_REMAINING_COST: (
        "{programme}：不超过剩余费用 {limit_fen}，核减 {amount}",
        "{programme}: limited to the remaining cost {limit_fen}, less {amount}",
    ),
    Rule.CAP_MATCHING_PER_HEAD: (
        "{programme}：配套每人上限 {limit_fen}，核减 {amount}",
        "{programme}: matching per-head cap {limit_fen}, less {amount}",
    ),
    Rule.CAP_PER_PERSON_DAY: (
        "{programme}：每人每天上限 {cap_per_day_fen} × {days} 天 = {limit_fen}，核减 {amount}",
        "{programme}: cap {cap_per_day_fen} per person per day × {days} days = {limit_fen}, less {amount}",
    ),
    Rule.CAP_PER_PERSON_YEAR: (
        "{programme}：每人每年上限 {cap_per_year_fen}，本年已付 {paid_this_year_fen}，尚可 {limit_fen}，核减 {amount}",
        "{programme}: yearly cap {cap_per_year_fen}, {paid_this_year_fen} paid this year, {limit_fen} left, less {amount}",
    ),
    Rule.CAP_MATCHING_ALLOWANCE: (
        "{programme}：配套总额度剩余 {allowance_fen}，本团申请 {requested_fen}，核减 {amount}",
        "{programme}: matching allowance left {allowance_fen}, requested {requested_fen}, less {amount}",
    ),
    Rule.CAP_BALANCE: (
        "{programme}：经费可用余额 {balance_fen} 不足（申请 {requested_fen}），核减 {amount}",
        "{programme}: available balance {balance_fen} is short of {requested_fen}, less {amount}",
    ),
    Rule.PROGRAMME_SHARE: ("{programme}承担：{amount}", "{programme} pays: {amount}"),
    Rule.PROGRAMME_TOTAL: ("{programme}本团合计：{amount}", "{programme} total for the booking: {amount}"),
    Rule.UNION_SHARE: ("工会自有资金承担：{amount}", "Union's own money: {amount}"),
    Rule.OWN_PAYMENT_ABOVE_STANDARD: (
        "超出标准每人每天 {standard_per_day_fen} × {days} 天 = {limit_fen} 的部分由个人承担：{amount}",
        "Above the standard of {standard_per_day_fen} per person per day × {days} days = {limit_fen}, paid by the member: {amount}",
    ),
    Rule.OWN_PAYMENT_FAMILY: ("家属自费：{amount}", "Family member pays their own cost: {amount}"),
}
