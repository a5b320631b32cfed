"""Writes of the fund manager's work: programmes, booking commitments, settlements, month batches.

Every service is one transaction (the booking hooks run inside the caller's
transaction as a savepoint, so they can be called from the booking-confirm
service) and records the acting user. Programme balances move only through
``billing.ledger``.
"""

import datetime as dt
import hashlib
import logging
import tempfile
import zipfile
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import documents, inputs, ledger, selectors
from billing.funding import compute_split, fen_to_decimal, to_fen
from billing.models import (
    FundingAllocation,
    FundProgramme,
    LedgerEntry,
    MonthBatch,
    Settlement,
    SettlementArrival,
    SettlementEvent,
    SettlementExtra,
    SettlementShare,
    UnionFundingPolicy,
)
from billing.splits import split_as_json
from groups.access import Actor, Role, actor_of
from groups.models import Booking, Organisation, Participant
from retreat.errors import Conflict, ValidationFailed
from retreat.locking import locked_transaction
from retreat.pdf import html_to_pdf_many

logger = logging.getLogger(__name__)
Kind = LedgerEntry.Kind


# ---------------------------------------------------------------- programmes


@dataclass(frozen=True, kw_only=True)
class ProgrammeTerms:
    """Everything configurable about a programme (amounts in yuan, exact Decimals)."""

    name: str
    valid_from: dt.date
    valid_until: dt.date
    budget: Decimal
    contribution: str
    order: int = 100
    is_active: bool = True
    flat_amount_per_person_day: Decimal | None = None
    flat_once_per_year: bool = True
    matching_ratio: Decimal | None = None
    matching_cap_per_head: Decimal | None = None
    matching_total_cap: Decimal | None = None
    cap_per_person_day: Decimal | None = None
    cap_per_person_year: Decimal | None = None
    base_levels: list[str] = field(default_factory=list)
    base_region_prefixes: list[str] = field(default_factory=list)
    participant_categories: list[str] = field(default_factory=list)
    max_stay_days: int | None = None
    min_front_line_percent: int | None = None
    no_repeat_years: int | None = None
    no_repeat_scope: str = FundProgramme.RepeatScope.PROGRAMME
    family_allowed: bool = True
    fully_funded_union_ids: list[int] = field(default_factory=list)


_TERM_FIELDS = [name for name in ProgrammeTerms.__dataclass_fields__ if name != "fully_funded_union_ids"]
_OPTIONAL_TERMS = {name for name, spec in ProgrammeTerms.__dataclass_fields__.items() if "None" in str(spec.type)}


def programme_create(*, actor: Actor, union_id: int, terms: ProgrammeTerms, now: dt.datetime) -> FundProgramme:
    actor.require(Role.FUND_MANAGER, Role.ADMINISTRATOR)
    union = selectors.union_for_programmes(actor=actor, union_id=union_id)
    with transaction.atomic():
        programme = FundProgramme(
            union=union,
            **{name: getattr(terms, name) for name in _TERM_FIELDS},
            available=terms.budget,
            created_by_id=actor.user_id,
            created_at=now,
        )
        _check_programme(programme)
        programme.save()
        programme.fully_funded_unions.set(_fully_funded_unions(programme=programme, union_ids=terms.fully_funded_union_ids))
        inputs.programme_rules(programme)
    return programme


