"""Eligibility rules a union switches on per batch; pure, no database.

Each failed rule comes back as an ``EligibilityFailure`` whose message says, in
the active language, what the rule is, what was found and who is concerned. ``groups.selectors.batch_eligibility`` gathers the inputs.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# the same share arithmetic and year counting as the fund programmes' rules
from billing.funding.rules import FRONT_LINE, front_line_share_met, trip_days, years_before

FAMILY = "family"


@dataclass(frozen=True)
class EligibilityRules:
    min_front_line_percent: int | None = None
    no_repeat_years: int | None = None
    max_stay_days: int | None = None
    family_allowed: bool = True


@dataclass(frozen=True)
class Person:
    name: str
    category: str
    id_hash: str


@dataclass(frozen=True)
class EligibilityFailure:
    rule: str
    message: str
    people: list[str] = field(default_factory=list)


def check_eligibility(
    *,
    rules: EligibilityRules,
    people: list[Person],
    arrival: dt.date | None,
    nights: int,
    earlier_trips: dict[str, dt.date],
) -> list[EligibilityFailure]:
    """``earlier_trips`` maps an ID hash to the arrival of that person's latest trip in another batch
    (confirmed, checked in or completed)."""
    failures: list[EligibilityFailure] = []
    family = [person for person in people if person.category == FAMILY]
    workers = [person for person in people if person.category != FAMILY]

    if rules.min_front_line_percent is not None:
        front_line = sum(1 for person in workers if person.category == FRONT_LINE)
        if not front_line_share_met(rules.min_front_line_percent, front_line=front_line, workers=len(workers)):
            failures.append(
                EligibilityFailure(
                    rule="front_line_share",
                    message=_("一线职工占比须不低于 %(percent)s%%，当前职工 %(workers)s 人中一线 %(front_line)s 人") % {
                        "percent": rules.min_front_line_percent, "workers": len(workers), "front_line": front_line,
                    },
                )
            )

    if rules.no_repeat_years is not None and arrival is not None:
        since = years_before(arrival, rules.no_repeat_years)
        repeaters = [person for person in people if person.id_hash in earlier_trips and earlier_trips[person.id_hash] > since]
        if repeaters:
            names = [person.name for person in repeaters]
            failures.append(
                EligibilityFailure(
                    rule="no_repeat",
                    message=_("%(years)s 年内不得重复参加，%(count)s 人自 %(since)s 起已参加过：%(names)s") % {
                        "years": rules.no_repeat_years, "count": len(names), "since": since.isoformat(),
                        "names": _("、").join(names),
                    },
                    people=names,
                )
            )

    if rules.max_stay_days is not None and trip_days(nights) > rules.max_stay_days:
        failures.append(
            EligibilityFailure(
                rule="stay_length",
                message=_("行程最长 %(max_days)s 天（含路途），本批次 %(nights)s 晚即 %(days)s 天") % {
                    "max_days": rules.max_stay_days, "nights": nights, "days": trip_days(nights),
                },
            )
        )

    if not rules.family_allowed and family:
        names = [person.name for person in family]
        failures.append(
            EligibilityFailure(
                rule="family_not_allowed",
                message=_("本批次不允许家属随行，名单中有家属 %(count)s 人：%(names)s") % {
                    "count": len(names), "names": _("、").join(names),
                },
                people=names,
            )
        )
    return failures
