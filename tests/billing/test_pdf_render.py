"""retreat.pdf pauses the cyclic garbage collector while WeasyPrint renders, and puts it back."""

import gc
import threading

import pytest

from retreat import pdf


@pytest.fixture
def gc_state():
    was = gc.isenabled()
    yield
    gc.enable() if was else gc.disable()


def test_render_pauses_the_collector_and_restores_it(gc_state, monkeypatch):
    seen = []

    class FakeHTML:
        def __init__(self, string, base_url):
            seen.append(gc.isenabled())

        def write_pdf(self):
            return b"%PDF-fake"

    import weasyprint

    monkeypatch.setattr(weasyprint, "HTML", FakeHTML)
    gc.enable()
    assert pdf.html_to_pdf("<p>x</p>") == b"%PDF-fake"
    assert seen == [False] and gc.isenabled()
    gc.disable()
    pdf.html_to_pdf("<p>x</p>")
    assert not gc.isenabled()  # it was off before: it stays off


def test_concurrent_renders_switch_it_back_on_only_after_the_last(gc_state):
    gc.enable()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    states = {}

    def first():
        with pdf._gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with pdf._gc_paused():
            second_in.set()
            first_out.wait(5)
            states["after first left"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert states == {"after first left": False}
    assert gc.isenabled()


def test_a_real_render_still_embeds_and_extracts_chinese(tmp_path):
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    path = tmp_path / "x.pdf"
    path.write_bytes(pdf.html_to_pdf('<p style="font-family: \'Noto Sans CJK SC\'">结算单 ¥1,140.00</p>'))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "结算单" in text and "¥1,140.00" in text
