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


def test_many_documents_render_in_order_on_several_processes(tmp_path):
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    htmls = (f'<p style="font-family: \'Noto Sans CJK SC\'">结算单 第{index}号</p>' for index in range(5))
    pdfs = list(pdf.html_to_pdf_many(htmls, processes=2))
    assert len(pdfs) == 5
    for index, content in enumerate(pdfs):
        path = tmp_path / f"{index}.pdf"
        path.write_bytes(content)
        assert f"第{index}号" in subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_a_failing_document_fails_the_batch():
    with pytest.raises(Exception):
        list(pdf.html_to_pdf_many(["<p>ok</p>", None, "<p>ok</p>"], processes=2))  # None is not HTML


def test_few_documents_or_one_process_render_in_this_process(monkeypatch):
    calls = []
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: calls.append(html) or b"%PDF")
    assert list(pdf.html_to_pdf_many(["a", "b"], processes=4, expected=2)) == [b"%PDF", b"%PDF"]
    assert list(pdf.html_to_pdf_many(["c"] * 9, processes=1)) == [b"%PDF"] * 9
    assert calls == ["a", "b", *["c"] * 9]


def test_a_daemonic_process_renders_in_itself(monkeypatch):
    monkeypatch.setattr(pdf, "_is_daemon", lambda: True)
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: b"%PDF")
    assert list(pdf.html_to_pdf_many(["a"] * 9, processes=2)) == [b"%PDF"] * 9