def programme_update(*, actor: Actor, programme_id: int, changes: dict[str, Any]) -> FundProgramme:
    """Change a programme's terms; a smaller budget may not fall below what is committed and spent."""
    actor.require(Role.FUND_MANAGER, Role.ADMINISTRATOR)
    selectors.programme_get(actor=actor, programme_id=programme_id)
    unknown = set(changes) - set(_TERM_FIELDS) - {"fully_funded_union_ids"}
    if unknown:
        raise ValidationFailed(_("不可修改的字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))}, detail=sorted(unknown))
    if emptied := sorted(name for name, value in changes.items() if value is None and name not in _OPTIONAL_TERMS):
        raise ValidationFailed(_("以下字段不能为空：%(fields)s") % {"fields": ", ".join(emptied)}, detail=emptied)
    with locked_transaction():
        programme = ledger.lock_programmes([programme_id])[programme_id]
        for name, value in changes.items():
            if name != "fully_funded_union_ids":
                setattr(programme, name, value)
        programme.available = programme.budget - programme.committed - programme.spent
        if programme.available < 0:
            raise Conflict(
                _("预算不能低于已承诺与已支出之和 %(used)s") % {"used": programme.committed + programme.spent},
                code="budget_below_use",
                detail={"committed": str(programme.committed), "spent": str(programme.spent)},
            )
        _check_programme(programme)
        programme.save()
        if "fully_funded_union_ids" in changes:
            programme.fully_funded_unions.set(
                _fully_funded_unions(programme=programme, union_ids=changes["fully_funded_union_ids"] or [])
            )
        inputs.programme_rules(programme)
    return programme


def programme_delete(*, actor: Actor, programme_id: int) -> None:
    """Only a programme that never moved money can go; otherwise deactivate it."""
    actor.require(Role.FUND_MANAGER, Role.ADMINISTRATOR)
    programme = selectors.programme_get(actor=actor, programme_id=programme_id)
    with transaction.atomic():
        if programme.entries.exists():
            raise Conflict(_("该专项经费已有台账记录，不能删除，请停用"))
        programme.delete()


def _check_programme(programme: FundProgramme) -> None:
    programme.full_clean(exclude=["union", "created_by"])
    unknown_levels = set(programme.base_levels) - {"provincial", "city"}
    unknown_categories = set(programme.participant_categories) - set(Participant.Category.values)
    bad_prefixes = [prefix for prefix in programme.base_region_prefixes if not (str(prefix).isdigit() and len(prefix) <= 6)]
    if unknown_levels or unknown_categories or bad_prefixes:
        raise ValidationFailed(
            _("资助条件有误"),
            detail={"base_levels": sorted(unknown_levels), "participant_categories": sorted(unknown_categories), "base_region_prefixes": bad_prefixes},
        )


def _fully_funded_unions(*, programme: FundProgramme, union_ids: Sequence[int]) -> list[Organisation]:
    unions = list(
        Organisation.objects.filter(pk__in=union_ids, path__startswith=programme.union.path).exclude(kind=Organisation.Kind.OPERATOR)
    )
    if len(unions) != len(set(union_ids)):
        missing = sorted(set(union_ids) - {union.pk for union in unions})
        raise ValidationFailed(
            _("全额资助单位须为本工会下属工会：%(missing)s") % {"missing": missing},
            detail={"fully_funded_union_ids": missing},
        )
    return unions


def funding_policy_set(*, actor: Actor, union_id: int, cost_standard_per_person_day: Decimal | None) -> UnionFundingPolicy | None:
    """Set a union's spending standard per person per day (above it members pay); None removes it.

    It applies to the union's bookings and those of unions below it without a standard of
    their own, from the next commitment or settlement on; what was committed stays.
    """
    actor.require(Role.FUND_MANAGER, Role.ADMINISTRATOR)
    union = selectors.union_for_programmes(actor=actor, union_id=union_id)
    with transaction.atomic():
        if cost_standard_per_person_day is None:
            UnionFundingPolicy.objects.filter(union=union).delete()
            return None
        policy = UnionFundingPolicy.objects.select_for_update().filter(union=union).first() or UnionFundingPolicy(union=union)
        policy.cost_standard_per_person_day = cost_standard_per_person_day
        try:
            policy.full_clean()
        except DjangoValidationError as error:
            raise ValidationFailed(
                _("费用标准须为非负金额，最多两位小数"),
                detail=error.message_dict,
            ) from None
        policy.save()
    return policy


# ---------------------------------------------------------------- booking hooks


@dataclass(frozen=True, kw_only=True)
class BookingFunding:
    """The split a booking's commitment was based on, and the entries that moved money."""

    split: dict[str, Any]
    entries: list[LedgerEntry]


def funding_commit_for_booking(*, booking: Booking, actor: Actor, now: dt.datetime) -> BookingFunding:
    """Commit each programme's share of a booking being confirmed.

    Call it inside the booking-confirm transaction. A programme whose balance
    cannot cover its share refuses the confirmation (409 naming the programme and
    the shortfall) and nothing changes. Calling it again changes nothing.
    """
    return _commit_split(booking=booking, actor=actor, now=now, kind=Kind.COMMITMENT, key=f"booking:{booking.pk}:commitment")


def funding_adjust_for_booking(*, booking: Booking, actor: Actor, now: dt.datetime) -> BookingFunding:
    """Recompute the commitment after a partial cancellation (fewer people, rooms or nights).

    Call it after the booking and its lines were changed, inside the same transaction.
    """
    lines = ",".join(
        f"{line.room_type_id}@{line.first_night}x{line.nights}:{line.rooms}r{line.people}p"
        for line in booking.lines.order_by("first_night", "room_type_id")
    )
    state = hashlib.sha256(f"{booking.people}|{booking.nights}|{booking.rooms}|{lines}".encode()).hexdigest()[:16]
    return _commit_split(booking=booking, actor=actor, now=now, kind=Kind.ADJUSTMENT, key=f"booking:{booking.pk}:adjustment:{state}")


def funding_release_for_booking(*, booking: Booking, actor: Actor, now: dt.datetime) -> list[LedgerEntry]:
    """Give every programme back what it committed for a cancelled booking."""
    with locked_transaction():
        if Settlement.objects.filter(booking=booking, status=Settlement.Status.APPROVED).exists():
            raise Conflict(
                _("预订 %(reference)s 已结算，经费不能释放") % {"reference": booking.reference}, code="already_settled"
            )
        committed = ledger.committed_by_programme(booking_id=booking.pk)
        ledger.lock_programmes(committed)
        postings = [
            ledger.Posting(
                programme_id=programme_id,
                booking_id=booking.pk,
                kind=Kind.RELEASE,
                committed_delta=-amount,
                idempotency_key=f"booking:{booking.pk}:release:programme:{programme_id}",
            )
            for programme_id, amount in sorted(committed.items())
        ]
        entries = ledger.post_entries(postings=postings, actor=actor, now=now)
        FundingAllocation.objects.filter(booking=booking).delete()
    return entries


def _commit_split(*, booking: Booking, actor: Actor, now: dt.datetime, kind: str, key: str) -> BookingFunding:
    with locked_transaction():
        # Posted before (a retried confirmation, or planning confirming what the booking
        # service already committed): change nothing, even if balances or other
        # bookings' caps moved since, so the ledger and the allocations stay as they were.
        replay = LedgerEntry.objects.filter(booking=booking, idempotency_key__startswith=f"{key}:").exists()
        committed = ledger.committed_by_programme(booking_id=booking.pk)
        candidate_ids = set(inputs.programmes_for_booking(booking).values_list("pk", flat=True)) | set(committed)
        programmes = ledger.lock_programmes(candidate_ids)
        people = inputs.booked_people(booking)
        split = compute_split(
            booking=inputs.booking_cost(booking=booking),
            participants=[person.cost for person in people],
            programmes=inputs.programme_states(
                programmes=list(programmes.values()),
                booking=booking,
                person_keys=[person.cost.person_key for person in people],
                own_commitments=committed,
            ),
        )
        if replay:
            return BookingFunding(split=split_as_json(split=split, people=people, programmes=programmes), entries=[])
        for outcome in split.programmes:
            if outcome.balance_shortfall_fen:
                programme = programmes[int(outcome.programme_id)]
                ledger.raise_shortfall(programme=programme, required_fen=to_fen(programme.available) + outcome.balance_shortfall_fen)
        target = {int(outcome.programme_id): fen_to_decimal(outcome.paid_fen) for outcome in split.programmes}
        postings = [
            ledger.Posting(
                programme_id=programme_id,
                booking_id=booking.pk,
                kind=kind,
                committed_delta=target.get(programme_id, ledger.ZERO) - committed.get(programme_id, ledger.ZERO),
                idempotency_key=f"{key}:programme:{programme_id}",
            )
            for programme_id in sorted(programmes)
            if target.get(programme_id, ledger.ZERO) != committed.get(programme_id, ledger.ZERO)
        ]
        entries = ledger.post_entries(postings=postings, actor=actor, now=now)
        stored = split_as_json(split=split, people=people, programmes=programmes)
        _replace_allocations(booking=booking, split=stored, programmes=programmes)
    return BookingFunding(split=stored, entries=entries)


def _replace_allocations(*, booking: Booking, split: dict[str, Any], programmes: dict[int, FundProgramme]) -> None:
    FundingAllocation.objects.filter(booking=booking).delete()
    FundingAllocation.objects.bulk_create(
        FundingAllocation(
            programme_id=int(programme_id),
            booking=booking,
            person_key=person["person_key"],
            year=booking.arrival.year,
            amount=fen_to_decimal(amount),
            is_flat_subsidy=programmes[int(programme_id)].contribution == FundProgramme.Contribution.FLAT_SUBSIDY,
        )
        for person in split["participants"]
        for programme_id, amount in person["shares"].items()
        if amount > 0
    )


# ---------------------------------------------------------------- settlements


@dataclass(frozen=True, kw_only=True)
class ArrivalActual:
    participant_id: int
    nights: int


@dataclass(frozen=True, kw_only=True)
class ExtraActual:
    name: str
    amount: Decimal
    basis: str = SettlementExtra.Basis.PER_BOOKING


def settlement_submit(
    *, actor: Actor, booking_id: int, arrivals: Sequence[ArrivalActual] | None, extras: Sequence[ExtraActual], now: dt.datetime
) -> Settlement:
    """The base's actuals of a stay: the split is recomputed on who came and what was delivered.

    ``arrivals=None`` takes them from the check-ins (核销): everyone checked in, for the
    booked nights. A rejected or still undecided settlement is replaced; an approved one is frozen.
    """
    actor.require(Role.OPERATOR)
    booking = selectors.booking_for_operator(actor=actor, booking_id=booking_id)
    if arrivals is None:
        arrivals = [
            ArrivalActual(participant_id=row.participant_id, nights=row.nights)
            for row in selectors.settlement_prefill(actor=actor, booking_id=booking_id)
            if row.checked_in
        ]
    if booking.status not in Booking.DONE_OR_GOING:
        raise Conflict(
            _("预订 %(reference)s 状态为「%(status)s」，不能结算")
            % {"reference": booking.reference, "status": booking.get_status_display()},
            code="not_settleable",
        )
    if booking.arrival > timezone.localdate(now):
        raise Conflict(_("预订 %(reference)s 尚未入住，不能结算") % {"reference": booking.reference}, code="stay_not_started")
    nights_by_participant = _validate_arrivals(booking=booking, arrivals=arrivals)
    _validate_extras(extras)

    with locked_transaction():
        existing = Settlement.objects.select_for_update().filter(booking=booking).first()
        if existing is not None and existing.is_frozen:
            raise Conflict(_("结算单 %(number)s 已批准，不能修改") % {"number": existing.number}, code="settlement_frozen")
        committed = ledger.committed_by_programme(booking_id=booking.pk)
        programmes = {
            programme.pk: programme
            for programme in FundProgramme.objects.filter(
                pk__in=set(inputs.programmes_for_booking(booking).values_list("pk", flat=True)) | set(committed)
            ).select_related("union")
        }
        people = inputs.arrived_people(booking=booking, nights_by_participant=nights_by_participant)
        split = compute_split(
            booking=inputs.booking_cost(
                booking=booking, extras=inputs.settlement_extras((extra.name, extra.amount, extra.basis) for extra in extras)
            ),
            participants=[person.cost for person in people],
            programmes=inputs.programme_states(
                programmes=list(programmes.values()),
                booking=booking,
                person_keys=[person.cost.person_key for person in people],
                own_commitments=committed,
            ),
        )
        stored = split_as_json(split=split, people=people, programmes=programmes)
        settlement = existing or Settlement(booking=booking, number=f"JS{booking.arrival:%Y%m}{booking.pk:06d}")
        settlement.status = Settlement.Status.SUBMITTED
        settlement.total_cost = fen_to_decimal(split.total_cost_fen)
        settlement.programmes_total = fen_to_decimal(split.programmes_fen)
        settlement.union_amount = fen_to_decimal(split.union_fen)
        settlement.own_payment = fen_to_decimal(split.own_payment_fen)
        settlement.arrived_count = len(people)
        settlement.split = stored
        settlement.submitted_by_id = actor.user_id
        settlement.submitted_at = now
        settlement.decided_by = None
        settlement.decided_at = None
        settlement.reject_reason = ""
        _require_storable(split.total_cost_fen)
        settlement.full_clean(exclude=["booking"])
        settlement.save()
        _store_actuals(settlement=settlement, booking=booking, split=stored, extras=extras)
        SettlementEvent.objects.create(
            settlement=settlement,
            action=SettlementEvent.Action.RESUBMIT if existing else SettlementEvent.Action.SUBMIT,
            actor_id=actor.user_id,
            at=now,
            detail=_totals(settlement),
        )
    return settlement


def _validate_arrivals(*, booking: Booking, arrivals: Sequence[ArrivalActual]) -> dict[int, int]:
    ids = [arrival.participant_id for arrival in arrivals]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(_("实到名单中有重复人员"), detail={"participant_ids": ids})
    known = set(booking.batch.participants.filter(pk__in=ids).values_list("pk", flat=True))
    if unknown := sorted(set(ids) - known):
        raise ValidationFailed(
            _("以下人员不属于本批次：%(ids)s") % {"ids": unknown}, detail={"participant_ids": unknown}
        )
    if wrong := [arrival.participant_id for arrival in arrivals if not 1 <= arrival.nights <= booking.nights]:
        raise ValidationFailed(
            _("实住晚数须在 1 至 %(nights)s 之间") % {"nights": booking.nights}, detail={"participant_ids": wrong}
        )
    if not booking.lines.exists():
        raise ValidationFailed(_("预订 %(reference)s 没有房型明细") % {"reference": booking.reference})
    return {arrival.participant_id: arrival.nights for arrival in arrivals}


# The largest amount a MONEY column holds (13 digits, 2 of them decimals).
MAX_AMOUNT = Decimal("99999999999.99")


def _require_storable(total_fen: int) -> None:
    if total_fen > to_fen(MAX_AMOUNT):
        raise ValidationFailed(
            _("结算总额 %(total)s 超出可记录的上限 %(max)s") % {"total": fen_to_decimal(total_fen), "max": MAX_AMOUNT},
            code="amount_too_large",
            detail={"total": str(fen_to_decimal(total_fen)), "max": str(MAX_AMOUNT)},
        )


def _validate_extras(extras: Sequence[ExtraActual]) -> None:
    for index, extra in enumerate(extras):
        if not extra.name.strip() or len(extra.name) > 60:
            raise ValidationFailed(_("附加项目 %(number)s 的名称须为 1–60 个字符") % {"number": index + 1}, detail={"extras": index})
        if not isinstance(extra.amount, Decimal) or not extra.amount.is_finite() or not 0 <= extra.amount <= MAX_AMOUNT:
            raise ValidationFailed(
                _("附加项目「%(name)s」金额须在 0 至 %(max)s 之间") % {"name": extra.name, "max": MAX_AMOUNT}, detail={"extras": index}
            )
        if extra.amount != extra.amount.quantize(Decimal("0.01")):
            raise ValidationFailed(
                _("附加项目「%(name)s」金额须为非负且最多两位小数") % {"name": extra.name},
                detail={"extras": index},
            )
        if extra.basis not in SettlementExtra.Basis.values:
            raise ValidationFailed(_("未知的计费方式：%(basis)s") % {"basis": extra.basis}, detail={"extras": index})


def _store_actuals(*, settlement: Settlement, booking: Booking, split: dict[str, Any], extras: Sequence[ExtraActual]) -> None:
    settlement.arrivals.all().delete()
    settlement.extras.all().delete()
    settlement.shares.all().delete()
    came = {person["participant_id"]: person for person in split["participants"]}
    SettlementArrival.objects.bulk_create(
        SettlementArrival(
            settlement=settlement,
            participant=participant,
            arrived=participant.pk in came,
            nights=came[participant.pk]["nights"] if participant.pk in came else 0,
            cost=fen_to_decimal(came[participant.pk]["cost_fen"]) if participant.pk in came else ledger.ZERO,
            programmes_amount=fen_to_decimal(came[participant.pk]["programmes_fen"]) if participant.pk in came else ledger.ZERO,
            union_amount=fen_to_decimal(came[participant.pk]["union_fen"]) if participant.pk in came else ledger.ZERO,
            own_payment=fen_to_decimal(came[participant.pk]["own_payment_fen"]) if participant.pk in came else ledger.ZERO,
        )
        for participant in booking.batch.participants.order_by("pk")
    )
    SettlementExtra.objects.bulk_create(
        SettlementExtra(settlement=settlement, name=extra.name.strip(), amount=extra.amount, basis=extra.basis) for extra in extras
    )
    SettlementShare.objects.bulk_create(
        SettlementShare(settlement=settlement, programme_id=row["programme_id"], amount=fen_to_decimal(row["paid_fen"]))
        for row in split["programmes"]
        if row["paid_fen"]
    )


def settlement_approve(
    *, actor: Actor, settlement_id: int, now: dt.datetime, expected_submitted_at: dt.datetime | None = None
) -> Settlement:
    """Turn the booking's commitments into spend, release the rest, and freeze the settlement.

    ``expected_submitted_at`` is the submission the fund manager looked at: if the base
    resubmitted since, the approval is refused rather than approving figures nobody checked.
    """
    actor.require(Role.FUND_MANAGER)
    undecided = selectors.settlement_for_decision(actor=actor, settlement_id=settlement_id)
    with locked_transaction():
        # The booking first (the order the booking services lock in), so a cancellation
        # racing this approval waits or is seen.
        booking = Booking.objects.select_for_update().get(pk=undecided.booking_id)
        settlement = Settlement.objects.select_for_update().get(pk=settlement_id)
        _require_undecided(settlement)
        if expected_submitted_at is not None and expected_submitted_at != settlement.submitted_at:
            raise Conflict(
                _("结算单 %(number)s 已于 %(submitted_at)s 重新提交，请核对后再批准")
                % {"number": settlement.number, "submitted_at": f"{timezone.localtime(settlement.submitted_at):%Y-%m-%d %H:%M:%S}"},
                code="settlement_changed",
                detail={"submitted_at": settlement.submitted_at.isoformat()},
            )
        if booking.status not in Booking.DONE_OR_GOING:
            raise Conflict(
                _("预订 %(reference)s 状态为「%(status)s」，结算单不能批准")
                % {"reference": booking.reference, "status": booking.get_status_display()},
                code="not_settleable",
                detail={"booking_status": booking.status},
            )
        shares = {share.programme_id: share.amount for share in settlement.shares.all()}
        committed = ledger.committed_by_programme(booking_id=booking.pk)
        programmes = ledger.lock_programmes(set(shares) | set(committed))
        postings = []
        for programme_id in sorted(programmes):
            share = shares.get(programme_id, ledger.ZERO)
            held = committed.get(programme_id, ledger.ZERO)
            key = f"settlement:{settlement.pk}:programme:{programme_id}"
            if share:
                postings.append(
                    ledger.Posting(
                        programme_id=programme_id,
                        booking_id=booking.pk,
                        settlement_id=settlement.pk,
                        kind=Kind.SPEND,
                        committed_delta=-min(held, share),
                        spent_delta=share,
                        idempotency_key=f"{key}:spend",
                    )
                )
            if held > share:
                postings.append(
                    ledger.Posting(
                        programme_id=programme_id,
                        booking_id=booking.pk,
                        settlement_id=settlement.pk,
                        kind=Kind.SETTLEMENT_RELEASE,
                        committed_delta=share - held,
                        idempotency_key=f"{key}:release",
                    )
                )
        ledger.post_entries(postings=postings, actor=actor, now=now)
        _replace_allocations(booking=booking, split=settlement.split, programmes=programmes)
        settlement.status = Settlement.Status.APPROVED
        settlement.decided_by_id = actor.user_id
        settlement.decided_at = now
        settlement.save(update_fields=["status", "decided_by", "decided_at"])
        SettlementEvent.objects.create(
            settlement=settlement, action=SettlementEvent.Action.APPROVE, actor_id=actor.user_id, at=now, detail=_totals(settlement)
        )
    return settlement


def settlement_reject(*, actor: Actor, settlement_id: int, reason: str, now: dt.datetime) -> Settlement:
    actor.require(Role.FUND_MANAGER)
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed(_("请填写退回原因（不超过 500 字）"), detail={"reason": reason[:50]})
    selectors.settlement_for_decision(actor=actor, settlement_id=settlement_id)
    with transaction.atomic():
        settlement = Settlement.objects.select_for_update().get(pk=settlement_id)
        _require_undecided(settlement)
        settlement.status = Settlement.Status.REJECTED
        settlement.decided_by_id = actor.user_id
        settlement.decided_at = now
        settlement.reject_reason = reason
        settlement.save(update_fields=["status", "decided_by", "decided_at", "reject_reason"])
        SettlementEvent.objects.create(
            settlement=settlement, action=SettlementEvent.Action.REJECT, actor_id=actor.user_id, at=now, reason=reason, detail=_totals(settlement)
        )
    return settlement


def _require_undecided(settlement: Settlement) -> None:
    if settlement.status == Settlement.Status.APPROVED:
        raise Conflict(_("结算单 %(number)s 已批准，不能再修改") % {"number": settlement.number}, code="settlement_frozen")
    if settlement.status == Settlement.Status.REJECTED:
        raise Conflict(
            _("结算单 %(number)s 已退回，待基地重新提交") % {"number": settlement.number}, code="settlement_rejected"
        )


def _totals(settlement: Settlement) -> dict[str, Any]:
    return {
        "total_cost": str(settlement.total_cost),
        "programmes_total": str(settlement.programmes_total),
        "union_amount": str(settlement.union_amount),
        "own_payment": str(settlement.own_payment),
        "arrived_count": settlement.arrived_count,
    }


# ---------------------------------------------------------------- month batches


def month_batch_start(*, actor: Actor, month: dt.date, now: dt.datetime) -> MonthBatch:
    """Queue the rendering of a month's settlement PDFs and statements (as the actor sees them)."""
    from billing.tasks import render_month_batch

    with transaction.atomic():
        batch = MonthBatch.objects.create(month=month.replace(day=1), requested_by_id=actor.user_id, created_at=now)
        transaction.on_commit(lambda: render_month_batch.delay(batch.pk))
    return batch


def month_batch_render(*, batch_id: int) -> MonthBatch:
    """Render every PDF of the batch's month into one zip, saving progress after each file.

    Progress is written outside any long transaction so pollers see it move.
    """
    batch = MonthBatch.objects.select_related("requested_by").get(pk=batch_id)
    actor = actor_of(batch.requested_by)
    settlements = list(selectors.settlements_of_month(actor=actor, month=batch.month))
    bases = sorted({settlement.booking.base for settlement in settlements}, key=lambda base: base.pk)
    programmes = list(selectors.programmes_of_settlements(settlements=settlements))
    MonthBatch.objects.filter(pk=batch.pk).update(status=MonthBatch.Status.RUNNING, total=len(settlements) + len(bases) + len(programmes), done=0)
    # (name in the zip, how to build its HTML): built lazily, one at a time, as the renderers ask.
    files = [(f"结算单/{settlement.number}.pdf", partial(documents.settlement_html, settlement=settlement)) for settlement in settlements]
    files += [
        (
            f"基地月结单/{base.pk}-{base.name}.pdf",
            partial(
                documents.base_statement_html,
                base=base,
                month=batch.month,
                settlements=[settlement for settlement in settlements if settlement.booking.base_id == base.pk],
            ),
        )
        for base in bases
    ]
    files += [
        (
            f"专项经费月结单/{programme.pk}-{programme.name}.pdf",
            partial(documents.programme_statement_html, programme=programme, month=batch.month, settlements=settlements),
        )
        for programme in programmes
    ]
    try:
        with tempfile.TemporaryFile() as archive:
            with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
                # The HTML is built in this process (database reads), the PDFs on every core (retreat.pdf).
                with closing(html_to_pdf_many((build() for _, build in files), expected=len(files))) as pdfs:
                    for pdf, (name, _build) in zip(pdfs, files):  # (not ``_``: that is gettext here)
                        bundle.writestr(name, pdf)
                        _advance(batch)
            archive.seek(0)
            batch.refresh_from_db()
            batch.archive.save(f"{batch.month:%Y-%m}-{batch.pk}.zip", File(archive), save=False)
        MonthBatch.objects.filter(pk=batch.pk).update(archive=batch.archive.name, status=MonthBatch.Status.DONE, finished_at=timezone.now())
    except Exception as error:
        logger.exception("month batch %s failed", batch.pk)
        MonthBatch.objects.filter(pk=batch.pk).update(status=MonthBatch.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now())
        raise
    batch.refresh_from_db()
    return batch


def _advance(batch: MonthBatch) -> None:
    MonthBatch.objects.filter(pk=batch.pk).update(done=F("done") + 1)
