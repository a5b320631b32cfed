"""Why a request was left unplaced: stored language-neutral, shown in the reader's language.

The solve runs in a Celery task, which has no reader, so ``PlanningRequest.reason``
holds canonical English clauses joined by ``"; "``: the solver's own (base and
fund ids replaced by names) and the notes ``planning_problem`` writes, built by
the ``*_clause`` functions here. ``reason_in_words`` matches each clause against
``_CLAUSES`` and renders it with gettext when the page or API answer is built;
a clause it does not know is shown as stored.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retreat.i18n import listed

CLAUSE_SEPARATOR = "; "


# --- the notes planning_problem writes (the solver writes its own clauses) ---------------


def base_not_in_round_clause(base_pk: int) -> str:
    return f"base #{base_pk} not in this round"


def no_base_in_region_clause(city_code: str) -> str:
    return f"no base of region {city_code} in this round"


def base_not_certified_clause(base_name: str) -> str:
    return f"base {base_name} not certified for these dates"


def base_closed_or_full_clause(base_name: str) -> str:
    return f"base {base_name} closed or full for these dates"


def base_lacks_rooms_clause(base_name: str, *, accessible_rooms: int, room_mix: dict[str, int]) -> str:
    needs = [f"{accessible_rooms} accessible rooms"] if accessible_rooms else []
    needs += [f"{count} rooms of {beds} beds" for beds, count in sorted(room_mix.items())]
    return f"base {base_name} lacks the required rooms: {', '.join(needs)}"


# --- reading -----------------------------------------------------------------------------

_DATES = r"(?P<first>\S+)\.\.(?P<last>\S+)"
_MONEY = r"-?¥[\d,.]+"
# (clause pattern, message); the pattern's group names are the message's placeholders.
_CLAUSES = [(re.compile(pattern), message) for pattern, message in (
    (rf"no option has (?P<beds>\d+) beds free on any arrival {_DATES}",
     gettext_lazy("意向基地在 %(first)s 至 %(last)s 的任何抵达日都没有 %(beds)s 张空床")),
    (rf"no option has (?P<rooms>\d+) rooms free on any arrival {_DATES}",
     gettext_lazy("意向基地在 %(first)s 至 %(last)s 的任何抵达日都没有 %(rooms)s 间空房")),
    (r"not placed: lower score than the groups that took the capacity "
     r"\(best option base (?P<base>.+) would need (?P<needed>\d+) beds on (?P<night>\S+), (?P<free>\d+) free\)",
     gettext_lazy("名额已安排给得分更高的批次（首选「%(base)s」%(night)s 需 %(needed)s 张床，仅余 %(free)s）")),
    (r"not placed: lower score than the groups that took the capacity "
     r"\(best option base (?P<base>.+) would need (?P<needed>\d+) rooms on (?P<night>\S+), (?P<free>\d+) free\)",
     gettext_lazy("名额已安排给得分更高的批次（首选「%(base)s」%(night)s 需 %(needed)s 间房，仅余 %(free)s）")),
    (r"not placed: ran out of search time before this group was tried", gettext_lazy("求解时间用完，尚未尝试安排该批次")),
    (rf"fund (?P<fund>.+) has (?P<left>{_MONEY}) left, option (?P<base>.+) needs (?P<needed>{_MONEY})",
     gettext_lazy("专项经费「%(fund)s」仅余 %(left)s，安排到「%(base)s」需 %(needed)s")),
    (r"base (?P<base>.+) has (?P<beds>\d+) beds, the group needs (?P<needed>\d+)",
     gettext_lazy("「%(base)s」只有 %(beds)s 张空床，该批次需 %(needed)s 张")),
    (r"base (?P<base>.+) has (?P<rooms>\d+) rooms, the group needs (?P<needed>\d+)",
     gettext_lazy("「%(base)s」只有 %(rooms)s 间空房，该批次需 %(needed)s 间")),
    (rf"base (?P<base>.+) has fewer than (?P<beds>\d+) beds or (?P<rooms>\d+) rooms on some night of every possible stay "
     rf"arriving {_DATES}",
     gettext_lazy("「%(base)s」在 %(first)s 至 %(last)s 抵达的每种安排中，都有某晚空床不足 %(beds)s 张或空房不足 %(rooms)s 间")),
    (rf"no (?P<nights>\d+)-night stay arriving {_DATES} lies inside the horizon (?P<start>\S+)\.\.(?P<end>\S+)",
     gettext_lazy("%(first)s 至 %(last)s 抵达的 %(nights)s 晚行程都超出统筹时段 %(start)s 至 %(end)s")),
    (r"base (?P<base>.+) closed on (?P<night>\S+) for every arrival in the window",
     gettext_lazy("「%(base)s」%(night)s 关闭，抵达窗口内的每种安排都受影响")),
    (r"base (?P<base>.+) closed on some night of every possible stay \((?P<first>\S+)\.\.(?P<last>\S+)\)",
     gettext_lazy("「%(base)s」在 %(first)s 至 %(last)s 间有关闭日期，窗口内的每种安排都受影响")),
    (r"the group lists no options", gettext_lazy("没有可安排的意向基地")),
    (r"base #(?P<base>\d+) not in this round", gettext_lazy("基地 #%(base)s 未参加本轮统筹")),
    (r"no base of region (?P<region>\S+) in this round", gettext_lazy("地区 %(region)s 无参加本轮的基地")),
    (r"base (?P<base>.+) not certified for these dates", gettext_lazy("%(base)s 在该时段无有效认证")),
    (r"base (?P<base>.+) closed or full for these dates", gettext_lazy("%(base)s 在该时段关闭或无空房")),
    (r"base (?P<base>.+) lacks the required rooms: (?P<needs>.+)", gettext_lazy("%(base)s 无法满足房型需求：%(needs)s")),
)]
_NEEDS = [
    (re.compile(r"(?P<count>\d+) accessible rooms"), gettext_lazy("%(count)s 间无障碍房")),
    (re.compile(r"(?P<count>\d+) rooms of (?P<beds>\d+) beds"), gettext_lazy("%(count)s 间%(beds)s床房")),
]


def _in_words(text: str, vocabulary) -> str:
    for pattern, message in vocabulary:
        match = pattern.fullmatch(text)
        if match:
            values = match.groupdict()
            if "needs" in values:  # a list of room needs, each put in words too
                values["needs"] = _("、").join(_in_words(need, _NEEDS) for need in values["needs"].split(", "))
            return str(message) % values
    return text


def reason_in_words(stored: str) -> str:
    """A stored reason in the active language; clauses it does not know are kept as they are."""
    if not stored:
        return ""
    return listed(_in_words(clause, _CLAUSES) for clause in stored.split(CLAUSE_SEPARATOR))
