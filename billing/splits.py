"""A computed split in the JSON form stored on a settlement and shown on pages and PDFs.

Explanations are kept as rule codes with parameters (``Explanation.as_dict``) so
they print in Chinese or English later; amounts are integer fen.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from billing.funding import Explanation, Rule, Split
from billing.funding.explain import Language
from billing.inputs import Person
from billing.models import FundProgramme


def split_as_json(*, split: Split, people: Sequence[Person], programmes: Mapping[int, FundProgramme]) -> dict[str, Any]:
    return {
        "total_fen": split.total_cost_fen,
        "programmes_fen": split.programmes_fen,
        "union_fen": split.union_fen,
        "own_payment_fen": split.own_payment_fen,
        "shared_cost_fen": split.shared_cost_fen,
        "programmes": [
            {
                "programme_id": int(outcome.programme_id),
                "name": programmes[int(outcome.programme_id)].name,
                "applicable": outcome.applicable,
                "fully_funded": outcome.fully_funded,
                "requested_fen": outcome.requested_fen,
                "paid_fen": outcome.paid_fen,
                "shortfall_fen": outcome.balance_shortfall_fen,
            }
            for outcome in split.programmes
        ],
        "participants": [
            {
                "participant_id": person.participant.pk if person.participant else None,
                "name": person.name,
                "id_masked": person.participant.id_masked if person.participant else "",
                "category": person.cost.category,
                "is_family": person.cost.is_family,
                "nights": person.cost.nights,
                "person_key": person.cost.person_key,
                "cost_fen": share.cost_fen,
                "shares": {share_.programme_id: share_.amount_fen for share_ in share.programme_shares},
                "programmes_fen": sum(share_.amount_fen for share_ in share.programme_shares),
                "union_fen": share.union_fen,
                "own_payment_fen": share.own_payment_fen,
                "explanations": [explanation.as_dict() for explanation in share.explanations],
            }
            for person, share in zip(people, split.participants)
        ],
        "explanations": [explanation.as_dict() for explanation in split.explanations],
    }


def explanation_texts(stored: Sequence[Mapping[str, Any]], language: Language = "zh") -> list[str]:
    """Stored explanation dicts as sentences in the given language."""
    return [
        Explanation(
            person_key=item["person_key"],
            rule=Rule(item["rule"]),
            amount_fen=item["amount_fen"],
            programme_id=item["programme_id"],
            params=item["params"],
        ).text(language)
        for item in stored
    ]

