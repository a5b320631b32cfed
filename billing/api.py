"""/api/v1/billing: programmes, the ledger, cost splits, settlements, statements and month batches."""

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate

from billing import documents, selectors, services
from billing.schemas import (
    ApproveIn,
    ArrivalRowOut,
    FundingPolicyIn,
    FundingPolicyOut,
    LedgerEntryOut,
    LedgerFilter,
    MonthBatchOut,
    MonthIn,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePatch,
    RejectIn,
    SettlementDetailOut,
    SettlementFilter,
    SettlementIn,
    SettlementOut,
    SplitOut,
    UsagePointOut,
)
from groups.access import actor_of
from retreat.errors import NotFound
from retreat.pagination import BoundedPagination
from retreat.schemas import ERRORS

router = Router(tags=["billing"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------- programmes


@router.get("/programmes", response={200: list[ProgrammeOut], **ERRORS})
@paginate(BoundedPagination)
def programme_list(request, active: bool | None = None):
    return selectors.programme_list(actor=actor_of(request.user), active=active)


@router.post("/programmes", response={201: ProgrammeOut, **ERRORS})
def programme_create(request, payload: ProgrammeIn):
    terms = services.ProgrammeTerms(**payload.dict(exclude={"union_id"}))
    programme = services.programme_create(actor=actor_of(request.user), union_id=payload.union_id, terms=terms, now=timezone.now())
    return 201, programme


@router.get("/programmes/{programme_id}", response={200: ProgrammeOut, **ERRORS})
def programme_detail(request, programme_id: int):
    return selectors.programme_get(actor=actor_of(request.user), programme_id=programme_id)


@router.patch("/programmes/{programme_id}", response={200: ProgrammeOut, **ERRORS})
def programme_update(request, programme_id: int, payload: ProgrammePatch):
    return services.programme_update(
        actor=actor_of(request.user), programme_id=programme_id, changes=payload.dict(exclude_unset=True)
    )


@router.delete("/programmes/{programme_id}", response={204: None, **ERRORS})
def programme_delete(request, programme_id: int):
    services.programme_delete(actor=actor_of(request.user), programme_id=programme_id)
    return 204, None


@router.get("/programmes/{programme_id}/usage", response={200: list[UsagePointOut], **ERRORS})
def programme_usage(request, programme_id: int):
    return selectors.programme_usage(actor=actor_of(request.user), programme_id=programme_id)


@router.get("/programmes/{programme_id}/statement.pdf", response={200: None, **ERRORS})
def programme_statement(request, programme_id: int, month: str):
    actor = actor_of(request.user)
    month_start = selectors.parse_month(month)
    programme = selectors.programme_get(actor=actor, programme_id=programme_id)
    settlements = list(selectors.settlements_of_month(actor=actor, month=month_start))
    pdf = documents.programme_statement_pdf(programme=programme, month=month_start, settlements=settlements)
    return _file(pdf, "application/pdf", f"programme-{programme.pk}-{month}.pdf")


@router.get("/ledger", response={200: list[LedgerEntryOut], **ERRORS})
@paginate(BoundedPagination)
def ledger_entry_list(request, filters: Query[LedgerFilter]):
    return selectors.ledger_entry_list(actor=actor_of(request.user), **filters.dict())


@router.get("/unions/{union_id}/funding-policy", response={200: FundingPolicyOut, **ERRORS})
def funding_policy_detail(request, union_id: int):
    """A union's spending standard per person per day: above it a member pays the difference."""
    return selectors.funding_policy_get(actor=actor_of(request.user), union_id=union_id)


@router.put("/unions/{union_id}/funding-policy", response={200: FundingPolicyOut, **ERRORS})
def funding_policy_update(request, union_id: int, payload: FundingPolicyIn):
    actor = actor_of(request.user)
    services.funding_policy_set(actor=actor, union_id=union_id, cost_standard_per_person_day=payload.cost_standard_per_person_day)
    return selectors.funding_policy_get(actor=actor, union_id=union_id)


# ---------------------------------------------------------------- bookings


@router.get("/bookings/{booking_id}/cost-split", response={200: SplitOut, **ERRORS})
def cost_split(request, booking_id: int):
    return selectors.cost_split_preview(actor=actor_of(request.user), booking_id=booking_id)


@router.get("/bookings/{booking_id}/settlement-prefill", response={200: list[ArrivalRowOut], **ERRORS})
def settlement_prefill(request, booking_id: int):
    return selectors.settlement_prefill(actor=actor_of(request.user), booking_id=booking_id)


@router.post("/bookings/{booking_id}/settlement", response={201: SettlementOut, **ERRORS})
def settlement_submit(request, booking_id: int, payload: SettlementIn):
    settlement = services.settlement_submit(
        actor=actor_of(request.user),
        booking_id=booking_id,
        arrivals=None if payload.arrivals is None else [services.ArrivalActual(**arrival.dict()) for arrival in payload.arrivals],
        extras=[services.ExtraActual(**extra.dict()) for extra in payload.extras],
        now=timezone.now(),
    )
    return 201, settlement


# ---------------------------------------------------------------- settlements


@router.get("/settlements", response={200: list[SettlementOut], **ERRORS})
@paginate(BoundedPagination)
def settlement_list(request, filters: Query[SettlementFilter]):
    month = selectors.parse_month(filters.month) if filters.month else None
    return selectors.settlement_list(actor=actor_of(request.user), status=filters.status, month=month)


@router.get("/settlements/{settlement_id}", response={200: SettlementDetailOut, **ERRORS})
def settlement_detail(request, settlement_id: int):
    return selectors.settlement_get(actor=actor_of(request.user), settlement_id=settlement_id)


@router.post("/settlements/{settlement_id}/approve", response={200: SettlementOut, **ERRORS})
def settlement_approve(request, settlement_id: int, payload: ApproveIn | None = None):
    services.settlement_approve(
        actor=actor_of(request.user),
        settlement_id=settlement_id,
        now=timezone.now(),
        expected_submitted_at=payload.submitted_at if payload else None,
    )
    return selectors.settlement_get(actor=actor_of(request.user), settlement_id=settlement_id)


@router.post("/settlements/{settlement_id}/reject", response={200: SettlementOut, **ERRORS})
def settlement_reject(request, settlement_id: int, payload: RejectIn):
    services.settlement_reject(actor=actor_of(request.user), settlement_id=settlement_id, reason=payload.reason, now=timezone.now())
    return selectors.settlement_get(actor=actor_of(request.user), settlement_id=settlement_id)


@router.get("/settlements/{settlement_id}/pdf", response={200: None, **ERRORS})
def settlement_pdf(request, settlement_id: int):
    settlement = selectors.settlement_get(actor=actor_of(request.user), settlement_id=settlement_id)
    return _file(documents.settlement_pdf(settlement=settlement), "application/pdf", f"{settlement.number}.pdf")


# ---------------------------------------------------------------- statements and exports


@router.get("/statements/bases/{base_id}.pdf", response={200: None, **ERRORS})
def base_statement(request, base_id: int, month: str):
    actor = actor_of(request.user)
    month_start = selectors.parse_month(month)
    base = selectors.base_of_actor(actor=actor, base_id=base_id)
    settlements = list(selectors.settlements_of_month(actor=actor, month=month_start))
    return _file(documents.base_statement_pdf(base=base, month=month_start, settlements=settlements), "application/pdf", f"base-{base.pk}-{month}.pdf")


@router.get("/exports/settlements.xlsx", response={200: None, **ERRORS})
def export_xlsx(request, month: str):
    settlements = list(selectors.settlements_of_month(actor=actor_of(request.user), month=selectors.parse_month(month)))
    return _file(documents.settlements_xlsx(settlements=settlements, title=month), XLSX, f"settlements-{month}.xlsx")


@router.get("/exports/settlements.csv", response={200: None, **ERRORS})
def export_csv(request, month: str):
    settlements = list(selectors.settlements_of_month(actor=actor_of(request.user), month=selectors.parse_month(month)))
    return _file(documents.settlements_csv(settlements=settlements), "text/csv; charset=utf-8", f"settlements-{month}.csv")


# ---------------------------------------------------------------- month batches


@router.post("/month-batches", response={202: MonthBatchOut, **ERRORS})
def month_batch_start(request, payload: MonthIn):
    batch = services.month_batch_start(actor=actor_of(request.user), month=selectors.parse_month(payload.month), now=timezone.now())
    return 202, batch


@router.get("/month-batches/{batch_id}", response={200: MonthBatchOut, **ERRORS})
def month_batch_detail(request, batch_id: int):
    return selectors.month_batch_get(actor=actor_of(request.user), batch_id=batch_id)


@router.get("/month-batches/{batch_id}/download", response={200: None, **ERRORS})
def month_batch_download(request, batch_id: int):
    batch = selectors.month_batch_get(actor=actor_of(request.user), batch_id=batch_id)
    if not batch.archive:
        raise NotFound(_("压缩包尚未生成"), detail={"status": batch.status})
    return FileResponse(batch.archive.open("rb"), as_attachment=True, filename=f"settlements-{batch.month:%Y-%m}.zip")
