"""Reads of the fund manager's work, every one scoped through ``groups.access``.

Fund managers and administrators see programmes of their union's subtree and
the settlements of bookings of that subtree; organisers see their bookings'
settlements and cost split; operators see the settlements of their bases.
Another tenant's object raises ``NotFound``.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _

from bases.models import Base
from billing import inputs, ledger
from billing.funding import compute_split
from billing.models import FundProgramme, LedgerEntry, MonthBatch, Settlement, UnionFundingPolicy
from billing.splits import split_as_json
from groups.access import Actor, Role, union_subtree_q
from groups.models import Booking, CheckIn, Organisation
from retreat.errors import NotFound, ValidationFailed

VERIFY_SALT = "billing.settlement.verify"


# ---------------------------------------------------------------- programmes


def programme_list(*, actor: Actor, active: bool | None = None) -> QuerySet[FundProgramme]:
    if not (actor.is_fund_manager or actor.is_admin):
        return FundProgramme.objects.none()
    programmes = FundProgramme.objects.filter(union_subtree_q(actor, "union")).select_related("union")
    if active is not None:
        programmes = programmes.filter(is_active=active)
    return programmes.order_by("order", "pk")


def programme_get(*, actor: Actor, programme_id: int) -> FundProgramme:
    programme = programme_list(actor=actor).filter(pk=programme_id).first()
    if programme is None:
        raise NotFound(_("专项经费不存在"), detail={"programme_id": programme_id})
    return programme


def union_for_programmes(*, actor: Actor, union_id: int) -> Organisation:
    union = Organisation.objects.filter(union_subtree_q(actor), pk=union_id).exclude(kind=Organisation.Kind.OPERATOR).first()
    if union is None:
        raise NotFound(_("工会不存在"), detail={"union_id": union_id})
    return union


@dataclass(frozen=True, kw_only=True)
class FundingPolicyView:
    """A union's own spending standard and the one that applies to its bookings (the nearest up the tree)."""

    union: Organisation
    cost_standard_per_person_day: Decimal | None
    effective_cost_standard_per_person_day: Decimal | None
    effective_from_union_id: int | None


def funding_policy_get(*, actor: Actor, union_id: int) -> FundingPolicyView:
    union = union_for_programmes(actor=actor, union_id=union_id)
    ancestry = union.ancestor_ids()
    policies = dict(UnionFundingPolicy.objects.filter(union_id__in=ancestry).values_list("union_id", "cost_standard_per_person_day"))
    nearest = next((pk for pk in reversed(ancestry) if pk in policies), None)
    return FundingPolicyView(
        union=union,
        cost_standard_per_person_day=policies.get(union.pk),
        effective_cost_standard_per_person_day=policies.get(nearest),
        effective_from_union_id=nearest,
    )


def ledger_entry_list(
    *, actor: Actor, programme_id: int | None = None, booking_id: int | None = None
) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.filter(programme__in=programme_list(actor=actor)).select_related("programme", "booking", "actor")
    if programme_id is not None:
        entries = entries.filter(programme_id=programme_id)
    if booking_id is not None:
        entries = entries.filter(booking_id=booking_id)
    return entries.order_by("-created_at", "-pk")


@dataclass(frozen=True, kw_only=True)
class UsagePoint:
    day: dt.date
    committed: Decimal
    spent: Decimal


def programme_usage(*, actor: Actor, programme_id: int) -> list[UsagePoint]:
    """Committed and spent at the end of each day that moved money, from the ledger."""
    programme = programme_get(actor=actor, programme_id=programme_id)
    committed = spent = Decimal("0.00")
    points: dict[dt.date, UsagePoint] = {}
    for entry in programme.entries.order_by("created_at", "pk").only("created_at", "committed_delta", "spent_delta"):
        committed += entry.committed_delta
        spent += entry.spent_delta
        day = entry.created_at.date()
        points[day] = UsagePoint(day=day, committed=committed, spent=spent)
    return list(points.values())


# ---------------------------------------------------------------- bookings


def booking_for_union(*, actor: Actor, booking_id: int) -> Booking:
    booking = (
        Booking.objects.filter(union_subtree_q(actor, "union"), pk=booking_id)
        .select_related("union", "base", "batch", "route_departure__route")
        .first()
    )
    if booking is None:
        raise NotFound(_("预订不存在"), detail={"booking_id": booking_id})
    return booking


def booking_for_operator(*, actor: Actor, booking_id: int) -> Booking:
    booking = None
    if actor.is_operator:
        booking = (
            Booking.objects.filter(pk=booking_id, base__operator=actor.organisation)
            .select_related("union", "base", "batch", "route_departure__route")
            .first()
        )
    if booking is None:
        raise NotFound(_("预订不存在"), detail={"booking_id": booking_id})
    return booking


def cost_split_preview(*, actor: Actor, booking_id: int) -> dict:
    """The split a booking would commit now: per programme, the union and each member, with explanations."""
    actor.require(Role.ORGANISER, Role.FUND_MANAGER, Role.ADMINISTRATOR)
    booking = booking_for_union(actor=actor, booking_id=booking_id)
    committed = ledger.committed_by_programme(booking_id=booking.pk)
    programmes = {
        programme.pk: programme
        for programme in FundProgramme.objects.filter(
            pk__in=set(inputs.programmes_for_booking(booking).values_list("pk", flat=True)) | set(committed)
        ).select_related("union")
    }
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
    return {"booking": booking, **split_as_json(split=split, people=people, programmes=programmes)}


@dataclass(frozen=True, kw_only=True)
class ArrivalRow:
    participant_id: int
    name: str
    id_masked: str
    category: str
    is_family: bool
    checked_in: bool
    nights: int


