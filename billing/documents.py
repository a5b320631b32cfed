"""Settlement PDFs (结算单), month statements and accounting exports.

PDFs go through ``retreat.pdf`` (``html_to_pdf``; ``html_to_pdf_many`` for a month); the
layout data is built here from the stored split, so a PDF printed later shows exactly what was decided.
"""

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from openpyxl import Workbook
from openpyxl.styles import Font

from bases.models import Base
from billing import selectors
from billing.funding import format_fen
from billing.funding.explain import Language
from billing.models import FundProgramme, Settlement
from billing.splits import explanation_texts
from retreat.pdf import html_to_pdf, qr_svg_data_uri

# Person-level rules worth printing next to a member on the split table (the
# cost lines are summed up in the cost section instead).
_PERSON_NOTE_PREFIXES = ("cap.", "eligibility.", "share.own")


def verify_url(settlement: Settlement) -> str:
    site = settings.PUBLIC_SITE_URL.rstrip("/")
    return site + reverse("billing-verify", args=[selectors.settlement_verify_token(settlement)])


def split_view(split: dict[str, Any], language: Language = "zh") -> dict[str, Any]:
    """A stored split as the rows pages and PDFs print: programmes, members, cost lines, notes, totals.

    PDFs are official documents and stay Chinese; pages pass the reader's language.

    Members' rule notes repeat across a batch, so each distinct note is printed
    once in ``rule_legend`` and members refer to it by number (``note_refs``).
    """
    members = [
        {
            "name": person["name"],
            "id_masked": person["id_masked"],
            "is_family": person["is_family"],
            "nights": person["nights"],
            "cost": format_fen(person["cost_fen"]),
            "programmes": format_fen(person["programmes_fen"]),
            "union": format_fen(person["union_fen"]),
            "own": format_fen(person["own_payment_fen"]),
            "notes": explanation_texts(
                [item for item in person["explanations"] if item["rule"].startswith(_PERSON_NOTE_PREFIXES)], language
            ),
        }
        for person in split["participants"]
    ]
    legend: dict[str, int] = {}
    for member in members:
        member["note_refs"] = "、".join(str(legend.setdefault(note, len(legend) + 1)) for note in member["notes"])
    return {
        "members": members,
        "rule_legend": list(legend),
        "cost_lines": _cost_lines(split, language),
        "programmes": [
            {**row, "paid": format_fen(row["paid_fen"]), "requested": format_fen(row["requested_fen"])} for row in split["programmes"]
        ],
        "booking_notes": explanation_texts(split["explanations"], language),
        "totals": {
            "total": format_fen(split["total_fen"]),
            "programmes": format_fen(split["programmes_fen"]),
            "union": format_fen(split["union_fen"]),
            "own": format_fen(split["own_payment_fen"]),
        },
    }


def page_language() -> Language:
    """The explanation language of a page: English when the reader chose it, else Chinese."""
    return "en" if (get_language() or "").startswith("en") else "zh"


def preview_context(preview: dict[str, Any], language: Language = "zh") -> dict[str, Any]:
    return {"booking": preview["booking"], **split_view(preview, language)}


def settlement_context(settlement: Settlement, language: Language = "zh") -> dict[str, Any]:
    booking = settlement.booking
    arrivals = list(settlement.arrivals.select_related("participant"))
    url = verify_url(settlement)
    return {
        "settlement": settlement,
        "booking": booking,
        "departure": booking.arrival + dt.timedelta(days=booking.nights),
        "sign_in": [arrival for arrival in arrivals if arrival.arrived],
        "no_shows": [arrival for arrival in arrivals if not arrival.arrived],
        "extras": list(settlement.extras.all()),
        **split_view(settlement.split, language),
        "events": list(settlement.events.select_related("actor")),
        "verify_url": url,
        "qr": qr_svg_data_uri(url),
        "printed_at": timezone.localtime(),
    }


def _cost_lines(split: dict[str, Any], language: Language = "zh") -> list[dict[str, Any]]:
    """Every cost line of every member, summed by identical wording (e.g. 22 × lodging)."""
    grouped: dict[str, list[int]] = defaultdict(list)
    stored = [item for person in split["participants"] for item in person["explanations"] if item["rule"].startswith("cost.")]
    stored += [item for item in split["explanations"] if item["rule"].startswith("cost.")]
    for item, text in zip(stored, explanation_texts(stored, language)):
        grouped[text].append(item["amount_fen"])
    return [{"text": text, "count": len(amounts), "amount": format_fen(sum(amounts))} for text, amounts in grouped.items()]


