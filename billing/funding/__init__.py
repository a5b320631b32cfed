"""Pure funding-rule arithmetic: who pays what for a retreat booking, to the fen.

No Django here. A service builds these inputs from the database, calls
`compute_split`, and stores the resulting figures and explanations.
"""

from billing.funding.cost import BaseDiscount, BaseFacts, BookingCost, ExtraBasis, ExtraCharge, ParticipantCost
from billing.funding.explain import Explanation, Rule
from billing.funding.money import fen_to_decimal, format_fen, to_fen
from billing.funding.rules import (
    CertificationLevel,
    CoverCost,
    Eligibility,
    FlatSubsidy,
    Matching,
    ProgrammeRules,
    ProgrammeState,
    RepeatScope,
)
from billing.funding.split import ParticipantSplit, ProgrammeOutcome, ProgrammeShare, Split, compute_split

__all__ = [
    "BaseDiscount",
    "BaseFacts",
    "BookingCost",
    "CertificationLevel",
    "CoverCost",
    "Eligibility",
    "Explanation",
    "ExtraBasis",
    "ExtraCharge",
    "FlatSubsidy",
    "Matching",
    "ParticipantCost",
    "ParticipantSplit",
    "ProgrammeOutcome",
    "ProgrammeRules",
    "ProgrammeShare",
    "ProgrammeState",
    "RepeatScope",
    "Rule",
    "Split",
    "compute_split",
    "fen_to_decimal",
    "format_fen",
    "to_fen",
]
