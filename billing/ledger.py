"""The one writer of programme balances: append-only entries plus a guarded update.

Callers lock the programmes first (``lock_programmes``, primary-key order, inside
``retreat.locking.locked_transaction``) so the split they compute sees settled
balances; ``post_entries`` then moves each balance with
``UPDATE ... SET available = available - x WHERE id = ... AND available >= x``
and refuses the whole posting with a ``Conflict`` naming the programme and the
shortfall when a balance would go negative. The CHECK constraints on
``FundProgramme`` are the backstop behind both.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from billing.funding import format_fen, to_fen
from billing.models import FundProgramme, LedgerEntry
from groups.access import Actor
from retreat.errors import Conflict

ZERO = Decimal("0.00")


@dataclass(frozen=True, kw_only=True)
class Posting:
    programme_id: int
    booking_id: int
    kind: str
    committed_delta: Decimal
    spent_delta: Decimal = ZERO
    idempotency_key: str
    settlement_id: int | None = None

    @property
    def available_decrease(self) -> Decimal:
        return self.committed_delta + self.spent_delta


def lock_programmes(programme_ids: Iterable[int]) -> dict[int, FundProgramme]:
    """Lock the programmes' rows in primary-key order and return them fresh."""
    rows = FundProgramme.objects.filter(pk__in=set(programme_ids)).order_by("pk").select_for_update()
    return {programme.pk: programme for programme in rows}


def committed_by_programme(*, booking_id: int) -> dict[int, Decimal]:
    """What each programme has committed (not yet spent or released) for one booking."""
    rows = (
        LedgerEntry.objects.filter(booking_id=booking_id)
        .values("programme_id")
        .annotate(committed=Sum("committed_delta"))
    )
    return {row["programme_id"]: row["committed"] for row in rows if row["committed"]}


def post_entries(*, postings: Sequence[Posting], actor: Actor, now: datetime) -> list[LedgerEntry]:
    """Append the postings and move the balances, all or nothing.

    A posting whose idempotency key is already in the ledger was applied before
    and is skipped, so a retried request changes nothing.
    """
    keys = [posting.idempotency_key for posting in postings]
    if len(set(keys)) != len(keys):
        raise ValueError("an idempotency key appears twice in one posting")
    already_posted = {
        entry["idempotency_key"]: entry
        for entry in LedgerEntry.objects.filter(idempotency_key__in=keys).values(
            "idempotency_key", "programme_id", "booking_id", "kind", "committed_delta", "spent_delta"
        )
    }
    for posting in postings:
        entry = already_posted.get(posting.idempotency_key)
        if entry is not None and (
            entry["programme_id"], entry["booking_id"], entry["kind"], entry["committed_delta"], entry["spent_delta"]
        ) != (posting.programme_id, posting.booking_id, posting.kind, posting.committed_delta, posting.spent_delta):
            # A replay must repeat the original; a different movement under the same key is a bug or a
            # stale retry, and silently skipping it would leave the balance short of what was meant.
            raise Conflict(
                _("台账幂等键 %(key)s 已用于另一笔记录") % {"key": posting.idempotency_key},
                code="idempotency_key_reused",
                detail={"idempotency_key": posting.idempotency_key},
            )
    fresh = [posting for posting in postings if posting.idempotency_key not in already_posted]
    with transaction.atomic():
        for posting in sorted(fresh, key=lambda posting: posting.programme_id):
            _move_balance(posting)
        return LedgerEntry.objects.bulk_create(
            LedgerEntry(
                programme_id=posting.programme_id,
                booking_id=posting.booking_id,
                settlement_id=posting.settlement_id,
                kind=posting.kind,
                committed_delta=posting.committed_delta,
                spent_delta=posting.spent_delta,
                actor_id=actor.user_id,
                idempotency_key=posting.idempotency_key,
                created_at=now,
            )
            for posting in fresh
        )


def _move_balance(posting: Posting) -> None:
    decrease = posting.available_decrease
    moved = FundProgramme.objects.filter(pk=posting.programme_id, available__gte=decrease).update(
        committed=F("committed") + posting.committed_delta,
        spent=F("spent") + posting.spent_delta,
        available=F("available") - decrease,
    )
    if not moved:
        programme = FundProgramme.objects.get(pk=posting.programme_id)
        raise_shortfall(programme=programme, required_fen=to_fen(decrease))


def raise_shortfall(*, programme: FundProgramme, required_fen: int) -> None:
    available_fen = to_fen(programme.available)
    shortfall_fen = required_fen - available_fen
    raise Conflict(
        _("专项经费「%(programme)s」余额不足：需 %(required)s，可用 %(available)s，缺口 %(shortfall)s")
        % {
            "programme": programme.name,
            "required": format_fen(required_fen),
            "available": format_fen(available_fen),
            "shortfall": format_fen(shortfall_fen),
        },
        code="programme_overdrawn",
        detail={
            "programme_id": programme.pk,
            "programme": programme.name,
            "required": format_fen(required_fen),
            "available": format_fen(available_fen),
            "shortfall": format_fen(shortfall_fen),
        },
    )


@dataclass(frozen=True, kw_only=True)
class BalanceDifference:
    programme_id: int
    programme: str
    column: str
    stored: Decimal
    from_entries: Decimal


def reconcile() -> list[BalanceDifference]:
    """Every programme's balance columns against the sum of its ledger entries."""
    sums = {
        row["programme_id"]: row
        for row in LedgerEntry.objects.values("programme_id").annotate(
            committed=Sum("committed_delta"), spent=Sum("spent_delta")
        )
    }
    differences = []
    for programme in FundProgramme.objects.order_by("pk"):
        row = sums.get(programme.pk, {})
        committed = row.get("committed") or ZERO
        spent = row.get("spent") or ZERO
        expected = {
            "committed": committed,
            "spent": spent,
            "available": programme.budget - committed - spent,
        }
        for column, from_entries in expected.items():
            stored = getattr(programme, column)
            if stored != from_entries:
                differences.append(
                    BalanceDifference(
                        programme_id=programme.pk, programme=programme.name, column=column, stored=stored, from_entries=from_entries
                    )
                )
    return differences