def settlement_prefill(*, actor: Actor, booking_id: int) -> list[ArrivalRow]:
    """The batch's list with who checked in (核销) ticked, for the operator's actuals form."""
    booking = booking_for_operator(actor=actor, booking_id=booking_id)
    checked_in = set(CheckIn.objects.filter(booking=booking).values_list("participant_id", flat=True))
    return [
        ArrivalRow(
            participant_id=participant.pk,
            name=participant.name,
            id_masked=participant.id_masked,
            category=participant.category,
            is_family=participant.is_family,
            checked_in=participant.pk in checked_in,
            nights=booking.nights if participant.pk in checked_in else 0,
        )
        for participant in booking.batch.participants.order_by("pk")
    ]


def bookings_to_settle(*, actor: Actor, today: dt.date) -> QuerySet[Booking]:
    """An operator's stays that began and still need actuals: no settlement yet, or one sent back."""
    if not actor.is_operator:
        return Booking.objects.none()
    return (
        Booking.objects.filter(base__operator=actor.organisation, status__in=Booking.DONE_OR_GOING, arrival__lte=today)
        .filter(Q(settlement__isnull=True) | Q(settlement__status=Settlement.Status.REJECTED))
        .select_related("union", "base", "settlement")
        .order_by("arrival", "pk")
    )


# ---------------------------------------------------------------- settlements


def _settlement_scope(actor: Actor) -> Q:
    if actor.is_operator:
        return Q(booking__base__operator=actor.organisation)
    return union_subtree_q(actor, "booking__union")


def settlement_list(
    *, actor: Actor, status: str | None = None, month: dt.date | None = None, base_id: int | None = None
) -> QuerySet[Settlement]:
    settlements = Settlement.objects.filter(_settlement_scope(actor)).select_related(
        "booking__union", "booking__base", "booking__batch", "submitted_by", "decided_by"
    )
    if status:
        settlements = settlements.filter(status=status)
    if month:
        settlements = settlements.filter(booking__arrival__year=month.year, booking__arrival__month=month.month)
    if base_id:
        settlements = settlements.filter(booking__base_id=base_id)
    return settlements


def settlement_get(*, actor: Actor, settlement_id: int) -> Settlement:
    settlement = settlement_list(actor=actor).filter(pk=settlement_id).first()
    if settlement is None:
        raise NotFound(_("结算单不存在"), detail={"settlement_id": settlement_id})
    return settlement


def settlement_for_decision(*, actor: Actor, settlement_id: int) -> Settlement:
    """A settlement this fund manager may decide: of their subtree, paid from a programme they answer for (if any)."""
    settlement = settlement_get(actor=actor, settlement_id=settlement_id)
    shares = settlement.shares.select_related("programme__union")
    if shares and not any(share.programme.union.path.startswith(actor.organisation.path) for share in shares):
        raise NotFound(_("结算单不存在"), detail={"settlement_id": settlement_id})
    return settlement


def settlements_of_month(*, actor: Actor, month: dt.date) -> QuerySet[Settlement]:
    return settlement_list(actor=actor, month=month).order_by("booking__base_id", "number")


def latest_settlement_month(*, actor: Actor) -> dt.date | None:
    """The first day of the latest month (by arrival, as statements count) with a settlement the actor sees; None if none."""
    latest = settlement_list(actor=actor).aggregate(latest=Max("booking__arrival"))["latest"]
    return latest.replace(day=1) if latest else None


def programmes_of_settlements(*, settlements: Sequence[Settlement]) -> QuerySet[FundProgramme]:
    return FundProgramme.objects.filter(settlement_shares__settlement__in=settlements).distinct().order_by("order", "pk")


def base_of_actor(*, actor: Actor, base_id: int) -> Base:
    """A base whose settlements the actor may see: their own base, or one their unions stayed at."""
    if actor.is_operator:
        base = Base.objects.filter(pk=base_id, operator=actor.organisation).first()
    else:
        base = Base.objects.filter(pk=base_id, bookings__settlement__in=settlement_list(actor=actor)).distinct().first()
    if base is None:
        raise NotFound(_("基地不存在"), detail={"base_id": base_id})
    return base


# ---------------------------------------------------------------- verification and month batches


def settlement_verify_token(settlement: Settlement) -> str:
    return signing.dumps({"settlement": settlement.pk}, salt=VERIFY_SALT)


def settlement_by_verify_token(*, token: str) -> Settlement:
    """The public check printed as a QR code: no login, no personal data."""
    try:
        settlement_id = signing.loads(token, salt=VERIFY_SALT)["settlement"]
    except (signing.BadSignature, KeyError, TypeError):
        raise NotFound(_("验证码无效")) from None
    settlement = Settlement.objects.select_related("booking__union", "booking__base").filter(pk=settlement_id).first()
    if settlement is None:
        raise NotFound(_("结算单不存在"))
    return settlement


def month_batch_get(*, actor: Actor, batch_id: int) -> MonthBatch:
    batch = MonthBatch.objects.filter(pk=batch_id, requested_by_id=actor.user_id).first()
    if batch is None:
        raise NotFound(_("批量任务不存在"), detail={"batch_id": batch_id})
    return batch


def month_batch_list(*, actor: Actor) -> QuerySet[MonthBatch]:
    return MonthBatch.objects.filter(requested_by_id=actor.user_id)


def parse_month(text: str) -> dt.date:
    """"2026-11" → 2026-11-01; anything else is a 422 saying so."""
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except (TypeError, ValueError):
        raise ValidationFailed(_("月份格式应为 YYYY-MM：%(value)s") % {"value": repr(text)}, detail={"month": text}) from None