def settlement_html(*, settlement: Settlement) -> str:
    return render_to_string("billing/pdf/settlement.html", settlement_context(settlement))


def settlement_pdf(*, settlement: Settlement) -> bytes:
    return html_to_pdf(settlement_html(settlement=settlement))


def _statement_rows(settlements: Sequence[Settlement], programme: FundProgramme | None = None) -> list[dict[str, Any]]:
    rows = []
    for settlement in settlements:
        share = None
        if programme is not None:
            share = next((s.amount for s in settlement.shares.all() if s.programme_id == programme.pk), None)
            if share is None:
                continue
        rows.append({"settlement": settlement, "booking": settlement.booking, "programme_share": share})
    return rows


def _approved_sum(rows: list[dict[str, Any]], attribute: str) -> Decimal:
    return sum(
        (getattr(row["settlement"], attribute) for row in rows if row["settlement"].status == Settlement.Status.APPROVED),
        Decimal("0.00"),
    )


def base_statement_pdf(*, base: Base, month: dt.date, settlements: Sequence[Settlement]) -> bytes:
    return html_to_pdf(base_statement_html(base=base, month=month, settlements=settlements))


def base_statement_html(*, base: Base, month: dt.date, settlements: Sequence[Settlement]) -> str:
    rows = _statement_rows([s for s in settlements if s.booking.base_id == base.pk])
    return render_to_string(
        "billing/pdf/base_statement.html",
        {
            "base": base,
            "month": month,
            "rows": rows,
            "totals": {name: _approved_sum(rows, name) for name in ("total_cost", "programmes_total", "union_amount", "own_payment")},
            "printed_at": timezone.localtime(),
        },
    )


def programme_statement_pdf(*, programme: FundProgramme, month: dt.date, settlements: Sequence[Settlement]) -> bytes:
    return html_to_pdf(programme_statement_html(programme=programme, month=month, settlements=settlements))


def programme_statement_html(*, programme: FundProgramme, month: dt.date, settlements: Sequence[Settlement]) -> str:
    rows = _statement_rows(settlements, programme)
    return render_to_string(
        "billing/pdf/programme_statement.html",
        {
            "programme": programme,
            "month": month,
            "rows": rows,
            "approved_total": sum(
                (row["programme_share"] for row in rows if row["settlement"].status == Settlement.Status.APPROVED), Decimal("0.00")
            ),
            "printed_at": timezone.localtime(),
        },
    )


# ---------------------------------------------------------------- exports

_EXPORT_HEADER = ["结算单号", "状态", "工会", "基地", "抵达日期", "晚数", "实到人数", "总费用"]
_EXPORT_TAIL = ["专项经费合计", "工会自有资金", "个人自付", "审批人", "审批时间"]


def _export_table(settlements: Sequence[Settlement]) -> tuple[list[str], list[list[Any]]]:
    settlements = list(settlements)
    programmes = list(selectors.programmes_of_settlements(settlements=settlements))
    header = _EXPORT_HEADER + [f"专项经费：{programme.name}" for programme in programmes] + _EXPORT_TAIL
    rows = []
    for settlement in settlements:
        shares = {share.programme_id: share.amount for share in settlement.shares.all()}
        booking = settlement.booking
        rows.append(
            [
                settlement.number,
                settlement.get_status_display(),
                booking.union.name,
                booking.base.name,
                booking.arrival,
                booking.nights,
                settlement.arrived_count,
                settlement.total_cost,
                *[shares.get(programme.pk, Decimal("0.00")) for programme in programmes],
                settlement.programmes_total,
                settlement.union_amount,
                settlement.own_payment,
                settlement.decided_by.get_full_name() or settlement.decided_by.username if settlement.decided_by else "",
                timezone.localtime(settlement.decided_at).strftime("%Y-%m-%d %H:%M") if settlement.decided_at else "",
            ]
        )
    return header, rows


def settlements_xlsx(*, settlements: Sequence[Settlement], title: str) -> bytes:
    header, rows = _export_table(settlements)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def settlements_csv(*, settlements: Sequence[Settlement]) -> bytes:
    header, rows = _export_table(settlements)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([[value.isoformat() if isinstance(value, dt.date) else value for value in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode()  # BOM so spreadsheet programs read UTF-8
