"""In chromium: a fund manager opens a settlement, approves it and downloads the PDF."""

import pytest

from billing import services
from billing.models import Settlement
from tests.billing.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_fund_manager_approves_a_settlement_and_downloads_the_pdf(page, log_in, world, booking, users):
    services.funding_commit_for_booking(booking=booking, actor=world["organiser"], now=NOW)
    arrivals = [services.ArrivalActual(participant_id=p.pk, nights=3) for p in booking.batch.participants.exclude(name="张伟")]
    settlement = services.settlement_submit(actor=world["operator"], booking_id=booking.pk, arrivals=arrivals, extras=[], now=NOW)

    log_in(users["dongguan_fund"].username)
    page.goto("/billing/settlements/")
    with page.expect_navigation():
        page.get_by_role("link", name=settlement.number).click()
    assert "每人每天上限" in page.content()
    with page.expect_navigation():
        page.locator("#approve").click()
    assert "已批准" in page.locator("h1").inner_text()
    assert Settlement.objects.get(pk=settlement.pk).status == Settlement.Status.APPROVED

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载结算单 PDF").click()
    path = download_info.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
