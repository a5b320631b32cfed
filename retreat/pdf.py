"""HTML → PDF: the one place that imports WeasyPrint.

Templates set ``font-family: "Noto Sans CJK SC"`` (Debian's fonts-noto-cjk);
WeasyPrint embeds the subset of glyphs used, so Chinese text stays extractable.

WeasyPrint's time grows with the number of boxes (each table cell is a box,
a line and a text run). It allocates millions of short-lived objects on the way,
so the cyclic garbage collector keeps rescanning an ever larger heap: pausing
it while a document is rendered cuts about a fifth of the CPU time of a
300-person settlement (bench/RESULTS_settlement.md). The pause is counted, so
concurrent renders in one process (gunicorn threads) switch it back on only
when the last one finishes, and never if it was off to begin with.
"""

import gc
import threading
from contextlib import contextmanager

from django.conf import settings
from django.template.loader import render_to_string

_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def _gc_paused():
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported lazily: loading Pango costs ~0.3 s

    with _gc_paused():
        return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render_pdf(template_name: str, context: dict) -> bytes:
    return html_to_pdf(render_to_string(template_name, context))


def qr_svg_data_uri(payload: str) -> str:
    """A QR code as an inline SVG data URI, for PDFs and pages alike."""
    import segno

    return segno.make(payload, error="m").svg_data_uri(scale=4, border=2)
