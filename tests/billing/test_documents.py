import csv
import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest

from billing import documents, selectors, services
from tests.billing.conftest import NOW

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


@pytest.fixture
def approved(world, booking):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in booking.batch.participants.exclude(name="张伟")]
    settlement = services.settlement_submit(
        actor=world["operator"], booking_id=booking.pk, arrivals=arrivals,
        extras=[services.ExtraActual(name="大巴接送", amount=Decimal("800.00"))], now=NOW,
    )
    return services.settlement_approve(actor=world["fund"], settlement_id=settlement.pk, now=NOW)


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.django_db
def test_settlement_pdf_has_names_amounts_trail_and_embedded_cjk_font(approved, tmp_path):
    pdf = documents.settlement_pdf(settlement=approved)
    text = pdf_text(pdf, tmp_path)

    for expected in ["职工疗休养结算单", approved.number, "东莞某电子厂工会", "河源万绿湖温泉疗休养基地", "王芳", "李娜",
                     "实名签到表", "本人签名", "省总疗休养定额补助", "东莞市职工疗休养专项经费", "¥3,200.00", "¥4,800.00",
                     "¥11,060.00", "批准", "未到人员", "张伟", "每人每天上限"]:
        assert expected in text, expected
    assert "441900" in text and "********" in text  # masked IDs only
    fonts = subprocess.run(["pdffonts", str(tmp_path / "doc.pdf")], capture_output=True, text=True, check=True).stdout
    cjk = [line.split() for line in fonts.splitlines() if "NotoSansCJK" in line.replace("-", "")]
    assert cjk and all(columns[-5] == "yes" for columns in cjk), fonts  # the "emb" column
    assert len(cjk) == len(fonts.splitlines()) - 2, fonts  # no fallback font, not even for the page numbers


@pytest.mark.django_db
def test_month_statements_and_exports(approved, world, tmp_path):
    month = dt.date(2026, 11, 1)
    settlements = list(selectors.settlements_of_month(actor=world["fund"], month=month))
    base_text = pdf_text(documents.base_statement_pdf(base=world["base"], month=month, settlements=settlements), tmp_path)
    assert "基地月度结算汇总表" in base_text and approved.number in base_text and "¥11,060.00" in base_text
    programme_text = pdf_text(
        documents.programme_statement_pdf(programme=world["dongguan_cover"], month=month, settlements=settlements), tmp_path
    )
    assert "东莞市职工疗休养专项经费" in programme_text and "¥4,800.00" in programme_text

    workbook = openpyxl.load_workbook(io.BytesIO(documents.settlements_xlsx(settlements=settlements, title="2026-11")))
    rows = list(workbook.active.values)
    assert rows[0][0] == "结算单号" and "专项经费：东莞市职工疗休养专项经费" in rows[0]
    assert rows[1][0] == approved.number and Decimal(str(rows[1][7])) == Decimal("11060.00")

    lines = list(csv.reader(io.StringIO(documents.settlements_csv(settlements=settlements).decode("utf-8-sig"))))
    assert lines[1][0] == approved.number and lines[1][7] == "11060.00"
